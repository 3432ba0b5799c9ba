"""Crackling noise in pre-activation ResNets at initialisation (Ghavasieh et al. 2025,
arXiv 2509.22649, Fig. 4 and sec. 0.15), on real images.

For each depth (18, 34, 50) a pre-activation ResNet is initialised from ``seed`` and
Fashion-MNIST images (padded or upsampled, replicated to three channels; ImageNet is
not on disk and nothing is downloaded) go through it. At every layer (every operation:
convolution, batch norm, ReLU, pooling, residual sum, head) and at every block the
experiment records the norm of the tensor produced (the **activity**, Ghavasieh et
al.'s signal strength) and, for small perturbations of the image, the norm of the
change they cause (the **difference**). Thresholds are per layer,
theta_l = mu_l + k s_l, mu_l and s_l the mean and standard deviation of the layer's
signal over calibration images of the test split; the signal is normalised per layer
(by default divided by mu_l, so that every layer counts alike). An image's (or a
perturbation's) avalanche lasts from the first layer while the signal stays above
threshold; its size is the sum of the normalised signal (``"total"``) or of its excess
over the threshold (``"excess"``) over those layers. Each (model, observable, k) gets
the crackling battery: tau, alpha, the <S>(T) slope 1/(sigma nu z) with statistical
and systematic errors, the scaling relation, the shape collapse, the nearest class and
the calibrated verdict. docs/resnet.md.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from crackle._validation import (
    CrackleValueError,
    check_2d,
    check_choice,
    check_real,
    param_error,
)
from crackle.events.avalanches import Avalanches, avalanches_from_trajectories
from crackle.experiments.resnet_results import (
    NORMALISATIONS,
    SIZE_DEFINITIONS,
    ExponentRow,
    ResNetConfig,
    ResNetResult,
)
from crackle.stats.crackling import crackling_report

__all__ = [
    "ExponentRow",
    "ResNetConfig",
    "ResNetResult",
    "layer_thresholds",
    "resnet_crackling",
    "threshold_avalanches",
]


def layer_thresholds(
    calibration: ArrayLike, k: float
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Per-layer thresholds theta_l = mu_l + k s_l from calibration signals.

    Parameters
    ----------
    calibration : array_like of shape (n_cal, L)
        Signals of calibration inputs (at least 2), separate from the analysed ones.
    k : float
        Threshold level in standard deviations.

    Returns
    -------
    theta, mu, s : ndarray of shape (L,)
        Thresholds, means and standard deviations (``ddof=1``).

    References
    ----------
    Ghavasieh et al., arXiv 2509.22649 (2025), sec. 0.15.

    Examples
    --------
    >>> theta, mu, s = layer_thresholds([[1.0, 10.0], [3.0, 30.0]], k=1.0)
    >>> theta.round(3).tolist(), mu.tolist()
    ([3.414, 34.142], [2.0, 20.0])
    """
    func = "layer_thresholds"
    cal = check_2d(calibration, "calibration", func, min_rows=2)
    k = check_real(k, "k", func)
    mu, sd = cal.mean(axis=0), cal.std(axis=0, ddof=1)
    return mu + k * sd, mu, sd


