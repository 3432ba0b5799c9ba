"""Stream a simulator's draws into a run directory, resumably.

    OUT/config.json          the parameters (a re-run must pass the same ones)
    OUT/parts/d<first>.parquet   events of the draws from <first> on (atomic files)
    OUT/totals.npz           next draw, shape sums and counts up to it (atomic)
    OUT/avalanches.parquet, OUT/shapes.npz   when the run is complete (then the parts
                             are merged and removed; totals.npz stays: it holds the
                             counts of empty and overflowed inputs)

A part is written before the totals that count it; on resume, parts at or after the
totals' next draw are dropped and recomputed, so nothing is counted twice.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from crackle.events.avalanches import Avalanches, concat_avalanches
from crackle.events.shapes import ShapeSums
from crackle.io.atomic import atomic_path, write_npz
from crackle.io.rundir import RunDir
from crackle.io.tables import AvalancheWriter

__all__ = ["StreamTotals", "stream_to_run"]

#: Seconds between checkpoints (a part file and the state), bounding lost work.
CHECKPOINT_SECONDS = 20.0


class StreamTotals:
    """Shape sums and counts of the draws streamed so far."""

    def __init__(self, max_shape: int) -> None:
        self.shapes = ShapeSums.empty(max_shape)
        self.n = self.n_censored = self.n_empty = self.n_overflow = 0
        self.next_draw = 0

    def add(self, chunk: Avalanches) -> None:
        if chunk.shapes is not None:
            self.shapes = self.shapes.merge(chunk.shapes)
        self.n += chunk.n
        self.n_censored += chunk.n_censored
        self.n_empty += chunk.n_empty
        self.n_overflow += int(chunk.info.get("n_overflow", 0))

    def save(self, path: Path) -> None:
        counts = [self.next_draw, self.n, self.n_censored, self.n_empty, self.n_overflow]
        write_npz(path, {**self.shapes.to_arrays(), "stream_counts": np.array(counts, np.int64)})

    @classmethod
    def load(cls, path: Path, max_shape: int) -> StreamTotals:
        out = cls(max_shape)
        with np.load(path) as data:
            out.shapes = ShapeSums.from_arrays(data)
            c = data["stream_counts"]
        out.next_draw, out.n, out.n_censored, out.n_empty, out.n_overflow = (int(v) for v in c)
        return out


def stream_to_run(
    out: str | Path,
    params: dict[str, Any],
    draws: Callable[[int], Iterator[tuple[int, Avalanches]]],
    max_shape: int,
    *,
    keep_events: bool,
    progress: Callable[[int], None] | None = None,
) -> tuple[Avalanches, StreamTotals]:
    """Run ``draws(start_draw)`` into the run directory ``out``, resuming a stopped run.

    Returns the avalanches (events read back from disk when ``keep_events``, else
    shapes and counts only) and the totals. ``progress`` gets the inputs done so far.
    """
    run = RunDir.create(out)
    parts, ckpt = run.path / "parts", run.path / "totals.npz"
    _check_size_definition(run, params)
    run.claim(params)
    totals = StreamTotals.load(ckpt, max_shape) if ckpt.exists() else StreamTotals(max_shape)
    if run.avalanches.exists():  # finished before: read it back
        return (_read(run, totals) if keep_events else _summary(totals)), totals
    parts.mkdir(exist_ok=True)
    for stale in parts.glob("d*.parquet"):
        if int(stale.stem[1:]) >= totals.next_draw:
            stale.unlink()
    done = totals.n + totals.n_censored + totals.n_empty
    if progress is not None and done:
        progress(done)
    buffer: list[Avalanches] = []
    first, last_save = totals.next_draw, time.monotonic()

    def save() -> None:
        nonlocal buffer, first, last_save
        if buffer:
            with atomic_path(parts / f"d{first:09d}.parquet") as tmp:
                writer = AvalancheWriter(tmp)
                writer.write(concat_avalanches(buffer))
                writer.close()
        totals.save(ckpt)
        buffer, first, last_save = [], totals.next_draw, time.monotonic()

    for d, chunk in draws(totals.next_draw):
        totals.add(chunk)
        totals.next_draw = d + 1
        buffer.append(
            Avalanches(chunk.sizes, chunk.durations, chunk.censored_sizes, chunk.censored_durations)
        )
        done += chunk.n + chunk.n_censored + chunk.n_empty
        if progress is not None:
            progress(done)
        if time.monotonic() - last_save > CHECKPOINT_SECONDS:
            save()
    save()
    _merge(parts, run.avalanches)
    run.write_shapes(totals.shapes)
    shutil.rmtree(parts)
    return (_read(run, totals) if keep_events else _summary(totals)), totals


def _check_size_definition(run: RunDir, params: dict[str, Any]) -> None:
    """Refuse, naming both, a run directory whose avalanches have another size
    definition (or none recorded: sizes of a version before the width factor N);
    any other difference is left to ``RunDir.claim``."""
    if "size_definition" not in params or not run.config.exists():
        return
    stored = json.loads(run.config.read_text()).get("parameters", {})
    have = stored.get("size_definition")
    if have != params["size_definition"]:
        have = have or f"{stored.get('sizes', 'total')!r} sizes without the width factor N"
        raise FileExistsError(
            f"{run.path} holds a run with other parameters: its avalanche sizes are "
            f"{have}, this run's would be {params['size_definition']}; a resumed run "
            "would mix the two. Choose another output directory or remove it"
        )


def _merge(parts: Path, target: Path) -> None:
    """Concatenate the part files, in draw order, into one Parquet file (streaming)."""
    import pyarrow.parquet as pq

    files = sorted(parts.glob("d*.parquet"))
    with atomic_path(target) as tmp:
        writer = None
        for f in files:
            table = pq.read_table(f)
            if writer is None:
                writer = pq.ParquetWriter(tmp, table.schema, compression="zstd")
            writer.write_table(table)
        if writer is None:
            empty = AvalancheWriter(tmp)
            empty.close()
        else:
            writer.close()


def _read(run: RunDir, totals: StreamTotals) -> Avalanches:
    import pyarrow.parquet as pq

    # Our own file, possibly with no complete avalanche at all (a supercritical run):
    # read the columns directly rather than through the validating user-file reader.
    t = pq.read_table(run.avalanches)
    size = t.column("size").to_numpy()
    dur = t.column("duration").to_numpy().astype(np.int64)
    cens = t.column("censored").to_numpy()
    return Avalanches(size[~cens], dur[~cens], size[cens], dur[cens], totals.shapes, totals.n_empty)


def _summary(totals: StreamTotals) -> Avalanches:
    return Avalanches(
        np.zeros(0), np.zeros(0, np.int64), shapes=totals.shapes, n_empty=totals.n_empty
    )
