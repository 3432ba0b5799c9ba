"""Hidden-state avalanches of a recurrent network, from its hidden states (numpy only).

Ren & Feng (2026): each hidden unit is z-scored over time; a unit is active at step t
when |z| > theta; A_t is the number of active units; avalanches are runs of steps
with A_t above a count threshold (0, or a stated percentile of A_t); size = sum of
A_t over the run, duration = its length. On A_t: the multistep-regression branching
parameter (sequences as trials; stationary-mean coefficients by default, so that no
sequence is left out and short trials are not biased by their own means), the
crackling battery when there are enough avalanches, the PSD slope and the DFA
exponent. The torch side is ``recurrent.py``, the result object ``_hidden_results.py``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from crackle._random import SeedLike, seed_repr
from crackle._validation import check_choice, check_int, check_real, param_error
from crackle.events.avalanches import avalanches_from_counts
from crackle.nn._hidden_results import MIN_AMPLITUDE, RecurrentCriticality
from crackle.stats.branching import BranchingRatioResult, branching_ratio
from crackle.stats.correlations import DFAResult, PSDSlope, dfa, psd_slope
from crackle.stats.crackling import crackling_report

__all__ = ["RecurrentCriticality", "active_counts", "hidden_state_criticality"]

#: DFA and the PSD need at least this many samples of A_t (all sequences together).
MIN_SAMPLES_CORRELATIONS = 200


def _check_hidden(h: Any, func: str) -> NDArray[np.float64]:
    """Hidden states as a float64 array of shape (n_sequences, T, n_units)."""
    try:
        arr = np.asarray(h, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise param_error("hidden", func, "an array of numbers", h) from exc
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim != 3 or arr.shape[1] < 3 or arr.shape[2] < 1 or arr.shape[0] < 1:
        raise param_error(
            "hidden",
            func,
            "of shape (n_sequences, T, n_units) or (T, n_units), with T >= 3 steps",
            f"shape {arr.shape}",
        )
    bad = ~np.isfinite(arr)
    if bad.any():
        seqs = np.flatnonzero(bad.any(axis=(1, 2)))
        raise param_error(
            "hidden",
            func,
            "finite (no NaN or inf: a model with NaN hidden states has diverged; "
            "use an earlier checkpoint or a lower learning rate)",
            f"{int(bad.sum())} non-finite value(s) in {seqs.size} sequence(s), "
            f"the first in sequence {int(seqs[0])}",
        )
    return arr


def active_counts(
    hidden: ArrayLike, theta: float = 2.0, *, zscore: str = "pooled"
) -> tuple[NDArray[np.int64], int]:
    """Number of active hidden units A_t per sequence and step.

    Each unit is z-scored, z = (h - mean) / std, and is active at step t when
    |z| > theta. ``zscore="pooled"`` takes each unit's mean and standard deviation
    over all steps of all sequences (stable for short sequences);
    ``"per_sequence"`` over the steps of each sequence separately. A unit that is
    constant (over the pool, or within a sequence) is never active.

    Parameters
    ----------
    hidden : array_like of shape (n_sequences, T, n_units) or (T, n_units)
        Hidden states.
    theta : float
        Threshold on |z|, > 0.
    zscore : {"pooled", "per_sequence"}
        Over what the units are standardised.

    Returns
    -------
    counts : ndarray of int64, shape (n_sequences, T)
        A_t.
    n_silent : int
        Constant units (pooled), or constant (sequence, unit) pairs (per sequence).

    Examples
    --------
    >>> import numpy as np
    >>> h = np.zeros((1, 6, 2)); h[0, 2, 0] = h[0, 2, 1] = h[0, 4, 1] = 1.0
    >>> counts, n_silent = active_counts(h, theta=1.0)
    >>> counts.tolist(), n_silent
    ([[0, 0, 2, 0, 1, 0]], 0)
    """
    func = "active_counts"
    arr = _check_hidden(hidden, func)
    theta = check_real(theta, "theta", func, low=0.0, low_open=True)
    zscore = check_choice(zscore, "zscore", func, ("pooled", "per_sequence"))
    return _counts(arr, theta, zscore)


def _counts(arr: NDArray[np.float64], theta: float, zscore: str) -> tuple[NDArray[np.int64], int]:
    axes: tuple[int, ...] = (0, 1) if zscore == "pooled" else (1,)
    mean = arr.mean(axis=axes, keepdims=True)
    std = arr.std(axis=axes, keepdims=True)
    silent = np.ptp(arr, axis=axes, keepdims=True) == 0  # exactly constant
    safe = np.where(silent, 1.0, std)
    z = np.abs(arr - mean) / safe
    active = (z > theta) & ~silent
    return active.sum(axis=2).astype(np.int64), int(silent.sum())


def _branching(
    rows: NDArray[np.float64],
    kmax: int,
    n_boot: int,
    seed: SeedLike,
    notes: list[str],
    what: str,
    coefficients: str,
) -> tuple[BranchingRatioResult | None, int]:
    """MR estimate over the sequences (rows): all of them with stationary-mean
    coefficients, those whose regression at lag kmax is defined with trial-separated."""
    t = rows.shape[1]
    # The regression at lag kmax uses A_t for t < T - kmax: it needs variance there.
    varying = np.ptp(rows[:, : t - kmax], axis=1) > 0
    n_const = int((~varying).sum())
    if np.ptp(rows) == 0:
        notes.append(f"{what}: constant in every sequence, no branching parameter")
        return None, n_const
    if coefficients == "sm":
        use = rows
    else:
        # Dropping them keeps only the busiest sequences: a selection bias that the
        # stationary-mean coefficients avoid (they pool the moments of all sequences).
        if n_const:
            notes.append(
                f"{what}: {n_const} sequence(s) constant over their first T - kmax steps "
                "left out of the trial-separated MR estimate"
            )
        if not varying.any():
            notes.append(f"{what}: constant over the first T - kmax steps of every sequence")
            return None, n_const
        use = rows[varying]
    try:
        est = branching_ratio(
            use, method="mr", coefficients=coefficients, kmax=kmax, n_boot=n_boot, seed=seed
        )
    except ValueError as exc:
        notes.append(f"{what}: no branching parameter: {exc}")
        return None, n_const
    if not est.success:
        notes.append(f"{what}: the MR fit ended on the edge of its range of m")
    elif est.b < MIN_AMPLITUDE:
        notes.append(
            f"{what}: MR amplitude b = {est.b:.3g} < {MIN_AMPLITUDE} (r_k near zero at "
            "every lag): m describes a negligible component, flagged not valid"
        )
    if est.reasons:
        notes.append(f"{what}: MR consistency checks failed: " + "; ".join(est.reasons))
    return est, n_const


def hidden_state_criticality(
    hidden: ArrayLike,
    theta: float = 2.0,
    *,
    percentile: float | None = None,
    zscore: str = "pooled",
    kmax: int | None = None,
    min_avalanches: int = 200,
    n_boot: int = 100,
    seed: SeedLike = 0,
    coefficients: str = "sm",
) -> RecurrentCriticality:
    """Avalanches, branching parameter and correlations of recurrent hidden states.

    Parameters
    ----------
    hidden : array_like of shape (n_sequences, T, n_units) or (T, n_units)
        Hidden states (finite).
    theta : float
        A unit is active when its |z-score| exceeds theta (> 0).
    percentile : float, optional
        Avalanche threshold on A_t: None for A_t > 0 (the definition of Ren & Feng),
        or a percentile in (0, 100) of all A_t values (steps with A_t above it).
    zscore : {"pooled", "per_sequence"}
        See :func:`active_counts`.
    kmax : int, optional
        Largest lag of the MR estimate; default min((T - 1) // 3, 100).
    min_avalanches : int
        Run the crackling battery only with at least this many complete avalanches.
    n_boot : int
        Bootstrap replicas of the MR estimate (over sequences).
    seed : int, numpy.random.Generator or None
        Bootstrap randomness.
    coefficients : {"sm", "ts"}
        MR coefficients (:func:`crackle.branching_ratio`). "sm" (stationary mean,
        default) pools the moments of all sequences: every sequence enters and short
        sequences are not biased by their own means. "ts" (trial-separated) regresses
        within each sequence and must leave out those whose A_t is constant; on short
        sequences it is biased low (Spitzner et al. 2021).

    Returns
    -------
    RecurrentCriticality
        ``summary()["m_valid"]`` is True when the MR fit is inside its range, its
        amplitude b >= 0.05 and every consistency check of
        :func:`crackle.branching_ratio` passed; ``"m_reasons"`` says why not.

    References
    ----------
    Ren & Feng, "Towards Critical Branching Mechanism in Recurrent Neural Networks",
    arXiv 2606.10384 (2026); Wilting & Priesemann, Nat. Commun. 9, 2325 (2018).

    Examples
    --------
    >>> import numpy as np
    >>> h = np.random.default_rng(0).normal(size=(4, 300, 16))
    >>> res = hidden_state_criticality(h, theta=2.0, n_boot=0)
    >>> res.n_sequences, res.n_units, round(res.mean_active, 2)
    (4, 16, 0.72)
    >>> row = res.summary()  # independent units: no branching parameter to read
    >>> row["m_valid"], row["m_reasons"]
    (False, 'amplitude ~0; no decay to fit')
    """
    func = "hidden_state_criticality"
    arr = _check_hidden(hidden, func)
    theta = check_real(theta, "theta", func, low=0.0, low_open=True)
    zscore = check_choice(zscore, "zscore", func, ("pooled", "per_sequence"))
    if percentile is not None:
        percentile = check_real(
            percentile, "percentile", func, low=0.0, high=100.0, low_open=True, high_open=True
        )
    if kmax is not None:
        kmax = check_int(kmax, "kmax", func, low=1)
    min_avalanches = check_int(min_avalanches, "min_avalanches", func, low=1)
    n_boot = check_int(n_boot, "n_boot", func, low=0)
    coefficients = check_choice(coefficients, "coefficients", func, ("sm", "ts"))

    counts, n_silent = _counts(arr, theta, zscore)
    notes: list[str] = []
    if n_silent:
        notes.append(f"{n_silent} constant unit(s) never active")
    thr = 0.0 if percentile is None else float(np.percentile(counts, percentile))
    av = avalanches_from_counts(counts, thr, raster=False)
    t_len = counts.shape[1]
    if kmax is None:
        kmax = max(1, min((t_len - 1) // 3, 100))
    elif 2 * kmax >= t_len:
        raise param_error("kmax", func, f"below T / 2 = {t_len / 2:g} (T steps per sequence)", kmax)
    rows = counts.astype(np.float64)
    branching, n_const = _branching(rows, kmax, n_boot, seed, notes, "A_t", coefficients)
    residual = None
    if counts.shape[0] > 1:
        resid = rows - rows.mean(axis=0)
        residual, _ = _branching(
            resid - resid.min(), kmax, n_boot, seed, notes, "residual A_t", coefficients
        )

    report = None
    if av.n < min_avalanches:
        notes.append(
            f"{av.n} complete avalanche(s) (< min_avalanches = {min_avalanches}): "
            "no exponents fitted"
        )
    else:
        try:
            report = crackling_report(av)
        except ValueError as exc:
            notes.append(f"crackling battery failed: {exc}")

    flat = counts.ravel().astype(np.float64)
    dfa_res: DFAResult | None = None
    psd_res: PSDSlope | None = None
    if flat.size < MIN_SAMPLES_CORRELATIONS or np.ptp(flat) == 0:
        notes.append(
            f"A_t has {flat.size} samples{' and is constant' if flat.size else ''}: "
            "no DFA or PSD slope"
        )
    else:
        if counts.shape[0] > 1:
            notes.append("DFA and PSD on the sequences' A_t joined end to end")
        try:
            dfa_res = dfa(flat)
            psd_res = psd_slope(flat)
        except ValueError as exc:
            notes.append(f"DFA or PSD failed: {exc}")

    return RecurrentCriticality(
        theta=theta,
        percentile=percentile,
        count_threshold=thr,
        zscore=zscore,
        n_sequences=int(arr.shape[0]),
        n_steps=int(arr.shape[1]),
        n_units=int(arr.shape[2]),
        n_silent=n_silent,
        mean_active=float(counts.mean()),
        fraction_above=float((counts > thr).mean()),
        avalanches=av,
        branching=branching,
        n_constant_sequences=n_const,
        branching_residual=residual,
        report=report,
        dfa=dfa_res,
        psd=psd_res,
        notes=tuple(notes),
        seed=seed_repr(seed),
        counts=counts,
        coefficients=coefficients,
    )
