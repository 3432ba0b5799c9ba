"""Trainability of deep tanh networks over the (sigma_w^2, sigma_b^2) plane, against
the mean-field susceptibility ridges and the edge of chaos (Ghavasieh et al. 2025,
Fig. 3a-e).

Each cell trains deep tanh MLPs (several seeds) initialised from the Gaussian ensemble
at its (sigma_w^2, sigma_b^2) with plain SGD and records their training accuracy; the
accuracy map is then ranked (Spearman, with bootstrap confidence intervals over cells
and seeds, pooled and per sigma_b^2) against the closeness of each cell to each
predictor line: the two Widom-line definitions (ridges of d sqrt(q*)/d sigma_w^2 and of
d sqrt(q*)/d sigma_w), the edge of chaos, and |chi_1 - 1|.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
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

__all__ = ["PREDICTORS", "TrainabilityConfig", "TrainabilityResult", "trainability_map"]

_FUNC = "trainability_map"

#: The predictors ranked against accuracy (larger = closer to the line / larger response).
PREDICTORS: dict[str, str] = {
    "widom_w2_closeness": "-|sigma_w^2 - ridge of d sqrt(q*)/d sigma_w^2| (Widom line, "
    "derivative in sigma_w^2)",
    "widom_w_closeness": "-|sigma_w^2 - ridge of d sqrt(q*)/d sigma_w| (Widom line, "
    "derivative in sigma_w; NaN in rows without an interior ridge)",
    "edge_closeness": "-|sigma_w^2 - sigma_w^2 on the edge of chaos at this sigma_b^2|",
    "chi_1_closeness": "-|chi_1 - 1| (closeness to the edge in the order parameter)",
    "susceptibility_w2": "d sqrt(q*)/d sigma_w^2 at the cell",
    "susceptibility_w": "d sqrt(q*)/d sigma_w at the cell",
}


@dataclass(frozen=True)
class TrainabilityConfig:
    """The grid, the training and the statistics of one trainability map (one depth).

    The default (depth 50; run ``depth=100`` beside it) trains 35 cells x 3 seeds for
    3 epochs of 200 batches: about 13-15 min for both depths on 2 idle CPU cores
    (62 min on a shared, loaded one). :meth:`paper_scale` gives the paper's protocol
    (10 epochs).
    """

    sigma_w2: tuple[float, ...] = (0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 5.0)
    sigma_b2: tuple[float, ...] = (0.0, 0.1, 0.3, 1.0, 2.0)
    depth: int = 50
    width: int = 64
    epochs: int = 3
    batches_per_epoch: int = 200
    batch_size: int = 128
    lr: float = 0.01
    n_eval: int = 10_000
    dataset: str = "fashion_mnist"
    seed: int = 0
    n_seeds: int = 3
    n_boot: int = 2000
    confidence: float = 0.95

    def __post_init__(self) -> None:
        for name in ("sigma_w2", "sigma_b2"):
            values = getattr(self, name)
            if not isinstance(values, tuple | list) or not values:
                raise param_error(name, _FUNC, "a non-empty list of variances", values)
            for v in values:
                check_real(v, name, _FUNC, low=0.0, low_open=name == "sigma_w2", high=1e4)
            if len(set(values)) != len(values):
                raise param_error(name, _FUNC, "a list without repeated values", values)
            object.__setattr__(self, name, tuple(float(v) for v in values))
        for name in ("width", "epochs", "n_seeds"):
            check_int(getattr(self, name), name, _FUNC, low=1)
        check_int(self.n_boot, "n_boot", _FUNC, low=1, high=10**6)
        check_real(self.confidence, "confidence", _FUNC, low=0.0, high=1.0, low_open=True,
                   high_open=True)  # fmt: skip
        check_sgd_setup(self, _FUNC)

    @classmethod
    def paper_scale(cls, depth: int = 50, **changes: Any) -> TrainabilityConfig:
        """The paper's protocol: 10 epochs of 200 batches of 128, plain SGD, on the
        sigma_w^2 in 0.25, 0.5, ..., 5 by sigma_b^2 in 0, 0.05, 0.1, 0.2, 0.3, 0.5,
        0.75, 1, 1.5, 2 grid (20 x 10 cells), 3 seeds per cell, width 200.

        The paper's grid values, width and depth are lost in the text extraction of
        Ghavasieh et al. (2025); this grid spans the sigma_b^2 range over which the
        paper's Fig. 3 is described (the trainable region shrinking to nothing), and
        200 is the smallest width the paper names (its Fig. 3f). Depth 50 and 100 are
        the regime the paper discusses. ``changes`` override any field.
        """
        base: dict[str, Any] = {
            "sigma_w2": tuple(np.round(np.arange(1, 21) * 0.25, 2).tolist()),
            "sigma_b2": (0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0),
            "depth": depth,
            "width": 200,
            "epochs": 10,
            "n_seeds": 3,
        }
        return cls(**{**base, **changes})

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dictionary; ``TrainabilityConfig(**d)`` rebuilds the config."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["sigma_w2"], out["sigma_b2"] = list(self.sigma_w2), list(self.sigma_b2)
        return out


@dataclass(frozen=True)
class TrainabilityResult:
    """Training accuracy per cell and seed, the mean-field map, and rank correlations.

    ``accuracy_seeds[i, j, k]`` is the training accuracy of seed ``k`` at
    ``sigma_w2[i]``, ``sigma_b2[j]``; ``accuracy`` its mean over seeds. ``lines`` holds,
    per sigma_b^2, the sigma_w^2 of the edge of chaos and of both Widom ridges.
    ``correlations`` maps a predictor (see :data:`PREDICTORS`) to (Spearman rho,
    p-value) over all cells where the predictor is not NaN (inf ranks as extreme), on
    the seed means.
    ``rank_tests[scope][predictor]`` is a :class:`~crackle.experiments._rank_bootstrap.RankCI`
    with its bootstrap interval, for ``scope`` "pooled" and each "sigma_b2=<value>";
    ``differences[scope]["a - b"]`` the paired-bootstrap difference of two predictors.
    """

    config: TrainabilityConfig
    accuracy: NDArray[np.float64]
    accuracy_seeds: NDArray[np.float64]
    meanfield: Any  # xarray.Dataset on the same grid
    lines: dict[str, NDArray[np.float64]]
    predictors: dict[str, NDArray[np.float64]]
    correlations: dict[str, tuple[float, float]]
    rank_tests: dict[str, dict[str, Any]]
    differences: dict[str, dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dictionary (arrays as lists; NaN becomes null when written)."""
        mf = self.meanfield
        return {
            "config": self.config.to_dict(),
            "accuracy": self.accuracy.tolist(),
            "accuracy_seeds": self.accuracy_seeds.tolist(),
            "chi_w": np.asarray(mf["chi_w"]).tolist(),
            "chi_w_strength": np.asarray(mf["chi_w_strength"]).tolist(),
            "chi_1": np.asarray(mf["chi_1"]).tolist(),
            "lines": {k: np.asarray(v).tolist() for k, v in self.lines.items()},
            "predictors": {k: np.asarray(v).tolist() for k, v in self.predictors.items()},
            "correlations": {k: {"rho": r, "p": p} for k, (r, p) in self.correlations.items()},
            "rank_tests": {
                s: {k: v.to_dict() for k, v in d.items()} for s, d in self.rank_tests.items()
            },
            "differences": {
                s: {k: v.to_dict() for k, v in d.items()} for s, d in self.differences.items()
            },
        }

    def table(self) -> list[dict[str, Any]]:
        """One row per (scope, predictor): rho, its interval and the cells used."""
        return [
            {"scope": scope, "predictor": name, **ci.to_dict()}
            for scope, d in self.rank_tests.items()
            for name, ci in d.items()
        ]

    def plot(self, ax: Any = None) -> Any:
        """Accuracy heat map over the plane with the edge of chaos and both Widom ridges;
        returns the Axes (see :func:`crackle.report.trainability_figures.plot_trainability`;
        ``trainability_figure`` adds the rank correlations)."""
        from crackle.report.trainability_figures import plot_trainability

        return plot_trainability(self, ax=ax)


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


