"""Hidden-state analysis of the recurrent-criticality experiment (numpy only).

For hidden states h[s, t, i] (sequence, step, unit) of an LSTM or of one transformer
layer (Ren & Feng 2026):

* A_t, the number of units with |z| > theta (each unit z-scored over all steps of
  all sequences; ``crackle.nn.active_counts``);
* m, the multistep-regression branching parameter of A_t with **stationary-mean**
  coefficients (``branching_ratio(..., coefficients="sm")``, Wilting & Priesemann
  2018; Spitzner et al. 2021): moments pooled over every sequence, so no sequence is
  left out (a sequence where A_t is constant still contributes its pairs; the
  trial-separated estimator has no slope there and would drop it, keeping only
  the busiest sequences) and no per-sequence mean biases r_k on short trials; with
  its consistency checks (``valid`` and ``reasons``);
* avalanches: runs of A_t above its ``percentile``-th percentile, with the
  crackling battery on the complete ones;
* per-unit branching parameters m_i (MR, stationary mean, on each unit's h_i with
  the sequences as trials), and the mixture-branching account of 1/f noise: the
  unit-averaged Welch spectrum of h_i is fitted with ``fit_mixture_spectrum``
  (a Beta(a, b) mixture of subcritical branching spectra) and its slope compared
  with the slope that the measured m_i distribution predicts.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from crackle.events.avalanches import avalanches_from_counts
from crackle.stats.branching import branching_ratio
from crackle.stats.correlations import log_binned
from crackle.stats.mixture import fit_mixture_spectrum, mixture_spectrum

__all__ = ["active_counts_pooled", "analyse_states", "mixture_account", "unit_branching"]

_NAN = float("nan")
#: Frequencies (cycles per step) of the spectral fits: from 4 resolutions to 1/4.
_F_HI = 0.25


def active_counts_pooled(h: NDArray[Any], theta: float) -> tuple[NDArray[np.int64], int]:
    """A_t of shape (n_sequences, T) and the number of constant (silent) units."""
    mean = h.mean(axis=(0, 1), keepdims=True)
    std = h.std(axis=(0, 1), keepdims=True)
    silent = np.ptp(h, axis=(0, 1), keepdims=True) == 0
    z = np.abs(h - mean) / np.where(silent, 1.0, std)
    return ((z > theta) & ~silent).sum(axis=2).astype(np.int64), int(silent.sum())


def _mr(x: NDArray[Any], kmax: int, n_boot: int, seed: int) -> dict[str, Any]:
    """Stationary-mean MR on trials ``x`` (n, T): m, its error, b, checks."""
    if np.ptp(x) == 0:
        return {"m": _NAN, "m_stderr": _NAN, "m_b": _NAN, "m_valid": False,
                "m_reasons": "constant activity: no regression slope"}  # fmt: skip
    est = branching_ratio(x, coefficients="sm", kmax=kmax, n_boot=n_boot, seed=seed)
    return {
        "m": est.m,
        "m_stderr": est.m_stderr,
        "m_b": est.b,
        "m_valid": bool(est.valid),
        "m_reasons": "; ".join(est.reason_names),
    }


def analyse_states(
    h: NDArray[Any],
    *,
    theta: float,
    percentile: float,
    kmax: int,
    n_boot: int,
    seed: int,
    min_avalanches: int,
    crackling: bool,
) -> dict[str, Any]:
    """One table row: A_t statistics, stationary-mean m with its checks, avalanches
    (and the crackling battery when ``crackling``) of hidden states ``h`` (n, T, U)."""
    counts, n_silent = active_counts_pooled(h, theta)
    row: dict[str, Any] = {
        "n_sequences": counts.shape[0],
        "n_steps": counts.shape[1],
        "n_units": h.shape[2],
        "n_silent_units": n_silent,
        # Kept in the estimate (stationary mean); counted to show what the
        # trial-separated estimator would have dropped.
        "n_constant_sequences": int((np.ptp(counts, axis=1) == 0).sum()),
        "mean_active": float(counts.mean()),
        "kmax": kmax,
    }
    row |= _mr(counts.astype(np.float64), kmax, n_boot, seed)
    thr = float(np.percentile(counts, percentile))
    av = avalanches_from_counts(counts, thr, raster=False)
    row |= {"n_avalanches": av.n, "n_censored": av.n_censored, "tau": _NAN, "alpha": _NAN,
            "sizes_power_law": False, "durations_power_law": False, "verdict": ""}  # fmt: skip
    if crackling and av.n >= min_avalanches:
        from crackle.stats.crackling import crackling_report

        try:
            rep = crackling_report(av, collapse=False, n_boot=50, seed=seed)
        except ValueError as exc:
            row["verdict"] = f"battery failed: {exc}"
        else:
            row |= {
                "tau": rep.tau,
                "alpha": rep.alpha,
                "sizes_power_law": bool(rep.sizes_verdict is not None
                                        and rep.sizes_verdict.plausible),
                "durations_power_law": bool(rep.durations_verdict is not None
                                            and rep.durations_verdict.plausible),
                "verdict": rep.verdict.outcome,
            }  # fmt: skip
    return row


def unit_branching(h: NDArray[Any], kmax: int) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """m_i (stationary-mean MR, no bootstrap) of every non-constant unit, and whether
    each fit passed the consistency checks; shape (n_units_not_silent,)."""
    ms, ok = [], []
    for i in range(h.shape[2]):
        x = h[:, :, i].astype(np.float64)
        if np.ptp(x) == 0:
            continue
        est = branching_ratio(x, coefficients="sm", kmax=kmax, n_boot=0)
        ms.append(est.m)
        ok.append(est.valid)
    return np.asarray(ms, np.float64), np.asarray(ok, bool)


def _unit_spectrum(h: NDArray[Any], nperseg: int) -> tuple[NDArray[Any], NDArray[Any]]:
    """Welch spectrum of each unit in each sequence, averaged over both."""
    from scipy.signal import welch

    x = np.moveaxis(h.astype(np.float64), 2, 1)  # (n, U, T)
    x = x - x.mean(axis=(0, 2), keepdims=True)
    # (scipy's stubs list the detrend literals without "linear", which welch accepts)
    f, p = welch(x, nperseg=nperseg, detrend="linear", axis=-1)  # type: ignore[call-overload]
    return f, p.mean(axis=(0, 1))


def _slope(f: NDArray[Any], s: NDArray[Any], band: tuple[float, float]) -> float:
    bf, bs = log_binned(f, s, band, 12)
    return float(-np.polyfit(np.log10(bf), np.log10(bs), 1)[0])


def mixture_account(h: NDArray[Any], kmax: int) -> dict[str, Any]:
    """Per-unit m_i and the mixture-branching account of the hidden activity's spectrum.

    Returns m_i quantiles, the fraction of units whose MR fit passed the checks, the
    measured slope beta of the unit-averaged spectrum over (4 / nperseg, 1/4), the
    Beta(a, b) mixture fitted to that spectrum (``fit_mixture_spectrum``) and the
    slope predicted by a Beta fitted to the measured m_i (moments of the valid m_i
    in (0, 1)) over the same band.
    """
    m_i, ok = unit_branching(h, kmax)
    t = h.shape[1]
    nperseg = int(min(256, 2 ** int(np.log2(t))))
    band = (4.0 / nperseg, _F_HI)
    f, s = _unit_spectrum(h, nperseg)
    out: dict[str, Any] = {
        "m_i": m_i.tolist(),
        "m_i_valid": ok.tolist(),
        "frac_units_valid": float(ok.mean()) if ok.size else _NAN,
        "m_i_median": float(np.median(m_i)) if m_i.size else _NAN,
        "m_i_q10": float(np.quantile(m_i, 0.1)) if m_i.size else _NAN,
        "m_i_q90": float(np.quantile(m_i, 0.9)) if m_i.size else _NAN,
        "beta_units": _slope(f, s, band) if (s[f > 0] > 0).all() else _NAN,
        "band": list(band),
        "mix_a": _NAN, "mix_b": _NAN, "mix_mean_m": _NAN, "mix_success": False,
        "beta_from_m_i": _NAN, "beta_mi_a": _NAN, "beta_mi_b": _NAN,
    }  # fmt: skip
    try:
        fit = fit_mixture_spectrum(f, s, band=band, n_bins=12)
    except ValueError:
        pass
    else:
        out |= {"mix_a": fit.a, "mix_b": fit.b, "mix_mean_m": fit.mean_m,
                "mix_success": fit.success, "mix_rms_log10": fit.rms_log10}  # fmt: skip
    inside = m_i[ok & (m_i > 0) & (m_i < 1)]
    if inside.size >= 3 and inside.var() > 0:
        mu, var = float(inside.mean()), float(inside.var())
        common = mu * (1 - mu) / var - 1
        if common > 0:
            a, b = mu * common, (1 - mu) * common
            ff = np.geomspace(*band, 200)
            out |= {"beta_mi_a": a, "beta_mi_b": b,
                    "beta_from_m_i": _slope(ff, mixture_spectrum(ff, a, b), band)}  # fmt: skip
    return out
