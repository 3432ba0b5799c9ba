"""Finite-size scaling of avalanches in Gaussian deep networks (seed 002, Fig. 2).

For each width N: scan sigma_w^2 = 1 + c/N over offsets c, keep the value whose
log-log duration distribution is straightest, simulate until ``n_avalanches`` complete
avalanches, run the crackling battery; then extrapolate each exponent linearly in 1/N
to N -> infinity and name the nearest universality class.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from crackle._validation import CrackleValueError, param_error
from crackle.events.accumulator import AvalancheAccumulator
from crackle.events.avalanches import Avalanches
from crackle.experiments._fss_results import (
    _FUNC,
    EXPONENTS,
    FSSConfig,
    FSSResult,
    ScanPoint,
    WidthResult,
)
from crackle.io.atomic import write_json
from crackle.io.rundir import RunDir
from crackle.io.tables import AvalancheWriter
from crackle.stats.crackling import crackling_report, xmin_window
from crackle.stats.finite_size import (
    FiniteSizeExtrapolation,
    Straightness,
    extrapolate_to_infinite_size,
    straightness,
)
from crackle.stats.powerlaw import fit_power_law
from crackle.stats.scaling import ScalingFit, fit_size_duration
from crackle.stats.universality import nearest_class

__all__ = [
    "EXPONENTS",
    "FSSConfig",
    "FSSResult",
    "ScanPoint",
    "WidthResult",
    "finite_size_scaling",
]


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
    try:
        durations = straightness(av.durations, discrete=True)
    except CrackleValueError:
        # Too few durations spread over 4 logarithmic bins (a short scan, a shallow or
        # strongly ordered network): this sigma_w^2 cannot be judged, and is not chosen.
        durations = _UNJUDGED
    return ScanPoint(
        width, offset, cfg.sigma_w2(width, offset), av.n, av.n_censored, av.n_empty, durations
    )


_UNJUDGED = Straightness(math.inf, math.nan, math.nan, math.nan, math.nan, 0)


def _straightness_from_json(d: dict[str, Any]) -> Straightness:
    # JSON has no inf or NaN (written as null): an unjudged point reads back as one.
    unjudged = _UNJUDGED.to_dict()
    return Straightness(**{k: (unjudged[k] if v is None else v) for k, v in d.items()})


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
    if not math.isfinite(best.durations.rms):
        raise param_error(
            "n_scan",
            _FUNC,
            "enough inputs (or depth) for the durations at some scanned sigma_w^2 to "
            f"spread over 4 logarithmic bins with 10 values each (width {width})",
            cfg.n_scan,
        )
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


def _analyse(
    cfg: FSSConfig, width: int, offset: float, scans: tuple[ScanPoint, ...], av: Avalanches
) -> WidthResult:
    # x_min is searched only where the tail keeps at least min_tail_fraction of the
    # avalanches: at 10^6 avalanches the unrestricted KS criterion prefers a steep far
    # tail of a few hundred avalanches beyond the finite-size cut-off.
    f = cfg.min_tail_fraction
    rep = crackling_report(av, discrete_sizes=False, min_tail_fraction=f)
    total = av.sizes + cfg.q0 * av.durations  # S = sum of q^l
    total_fit = fit_power_law(total, discrete=False, xmin=xmin_window(total, f))
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

    sub.claim({"experiment": "fss", **cfg.to_dict(), "width": width})
    report = json.loads(sub.report.read_text())
    scans = tuple(
        ScanPoint(
            p["width"],
            p["offset"],
            p["sigma_w2"],
            p["n"],
            p["n_censored"],
            p["n_empty"],
            _straightness_from_json(p["durations_straightness"]),
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