def threshold_avalanches(
    signals: ArrayLike,
    thresholds: ArrayLike,
    *,
    scale: ArrayLike | None = None,
    sizes: str = "total",
    max_shape_duration: int | None = None,
) -> Avalanches:
    """Avalanches of a per-layer signal above per-layer thresholds, normalised per layer.

    The signal and the thresholds are divided by ``scale`` (one value per layer); a
    trajectory's avalanche lasts from its first layer while the signal stays above
    threshold (:func:`crackle.avalanches_from_trajectories`); its size is the sum of
    the normalised signal (``sizes="total"``) or of its excess over the normalised
    threshold (``"excess"``) over the avalanche, and so is its profile.

    Parameters
    ----------
    signals : array_like of shape (n, L)
        One trajectory per row (an input, or a perturbation), one column per layer.
    thresholds : float or array_like of shape (L,)
        For example :func:`layer_thresholds`.
    scale : array_like of shape (L,), optional
        Per-layer normalisation (positive); default none.
    sizes : {"total", "excess"}
    max_shape_duration : int, optional
        Longest duration whose profiles are kept for the collapse; default L.

    Returns
    -------
    Avalanches
        Complete ones; still above threshold at the last layer: censored; below at the
        first: empty.

    References
    ----------
    Ghavasieh et al., arXiv 2509.22649 (2025), Methods and sec. 0.15.

    Examples
    --------
    >>> av = threshold_avalanches([[3.0, 4.0, 1.0], [3.0, 1.0, 1.0]], [2.0, 2.0, 2.0],
    ...                           sizes="excess")
    >>> av.sizes.tolist(), av.durations.tolist()
    ([3.0, 1.0], [2, 1])
    """
    func = "threshold_avalanches"
    arr = check_2d(signals, "signals", func)
    sizes = check_choice(sizes, "sizes", func, SIZE_DEFINITIONS)
    length = arr.shape[1]
    thr = np.broadcast_to(np.asarray(thresholds, dtype=np.float64), (length,))
    if scale is not None:
        sc = np.asarray(scale, dtype=np.float64)
        if sc.shape != (length,) or not np.all(np.isfinite(sc)) or np.any(sc <= 0):
            raise param_error(
                "scale", func, f"positive and finite, one value per layer ({length})", scale
            )
        arr, thr = arr / sc, thr / sc
    msd = length if max_shape_duration is None else max_shape_duration
    if sizes == "excess":
        return avalanches_from_trajectories(arr - thr, 0.0, max_shape_duration=msd)
    return avalanches_from_trajectories(arr, thr, max_shape_duration=msd)


def _scale(normalise: str, mu: NDArray[np.float64], entries: NDArray[np.int64]) -> Any:
    if normalise == "mean":
        return np.where(mu > 0, mu, 1.0)
    if normalise == "rms":
        return np.sqrt(entries.astype(np.float64))
    return None


# --------------------------------------------------------------------------- signals


def _signal_params(cfg: ResNetConfig) -> dict[str, Any]:
    """What the recorded signals depend on (a run directory's models are reused when
    these match)."""
    keys = (
        "style",
        "width",
        "input_size",
        "resize",
        "n_images",
        "n_perturbed",
        "n_calibration",
        "n_calibration_perturbed",
        "perturbations",
        "eps",
        "batch_norm",
        "batch_size",
        "seed",
    )
    return {"experiment": "resnet-signals", **{k: getattr(cfg, k) for k in keys}}


def _record(
    cfg: ResNetConfig,
    depth: int,
    images: Any,
    cal_images: Any,
    tick: Callable[[int], None],
) -> dict[str, NDArray[Any]]:
    """Signals of one model: ``{grain}_{signal}`` and ``{grain}_{signal}_cal`` arrays,
    ``{grain}_entries`` and ``{grain}_names``."""
    import torch

    from crackle.experiments.resnet_signals import resnet_signals, split_even
    from crackle.nn.resnet import preact_resnet

    model = preact_resnet(
        depth,
        style=cfg.style,
        num_classes=10,
        in_channels=3,
        width=cfg.width,
        input_size=cfg.input_size,
        seed=cfg.seed,
    )
    kw = {"eps": cfg.eps, "batch_norm": cfg.batch_norm, "device": cfg.device}
    out: dict[str, Any] = {}
    parts: dict[str, list[Any]] = {}

    def run(x: torch.Tensor, n_pert: int, seed: int) -> None:
        # In chunks, so that progress is reported and memory stays bounded.
        for i, piece in enumerate(split_even(x, cfg.batch_size * 16)):
            sig = resnet_signals(
                model,
                piece,
                perturbations=n_pert,
                batch_size=cfg.batch_size,
                seed=seed + i,
                **kw,  # type: ignore[arg-type]
            )
            for grain, s in sig.items():
                parts.setdefault(grain, []).append((n_pert, s))
            tick(len(piece))

    for which, x, n_pert_img in (
        ("", images, cfg.n_perturbed),
        ("_cal", cal_images, cfg.n_calibration_perturbed),
    ):
        parts = {}
        base = np.random.SeedSequence([cfg.seed, depth, 1 if which else 0]).generate_state(1)[0]
        use_pert = cfg.perturbations if "difference" in cfg.signals else 0
        if use_pert and n_pert_img:
            run(x[:n_pert_img], use_pert, int(base))
            rest = x[n_pert_img:]
        else:
            rest = x
        if rest.shape[0]:
            run(rest, 0, int(base) + 10**6)
        for grain in cfg.grains:
            chunks = parts[grain]
            act = np.concatenate([s.activity for _, s in chunks])
            diff = [s.difference for p, s in chunks if p]
            length = act.shape[1]
            out[f"{grain}_activity{which}"] = act
            out[f"{grain}_difference{which}"] = (
                np.concatenate(diff) if diff else np.zeros((0, length))
            )
            out[f"{grain}_entries"] = chunks[0][1].entries
            out[f"{grain}_names"] = np.array(chunks[0][1].names)
    return out


