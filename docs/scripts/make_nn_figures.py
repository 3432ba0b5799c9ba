"""Make the figures of docs/nn.md and print the tables quoted there.

    python docs/scripts/make_nn_figures.py [--device cuda] [--n 200000] [--out docs/figures]
        [--parts avalanches,probes]

1. Avalanches in pre-activation ResNet-18, -34 and -50 at initialisation (ImageNet
   widths, 3 x 32 x 32 standard Gaussian inputs, batch norm with batch statistics,
   every operation a layer, theta_l = mu_l + k s_l) for k = 0, 1, 2: the exponent table
   (printed, and written as resnet_exponents.csv beside the figures) and
   resnet_avalanches.png.
2. The probes (branching parameter, largest Lyapunov exponent, dynamic range; the
   random-direction rate beside the largest exponent) of the built-in models at their
   blocks: probe_zoo.csv and probe_zoo.png.

Deterministic (seeded). With --n 200000 it took a few minutes on one H100; on 2 CPU
cores use --n 20000 (about ten minutes).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

import crackle as ck
from crackle.nn.zoo import MODEL_NAMES, build_model, plot_probe_table, probe_table

FIG = Path(__file__).resolve().parents[1] / "figures"


def ccdf(ax: plt.Axes, values: np.ndarray, label: str) -> None:
    v = np.sort(values)
    ax.loglog(v, 1.0 - np.arange(v.size) / v.size, drawstyle="steps-post", label=label)


def resnet18_panels(axes: np.ndarray, model: torch.nn.Module, n: int, n_cal: int) -> None:
    """CCDFs of sizes and durations, and <S>(T), of ResNet-18 at k = 0, 1, 2 (the same
    inputs and calibration as avalanche_exponents with seed 0)."""
    kw = {"batch_norm": "batch", "batch_size": 256}
    shape = model.input_shape
    cal, _ = ck.nn.layer_signals(model, ck.nn.gaussian_inputs(shape, n_cal, seed=2), **kw)
    sig, _ = ck.nn.layer_signals(model, ck.nn.gaussian_inputs(shape, n, seed=1), **kw)
    for k in (0, 1, 2):
        thr = cal.mean(0) + k * cal.std(0, ddof=1)
        av = ck.avalanches_from_trajectories(sig, thr, max_shape_duration=None)
        ccdf(axes[0], av.sizes, f"k = {k}")
        ccdf(axes[1], av.durations, f"k = {k}")
        ts = np.unique(av.durations)
        axes[2].loglog(ts, [av.sizes[av.durations == t].mean() for t in ts], "o-", ms=3)
    axes[0].set_xlabel("size S (sum of layer norms)")
    axes[0].set_ylabel("P(≥)")
    axes[1].set_xlabel("duration T (layers)")
    axes[2].set_xlabel("T")
    axes[2].set_ylabel("<S>(T)")
    axes[0].legend(fontsize=8)
    axes[1].set_title("ResNet-18, 3 x 32 x 32 Gaussian inputs", fontsize=9)


def resnet_figure(df: pd.DataFrame, model: torch.nn.Module, n: int, n_cal: int) -> plt.Figure:
    fig, grid = plt.subplots(2, 3, figsize=(11, 6.6))
    resnet18_panels(grid[0], model, n, n_cal)
    axes = grid[1]
    refs = {"tau": 1.5, "alpha": 2.0, "inv_snz_fitted": 2.0}
    labels = {"tau": "τ (sizes)", "alpha": "α (durations)", "inv_snz_fitted": "1/(σνz)"}
    for ax, col in zip(axes, refs, strict=True):
        for model, sub in df.groupby("model", sort=False):
            err = sub.get(col + "_err")
            ax.errorbar(sub["k"], sub[col], yerr=err, marker="o", capsize=3, label=model)
            if col == "inv_snz_fitted":
                ax.plot(sub["k"], sub["inv_snz_predicted"], "x--", color="0.5")
        ax.axhline(refs[col], color="k", ls=":", lw=1)
        ax.set_xlabel("threshold level k")
        ax.set_ylabel(labels[col])
    axes[0].legend(fontsize=8)
    axes[2].set_title("fitted (o), predicted (α-1)/(τ-1) (x)", fontsize=9)
    fig.suptitle("Pre-activation ResNets at initialisation (dotted: mean-field DP)", fontsize=10)
    fig.tight_layout()
    return fig


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--n", type=int, default=200_000)
    ap.add_argument("--n-cal", type=int, default=10_000)
    ap.add_argument("--n-probe", type=int, default=256)
    ap.add_argument("--out", type=Path, default=FIG)
    ap.add_argument("--parts", default="avalanches,probes")
    args = ap.parse_args()
    parts = set(args.parts.split(","))
    args.out.mkdir(parents=True, exist_ok=True)
    dev = torch.device(args.device)
    pd.set_option("display.width", 200)
    pd.set_option("display.max_columns", 30)

    if "avalanches" in parts:
        avalanche_part(args, dev)
    if "probes" in parts:
        probe_part(args, dev)


def avalanche_part(args: argparse.Namespace, dev: torch.device) -> None:
    t0 = time.perf_counter()
    models = {
        f"resnet{d}": ck.nn.preact_resnet(d, num_classes=10, input_size=32, seed=0).to(dev)
        for d in (18, 34, 50)
    }
    df = ck.nn.avalanche_exponents(
        models, ks=(0, 1, 2), n=args.n, n_calibration=args.n_cal, batch_size=256, seed=0
    )
    df.to_csv(args.out / "resnet_exponents.csv", index=False)
    fig = resnet_figure(df, models["resnet18"], args.n, args.n_cal)
    fig.savefig(args.out / "resnet_avalanches.png", dpi=130)
    plt.close(fig)
    cols = ["model", "k", "n_layers", "n", "n_censored", "n_empty", "tau", "tau_err", "alpha"]
    cols += ["alpha_err", "inv_snz_fitted", "inv_snz_predicted", "scaling_mismatch"]
    print(df[cols].round(3).to_string(index=False))
    print(f"[resnet avalanches: {time.perf_counter() - t0:.0f} s on {dev}]")


def probe_part(args: argparse.Namespace, dev: torch.device) -> None:
    t0 = time.perf_counter()
    zoo = {name: build_model(name, seed=0).to(dev) for name in MODEL_NAMES}
    table = probe_table(zoo, n=args.n_probe, seed=0)
    rates = []
    for model in zoo.values():
        x = ck.nn.gaussian_inputs(model.input_shape, args.n_probe, seed=0)
        rates.append(ck.nn.random_direction_rate(model, x, seed=0).value)
    table["random_direction_rate"] = rates
    table.to_csv(args.out / "probe_zoo.csv", index=False)
    fig = plot_probe_table(table)
    fig.savefig(args.out / "probe_zoo.png", dpi=130)
    plt.close(fig)
    print(table.drop(columns=["accuracy"]).round(4).to_string(index=False))
    print(f"[probes: {time.perf_counter() - t0:.0f} s on {dev}]")


if __name__ == "__main__":
    main()
