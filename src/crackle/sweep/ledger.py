"""The sweep directory and its ledger: one small JSON file per finished point.

::

    SWEEP_DIR/
      sweep.toml          the config as given (a copy)
      sweep.json          the validated config, its identity, versions, time created
      points/KEY.json     one per finished point: parameters, seed, status, results, error
      points/KEY.npz      the point's arrays, when its experiment returns any
      results.parquet     one row per point (rebuilt at the end of every run)
      figures/*.png       each scalar result against the first axis

Every file is written atomically (temporary name, then rename), the ``.npz`` before
its ``.json``: a point is done exactly when its JSON exists, so a run killed at any
moment leaves a ledger that the next run resumes from.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from crackle._validation import CrackleValueError
from crackle.io.atomic import atomic_path, write_json, write_npz
from crackle.io.lock import LOCK_NAME
from crackle.io.rundir import versions
from crackle.io.state import CorruptStateError, load_npz, read_json_object
from crackle.sweep.config import SweepConfig
from crackle.sweep.seeds import canonical_json

__all__ = ["RESERVED_COLUMNS", "Ledger", "open_ledger"]

RESERVED_COLUMNS = (
    "key",
    "replicate",
    "seed",
    "status",
    "error_type",
    "error_message",
    "elapsed_s",
)


@dataclass(frozen=True)
class Ledger:
    """Paths and records of one sweep directory."""

    path: Path

    @property
    def config_copy(self) -> Path:
        return self.path / "sweep.toml"

    @property
    def meta(self) -> Path:
        return self.path / "sweep.json"

    @property
    def points(self) -> Path:
        return self.path / "points"

    @property
    def table(self) -> Path:
        return self.path / "results.parquet"

    @property
    def figures(self) -> Path:
        return self.path / "figures"

    def record_path(self, key: str) -> Path:
        return self.points / f"{key}.json"

    def arrays_path(self, key: str) -> Path:
        return self.points / f"{key}.npz"

    def read_records(self) -> dict[str, dict[str, Any]]:
        """Every finished point's record, by key (files that do not parse are skipped)."""
        out: dict[str, dict[str, Any]] = {}
        for f in sorted(self.points.glob("*.json")):
            try:
                rec = json.loads(f.read_text())
            except (OSError, ValueError):
                continue
            if isinstance(rec, dict) and rec.get("key") == f.stem:
                out[f.stem] = rec
        return out

    def write_record(self, record: dict[str, Any], arrays: dict[str, Any] | None = None) -> Path:
        """Write a point's arrays, then its record (the record marks it done)."""
        key = record["key"]
        if arrays:
            write_npz(self.arrays_path(key), arrays)
        return write_json(self.record_path(key), record)

    def read_arrays(self, key: str) -> dict[str, np.ndarray]:
        """The arrays saved with point ``key`` (empty when it has none)."""
        p = self.arrays_path(key)
        if not p.exists():
            return {}
        return load_npz(p, fix=f"remove {p} and {self.record_path(key)} to run the point again")

    def read_meta(self) -> dict[str, Any]:
        """``sweep.json``, checked: an object with the sweep's identity."""
        fix = (
            "it is not the sweep.json crackle writes. Remove the directory to start the sweep "
            "over, or choose another --out"
        )
        meta = read_json_object(self.meta, "sweep record", required=("identity",), fix=fix)
        if not isinstance(meta["identity"], dict):
            raise CorruptStateError(f"{self.meta} is corrupt: 'identity' is not an object; {fix}")
        return meta

    def clean_temporaries(self) -> int:
        """Remove ``.tmp`` files a killed run left behind; return how many."""
        stale = list(self.points.glob(".*.tmp")) + list(self.path.glob(".*.tmp"))
        for f in stale:
            f.unlink(missing_ok=True)
        return len(stale)

    def write_table(self, config: SweepConfig, records: dict[str, dict[str, Any]]) -> Path:
        """``results.parquet``: one row per point in sweep order (missing ones: 'pending')."""
        import pandas as pd

        rows = []
        for pt in config.points:
            rec = records.get(pt.key, {})
            err = rec.get("error") or {}
            row: dict[str, Any] = {
                "key": pt.key,
                "replicate": pt.replicate,
                "seed": pt.seed,
                "status": rec.get("status", "pending"),
            }
            row.update({k: _cell(v) for k, v in pt.params.items()})
            row.update({k: _cell(v) for k, v in (rec.get("results") or {}).items()})
            row["error_type"] = err.get("type")
            row["error_message"] = err.get("message")
            row["elapsed_s"] = rec.get("elapsed_s")
            rows.append(row)
        df = pd.DataFrame(rows)
        for col in df.columns:
            if df[col].dtype == object:
                df[col] = _uniform(df[col])
        with atomic_path(self.table) as tmp:
            df.to_parquet(tmp, index=False)
        return self.table


def _cell(v: Any) -> Any:
    # Parquet wants one type per column: nested values travel as JSON text.
    return canonical_json(v) if isinstance(v, list | dict) else v


def _uniform(col: Any) -> Any:
    """An object column with one Python type (plus None), or its values as text."""
    kinds = {type(v) for v in col if v is not None}
    if kinds <= {int, float}:
        return col.astype(float)
    if len(kinds) <= 1:
        return col
    return col.map(lambda v: None if v is None else str(v))


def open_ledger(path: str | Path, config: SweepConfig) -> Ledger:
    """Create the sweep directory for ``config``, or check that it already holds it.

    Raises
    ------
    CrackleValueError
        The directory holds another sweep (different experiment, seed or points).
    FileExistsError
        ``path`` is a file, or a non-empty directory that is not a sweep.
    """
    led = Ledger(Path(path))
    p = led.path
    if p.exists() and not p.is_dir():
        raise FileExistsError(f"{p} exists and is not a directory; choose another --out")
    identity = config.identity()
    if led.meta.exists():
        old = led.read_meta()["identity"]
        if canonical_json(old) != canonical_json(identity):
            raise CrackleValueError(
                f"{p} holds a different sweep ({_describe(old)}; this config: "
                f"{_describe(identity)}). Re-run it with its own config ({led.config_copy}), "
                "choose another --out, or delete the directory to start over."
            )
    elif p.exists() and any(f.name != LOCK_NAME for f in p.iterdir()):
        raise FileExistsError(
            f"{p} is not empty and holds no sweep.json: not a sweep directory; choose another --out"
        )
    led.points.mkdir(parents=True, exist_ok=True)
    led.figures.mkdir(exist_ok=True)
    if not led.meta.exists():
        with atomic_path(led.config_copy) as tmp:
            tmp.write_text(config.source_text)
        write_json(
            led.meta,
            {
                "identity": identity,
                "config": config.to_dict(),
                "points": [pt.to_dict() for pt in config.points],
                "versions": versions(),
                "created": datetime.now(UTC).isoformat(timespec="seconds"),
            },
        )
    return led


def _describe(identity: dict[str, Any]) -> str:
    return (
        f"experiment {identity.get('experiment')!r}, seed {identity.get('seed')}, "
        f"{len(identity.get('keys', []))} points"
    )