def _cell_seed(cfg: TrainabilityConfig, i: int, j: int, k: int) -> int:
    """Seed of replicate k of cell (i, j); replicate 0 keeps the one-seed maps' seeds."""
    key = [cfg.seed, i, j] + ([k] if k else [])
    return int(np.random.SeedSequence(key).generate_state(1)[0])


_WORKER: dict[str, Any] = {}


def _worker_init(dataset: str) -> None:
    import torch

    torch.set_num_threads(1)
    _WORKER["data"] = load_flat(dataset)


def _worker_train(cfg: TrainabilityConfig, sw: float, sb: float, seed: int) -> float:
    x, y = _WORKER["data"]
    return _train_cell(cfg, sw, sb, x, y, seed)


def _spearman(acc: NDArray[np.float64], pred: NDArray[np.float64]) -> tuple[float, float]:
    from scipy import stats

    ok = ~np.isnan(pred) & np.isfinite(acc)
    if ok.sum() < 3 or np.ptp(acc[ok]) == 0 or np.unique(pred[ok]).size < 2:
        return float("nan"), float("nan")
    res = stats.spearmanr(acc[ok], pred[ok])
    return float(res.statistic), float(res.pvalue)


def predictor_maps(
    sigma_w2: NDArray[np.float64], sigma_b2: NDArray[np.float64]
) -> tuple[Any, dict[str, NDArray[np.float64]], dict[str, NDArray[np.float64]]]:
    """The mean-field phase diagram, the lines per sigma_b^2 and the predictors per cell
    (shape (n_w, n_b)) for tanh on the grid; see :data:`PREDICTORS`."""
    from crackle.theory import meanfield as mf

    sw = np.asarray(sigma_w2, dtype=float)
    sb = np.asarray(sigma_b2, dtype=float)
    ds = mf.phase_diagram(sw, sb, "tanh")
    lines = {
        "edge_of_chaos": np.asarray(mf.edge_of_chaos(sb, "tanh").sigma_w2, dtype=float),
        "widom_w2": np.asarray(mf.widom_line(sb, "tanh").sigma_w2, dtype=float),
        "widom_w": np.asarray(
            mf.widom_line(sb, "tanh", susceptibility="strength_sigma_w").sigma_w2, dtype=float
        ),
    }
    grid = sw[:, None] * np.ones(sb.size)[None, :]
    chi1 = np.asarray(ds["chi_1"], dtype=float)
    preds = {
        "widom_w2_closeness": -np.abs(grid - lines["widom_w2"][None, :]),
        "widom_w_closeness": -np.abs(grid - lines["widom_w"][None, :]),
        "edge_closeness": -np.abs(grid - lines["edge_of_chaos"][None, :]),
        "chi_1_closeness": -np.abs(chi1 - 1.0),
        "susceptibility_w2": np.asarray(ds["chi_w_strength"], dtype=float),
        "susceptibility_w": np.asarray(ds["chi_w_strength_sigma_w"], dtype=float),
    }
    return ds, lines, preds


