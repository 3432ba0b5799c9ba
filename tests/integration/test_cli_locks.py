"""``crackle probe``, ``crackle demo`` and ``crackle experiment zoo`` hold the run
directory's lock: a second writer (a real second process) gets one line and exit
code 2, or waits with ``--wait``."""

import os
import shlex
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from crackle.io import lock_holder
from crackle.train.data import FASHION_MNIST_ROOT as FASHION

CRACKLE = str(Path(sys.executable).parent / "crackle")
# A separate process that holds DIR's lock until the flag file appears.
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
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}

# Small and quick requests of each command (everything but the output directory).
COMMANDS = {
    "probe": ["probe", "mlp-tanh", "--n", "4", "--batch-size", "4"],
    "demo": ["demo", "--source", "branching", "--n", "300", "--seed", "1"],
    "zoo": shlex.split(
        "experiment zoo --families mlp --variants base --seeds 0 --penalty-families '' "
        "--steps 2 --train-subset 128 --test-subset 50 --probe-n 4 --robust-n 20 "
        "--noise 0.5 --n-boot 10 --lyapunov-iter 2 --device cpu"
    ),
}
# What each command writes when it runs to the end.
WRITES = {"probe": "probe.csv", "demo": "report.json", "zoo": "zoo.json"}


def _start_holder(d: Path, flag: Path) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(d), str(flag)], env=ENV)
    t0 = time.monotonic()
    while not (d / "held").exists():
        assert proc.poll() is None, "the holder process died"
        assert time.monotonic() - t0 < 60
        time.sleep(0.05)
    return proc


@pytest.mark.parametrize("command", list(COMMANDS))
def test_second_writer_gets_one_line_and_exit_2(tmp_path, command):
    d, flag = tmp_path / "run", tmp_path / "release"
    holder = _start_holder(d, flag)
    try:
        res = subprocess.run(
            [CRACKLE, *COMMANDS[command], "--out", str(d)],
            capture_output=True,
            text=True,
            timeout=300,
            env=ENV,
        )
        assert lock_holder(d)["pid"] == holder.pid  # the holder kept its lock
    finally:
        flag.write_text("go")
        holder.wait(30)
    assert res.returncode == 2, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    assert lines[0].startswith("error:")
    assert f"pid {holder.pid}" in lines[0]
    assert "--wait" in lines[0]
    assert "Traceback" not in res.stderr
    # nothing but the holder's file was written
    assert sorted(p.name for p in d.iterdir()) == ["held"]


@pytest.mark.slow
@pytest.mark.parametrize(
    "command",
    [
        pytest.param(c, marks=pytest.mark.skipif(not FASHION.is_dir(), reason="no Fashion-MNIST"))
        if c == "zoo"
        else c
        for c in WRITES
    ],
)
def test_wait_runs_once_the_holder_is_done(tmp_path, command):
    d, flag = tmp_path / "run", tmp_path / "release"
    holder = _start_holder(d, flag)
    proc = subprocess.Popen(
        [CRACKLE, *COMMANDS[command], "--out", str(d), "--wait"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )
    time.sleep(1.0)
    try:
        # still waiting: the holder has the lock and nothing was written
        assert proc.poll() is None
        assert not (d / WRITES[command]).exists()
    finally:
        flag.write_text("go")
    assert holder.wait(30) == 0
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert (d / WRITES[command]).exists()
    assert lock_holder(d) is None
