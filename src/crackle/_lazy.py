"""Lazy package attributes (PEP 562): a package names what it exports and where each
name is defined; a name's module is imported on first access, so that importing the
package imports none of them.

Each package keeps its names in a ``TYPE_CHECKING`` block as well, so that mypy and
IDEs see them.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["attach"]


def attach(
    package: str,
    names: Mapping[str, str],
    *,
    modules: Mapping[str, str] | None = None,
    before: Mapping[str, Callable[[], object]] | None = None,
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``package``.

    Parameters
    ----------
    package : str
        The package's ``__name__``.
    names : mapping of str to str
        Exported name -> the module that defines it, relative to ``package``
        (``"powerlaw"``) or absolute (``"crackle.stats.powerlaw"``).
    modules : mapping of str to str, optional
        Exported name -> a module that the name is (``"meanfield":
        "crackle.theory.meanfield"``).
    before : mapping of str to callable, optional
        Exported name -> a check run before its module is imported (used to name a
        missing optional dependency in one line, see :mod:`crackle._extras`).
    """
    mods = dict(modules or {})
    checks = dict(before or {})

    def resolve(where: str) -> str:
        return where if where.startswith("crackle") else f"{package}.{where}"

    def __getattr__(name: str) -> Any:
        if name not in names and name not in mods:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        if name in checks:
            checks[name]()
        if name in mods:
            value = importlib.import_module(resolve(mods[name]))
        else:
            value = getattr(importlib.import_module(resolve(names[name])), name)
        # Cached on the package: the next access is a plain attribute lookup.
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(names) | set(mods))

    return __getattr__, __dir__