def _rank_tests(
    cfg: TrainabilityConfig, acc: NDArray[np.float64], preds: dict[str, NDArray[np.float64]]
) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """Bootstrap intervals, pooled and per sigma_b^2, and paired differences against
    the edge of chaos."""
    from crackle.experiments._rank_bootstrap import paired_rank_difference, rank_bootstrap

    n_s = acc.shape[2]
    scopes: dict[str, tuple[NDArray[np.float64], dict[str, NDArray[np.float64]]]] = {
        "pooled": (acc.reshape(-1, n_s), {k: v.ravel() for k, v in preds.items()})
    }
    for j, sb in enumerate(cfg.sigma_b2):
        scopes[f"sigma_b2={sb:g}"] = (acc[:, j, :], {k: v[:, j] for k, v in preds.items()})
    tests: dict[str, dict[str, Any]] = {}
    diffs: dict[str, dict[str, Any]] = {}
    ss = np.random.SeedSequence([cfg.seed, 7])
    for (scope, (resp, p)), child in zip(scopes.items(), ss.spawn(len(scopes)), strict=True):
        kw: dict[str, Any] = {"n_boot": cfg.n_boot, "confidence": cfg.confidence}
        r1, r2 = child.spawn(2)
        tests[scope] = rank_bootstrap(resp, p, seed=np.random.default_rng(r1), **kw)
        diffs[scope] = {}
        rng = np.random.default_rng(r2)
        for name in ("widom_w2_closeness", "widom_w_closeness", "chi_1_closeness"):
            key = f"{name} - edge_closeness"
            diffs[scope][key] = paired_rank_difference(
                resp, p[name], p["edge_closeness"], seed=rng, **kw
            )
    return tests, diffs


