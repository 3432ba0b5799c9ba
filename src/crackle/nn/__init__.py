"""Model-side code (torch): the forward-hook recorder, perturbation probes,
pre-activation ResNets, avalanches in engineered networks, safe checkpoint loading.

Reached lazily from ``import crackle`` (``ck.nn``), so that importing crackle never
imports torch; importing ``crackle.nn`` itself does.
"""

from __future__ import annotations

from crackle._extras import require

require("torch", extra="nn", feature="crackle.nn")

from crackle.nn._blocks import BlocksFallbackWarning
from crackle.nn._dead import DeadNetworkWarning
from crackle.nn._modules import BatchNormTrainingWarning, ProbeModeWarning
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
    GrowthRateResult,
    LyapunovResult,
    LyapunovSpectrum,
    branching_parameter,
    dynamic_range,
    lyapunov_exponent,
    lyapunov_spectrum,
    random_direction_rate,
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
    "BlocksFallbackWarning",
    "BranchingResult",
    "DeadNetworkWarning",
    "DynamicRangeResult",
    "GrowthRateResult",
    "LyapunovResult",
    "LyapunovSpectrum",
    "NetworkAvalanches",
    "PreActResNet",
    "ProbeModeWarning",
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
    "lyapunov_spectrum",
    "network_avalanches",
    "plot_probe_table",
    "preact_resnet",
    "probe_table",
    "random_direction_rate",
    "record",
    "recurrent_criticality",
    "resnet18",
    "resnet34",
    "resnet50",
]
