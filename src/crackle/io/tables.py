"""Avalanche tables on disk: streaming Parquet writer and readers for Parquet, CSV, .npy."""

from __future__ import annotations

import os
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np
from numpy.typing import NDArray

from crackle._validation import CrackleValueError
from crackle.events.avalanches import Avalanches

__all__ = ["AvalancheWriter", "read_avalanche_table", "read_avalanches"]

_SIZE_NAMES = ("size", "sizes", "S", "s")
_DURATION_NAMES = ("duration", "durations", "T", "t")


class AvalancheWriter:
    """Append avalanche chunks to a Parquet file; the file appears only when complete.

    Rows: ``size`` (float64), ``duration`` (int64), ``censored`` (bool). Chunks go to
    ``NAME.partial`` and are renamed to ``NAME`` by :meth:`close`, so an interrupted run
    never leaves a file that looks whole. Usable as the ``sink`` of an
    :class:`~crackle.events.AvalancheAccumulator`.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._partial = self.path.with_name(self.path.name + ".partial")
        self._writer: Any = None
        self.rows = 0

    def __call__(self, chunk: Avalanches) -> None:
        self.write(chunk)

    def write(self, chunk: Avalanches) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        n, nc = chunk.n, chunk.censored_sizes.size
        table = pa.table(
            {
                "size": np.concatenate([chunk.sizes, chunk.censored_sizes]),
                "duration": np.concatenate([chunk.durations, chunk.censored_durations]),
                "censored": np.concatenate([np.zeros(n, bool), np.ones(nc, bool)]),
            }
        )
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._writer = pq.ParquetWriter(self._partial, table.schema, compression="zstd")
        self._writer.write_table(table)
        self.rows += n + nc

    def close(self) -> Path:
        """Finish the file and give it its final name."""
        if self._writer is None:
            self.write(Avalanches(np.zeros(0), np.zeros(0, np.int64)))
        self._writer.close()
        self._writer = None
        os.replace(self._partial, self.path)
        return self.path

    def __enter__(self) -> AvalancheWriter:
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        if et is None:
            self.close()
        elif self._writer is not None:
            self._writer.close()  # keep the .partial for inspection; never the final name


def _pick(
    names: list[str], wanted: str | None, defaults: tuple[str, ...], what: str, path: Path
) -> str:
    if wanted is not None:
        if wanted not in names:
            raise CrackleValueError(
                f"{path} has no column {wanted!r} for {what}; its columns are {names}"
            )
        return wanted
    for cand in defaults:
        if cand in names:
            return cand
    raise CrackleValueError(
        f"{path} has no {what} column (looked for {list(defaults)}); its columns are {names}. "
        f"Name the column with --{what[:-1]}-column"
    )


def read_avalanche_table(
    path: str | Path, *, size_column: str | None = None, duration_column: str | None = None
) -> tuple[NDArray[np.float64], NDArray[np.float64] | None, NDArray[np.bool_] | None]:
    """Read sizes, durations (if present) and censored flags (if present) from a file.

    Formats by suffix: ``.parquet``; ``.csv`` (header row); ``.npy`` (a 1-D array of
    sizes, or an (n, 2) array of sizes and durations); ``.npz`` (arrays named like the
    columns).
    """
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"no such file: {p}")
    suffix = p.suffix.lower()
    cols: dict[str, NDArray[Any]]
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        table = pq.read_table(p)
        cols = {name: table.column(name).to_numpy() for name in table.column_names}
    elif suffix == ".csv":
        import pyarrow.csv as pacsv

        table = pacsv.read_csv(p)
        cols = {name: table.column(name).to_numpy() for name in table.column_names}
    elif suffix == ".npy":
        arr = np.load(p, allow_pickle=False)
        if arr.ndim == 1:
            cols = {"size": arr}
        elif arr.ndim == 2 and arr.shape[1] == 2:
            cols = {"size": arr[:, 0], "duration": arr[:, 1]}
        else:
            raise CrackleValueError(
                f"{p} holds an array of shape {arr.shape}; expected (n,) sizes or (n, 2) "
                "sizes and durations"
            )
    elif suffix == ".npz":
        with np.load(p, allow_pickle=False) as data:
            cols = {k: data[k] for k in data.files}
    else:
        raise CrackleValueError(
            f"cannot read {p}: use a .parquet, .csv, .npy or .npz file (got {suffix or 'none'})"
        )
    names = list(cols)
    s_name = _pick(names, size_column, _SIZE_NAMES, "sizes", p)
    sizes = np.asarray(cols[s_name], dtype=np.float64)
    durations = None
    try:
        d_name = _pick(names, duration_column, _DURATION_NAMES, "durations", p)
        durations = np.asarray(cols[d_name], dtype=np.float64)
    except CrackleValueError:
        if duration_column is not None:
            raise
    censored = np.asarray(cols["censored"], dtype=bool) if "censored" in cols else None
    return sizes, durations, censored


def read_avalanches(
    path: str | Path, *, size_column: str | None = None, duration_column: str | None = None
) -> Avalanches:
    """Read a table of avalanches (sizes and durations) as :class:`Avalanches`.

    Rows flagged ``censored`` are kept apart, as everywhere in crackle.
    """
    sizes, durations, censored = read_avalanche_table(
        path, size_column=size_column, duration_column=duration_column
    )
    if durations is None:
        raise CrackleValueError(
            f"{path} has sizes but no durations; the crackling report needs both "
            "(name the column with --duration-column)"
        )
    if censored is None:
        return Avalanches.from_arrays(sizes, durations)
    whole = Avalanches.from_arrays(sizes[~censored], durations[~censored])
    return Avalanches(
        whole.sizes,
        whole.durations,
        sizes[censored],
        durations[censored].astype(np.int64),
        info={"source": str(path)},
    )