def _load_images(cfg: ResNetConfig, root: Any) -> tuple[Any, Any]:
    from crackle.experiments.resnet_signals import fashion_images, prepare_images

    imgs, _ = fashion_images("train", cfg.n_images, seed=cfg.seed, root=root)
    cal, _ = fashion_images("test", cfg.n_calibration, seed=cfg.seed, root=root)
    return (
        prepare_images(imgs, cfg.input_size, cfg.resize),
        prepare_images(cal, cfg.input_size, cfg.resize),
    )


# --------------------------------------------------------------------------- analysis


def _rows(cfg: ResNetConfig, model: str, sig: dict[str, NDArray[Any]]) -> list[ExponentRow]:
    rows = []
    for grain, signal, sizes in cfg.observables():
        x, cal = sig[f"{grain}_{signal}"], sig[f"{grain}_{signal}_cal"]
        entries = sig[f"{grain}_entries"]
        for k in cfg.ks:
            key: dict[str, Any] = {
                "model": model,
                "grain": grain,
                "signal": signal,
                "sizes": sizes,
                "k": k,
            }
            n_layers = int(x.shape[1])
            theta, mu, _ = layer_thresholds(cal, k)
            av = threshold_avalanches(
                x, theta, scale=_scale(cfg.normalise, mu, entries), sizes=sizes
            )
            try:
                rep = crackling_report(
                    av,
                    discrete_sizes=False,
                    n_boot=cfg.n_boot,
                    seed=cfg.seed,
                    min_tail_fraction=cfg.min_tail_fraction,
                )
            except (CrackleValueError, ValueError) as exc:
                rows.append(
                    ExponentRow(
                        **key,
                        n_layers=n_layers,
                        n=av.n,
                        n_censored=av.n_censored,
                        n_empty=av.n_empty,
                        note=f"no report: {exc}",
                    )
                )
                continue
            rows.append(ExponentRow.from_report(key, n_layers, rep))
    return rows


