"""Experiments: the pipeline's stages put together to reproduce a paper's figure.

Each experiment takes a frozen config, writes a run directory (resumable) and returns a
frozen result with ``to_dict()`` and ``plot()``. They need torch
(``pip install 'crackle[nn]'``) and load it on first use; every name below loads on
first use (PEP 562).

- :func:`finite_size_scaling`: deep avalanches at several widths (Ghavasieh et al. 2025, Fig. 2);
- :func:`trainability_map` and ``crackle.experiments.epochs_to_target.epochs_to_target``:
  trainability over the (sigma_w^2, sigma_b^2) plane and against width (Ghavasieh et al. 2025,
  Fig. 3);
- :func:`train_zoo`: accuracy against distance from criticality (Vock & Meisel 2025);
- ``crackle.experiments.rescue.rescue`` and :func:`continual_learning`: the criticality
  penalty on badly initialised networks and over a long sequence of tasks (Vock & Meisel 2025);
- :func:`lstm_criticality`: LSTMs over training (Ren & Feng 2026).
- :func:`resnet_crackling`: ResNet crackling at initialisation (Ghavasieh et al. 2025, Fig. 4).

``epochs_to_target`` and ``rescue`` share their module's name, so they are imported
from their modules (a package attribute of that name would hide the module).
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from crackle import _lazy
from crackle._extras import require

if TYPE_CHECKING:
    from crackle.experiments.continual import (
        ContinualConfig,
        ContinualResult,
        continual_learning,
    )
    from crackle.experiments.epochs_to_target import EpochsConfig, EpochsResult
    from crackle.experiments.fss import FSSConfig, FSSResult, finite_size_scaling
    from crackle.experiments.lstm import LSTMConfig, LSTMResult, lstm_criticality
    from crackle.experiments.rescue import RescueConfig, RescueResult
    from crackle.experiments.resnet import ResNetConfig, ResNetResult, resnet_crackling
    from crackle.experiments.trainability import (
        TrainabilityConfig,
        TrainabilityResult,
        trainability_map,
    )
    from crackle.experiments.zoo import ZooConfig, ZooResult, train_zoo

__all__ = [
    "ContinualConfig",
    "ContinualResult",
    "EpochsConfig",
    "EpochsResult",
    "FSSConfig",
    "FSSResult",
    "LSTMConfig",
    "LSTMResult",
    "ResNetConfig",
    "ResNetResult",
    "RescueConfig",
    "RescueResult",
    "TrainabilityConfig",
    "TrainabilityResult",
    "ZooConfig",
    "ZooResult",
    "continual_learning",
    "finite_size_scaling",
    "lstm_criticality",
    "resnet_crackling",
    "train_zoo",
    "trainability_map",
]

_NAMES = {
    "ContinualConfig": "continual",
    "ContinualResult": "continual",
    "continual_learning": "continual",
    "EpochsConfig": "epochs_to_target",
    "EpochsResult": "epochs_to_target",
    "FSSConfig": "fss",
    "FSSResult": "fss",
    "finite_size_scaling": "fss",
    "LSTMConfig": "lstm",
    "LSTMResult": "lstm",
    "lstm_criticality": "lstm",
    "ResNetConfig": "resnet",
    "ResNetResult": "resnet",
    "resnet_crackling": "resnet",
    "RescueConfig": "rescue",
    "RescueResult": "rescue",
    "TrainabilityConfig": "trainability",
    "TrainabilityResult": "trainability",
    "trainability_map": "trainability",
    "ZooConfig": "zoo",
    "ZooResult": "zoo",
    "train_zoo": "zoo",
}

__getattr__, __dir__ = _lazy.attach(
    __name__,
    _NAMES,
    before={
        name: partial(require, "torch", extra="nn", feature=f"crackle.experiments.{name}")
        for name in _NAMES
    },
)
