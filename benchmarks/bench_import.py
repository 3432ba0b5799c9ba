"""Import time of crackle against numpy's, and of ``crackle --help``.

    python benchmarks/bench_import.py [--quick]

Each statement runs in a fresh interpreter (``python -c``), strictly alternating, best
of 7 wall times each (best of 3 with ``--quick``), in the same run; the baseline is
``import numpy`` (crackle's one import-time dependency) and the floor an empty
interpreter. Target: ``import crackle`` under 0.3 s, that is, a few milliseconds above
``import numpy``; it must load no scipy, matplotlib, pandas, pyarrow, torch or dask
(tests/unit/test_packaging.py checks that). ``python -X importtime -c "import crackle"``
shows where the time goes.
"""

from __future__ import annotations

import subprocess
import sys
import time

STATEMENTS = {
    "python (empty)": "pass",
    "import numpy": "import numpy",
    "import crackle": "import crackle",
    "from crackle import fit_power_law": "from crackle import fit_power_law",
    "crackle --help": (
        "import sys; sys.argv = ['crackle', '--help']\n"
        "from crackle.cli.main import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass"
    ),
}


def wall(code: str) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def main() -> None:
    repeat = 3 if "--quick" in sys.argv else 7
    best = dict.fromkeys(STATEMENTS, float("inf"))
    for _ in range(repeat):
        for name, code in STATEMENTS.items():
            best[name] = min(best[name], wall(code))
    base = best["import numpy"]
    print(f"best of {repeat} wall times in fresh interpreters ({sys.executable})")
    for name, t in best.items():
        print(f"{name:36s} {t:7.3f} s   {t / base:5.2f} x import numpy")
    print(f"import crackle - import numpy: {1000 * (best['import crackle'] - base):+.0f} ms")


if __name__ == "__main__":
    main()
