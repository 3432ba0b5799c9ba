"""Hostile inputs for the public API: every parameter of every function below, in
turn, gets every hostile value; the other parameters stay valid.

An outcome is one of: a result, a ``CrackleValueError`` (a clear error; also a
``FileNotFoundError`` naming a missing file, as documented where a path is taken), a
traceback (any other exception, or a RuntimeWarning from inside), or a silent
acceptance (a result where the value must have been refused: a string for a flag,
a fraction for an integer, complex numbers, a Python object).
"""

from __future__ import annotations

import inspect
import warnings
from collections import Counter
from collections.abc import Callable
from typing import Any

import numpy as np

import crackle as ck

_rng = np.random.default_rng(0)
COUNTS = _rng.poisson(1.0, 3000).astype(float)
SIGNAL = _rng.standard_normal(1024)
TRAJ = np.abs(_rng.standard_normal((6, 40)))
SIZES = ck.sample_power_law(1.5, 1.0, 400, seed=1)
DURS = np.maximum(1, np.round(SIZES**0.5)).astype(int)
AV = ck.avalanches_from_counts(_rng.poisson(1.0, 20000))

HOSTILE: dict[str, Any] = {
    "None": None,
    "text": "x",
    "text-no": "no",
    "True": True,
    "-1": -1,
    "0": 0,
    "2.7": 2.7,
    "nan": float("nan"),
    "inf": float("inf"),
    "1e308": 1e308,
    "complex": 1 + 2j,
    "object": object(),
    "dict": {},
    "empty list": [],
    "ragged": [[1.0, 2.0], [3.0]],
    "array nan": np.array([1.0, np.nan, 2.0] * 100),
    "array complex": np.arange(1, 301) + 1j,
    "array text": np.array(["a", "b"] * 150),
    "array 2-D": np.ones((20, 20)),
    "array empty": np.zeros(0),
    "array huge": np.full(300, 1e300),
}

# Values that no parameter may silently accept (a result is a silent acceptance).
ALWAYS_REFUSED = ("complex", "object", "array complex", "array text")


def _cases() -> list[tuple[str, Callable[..., Any], dict[str, Any]]]:
    mf, sim = ck.meanfield, ck.sim
    return [
        (
            "avalanches_from_counts",
            ck.avalanches_from_counts,
            dict(counts=COUNTS, threshold=0.0, max_shape_duration=50, raster=None),
        ),
        (
            "avalanches_from_trajectories",
            ck.avalanches_from_trajectories,
            dict(q=TRAJ, threshold=0.5, max_shape_duration=20),
        ),
        (
            "branching_ratio",
            ck.branching_ratio,
            dict(
                counts=COUNTS,
                method="mr",
                coefficients="ts",
                fit="exp",
                kmax=5,
                dt=1.0,
                n_boot=3,
                n_blocks=None,
                seed=0,
            ),
        ),
        ("concat_avalanches", ck.concat_avalanches, dict(parts=[AV, AV])),
        ("dfa", ck.dfa, dict(x=SIGNAL, scales=None, order=1)),
        (
            "fit_power_law",
            ck.fit_power_law,
            dict(x=SIZES, discrete=False, xmin="auto", xmax=None, min_tail=10, ks="sup"),
        ),
        (
            "fit_size_duration",
            ck.fit_size_duration,
            dict(sizes=SIZES, durations=DURS, tmin=None, tmax=None, min_count=10, pool=False),
        ),
        (
            "nearest_class",
            ck.nearest_class,
            dict(
                tau=1.5,
                alpha=2.0,
                inv_snz=2.0,
                tau_err=0.0,
                alpha_err=0.0,
                inv_snz_err=0.0,
                floor=0.0,
            ),
        ),
        (
            "predicted_exponent",
            ck.predicted_exponent,
            dict(tau=1.5, alpha=2.0, tau_err=0.0, alpha_err=0.0),
        ),
        ("psd_slope", ck.psd_slope, dict(x=SIGNAL, fs=1.0, band=None, nperseg=None, n_bins=20)),
        (
            "sample_power_law",
            ck.sample_power_law,
            dict(alpha=2.0, xmin=1.0, n=100, discrete=False, xmax=None, seed=0),
        ),
        (
            "shape_collapse",
            ck.shape_collapse,
            dict(data=AV, tmin=4, tmax=None, min_count=20, gamma_step=0.01, n_grid=50),
        ),
        ("edge_of_chaos", mf.edge_of_chaos, dict(sigma_b2=[0.0, 0.1], activation="tanh")),
        (
            "widom_line",
            mf.widom_line,
            dict(sigma_b2=[0.05], activation="tanh", susceptibility="strength", sigma_w2_max=10.0),
        ),
        (
            "fixed_point",
            mf.fixed_point,
            dict(sigma_w2=1.5, sigma_b2=0.05, activation="tanh", n_hermite=64),
        ),
        (
            "length_map_trajectory",
            mf.length_map_trajectory,
            dict(q0=1.0, sigma_w2=1.5, sigma_b2=0.05, depth=10, activation="tanh"),
        ),
        (
            "phase_diagram",
            mf.phase_diagram,
            dict(sigma_w2=[0.5, 1.5], sigma_b2=[0.0, 0.1], activation="tanh", n_hermite=32),
        ),
        (
            "critical_exponents",
            mf.critical_exponents,
            dict(activation="tanh", eps_range=(1e-5, 1e-3), n_points=5),
        ),
        (
            "branching_process",
            sim.branching_process,
            dict(
                m=0.9, n=200, max_duration=200, max_shape_duration=50, offspring="poisson", seed=0
            ),
        ),
        ("iid_poisson_activity", sim.iid_poisson_activity, dict(rate=1.0, n_steps=200, seed=0)),
        (
            "gaussian_avalanches",
            sim.gaussian_avalanches,
            dict(
                width=8,
                depth=10,
                sigma_w2=1.25,
                sigma_b2=0.0,
                n=64,
                q0=1e-3,
                resample_every=32,
                activation="tanh",
                seed=0,
                method="matrix",
                keep_events=True,
                progress=None,
                sink=None,
                workers=1,
            ),
        ),
    ]


