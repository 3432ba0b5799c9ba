"""Experiments from outside crackle: a plain function named ``MODULE:FUNCTION``.

A sweep can run a function of yours without a pydantic model or a registration: name
it with ``crackle sweep CONFIG --plugin MODULE:FUNCTION``, the config's top-level key
``plugin = "MODULE:FUNCTION"``, or an entry point in the group ``crackle.experiments``
of an installed package (``[project.entry-points."crackle.experiments"]`` in its
pyproject.toml, ``NAME = "MODULE:FUNCTION"``; the sweep then says
``experiment = "NAME"``).

The contract a plugin function meets
------------------------------------
- **Parameters in.** Every parameter except ``seed`` is a parameter of the sweep, set
  under ``[fixed]``, ``[grid]`` or ``[[points]]``; its annotation is its type (checked
  strictly, as for the built-in experiments: ``"64"`` is not an ``int``, an ``int`` is
  a ``float``), its default its default (none: the config must set it). Unannotated
  parameters take any TOML value. No ``*args`` or ``**kwargs``, no positional-only
  parameters.
- **Seed in.** A parameter named ``seed`` receives the point's seed, an ``int`` in
  [0, 2^63) derived from the sweep's base seed and the point alone; draw every random
  number from it (``numpy.random.default_rng(seed)``, ``torch.manual_seed(seed)``).
- **Results out.** A mapping, or an object with ``to_dict()`` (a frozen dataclass
  like crackle's results), whose values are JSON-safe: numbers, booleans, strings and
  None go to the sweep's table; numpy arrays and lists of numbers to the point's
  ``.npz`` file; a nested mapping is flattened (``{"fit": {"exponent": 1.5}}`` is the
  column ``fit.exponent``); other lists are stored as JSON text. A result may not
  share its name with a parameter or a table column.
- **Importable.** The function lives at module level of a module the workers can
  import: installed, on ``PYTHONPATH``, or (local workers) in the directory it was
  imported from here, which is handed to them. Imports of heavy packages go inside
  the function.

Examples
--------
>>> import sys, tempfile, textwrap, pathlib
>>> d = tempfile.mkdtemp()
>>> _ = pathlib.Path(d, "my_plugin_doc.py").write_text(textwrap.dedent('''
...     import numpy as np
...     def noisy_square(x: float, scale: float = 1.0, *, seed: int) -> dict:
...         return {"y": x**2 + scale * np.random.default_rng(seed).standard_normal()}
... '''))
>>> sys.path.insert(0, d)
>>> exp = load_plugin("my_plugin_doc:noisy_square")
>>> exp.name, sorted(exp.params.model_fields)
('noisy_square', ['scale', 'x'])
>>> exp.params(x=2.0, scale=0.0)
noisy_squareParams(x=2.0, scale=0.0)
>>> exp.func(exp.params(x=2.0, scale=0.0), 7)
{'y': 4.0}
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import json
import sys
import threading
import typing
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import create_model

from crackle._validation import CrackleValueError
from crackle.sweep.experiments import Experiment, ExperimentParams

__all__ = ["ENTRY_POINT_GROUP", "load_plugin", "plugin_experiment"]

ENTRY_POINT_GROUP = "crackle.experiments"

_LOCK = threading.Lock()
_CACHE: dict[tuple[str, str | None], Experiment] = {}


def _module_root(module: Any) -> str:
    """The sys.path entry ``module`` was imported from ('' when unknown)."""
    file = getattr(module, "__file__", None)
    if not file:
        return ""
    p = Path(file).resolve()
    if p.name == "__init__.py":
        p = p.parent
    depth = len(module.__name__.split("."))
    return str(p.parents[depth - 1]) if len(p.parents) >= depth else ""


def _resolve(spec: str, root: str = "") -> tuple[Any, str]:
    """Import ``MODULE:ATTR`` (dotted ATTR allowed); return the object and its root."""
    if not isinstance(spec, str) or spec.count(":") != 1:
        raise CrackleValueError(
            f"a plugin is given as MODULE:FUNCTION, e.g. my_experiments:run; got {spec!r}"
        )
    mod_name, attr = spec.split(":")
    if not mod_name or not attr or not all(p.isidentifier() for p in mod_name.split(".")):
        raise CrackleValueError(
            f"a plugin is given as MODULE:FUNCTION, e.g. my_experiments:run; got {spec!r}"
        )
    try:
        module = importlib.import_module(mod_name)
    except ModuleNotFoundError as exc:
        if not root or root in sys.path or exc.name != mod_name.split(".")[0]:
            raise CrackleValueError(
                f"cannot import the plugin module {mod_name!r} ({exc}): install it, put "
                "its directory on PYTHONPATH, or run from the directory that holds it"
            ) from None
        sys.path.insert(0, root)  # a worker: the directory the client imported it from
        module = importlib.import_module(mod_name)
    obj: Any = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise CrackleValueError(f"the plugin module {mod_name!r} has no {attr!r}")
        obj = getattr(obj, part)
    return obj, _module_root(module)


def _params_model(func: Callable[..., Any], name: str) -> type[ExperimentParams]:
    """A strict pydantic model of ``func``'s parameters other than ``seed``."""
    try:
        sig = inspect.signature(func)
    except (TypeError, ValueError) as exc:
        raise CrackleValueError(f"plugin {name!r}: cannot read its signature ({exc})") from None
    try:
        hints = typing.get_type_hints(func)
    except Exception as exc:
        raise CrackleValueError(
            f"plugin {name!r}: cannot resolve its annotations ({exc})"
        ) from None
    if "seed" not in sig.parameters:
        raise CrackleValueError(
            f"plugin {name!r} takes no 'seed' parameter: a plugin function receives the "
            "point's seed as seed=... and draws every random number from it"
        )
    fields: dict[str, Any] = {}
    for p in sig.parameters.values():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD, p.POSITIONAL_ONLY):
            raise CrackleValueError(
                f"plugin {name!r}: parameter {p.name!r} must be a named parameter "
                "(no *args, **kwargs or positional-only parameters)"
            )
        if p.name == "seed":
            continue
        default = ... if p.default is p.empty else p.default
        fields[p.name] = (hints.get(p.name, Any), default)
    try:
        model: type[ExperimentParams] = create_model(
            f"{name}Params",
            __base__=ExperimentParams,
            __module__=__name__,
            **fields,
        )
    except Exception as exc:
        raise CrackleValueError(f"plugin {name!r}: unusable parameters ({exc})") from None
    return model


