"""The finite-size-scaling experiment end to end on a tiny configuration."""

import json
from dataclasses import replace

import numpy as np
import pytest
from typer.testing import CliRunner

import crackle as ck
from crackle.cli.main import _register, app
from crackle.experiments import fss as fss_mod
from crackle.experiments.fss import FSSConfig, finite_size_scaling

pytestmark = pytest.mark.slow  # about 30 s on 2 cores

TINY = FSSConfig(
    widths=(16, 32),
    depth=30,
    offsets=(0.5, 2.0, 6.0),
    n_avalanches=800,
    n_scan=800,
    seed=3,
)


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("fss")
    return out, finite_size_scaling(TINY, out=out)


def test_each_width_keeps_its_straightest_offset_and_enough_avalanches(tiny_run):
    _, res = tiny_run
    assert [w.width for w in res.widths] == [16, 32]
    for w in res.widths:
        rms = {p.offset: p.durations.rms for p in w.scan}
        assert w.offset == min(rms, key=rms.get)
        assert w.sigma_w2 == pytest.approx(1 + w.offset / w.width)
        assert w.report.n >= TINY.n_avalanches
        assert w.avalanches.shapes is not None
        assert (w.avalanches.sizes > 0).all()  # excess sizes: every layer is above q0
    assert set(res.extrapolations) <= set(fss_mod.EXPONENTS)
    assert "alpha" in res.extrapolations
    row_inf = res.table()[-1]
    assert row_inf["alpha"] == pytest.approx(res.extrapolations["alpha"].intercept)


def test_run_directory_and_resume_without_recomputing(tiny_run, monkeypatch):
    out, res = tiny_run
    data = json.loads((out / "fss.json").read_text())
    assert data["config"]["widths"] == [16, 32]
    for w in (16, 32):
        sub = out / "widths" / f"N{w}"
        for name in ("config.json", "scan.json", "avalanches.parquet", "shapes.npz", "report.json"):
            assert (sub / name).exists()

    def no_simulation(*args, **kwargs):
        raise AssertionError("a finished width was simulated again")

    monkeypatch.setattr(fss_mod, "_simulate", no_simulation)
    again = finite_size_scaling(TINY, out=out)
    for a, b in zip(again.widths, res.widths, strict=True):
        assert a.offset == b.offset
        np.testing.assert_array_equal(a.avalanches.sizes, b.avalanches.sizes)
        assert a.report.alpha == b.report.alpha
    with pytest.raises(FileExistsError, match="other parameters"):
        finite_size_scaling(FSSConfig(**{**TINY.to_dict(), "seed": 4}), out=out)


def test_scan_blocks_are_reused_by_the_main_run():
    # The main run at the chosen offset starts with the scan's blocks: its first
    # avalanches are the scan's.
    res = finite_size_scaling(FSSConfig(**{**TINY.to_dict(), "widths": (16,)}))
    w = res.widths[0]
    from crackle.events.accumulator import AvalancheAccumulator

    acc = AvalancheAccumulator(max_shape_duration=TINY.depth)
    fss_mod._simulate(TINY, 16, w.offset, until_inputs=TINY.n_scan, acc=acc)
    scan_av = acc.compute()
    np.testing.assert_array_equal(w.avalanches.sizes[: scan_av.n], scan_av.sizes)


def test_figures_are_written(tiny_run, tmp_path):
    from crackle.report.fss_figures import save_fss_figures

    _, res = tiny_run
    paths = save_fss_figures(res, tmp_path)
    assert len(paths) == 7
    assert all(p.stat().st_size > 10_000 for p in paths)


def test_cli_runs_and_reports_bad_input(tmp_path):
    _register()
    runner = CliRunner()
    args = ["experiment", "fss", "--out", str(tmp_path / "cli"), "--widths", "16,32"]
    args += ["--depth", "30", "--offsets", "1,3", "--n-avalanches", "300", "--n-scan", "400"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "N → ∞" in result.output or "∞" in result.output
    assert (tmp_path / "cli" / "figures" / "fss_summary.png").exists()
    bad = runner.invoke(app, ["experiment", "fss", "--widths", "16,x", "--out", str(tmp_path)])
    assert bad.exit_code == 2
    assert "--widths" in bad.output
    bad = runner.invoke(app, ["experiment", "fss", "--widths", "", "--out", str(tmp_path)])
    assert bad.exit_code == 2
    assert "'widths'" in bad.output


@pytest.mark.parametrize(
    ("change", "name"),
    [
        ({"widths": ()}, "'widths'"),
        ({"widths": (16, 16)}, "'widths'"),
        ({"widths": (1,)}, "'widths'"),
        ({"offsets": ()}, "'offsets'"),
        ({"depth": 1}, "'depth'"),
        ({"q0": 0.0}, "'q0'"),
        ({"method": "exact"}, "'method'"),
        ({"n_avalanches": 10}, "'n_avalanches'"),
    ],
)
def test_bad_config(change, name):
    with pytest.raises(ValueError, match=name):
        FSSConfig(**{**TINY.to_dict(), **change})


def test_a_scan_point_too_short_to_judge_is_skipped_not_fatal():
    from crackle.experiments.fss import _scan_point

    few = ck.Avalanches(np.ones(5), np.array([1, 1, 2, 1, 3]))
    p = _scan_point(TINY, 16, 0.5, few)
    assert p.durations.rms == np.inf
    assert p.to_dict()["durations_straightness"]["n_bins"] == 0
    # Written as JSON (inf -> null) and read back by a resumed run: still unjudged.
    from crackle.experiments.fss import _straightness_from_json
    from crackle.io.atomic import json_text

    back = _straightness_from_json(json.loads(json_text(p.to_dict()))["durations_straightness"])
    assert back.rms == np.inf
    assert np.isnan(back.slope)


def test_no_judgeable_scan_point_is_a_clear_error(tmp_path):
    # Depth 2: durations of 1 or 2 layers never spread over 4 logarithmic bins.
    cfg = replace(TINY, widths=(16,), depth=2, n_scan=200, n_avalanches=200)
    with pytest.raises(ValueError, match="'n_scan'"):
        finite_size_scaling(cfg)
