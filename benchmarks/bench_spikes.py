"""Benchmark: 10^7 spikes read from Parquet and binned, time and peak memory.

    python benchmarks/bench_spikes.py            # 10^7 spikes, 200 units
    python benchmarks/bench_spikes.py --quick    # 10^6 spikes

Writes a Parquet file of (unit, time) rows in random time order (the hard case: the
reader must sort), then, in a fresh process each, times ``crackle.read_spikes`` +
``crackle.bin_spikes(width="iei")`` and reports the peak resident memory of that
process (``ru_maxrss``). Baseline timed in the same run: ``pandas.read_parquet`` of the
same two columns followed by ``numpy.sort`` of the times and ``numpy.histogram`` at the
same bins (what one would write by hand). Target: under 5 s and under 1 GB on 2 cores.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np

CHILD = r"""
import json, resource, sys, time
t0 = time.perf_counter()
if sys.argv[2] == "crackle":
    import crackle as ck
    t_import = time.perf_counter() - t0
    t0 = time.perf_counter()
    sp = ck.read_spikes(sys.argv[1])
    t_read = time.perf_counter() - t0
    b = ck.bin_spikes(sp, "iei")
    total, n_bins, width = int(b.counts.sum()), b.n_bins, b.width
else:
    import numpy as np, pandas as pd
    t_import = time.perf_counter() - t0
    t0 = time.perf_counter()
    df = pd.read_parquet(sys.argv[1], columns=["unit", "time"])
    t = np.sort(df["time"].to_numpy())
    t_read = time.perf_counter() - t0
    width = (t[-1] - t[0]) / (t.size - 1)
    n_bins = int(np.ceil(t[-1] / width))
    counts, _ = np.histogram(t, bins=n_bins, range=(0.0, n_bins * width))
    total = int(counts.sum())
elapsed = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"read": t_read, "total": elapsed, "import": t_import, "peak_mb": peak,
                  "spikes": total, "n_bins": n_bins, "width": width}))
"""


def make_file(path: Path, n: int, n_units: int = 200, seed: int = 0) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    times = rng.uniform(0.0, n / 2000.0, n)  # 2000 spikes per second pooled
    units = rng.integers(0, n_units, n).astype(np.int32)
    pq.write_table(pa.table({"unit": units, "time": times}), path)


def run(path: Path, which: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), which],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    n = 1_000_000 if "--quick" in sys.argv else 10_000_000
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "spikes.parquet"
        t0 = time.perf_counter()
        make_file(path, n)
        print(
            f"wrote {n:.0e} spikes ({path.stat().st_size / 1e6:.0f} MB) in "
            f"{time.perf_counter() - t0:.1f} s; cores: {os.cpu_count()}"
        )
        best: dict[str, dict] = {}
        for _ in range(3):
            for which in ("crackle", "baseline"):
                r = run(path, which)
                if which not in best or r["total"] < best[which]["total"]:
                    best[which] = r
    c, b = best["crackle"], best["baseline"]
    assert c["spikes"] == b["spikes"] == n
    print(f"read + bin {n:.0e} spikes (best of 3, fresh process each):")
    print(
        f"  crackle read_spikes + bin_spikes('iei')  {c['total']:6.2f} s "
        f"(read {c['read']:.2f} s)  peak {c['peak_mb']:6.0f} MB  {c['n_bins']} bins"
    )
    print(
        f"  pandas + np.sort + np.histogram          {b['total']:6.2f} s "
        f"(read {b['read']:.2f} s)  peak {b['peak_mb']:6.0f} MB"
    )
    print(f"  ratio (baseline / crackle)               {b['total'] / c['total']:6.2f} x")
    ok = c["total"] < 5.0 and c["peak_mb"] < 1024
    print(f"  target (< 5 s, < 1 GB): {'met' if ok else 'NOT met'}")


if __name__ == "__main__":
    main()