def _flatten(out: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for k, v in out.items():
        key = f"{prefix}{k}"
        if isinstance(v, Mapping):
            flat.update(_flatten(v, key + "."))
        elif isinstance(v, list | tuple):
            arr = np.asarray(v) if v else np.empty(0)
            numeric = arr.dtype.kind in "biuf" and arr.ndim >= 1
            flat[key] = arr if numeric else json.dumps(v)
        else:
            flat[key] = v
    return flat


def plugin_results(out: Any) -> dict[str, Any]:
    """A plugin's return value as the sweep stores it (see the module's contract)."""
    if hasattr(out, "to_dict") and callable(out.to_dict):
        out = out.to_dict()
    elif dataclasses.is_dataclass(out) and not isinstance(out, type):
        out = dataclasses.asdict(out)
    if not isinstance(out, Mapping):
        raise TypeError(
            f"a plugin returns a dict or an object with to_dict(); got {type(out).__name__}"
        )
    return _flatten(out)


@dataclasses.dataclass(frozen=True)
class _Call:
    """``func(params, seed)`` of a plugin experiment: keyword call, results flattened."""

    target: Callable[..., Any]

    def __call__(self, params: ExperimentParams, seed: int) -> dict[str, Any]:
        kwargs = {k: getattr(params, k) for k in type(params).model_fields}
        return plugin_results(self.target(**kwargs, seed=seed))


def plugin_experiment(
    func: Callable[..., Any], *, name: str | None = None, source: str = ""
) -> Experiment:
    """The :class:`Experiment` that runs the plain function ``func`` (see the contract).

    Parameters
    ----------
    func : callable
        A function meeting the contract above.
    name : str, optional
        The experiment's name in the ledger and the point keys (default
        ``func.__name__``).
    source : str
        ``MODULE:FUNCTION``, how workers find ``func`` again (default: from ``func``).
    """
    if not callable(func):
        raise CrackleValueError(f"a plugin must be a function; got {type(func).__name__}")
    name = name or getattr(func, "__name__", "")
    if not isinstance(name, str) or not name.isidentifier():
        raise CrackleValueError(f"experiment names are identifiers; got {name!r}")
    if not source:
        mod, qual = getattr(func, "__module__", None), getattr(func, "__qualname__", "")
        source = f"{mod}:{qual}" if mod and "<" not in qual else ""
    root = _module_root(sys.modules.get(source.split(":")[0])) if source else ""
    doc = (inspect.getdoc(func) or "").strip().split("\n")[0]
    return Experiment(
        name,
        _params_model(func, name),
        _Call(func),
        doc or f"plugin {source or name}",
        source=source,
        root=root,
    )


def load_plugin(spec: str, *, name: str | None = None, root: str = "") -> Experiment:
    """The experiment at ``MODULE:FUNCTION`` (a plain function, or an :class:`Experiment`).

    Parameters
    ----------
    spec : str
        ``MODULE:FUNCTION``; the module is imported (from ``root`` too, if given and
        the module is not found otherwise: how workers find a plugin the client
        imported from a directory of its own).
    name : str, optional
        The experiment's name (default the function's name, or the Experiment's).
    """
    with _LOCK:
        hit = _CACHE.get((spec, name))
        if hit is not None:
            return hit
        obj, found_root = _resolve(spec, root)
        if isinstance(obj, Experiment):
            exp = obj if name in (None, obj.name) else dataclasses.replace(obj, name=name)
        else:
            exp = plugin_experiment(obj, name=name, source=spec)
            exp = dataclasses.replace(exp, root=found_root or root)
        _CACHE[(spec, name)] = exp
        return exp


def _rebuild(spec: str, name: str, root: str) -> Experiment:
    """Unpickling a plugin experiment on a worker: import it again by its source."""
    return load_plugin(spec, name=name, root=root)


def _rebuild_function(call: Any, name: str) -> Experiment:
    """Unpickling a plugin experiment defined in ``__main__``: rebuild it from its function."""
    return plugin_experiment(call.target, name=name, source="")
