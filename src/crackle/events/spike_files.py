"""Spike files: :func:`read_spikes` for CSV, Parquet, NPZ/NPY, NWB and Neo.

NWB (``pynwb``) and Neo are optional: ``pip install crackle[neural]``; a missing one is a
one-line error naming that command. The input handling shared by every format is
:meth:`crackle.events.Spikes.from_arrays`'s.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from crackle._validation import CrackleValueError, check_choice, param_error
from crackle.events.spikes import Spikes

__all__ = ["read_spikes"]

_TABLES = (".csv", ".parquet", ".pq", ".npz", ".npy")


def read_spikes(
    path: str | Path,
    *,
    time_col: str = "time",
    unit_col: str | None = "unit",
    format: str | None = None,
    t_start: float | None = None,
    t_stop: float | None = None,
    duplicates: str = "error",
) -> Spikes:
    """Read spike times and units from a file.

    Formats, by extension (or ``format``):

    * ``.csv``, ``.parquet``: one row per spike, columns ``time_col`` and ``unit_col``
      (``unit_col=None``: a single unit);
    * ``.npz``: arrays ``time_col`` and ``unit_col`` (also accepted: ``times`` and
      ``units``); ``.npy``: an array of shape (n_spikes, 2) with columns (unit, time),
      or of shape (n_spikes,) holding the times of a single unit;
    * ``.nwb`` (``format="nwb"``): the Units table of an NWB file (``pynwb``): its
      ``spike_times`` per unit, labelled by the unit ids; units without spikes kept;
    * anything else (``format="neo"``): ``neo.io.get_io``; the spike trains of every
      segment of the first block, labelled by their names (else their index), times
      in seconds, the window from the trains' t_start and t_stop.

    Parameters
    ----------
    path : str or Path
        The file.
    time_col, unit_col : str
        Column names (tables) or array names (NPZ).
    format : {"csv", "parquet", "npz", "npy", "nwb", "neo"}, optional
        Overrides the extension.
    t_start, t_stop, duplicates
        As in :meth:`Spikes.from_arrays`.

    Returns
    -------
    Spikes

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import crackle as ck
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "spikes.csv"
    >>> _ = p.write_text("unit,time\\n3,0.50\\n1,0.10\\n3,0.25\\n")
    >>> sp = ck.read_spikes(p)
    >>> sp.unit_labels, sp.times.tolist()
    ((1, 3), [0.1, 0.25, 0.5])
    """
    func = "read_spikes"
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such file: {path}")
    fmt = format or _format_of(path)
    fmt = check_choice(fmt, "format", func, ("csv", "parquet", "npz", "npy", "nwb", "neo"))
    kw: dict[str, Any] = {"t_start": t_start, "duplicates": duplicates, "source": str(path)}
    if fmt in ("csv", "parquet"):
        times, units = _read_table(path, fmt, time_col, unit_col)
        return Spikes.from_arrays(
            times, units, t_stop=t_stop, time_col=time_col, unit_col=unit_col or "unit", **kw
        )
    if fmt in ("npz", "npy"):
        times, units = _read_numpy(path, fmt, time_col, unit_col)
        return Spikes.from_arrays(times, units, t_stop=t_stop, **kw)
    if fmt == "nwb":
        times, units, labels, t1 = _read_nwb(path)
    else:
        times, units, labels, t0, t1 = _read_neo(path)
        if t_start is None:
            kw["t_start"] = t0
    return Spikes.from_arrays(
        times, units, unit_labels=labels, t_stop=t1 if t_stop is None else t_stop, **kw
    )


def _format_of(path: Path) -> str:
    ext = path.suffix.lower()
    if ext in _TABLES:
        return {".pq": "parquet"}.get(ext, ext[1:])
    return "nwb" if ext == ".nwb" else "neo"


def _missing_column(col: str, which: str, found: list[str]) -> CrackleValueError:
    return param_error(
        which,
        "read_spikes",
        f"a column of the file (pass {which}=<the column holding the spike "
        f"{'times' if which == 'time_col' else 'units'}>)",
        f"{col!r}; the file has columns {found}",
    )


def _read_table(path: Path, fmt: str, time_col: str, unit_col: str | None) -> tuple[Any, Any]:
    cols = [time_col] + ([unit_col] if unit_col else [])
    if fmt == "parquet":
        import pyarrow.parquet as pq

        names = pq.read_schema(path).names
        for c, which in zip(cols, ("time_col", "unit_col"), strict=False):
            if c not in names:
                raise _missing_column(c, which, names)
        table = pq.read_table(path, columns=cols)
        times = table.column(time_col).to_numpy()
        units = table.column(unit_col).to_numpy() if unit_col else None
        return times, units
    import pandas as pd

    head = pd.read_csv(path, nrows=0).columns.tolist()
    for c, which in zip(cols, ("time_col", "unit_col"), strict=False):
        if c not in head:
            raise _missing_column(c, which, head)
    df = pd.read_csv(path, usecols=cols)
    return df[time_col].to_numpy(), (df[unit_col].to_numpy() if unit_col else None)


def _read_numpy(path: Path, fmt: str, time_col: str, unit_col: str | None) -> tuple[Any, Any]:
    if fmt == "npy":
        arr = np.load(path, allow_pickle=False)
        if arr.ndim == 1:
            return arr, None
        if arr.ndim == 2 and arr.shape[1] == 2:
            return arr[:, 1], arr[:, 0].astype(np.int64) if arr.dtype.kind == "f" else arr[:, 0]
        raise param_error(
            "path",
            "read_spikes",
            "a .npy array of shape (n_spikes, 2) with columns (unit, time), or (n_spikes,) "
            "of times",
            f"shape {arr.shape}",
        )
    with np.load(path, allow_pickle=False) as z:
        names = list(z.files)
        tname = next((c for c in (time_col, "times", "time") if c in names), None)
        if tname is None:
            raise _missing_column(time_col, "time_col", names)
        uname = None
        if unit_col:
            uname = next((c for c in (unit_col, "units", "unit") if c in names), None)
            if uname is None:
                raise _missing_column(unit_col, "unit_col", names)
        return z[tname], (z[uname] if uname else None)


def _need(module: str, what: str) -> Any:
    from crackle._extras import require

    return require(module, extra="neural", feature=f"reading {what} files")


def _read_nwb(path: Path) -> tuple[Any, Any, list[Any], float | None]:
    pynwb = _need("pynwb", "NWB")
    try:
        io = pynwb.NWBHDF5IO(str(path), "r")
    except (FileNotFoundError, PermissionError, IsADirectoryError):
        raise
    except Exception as exc:  # h5py raises a bare OSError on a file that is not HDF5
        raise CrackleValueError(
            f"cannot read {path} as an NWB file ({type(exc).__name__}: {exc}); is it an "
            "NWB 2 (HDF5) recording?"
        ) from None
    with io:
        nwb = io.read()
        table = nwb.units
        if table is None or "spike_times" not in table.colnames:
            raise param_error(
                "path",
                "read_spikes",
                "an NWB file with a Units table (spike_times)",
                str(path),
            )
        ids = [int(v) for v in table.id[:]]
        per = [np.asarray(table["spike_times"][i], dtype=np.float64) for i in range(len(ids))]
    times = np.concatenate(per) if per else np.empty(0)
    units = np.repeat(np.asarray(ids, dtype=np.int64), [p.size for p in per])
    return times, units, ids, None


def _read_neo(path: Path) -> tuple[Any, Any, list[Any], float | None, float | None]:
    neo = _need("neo", "Neo")
    quantities = _need("quantities", "Neo")
    try:
        reader = neo.io.get_io(str(path))
        block = reader.read_block()
    except OSError:
        raise
    except Exception as exc:  # Neo's readers raise anything on a file they cannot parse
        raise CrackleValueError(
            f"cannot read {path} as a spike recording: Neo's reader failed "
            f"({type(exc).__name__}: {exc}). Spike tables go in .csv/.parquet with time "
            "and unit columns; avalanche tables need size and duration columns"
        ) from None
    trains = [st for seg in block.segments for st in seg.spiketrains]
    labels = [st.name if st.name else i for i, st in enumerate(trains)]
    per = [np.asarray(st.rescale(quantities.s).magnitude, dtype=np.float64) for st in trains]
    t0 = min((float(st.t_start.rescale(quantities.s)) for st in trains), default=None)
    t1 = max((float(st.t_stop.rescale(quantities.s)) for st in trains), default=None)
    times = np.concatenate(per) if per else np.empty(0)
    units = np.repeat(np.asarray(labels, dtype=object), [p.size for p in per])
    if all(isinstance(v, int) for v in labels):
        units = units.astype(np.int64)
    return times, units, labels, t0, t1
