"""Trainability of deep tanh networks over the (sigma_w^2, sigma_b^2) plane, against
the mean-field susceptibility and the edge of chaos (Ghavasieh et al. 2025, Fig. 3a-e).

Each cell trains a deep tanh MLP initialised from the Gaussian ensemble at its
(sigma_w^2, sigma_b^2) with plain SGD and records its training accuracy; the accuracy
map is then ranked against the mean-field chi_w (the Widom ridge) and against the
closeness to the edge of chaos, as the paper compares them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from crackle._threads import torch_threads
from crackle._validation import check_int, check_real, param_error
from crackle.experiments._mlp import (
    accuracy,
    check_sgd_setup,
    load_flat,
    sgd_epoch,
    sgd_start,
)
from crackle.io.atomic import write_json
from crackle.io.rundir import RunDir, cached_json

__all__ = ["TrainabilityConfig", "TrainabilityResult", "trainability_map"]

_FUNC = "trainability_map"


@dataclass(frozen=True)
class TrainabilityConfig:
    """The grid and the training (defaults: 48 cells in about 5 minutes on a CPU; the
    paper's setup is ``epochs=10, batches_per_epoch=200``)."""

    sigma_w2: tuple[float, ...] = (0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0)
    sigma_b2: tuple[float, ...] = (0.0, 0.05, 0.1, 0.2, 0.35, 0.5)
    depth: int = 20
    width: int = 64
    epochs: int = 2
    batches_per_epoch: int = 200
    batch_size: int = 128
    lr: float = 0.01
    n_eval: int = 10_000
    dataset: str = "fashion_mnist"
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("sigma_w2", "sigma_b2"):
            values = getattr(self, name)
            if not values:
                raise param_error(name, _FUNC, "a non-empty list of variances", values)
            for v in values:
                check_real(v, name, _FUNC, low=0.0, low_open=name == "sigma_w2")
        for name in ("width", "epochs"):
            check_int(getattr(self, name), name, _FUNC, low=1)
        check_sgd_setup(self, _FUNC)

    def to_dict(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in self.__dataclass_fields__}
        out["sigma_w2"], out["sigma_b2"] = list(self.sigma_w2), list(self.sigma_b2)
        return out


@dataclass(frozen=True)
class TrainabilityResult:
    """Training accuracy per cell, the mean-field map, and rank correlations.

    ``accuracy[i, j]`` is the training accuracy at ``sigma_w2[i]``, ``sigma_b2[j]``.
    ``correlations`` maps a predictor name to (Spearman rho, p-value) of accuracy
    against it over all cells with a finite predictor: ``chi_w`` and
    ``chi_w_strength`` (the susceptibilities whose ridge is the Widom line),
    ``edge_closeness`` (minus the distance |sigma_w^2 - sigma_w^2_edge(sigma_b^2)|)
    and ``chi_1_closeness`` (minus |ln chi_1|).
    """

    config: TrainabilityConfig
    accuracy: NDArray[np.float64]
    meanfield: Any  # xarray.Dataset on the same grid
    correlations: dict[str, tuple[float, float]]

    def to_dict(self) -> dict[str, Any]:
        mf = self.meanfield
        return {
            "config": self.config.to_dict(),
            "accuracy": self.accuracy.tolist(),
            "chi_w": np.asarray(mf["chi_w"]).tolist(),
            "chi_w_strength": np.asarray(mf["chi_w_strength"]).tolist(),
            "chi_1": np.asarray(mf["chi_1"]).tolist(),
            "correlations": {k: {"rho": r, "p": p} for k, (r, p) in self.correlations.items()},
        }

    def plot(self, fig: Any = None) -> Any:
        """Accuracy over the plane beside the mean-field chi_w map, both with the edge
        of chaos and the Widom line."""
        from crackle.report.trainability_figures import trainability_figure

        return trainability_figure(self, fig=fig)


def _train_cell(
    cfg: TrainabilityConfig,
    sw: float,
    sb: float,
    x: NDArray[np.float32],
    y: NDArray[np.int64],
    seed: int,
) -> float:
    """Train one Gaussian-initialised tanh MLP; return its training accuracy."""
    model, opt, xt, yt, gen = sgd_start(cfg, x, y, cfg.width, sw, sb, seed)
    for _ in range(cfg.epochs):
        sgd_epoch(model, opt, xt, yt, cfg.batches_per_epoch, cfg.batch_size, gen)
    return accuracy(model, xt, yt, cfg.n_eval)


def _spearman(acc: NDArray[np.float64], pred: NDArray[np.float64]) -> tuple[float, float]:
    from scipy import stats

    ok = np.isfinite(pred) & np.isfinite(acc)
    if ok.sum() < 3:
        return float("nan"), float("nan")
    res = stats.spearmanr(acc[ok], pred[ok])
    return float(res.statistic), float(res.pvalue)


def trainability_map(
    config: TrainabilityConfig | None = None,
    *,
    out: str | Path | None = None,
    progress: Callable[[int], None] | None = None,
) -> TrainabilityResult:
    """Train one network per (sigma_w^2, sigma_b^2) cell and compare with mean field.

    Parameters
    ----------
    config : TrainabilityConfig, optional
        The grid and the training; default :class:`TrainabilityConfig()`.
    out : path, optional
        Run directory. Each finished cell is written at once to ``out/cells/`` and
        skipped when the map is computed again, so an interrupted grid resumes without
        retraining finished cells.
    progress : callable, optional
        Called with the number of cells done.

    Returns
    -------
    TrainabilityResult

    References
    ----------
    Ghavasieh et al., arXiv 2509.22649 (2025), Fig. 3; Schoenholz et al., ICLR 2017.
    """

    from crackle.theory import meanfield as mf

    cfg = TrainabilityConfig() if config is None else config
    if not isinstance(cfg, TrainabilityConfig):
        raise param_error("config", _FUNC, "a TrainabilityConfig", cfg)
    run = None if out is None else RunDir.create(out)
    if run is not None:
        run.claim(cfg.to_dict())
    x, y = load_flat(cfg.dataset)
    acc = np.full((len(cfg.sigma_w2), len(cfg.sigma_b2)), np.nan)
    done = 0

    def train(i: int, j: int, sw: float, sb: float) -> dict[str, Any]:
        seed = int(np.random.SeedSequence([cfg.seed, i, j]).generate_state(1)[0])
        return {"sigma_w2": sw, "sigma_b2": sb, "accuracy": _train_cell(cfg, sw, sb, x, y, seed)}

    with torch_threads():
        for i, sw in enumerate(cfg.sigma_w2):
            for j, sb in enumerate(cfg.sigma_b2):
                cell = None if run is None else run.path / "cells" / f"w{i:03d}_b{j:03d}.json"
                acc[i, j] = cached_json(cell, partial(train, i, j, sw, sb))["accuracy"]
                done += 1
                if progress is not None:
                    progress(done)
    ds = mf.phase_diagram(np.array(cfg.sigma_w2), np.array(cfg.sigma_b2), "tanh")
    edge = mf.edge_of_chaos(np.array(cfg.sigma_b2), "tanh").sigma_w2
    sw_grid = np.array(cfg.sigma_w2)[:, None] * np.ones(len(cfg.sigma_b2))[None, :]
    chi1 = np.asarray(ds["chi_1"], dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        predictors = {
            "chi_w": np.asarray(ds["chi_w"], dtype=float),
            "chi_w_strength": np.asarray(ds["chi_w_strength"], dtype=float),
            "edge_closeness": -np.abs(sw_grid - np.asarray(edge, dtype=float)[None, :]),
            "chi_1_closeness": -np.abs(np.log(chi1)),
        }
    corr = {k: _spearman(acc.ravel(), v.ravel()) for k, v in predictors.items()}
    result = TrainabilityResult(cfg, acc, ds, corr)
    if run is not None:
        write_json(run.path / "trainability.json", result.to_dict())
    return result
