"""Figure of the ResNet crackling experiment (Ghavasieh et al. 2025, arXiv 2509.22649,
Fig. 4): the exponents against the threshold level k, per observable and model.

:func:`resnet_figure` returns a pyplot Figure with constrained layout.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from crackle.report.figures import new_figure

if TYPE_CHECKING:
    from crackle.experiments.resnet_results import ResNetResult

__all__ = ["MEAN_FIELD_DP", "resnet_figure"]

#: Mean-field directed percolation, the class the paper reports for every k.
MEAN_FIELD_DP = {"tau": 1.5, "alpha": 2.0, "inv_snz_fitted": 2.0}

_PANELS = (
    ("tau", "τ (sizes)"),
    ("alpha", "α (durations)"),
    ("inv_snz_fitted", "1/(σνz) from ⟨S⟩(T)"),
)


def resnet_figure(
    result: ResNetResult, observables: list[str] | None = None, fig: Any = None
) -> Any:
    """Exponents against k, one row of panels per observable, one line per model.

    Error bars: statistical and systematic errors in quadrature; dotted lines:
    mean-field directed percolation (tau 3/2, alpha 2, 1/(sigma nu z) 2); grey crosses
    in the last column: the predicted (alpha - 1)/(tau - 1) of the first model (where
    it lies between 0 and 4).

    Parameters
    ----------
    result : ResNetResult
        The experiment's result.
    observables : list of str, optional
        Rows to draw (default: every observable, in the result's order).
    fig : matplotlib Figure, optional
        Drawn into; default a new pyplot figure.

    Returns
    -------
    matplotlib.figure.Figure
    """
    obs = observables or sorted(
        {r.observable for r in result.rows}, key=[r.observable for r in result.rows].index
    )
    fig = new_figure(fig, figsize=(11, 2.4 * len(obs) + 0.8))
    axes = fig.subplots(len(obs), 3, squeeze=False)
    models = list(dict.fromkeys(r.model for r in result.rows))
    for i, o in enumerate(obs):
        for j, (col, label) in enumerate(_PANELS):
            ax = axes[i, j]
            for mi, m in enumerate(models):
                sub = [r for r in result.rows if r.observable == o and r.model == m]
                ks = np.array([r.k for r in sub]) + (mi - 1) * 0.03
                v = np.array([getattr(r, col) for r in sub])
                e = np.hypot(
                    np.nan_to_num([getattr(r, col + "_err") for r in sub]),
                    np.nan_to_num([getattr(r, col + "_sys") for r in sub]),
                )
                ok = np.isfinite(v) & np.isfinite(e) & (np.abs(v) < 1e3) & (e < 1e3)
                ax.errorbar(ks[ok], v[ok], yerr=e[ok], marker="o", ms=3, capsize=2, label=m)
                if col == "inv_snz_fitted" and mi == 0:
                    pred = np.array([r.inv_snz_predicted for r in sub])
                    # Where tau is near 1 the prediction runs off; it is drawn up to 4.
                    good = np.isfinite(pred) & (pred > 0) & (pred < 4)
                    ax.plot(ks[good], pred[good], "x", color="0.5")
            ax.axhline(MEAN_FIELD_DP[col], color="k", ls=":", lw=1)
            if col == "tau":
                finite = [r.tau for r in result.rows if r.observable == o and math.isfinite(r.tau)]
                if finite and max(finite) > 6:
                    ax.set_yscale("log")
            ax.set_ylabel(label, fontsize=8)
            if i == len(obs) - 1:
                ax.set_xlabel("threshold level k")
            ax.tick_params(labelsize=7)
        axes[i, 0].set_title(o, fontsize=8, loc="left")
    axes[0, 0].legend(fontsize=7)
    fig.suptitle(
        "Pre-activation ResNets at initialisation on Fashion-MNIST "
        "(dotted: mean-field directed percolation)",
        fontsize=9,
    )
    return fig