def trainability_map(
    config: TrainabilityConfig | None = None,
    *,
    out: str | Path | None = None,
    progress: Callable[[int], None] | None = None,
    workers: int = 1,
) -> TrainabilityResult:
    """Train ``n_seeds`` networks per (sigma_w^2, sigma_b^2) cell and rank the accuracy
    against the mean-field lines.

    Parameters
    ----------
    config : TrainabilityConfig, optional
        The grid, the training and the statistics; default :class:`TrainabilityConfig()`.
    out : path, optional
        Run directory. Each finished (cell, seed) is written at once to ``out/cells/``
        and skipped when the map is computed again, so an interrupted grid resumes
        without retraining finished cells.
    progress : callable, optional
        Called with the number of trainings done.
    workers : int
        Processes that train cells at once (each on one torch thread); the results do
        not depend on it.

    Returns
    -------
    TrainabilityResult

    References
    ----------
    Ghavasieh et al., "Toward a Physics of Deep Learning and Brains", arXiv 2509.22649
    (2025), Fig. 3; Schoenholz, Gilmer, Ganguli & Sohl-Dickstein, "Deep information
    propagation", ICLR 2017.
    """
    from crackle._validation import check_callable

    cfg = TrainabilityConfig() if config is None else config
    if not isinstance(cfg, TrainabilityConfig):
        raise param_error("config", _FUNC, "a TrainabilityConfig", cfg)
    n_workers = check_int(workers, "workers", _FUNC, low=1, high=256)
    check_callable(progress, "progress", _FUNC)
    run = None if out is None else RunDir.create(out)
    if run is not None:
        run.claim(cfg.to_dict())
    n_w, n_b, n_s = len(cfg.sigma_w2), len(cfg.sigma_b2), cfg.n_seeds
    acc = np.full((n_w, n_b, n_s), np.nan)
    # Seed-major order: an interrupted grid holds whole maps of the first seeds.
    jobs = [(i, j, k) for k in range(n_s) for i in range(n_w) for j in range(n_b)]

    def path(i: int, j: int, k: int) -> Path | None:
        if run is None:
            return None
        return run.path / "cells" / f"w{i:03d}_b{j:03d}{f'_s{k:02d}' if k else ''}.json"

    def record(i: int, j: int, k: int, value: float) -> None:
        row = {"sigma_w2": cfg.sigma_w2[i], "sigma_b2": cfg.sigma_b2[j], "replicate": k,
               "seed": _cell_seed(cfg, i, j, k), "accuracy": value}  # fmt: skip
        acc[i, j, k] = cached_json(path(i, j, k), lambda: row)["accuracy"]

    done = 0
    todo = []
    for i, j, k in jobs:
        p = path(i, j, k)
        if p is not None and p.exists():
            acc[i, j, k] = cached_json(p, dict)["accuracy"]
            done += 1
        else:
            todo.append((i, j, k))
    if progress is not None and done:
        progress(done)
    if todo and n_workers == 1:
        x, y = load_flat(cfg.dataset)
        with torch_threads():
            for i, j, k in todo:
                sw, sb = cfg.sigma_w2[i], cfg.sigma_b2[j]
                record(i, j, k, _train_cell(cfg, sw, sb, x, y, _cell_seed(cfg, i, j, k)))
                done += 1
                if progress is not None:
                    progress(done)
    elif todo:
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor, as_completed

        ctx = mp.get_context("spawn")
        with ProcessPoolExecutor(
            n_workers, mp_context=ctx, initializer=_worker_init, initargs=(cfg.dataset,)
        ) as pool:
            futures = {
                pool.submit(
                    _worker_train,
                    cfg,
                    cfg.sigma_w2[i],
                    cfg.sigma_b2[j],
                    _cell_seed(cfg, i, j, k),
                ): (i, j, k)
                for i, j, k in todo
            }
            for fut in as_completed(futures):
                record(*futures[fut], fut.result())
                done += 1
                if progress is not None:
                    progress(done)
    ds, lines, preds = predictor_maps(np.array(cfg.sigma_w2), np.array(cfg.sigma_b2))
    mean = acc.mean(axis=2)
    corr = {k: _spearman(mean.ravel(), v.ravel()) for k, v in preds.items()}
    tests, diffs = _rank_tests(cfg, acc, preds)
    result = TrainabilityResult(cfg, mean, acc, ds, lines, preds, corr, tests, diffs)
    if run is not None:
        write_json(run.path / "trainability.json", result.to_dict())
    return result
