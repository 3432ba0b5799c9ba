"""One writer per run directory: the lock against a second real process."""

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from crackle.io import RunDir, RunDirLockedError, lock_holder, run_lock
from crackle.io.lock import LOCK_NAME

CRACKLE = str(Path(sys.executable).parent / "crackle")
HOLDER = textwrap.dedent(
    """
    import sys, time, pathlib
    from crackle.io.lock import run_lock
    d, flag = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    with run_lock(d):
        (d / "held").write_text("yes")
        while not flag.exists():
            time.sleep(0.05)
    """
)


def _start_holder(d: Path, flag: Path) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(d), str(flag)])
    t0 = time.monotonic()
    while not (d / "held").exists():
        assert proc.poll() is None, "the holder process died"
        assert time.monotonic() - t0 < 60
        time.sleep(0.05)
    return proc


def test_second_process_is_refused_with_the_holders_pid_and_host(tmp_path):
    d, flag = tmp_path / "run", tmp_path / "release"
    proc = _start_holder(d, flag)
    try:
        with pytest.raises(RunDirLockedError) as err, run_lock(d):
            pass
        msg = str(err.value)
        assert f"pid {proc.pid}" in msg
        assert socket.gethostname() in msg
        assert "--wait" in msg
        assert lock_holder(d)["pid"] == proc.pid
        with pytest.raises(RunDirLockedError):  # RunDir.create refuses too
            RunDir.create(d)
    finally:
        flag.write_text("go")
        proc.wait(30)
    assert lock_holder(d) is None
    assert not (d / LOCK_NAME).exists()
    with run_lock(d):  # free again
        pass


def test_wait_takes_the_lock_when_the_holder_finishes(tmp_path):
    d, flag = tmp_path / "run", tmp_path / "release"
    proc = _start_holder(d, flag)
    subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import time, pathlib; time.sleep(1.0); pathlib.Path({str(flag)!r}).write_text('go')",
        ]
    )
    t0 = time.monotonic()
    with run_lock(d, wait=True, timeout=60):
        waited = time.monotonic() - t0
        assert proc.wait(30) == 0
        assert lock_holder(d)["pid"] == os.getpid()
    assert waited > 0.5
    (d / "held").unlink()
    with pytest.raises(RunDirLockedError):  # a timeout that runs out still refuses
        proc2 = _start_holder(d, tmp_path / "never")
        try:
            with run_lock(d, wait=True, timeout=0.5):
                pass
        finally:
            (tmp_path / "never").write_text("go")
            proc2.wait(30)


def test_stale_lock_of_a_killed_process_is_taken_over(tmp_path):
    d, flag = tmp_path / "run", tmp_path / "release"
    proc = _start_holder(d, flag)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(30)
    stale = json.loads((d / LOCK_NAME).read_text())
    assert stale["pid"] == proc.pid  # the dead holder's file is still there
    assert lock_holder(d) is None
    with run_lock(d):
        assert json.loads((d / LOCK_NAME).read_text())["pid"] == os.getpid()
    assert not (d / LOCK_NAME).exists()


def test_reentrant_in_one_process_and_no_trace_left(tmp_path):
    d = tmp_path / "new"
    with run_lock(d), run_lock(d):
        RunDir.create(d)  # our own lock does not refuse us
    assert d.is_dir()
    assert not (d / LOCK_NAME).exists()
    empty = tmp_path / "empty"
    with run_lock(empty):
        pass
    assert not empty.exists()  # made only for the lock: removed again
    (tmp_path / "file").write_text("x")
    with pytest.raises(FileExistsError), run_lock(tmp_path / "file"):
        pass


def test_cli_second_writer_one_line_and_exit_2(tmp_path):
    d, flag = tmp_path / "run", tmp_path / "release"
    proc = _start_holder(d, flag)
    try:
        res = subprocess.run(
            [
                CRACKLE,
                "simulate",
                "gaussian",
                "--no-report",
                "--n",
                "200",
                "--width",
                "8",
                "--depth",
                "10",
                "-o",
                str(d),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        flag.write_text("go")
        proc.wait(30)
    assert res.returncode == 2, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error:")
    assert f"pid {proc.pid}" in lines[0]
    assert "Traceback" not in res.stderr
    assert not (d / "avalanches.parquet").exists()


def test_two_simulations_on_one_directory_one_wins_one_waits(tmp_path):
    d = tmp_path / "run"
    cmd = [
        CRACKLE,
        "simulate",
        "gaussian",
        "--no-report",
        "--n",
        "3000",
        "--width",
        "16",
        "--depth",
        "40",
        "--seed",
        "3",
        "-o",
        str(d),
    ]
    a = subprocess.Popen([*cmd, "--wait"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    b = subprocess.Popen([*cmd, "--wait"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert a.wait(300) == 0
    assert b.wait(300) == 0
    import pyarrow.parquet as pq

    import crackle as ck

    table = pq.read_table(d / "avalanches.parquet")
    mem = ck.sim.gaussian_avalanches(16, 40, 1 + 2 / 16, n=3000, seed=3, resample_every=1024)
    assert table.num_rows == mem.n + mem.n_censored  # counted once, not twice nor lost
