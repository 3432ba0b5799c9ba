"""Finite-size scaling of avalanches in Gaussian deep networks (seed 002, Fig. 2).

For each width N: scan sigma_w^2 = 1 + c/N over offsets c, keep the value whose
log-log duration distribution is straightest, simulate until ``n_avalanches`` complete
avalanches, run the crackling battery; then extrapolate each exponent linearly in 1/N
to N -> infinity and name the nearest universality class.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from crackle._validation import check_choice, check_int, check_real, param_error
from crackle.events.accumulator import AvalancheAccumulator
from crackle.events.avalanches import Avalanches
from crackle.io.atomic import write_json
from crackle.io.rundir import RunDir
from crackle.io.tables import AvalancheWriter
from crackle.stats.crackling import CracklingReport, crackling_report
from crackle.stats.finite_size import (
    FiniteSizeExtrapolation,
    Straightness,
    extrapolate_to_infinite_size,
    straightness,
)
from crackle.stats.powerlaw import PowerLawFit, fit_power_law
from crackle.stats.scaling import ScalingFit, fit_size_duration
from crackle.stats.universality import ClassMatch, nearest_class

__all__ = ["FSSConfig", "FSSResult", "ScanPoint", "WidthResult", "finite_size_scaling"]

_FUNC = "finite_size_scaling"
#: Exponents extrapolated to N -> infinity (keys of ``FSSResult.extrapolations``).
EXPONENTS = (
    "tau",
    "tau_total",
    "alpha",
    "inv_snz_fitted",
    "inv_snz_total",
    "inv_snz_collapse",
)


@dataclass(frozen=True)
class FSSConfig:
    """Parameters of the experiment (defaults: the configuration documented in
    docs/fss.md, under 30 minutes on 2 CPU cores)."""

    widths: tuple[int, ...] = (50, 100, 200, 400, 800)
    depth: int = 400
    offsets: tuple[float, ...] = (0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0)
    n_avalanches: int = 1_000_000
    n_scan: int = 100_000
    q0: float = 1e-3
    sigma_b2: float = 0.0
    activation: str = "tanh"
    method: str = "marginal"
    resample_every: int = 1024
    seed: int = 0
    device: str = "cpu"
    dtype: str = "float32"
    min_tail_fraction: float = 0.1

    def __post_init__(self) -> None:
        if not self.widths:
            raise param_error("widths", _FUNC, "a non-empty list of widths", self.widths)
        for w in self.widths:
            check_int(w, "widths", _FUNC, low=2)
        if len(set(self.widths)) != len(self.widths):
            raise param_error("widths", _FUNC, "distinct widths", self.widths)
        if not self.offsets:
            raise param_error("offsets", _FUNC, "a non-empty list of offsets c", self.offsets)
        for c in self.offsets:
            check_real(c, "offsets", _FUNC, low=-1.0, low_open=True)
        check_int(self.depth, "depth", _FUNC, low=2)
        check_int(self.n_avalanches, "n_avalanches", _FUNC, low=100)
        check_int(self.n_scan, "n_scan", _FUNC, low=100)
        check_real(self.q0, "q0", _FUNC, low=0.0, low_open=True)
        check_real(self.sigma_b2, "sigma_b2", _FUNC, low=0.0)
        check_choice(self.method, "method", _FUNC, ("matrix", "marginal"))
        check_int(self.resample_every, "resample_every", _FUNC, low=1)
        check_int(self.seed, "seed", _FUNC, low=0)
        check_real(self.min_tail_fraction, "min_tail_fraction", _FUNC, low=0.0, high=1.0)

    def sigma_w2(self, width: int, offset: float) -> float:
        """sigma_w^2 = 1 + c / N."""
        return 1.0 + offset / width

    def to_dict(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in self.__dataclass_fields__}
        out["widths"], out["offsets"] = list(self.widths), list(self.offsets)
        return out


@dataclass(frozen=True)
class ScanPoint:
    """One sigma_w^2 of the scan at one width: counts and the duration straightness."""

    width: int
    offset: float
    sigma_w2: float
    n: int
    n_censored: int
    n_empty: int
    durations: Straightness

    def to_dict(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in ("width", "offset", "sigma_w2", "n")}
        out.update(n_censored=self.n_censored, n_empty=self.n_empty)
        out["durations_straightness"] = self.durations.to_dict()
        return out


@dataclass(frozen=True)
class WidthResult:
    """The crackling battery at one width, at the straightest sigma_w^2.

    ``report`` is the crackling report of the excess avalanches: size
    S - q0 T = sum over the avalanche of (q^l - q0), profile q^l - q0 (the area
    between the signal and the threshold; tau = 4/3 and 1/(sigma nu z) = 3/2 for an
    unbiased random walk of q). ``total_fit`` and ``total_scaling`` fit the total size
    S = sum of q^l (SCIENCE.md's definition) and <S>(T) over the same durations.
    """

    width: int
    offset: float
    sigma_w2: float
    scan: tuple[ScanPoint, ...]
    report: CracklingReport = field(repr=False)
    total_fit: PowerLawFit = field(repr=False)
    total_scaling: ScalingFit | None = field(repr=False)
    avalanches: Avalanches = field(repr=False)

    def exponent(self, name: str) -> tuple[float, float]:
        """(value, standard error) of one of ``EXPONENTS``."""
        r, ts = self.report, self.total_scaling
        return {
            "tau": (r.tau, r.tau_err),
            "tau_total": (self.total_fit.alpha, self.total_fit.sigma),
            "alpha": (r.alpha, r.alpha_err),
            "inv_snz_fitted": (r.inv_snz_fitted, r.inv_snz_fitted_err),
            "inv_snz_total": (ts.exponent, ts.stderr) if ts else (float("nan"), float("nan")),
            "inv_snz_collapse": (r.inv_snz_collapse, r.inv_snz_collapse_err),
        }[name]

    def to_dict(self) -> dict[str, Any]:
        return {
            "width": self.width,
            "offset": self.offset,
            "sigma_w2": self.sigma_w2,
            "exponents": {
                k: dict(zip(("value", "err"), self.exponent(k), strict=True)) for k in EXPONENTS
            },
            "scan": [p.to_dict() for p in self.scan],
            "report": self.report.to_dict(),
            "total_size_fit": self.total_fit.to_dict(),
            "total_size_duration": None
            if self.total_scaling is None
            else self.total_scaling.to_dict(),
        }


@dataclass(frozen=True)
class FSSResult:
    """Per-width results, exponents extrapolated to N -> infinity, the nearest class."""

    config: FSSConfig
    widths: tuple[WidthResult, ...]
    extrapolations: dict[str, FiniteSizeExtrapolation]
    nearest: ClassMatch | None
    notes: tuple[str, ...]

    def table(self) -> list[dict[str, float]]:
        """One row per width (and one for N -> infinity): the exponents and errors."""
        rows: list[dict[str, float]] = []
        for w in self.widths:
            row: dict[str, float] = {"width": w.width, "sigma_w2": w.sigma_w2}
            for k in EXPONENTS:
                row[k], row[k + "_err"] = w.exponent(k)
            rows.append(row)
        inf: dict[str, float] = {"width": float("inf"), "sigma_w2": 1.0}
        for k in EXPONENTS:
            e = self.extrapolations.get(k)
            inf[k], inf[k + "_err"] = (e.intercept, e.intercept_err) if e else (np.nan, np.nan)
        rows.append(inf)
        return rows

    def to_dict(self) -> dict[str, Any]:
        return {
            "config": self.config.to_dict(),
            "widths": [w.to_dict() for w in self.widths],
            "extrapolations": {k: v.to_dict() for k, v in self.extrapolations.items()},
            "nearest_class": None if self.nearest is None else self.nearest.to_dict(),
            "notes": list(self.notes),
        }

    def plot(self, fig: Any = None) -> Any:
        """The seed-002 Fig. 2 layout: P(S), P(T), <S>(T), exponents against 1/N,
        the scan, the collapse of the largest width."""
        from crackle.report.fss_figures import fss_figure

        return fss_figure(self, fig=fig)


def _blocks(
    cfg: FSSConfig, width: int, offset: float, start: int
) -> Iterator[tuple[int, Avalanches]]:
    from crackle.sim.gaussian import iter_gaussian_avalanches

    # Far more inputs than needed: blocks are whole (so the scan's blocks are the first
    # blocks of the main run, reused), and the caller stops when it has enough.
    n_cap = 10**12
    return iter_gaussian_avalanches(
        width,
        cfg.depth,
        cfg.sigma_w2(width, offset),
        cfg.sigma_b2,
        n_cap,
        q0=cfg.q0,
        resample_every=cfg.resample_every,
        activation=cfg.activation,
        seed=_point_seed(cfg.seed, width, offset),
        device=cfg.device,
        dtype=cfg.dtype,
        method=cfg.method,
        start_draw=start,
        sizes="excess",
    )


def _point_seed(seed: int, width: int, offset: float) -> int:
    # One stream per (width, offset), whatever else the experiment runs.
    ss = np.random.SeedSequence([seed, width, round(offset * 1_000_000)])
    return int(ss.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))


def _simulate(
    cfg: FSSConfig,
    width: int,
    offset: float,
    *,
    until_inputs: int | None = None,
    until_complete: int | None = None,
    acc: AvalancheAccumulator,
    start: int = 0,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Feed whole blocks into ``acc`` until enough inputs or complete avalanches;
    return the next block index."""
    inputs, nxt = 0, start
    for d, chunk in _blocks(cfg, width, offset, start):
        nxt = d + 1
        acc.update(chunk)
        inputs += chunk.n + chunk.n_censored + chunk.n_empty
        if progress is not None:
            progress(chunk.n)
        if until_inputs is not None and inputs >= until_inputs:
            break
        if until_complete is not None and acc.n >= until_complete:
            break
    return nxt


def _scan_point(cfg: FSSConfig, width: int, offset: float, av: Avalanches) -> ScanPoint:
    return ScanPoint(
        width,
        offset,
        cfg.sigma_w2(width, offset),
        av.n,
        av.n_censored,
        av.n_empty,
        straightness(av.durations, discrete=True),
    )


def _width(
    cfg: FSSConfig, width: int, run: RunDir | None, progress: Callable[[int], None] | None
) -> WidthResult:
    sub = None if run is None else RunDir.create(run.path / "widths" / f"N{width}")
    if sub is not None and sub.report.exists() and sub.avalanches.exists():
        return _load_width(cfg, width, sub)
    scans: list[ScanPoint] = []
    kept: dict[float, tuple[AvalancheAccumulator, int]] = {}
    for c in cfg.offsets:
        acc = AvalancheAccumulator(max_shape_duration=cfg.depth)
        nxt = _simulate(cfg, width, c, until_inputs=cfg.n_scan, acc=acc, progress=progress)
        scans.append(_scan_point(cfg, width, c, acc.compute()))
        kept[c] = (acc, nxt)
    best = min(scans, key=lambda p: p.durations.rms)
    acc, nxt = kept[best.offset]
    del kept
    if acc.n < cfg.n_avalanches:
        _simulate(
            cfg,
            width,
            best.offset,
            until_complete=cfg.n_avalanches,
            acc=acc,
            start=nxt,
            progress=progress,
        )
    info = {"width": width, "sigma_w2": best.sigma_w2, "q0": cfg.q0, "depth": cfg.depth}
    av = replace(acc.compute(), info=info)
    result = _analyse(cfg, width, best.offset, tuple(scans), av)
    if sub is not None:
        _save_width(cfg, result, sub)
    return result


def _tail_range(x: np.ndarray, fraction: float) -> tuple[float, float]:
    # x_min is searched only where the tail keeps at least `fraction` of the data: at
    # 10^6 avalanches the unrestricted KS criterion prefers a steep far tail of a few
    # hundred avalanches beyond the finite-size cut-off.
    return float(x.min()), float(np.quantile(x, 1.0 - fraction))


def _analyse(
    cfg: FSSConfig, width: int, offset: float, scans: tuple[ScanPoint, ...], av: Avalanches
) -> WidthResult:
    f = cfg.min_tail_fraction
    rep = crackling_report(
        av,
        discrete_sizes=False,
        size_xmin=_tail_range(av.sizes, f),
        duration_xmin=_tail_range(av.durations, f),
    )
    total = av.sizes + cfg.q0 * av.durations  # S = sum of q^l
    total_fit = fit_power_law(total, discrete=False, xmin=_tail_range(total, f))
    try:
        tmin = rep.scaling.tmin if rep.scaling is not None else 1
        total_scaling: ScalingFit | None = fit_size_duration(total, av.durations, tmin=tmin)
    except ValueError:
        total_scaling = None
    return WidthResult(
        width, offset, cfg.sigma_w2(width, offset), scans, rep, total_fit, total_scaling, av
    )


def _save_width(cfg: FSSConfig, result: WidthResult, sub: RunDir) -> None:
    from crackle.report.figures import save_report_figures

    sub.write_config({"experiment": "fss", **cfg.to_dict(), "width": result.width})
    write_json(sub.path / "scan.json", [p.to_dict() for p in result.scan])
    with AvalancheWriter(sub.avalanches) as writer:
        writer.write(result.avalanches)
    if result.avalanches.shapes is not None:
        sub.write_shapes(result.avalanches.shapes)
    save_report_figures(result.report, sub.figures)
    sub.write_report(result.to_dict())  # written last: its presence marks the width done


def _load_width(cfg: FSSConfig, width: int, sub: RunDir) -> WidthResult:
    import json

    from crackle.report.run import load_run_avalanches

    stored = json.loads(sub.config.read_text())["parameters"]
    mine = {"experiment": "fss", **cfg.to_dict(), "width": width}
    if stored != json.loads(json.dumps(mine)):
        raise FileExistsError(
            f"{sub.path} holds a width computed with other parameters; use another --out "
            "or remove it"
        )
    report = json.loads(sub.report.read_text())
    scans = tuple(
        ScanPoint(
            p["width"],
            p["offset"],
            p["sigma_w2"],
            p["n"],
            p["n_censored"],
            p["n_empty"],
            Straightness(**p["durations_straightness"]),
        )
        for p in report["scan"]
    )
    av = load_run_avalanches(sub)
    return _analyse(cfg, width, report["offset"], scans, av)


def finite_size_scaling(
    config: FSSConfig | None = None,
    *,
    out: str | Path | None = None,
    progress: Callable[[str, int], None] | None = None,
) -> FSSResult:
    """Run the finite-size-scaling experiment of seed 002, Fig. 2.

    For each width N of ``config.widths``: simulate ``n_scan`` inputs at each
    sigma_w^2 = 1 + c/N (c in ``config.offsets``, sigma_b^2 = ``config.sigma_b2``),
    keep the c whose complete-duration distribution is straightest on log-log axes
    (smallest :func:`~crackle.stats.finite_size.straightness` rms), continue that
    simulation (its scan blocks are reused) until ``n_avalanches`` complete avalanches,
    and run :func:`~crackle.crackling_report` on the excess avalanches (size
    S - q0 T, profiles q^l - q0; x_min searched where the tail keeps at least
    ``min_tail_fraction`` of the avalanches) plus fits of the total size S. Then fit
    each exponent linearly against 1/N
    (:func:`~crackle.stats.finite_size.extrapolate_to_infinite_size`) and name the
    universality class nearest to the extrapolated (tau, alpha, 1/(sigma nu z)).

    Parameters
    ----------
    config : FSSConfig, optional
        The experiment; default :class:`FSSConfig()`.
    out : path, optional
        Run directory. Each finished width is written to ``out/widths/N<width>/``
        (config, scan, avalanches, shapes, report, figures) and skipped when the
        experiment is run again, so an interrupted run resumes at the width it was on.
    progress : callable, optional
        Called with (stage description, number of new complete avalanches).

    Returns
    -------
    FSSResult

    References
    ----------
    Ghavasieh et al., arXiv 2509.22649 (2025), Fig. 2 and Methods.
    """
    cfg = FSSConfig() if config is None else config
    if not isinstance(cfg, FSSConfig):
        raise param_error("config", _FUNC, "an FSSConfig", cfg)
    run = None if out is None else RunDir.create(out)
    results = []
    for width in sorted(cfg.widths):

        def tick(k: int, w: int = width) -> None:
            if progress is not None:
                progress(f"N = {w}", k)

        results.append(_width(cfg, width, run, tick))
    ext, notes = _extrapolate(results)
    nearest = None
    if all(k in ext for k in ("tau", "alpha", "inv_snz_fitted")):
        nearest = nearest_class(
            tau=ext["tau"].intercept,
            alpha=ext["alpha"].intercept,
            inv_snz=ext["inv_snz_fitted"].intercept,
            tau_err=ext["tau"].intercept_err,
            alpha_err=ext["alpha"].intercept_err,
            inv_snz_err=ext["inv_snz_fitted"].intercept_err,
        )
    result = FSSResult(cfg, tuple(results), ext, nearest, tuple(notes))
    if run is not None:
        run.write_config({"experiment": "fss", **cfg.to_dict()})
        write_json(run.path / "fss.json", result.to_dict())
    return result


def _extrapolate(
    results: list[WidthResult],
) -> tuple[dict[str, FiniteSizeExtrapolation], list[str]]:
    ext: dict[str, FiniteSizeExtrapolation] = {}
    notes: list[str] = []
    if len(results) < 2:
        return ext, ["one width only: no extrapolation to N -> infinity"]
    for name in EXPONENTS:
        vals = np.array([r.exponent(name) for r in results])
        ok = np.isfinite(vals).all(axis=1) & (vals[:, 1] > 0)
        if ok.sum() < 2:
            notes.append(f"{name}: fewer than two widths with a value; not extrapolated")
            continue
        sizes = np.array([r.width for r in results], dtype=float)[ok]
        ext[name] = extrapolate_to_infinite_size(sizes, vals[ok, 0], vals[ok, 1])
    return ext, notes
