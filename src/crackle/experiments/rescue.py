"""Does the criticality penalty rescue badly initialised deep networks?

Deep tanh MLPs drawn from the Gaussian ensemble in the ordered and chaotic corners of
the (sigma_w^2, sigma_b^2) map, and at a near-critical reference, are trained with SGD
on real images, plainly and with :class:`crackle.train.CriticalityPenalty` added to the
loss (same initial weights, same batches). Per (corner, arm, seed) the training
accuracy curve, the final test accuracy and the distance from criticality measured by
the probes (|log sigma|, |lambda_0|) on held-out images are recorded.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from crackle._threads import torch_threads
from crackle._validation import check_choice, check_int, check_real, param_error
from crackle.io.atomic import write_json
from crackle.io.rundir import RunDir, cached_json

__all__ = ["RescueConfig", "RescueResult", "block_mlp", "rescue"]

_FUNC = "rescue"
_KINDS = ("branching", "lyapunov")
_PROBE_SEED = 5
_INTS: tuple[str, ...] = ("penalty_every", "penalty_batch", "depth", "width", "steps", "eval_every")
_INTS += ("batch_size", "n_eval", "n_probe")


@dataclass(frozen=True)
class RescueConfig:
    """Corners x arms x seeds of one rescue experiment.

    ``corners``: (name, sigma_w^2, sigma_b^2) triples. Arms: ``"plain"`` and one per
    penalty kind in ``kinds`` with weight ``weights[i]``; the penalty is evaluated on the
    first ``penalty_batch`` samples of the batch, every ``penalty_every`` steps.
    Training accuracy is measured on the first ``n_eval`` training images and the probes
    on ``n_probe`` held-out (test) images at steps 0, ``eval_every``, ..., ``steps``.
    """

    corners: tuple[tuple[str, float, float], ...] = (
        ("ordered", 0.5, 0.0),
        ("chaotic", 4.0, 0.5),
        ("near-critical", 1.0, 0.0),
    )
    kinds: tuple[str, ...] = ("branching", "lyapunov")
    weights: tuple[float, ...] = (10.0, 30.0)
    penalty_every: int = 1
    penalty_batch: int = 32
    depth: int = 20
    width: int = 64
    steps: int = 1500
    eval_every: int = 100
    batch_size: int = 128
    lr: float = 0.01
    momentum: float = 0.9
    n_eval: int = 2000
    n_probe: int = 256
    dataset: str = "fashion_mnist"
    seeds: tuple[int, ...] = (0, 1)

    def __post_init__(self) -> None:
        if not self.corners:
            raise param_error("corners", _FUNC, "a non-empty list of corners", self.corners)
        for c in self.corners:
            if len(c) != 3 or not isinstance(c[0], str) or not c[0]:
                raise param_error("corners", _FUNC, "(name, sigma_w2, sigma_b2) triples", c)
            check_real(c[1], "corners", _FUNC, low=0.0, low_open=True)
            check_real(c[2], "corners", _FUNC, low=0.0)
        if len({c[0] for c in self.corners}) != len(self.corners):
            raise param_error("corners", _FUNC, "corners with distinct names", self.corners)
        for k in self.kinds:
            check_choice(k, "kinds", _FUNC, _KINDS)
        if len(set(self.kinds)) != len(self.kinds):
            raise param_error("kinds", _FUNC, "distinct penalty kinds", self.kinds)
        if len(self.weights) != len(self.kinds):
            raise param_error("weights", _FUNC, "one weight per penalty kind", self.weights)
        for w in self.weights:
            check_real(w, "weights", _FUNC, low=0.0)
        for name in _INTS:
            check_int(getattr(self, name), name, _FUNC, low=1)
        if self.eval_every > self.steps:
            raise param_error("eval_every", _FUNC, "at most 'steps'", self.eval_every)
        check_real(self.lr, "lr", _FUNC, low=0.0, low_open=True)
        check_real(self.momentum, "momentum", _FUNC, low=0.0, high=1.0, high_open=True)
        check_choice(self.dataset, "dataset", _FUNC, ("fashion_mnist", "digits"))
        if not self.seeds:
            raise param_error("seeds", _FUNC, "a non-empty list of seeds", self.seeds)
        for s in self.seeds:
            check_int(s, "seeds", _FUNC, low=0)

    @property
    def arms(self) -> tuple[str, ...]:
        """``"plain"``, then the penalty kinds."""
        return ("plain", *self.kinds)

    @property
    def checkpoints(self) -> NDArray[np.int64]:
        """The steps at which accuracy and distance are measured (0 and ``steps``
        included)."""
        return np.array(sorted({*range(0, self.steps + 1, self.eval_every), self.steps}))

    def to_dict(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in self.__dataclass_fields__}
        out["corners"] = [list(c) for c in self.corners]
        for k in ("kinds", "weights", "seeds"):
            out[k] = list(out[k])
        return out


@dataclass(frozen=True)
class RescueResult:
    """Curves and distances, indexed [corner, arm, seed(, checkpoint)].

    Attributes
    ----------
    train_acc : ndarray (C, A, S, T)
        Accuracy on the first ``n_eval`` training images at ``config.checkpoints``.
    test_acc : ndarray (C, A, S)
        Accuracy on the test images at the end.
    log_sigma : ndarray (C, A, S, T)
        log of the branching parameter (mean over layers of the per-layer ratios) on
        the held-out images; 0 at criticality. NaN for a diverged network.
    lyapunov : ndarray (C, A, S, T)
        lambda_0 on the same images; 0 at criticality.
    train_seconds : ndarray (C, A, S)
        Time spent in training steps (without measurements).
    """

    config: RescueConfig
    train_acc: NDArray[np.float64]
    test_acc: NDArray[np.float64]
    log_sigma: NDArray[np.float64]
    lyapunov: NDArray[np.float64]
    train_seconds: NDArray[np.float64]

    def table(self) -> list[dict[str, Any]]:
        """One row per (corner, arm), means over seeds: final accuracies and the
        distances |log sigma| and |lambda_0| at the start and the end."""
        rows = []
        for i, (name, sw, sb) in enumerate(self.config.corners):
            for a, arm in enumerate(self.config.arms):
                ls, ly = np.abs(self.log_sigma[i, a]), np.abs(self.lyapunov[i, a])
                rows.append(
                    {
                        "corner": name,
                        "sigma_w2": sw,
                        "sigma_b2": sb,
                        "arm": arm,
                        "train_acc": float(self.train_acc[i, a, :, -1].mean()),
                        "test_acc": float(self.test_acc[i, a].mean()),
                        "log_sigma_start": float(ls[:, 0].mean()),
                        "log_sigma_end": float(ls[:, -1].mean()),
                        "lyapunov_start": float(ly[:, 0].mean()),
                        "lyapunov_end": float(ly[:, -1].mean()),
                        "ms_per_step": float(
                            1e3 * self.train_seconds[i, a].mean() / self.config.steps
                        ),
                    }
                )
        return rows

    def to_dict(self) -> dict[str, Any]:
        arrays = ("train_acc", "test_acc", "log_sigma", "lyapunov", "train_seconds")
        return {
            "config": self.config.to_dict(),
            "arms": list(self.config.arms),
            "checkpoints": self.config.checkpoints.tolist(),
            **{k: getattr(self, k).tolist() for k in arrays},  # NaN: null in write_json
            "table": self.table(),
        }

    def plot(self, fig: Any = None) -> Any:
        """Per corner (columns): training accuracy against step (test accuracy at the
        end as a marker), |log sigma| and |lambda_0| (rows); one colour per arm, the
        mean over seeds (thick) and each seed (thin). A gap: a saturated network
        (lambda_0 = -inf) in some seed."""
        from crackle.report.figures import new_figure

        cfg = self.config
        n = len(cfg.corners)
        fig = new_figure(fig, figsize=(max(3.6 * n, 5.0), 7.5))
        axes = fig.subplots(3, n, squeeze=False, sharex=True)
        steps = cfg.checkpoints
        for i, (name, sw, sb) in enumerate(cfg.corners):
            for a, arm in enumerate(cfg.arms):
                color = f"C{a}"
                curves = (self.train_acc[i, a], np.abs(self.log_sigma[i, a]))
                for ax, y in zip(axes[:, i], (*curves, np.abs(self.lyapunov[i, a])), strict=True):
                    ax.plot(steps, y.mean(0), color=color, label=arm)
                    if len(cfg.seeds) > 1:  # each seed, thin
                        ax.plot(steps, y.T, color=color, lw=0.5, alpha=0.4)
                axes[0, i].plot(
                    [steps[-1]], [self.test_acc[i, a].mean()], "s", mfc="none", color=color
                )
            axes[0, i].set_title(f"{name}: σ_w² = {sw:g}, σ_b² = {sb:g}", fontsize=9)
            axes[0, i].set_ylim(0.0, 1.0)
            axes[2, i].set_xlabel("SGD step")
            for ax in axes[1:, i]:
                ax.set_yscale("symlog", linthresh=1e-2)
                ax.set_ylim(bottom=0.0)
        axes[0, 0].set_ylabel("training accuracy (□ test, end)")
        axes[1, 0].set_ylabel("|log σ| (held-out)")
        axes[2, 0].set_ylabel("|λ₀| (held-out)")
        axes[0, 0].legend(fontsize=7)
        fig.suptitle(
            f"{cfg.dataset}, depth {cfg.depth}, width {cfg.width}, {len(cfg.seeds)} seed(s)\n"
            f"penalty weights {dict(zip(cfg.kinds, cfg.weights, strict=True))}",
            fontsize=9,
        )
        return fig


def block_mlp(
    fan_in: int, depth: int, width: int, sigma_w2: float, sigma_b2: float, gen: Any
) -> Any:
    """:func:`crackle.experiments._mlp.gaussian_mlp` (same draws) regrouped so that
    each child of the Sequential is one layer: Linear + tanh blocks, then the linear
    readout. The probes and the penalty then see depth + 1 layers whose ratios are
    the per-layer gains (the flat model would split every block into a Linear with
    gain ~sqrt(sigma_w^2) and a tanh with gain < 1, and pull each to 1 separately)."""
    from torch import nn

    from crackle.experiments._mlp import gaussian_mlp

    flat = list(gaussian_mlp(fan_in, depth, width, sigma_w2, sigma_b2, gen).children())
    blocks: list[nn.Module] = [nn.Sequential(flat[2 * i], flat[2 * i + 1]) for i in range(depth)]
    return nn.Sequential(*blocks, flat[-1])


def _load(dataset: str) -> tuple[Any, Any, Any, Any]:
    """Standardised flat images (train mean and std), as torch tensors."""
    import torch

    from crackle.train.data import load_digits, load_fashion_mnist

    if dataset == "fashion_mnist":
        (xtr, ytr), (xte, yte) = load_fashion_mnist("train"), load_fashion_mnist("test")
    else:  # sklearn digits: the first 1500 images train, the other 297 test
        x, y = load_digits()
        (xtr, ytr), (xte, yte) = (x[:1500], y[:1500]), (x[1500:], y[1500:])
    ftr = xtr.reshape(len(xtr), -1).astype(np.float32) / 255.0
    fte = xte.reshape(len(xte), -1).astype(np.float32) / 255.0
    mean, std = ftr.mean(), ftr.std()
    return (
        torch.from_numpy((ftr - mean) / std),
        torch.from_numpy(ytr.astype(np.int64)),
        torch.from_numpy((fte - mean) / std),
        torch.from_numpy(yte.astype(np.int64)),
    )


def _distance(model: Any, x_probe: Any) -> tuple[float, float]:
    """(log sigma, lambda_0) by the probes, in float64; NaN when not finite."""
    import torch

    from crackle.nn.probes import branching_parameter, lyapunov_exponent

    m = copy.deepcopy(model).double()
    if not all(bool(torch.isfinite(p).all()) for p in m.parameters()):
        return math.nan, math.nan
    x = x_probe.double()
    with np.errstate(all="ignore"):
        sigma = branching_parameter(m, x, seed=_PROBE_SEED).value
        lam = lyapunov_exponent(m, x, seed=_PROBE_SEED).value
    log_sigma = math.log(sigma) if sigma > 0 and math.isfinite(sigma) else math.nan
    return log_sigma, lam if math.isfinite(lam) else math.nan


def _run(cfg: RescueConfig, corner: int, arm: str, seed: int, data: Any) -> dict[str, Any]:
    """Train one (corner, arm, seed); the initial weights and the batches depend on
    (seed, corner) only, so the arms of a corner differ by the penalty alone."""
    import torch

    from crackle.experiments._mlp import accuracy
    from crackle.train.regularizer import CriticalityPenalty

    xtr, ytr, xte, yte = data
    _, sw, sb = cfg.corners[corner]
    s = int(np.random.SeedSequence([seed, corner]).generate_state(1)[0])
    gen = torch.Generator().manual_seed(s)
    model = block_mlp(xtr.shape[1], cfg.depth, cfg.width, sw, sb, gen)
    reg = None
    if arm != "plain":
        weight = cfg.weights[cfg.kinds.index(arm)]
        reg = CriticalityPenalty(arm, weight, seed=torch.Generator().manual_seed(s + 1))
    opt = torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=cfg.momentum)
    loss_fn = torch.nn.CrossEntropyLoss()
    x_probe = xte[: cfg.n_probe]
    checkpoints = set(cfg.checkpoints.tolist())
    acc, log_sigma, lyap = [], [], []
    order, pos, seconds, skipped = torch.randperm(len(xtr), generator=gen), 0, 0.0, 0
    for step in range(cfg.steps + 1):
        if step in checkpoints:
            acc.append(accuracy(model, xtr, ytr, cfg.n_eval))
            ls, lam = _distance(model, x_probe)
            log_sigma.append(ls)
            lyap.append(lam)
        if step == cfg.steps:
            break
        if pos + cfg.batch_size > len(xtr):
            order, pos = torch.randperm(len(xtr), generator=gen), 0
        idx = order[pos : pos + cfg.batch_size]
        pos += cfg.batch_size
        t0 = time.perf_counter()
        loss = loss_fn(model(xtr[idx]), ytr[idx])
        if reg is not None and step % cfg.penalty_every == 0 and bool(torch.isfinite(loss)):
            try:
                loss = loss + reg(model, xtr[idx[: cfg.penalty_batch]])
            except ValueError:  # the perturbation vanished: no gradient to follow
                skipped += 1
        opt.zero_grad()
        loss.backward()
        opt.step()
        seconds += time.perf_counter() - t0
    return {
        "corner": cfg.corners[corner][0],
        "arm": arm,
        "seed": seed,
        "train_acc": acc,
        "test_acc": accuracy(model, xte, yte, len(xte)),
        "log_sigma": [None if math.isnan(v) else v for v in log_sigma],
        "lyapunov": [None if math.isnan(v) else v for v in lyap],
        "train_seconds": seconds,
        "penalty_skipped": skipped,
    }


def rescue(
    config: RescueConfig | None = None,
    *,
    out: str | Path | None = None,
    progress: Callable[[int], None] | None = None,
) -> RescueResult:
    """Train every (corner, arm, seed) and measure accuracy and distance from criticality.

    Parameters
    ----------
    config : RescueConfig, optional
        Default :class:`RescueConfig()`.
    out : path, optional
        Run directory; each finished (corner, arm, seed) is written to ``out/cells/``
        at once and skipped when run again.
    progress : callable, optional
        Called with the number of (corner, arm, seed) runs done.

    Returns
    -------
    RescueResult

    References
    ----------
    Vock & Meisel, "Critical dynamics governs deep learning", arXiv 2507.08527 (2025).
    """
    cfg = RescueConfig() if config is None else config
    if not isinstance(cfg, RescueConfig):
        raise param_error("config", _FUNC, "a RescueConfig", cfg)
    run = None if out is None else RunDir.create(out)
    if run is not None:
        run.claim(cfg.to_dict())  # a resumed run must have the same parameters
    shape = (len(cfg.corners), len(cfg.arms), len(cfg.seeds))
    n_t = len(cfg.checkpoints)
    acc, ls, ly = (np.full((*shape, n_t), np.nan) for _ in range(3))
    test, secs = np.full(shape, np.nan), np.full(shape, np.nan)
    data: list[Any] = []  # loaded on the first cell that needs training

    def train(i: int, arm: str, seed: int) -> dict[str, Any]:
        if not data:
            data.append(_load(cfg.dataset))
        return _run(cfg, i, arm, seed, data[0])

    done = 0
    with torch_threads(1):
        for i in range(len(cfg.corners)):
            for a, arm in enumerate(cfg.arms):
                for k, seed in enumerate(cfg.seeds):
                    cell = (
                        None if run is None else run.path / "cells" / f"c{i:02d}_{arm}_s{seed}.json"
                    )
                    rec = cached_json(cell, partial(train, i, arm, seed))
                    acc[i, a, k] = rec["train_acc"]
                    ls[i, a, k] = [np.nan if v is None else v for v in rec["log_sigma"]]
                    ly[i, a, k] = [np.nan if v is None else v for v in rec["lyapunov"]]
                    test[i, a, k], secs[i, a, k] = rec["test_acc"], rec["train_seconds"]
                    done += 1
                    if progress is not None:
                        progress(done)
    result = RescueResult(cfg, acc, test, ls, ly, secs)
    if run is not None:
        write_json(run.path / "rescue.json", result.to_dict())
    return result
