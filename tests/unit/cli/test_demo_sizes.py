"""``crackle demo --sizes total|excess``: both size definitions of Ghavasieh et al.'s
Gaussian networks, recorded in the run directory."""

import json

import numpy as np
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from crackle.cli.main import _register, app
from crackle.sim.gaussian import SIZE_DEFINITIONS

_register()
runner = CliRunner()
ARGS = ["demo", "--n", "3000", "--width", "32", "--depth", "60", "--seed", "2"]


def _run(tmp_path, sizes):
    out = tmp_path / sizes
    res = runner.invoke(app, [*ARGS, "--sizes", sizes, "--out", str(out)])
    assert res.exit_code == 0, res.output
    cfg = json.loads((out / "config.json").read_text())["parameters"]
    table = pq.read_table(out / "avalanches.parquet")
    done = ~table.column("censored").to_numpy()
    return (
        res.output,
        cfg,
        table.column("size").to_numpy()[done],
        table.column("duration").to_numpy()[done],
    )


@pytest.mark.slow  # two demos, about 15 s on 2 cores
def test_demo_records_and_uses_the_size_definition(tmp_path):
    out_t, cfg_t, s_t, d_t = _run(tmp_path, "total")
    out_e, cfg_e, s_e, d_e = _run(tmp_path, "excess")
    assert (cfg_t["sizes"], cfg_e["sizes"]) == ("total", "excess")
    assert cfg_t["size_definition"] == SIZE_DEFINITIONS["total"]
    assert cfg_e["size_definition"] == SIZE_DEFINITIONS["excess"]
    assert "total sizes S = N Σ q^l" in out_t
    assert "excess sizes S = N Σ (q^l - q0)" in out_e
    # Same seed, same avalanches: total = excess + N q0 T with N = 32, q0 = 1e-3.
    np.testing.assert_array_equal(d_t, d_e)
    np.testing.assert_allclose(s_t, s_e + 32 * 1e-3 * d_e, rtol=1e-9)


def test_demo_refuses_an_unknown_size_definition(tmp_path):
    res = runner.invoke(app, [*ARGS, "--sizes", "area", "--out", str(tmp_path / "x")])
    assert res.exit_code != 0
    assert "--sizes" in res.output
