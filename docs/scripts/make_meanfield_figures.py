"""Make the figures of docs/meanfield.md and print the numbers quoted there.

    python docs/scripts/make_meanfield_figures.py

Writes docs/figures/phase_diagram_tanh.png and docs/figures/meanfield_finite_width.png.
Deterministic (seeded); about two minutes on 2 CPU cores.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np

from crackle.report.phase_diagram import (
    plot_finite_width_comparison,
    plot_phase_diagram,
    save_figure_atomic,
)
from crackle.sim.finite_width import compare_with_mean_field, simulate_finite_width
from crackle.theory import meanfield as mf

FIG = Path(__file__).resolve().parents[1] / "figures"
WIDTH = 1000


def main() -> None:
    sw = np.linspace(0.5, 4.0, 200)
    sb = np.linspace(0.0, 1.0, 200)
    ds = mf.phase_diagram(sw, sb, "tanh")
    fig = plot_phase_diagram(ds)
    save_figure_atomic(fig, FIG / "phase_diagram_tanh.png")
    plt.close(fig)
    e = mf.critical_exponents("tanh")
    print(
        f"beta = {e.beta:.4f}, gamma_above = {e.gamma_above:.4f}, "
        f"gamma_below = {e.gamma_below:.4f}, gamma = {e.gamma:.4f}"
    )
    ref = {0.01: 1.424, 0.05: 1.761, 0.1: 1.986, 0.3: 2.505, 1.0: 3.443, 2.0: 4.266}
    edge = mf.edge_of_chaos(np.array(list(ref)), "tanh")
    for b, s in zip(ref, edge.sigma_w2, strict=True):
        print(f"edge of chaos sigma_b2 = {b:<5} sigma_w2 = {s:.6f}  (reference {ref[b]})")
    wl = mf.widom_line(np.array([1e-4, 1e-3, 0.01, 0.05, 0.1, 0.3, 1.0]), "tanh")
    for b, s, p in zip(wl.sigma_b2, wl.sigma_w2, wl.peak, strict=True):
        print(f"Widom line sigma_b2 = {b:<7g} sigma_w2 = {s:.4f}  peak = {p:.4f}")

    points = [(0.8, 0.1), (1.5, 0.05), (3.0, 0.3)]
    results, comps = [], []
    print(f"finite width N = {WIDTH}, depth 30, 6 networks x 8 inputs, last 10 layers:")
    for s, b in points:
        r = simulate_finite_width(s, b, width=WIDTH, depth=30, n_networks=6, n_inputs=8, seed=0)
        c = compare_with_mean_field(r)
        results.append(r)
        comps.append(c)
        print(
            f"  sigma_w2={s}, sigma_b2={b}: q {r.q_late:.4f} vs {np.mean(c['q_mf'][-10:]):.4f} "
            f"({100 * c['rel_q_late']:+.2f}%), chi_1 {r.chi_1_late:.4f} vs "
            f"{np.mean(c['chi_1_mf'][-10:]):.4f} ({100 * c['rel_chi_1_late']:+.2f}%), "
            f"chi_w {r.chi_w:.4f}+-{r.chi_w_sem:.4f} vs {c['chi_w']:.4f} "
            f"({100 * c['rel_chi_w']:+.2f}%)"
        )
    sweep_w = np.array([0.6, 1.0, 1.4, 1.8, 2.4, 3.0])
    mc, sem, mfv = [], [], []
    for s in sweep_w:
        r = simulate_finite_width(s, 0.1, width=WIDTH, depth=30, n_networks=4, n_inputs=4, seed=1)
        mc.append(r.chi_w)
        sem.append(r.chi_w_sem)
        mfv.append(mf.fixed_point(float(s), 0.1).chi_w)
    print("chi_w sweep at sigma_b2 = 0.1 (N = 1000):")
    for s, a, e_, m in zip(sweep_w, mc, sem, mfv, strict=True):
        print(f"  sigma_w2 = {s}: {a:.4f} +- {e_:.4f} vs mean field {m:.4f}")
    fig = plot_finite_width_comparison(
        results, comps, chi_w_sweep=(sweep_w, np.array(mc), np.array(sem), np.array(mfv))
    )
    save_figure_atomic(fig, FIG / "meanfield_finite_width.png")
    plt.close(fig)


if __name__ == "__main__":
    main()
