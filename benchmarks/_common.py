"""Helpers shared by the benchmark scripts: timing and peak memory in a child process."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any


def best_of(func: Callable[[], Any], repeat: int = 3) -> float:
    """Best wall time of ``repeat`` calls, in seconds (the least disturbed by the machine)."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        func()
        times.append(time.perf_counter() - t0)
    return min(times)


def peak_rss_mb(code: str) -> dict[str, Any]:
    """Run ``code`` in a fresh Python; return its JSON on stdout plus its peak RSS in MB.

    A fresh process so the number is the code's own peak, not the benchmark's history.
    """
    wrapper = (
        "import json, resource, sys\n" + code + "\nout = globals().get('RESULT', {})\n"
        "out['peak_rss_mb'] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024\n"
        "print(json.dumps(out))\n"
    )
    res = subprocess.run(
        [sys.executable, "-c", wrapper], capture_output=True, text=True, check=True
    )
    return json.loads(res.stdout.strip().splitlines()[-1])
