"""run_sweep on an in-process cluster (threads): resume, retry, progress, figures."""

import json

import pandas as pd
import pytest

from crackle.sweep.config import parse_config
from crackle.sweep.runner import run_sweep

pytestmark = pytest.mark.xdist_group("sweep-threads")


def _cfg(fail=(False, True)):
    return parse_config(
        {
            "experiment": "smoke",
            "seed": 11,
            "grid": {"x": [0.0, 1.0, 2.0], "fail": list(fail)},
            "cluster": {"processes": False, "n_workers": 2},
        }
    )


def test_resume_skips_done_points_and_retries_failures_only_on_request(tmp_path):
    out = tmp_path / "sweep"
    seen = []
    first = run_sweep(_cfg(), out, progress=seen.append)
    assert (first.n_points, first.n_run, first.n_ok, first.n_failed) == (6, 6, 3, 3)
    assert [p.done for p in seen] == list(range(7))
    assert seen[-1].failed == 3
    assert seen[-1].total == 6
    stamps = {f.name: f.stat().st_mtime_ns for f in (out / "points").glob("*.json")}
    assert len(stamps) == 6

    again = run_sweep(_cfg(), out)
    assert (again.n_run, again.n_skipped, again.n_failed) == (0, 6, 3)
    assert {f.name: f.stat().st_mtime_ns for f in (out / "points").glob("*.json")} == stamps

    retry = run_sweep(_cfg(), out, retry_failed=True)
    assert (retry.n_run, retry.n_skipped, retry.n_failed) == (3, 3, 3)
    now = {f.name: f.stat().st_mtime_ns for f in (out / "points").glob("*.json")}
    changed = {k for k in stamps if now[k] != stamps[k]}
    failed = {
        f.name
        for f in (out / "points").glob("*.json")
        if json.loads(f.read_text())["status"] == "failed"
    }
    assert changed == failed
    assert len(failed) == 3


def test_table_and_figures_of_a_finished_sweep(tmp_path):
    summary = run_sweep(_cfg(fail=(False,)), tmp_path / "s")
    df = pd.read_parquet(summary.table)
    assert list(df["status"]) == ["ok"] * 3
    assert list(df["x"]) == [0.0, 1.0, 2.0]
    assert (df["y"] == df["x"] ** 2 + df["draw"]).all()
    assert sorted(p.name for p in summary.figures) == ["draw.png", "y.png"]
    assert all(p.stat().st_size > 5000 for p in summary.figures)
    meta = json.loads((tmp_path / "s" / "sweep.json").read_text())
    assert meta["config"]["experiment"] == "smoke"
    assert len(meta["points"]) == 3
