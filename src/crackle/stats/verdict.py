"""Judging criticality: is each distribution a power law, and does everything agree?

The crackling report's judgement is built from checks, each ``"pass"``, ``"fail"`` or
``"unknown"`` with its reason in words, and is calibrated on ground truths and nulls
(``benchmarks/bench_verdict.py``; ``docs/crackling.md`` gives the shares it gets
right). This module holds the parts that work on one distribution
(:func:`judge_power_law`: stable window, goodness of fit, alternatives) and on the
censored avalanches (:func:`censoring_check`), and the final rule
(:func:`combine_checks`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from scipy import stats

from crackle.stats import _powerlaw_core as core
from crackle.stats._powerlaw_gof import ks_fixed_window
from crackle.stats.powerlaw import PowerLawFit, fit_power_law
from crackle.stats.windows import WindowScan, scan_power_law

__all__ = ["Check", "PowerLawVerdict", "Verdict"]

#: A window is accepted when the bootstrap goodness-of-fit p-value reaches this
#: (Clauset, Shalizi & Newman 2009 rule out a power law below 0.1).
P_ACCEPT = 0.1
#: An alternative (exponential, lognormal, exponentially truncated power law) that
#: beats the power law with a p-value below this counts against it.
P_ALTERNATIVE = 1e-3
#: A window must span this many decades before a power law is called established.
MIN_DECADES = 1.5
#: The size window must hold at least this share of the complete avalanches: a power
#: law that describes only the largest per cent or two of the sizes is what
#: heavy-tailed non-critical laws (lognormal, stretched exponential) also give, at any
#: sample size (0.1-1.9% in the calibration benchmark; critical branching processes
#: 1-60%).
MIN_SIZE_SHARE = 0.02
#: Fewer complete avalanches than this are too few to judge.
N_JUDGE = 10_000
#: Bootstrap replicates are run in batches of this size, stopping early once the
#: answer is clear.
GOF_BATCH = 20

OUTCOMES = ("critical", "not critical", "inconclusive")


@dataclass(frozen=True)
class Check:
    """One part of the verdict: ``status`` is ``"pass"``, ``"fail"`` or ``"unknown"``."""

    name: str
    status: str
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "status": self.status, "detail": self.detail}


@dataclass(frozen=True)
class Verdict:
    """Critical, not critical, or inconclusive, with the reasons.

    Attributes
    ----------
    outcome : {"critical", "not critical", "inconclusive"}
        "not critical" when any check fails; otherwise "inconclusive" when a required
        check could not be made (too few avalanches, too short a range); otherwise
        "critical".
    reasons : tuple of str
        The failed checks (or the unknown ones, or all of them when critical).
    checks : tuple of Check
        Every check made, in order.
    n_needed : int or None
        With too few avalanches, about how many a judgement needs.
    """

    outcome: str
    reasons: tuple[str, ...]
    checks: tuple[Check, ...]
    n_needed: int | None = None

    @property
    def critical(self) -> bool:
        return self.outcome == "critical"

    def __str__(self) -> str:
        return f"{self.outcome}: " + "; ".join(self.reasons)

    def to_dict(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome,
            "reasons": list(self.reasons),
            "checks": [c.to_dict() for c in self.checks],
            "n_needed": self.n_needed,
        }


@dataclass(frozen=True)
class PowerLawVerdict:
    """Is this distribution's tail a power law, over which window?

    ``status`` is ``"pass"`` (a window that passes the bootstrap goodness of fit,
    where the exponent is stable, spanning at least ``MIN_DECADES`` decades, with no
    alternative decisively better), ``"fail"`` (the exponent drifts with x_min, no
    window passes the goodness of fit, or an alternative wins decisively) or
    ``"unknown"`` (too little data or too short a range to tell). ``plausible`` is
    ``status == "pass"``.
    """

    status: str
    decades: float
    R_exponential: float
    p_exponential: float
    R_lognormal: float
    p_lognormal: float
    R_truncated: float
    p_truncated: float
    gof_p: float | None
    gof_n_boot: int
    reason: str

    @property
    def plausible(self) -> bool:
        return self.status == "pass"

    def _repr_html_(self) -> str:
        """The status, the decades covered and the likelihood-ratio tests (Jupyter's
        display)."""
        from crackle._display import repr_html

        fields: list[Any] = [
            ("status", "status", None, None),
            ("decades", "decades of the window", None, None),
            ("gof_p", "goodness of fit p", None, None),
        ]
        for alt, name in (("exponential", "exponential"), ("lognormal", "lognormal"),
                          ("truncated", "truncated power law")):  # fmt: skip
            fields += [(f"R_{alt}", f"R against {name} (> 0 favours the power law)", None, None),
                       (f"p_{alt}", f"p of R against {name}", None, None)]  # fmt: skip
        return repr_html(self, "is the tail a power law?", fields, note=self.reason)

    def to_dict(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in self.__dataclass_fields__}
        out["plausible"] = self.plausible
        return {
            k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in out.items()
        }


def _sequential_gof(fit: PowerLawFit, n_boot: int, rng: np.random.Generator) -> tuple[float, int]:
    """Bootstrap p-value at a fixed window, in batches, stopping once it is clear.

    Stops after a batch when no replicate so far reached the observed distance and at
    least ``GOF_BATCH`` ran (p below 1/20: the window is left for a higher x_min), or
    when the share reached is three times ``P_ACCEPT`` or more.
    """
    ks: list[float] = []
    while len(ks) < n_boot:
        b = min(GOF_BATCH, n_boot - len(ks))
        ks += list(ks_fixed_window(fit, b, rng))
        arr = np.asarray(ks)
        arr = arr[np.isfinite(arr)]
        if arr.size == 0:
            continue
        share = float(np.mean(arr >= fit.ks))
        if share == 0.0 or share >= 3 * P_ACCEPT:
            break
    arr = np.asarray(ks)
    arr = arr[np.isfinite(arr)]
    return (float(np.mean(arr >= fit.ks)) if arr.size else float("nan")), len(ks)


def judge_power_law(
    x: np.ndarray,
    *,
    discrete: bool,
    xmax: float | None,
    quantity: str,
    xmin: Any,
    low_range: tuple[float, float] | None,
    n_boot: int,
    rng: np.random.Generator,
    min_share: float = 0.0,
) -> tuple[PowerLawFit, WindowScan, PowerLawVerdict]:
    """Choose the fitting window of one distribution and judge its power law.

    ``xmin``: ``"auto"`` (the smallest x_min of the stable window whose bootstrap
    goodness of fit reaches ``P_ACCEPT``, scanning upward; with ``n_boot = 0`` the
    start of the stable window), ``"ks"`` (Clauset et al.'s minimal KS distance) or a
    number (fixed). A window holding less than ``min_share`` of ``x`` leaves the
    verdict unknown. Returns the fit at the chosen window, the window scan (with the
    systematic error at that window) and the verdict.
    """
    used = x if xmax is None else x[x <= xmax]
    scan = scan_power_law(
        used, discrete=discrete, xmax=xmax, quantity=quantity, low_range=low_range
    )
    drift = not scan.stable and scan.lows.size > 0
    gof_p: float | None = None
    n_run = 0
    if isinstance(xmin, str) and xmin == "auto" and scan.stable:
        chosen = scan.low
        if n_boot > 0:
            for low in scan.lows[scan.chosen :]:
                fit = fit_power_law(used, discrete=discrete, xmin=float(low), xmax=xmax)
                gof_p, n_run = _sequential_gof(fit, n_boot, rng)
                chosen = float(low)
                if gof_p >= P_ACCEPT:
                    break
        fit = fit_power_law(used, discrete=discrete, xmin=chosen, xmax=xmax)
    elif isinstance(xmin, str):
        # "ks", or "auto" without a stable window: Clauset et al.'s choice, for the record.
        rng_arg = low_range if low_range is not None else "auto"
        fit = fit_power_law(used, discrete=discrete, xmin=rng_arg, xmax=xmax)
        if n_boot > 0:
            gof_p, n_run = _sequential_gof(fit, n_boot, rng)
    else:
        fit = fit_power_law(used, discrete=discrete, xmin=xmin, xmax=xmax)
        if n_boot > 0:
            gof_p, n_run = _sequential_gof(fit, n_boot, rng)
    if scan.lows.size:
        first = scan
        scan = scan_power_law(
            used, discrete=discrete, xmax=xmax, quantity=quantity, fixed_low=fit.xmin
        )
        how = (
            f"stable from {first.low:g}"
            if first.stable
            else "no stable window: the exponent drifts"
        )
        gof = "" if gof_p is None else f", bootstrap p = {gof_p:.2g}"
        scan = replace(scan, message=f"window from {fit.xmin:g} ({how}{gof})")
    upper = fit.xmax if fit.xmax is not None else float(used.max())
    decades = float(np.log10(upper / fit.xmin)) if upper > fit.xmin else 0.0
    r_exp, p_exp = fit.compare("exponential")
    r_ln, p_ln = fit.compare("lognormal")
    tpl = fit.compare("truncated_power_law")
    lam = float(tpl.params.get("lambda", 0.0))
    status, reason = "pass", f"power law over {decades:.2f} decades from x_min = {fit.xmin:g}"
    if drift:
        status, reason = "fail", "the exponent drifts with x_min (no stable window)"
    elif gof_p is not None and gof_p < P_ACCEPT:
        status = "fail"
        reason = (
            f"no window from x_min = {scan.low if scan.stable else fit.xmin:g} up passes the "
            f"bootstrap goodness of fit (last p = {gof_p:.2g})"
        )
    elif r_exp < 0 and p_exp < P_ALTERNATIVE:
        status, reason = "fail", f"an exponential fits better (R = {r_exp:.2f}, p = {p_exp:.2g})"
    elif r_ln < 0 and p_ln < P_ALTERNATIVE:
        status, reason = "fail", f"a lognormal fits better (R = {r_ln:.2f}, p = {p_ln:.2g})"
    elif tpl.R < 0 and tpl.p < P_ALTERNATIVE and lam > 0:
        status = "fail"
        reason = f"an exponential cut-off is significant (R = {tpl.R:.2f}, p = {tpl.p:.2g})"
    elif not scan.stable:
        status, reason = "unknown", f"too little data for a window: {scan.message}"
    elif fit.n_tail < min_share * x.size:
        status = "unknown"
        reason = (
            f"the power law from x_min = {fit.xmin:g} describes only the largest "
            f"{fit.n_tail / x.size:.1%} of the values (< {min_share:.0%})"
        )
    elif decades < MIN_DECADES:
        status = "unknown"
        reason = f"the power-law window spans only {decades:.2f} decades (< {MIN_DECADES})"
    verdict = PowerLawVerdict(
        status,
        decades,
        float(r_exp),
        float(p_exp),
        float(r_ln),
        float(p_ln),
        float(tpl.R),
        float(tpl.p),
        gof_p,
        n_run,
        reason,
    )
    return fit, scan, verdict


def censoring_check(
    durations_fit: PowerLawFit, censored_durations: np.ndarray, n_censored: int
) -> Check:
    """Are there more censored avalanches than the fitted duration law allows?

    Under P(T) ~ T^-alpha from x_min on, the share of avalanches longer than the
    censoring horizon c (the shortest censored duration) among those from x_min on is
    S(c) = P(T >= c | T >= x_min). Supercritical dynamics produce runaway avalanches,
    many more than that: the check fails when the observed count is at least twice
    the expected one with a Poisson p-value below 1e-3.
    """
    if n_censored == 0:
        return Check("censoring", "pass", "no censored avalanches")
    if censored_durations.size == 0:
        return Check("censoring", "unknown", f"{n_censored} censored, durations not recorded")
    c = float(censored_durations.min())
    f = durations_fit
    if c <= f.xmin:
        return Check(
            "censoring",
            "unknown",
            f"{n_censored} censored avalanches, cut at T = {c:g}, below x_min = {f.xmin:g}",
        )
    a = f.exponent
    if f.discrete:
        lz = core.log_hurwitz(np.array([a, a]), np.array([c, f.xmin]))
        s_c = float(np.exp(lz[0] - lz[1]))
    else:
        s_c = float((c / f.xmin) ** (1.0 - a))
    # Complete avalanches at or above x_min and below c, against censored ones beyond.
    expected = f.n_tail * s_c / max(1.0 - s_c, 1e-300)
    p = float(stats.poisson.sf(n_censored - 1, expected)) if expected > 0 else 0.0
    detail = (
        f"{n_censored} censored at T >= {c:g}; the duration law predicts {expected:.3g} "
        f"(Poisson p = {p:.2g})"
    )
    if n_censored >= 2 * expected and p < 1e-3:
        return Check("censoring", "fail", detail + ": runaway (supercritical) avalanches")
    return Check("censoring", "pass", detail)


def combine_checks(checks: list[Check], n: int) -> Verdict:
    """Any failure: not critical; else any unknown: inconclusive; else critical."""
    fails = [c for c in checks if c.status == "fail"]
    unknown = [c for c in checks if c.status == "unknown"]
    needed = None
    if any(c.name == "data" and c.status == "unknown" for c in checks):
        needed = N_JUDGE
    if fails:
        return Verdict(
            "not critical", tuple(f"{c.name}: {c.detail}" for c in fails), tuple(checks), needed
        )
    if unknown:
        return Verdict(
            "inconclusive", tuple(f"{c.name}: {c.detail}" for c in unknown), tuple(checks), needed
        )
    return Verdict("critical", tuple(f"{c.name}: {c.detail}" for c in checks), tuple(checks))
