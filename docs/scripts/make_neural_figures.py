"""Regenerate the figures and numbers of docs/neural.md.

    .venv/bin/python docs/scripts/make_neural_figures.py

A driven branching network of known m (100 units, m = 0.98 per 4 ms step, drive
h = 0.02 events per step, 20 minutes) is written to Parquet, read back with
``crackle.read_spikes``, binned at its mean inter-event interval and analysed with
``crackle.stats.spike_analysis.analyze_spikes`` (crackling report, MR with its checks,
exponents against 0.25-4x the IEI, three kinds of surrogates). Figures go to
docs/figures/neural_*.png (the crackling report's own figure is
``res.report.plot()``); the numbers quoted in the page are printed as JSON.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

import crackle as ck
from crackle.report.figures import save_figure
from crackle.report.neural_figures import bin_scan_figure, null_figure
from crackle.sim.spiking import branching_network_spikes
from crackle.stats.spike_analysis import analyze_spikes

FIG = Path(__file__).resolve().parents[1] / "figures"
M, H, DT, UNITS, STEPS = 0.98, 0.02, 0.004, 100, 300_000


def main() -> None:
    t0 = time.perf_counter()
    sim = branching_network_spikes(M, H, UNITS, STEPS, dt=DT, seed=1)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "network.parquet"
        pd.DataFrame({"unit": sim.units, "time": sim.times}).to_parquet(path)
        spikes = ck.read_spikes(path)
    assert np.array_equal(spikes.times, sim.times)
    res = analyze_spikes(spikes, "iei", kmax=250, n_boot=100, n_surrogates=3, seed=0)
    offset = ck.branching_ratio(res.binned.counts, kmax=250, fit="exp_offset", dt=res.binned.width)
    noise = np.random.default_rng(0).poisson(res.binned.counts.mean(), res.binned.n_bins)
    iid = ck.branching_ratio(noise, kmax=250)
    elapsed = time.perf_counter() - t0

    FIG.mkdir(exist_ok=True)
    save_figure(bin_scan_figure(res.scan), FIG / "neural_exponents_vs_bin.png")
    fig = Figure(figsize=(10, 3.8), layout="constrained")
    ax1, ax2 = fig.subplots(1, 2)
    res.mr.plot(ax=ax1)
    ax1.set_title("network at the IEI: " + ("valid" if res.mr.valid else "not valid"), fontsize=9)
    iid.plot(ax=ax2)
    save_figure(fig, FIG / "neural_branching_ratio.png")
    save_figure(null_figure(res), FIG / "neural_nulls.png")

    w = res.binned.width
    out = {
        "spikes": res.spikes,
        "iei": res.binned.iei,
        "m_true_per_bin": M ** (w / DT),
        "tau_true_s": -DT / np.log(M),
        "mr": {k: res.mr.to_dict()[k] for k in ("m", "m_stderr", "tau", "b", "valid", "reasons")},
        "mr_offset": {k: offset.to_dict()[k] for k in ("m", "m_stderr", "tau", "valid")},
        "iid": {k: iid.to_dict()[k] for k in ("m", "valid", "reasons")},
        "report": {
            k: getattr(res.report, k)
            for k in (
                "n",
                "tau",
                "tau_err",
                "alpha",
                "alpha_err",
                "inv_snz_fitted",
                "inv_snz_predicted",
            )
        },
        "measures": res.measures,
        "scan": res.scan.to_dict(),
        "summary": res.summary(),
        "seconds": elapsed,
    }
    print(json.dumps(out, indent=1, default=float))


if __name__ == "__main__":
    main()