def _must_refuse(func: Callable[..., Any], param: str, label: str) -> bool:
    if label in ALWAYS_REFUSED:
        return True
    ann = str(inspect.signature(func).parameters[param].annotation)
    if label == "text-no" and "bool" in ann:
        return True
    return label == "2.7" and "int" in ann and "float" not in ann


def outcome(func: Callable[..., Any], kwargs: dict[str, Any]) -> tuple[str, str]:
    """('result' | 'clear' | 'traceback', detail) of one call."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            func(**kwargs)
        except (ck.CrackleValueError, FileNotFoundError) as exc:  # a missing file, named
            return "clear", str(exc)
        except Exception as exc:
            return "traceback", f"{type(exc).__name__}: {exc}"[:300]
    inner = [w for w in caught if issubclass(w.category, RuntimeWarning)]
    if inner:
        return "traceback", f"RuntimeWarning: {inner[0].message}"[:300]
    return "result", ""


def hostile_calls() -> list[tuple[str, str, str, Callable[..., Any], dict[str, Any]]]:
    """(function, parameter, hostile label, callable, kwargs) for every combination."""
    calls = []
    for name, func, good in _cases():
        for param in good:
            for label, value in HOSTILE.items():
                calls.append((name, param, label, func, {**good, param: value}))
    return calls


def run_all(calls: list[Any] | None = None) -> tuple[Counter[str], list[str]]:
    """Counts of outcomes (result, clear, traceback, silent) and the failures."""
    counts: Counter[str] = Counter()
    failures = []
    for name, param, label, func, kwargs in calls if calls is not None else hostile_calls():
        kind, detail = outcome(func, kwargs)
        if kind == "result" and _must_refuse(func, param, label):
            kind, detail = "silent", "accepted"
        counts["tried"] += 1
        counts[kind] += 1
        if kind in ("traceback", "silent"):
            failures.append(f"{name}({param}={label}): {kind}: {detail}")
    return counts, failures


def nn_cases() -> list[tuple[str, Callable[..., Any], dict[str, Any]]]:
    """The probes of crackle.nn and checkpoint loading (imports torch)."""
    import tempfile
    from pathlib import Path

    import torch

    gen = torch.Generator().manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Linear(6, 8), torch.nn.Tanh(), torch.nn.Linear(8, 4), torch.nn.Tanh()
    )
    x = torch.randn(5, 6, generator=gen).numpy()
    ckpt = Path(tempfile.mkdtemp()) / "net.pt"
    torch.save(net.state_dict(), ckpt)
    nn_ = ck.nn
    common = dict(model=net, inputs=x, modules=None, batch_size=4)
    return [
        (
            "branching_parameter",
            nn_.branching_parameter,
            dict(**common, eps=1e-3, n_directions=1, per_unit=True, seed=0),
        ),
        (
            "lyapunov_exponent",
            nn_.lyapunov_exponent,
            dict(**common, per_unit=True, n_iter=5, tol=1e-6, seed=0),
        ),
        (
            "lyapunov_spectrum",
            nn_.lyapunov_spectrum,
            dict(**common, k=2, per_unit=True, n_iter=5, tol=1e-6, seed=0),
        ),
        (
            "random_direction_rate",
            nn_.random_direction_rate,
            dict(**common, n_directions=1, per_unit=True, seed=0),
        ),
        (
            "dynamic_range",
            nn_.dynamic_range,
            dict(**common, intensities=[0.1, 1.0, 10.0], stat="mean_square"),
        ),
        (
            "layer_signals",
            nn_.layer_signals,
            dict(model=net, inputs=x, modules="leaves", stat="norm", batch_size=4),
        ),
        (
            "load_checkpoint",
            nn_.load_checkpoint,
            dict(path=ckpt, model=net, strict=True, map_location="cpu"),
        ),
    ]


def nn_hostile_calls() -> list[tuple[str, str, str, Callable[..., Any], dict[str, Any]]]:
    """As :func:`hostile_calls`, for :func:`nn_cases`; inputs of the right shape are
    also scaled to float32's edges (1e30: saturated units, norms beyond float32;
    1e-30), zero, a single sample, an empty batch and integers."""
    calls = []
    for name, func, good in nn_cases():
        for param in good:
            values = dict(HOSTILE)
            if param == "inputs":
                x = good["inputs"]
                values.update(
                    {
                        "x * 1e30": x * 1e30,
                        "x * 1e-30": x * 1e-30,
                        "zeros": np.zeros_like(x),
                        "one sample": x[:1],
                        "no sample": x[:0],
                        "integers": np.ones(x.shape, dtype=int),
                    }
                )
            for label, value in values.items():
                calls.append((name, param, label, func, {**good, param: value}))
    return calls
