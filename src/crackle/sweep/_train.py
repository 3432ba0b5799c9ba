"""The ``train`` sweep experiment: one Gaussian-initialised deep tanh MLP trained with
SGD, its training accuracy (one cell of ``crackle experiment trainability``).

Imported the first time a sweep names ``train`` (it needs torch).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from crackle.sweep.experiments import ExperimentParams, register_experiment

__all__ = ["TrainParams", "run_train"]


class TrainParams(ExperimentParams):
    """The parameters of :class:`crackle.experiments.trainability.TrainabilityConfig`
    for one (sigma_w^2, sigma_b^2) cell."""

    sigma_w2: float = Field(1.0, gt=0, description="weight variance")
    sigma_b2: float = Field(0.0, ge=0, description="bias variance")
    depth: int = Field(20, ge=1, description="hidden layers")
    width: int = Field(64, ge=1, description="neurons per hidden layer")
    epochs: int = Field(2, ge=1, description="epochs")
    batches_per_epoch: int = Field(200, ge=1, description="SGD steps per epoch")
    batch_size: int = Field(128, ge=1, description="batch size")
    lr: float = Field(0.01, gt=0, description="SGD learning rate")
    n_eval: int = Field(10_000, ge=1, description="training images the accuracy is measured on")
    dataset: Literal["fashion_mnist", "digits"] = "fashion_mnist"


def run_train(p: TrainParams, seed: int) -> dict[str, Any]:
    """Train one network from the point's seed; its training accuracy."""

    from crackle._threads import torch_threads
    from crackle.experiments._mlp import load_flat
    from crackle.experiments.trainability import TrainabilityConfig, _train_cell

    cfg = TrainabilityConfig(
        sigma_w2=(p.sigma_w2,),
        sigma_b2=(p.sigma_b2,),
        depth=p.depth,
        width=p.width,
        epochs=p.epochs,
        batches_per_epoch=p.batches_per_epoch,
        batch_size=p.batch_size,
        lr=p.lr,
        n_eval=p.n_eval,
        dataset=p.dataset,
    )
    x, y = load_flat(p.dataset)
    with torch_threads(1):
        return {"accuracy": _train_cell(cfg, p.sigma_w2, p.sigma_b2, x, y, seed % 2**63)}


register_experiment(
    "train",
    TrainParams,
    run_train,
    "training accuracy of a Gaussian-initialised deep tanh MLP (SGD)",
)
