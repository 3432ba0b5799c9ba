"""Check that crackle's core works with its core dependencies alone.

    python scripts/check_core_install.py [--venv DIR] [--keep]

Creates a fresh virtual environment (python -m venv, in DIR or a temporary folder),
installs exactly the ``[project] dependencies`` of pyproject.toml with pip (no extra),
puts this checkout's ``src`` on the environment's path (a .pth file: what an editable
install does, without building the optional C extension into the working tree), and
checks, each in a fresh interpreter:

1. ``import crackle`` loads no torch, dask, matplotlib, scipy, pandas or pyarrow;
2. ``fit_power_law``, ``crackling_report`` and ``branching_ratio`` run on a critical
   branching process (numpy and scipy only);
3. ``python -m crackle --version`` prints the version; ``python -m crackle analyze`` on a
   CSV of avalanches writes report.json and its figures;
4. ``import crackle.nn`` fails with one line naming ``pip install 'crackle[nn]'``,
   and ``crackle meanfield`` (theory extra) with one line and exit code 2.

Exit code 0 when every check passes, 1 when one fails, 3 when pip could not install the
core dependencies (no package index reachable). Takes 1-3 minutes (the pip installs);
tests/integration/test_core_install.py runs it (marked slow).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CORE_PATHS = """
import sys
import numpy as np
import crackle as ck
heavy = [m for m in ("torch", "dask", "matplotlib", "scipy", "pandas", "pyarrow")
         if m in sys.modules]
assert not heavy, f"import crackle loaded {heavy}"
av = ck.sim.branching_process(1.0, 2000, seed=1)
fit = ck.fit_power_law(av.sizes, discrete=True)
rep = ck.crackling_report(av, n_boot=0)
br = ck.branching_ratio(np.random.default_rng(0).poisson(5.0, 3000), n_boot=5)
np.savetxt("av.csv", np.c_[av.sizes, av.durations], delimiter=",",
           header="size,duration", comments="", fmt="%d")
print("core paths ok:", type(fit).__name__, type(rep).__name__, type(br).__name__)
"""


class CheckFailed(Exception):
    pass


def run(cmd: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)


def check(ok: bool, what: str, out: subprocess.CompletedProcess[str]) -> None:
    if not ok:
        raise CheckFailed(f"{what}\n--- stdout\n{out.stdout}\n--- stderr\n{out.stderr}")
    print(f"ok: {what}")


def core_dependencies() -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return list(project["dependencies"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--venv", type=Path, help="where to create the environment")
    parser.add_argument("--keep", action="store_true", help="keep the environment")
    args = parser.parse_args()
    base = args.venv or Path(tempfile.mkdtemp(prefix="crackle-core-"))
    env_dir = base / "venv"
    work = base / "work"
    work.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PYTHONNOUSERSITE"] = "1"
    env["MPLBACKEND"] = "Agg"
    try:
        venv.EnvBuilder(with_pip=True, clear=True).create(env_dir)
        py = str(env_dir / "bin" / "python")
        deps = core_dependencies()
        print(f"installing the core dependencies: {' '.join(deps)}", flush=True)
        pip = run([py, "-m", "pip", "install", "-q", *deps], work, env)
        if pip.returncode:
            print(f"pip could not install the core dependencies:\n{pip.stderr}")
            return 3
        purelib = run(
            [py, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], work, env
        ).stdout.strip()
        Path(purelib, "crackle-src.pth").write_text(f"{ROOT / 'src'}\n", encoding="utf-8")

        out = run([py, "-c", CORE_PATHS], work, env)
        check(out.returncode == 0, "import crackle is light; fit, report, branching ratio run", out)

        out = run([py, "-m", "crackle", "--version"], work, env)
        check(
            out.returncode == 0 and out.stdout.startswith("crackle "),
            "python -m crackle --version",
            out,
        )

        out = run(
            [py, "-m", "crackle", "analyze", "av.csv", "--n-boot", "0", "-o", "out"], work, env
        )
        check(
            out.returncode == 0
            and (work / "out" / "report.json").is_file()
            and (work / "out" / "figures" / "sizes_ccdf.png").is_file(),
            "crackle analyze av.csv writes report.json and figures",
            out,
        )

        out = run([py, "-c", "import crackle.nn"], work, env)
        last = out.stderr.strip().splitlines()[-1] if out.stderr.strip() else ""
        check(
            out.returncode == 1
            and last
            == "crackle._extras.MissingExtraError: "
            "crackle.nn needs torch: pip install 'crackle[nn]'",
            "import crackle.nn names pip install 'crackle[nn]'",
            out,
        )

        out = run([py, "-m", "crackle", "meanfield", "-o", "mf"], work, env)
        check(
            out.returncode == 2
            and out.stderr.strip()
            == "error: this feature needs xarray: pip install 'crackle[theory]'",
            "crackle meanfield names pip install 'crackle[theory]', exit 2",
            out,
        )
    except CheckFailed as exc:
        print(f"FAILED: {exc}")
        return 1
    finally:
        if not args.keep and args.venv is None:
            shutil.rmtree(base, ignore_errors=True)
    print("every check passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
