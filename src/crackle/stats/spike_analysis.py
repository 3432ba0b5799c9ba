"""A spike recording end to end: bin, avalanches, crackling report, MR, measures, nulls.

:func:`analyze_spikes` is what ``crackle analyze spikes.csv --bin iei`` runs; it
returns a :class:`SpikeAnalysis` whose ``to_dict`` is the run's report. The
surrogates (:mod:`crackle.events.surrogates`) go through the same binning, avalanche
extraction, crackling report and MR as the data, so the report shows where the data
sits against them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from crackle._random import SeedLike, as_generator, seed_repr
from crackle._validation import check_choice, check_int, param_error
from crackle.events.avalanches import avalanches_from_counts
from crackle.events.spikes import BinnedSpikes, Spikes, bin_spikes
from crackle.events.surrogates import isi_shuffle, poisson_surrogate, shuffle_counts
from crackle.stats.branching import BranchingRatioResult, branching_ratio
from crackle.stats.crackling import CracklingReport, crackling_report
from crackle.stats.neural import BinScan, exponents_vs_bin, fano_factor, shew_kappa, susceptibility

__all__ = ["NULL_KINDS", "SpikeAnalysis", "analyze_spikes", "verdict_of"]

NULL_KINDS = ("poisson", "isi_shuffle", "time_shuffle")


def verdict_of(rep: CracklingReport) -> str:
    """The crackling report's verdict: its ``verdict.outcome`` where it has one."""
    verdict = getattr(rep, "verdict", None)
    outcome = getattr(verdict, "outcome", None)
    if isinstance(outcome, str):
        return outcome
    return "critical" if rep.critical else "not critical"


def _dcc(rep: CracklingReport) -> float:
    dcc = getattr(rep, "dcc", None)
    if isinstance(dcc, int | float):
        return float(dcc)
    return float(abs(rep.scaling_mismatch))


def _clean(v: Any) -> Any:
    if isinstance(v, float) and not np.isfinite(v):
        return None
    return v


def _row(counts: Any, n_units: int, kmax: int | None, report_kwargs: dict[str, Any]) -> dict:
    """The quantities compared between data and nulls, for one series of counts."""
    av = avalanches_from_counts(counts)
    row: dict[str, Any] = {"n_avalanches": int(av.n)}
    rep = None
    failed = "too few avalanches"
    if av.n >= 20 and np.ptp(av.sizes) > 0:
        try:
            rep = crackling_report(av, **{"collapse": False, **report_kwargs})
        except ValueError as exc:  # a degenerate fit (e.g. all durations 1)
            failed = f"no report: {exc}"
    if rep is not None:
        row |= {
            "tau": rep.tau,
            "alpha": rep.alpha,
            "dcc": _dcc(rep),
            "verdict": verdict_of(rep),
            "kappa": shew_kappa(av.sizes),
        }
    else:
        row |= {"tau": np.nan, "alpha": np.nan, "dcc": np.nan, "verdict": failed, "kappa": np.nan}
    try:
        mr = branching_ratio(counts, kmax=kmax, n_boot=0)
        row |= {"m": mr.m, "mr_valid": mr.valid}
    except ValueError:
        row |= {"m": np.nan, "mr_valid": False}
    row["fano"] = fano_factor(counts)
    row["susceptibility"] = susceptibility(counts, n_units)
    return {k: _clean(v) for k, v in row.items()}


