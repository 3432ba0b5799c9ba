"""Optional dependencies: one line naming the pip command when one is missing.

crackle's core (events, statistics, figures, run directories, the command line) needs
only its required dependencies (numpy, scipy, matplotlib, pandas, pyarrow, typer,
rich); the rest come with extras (see ``pyproject.toml``):

========== ===================================================== =======================
extra      packages                                              what needs them
========== ===================================================== =======================
nn         torch, scikit-learn                                   ``crackle.nn``, the
                                                                 torch simulators of
                                                                 ``crackle.sim``,
                                                                 ``crackle.experiments``,
                                                                 ``crackle.train``'s
                                                                 penalty and monitor
sweep      dask[distributed], pydantic                           ``crackle.sweep``
cluster    dask-jobqueue (and the sweep extra)                   sweeps on Slurm or PBS
neural     pynwb, neo                                            NWB and Neo spike files
lightning  pytorch-lightning, tensorboard (and the nn extra)     the Lightning callback
theory     xarray, netCDF4                                       ``crackle.meanfield``
                                                                 (phase diagrams as
                                                                 xarray datasets and
                                                                 netCDF files)
docs       mkdocs, mkdocs-material, mkdocstrings, jupytext, ...  the documentation site
all        every extra above but docs
========== ===================================================== =======================
"""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["EXTRAS", "MissingExtraError", "as_missing_extra", "require"]

#: Module -> (the distribution pip installs, the crackle extra that brings it).
EXTRAS: dict[str, tuple[str, str]] = {
    "torch": ("torch", "nn"),
    "sklearn": ("scikit-learn", "nn"),
    "distributed": ("dask[distributed]", "sweep"),
    "dask": ("dask[distributed]", "sweep"),
    "pydantic": ("pydantic", "sweep"),
    "dask_jobqueue": ("dask-jobqueue", "cluster"),
    "pynwb": ("pynwb", "neural"),
    "neo": ("neo", "neural"),
    "lightning": ("pytorch-lightning", "lightning"),
    "pytorch_lightning": ("pytorch-lightning", "lightning"),
    "tensorboard": ("tensorboard", "lightning"),
    "xarray": ("xarray", "theory"),
    "netCDF4": ("netCDF4", "theory"),
}


class MissingExtraError(ModuleNotFoundError):
    """An optional dependency is not installed; the message names the pip command.

    A :class:`ModuleNotFoundError` (an :class:`ImportError`), so that ``except
    ImportError`` keeps working; the command line prints it as one line and exits with
    code 2.
    """


def as_missing_extra(exc: ModuleNotFoundError) -> MissingExtraError | None:
    """The :class:`MissingExtraError` for ``exc`` when the missing module is one an extra
    installs (:data:`EXTRAS`), else ``None``.

    Examples
    --------
    >>> from crackle._extras import as_missing_extra
    >>> str(as_missing_extra(ModuleNotFoundError("No module named 'torch'", name="torch")))
    "this feature needs torch: pip install 'crackle[nn]'"
    >>> as_missing_extra(ModuleNotFoundError("No module named 'foo'", name="foo")) is None
    True
    """
    if isinstance(exc, MissingExtraError):
        return exc
    top = (exc.name or "").split(".")[0]
    if top not in EXTRAS:
        return None
    dist, extra = EXTRAS[top]
    return MissingExtraError(f"this feature needs {dist}: pip install 'crackle[{extra}]'", name=top)


def require(module: str, *, extra: str | None = None, feature: str | None = None) -> ModuleType:
    """Import ``module`` or raise :class:`MissingExtraError` naming the extra to install.

    Parameters
    ----------
    module : str
        The module to import (``"torch"``, ``"pynwb"``).
    extra : str, optional
        The crackle extra that installs it (default: looked up in :data:`EXTRAS`).
    feature : str, optional
        What needs it, for the message (default: ``"this feature"``).

    Returns
    -------
    module
        The imported module.

    Raises
    ------
    MissingExtraError
        When ``module`` (or the top-level package it lives in) is not installed. An
        installed package that fails to import raises its own error unchanged.

    Examples
    --------
    >>> from crackle._extras import require
    >>> require("numpy").__name__
    'numpy'
    >>> require("no_such_mod", extra="nn", feature="crackle.nn")
    Traceback (most recent call last):
    ...
    crackle._extras.MissingExtraError: crackle.nn needs no_such_mod: pip install 'crackle[nn]'
    """
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        top = module.split(".")[0]
        if exc.name is not None and exc.name.split(".")[0] != top:
            raise  # the package is there, one of its own dependencies is not
        dist, default_extra = EXTRAS.get(top, (top, None))
        extra = extra or default_extra
        what = feature or "this feature"
        hint = f"pip install 'crackle[{extra}]'" if extra else f"pip install {dist}"
        raise MissingExtraError(f"{what} needs {dist}: {hint}", name=top) from None
