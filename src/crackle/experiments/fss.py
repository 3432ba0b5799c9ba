"""Finite-size scaling of avalanches in Gaussian deep networks (Ghavasieh et al. 2025,
arXiv 2509.22649, Fig. 2).

For each width N: scan sigma_w^2 = 1 + c/N over offsets c, keep the value whose
log-log duration distribution is straightest, simulate until ``n_avalanches`` complete
avalanches, run the crackling battery; the offsets nearly as straight (the plateau) give
each exponent a systematic error from the choice of sigma_w^2. Then extrapolate each
exponent linearly in 1/N to N -> infinity, with statistical and systematic errors and
the fit's chi^2/dof, and name the nearest universality class. docs/fss.md.
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
    _source,
    report_exponent,
)
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
        sizes=cfg.sizes,
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
    if sub is not None and sub.config.exists():
        # Begun with other parameters (another size definition, sizes before the
        # width factor N): refused before anything is simulated.
        sub.claim(_width_config(cfg, width))
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
    # The plateau: offsets as straight as the best within the tolerance. Their
    # exponents, each measured on its own scan avalanches, give the systematic error of
    # the choice of sigma_w^2.
    limit = best.durations.rms * (1.0 + cfg.offset_tolerance)
    scans = [
        replace(p, plateau=True, exponents=_scan_exponents(cfg, width, kept[p.offset][0]))
        if p.durations.rms <= limit
        else p
        for p in scans
    ]
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
    info = {
        "width": width,
        "sigma_w2": best.sigma_w2,
        "q0": cfg.q0,
        "depth": cfg.depth,
        "sizes": cfg.sizes,
    }
    av = replace(acc.compute(), info=info)
    result = _analyse(cfg, width, best.offset, tuple(scans), av)
    if sub is not None:
        _save_width(cfg, result, sub)
    return result


def _reports(
    cfg: FSSConfig, width: int, av: Avalanches, *, n_boot: int | None = None
) -> tuple[CracklingReport, CracklingReport]:
    """The crackling report of ``av`` (sizes of ``cfg.sizes``) and, without shapes, of
    the same avalanches' sizes in the other definition (total = excess + N q0 T).

    x_min is searched only where the tail keeps at least min_tail_fraction of the
    avalanches: at 10^6 avalanches the unrestricted KS criterion prefers a steep far
    tail of a few hundred avalanches beyond the finite-size cut-off. ``n_boot=None``:
    the report's default bootstrap; the scan's reports, read for exponents only, skip it.
    """
    f = cfg.min_tail_fraction
    kw: dict[str, Any] = {} if n_boot is None else {"n_boot": n_boot}
    own = crackling_report(av, discrete_sizes=False, min_tail_fraction=f, **kw)
    shift = width * cfg.q0 * av.durations
    other_sizes = av.sizes + shift if cfg.sizes == "excess" else av.sizes - shift
    keep = other_sizes > 0  # always, up to rounding: every layer has q^l > q0
    other_av = Avalanches(other_sizes[keep], av.durations[keep])
    other = crackling_report(
        other_av, discrete_sizes=False, min_tail_fraction=f, collapse=False, n_boot=0
    )
    return own, other


def _exponents_of(cfg: FSSConfig, own: CracklingReport, other: CracklingReport) -> dict[str, float]:
    out = {}
    for name in EXPONENTS:
        which, field_name = _source(name, cfg.sizes)
        out[name] = report_exponent(own if which == "own" else other, field_name)[0]
    return out


def _scan_exponents(cfg: FSSConfig, width: int, acc: AvalancheAccumulator) -> dict[str, float]:
    """The exponents of one plateau offset, on its scan avalanches (NaN where the
    report cannot be made: too few avalanches)."""
    try:
        return _exponents_of(cfg, *_reports(cfg, width, acc.compute(), n_boot=0))
    except ValueError:
        return dict.fromkeys(EXPONENTS, math.nan)


def _offset_sys(scans: tuple[ScanPoint, ...]) -> dict[str, float]:
    """Half the spread of each exponent over the plateau offsets (0 where fewer than
    two of them have a value: the scan grid then does not resolve the choice)."""
    out = {}
    for name in EXPONENTS:
        vals = np.array([p.exponents.get(name, math.nan) for p in scans if p.plateau])
        vals = vals[np.isfinite(vals)]
        out[name] = float(np.ptp(vals) / 2) if vals.size >= 2 else 0.0
    return out


def _analyse(
    cfg: FSSConfig, width: int, offset: float, scans: tuple[ScanPoint, ...], av: Avalanches
) -> WidthResult:
    own, other = _reports(cfg, width, av)
    return WidthResult(
        width,
        offset,
        cfg.sigma_w2(width, offset),
        scans,
        own,
        other,
        av,
        cfg.sizes,
        _offset_sys(scans),
        cfg.q0,
    )


def _width_config(cfg: FSSConfig, width: int) -> dict[str, Any]:
    return {**cfg.run_config(), "width": width}


def _save_width(cfg: FSSConfig, result: WidthResult, sub: RunDir) -> None:
    from crackle.report.figures import save_report_figures

    sub.write_config(_width_config(cfg, result.width))
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

    sub.claim(_width_config(cfg, width))
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
            p["plateau"],
            {k: (math.nan if v is None else v) for k, v in p["exponents"].items()},
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
    """Run the finite-size-scaling experiment of Ghavasieh et al. (2025), Fig. 2.

    For each width N of ``config.widths``: simulate ``n_scan`` inputs at each
    sigma_w^2 = 1 + c/N (c in ``config.offsets``, sigma_b^2 = ``config.sigma_b2``),
    keep the c whose complete-duration distribution is straightest on log-log axes
    (smallest :func:`~crackle.stats.finite_size.straightness` rms), continue that
    simulation (its scan blocks are reused) until ``n_avalanches`` complete avalanches,
    and run :func:`~crackle.crackling_report` on the avalanches in the size definition
    ``config.sizes`` (excess S = N sum (q^l - q0) or total S = N sum q^l, see
    :func:`~crackle.sim.gaussian_avalanches`; x_min searched where the tail keeps at
    least ``min_tail_fraction`` of the avalanches), and a second report, without shapes,
    on the other definition's sizes. Every offset whose straightness rms is within
    ``offset_tolerance`` (relative) of the best is on the plateau; its exponents,
    measured on its own scan avalanches, give each exponent a systematic error from the
    choice of sigma_w^2 (half their spread), added in quadrature to the report's own
    systematic error from the fitting window. Then fit each exponent linearly against
    1/N (:func:`~crackle.stats.finite_size.extrapolate_to_infinite_size`, weights
    1/(stat^2 + sys^2), both errors scaled by sqrt(chi^2/dof) above 1, a note when the
    fit is poor) and name the universality class nearest to the extrapolated
    (tau, alpha, 1/(sigma nu z)) of ``config.sizes``.

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
    Ghavasieh et al., "Toward a Physics of Deep Learning and Brains", arXiv 2509.22649
    (2025), Fig. 2 and Methods.

    Examples
    --------
    >>> from crackle.experiments import FSSConfig, finite_size_scaling
    >>> cfg = FSSConfig(widths=(16, 32), depth=30, offsets=(0.5, 2.0, 6.0),
    ...                 n_avalanches=800, n_scan=800, seed=3, sizes="total")
    >>> res = finite_size_scaling(cfg)  # doctest: +SKIP
    >>> sorted(res.extrapolations)[:2]  # doctest: +SKIP
    ['alpha', 'inv_snz_collapse']
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
    for w in results:
        if sum(p.plateau for p in w.scan) < 2:
            notes.append(
                f"N = {w.width}: only the kept offset is within {cfg.offset_tolerance:.0%} "
                "of the best straightness; the scan grid does not resolve the choice of "
                "sigma_w^2 there, and it adds no systematic error"
            )
    nearest = None
    tau_k, snz_k = f"tau_{cfg.sizes}", f"inv_snz_{cfg.sizes}"
    if all(k in ext for k in (tau_k, "alpha", snz_k)):
        nearest = nearest_class(
            tau=ext[tau_k].intercept,
            alpha=ext["alpha"].intercept,
            inv_snz=ext[snz_k].intercept,
            tau_err=ext[tau_k].intercept_total_err,
            alpha_err=ext["alpha"].intercept_total_err,
            inv_snz_err=ext[snz_k].intercept_total_err,
        )
    result = FSSResult(cfg, tuple(results), ext, nearest, tuple(notes))
    if run is not None:
        run.write_config(cfg.run_config())
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
        sys_err = np.array([r.sys(name) for r in results])[ok]
        e = extrapolate_to_infinite_size(sizes, vals[ok, 0], vals[ok, 1], sys_err)
        ext[name] = e
        if e.poor_fit:
            notes.append(f"{name}: {e.note}")
    return ext, notes
