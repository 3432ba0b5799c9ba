"""A fresh environment with the core dependencies alone (pip, from the package index)
runs crackle's core, and each missing extra is one line naming the pip command.
See scripts/check_core_install.py for the checks; 1-3 minutes (the installs)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "check_core_install.py"


@pytest.mark.slow
def test_core_dependencies_alone_run_the_core(tmp_path):
    out = subprocess.run(
        [sys.executable, str(SCRIPT), "--venv", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=1200,
    )
    if out.returncode == 3:
        pytest.skip(f"no package index reachable for pip: {out.stdout[-500:]}")
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.count("ok: ") == 5
