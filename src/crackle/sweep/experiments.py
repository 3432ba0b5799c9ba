"""The experiments a sweep can run, registered by name.

An experiment is a pydantic model of its parameters (every field with its type,
bounds and default; unknown keys refused) and a function ``func(params, seed)`` that
returns a dict: scalars (int, float, bool, str, None) go to the sweep table, numpy
arrays to a ``.npz`` file beside the point's ledger entry. The function runs on a
Dask worker, so it imports what it needs inside (torch stays out of the client).

Built in: ``simulate`` (avalanches of a Gaussian network and their crackling
report), ``meanfield`` (mean-field quantities at one point), ``probe`` (perturbation
probes of a built-in model, in ``crackle.sweep._probe``), ``train`` (the training
accuracy of a deep tanh MLP, in ``crackle.sweep._train``) and ``smoke`` (a cheap check
of a cluster, its seeds and the ledger). Others register with
:func:`register_experiment`; a module listed in ``_PLUGINS`` is imported the first
time its experiment is asked for (the place for ``probe`` and ``train``). Installed
packages add experiments through the entry-point group ``crackle.experiments`` (name
-> ``MODULE:FUNCTION``, a plain function or an :class:`Experiment`), loaded when a
sweep names them; plain functions follow the contract in ``crackle.sweep.plugins``.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from crackle._validation import CrackleValueError

__all__ = [
    "Experiment",
    "ExperimentParams",
    "MeanFieldParams",
    "SimulateParams",
    "SmokeParams",
    "experiment_names",
    "get_experiment",
    "register_experiment",
]


class ExperimentParams(BaseModel):
    """Base of every experiment's parameters: strict types, no unknown keys, no NaN."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, allow_inf_nan=False)


ExperimentFunc = Callable[[Any, int], Mapping[str, Any]]


@dataclass(frozen=True)
class Experiment:
    """A named experiment: its parameter model and ``func(params, seed) -> dict``.

    ``source`` (``MODULE:FUNCTION``) and ``root`` (the directory that module was
    imported from) are set for plugin experiments (``crackle.sweep.plugins``): their
    parameter model is built at run time, so they travel to workers as the source
    and are imported again there.
    """

    name: str
    params: type[ExperimentParams]
    func: ExperimentFunc
    description: str = ""
    source: str = ""
    root: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "source": self.source,
            "params": self.params.model_json_schema(),
        }

    def __reduce_ex__(self, protocol: Any) -> Any:
        if self.params.__module__ == "crackle.sweep.plugins":  # a plugin's run-time model
            from crackle.sweep import plugins

            if self.source and not self.source.startswith("__main__:"):
                return (plugins._rebuild, (self.source, self.name, self.root))
            # Defined in a script or a notebook: the function itself travels (Dask
            # pickles it by value) and the parameter model is built again from it.
            return (plugins._rebuild_function, (self.func, self.name))
        return super().__reduce_ex__(protocol)


_REGISTRY: dict[str, Experiment] = {}
# Experiments that live in modules with heavy imports: name -> module that registers
# it on import. Filled in as they arrive, e.g. "probe": "crackle.nn._sweep".
_PLUGINS: dict[str, str] = {"probe": "crackle.sweep._probe", "train": "crackle.sweep._train"}


def register_experiment(
    name: str,
    params: type[ExperimentParams],
    func: ExperimentFunc,
    description: str = "",
    *,
    replace: bool = False,
) -> Experiment:
    """Make ``name`` available to sweeps (``experiment = "name"`` in the config).

    ``params`` and ``func`` must be importable (module-level) so that Dask workers
    find them.
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise CrackleValueError(f"experiment names are identifiers; got {name!r}")
    if not (isinstance(params, type) and issubclass(params, ExperimentParams)):
        raise CrackleValueError(f"params of experiment {name!r} must subclass ExperimentParams")
    if name in _REGISTRY and not replace:
        raise CrackleValueError(f"experiment {name!r} is already registered (pass replace=True)")
    exp = Experiment(name, params, func, description)
    _REGISTRY[name] = exp
    return exp


def _entry_points() -> dict[str, Any]:
    """Installed packages' experiments: entry points of the group crackle.experiments."""
    from importlib.metadata import entry_points

    return {ep.name: ep for ep in entry_points(group="crackle.experiments")}


def experiment_names() -> list[str]:
    """Names of every experiment a sweep can run, sorted (entry points included)."""
    return sorted(set(_REGISTRY) | set(_PLUGINS) | set(_entry_points()))


def get_experiment(name: str) -> Experiment:
    """The experiment registered as ``name`` (importing its plugin module if needed).

    Built-in and registered names come first; then the entry points of the group
    ``crackle.experiments`` (the entry point's name is the experiment's name).
    """
    if name not in _REGISTRY and name in _PLUGINS:
        importlib.import_module(_PLUGINS[name])
    if name not in _REGISTRY and isinstance(name, str):
        ep = _entry_points().get(name)
        if ep is not None:
            from crackle.sweep.plugins import load_plugin

            return load_plugin(f"{ep.module}:{ep.attr}", name=name)
    if name not in _REGISTRY:
        known = ", ".join(experiment_names())
        raise CrackleValueError(f"unknown experiment {name!r}; known: {known}")
    return _REGISTRY[name]