def resnet_crackling(
    config: ResNetConfig | None = None,
    *,
    out: str | Path | None = None,
    fashion_root: str | Path | None = None,
    progress: Callable[[str, int], None] | None = None,
) -> ResNetResult:
    """Run the ResNet crackling experiment (Ghavasieh et al. 2025, Fig. 4) on real images.

    See the module docstring for the protocol. Signals are recorded once per model and
    thresholded at every k; each (model, grain, signal, size definition, k) gets
    :func:`crackle.crackling_report` (sizes fitted as continuous, ``n_boot`` bootstrap
    replicates, x_min searched where the tail keeps ``min_tail_fraction`` of the
    avalanches).

    Parameters
    ----------
    config : ResNetConfig, optional
        Default :class:`ResNetConfig()` (the docs/resnet.md run);
        :meth:`ResNetConfig.paper_scale` for a GPU.
    out : path, optional
        Run directory: ``config.json``, ``resnet.json`` (the result),
        ``exponents.csv``, ``figures/resnet_exponents.png`` and, per model,
        ``models/resnet<depth>/signals.npz`` (reused when the run is repeated with the
        same signal parameters, so that another k scan or normalisation costs no
        forward pass).
    fashion_root : path, optional
        Folder with the Fashion-MNIST IDX files (default the Debian package's).
    progress : callable, optional
        Called with (stage, number of images just processed).

    Returns
    -------
    ResNetResult

    References
    ----------
    Ghavasieh et al., "Toward a Physics of Deep Learning and Brains", arXiv 2509.22649
    (2025), Fig. 4 and sec. 0.15; He, Zhang, Ren & Sun, ECCV (2016) (pre-activation
    ResNets); Xiao, Rasul & Vollgraf, arXiv 1708.07747 (2017) (Fashion-MNIST).

    Examples
    --------
    >>> from crackle.experiments.resnet import ResNetConfig, resnet_crackling
    >>> cfg = ResNetConfig(depths=(18,), width=0.125, n_images=600, n_perturbed=100,
    ...                    n_calibration=200, n_calibration_perturbed=50, ks=(1.0,))
    >>> res = resnet_crackling(cfg)  # doctest: +SKIP
    >>> res.layers  # doctest: +SKIP
    {'resnet18': {'layers': 68, 'blocks': 10}}
    """
    import torch

    cfg = ResNetConfig() if config is None else config
    if not isinstance(cfg, ResNetConfig):
        raise param_error("config", "resnet_crackling", "a ResNetConfig", cfg)
    from crackle.io.atomic import write_json, write_npz
    from crackle.io.rundir import RunDir
    from crackle.io.state import load_npz

    # The run directory's config.json is rewritten at the end: a rerun with another k
    # scan, normalisation or size definition reuses the models' signals (each model's
    # folder is claimed with the parameters its signals depend on).
    run = None if out is None else RunDir.create(out)
    threads = torch.get_num_threads()
    torch.set_num_threads(cfg.threads)
    notes: list[str] = []
    rows: list[ExponentRow] = []
    layers: dict[str, dict[str, int]] = {}
    seconds: dict[str, float] = {}
    try:
        images = cal_images = None
        t_analysis = 0.0
        for depth in cfg.depths:
            name = f"resnet{depth}"
            sub = None if run is None else RunDir.create(run.path / "models" / name)
            path = None if sub is None else sub.path / "signals.npz"
            t0 = time.perf_counter()
            if sub is not None and path is not None and path.exists() and sub.config.exists():
                sub.claim(_signal_params(cfg))
                sig = load_npz(path, fix=f"remove {path} to record the signals again")
                seconds[name] = 0.0
                notes.append(f"{name}: signals read from {path}")
            else:
                if images is None:
                    images, cal_images = _load_images(cfg, fashion_root)

                def tick(n: int, stage: str = name) -> None:
                    if progress is not None:
                        progress(stage, n)

                sig = _record(cfg, depth, images, cal_images, tick)
                seconds[name] = time.perf_counter() - t0
                if sub is not None and path is not None:
                    sub.claim(_signal_params(cfg))
                    write_npz(path, sig)
            layers[name] = {g: int(sig[f"{g}_activity"].shape[1]) for g in cfg.grains}
            t1 = time.perf_counter()
            if progress is not None:
                progress(f"{name}: crackling reports", 0)
            rows += _rows(cfg, name, sig)
            t_analysis += time.perf_counter() - t1
        seconds["analysis"] = t_analysis
    finally:
        torch.set_num_threads(threads)
    result = ResNetResult(cfg, tuple(rows), layers, seconds, tuple(notes))
    if run is not None:
        run.write_config(cfg.to_dict())
        write_json(run.path / "resnet.json", result.to_dict())
        result.table().to_csv(run.path / "exponents.csv", index=False)
        from crackle.report.resnet_figures import resnet_figure

        fig = resnet_figure(result)
        fig.savefig(run.figures / "resnet_exponents.png", dpi=130)
        import matplotlib.pyplot as plt

        plt.close(fig)
    return result


__all__ += ["NORMALISATIONS", "SIZE_DEFINITIONS"]
