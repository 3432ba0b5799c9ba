"""Continual learning on permuted Fashion-MNIST, with and without the criticality
penalty (Vock & Meisel 2025; Dohare et al. 2024, "Loss of plasticity in deep continual learning").

A long sequence of tasks, each a fixed random permutation of the pixels, learned
online (one pass per task). After each task: the accuracy on that task's held-out
images and the network's distance from criticality (|log sigma| and |lambda_0| from
the perturbation probes on those images). The claim to test: accuracy on new tasks
declines as the network drifts away from criticality, and keeping it critical with the
penalty prevents the decline.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from crackle._threads import torch_threads
from crackle._validation import check_choice, check_int, check_real, param_error
from crackle.io.atomic import atomic_path, write_json
from crackle.io.rundir import RunDir

__all__ = ["ContinualConfig", "ContinualResult", "continual_learning"]

_FUNC = "continual_learning"
_ARMS = ("plain", "branching", "lyapunov")


@dataclass(frozen=True)
class ContinualConfig:
    """The task sequence, the network and the arms (default: about 10 minutes on
    2 CPU cores; Dohare et al. use 800 tasks and 2000-unit layers)."""

    n_tasks: int = 200
    examples_per_task: int = 6000
    batch_size: int = 32
    depth: int = 3
    width: int = 256
    activation: str = "tanh"
    sigma_w2: float = 1.0
    lr: float = 0.01
    arms: tuple[str, ...] = ("plain", "branching")
    penalty_weight: float = 1.0
    penalty_every: int = 4
    penalty_samples: int = 32
    n_eval: int = 2000
    dataset: str = "fashion_mnist"
    seed: int = 0

    def __post_init__(self) -> None:
        for name in (
            "n_tasks",
            "examples_per_task",
            "batch_size",
            "depth",
            "width",
            "penalty_every",
            "penalty_samples",
            "n_eval",
        ):
            check_int(getattr(self, name), name, _FUNC, low=1)
        check_choice(self.activation, "activation", _FUNC, ("tanh", "relu"))
        check_real(self.sigma_w2, "sigma_w2", _FUNC, low=0.0, low_open=True)
        check_real(self.lr, "lr", _FUNC, low=0.0, low_open=True)
        check_real(self.penalty_weight, "penalty_weight", _FUNC, low=0.0)
        if not self.arms or len(set(self.arms)) != len(self.arms):
            raise param_error("arms", _FUNC, f"distinct names among {_ARMS}", self.arms)
        for arm in self.arms:
            check_choice(arm, "arms", _FUNC, _ARMS)
        check_choice(self.dataset, "dataset", _FUNC, ("fashion_mnist", "digits"))
        check_int(self.seed, "seed", _FUNC, low=0)

    def to_dict(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in self.__dataclass_fields__}
        out["arms"] = list(self.arms)
        return out


@dataclass(frozen=True)
class ContinualResult:
    """Per arm, per task: ``accuracy`` on the task's held-out images after its pass,
    ``log_sigma`` (|log sigma|, sigma the mean per-layer branching ratio) and
    ``lyapunov`` (|lambda_0|), measured on those images after the task."""

    config: ContinualConfig
    accuracy: dict[str, NDArray[np.float64]]
    log_sigma: dict[str, NDArray[np.float64]]
    lyapunov: dict[str, NDArray[np.float64]]

    def summary(self) -> dict[str, dict[str, float]]:
        """Per arm: mean accuracy over the first and the last tenth of the tasks, the
        least-squares slope of accuracy per 100 tasks, and the Spearman correlation
        across tasks of accuracy with |log sigma| (with its p-value)."""
        from scipy import stats

        out = {}
        for arm, acc in self.accuracy.items():
            k = max(1, len(acc) // 10)
            t = np.arange(len(acc))
            rho = stats.spearmanr(acc, self.log_sigma[arm]) if len(acc) > 2 else None
            out[arm] = {
                "first_tenth": float(acc[:k].mean()),
                "last_tenth": float(acc[-k:].mean()),
                "slope_per_100_tasks": float(np.polyfit(t, acc, 1)[0] * 100)
                if len(acc) > 1
                else float("nan"),
                "log_sigma_last_tenth": float(self.log_sigma[arm][-k:].mean()),
                "rho_accuracy_log_sigma": float(rho.statistic) if rho else float("nan"),
                "p_accuracy_log_sigma": float(rho.pvalue) if rho else float("nan"),
            }
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "config": self.config.to_dict(),
            "accuracy": {k: v.tolist() for k, v in self.accuracy.items()},
            "log_sigma": {k: v.tolist() for k, v in self.log_sigma.items()},
            "lyapunov": {k: v.tolist() for k, v in self.lyapunov.items()},
            "summary": self.summary(),
        }

    def plot(self, fig: Any = None) -> Any:
        """Accuracy, |log sigma| and |lambda_0| against the task, one line per arm; ``fig``
        default: a new pyplot figure. Returns the Figure."""
        from crackle.report.figures import new_figure

        fig = new_figure(fig, figsize=(13, 4))
        axes = fig.subplots(1, 3)
        for arm in self.accuracy:
            t = np.arange(1, len(self.accuracy[arm]) + 1)
            axes[0].plot(t, self.accuracy[arm], lw=0.9, label=arm)
            axes[1].plot(t, self.log_sigma[arm], lw=0.9, label=arm)
            axes[2].plot(t, self.lyapunov[arm], lw=0.9, label=arm)
        for ax, label in zip(
            axes, ("accuracy on the new task", "|log σ| (branching)", "|λ₀|"), strict=True
        ):
            ax.set_xlabel("task")
            ax.set_ylabel(label)
            ax.legend(fontsize=7)
        cfg = self.config
        fig.suptitle(
            f"permuted {cfg.dataset}: {cfg.n_tasks} tasks x {cfg.examples_per_task} examples, "
            f"{cfg.depth} x {cfg.width} {cfg.activation}",
            fontsize=10,
        )
        return fig


def _model(cfg: ContinualConfig, fan_in: int, gen: Any) -> Any:
    import torch
    from torch import nn

    act: type[nn.Module] = nn.Tanh if cfg.activation == "tanh" else nn.ReLU
    blocks: list[nn.Module] = []
    for _ in range(cfg.depth):
        lin = nn.Linear(fan_in, cfg.width)
        with torch.no_grad():
            lin.weight.normal_(0.0, float(np.sqrt(cfg.sigma_w2 / fan_in)), generator=gen)
            lin.bias.zero_()
        blocks.append(nn.Sequential(lin, act()))  # a block = one layer for the probes
        fan_in = cfg.width
    readout = nn.Linear(fan_in, 10)
    with torch.no_grad():  # from the seed too, not from torch's global generator
        readout.weight.normal_(0.0, float(np.sqrt(1.0 / fan_in)), generator=gen)
        readout.bias.zero_()
    blocks.append(readout)
    return nn.Sequential(*blocks)


def _task_seed(cfg: ContinualConfig, *key: int) -> int:
    return int(np.random.SeedSequence([cfg.seed, *key]).generate_state(1)[0])


def _distance(model: Any, x: Any, seed: int) -> tuple[float, float]:
    from crackle.nn.probes import branching_parameter, lyapunov_exponent

    sigma = branching_parameter(model, x, seed=seed).value
    lam = lyapunov_exponent(model, x, seed=seed).value
    return abs(float(np.log(sigma))), abs(float(lam))


def _run_arm(
    cfg: ContinualConfig,
    arm: str,
    data: tuple[Any, Any, Any, Any],
    folder: Path | None,
    tick: Callable[[], None],
) -> tuple[list[float], list[float], list[float]]:
    import torch

    from crackle.train.regularizer import CriticalityPenalty

    xtr, ytr, xte, yte = data
    model = _model(cfg, xtr.shape[1], torch.Generator().manual_seed(_task_seed(cfg, 0)))
    opt = torch.optim.SGD(model.parameters(), lr=cfg.lr)
    rows: list[dict[str, float]] = []
    if folder is not None and (folder / "progress.json").exists():
        rows = json.loads((folder / "progress.json").read_text())
        state = torch.load(folder / "state.pt", weights_only=True)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        for _ in rows:
            tick()
    reg = None
    if arm != "plain":
        reg = CriticalityPenalty(kind=arm, weight=cfg.penalty_weight)
    loss_fn = torch.nn.CrossEntropyLoss()
    for task in range(len(rows), cfg.n_tasks):
        perm = torch.from_numpy(
            np.random.default_rng(_task_seed(cfg, 1, task)).permutation(xtr.shape[1])
        )
        gen = torch.Generator().manual_seed(_task_seed(cfg, 2, task))
        # Every arm sees the same examples in the same order: only the penalty differs.
        idx = torch.randperm(len(xtr), generator=gen)[: cfg.examples_per_task]
        torch.manual_seed(_task_seed(cfg, 3, task))  # the penalty's directions
        model.train()
        for step, start in enumerate(range(0, len(idx), cfg.batch_size)):
            b = idx[start : start + cfg.batch_size]
            xb = xtr[b][:, perm]
            loss = loss_fn(model(xb), ytr[b])
            if reg is not None and step % cfg.penalty_every == 0:
                loss = loss + reg(model, xb[: cfg.penalty_samples])
            opt.zero_grad()
            loss.backward()
            opt.step()
        model.eval()
        xt = xte[: cfg.n_eval][:, perm]
        with torch.no_grad():
            logits = model(xt)
            ok = bool(torch.isfinite(logits).all())
            acc = float((logits.argmax(1) == yte[: cfg.n_eval]).float().mean()) if ok else 0.1
        ls, lam = _distance(model, xt[:256], _task_seed(cfg, 4, task))
        rows.append({"task": task, "accuracy": acc, "log_sigma": ls, "lyapunov": lam})
        if folder is not None:
            with atomic_path(folder / "state.pt") as tmp:
                torch.save({"model": model.state_dict(), "opt": opt.state_dict()}, tmp)
            write_json(folder / "progress.json", rows)  # after the state: never ahead of it
        tick()
    return (
        [r["accuracy"] for r in rows],
        [r["log_sigma"] for r in rows],
        [r["lyapunov"] for r in rows],
    )


def continual_learning(
    config: ContinualConfig | None = None,
    *,
    out: str | Path | None = None,
    progress: Callable[[int], None] | None = None,
) -> ContinualResult:
    """Learn ``n_tasks`` permuted tasks online, once per arm (plain SGD, and SGD with
    the criticality penalty of ``crackle.train.CriticalityPenalty``, added every
    ``penalty_every`` steps on ``penalty_samples`` examples of the batch).

    Parameters
    ----------
    config : ContinualConfig, optional
        Default :class:`ContinualConfig()`.
    out : path, optional
        Run directory; each arm saves its network, optimiser and per-task results after
        every task (``out/arms/<arm>/``) and a re-run continues after the last saved
        task with the same results as an uninterrupted run.
    progress : callable, optional
        Called with the number of (arm, task) pairs done.

    References
    ----------
    Dohare et al., Nature 632, 768 (2024); Vock & Meisel, arXiv 2507.08527 (2025).
    """
    import torch

    from crackle.experiments._mlp import load_flat
    from crackle.train.data import load_digits, load_fashion_mnist

    cfg = ContinualConfig() if config is None else config
    if not isinstance(cfg, ContinualConfig):
        raise param_error("config", _FUNC, "a ContinualConfig", cfg)
    run = None if out is None else RunDir.create(out)
    if run is not None:
        run.claim(cfg.to_dict())
    xtr, ytr = load_flat(cfg.dataset)
    if cfg.dataset == "fashion_mnist":
        raw, yte_np = load_fashion_mnist("test")
    else:  # digits has no test split: the last 297 images
        raw, yte_np = load_digits()
        raw, yte_np, xtr, ytr = raw[1500:], yte_np[1500:], xtr[:1500], ytr[:1500]
    flat = raw.reshape(len(raw), -1).astype(np.float32) / 255.0
    mean, std = _train_moments(cfg.dataset)
    data = (
        torch.from_numpy(xtr),
        torch.from_numpy(ytr),
        torch.from_numpy((flat - mean) / std),
        torch.from_numpy(yte_np),
    )
    done = 0

    def tick() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done)

    acc, ls, lam = {}, {}, {}
    with torch_threads(1):
        for arm in cfg.arms:
            folder = None if run is None else run.path / "arms" / arm
            if folder is not None:
                folder.mkdir(parents=True, exist_ok=True)
            a, s, l_ = _run_arm(cfg, arm, data, folder, tick)
            acc[arm], ls[arm], lam[arm] = np.array(a), np.array(s), np.array(l_)
    result = ContinualResult(cfg, acc, ls, lam)
    if run is not None:
        write_json(run.path / "continual.json", result.to_dict())
    return result


def _train_moments(dataset: str) -> tuple[float, float]:
    """Mean and standard deviation of the training pixels (scaled to [0, 1]), the
    standardisation :func:`load_flat` applies, for the test images."""
    from crackle.train.data import load_digits, load_fashion_mnist

    x, _ = load_fashion_mnist("train") if dataset == "fashion_mnist" else load_digits()
    flat = x.astype(np.float32) / 255.0
    return float(flat.mean()), float(flat.std())
