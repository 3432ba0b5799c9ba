"""Model-side code (torch): the forward-hook recorder, perturbation probes,
pre-activation ResNets, avalanches in engineered networks, safe checkpoint loading.

Reached lazily from ``import crackle`` (``ck.nn``), so that importing crackle never
imports torch; importing ``crackle.nn`` itself does.
"""

from __future__ import annotations

from crackle.nn._modules import BatchNormTrainingWarning
from crackle.nn.avalanches import (
    NetworkAvalanches,
    avalanche_exponents,
    gaussian_inputs,
    layer_signals,
    network_avalanches,
)
from crackle.nn.checkpoint import UnsafeCheckpointError, load_checkpoint
from crackle.nn.probes import (
    BranchingResult,
    DynamicRangeResult,
    LyapunovResult,
    branching_parameter,
    dynamic_range,
    lyapunov_exponent,
)
from crackle.nn.record import Recording, record
from crackle.nn.recurrent import (
    RecurrentCriticality,
    checkpoint_criticality,
    hidden_state_criticality,
    hidden_states,
    recurrent_criticality,
)
from crackle.nn.resnet import (
    Add,
    PreActResNet,
    preact_resnet,
    resnet18,
    resnet34,
    resnet50,
)
from crackle.nn.zoo import MODEL_NAMES, build_model, plot_probe_table, probe_table

__all__ = [
    "MODEL_NAMES",
    "Add",
    "BatchNormTrainingWarning",
    "BranchingResult",
    "DynamicRangeResult",
    "LyapunovResult",
    "NetworkAvalanches",
    "PreActResNet",
    "Recording",
    "RecurrentCriticality",
    "UnsafeCheckpointError",
    "avalanche_exponents",
    "branching_parameter",
    "build_model",
    "checkpoint_criticality",
    "dynamic_range",
    "gaussian_inputs",
    "hidden_state_criticality",
    "hidden_states",
    "layer_signals",
    "load_checkpoint",
    "lyapunov_exponent",
    "network_avalanches",
    "plot_probe_table",
    "preact_resnet",
    "probe_table",
    "record",
    "recurrent_criticality",
    "resnet18",
    "resnet34",
    "resnet50",
]
