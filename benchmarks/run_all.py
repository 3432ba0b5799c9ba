"""Run every benchmark script in this folder, one after another.

    python benchmarks/run_all.py [--quick]

Each script prints its own times and the ratios against the baseline it timed in the
same run. ``--quick`` is passed on to scripts that accept it (smaller sizes).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent


def main() -> int:
    extra = [a for a in sys.argv[1:] if a == "--quick"]
    failed = []
    for script in sorted(HERE.glob("bench_*.py")):
        print(f"\n=== {script.name} ===", flush=True)
        res = subprocess.run([sys.executable, str(script), *extra], cwd=HERE.parent)
        if res.returncode:
            failed.append(script.name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
