"""Atomic file writes: write to a temporary name in the same folder, then rename."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["atomic_path", "fsync_dir", "json_default", "json_text", "write_json", "write_npz"]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def fsync_dir(path: str | Path) -> None:
    """Flush a directory's entries (a rename into it) to disk, where the OS allows."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:  # some file systems cannot fsync a directory
        pass
    finally:
        os.close(fd)


def _fsync_file(path: str | Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it to ``path``.

    An interrupted write leaves at most a hidden ``.tmp`` file, never a half-written
    file under the final name. The file is flushed to disk before the rename and the
    directory after it, so a power cut leaves either the old file or the whole new
    one.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    # mkstemp makes the file private (0600); give it the mode a plain open() would.
    os.chmod(tmp, 0o666 & ~_umask())
    try:
        yield Path(tmp)
        _fsync_file(tmp)
        os.replace(tmp, path)
        fsync_dir(path.parent)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def json_default(obj: Any) -> Any:
    """JSON encoding of numpy scalars and arrays."""
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"{type(obj).__name__} is not JSON serialisable")


def _finite(obj: Any) -> Any:
    # JSON has no NaN or inf: write them as null so every reader can parse the file.
    if isinstance(obj, float) and not np.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_finite(v) for v in obj]
    return obj


def json_text(data: Any) -> str:
    """``data`` as indented JSON; NaN and inf become null (JSON has neither)."""
    return json.dumps(_finite(data), indent=2, default=json_default) + "\n"


def write_json(path: str | Path, data: Any) -> Path:
    """Write ``data`` as indented JSON, atomically; NaN and inf become null."""
    with atomic_path(path) as tmp:
        tmp.write_text(json_text(data))
    return Path(path)


def write_npz(path: str | Path, arrays: dict[str, Any]) -> Path:
    """Write arrays to a compressed ``.npz`` file, atomically."""
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez_compressed(fh, **arrays)
    return Path(path)
