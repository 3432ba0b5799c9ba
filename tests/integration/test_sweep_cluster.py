"""Sweeps on a real Dask LocalCluster (worker processes on 127.0.0.1).

One sweep of small Gaussian-network simulations, run three ways: uninterrupted on one
worker (the reference), uninterrupted on two, and by the command line on two, killed
with SIGKILL half-way, then resumed. Every way must give the same numbers, each point
exactly once.
"""

import fcntl
import json
import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

from crackle.sweep.runner import run_sweep

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("sweep-cluster")]

CONFIG = """
experiment = "simulate"
seed = 7
repeats = 2

[fixed]
depth = 40
n = 8000
collapse = false

[grid]
sigma_w2 = [0.9, 1.0, 1.1, 1.2]
width = [32, 64]
"""
N_POINTS = 16
# Columns that record how a point ran, not what it computed.
RUN_COLUMNS = ["elapsed_s"]


def _cli(config, out, workers):
    # Only this feature's commands: the test must not depend on the others' modules.
    code = "import crackle.cli.report, crackle.cli.sweep; from crackle.cli.main import app; app()"
    return [
        sys.executable,
        "-c",
        code,
        "sweep",
        str(config),
        "--out",
        str(out),
        "--workers",
        str(workers),
        "--no-html",
    ]


def _env():
    return {**os.environ, "COLUMNS": "250", "PYTHONUNBUFFERED": "1"}


def _done(out):
    return sorted((out / "points").glob("*.json")) if (out / "points").exists() else []


def _results(out):
    return {f.stem: json.loads(f.read_text()) for f in _done(out)}


def _table(out):
    df = pd.read_parquet(out / "results.parquet").drop(columns=RUN_COLUMNS)
    return df.sort_values("key").reset_index(drop=True)


def _shared_dir(tmp_path_factory):
    """A folder all xdist workers of this session share (this session's own otherwise)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@pytest.fixture(scope="module")
def config(tmp_path_factory):
    path = tmp_path_factory.getbasetemp() / "sweep-cluster-config.toml"
    path.write_text(CONFIG)
    return path


@pytest.fixture(scope="module")
def reference(config, tmp_path_factory):
    """The sweep run once, uninterrupted, on a single worker process.

    Computed once per session: the tests that need it may land on different xdist
    workers; the first computes it under a lock, the others find it in the ledger.
    """
    shared = _shared_dir(tmp_path_factory)
    out = shared / "sweep-cluster-reference"
    with open(shared / "sweep-cluster-reference.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        summary = run_sweep(config, out, n_workers=1, figures=False)
    assert summary.n_ok == N_POINTS
    return out


def test_reference_holds_every_point_once_with_real_numbers(reference):
    recs = _results(reference)
    assert len(recs) == N_POINTS
    assert all(r["status"] == "ok" for r in recs.values())
    assert len({r["worker"] for r in recs.values()}) == 1
    df = _table(reference)
    assert df["key"].is_unique
    assert len(df) == N_POINTS
    assert df["tau"].notna().all()
    assert df["tau"].between(1.0, 10.0).all()
    # Replicates differ (their seeds do), so the comparisons below have teeth.
    per_point = df.groupby(["sigma_w2", "width"])["tau"].nunique()
    assert (per_point == 2).all()


def _listening():
    """Addresses on which this process and its children (scheduler, workers) listen."""
    import psutil

    me = psutil.Process()
    out = set()
    for proc in [me, *me.children(recursive=True)]:
        for conn in proc.net_connections(kind="inet"):
            if conn.status == psutil.CONN_LISTEN:
                out.add(conn.laddr.ip)
    return out


def test_one_and_two_workers_give_identical_numbers(config, reference, tmp_path):
    seen, hosts = [], set()

    def progress(p):
        seen.append(p)
        if p.done == 1:
            hosts.update(_listening())

    summary = run_sweep(config, tmp_path / "two", n_workers=2, figures=False, progress=progress)
    assert hosts == {"127.0.0.1"}, f"the local cluster must listen on loopback only: {hosts}"
    assert (summary.n_run, summary.n_ok) == (N_POINTS, N_POINTS)
    assert seen[-1].done == N_POINTS
    two = _results(tmp_path / "two")
    workers = {r["worker"] for r in two.values()}
    assert len(workers) == 2, "both worker processes should have run points"
    ref = _results(reference)
    assert {k: r["results"] for k, r in two.items()} == {k: r["results"] for k, r in ref.items()}
    assert {k: r["seed"] for k, r in two.items()} == {k: r["seed"] for k, r in ref.items()}
    pd.testing.assert_frame_equal(_table(tmp_path / "two"), _table(reference))


def test_sigkill_half_way_then_resume_finds_every_point_once(config, reference, tmp_path):
    out = tmp_path / "killed"
    proc = subprocess.Popen(
        _cli(config, out, 2),
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while len(_done(out)) < 3:
            assert proc.poll() is None, "the sweep ended before it could be killed"
            assert time.monotonic() < deadline, "no points finished in time"
            time.sleep(0.01)
        os.killpg(proc.pid, signal.SIGKILL)  # the driver, its scheduler and workers
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    before = {f.name: (f.stat().st_mtime_ns, f.read_bytes()) for f in _done(out)}
    assert 3 <= len(before) < N_POINTS, f"killed with {len(before)} of {N_POINTS} done"
    assert not (out / "results.parquet").exists()

    # Resume (in this process, to spare a second start-up of Python and crackle).
    summary = run_sweep(config, out, n_workers=2, figures=False)
    n_before = len(before)
    assert (summary.n_run, summary.n_skipped) == (N_POINTS - n_before, n_before)
    assert summary.n_ok == N_POINTS

    after = _done(out)
    assert len(after) == N_POINTS
    assert len({f.stem for f in after}) == N_POINTS
    assert not list((out / "points").glob(".*.tmp"))
    for f in after:  # what was done before the kill was neither redone nor touched
        if f.name in before:
            assert (f.stat().st_mtime_ns, f.read_bytes()) == before[f.name]
    got, ref = _results(out), _results(reference)
    assert {k: r["results"] for k, r in got.items()} == {k: r["results"] for k, r in ref.items()}
    pd.testing.assert_frame_equal(_table(out), _table(reference))
