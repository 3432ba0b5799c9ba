"""The result of the hidden-state analysis of a recurrent network
(:func:`crackle.nn.hidden_state_criticality`, Ren & Feng 2026): the object, its flat
summary, and when its MR branching parameter can be read."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from crackle.events.avalanches import Avalanches
from crackle.stats.branching import BranchingRatioResult
from crackle.stats.correlations import DFAResult, PSDSlope
from crackle.stats.crackling import CracklingReport

__all__ = ["MIN_AMPLITUDE", "RecurrentCriticality"]

_NAN = float("nan")
#: An MR fit whose amplitude b is below this describes a negligible part of the
#: variance of A_t (r_k near zero at every lag): its m is flagged as not meaningful.
MIN_AMPLITUDE = 0.05


def _valid(est: BranchingRatioResult | None) -> bool:
    """An MR estimate one can read: inside its range, a real amplitude, and every
    consistency check of :func:`crackle.branching_ratio` passed."""
    return est is not None and bool(est.success) and est.b >= MIN_AMPLITUDE and est.valid


def _reasons(est: BranchingRatioResult | None) -> str:
    """Why an estimate is not valid, in short words ("" when it is)."""
    if est is None:
        return "no estimate"
    out = list(est.reason_names)
    if not est.success:
        out.insert(0, "fit on the edge of its range")
    if est.b < MIN_AMPLITUDE and not any(r.startswith("amplitude") for r in out):
        out.insert(0, f"amplitude b < {MIN_AMPLITUDE}")
    return "; ".join(out)


@dataclass(frozen=True)
class RecurrentCriticality:
    """Hidden-state avalanches, branching parameter and correlations of one network.

    Attributes
    ----------
    theta : float
        Threshold on |z| for a unit to be active.
    percentile : float or None
        Percentile of A_t used as the avalanche threshold (None: A_t > 0).
    count_threshold : float
        The avalanche threshold on A_t that was used (a step belongs to an avalanche
        when A_t > count_threshold).
    zscore : str
        "pooled" or "per_sequence".
    n_sequences, n_steps, n_units : int
        Shape of the hidden states analysed.
    n_silent : int
        Constant units (never active), see :func:`active_counts`.
    mean_active : float
        Mean of A_t over all steps.
    fraction_above : float
        Fraction of steps with A_t > count_threshold.
    avalanches : Avalanches
        Runs above threshold; runs touching the first or last step of a sequence are
        censored (kept apart, never fitted).
    branching : BranchingRatioResult or None
        MR estimate on A_t with the sequences as trials (None when impossible: see
        ``notes``).
    n_constant_sequences : int
        Sequences whose A_t is constant over their first T - kmax steps. With
        ``coefficients="ts"`` they have no regression slope and are left out of the MR
        estimate; with ``"sm"`` they are kept.
    branching_residual : BranchingRatioResult or None
        MR estimate after the mean time course over sequences (the part of A_t locked
        to the sequence position, e.g. the evoked response to an image read row by
        row) is subtracted from every sequence: A_t - <A_t>_sequences, shifted by a
        constant to stay non-negative (regression slopes do not change under a
        constant shift). None with a single sequence.
    report : CracklingReport or None
        The crackling battery (None with fewer than ``min_avalanches``).
    dfa, psd : DFAResult, PSDSlope or None
        On the sequences' A_t joined end to end.
    notes : tuple of str
        What was skipped or doubtful, in words.
    seed : int, str or None
        Record of the bootstrap seed.
    counts : ndarray of int64, shape (n_sequences, T)
        A_t.
    coefficients : str
        MR coefficients: "sm" (stationary mean) or "ts" (trial-separated).
    """

    theta: float
    percentile: float | None
    count_threshold: float
    zscore: str
    n_sequences: int
    n_steps: int
    n_units: int
    n_silent: int
    mean_active: float
    fraction_above: float
    avalanches: Avalanches = field(repr=False)
    branching: BranchingRatioResult | None = field(repr=False)
    n_constant_sequences: int
    branching_residual: BranchingRatioResult | None = field(repr=False)
    report: CracklingReport | None = field(repr=False)
    dfa: DFAResult | None = field(repr=False)
    psd: PSDSlope | None = field(repr=False)
    notes: tuple[str, ...]
    seed: int | str | None = None
    counts: NDArray[np.int64] = field(
        default_factory=lambda: np.zeros((0, 0), np.int64), repr=False, compare=False
    )
    coefficients: str = "sm"

    @property
    def m(self) -> float:
        """The MR branching parameter (NaN when it could not be estimated)."""
        return self.branching.m if self.branching is not None else _NAN

    def summary(self) -> dict[str, Any]:
        """The scalar numbers, flat (one table row); NaN where not measured."""
        br, res, rep = self.branching, self.branching_residual, self.report
        return {
            "theta": self.theta,
            "percentile": _NAN if self.percentile is None else self.percentile,
            "count_threshold": self.count_threshold,
            "n_sequences": self.n_sequences,
            "n_steps": self.n_steps,
            "n_units": self.n_units,
            "n_silent": self.n_silent,
            "mean_active": self.mean_active,
            "fraction_above": self.fraction_above,
            "n_avalanches": self.avalanches.n,
            "n_censored": self.avalanches.n_censored,
            "m": self.m,
            "m_stderr": br.m_stderr if br is not None else _NAN,
            "m_b": br.b if br is not None else _NAN,
            "m_success": bool(br.success) if br is not None else False,
            "m_valid": _valid(br),
            "m_reasons": _reasons(br),
            "kmax": br.kmax if br is not None else 0,
            "m_residual": res.m if res is not None else _NAN,
            "m_residual_stderr": res.m_stderr if res is not None else _NAN,
            "m_residual_success": bool(res.success) if res is not None else False,
            "m_residual_b": res.b if res is not None else _NAN,
            "m_residual_valid": _valid(res),
            "tau": rep.tau if rep is not None else _NAN,
            "tau_err": rep.tau_err if rep is not None else _NAN,
            "alpha": rep.alpha if rep is not None else _NAN,
            "alpha_err": rep.alpha_err if rep is not None else _NAN,
            "inv_snz_fitted": rep.inv_snz_fitted if rep is not None else _NAN,
            "inv_snz_predicted": rep.inv_snz_predicted if rep is not None else _NAN,
            "sizes_power_law": bool(rep.sizes_verdict.plausible)
            if rep is not None and rep.sizes_verdict is not None
            else False,
            "durations_power_law": bool(rep.durations_verdict.plausible)
            if rep is not None and rep.durations_verdict is not None
            else False,
            "psd_beta": self.psd.beta if self.psd is not None else _NAN,
            "dfa_h": self.dfa.exponent if self.dfa is not None else _NAN,
        }

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe: the summary, the nested results and the notes."""
        out = self.summary()
        out["percentile"] = self.percentile
        out.update(
            zscore=self.zscore,
            coefficients=self.coefficients,
            n_constant_sequences=self.n_constant_sequences,
            seed=self.seed,
            avalanches=self.avalanches.to_dict(),
            branching=None if self.branching is None else self.branching.to_dict(),
            branching_residual=None
            if self.branching_residual is None
            else self.branching_residual.to_dict(),
            report=None if self.report is None else self.report.to_dict(),
            dfa=None if self.dfa is None else self.dfa.to_dict(),
            psd=None if self.psd is None else self.psd.to_dict(),
            notes=list(self.notes),
        )
        return {
            k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in out.items()
        }
