"""Built-in models by name, and one table of criticality metrics over many models.

Built-in names (all built here, initialised from a seed, nothing downloaded):

========================= =========================================================
``mlp-tanh``              784-256-256-256-256-10 tanh MLP on 1 x 28 x 28 inputs,
                          W ~ N(0, sigma_w^2 / fan_in) with sigma_w^2 = 1, no bias
                          variance: the edge of chaos at sigma_b = 0
``mlp-tanh-ordered``      the same at sigma_w^2 = 0.5 (ordered phase)
``mlp-tanh-chaotic``      the same at sigma_w^2 = 3 (chaotic phase)
``mlp-relu``              the same with ReLU and sigma_w^2 = 2 (He initialisation)
``cnn``                   a small CNN on 1 x 28 x 28: two conv-relu-pool blocks, a
                          linear readout
``resnet18``, ``-34``,    pre-activation ResNets, ImageNet widths, 3 x 32 x 32
``-50``                   inputs, 10 classes (:func:`crackle.nn.preact_resnet`)
``resnet18-cifar``, ...   the same with narrow CIFAR widths
========================= =========================================================

``torchvision:NAME`` and ``timm:NAME`` build those libraries' architectures, with
random weights (never downloaded), when they are installed; crackle never requires
them. The MLPs and the CNN are ``nn.Sequential`` of blocks, so their layers for the
probes are the blocks (hidden layer = linear + activation) and the readout.
"""

from __future__ import annotations

import importlib
import itertools
import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import torch
from torch import nn

from crackle._validation import check_int, param_error

__all__ = ["MODEL_NAMES", "build_model", "plot_probe_table", "probe_table"]


def _mlp(activation: type[nn.Module], sigma_w2: float, seed: int) -> nn.Sequential:
    gen = torch.Generator().manual_seed(seed)
    widths = [784, 256, 256, 256, 256]
    blocks: list[nn.Module] = []
    for i, (a, b) in enumerate(itertools.pairwise(widths)):
        lin = nn.Linear(a, b)
        parts = [nn.Flatten(), lin, activation()] if i == 0 else [lin, activation()]
        blocks.append(nn.Sequential(*parts))
    blocks.append(nn.Linear(widths[-1], 10))
    net = nn.Sequential(*blocks)
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, nn.Linear):
                m.weight.normal_(0.0, math.sqrt(sigma_w2 / m.in_features), generator=gen)
                m.bias.zero_()
    net.input_shape = (1, 28, 28)  # type: ignore[assignment]
    return net


def _cnn(seed: int) -> nn.Sequential:
    torch.manual_seed(seed)  # default PyTorch initialisation, seeded
    net = nn.Sequential(
        nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)),
        nn.Sequential(nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)),
        nn.Sequential(nn.Flatten(), nn.Linear(32 * 7 * 7, 10)),
    )
    net.input_shape = (1, 28, 28)  # type: ignore[assignment]
    return net


def _resnet(depth: int, style: str) -> Callable[[int], nn.Module]:
    def build(seed: int) -> nn.Module:
        from crackle.nn.resnet import preact_resnet

        return preact_resnet(depth, style=style, num_classes=10, input_size=32, seed=seed)

    return build


_BUILDERS: dict[str, Callable[[int], nn.Module]] = {
    "mlp-tanh": lambda s: _mlp(nn.Tanh, 1.0, s),
    "mlp-tanh-ordered": lambda s: _mlp(nn.Tanh, 0.5, s),
    "mlp-tanh-chaotic": lambda s: _mlp(nn.Tanh, 3.0, s),
    "mlp-relu": lambda s: _mlp(nn.ReLU, 2.0, s),
    "cnn": _cnn,
    **{f"resnet{d}": _resnet(d, "imagenet") for d in (18, 34, 50)},
    **{f"resnet{d}-cifar": _resnet(d, "cifar") for d in (18, 34, 50)},
}

#: The built-in model names.
MODEL_NAMES = tuple(_BUILDERS)


def _external(lib: str, name: str) -> nn.Module:
    try:
        mod = importlib.import_module(lib)
    except ImportError as exc:
        raise param_error(
            "name", "build_model", f"a built-in name, or {lib}:NAME with {lib} installed", lib
        ) from exc
    if lib == "torchvision":
        model = mod.models.get_model(name, weights=None)
        model.input_shape = (3, 224, 224)
    else:
        model = mod.create_model(name, pretrained=False)
        cfg = getattr(model, "pretrained_cfg", {}) or {}
        model.input_shape = tuple(cfg.get("input_size", (3, 224, 224)))
    return model