# --- simulate -------------------------------------------------------------------------


class SimulateParams(ExperimentParams):
    """Avalanches of a Gaussian network (see ``crackle.sim.gaussian_avalanches``)."""

    width: int = Field(64, ge=1, description="N, neurons per layer")
    depth: int = Field(64, ge=1, description="L, layers")
    sigma_w2: float = Field(1.0, gt=0, description="weight variance")
    sigma_b2: float = Field(0.0, ge=0, description="bias variance")
    n: int = Field(5000, ge=10, description="inputs (one avalanche each)")
    q0: float = Field(1e-3, gt=0, description="input strength and threshold")
    resample_every: int = Field(1024, ge=1, description="inputs per weight draw")
    activation: Literal["tanh", "erf", "gelu", "hard_tanh", "linear", "relu", "selu"] = "tanh"
    method: Literal["matrix", "gram", "marginal"] = "matrix"
    dtype: Literal["float32", "float64"] = "float32"
    device: str = "cpu"
    collapse: bool = Field(True, description="shape collapse in the report")
    keep_avalanches: bool = Field(False, description="save sizes and durations (.npz)")


def run_simulate(p: SimulateParams, seed: int) -> dict[str, Any]:
    """Simulate, then summarise with the crackling report."""
    from crackle.sim.gaussian import gaussian_avalanches
    from crackle.stats.crackling import EXPONENT_FIELDS, crackling_report

    av = gaussian_avalanches(
        p.width,
        p.depth,
        p.sigma_w2,
        p.sigma_b2,
        p.n,
        q0=p.q0,
        resample_every=p.resample_every,
        activation=p.activation,
        seed=seed,
        device=p.device,
        dtype=p.dtype,
        method=p.method,
    )
    rep = crackling_report(av, collapse=p.collapse)
    out: dict[str, Any] = {
        name: getattr(rep, name) for name in (*EXPONENT_FIELDS[:-1], "scaling_mismatch", "critical")
    }
    out["nearest_class"] = "" if rep.nearest is None else rep.nearest.name
    out["verdict"] = rep.verdict.outcome
    out["n_avalanches"] = rep.n
    out["n_censored"] = rep.n_censored
    out["n_empty"] = rep.n_empty
    out["n_overflow"] = int(av.info.get("n_overflow", 0))
    if p.keep_avalanches:
        out["sizes"] = np.asarray(av.sizes)
        out["durations"] = np.asarray(av.durations)
    return out


# --- meanfield ------------------------------------------------------------------------


class MeanFieldParams(ExperimentParams):
    """One point of the mean-field phase diagram (see ``crackle.meanfield``)."""

    sigma_w2: float = Field(ge=0, description="weight variance")
    sigma_b2: float = Field(0.0, ge=0, description="bias variance")
    activation: Literal["tanh", "erf", "relu", "hard_tanh", "linear", "selu", "gelu"] = "tanh"
    n_hermite: int = Field(256, ge=8, description="Mehler series terms (c*)")


def run_meanfield(p: MeanFieldParams, seed: int) -> dict[str, Any]:
    """q*, chi_1, chi_w, ... at (sigma_w2, sigma_b2), and the edge of chaos there."""
    from crackle.theory import meanfield as mf

    point = mf.fixed_point(p.sigma_w2, p.sigma_b2, p.activation, n_hermite=p.n_hermite)
    out = {
        k: v
        for k, v in point.to_dict().items()
        if k not in ("sigma_w2", "sigma_b2", "activation", "status")
    }
    out["fixed_point_status"] = point.status
    out["sigma_w2_edge"] = float(mf.edge_of_chaos(p.sigma_b2, p.activation).sigma_w2)
    return out


# --- smoke ----------------------------------------------------------------------------


class SmokeParams(ExperimentParams):
    """A cheap point: sleeps, draws one number from its seed, fails on request."""

    x: float = Field(0.0, description="any number; y = x^2 + draw")
    seconds: float = Field(0.0, ge=0, le=3600, description="time to sleep")
    fail: bool = Field(False, description="raise RuntimeError instead of returning")


def run_smoke(p: SmokeParams, seed: int) -> dict[str, Any]:
    """Check a cluster, its seeds and the ledger without heavy work."""
    time.sleep(p.seconds)
    if p.fail:
        raise RuntimeError(f"smoke point x = {p.x} failed on request (fail = true)")
    draw = float(np.random.default_rng(seed).standard_normal())
    return {"y": p.x**2 + draw, "draw": draw}


register_experiment(
    "simulate",
    SimulateParams,
    run_simulate,
    "Gaussian-network avalanches (crackle.sim.gaussian_avalanches) + crackling report",
)
register_experiment(
    "meanfield",
    MeanFieldParams,
    run_meanfield,
    "mean-field quantities at (sigma_w2, sigma_b2) (crackle.meanfield.fixed_point)",
)
register_experiment(
    "smoke", SmokeParams, run_smoke, "sleep, draw one number from the seed, fail on request"
)
