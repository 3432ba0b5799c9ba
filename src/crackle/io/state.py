"""Reading crackle's own state files (config.json, sweep.json, report.json, .npz)
with a named error when one is corrupt, never a traceback from deep inside.

A state file that does not parse, or parses to the wrong kind of value, raises
:class:`CorruptStateError` naming the file, what is wrong and what to do. ``.npz``
files are opened with ``allow_pickle=False``: crackle writes plain arrays only, and a
file asking to unpickle objects is refused as corrupt, never loaded.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from crackle._validation import CrackleValueError

__all__ = ["CorruptStateError", "load_npz", "read_json_object"]


class CorruptStateError(CrackleValueError):
    """A state file of a run or sweep directory is unreadable or not what crackle
    wrote (a :class:`~crackle.CrackleValueError`)."""


def read_json_object(
    path: str | Path, what: str, *, required: Sequence[str] = (), fix: str | None = None
) -> dict[str, Any]:
    """The JSON object in ``path`` (``what`` names it in errors).

    Raises
    ------
    CorruptStateError
        The file is not JSON, not an object, or lacks one of ``required``.
    OSError
        The file cannot be read (missing, permission, a directory).
    """
    p = Path(path)
    fix = fix or f"remove {p} (or its directory) and run again"
    try:
        data = json.loads(p.read_text())
    except UnicodeDecodeError as exc:
        raise CorruptStateError(f"{p} is corrupt: not a text file ({exc.reason}); {fix}") from None
    except ValueError as exc:
        raise CorruptStateError(f"{p} is corrupt: not valid JSON ({exc}); {fix}") from None
    if not isinstance(data, dict):
        raise CorruptStateError(
            f"{p} is corrupt: it holds a JSON {type(data).__name__}, not the {what} object "
            f"crackle writes; {fix}"
        )
    missing = [k for k in required if k not in data]
    if missing:
        raise CorruptStateError(
            f"{p} is corrupt: the {what} lacks {', '.join(repr(k) for k in missing)}; {fix}"
        )
    return data


def load_npz(
    path: str | Path, *, required: Sequence[str] = (), fix: str | None = None
) -> dict[str, np.ndarray]:
    """Every array of the ``.npz`` file ``path``, loaded without pickles.

    Raises
    ------
    CorruptStateError
        Not an ``.npz`` archive, a member that needs unpickling, a numeric array of
        object dtype, or a missing member of ``required``.
    """
    p = Path(path)
    fix = fix or f"remove {p} and run again"
    try:
        with np.load(p, allow_pickle=False) as data:
            if not isinstance(data, np.lib.npyio.NpzFile):
                raise CorruptStateError(f"{p} is corrupt: a single .npy array, not an .npz; {fix}")
            out = {k: np.asarray(data[k]) for k in data.files}
    except CorruptStateError:
        raise
    except IsADirectoryError:
        raise
    except FileNotFoundError:
        raise
    except PermissionError:
        raise
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, KeyError) as exc:
        reason = str(exc)
        if "pickle" in reason:
            reason = "it asks to unpickle Python objects, which crackle never does on load"
        raise CorruptStateError(
            f"{p} is corrupt or not a crackle .npz file ({reason}); {fix}"
        ) from None
    missing = [k for k in required if k not in out]
    if missing:
        raise CorruptStateError(
            f"{p} is corrupt: it lacks the array(s) {', '.join(missing)}; {fix}"
        )
    return out
