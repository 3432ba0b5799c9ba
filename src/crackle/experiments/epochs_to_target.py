"""Epochs to a target training accuracy against width near criticality (Ghavasieh et al. 2025,
Fig. 3f): the trainable window in sigma_w^2 at fixed sigma_b^2 widens with the width."""

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

__all__ = ["EpochsConfig", "EpochsResult", "epochs_to_target"]

_FUNC = "epochs_to_target"


@dataclass(frozen=True)
class EpochsConfig:
    """Widths x sigma_w^2 at one sigma_b^2; training stops at ``target`` training
    accuracy or after ``max_epochs`` (the paper: 97% on MNIST, 50 epochs; on
    Fashion-MNIST a depth-20 tanh MLP tops out near 87% in 10 epochs, so the default
    target is 85%)."""

    widths: tuple[int, ...] = (32, 64, 128)
    sigma_w2: tuple[float, ...] = (0.7, 0.85, 1.0, 1.2, 1.5, 2.0)
    sigma_b2: float = 0.05
    target: float = 0.85
    max_epochs: int = 12
    depth: int = 20
    batches_per_epoch: int = 200
    batch_size: int = 128
    lr: float = 0.01
    n_eval: int = 10_000
    dataset: str = "fashion_mnist"
    seed: int = 0

    def __post_init__(self) -> None:
        if not self.widths:
            raise param_error("widths", _FUNC, "a non-empty list of widths", self.widths)
        for w in self.widths:
            check_int(w, "widths", _FUNC, low=1)
        if not self.sigma_w2:
            raise param_error("sigma_w2", _FUNC, "a non-empty list of variances", self.sigma_w2)
        for v in self.sigma_w2:
            check_real(v, "sigma_w2", _FUNC, low=0.0, low_open=True)
        check_real(self.sigma_b2, "sigma_b2", _FUNC, low=0.0)
        check_real(self.target, "target", _FUNC, low=0.0, high=1.0, low_open=True)
        check_int(self.max_epochs, "max_epochs", _FUNC, low=1)
        check_sgd_setup(self, _FUNC)

    def to_dict(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in self.__dataclass_fields__}
        out["widths"], out["sigma_w2"] = list(self.widths), list(self.sigma_w2)
        return out


@dataclass(frozen=True)
class EpochsResult:
    """``epochs[i, j]``: epochs width ``widths[i]`` at ``sigma_w2[j]`` needed to reach
    the target (NaN: not reached within ``max_epochs``); ``final[i, j]`` the accuracy
    when training stopped."""

    config: EpochsConfig
    epochs: NDArray[np.float64]
    final: NDArray[np.float64]

    def window(self) -> list[int]:
        """Per width, how many of the sigma_w^2 values reached the target."""
        return [int(v) for v in np.isfinite(self.epochs).sum(axis=1)]

    def to_dict(self) -> dict[str, Any]:
        return {
            "config": self.config.to_dict(),
            "epochs": [[None if not np.isfinite(v) else int(v) for v in r] for r in self.epochs],
            "final_accuracy": self.final.tolist(),
            "window": self.window(),
        }

    def plot(self, ax: Any = None) -> Any:
        """Epochs to target against sigma_w^2, one line per width (not reached: drawn
        at max_epochs + 1, open markers)."""
        from crackle.report.figures import new_axes

        ax = new_axes(ax)
        cfg = self.config
        sw = np.array(cfg.sigma_w2)
        for i, w in enumerate(cfg.widths):
            e = self.epochs[i]
            ok = np.isfinite(e)
            (line,) = ax.plot(sw[ok], e[ok], "o-", label=f"width {w}")
            ax.plot(
                sw[~ok],
                np.full((~ok).sum(), cfg.max_epochs + 1),
                "o",
                mfc="none",
                color=line.get_color(),
            )
        ax.axhline(cfg.max_epochs + 1, color="0.7", lw=0.8, ls=":")
        ax.set_xlabel("σ_w²")
        ax.set_ylabel(f"epochs to {cfg.target:.0%} training accuracy")
        ax.set_title(f"σ_b² = {cfg.sigma_b2}, depth {cfg.depth} (open: not reached)", fontsize=9)
        ax.legend(fontsize=7)
        return ax


def _run(
    cfg: EpochsConfig, width: int, sw: float, x: Any, y: Any, seed: int
) -> tuple[float, float]:
    model, opt, xt, yt, gen = sgd_start(cfg, x, y, width, sw, cfg.sigma_b2, seed)
    acc = 0.0
    for epoch in range(1, cfg.max_epochs + 1):
        sgd_epoch(model, opt, xt, yt, cfg.batches_per_epoch, cfg.batch_size, gen)
        acc = accuracy(model, xt, yt, cfg.n_eval)
        if acc >= cfg.target:
            return float(epoch), acc
    return float("nan"), acc


def epochs_to_target(
    config: EpochsConfig | None = None,
    *,
    out: str | Path | None = None,
    progress: Callable[[int], None] | None = None,
) -> EpochsResult:
    """Train each (width, sigma_w^2) until the target training accuracy; count epochs.

    Parameters
    ----------
    config : EpochsConfig, optional
        Default :class:`EpochsConfig()`.
    out : path, optional
        Run directory; each finished (width, sigma_w^2) is written to ``out/cells/``
        at once and skipped when run again.
    progress : callable, optional
        Called with the number of (width, sigma_w^2) pairs done.

    References
    ----------
    Ghavasieh et al., arXiv 2509.22649 (2025), Fig. 3f.
    """

    cfg = EpochsConfig() if config is None else config
    if not isinstance(cfg, EpochsConfig):
        raise param_error("config", _FUNC, "an EpochsConfig", cfg)
    run = None if out is None else RunDir.create(out)
    if run is not None:
        run.claim(cfg.to_dict())
    x, y = load_flat(cfg.dataset)
    shape = (len(cfg.widths), len(cfg.sigma_w2))
    epochs, final = np.full(shape, np.nan), np.full(shape, np.nan)
    done = 0

    def train(width: int, j: int, sw: float) -> dict[str, Any]:
        seed = int(np.random.SeedSequence([cfg.seed, width, j]).generate_state(1)[0])
        e, acc = _run(cfg, width, sw, x, y, seed)
        return {"width": width, "sigma_w2": sw, "epochs": e, "final_accuracy": acc}

    with torch_threads():
        for i, width in enumerate(cfg.widths):
            for j, sw in enumerate(cfg.sigma_w2):
                cell = None if run is None else run.path / "cells" / f"n{i:03d}_w{j:03d}.json"
                got = cached_json(cell, partial(train, width, j, sw))
                epochs[i, j] = np.nan if got["epochs"] is None else got["epochs"]  # NaN: missed
                final[i, j] = got["final_accuracy"]
                done += 1
                if progress is not None:
                    progress(done)
    result = EpochsResult(cfg, epochs, final)
    if run is not None:
        write_json(run.path / "epochs.json", result.to_dict())
    return result