@dataclass(frozen=True)
class SpikeAnalysis:
    """Everything :func:`analyze_spikes` found.

    Attributes
    ----------
    spikes : dict
        Summary of the recording (``Spikes.to_dict``).
    binned : BinnedSpikes
        The pooled counts at the chosen width.
    report : CracklingReport
        The crackling report of the avalanches of the pooled counts.
    mr : BranchingRatioResult
        Multistep regression on the pooled counts, with its consistency checks.
    scan : BinScan
        Exponents against the bin width.
    measures : dict
        Fano factor (pooled counts, and the mean over units), Shew's kappa,
        susceptibility, DCC and the verdict of the report.
    nulls : dict
        For each surrogate kind, a list of rows (one per surrogate) with tau, alpha,
        DCC, verdict, kappa, m, Fano factor, susceptibility; ``data`` holds the same
        row for the recording.
    seed : int, str or None
        Record of the surrogates' seed.
    """

    spikes: dict[str, Any]
    binned: BinnedSpikes = field(repr=False)
    report: CracklingReport = field(repr=False)
    mr: BranchingRatioResult = field(repr=False)
    scan: BinScan = field(repr=False)
    measures: dict[str, Any]
    nulls: dict[str, list[dict[str, Any]]] = field(repr=False)
    seed: int | str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe report (NaN as None)."""
        return {
            "spikes": self.spikes,
            "binning": self.binned.to_dict(),
            "crackling": self.report.to_dict(),
            "branching_ratio": self.mr.to_dict(),
            "exponents_vs_bin": self.scan.to_dict(),
            "measures": {k: _clean(v) for k, v in self.measures.items()},
            "nulls": self.nulls,
            "seed": self.seed,
        }

    def summary(self) -> list[tuple[str, str, str]]:
        """Rows (quantity, value, comment) for a printed table."""
        mr = self.mr
        ms = self.measures
        rows = [
            (
                "spikes",
                f"{self.spikes['n_spikes']}",
                f"{self.spikes['n_units']} units, {self.spikes['duration']:.4g} time units",
            ),
            (
                "bin width",
                f"{self.binned.width:.4g}",
                f"{self.binned.width_rule}; mean IEI {self.binned.iei:.4g}",
            ),
            (
                "m (MR)",
                f"{mr.m:.4f} ± {mr.m_stderr:.4f}" if np.isfinite(mr.m_stderr) else f"{mr.m:.4f}",
                f"{mr.coefficients}/{mr.fit}, tau = {mr.tau:.4g}",
            ),
            (
                "MR checks",
                "valid" if mr.valid else "not valid",
                "; ".join(mr.reason_names) or "all passed",
            ),
            ("kappa", f"{ms['kappa']:.3f}", "Shew et al. 2009; ~1 at criticality"),
            (
                "Fano factor",
                f"{ms['fano_pooled']:.3g}",
                f"pooled; units' mean {ms['fano_units_mean']:.3g}",
            ),
            ("susceptibility", f"{ms['susceptibility']:.4g}", "Var(A)/N"),
            ("DCC", f"{ms['dcc']:.3f}", "|fitted - predicted| 1/(σνz)"),
            ("verdict", ms["verdict"], "crackling report"),
        ]
        data = self.nulls.get("data", [{}])[0]
        for kind, rows_ in self.nulls.items():
            if kind == "data" or not rows_:
                continue
            rows.append((f"null: {kind}", _null_text(rows_), _where(data, rows_)))
        return rows


def _null_text(rows: list[dict[str, Any]]) -> str:
    def med(key: str) -> str:
        v = [r[key] for r in rows if r.get(key) is not None]
        return f"{np.median(v):.3g}" if v else "n/a"

    crit = sum(r.get("verdict") == "critical" for r in rows)
    valid = sum(bool(r.get("mr_valid")) for r in rows)
    n = len(rows)
    return f"tau {med('tau')}, m {med('m')} (MR valid {valid}/{n}), {crit}/{n} critical"


def _where(data: dict[str, Any], rows: list[dict[str, Any]]) -> str:
    parts = []
    for key in ("tau", "m", "kappa"):
        v = [r[key] for r in rows if r.get(key) is not None]
        if data.get(key) is None or not v:
            continue
        lo, hi = min(v), max(v)
        inside = lo <= data[key] <= hi
        parts.append(f"{key} {'inside' if inside else 'outside'} [{lo:.3g}, {hi:.3g}]")
    return "data: " + ", ".join(parts) if parts else ""


def analyze_spikes(
    spikes: Spikes,
    width: float | str = "iei",
    *,
    factors: Sequence[float] = (0.25, 0.5, 1.0, 2.0, 4.0),
    coefficients: str = "ts",
    fit: str = "exp",
    kmax: int | None = None,
    n_boot: int = 100,
    nulls: Sequence[str] = NULL_KINDS,
    n_surrogates: int = 3,
    seed: SeedLike = 0,
    **report_kwargs: Any,
) -> SpikeAnalysis:
    """Criticality analysis of a spike recording, with surrogate nulls.

    Bins the pooled train (``width``: a number or ``"iei"``, the mean inter-event
    interval), extracts avalanches of the pooled counts, runs the crackling report,
    MR (with its consistency checks) on the pooled counts, Fano factor, Shew's kappa
    and the susceptibility, the exponents against ``factors`` x the IEI, and the same
    pipeline on ``n_surrogates`` surrogates of every kind in ``nulls``: ``"poisson"``
    (each unit's rate), ``"isi_shuffle"`` (each unit's ISIs permuted),
    ``"time_shuffle"`` (the pooled counts' bins permuted).

    Parameters
    ----------
    spikes : Spikes
        The recording.
    width : float or "iei"
        Bin width.
    factors : sequence of float
        Widths of the scan, in units of the IEI.
    coefficients, fit, kmax, n_boot
        Passed to :func:`crackle.branching_ratio` for the data.
    nulls : sequence of str
        Surrogate kinds (empty: none).
    n_surrogates : int
        Surrogates of each kind.
    seed : int, numpy.random.Generator or None
        Surrogates and bootstrap.
    **report_kwargs
        Passed to :func:`crackle.crackling_report`.

    Returns
    -------
    SpikeAnalysis

    References
    ----------
    Beggs & Plenz, J. Neurosci. 23, 11167 (2003); Shew et al., J. Neurosci. 29, 15595
    (2009); Wilting & Priesemann, Nat. Commun. 9, 2325 (2018).
    """
    func = "analyze_spikes"
    if not isinstance(spikes, Spikes):
        raise param_error("spikes", func, "a Spikes object (see read_spikes)", spikes)
    kinds = [check_choice(k, "nulls", func, NULL_KINDS) for k in nulls]
    n_surrogates = check_int(n_surrogates, "n_surrogates", func, low=0)
    rng = as_generator(seed, func)
    binned = bin_spikes(spikes, width)
    counts = binned.counts
    av = avalanches_from_counts(counts)
    if av.n < 20:
        raise param_error(
            "spikes",
            func,
            "a recording with at least 20 complete avalanches at this bin width (try a "
            "narrower bin)",
            f"{av.n} avalanche(s) at width {binned.width:g}",
        )
    rep = crackling_report(av, **report_kwargs)
    mr = branching_ratio(
        counts,
        coefficients=coefficients,
        fit=fit,
        kmax=kmax,
        n_boot=n_boot,
        dt=binned.width,
        seed=rng,
    )
    scan = exponents_vs_bin(spikes, factors, **report_kwargs)
    raster = bin_spikes(spikes, binned.width, raster=True).counts
    fano_units = fano_factor(raster[raster.sum(axis=1) > 0])
    measures = {
        "fano_pooled": fano_factor(counts),
        "fano_units_mean": float(np.nanmean(fano_units)) if np.size(fano_units) else np.nan,
        "kappa": shew_kappa(av.sizes) if np.ptp(av.sizes) > 0 else np.nan,
        "susceptibility": susceptibility(counts, spikes.n_units),
        "dcc": _dcc(rep),
        "verdict": verdict_of(rep),
    }
    kmax_used = mr.kmax
    table: dict[str, list[dict[str, Any]]] = {
        "data": [_row(counts, spikes.n_units, kmax_used, report_kwargs)]
    }
    for kind in kinds:
        rows = []
        for _ in range(n_surrogates):
            if kind == "time_shuffle":
                c: Any = shuffle_counts(counts, seed=rng)
            else:
                sur = (poisson_surrogate if kind == "poisson" else isi_shuffle)(spikes, seed=rng)
                c = bin_spikes(sur, binned.width).counts
            rows.append(_row(c, spikes.n_units, kmax_used, report_kwargs))
        table[kind] = rows
    return SpikeAnalysis(
        spikes=spikes.to_dict(),
        binned=binned,
        report=rep,
        mr=mr,
        scan=scan,
        measures=measures,
        nulls=table,
        seed=seed_repr(seed),
    )
