"""The run directory: every output of one run, in one folder with a fixed layout.

runs/NAME/
  config.json         every parameter, the seed, the crackle and library versions
  avalanches.parquet  one row per avalanche (size, duration, censored)
  shapes.npz          shape sums per duration
  report.json         the crackling report
  figures/*.png
"""

from __future__ import annotations

import json
import platform
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from crackle.events.shapes import ShapeSums
from crackle.io.atomic import atomic_path, json_default, json_text, write_json, write_npz
from crackle.io.lock import check_unlocked
from crackle.io.state import CorruptStateError, load_npz, read_json_object

__all__ = ["RunDir", "cached_json", "versions"]


def versions() -> dict[str, str]:
    """Versions of crackle, Python and the libraries that shape the numbers."""
    import importlib.metadata as md

    out = {"python": sys.version.split()[0], "platform": platform.platform()}
    for pkg in ("crackle", "numpy", "scipy", "torch"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


@dataclass(frozen=True)
class RunDir:
    """Paths of one run directory (created on first write)."""

    path: Path

    @classmethod
    def create(cls, path: str | Path) -> RunDir:
        """The run directory at ``path``, created when missing.

        Raises ``RunDirLockedError`` when another process is writing it (see
        :func:`crackle.io.lock.run_lock`).
        """
        p = Path(path)
        if p.exists() and not p.is_dir():
            raise FileExistsError(f"{p} exists and is not a directory; choose another --out")
        if p.is_dir():
            check_unlocked(p)
        (p / "figures").mkdir(parents=True, exist_ok=True)
        return cls(p)

    @property
    def config(self) -> Path:
        return self.path / "config.json"

    @property
    def avalanches(self) -> Path:
        return self.path / "avalanches.parquet"

    @property
    def shapes(self) -> Path:
        return self.path / "shapes.npz"

    @property
    def report(self) -> Path:
        return self.path / "report.json"

    @property
    def figures(self) -> Path:
        return self.path / "figures"

    def write_config(self, params: dict[str, Any]) -> Path:
        """``config.json``: the parameters, the versions and the time of the run."""
        return write_json(
            self.config,
            {
                "parameters": params,
                "versions": versions(),
                "created": datetime.now(UTC).isoformat(timespec="seconds"),
            },
        )

    def claim(self, params: dict[str, Any]) -> None:
        """Make this directory the run of ``params``: write ``config.json`` when there
        is none; when there is one, its parameters must be the same (a resumed run),
        else a ``FileExistsError`` says so."""
        if not self.config.exists():
            self.write_config(params)
            return
        stored = self.read_config()["parameters"]
        if stored != json.loads(json.dumps(params, default=json_default)):
            raise FileExistsError(
                f"{self.path} holds a run with other parameters; choose another output "
                "directory or remove it"
            )

    def read_config(self) -> dict[str, Any]:
        """``config.json``, checked: an object with a ``parameters`` object."""
        fix = (
            f"it is not a config crackle wrote. Remove {self.path} to start the run over, "
            "or choose another output directory"
        )
        cfg = read_json_object(self.config, "run config", required=("parameters",), fix=fix)
        if not isinstance(cfg["parameters"], dict):
            raise CorruptStateError(
                f"{self.config} is corrupt: 'parameters' is not an object; {fix}"
            )
        return cfg

    def write_shapes(self, shapes: ShapeSums) -> Path:
        return write_npz(self.shapes, shapes.to_arrays())

    def read_shapes(self) -> ShapeSums | None:
        if not self.shapes.exists():
            return None
        data = load_npz(
            self.shapes, fix=f"remove {self.shapes} and rerun the command that wrote it"
        )
        try:
            return ShapeSums.from_arrays(data)
        except (KeyError, ValueError, TypeError, IndexError) as exc:
            raise CorruptStateError(
                f"{self.shapes} is corrupt: not the shape sums crackle writes ({exc}); remove "
                "it and rerun the command that wrote it"
            ) from None

    def write_report(self, report: dict[str, Any]) -> Path:
        return write_json(self.report, report)


def cached_json(path: Path | None, compute: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """One finished cell of a resumable grid: ``compute()``, written atomically to
    ``path``; when ``path`` already exists, its content instead, nothing recomputed.

    Both ways the dict is returned as JSON reads it back (NaN and inf as None), so a
    resumed grid sees exactly what a fresh one does. ``path=None``: no file.
    """
    if path is not None and path.exists():
        return read_json_object(path, "result", fix=f"remove {path} to compute it again")
    text = json_text(compute())
    if path is not None:
        with atomic_path(path) as tmp:
            tmp.write_text(text)
    return dict(json.loads(text))
