"""A spike file end to end: simulate a driven branching network of known m, write it,
``crackle analyze FILE --bin iei --out DIR``, and read the run directory back.

Expected values: the network's branching ratio per step m (Wilting & Priesemann 2018)
becomes m^(w/dt) per bin of width w, since the pooled activity binned at dt is the
driven process itself; surrogates without branching must not look like it.
"""

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

import crackle as ck
from crackle.cli.main import _register, app
from crackle.sim.spiking import branching_network_spikes
from crackle.stats.spike_analysis import analyze_spikes

M, DT = 0.95, 0.004


@pytest.fixture(scope="module")
def network():
    return branching_network_spikes(M, 0.05, 80, 200_000, dt=DT, seed=3)


def test_binned_network_keeps_its_branching_ratio(network):
    b = ck.bin_spikes(network, DT)
    est = ck.branching_ratio(b.counts, kmax=100, n_boot=20, dt=DT)
    assert est.valid, est.reasons
    assert abs(est.m - M) < 0.01
    # At the IEI the per-bin ratio is m^(w / dt): the same tau in seconds.
    bi = ck.bin_spikes(network, "iei")
    ei = ck.branching_ratio(bi.counts, kmax=100, n_boot=0, dt=bi.width)
    assert ei.m == pytest.approx(M ** (bi.width / DT), abs=0.01)


def test_analysis_separates_data_from_nulls(network):
    res = analyze_spikes(network, kmax=100, n_boot=10, n_surrogates=2, seed=1)
    assert res.mr.valid, res.mr.reasons
    d = json.loads(json.dumps(res.to_dict()))
    assert d["binning"]["width_rule"] == "iei"
    assert len(d["exponents_vs_bin"]["tau"]) == 5
    # Poisson surrogates have no branching: MR on them is never valid.
    assert not any(r["mr_valid"] for r in d["nulls"]["poisson"])
    # Time-shuffled counts lose every correlation: m of the data is far above theirs.
    assert all(not r["mr_valid"] for r in d["nulls"]["time_shuffle"])
    assert res.measures["fano_pooled"] > 3  # bursts: far from Poisson's 1


@pytest.mark.slow
def test_cli_analyze_spike_csv(tmp_path, network):
    _register()
    p = tmp_path / "spikes.csv"
    pd.DataFrame({"unit": network.units, "time": network.times}).to_csv(p, index=False)
    out = tmp_path / "run"
    r = CliRunner().invoke(app, ["analyze", str(p), "--bin", "iei", "--out", str(out)])
    assert r.exit_code == 0, r.output
    rep = json.loads((out / "report.json").read_text())
    assert rep["spikes"]["n_spikes"] == network.n_spikes
    assert "valid" in rep["branching_ratio"]
    for name in ("summary", "exponents_vs_bin", "branching_ratio", "nulls"):
        assert (out / "figures" / f"{name}.png").exists()


@pytest.mark.slow
def test_cli_dispatches_spike_tables_without_bin(tmp_path, network):
    _register()
    p = tmp_path / "spikes.parquet"
    pd.DataFrame({"unit": network.units, "time": network.times}).to_parquet(p)
    r = CliRunner().invoke(app, ["analyze", str(p), "--out", str(tmp_path / "r")])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "r" / "report.json").exists()
    bad = tmp_path / "bad.csv"
    pd.DataFrame({"neuron": [1, 2], "t": [0.1, 0.2]}).to_csv(bad, index=False)
    r = CliRunner().invoke(app, ["analyze", str(bad), "--bin", "iei"])
    assert r.exit_code != 0
    assert "time_col" in r.output or "time_col" in str(r.stderr_bytes or b"")