def build_model(name: str, *, seed: int = 0) -> nn.Module:
    """A built-in model (see the module docstring), or ``torchvision:NAME`` / ``timm:NAME``.

    The model is in eval mode and carries ``input_shape`` (per sample).

    Examples
    --------
    >>> from crackle.nn.zoo import build_model
    >>> build_model("cnn").input_shape
    (1, 28, 28)
    """
    func = "build_model"
    seed = check_int(seed, "seed", func, low=0)
    if not isinstance(name, str):
        raise param_error("name", func, "a model name", name)
    lib, sep, rest = name.partition(":")
    if sep and lib in ("torchvision", "timm"):
        model = _external(lib, rest)
    elif name in _BUILDERS:
        model = _BUILDERS[name](seed)
    else:
        raise param_error(
            "name", func, f"one of {', '.join(MODEL_NAMES)}, torchvision:NAME or timm:NAME", name
        )
    return model.eval()


def probe_table(
    models: Mapping[str, nn.Module],
    *,
    n: int = 128,
    seed: int = 0,
    accuracy: Mapping[str, float] | None = None,
    batch_size: int = 64,
    inputs: Any = None,
    modules: Any = None,
    progress: Callable[[str], None] | None = None,
) -> Any:
    """Branching parameter, largest Lyapunov exponent and dynamic range of each model.

    Every model sees ``inputs`` when given (one array or tensor for all models, or a
    mapping from label to inputs), else ``n`` standard Gaussian inputs of its
    ``input_shape`` (drawn from ``seed``; a model without ``input_shape`` is then an
    error), on the device of its parameters, with the layers ``modules`` (default:
    the model's blocks, see :func:`crackle.nn.lyapunov_exponent`).

    Returns
    -------
    pandas.DataFrame
        One row per model: ``model, n_params, n_layers, n_inputs, branching,
        branching_stderr, branching_geometric, lyapunov, lyapunov_stderr,
        dynamic_range_db, dynamic_range_reason, distance`` (``|lyapunov|``, the distance
        from criticality lambda_max = 0) and ``accuracy`` (NaN where not given). A
        dynamic range that is not a measurement is NaN, with the reason.
    """
    import pandas as pd

    from crackle.nn.avalanches import gaussian_inputs
    from crackle.nn.probes import branching_parameter, dynamic_range, lyapunov_exponent

    func = "probe_table"
    n = check_int(n, "n", func, low=2)
    acc = dict(accuracy or {})
    unknown = sorted(set(acc) - set(models))
    if unknown:
        raise param_error("accuracy", func, f"keyed by model labels {sorted(models)}", unknown)
    if isinstance(inputs, Mapping):
        missing = sorted(set(models) - set(inputs))
        if missing:
            raise param_error("inputs", func, f"inputs for every model {sorted(models)}", missing)
    rows = []
    for label, model in models.items():
        if inputs is None:
            shape = getattr(model, "input_shape", None)
            if shape is None:
                raise param_error(
                    "models", func, "models with an input_shape attribute (per sample)", label
                )
            x = gaussian_inputs(shape, n, seed=seed)
        else:
            x = inputs[label] if isinstance(inputs, Mapping) else inputs
        if progress is not None:
            progress(label)
        kw: dict[str, Any] = {"batch_size": batch_size, "modules": modules}
        br = branching_parameter(model, x, seed=seed, **kw)
        ly = lyapunov_exponent(model, x, seed=seed, **kw)
        dr = dynamic_range(model, x, **kw)
        rows.append(
            {
                "model": label,
                "n_params": int(sum(p.numel() for p in model.parameters())),
                "n_layers": len(ly.names),
                "n_inputs": ly.n_samples,
                "branching": br.value,
                "branching_stderr": br.stderr,
                "branching_geometric": br.geometric,
                "lyapunov": ly.value,
                "lyapunov_stderr": ly.stderr,
                "dynamic_range_db": dr.value,
                "dynamic_range_reason": dr.reason or "",
                "distance": abs(ly.value),
                "accuracy": float(acc[label]) if label in acc else np.nan,
            }
        )
    return pd.DataFrame(rows)


def plot_probe_table(df: Any, fig: Any = None) -> Any:
    """The three metrics per model with their standard errors as error bars (critical
    values dashed), and accuracy against |lambda_max| when any accuracy is given
    (:func:`crackle.report.nn_figures.plot_probe`)."""
    from crackle.report.nn_figures import plot_probe

    return plot_probe(df, fig)
