"""Stream a simulator's draws into a run directory, resumably.

    OUT/config.json          the parameters (a re-run must pass the same ones)
    OUT/parts/d<first>.parquet   events of the draws from <first> on (atomic files)
    OUT/totals.npz           next draw, shape sums and counts up to it (atomic)
    OUT/avalanches.parquet, OUT/shapes.npz   when the run is complete (then the parts
                             are merged and removed; totals.npz stays: it holds the
                             counts of empty and overflowed inputs)

A part is written before the totals that count it; on resume, parts at or after the
totals' next draw are dropped and recomputed, so nothing is counted twice.

One writer at a time: the run directory's lock (:func:`crackle.io.lock.run_lock`) is
held for the whole call. The finish is crash-consistent: merge (atomic), shape sums
(atomic), removal of parts/ and of temporaries left by a killed writer; each step is
skipped when already done, so a rerun after a kill at any point gives exactly the
uninterrupted result. Rows are in a fixed order, independent of when checkpoints
fell: by weight draw, then complete before censored avalanches, then in the order
the draw produced them.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from crackle.events.avalanches import Avalanches
from crackle.events.shapes import ShapeSums
from crackle.io.atomic import atomic_path, fsync_dir, write_npz
from crackle.io.lock import run_lock
from crackle.io.rundir import RunDir
from crackle.io.state import CorruptStateError, load_npz
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
        fix = f"remove {path.parent} and run again (the run's checkpoint is damaged)"
        data = load_npz(path, required=("stream_counts",), fix=fix)
        try:
            out.shapes = ShapeSums.from_arrays(data)
            c = np.asarray(data["stream_counts"])
            if c.shape != (5,) or c.dtype.kind not in "iu" or (c < 0).any():
                raise ValueError("stream_counts is not five non-negative integers")
        except (KeyError, ValueError, TypeError) as exc:
            raise CorruptStateError(f"{path} is corrupt ({exc}); {fix}") from None
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
    with run_lock(out):
        return _stream_locked(RunDir.create(out), params, draws, max_shape, keep_events, progress)


def _stream_locked(
    run: RunDir,
    params: dict[str, Any],
    draws: Callable[[int], Iterator[tuple[int, Avalanches]]],
    max_shape: int,
    keep_events: bool,
    progress: Callable[[int], None] | None,
) -> tuple[Avalanches, StreamTotals]:
    parts, ckpt = run.path / "parts", run.path / "totals.npz"
    _check_size_definition(run, params)
    run.claim(params)
    _remove_temporaries(run, parts)  # ours alone: the lock is held
    totals = StreamTotals.load(ckpt, max_shape) if ckpt.exists() else StreamTotals(max_shape)
    if run.avalanches.exists():  # merged before; finish what a killed run left undone
        _finish(run, parts, totals)
        return (_read(run, totals) if keep_events else _summary(totals)), totals
    parts.mkdir(exist_ok=True)
    for stale in parts.glob("d*.parquet"):
        first_draw = _first_draw(stale)
        if first_draw is None or first_draw >= totals.next_draw:
            stale.unlink()
    done = totals.n + totals.n_censored + totals.n_empty
    if progress is not None and done:
        progress(done)
    buffer: list[Avalanches] = []
    first, last_save = totals.next_draw, time.monotonic()

    def save() -> None:
        nonlocal buffer, first, last_save
        if buffer:
            _write_part(parts / f"d{first:09d}.parquet", buffer)
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
    _finish(run, parts, totals)
    return (_read(run, totals) if keep_events else _summary(totals)), totals


def _first_draw(part: Path) -> int | None:
    stem = part.stem[1:]
    return int(stem) if stem.isdigit() else None


def _write_part(path: Path, buffer: list[Avalanches]) -> None:
    """One part file: per draw, its complete avalanches and then its censored ones
    (the same rows in the same order however the draws were grouped into parts)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    sizes, durations, censored = [], [], []
    for c in buffer:
        sizes += [c.sizes, c.censored_sizes]
        durations += [c.durations, c.censored_durations]
        censored += [np.zeros(c.n, bool), np.ones(c.censored_sizes.size, bool)]
    table = pa.table(
        {
            "size": np.concatenate(sizes).astype(np.float64),
            "duration": np.concatenate(durations).astype(np.int64),
            "censored": np.concatenate(censored),
        }
    )
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp, compression="zstd")


def _finish(run: RunDir, parts: Path, totals: StreamTotals) -> None:
    """After the merge: shape sums, then parts/ removed. Each step is skipped when
    done, so it may be repeated after a kill at any point."""
    if not run.shapes.exists():
        run.write_shapes(totals.shapes)
    if parts.exists():
        shutil.rmtree(parts)
        fsync_dir(run.path)
    _remove_temporaries(run, parts)


def _remove_temporaries(run: RunDir, parts: Path) -> None:
    """Hidden ``.NAME.*.tmp`` files of atomic writes that a killed writer left."""
    for folder in (run.path, parts, run.figures):
        if folder.is_dir():
            for f in folder.glob(".*.tmp"):
                f.unlink(missing_ok=True)


def _check_size_definition(run: RunDir, params: dict[str, Any]) -> None:
    """Refuse, naming both, a run directory whose avalanches have another size
    definition (or none recorded: sizes of a version before the width factor N);
    any other difference is left to ``RunDir.claim``."""
    if "size_definition" not in params or not run.config.exists():
        return
    stored = run.read_config()["parameters"]
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

    files = [f for f in parts.glob("d*.parquet") if _first_draw(f) is not None]
    files.sort(key=lambda f: _first_draw(f) or 0)
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
