"""The ``probe`` sweep experiment: perturbation probes of a built-in model at init.

Imported by :func:`crackle.sweep.experiments.get_experiment` the first time a sweep
names ``probe`` (it needs torch, which the sweep client never imports otherwise).
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator

from crackle.sweep.experiments import ExperimentParams, register_experiment

__all__ = ["ProbeParams", "run_probe"]


class ProbeParams(ExperimentParams):
    """A built-in model of ``crackle.nn.zoo`` (or ``torchvision:NAME`` / ``timm:NAME``
    when installed), initialised from the point's seed, probed on ``n`` Gaussian inputs."""

    model: str = Field("mlp-tanh", description="model name, see crackle.nn.zoo.MODEL_NAMES")
    n: int = Field(128, ge=2, description="Gaussian probe inputs")
    batch_size: int = Field(64, ge=1, description="inputs per probe batch")

    @field_validator("model")
    @classmethod
    def _known(cls, v: str) -> str:
        from crackle.nn.zoo import MODEL_NAMES

        if v not in MODEL_NAMES and not v.startswith(("torchvision:", "timm:")):
            raise ValueError(f"must be one of {', '.join(MODEL_NAMES)} (or torchvision:/timm:)")
        return v


def run_probe(p: ProbeParams, seed: int) -> dict[str, Any]:
    """Branching parameter, Lyapunov exponent and dynamic range (one row of
    :func:`crackle.nn.zoo.probe_table`)."""
    from crackle.nn.zoo import build_model, probe_table

    row = probe_table(
        {p.model: build_model(p.model, seed=seed % 2**31)},
        n=p.n,
        seed=seed % 2**31,
        batch_size=p.batch_size,
    ).iloc[0]
    return {
        k: row[k].item() if hasattr(row[k], "item") else row[k]
        for k in row.index
        if k not in ("model", "accuracy")
    }


register_experiment(
    "probe",
    ProbeParams,
    run_probe,
    "perturbation probes (branching, Lyapunov, dynamic range) of a built-in model at init",
)
