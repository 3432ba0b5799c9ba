"""Fault injection at the CLI's report step: a child process running ``crackle simulate``
or ``crackle demo`` is killed (SIGKILL) while it writes report.json and the figures;
the same command run again gives the uninterrupted run's report and figures, with no
temporary file or lock left behind."""

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

CRACKLE = str(Path(sys.executable).parent / "crackle")
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}

COMMANDS = {
    "simulate": [
        *("simulate", "gaussian", "--n", "3000", "--width", "16", "--depth", "40"),
        *("--seed", "3"),
    ],
    "demo": ["demo", "--source", "branching", "--n", "3000", "--seed", "1"],
}

# The child runs the command in-process and kills itself (no cleanup of any kind) at
# the named point of the atomic writes of the report step.
CHILD = textwrap.dedent(
    """
    import os, signal, sys
    import crackle.io.atomic as atomic
    from crackle.cli.main import main

    step, args = sys.argv[1], sys.argv[2:]
    seen = {"png": 0}
    fsync, replace = atomic._fsync_file, os.replace

    def die():
        os.kill(os.getpid(), signal.SIGKILL)

    def fsync_file(path):
        fsync(path)
        name = os.path.basename(str(path))
        if step == "report-tmp" and name.startswith(".report.json."):
            die()  # report.json written under its temporary name, not renamed
        if step == "figure-tmp" and ".png." in name:
            seen["png"] += 1
            if seen["png"] == 3:
                die()  # the third figure written under its temporary name

    def os_replace(src, dst, *a, **k):
        replace(src, dst, *a, **k)
        if step == "report-json" and str(dst).endswith("report.json"):
            die()  # report.json in place, no figure yet
        if step == "mid-figures" and str(dst).endswith(".png"):
            seen["png"] += 1
            if seen["png"] == 3:
                die()  # three figures in place, the others not

    atomic._fsync_file = fsync_file
    atomic.os.replace = os_replace
    sys.argv = ["crackle", *args]
    main()
    """
)
STEPS = ["report-tmp", "report-json", "figure-tmp", "mid-figures"]


def _run(args, out):
    return subprocess.run(
        [CRACKLE, *args, "--out", str(out)], capture_output=True, text=True, timeout=600, env=ENV
    )


@pytest.fixture(scope="module")
def references(tmp_path_factory):
    refs = {}
    for name, args in COMMANDS.items():
        out = tmp_path_factory.mktemp("ref") / name
        res = _run(args, out)
        assert res.returncode == 0, res.stderr
        refs[name] = out
    return refs


def _leftovers(d: Path) -> list[str]:
    return sorted(
        str(p.relative_to(d))
        for p in d.rglob("*")
        if p.name.endswith((".tmp", ".partial")) or p.name in ("parts", ".crackle.lock")
    )


def _figures(d: Path) -> list[str]:
    return sorted(p.name for p in (d / "figures").glob("*.png"))


@pytest.mark.slow
@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("step", STEPS)
def test_kill_during_the_report_then_rerun_gives_the_whole_report(
    tmp_path, references, command, step
):
    out = tmp_path / "run"
    child = subprocess.run(
        [sys.executable, "-c", CHILD, step, *COMMANDS[command], "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
        env=ENV,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr  # it died where we wanted
    ref = references[command]
    assert _figures(out) != _figures(ref) or not (out / "report.json").exists()
    res = _run(COMMANDS[command], out)
    assert res.returncode == 0, res.stderr
    assert _leftovers(out) == []
    assert _figures(out) == _figures(ref)
    assert all((out / "figures" / f).stat().st_size > 1000 for f in _figures(out))
    assert json.loads((out / "report.json").read_text()) == json.loads(
        (ref / "report.json").read_text()
    )
