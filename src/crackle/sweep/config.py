"""Sweep configuration: a TOML file, validated before any point runs.

::

    experiment = "simulate"    # a registered experiment (or an entry point's name)
    # plugin = "my_module:my_function"   # or a plain function (crackle.sweep.plugins)
    seed = 0                   # base seed; each point's seed derives from it
    repeats = 1                # independent replicates of every point

    [fixed]                    # parameters shared by every point
    n = 5000

    [grid]                     # cartesian product of these lists ...
    sigma_w2 = [0.9, 1.0, 1.1]
    width = [32, 64]

    # ... or an explicit list instead of [grid]:
    # [[points]]
    # sigma_w2 = 1.0
    # width = 32

    [cluster]                  # how to run (not part of the sweep's identity)
    n_workers = 2
    # kind = "slurm"           # or "pbs": workers as batch jobs (dask-jobqueue)
    # cores = 8; memory = "16GB"; walltime = "02:00:00"; queue = "normal"; jobs = 4

Errors name the key: ``grid.width[1]: Input should be a valid integer, got '64'``.
"""

from __future__ import annotations

import dataclasses
import itertools
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from crackle._validation import CrackleValueError
from crackle.sweep.experiments import Experiment, get_experiment
from crackle.sweep.seeds import point_key, point_seed

__all__ = ["ClusterConfig", "SweepConfig", "SweepPoint", "load_config", "parse_config"]

_MAX_ERRORS = 12
_NO_INPUT = ("missing", "extra_forbidden", "too_short", "value_error")
_STRICT = ConfigDict(extra="forbid", strict=True, frozen=True, allow_inf_nan=False)


class ClusterConfig(BaseModel):
    """Where the points run; command-line options override these."""

    model_config = _STRICT

    scheduler: str | None = Field(default=None, description="tcp://HOST:PORT of a Dask scheduler")
    n_workers: int = Field(default=2, ge=1, le=1024, description="local worker processes")
    threads_per_worker: int = Field(default=1, ge=1, le=256)
    processes: bool = Field(default=True, description="local workers as processes (False: threads)")
    connect_timeout: float = Field(default=10.0, gt=0, le=3600, description="seconds")
    # Batch-queue clusters (dask-jobqueue): each job is one node's share of workers.
    kind: Literal["local", "slurm", "pbs"] = Field(
        default="local", description="local processes, or workers as SLURM or PBS jobs"
    )
    cores: int = Field(default=1, ge=1, le=4096, description="cores per job (one worker each)")
    memory: str | None = Field(default=None, description="memory per job, e.g. '16GB'")
    walltime: str = Field(default="01:00:00", description="time limit per job, HH:MM:SS")
    queue: str | None = Field(default=None, description="partition (SLURM) or queue (PBS)")
    account: str | None = Field(default=None, description="account or project to charge")
    job_extra_directives: list[str] = Field(
        default_factory=list, description="more #SBATCH / #PBS lines, e.g. '--gres=gpu:1'"
    )
    job_script_prologue: list[str] = Field(
        default_factory=list, description="shell lines before the worker starts"
    )
    interface: str | None = Field(default=None, description="network interface, e.g. 'ib0'")
    jobs: int = Field(default=1, ge=1, le=10_000, description="batch jobs to start")


class _RawConfig(BaseModel):
    model_config = _STRICT

    experiment: str | None = None
    plugin: str | None = None
    seed: int = Field(default=0, ge=0, lt=2**63)
    repeats: int = Field(default=1, ge=1, le=100_000)
    fixed: dict[str, Any] = Field(default_factory=dict)
    grid: dict[str, Annotated[list[Any], Field(min_length=1)]] | None = None
    points: list[dict[str, Any]] | None = None
    cluster: ClusterConfig = Field(default_factory=lambda: ClusterConfig())

    @field_validator("grid")
    @classmethod
    def _grid_not_empty(cls, v: dict[str, list[Any]] | None) -> dict[str, list[Any]] | None:
        if v is not None and not v:
            raise ValueError("an empty grid table: give at least one axis (name = list of values)")
        return v

    @field_validator("points")
    @classmethod
    def _points_not_empty(cls, v: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
        if v is not None and not v:
            raise ValueError("an empty list of points")
        return v


@dataclass(frozen=True)
class SweepPoint:
    """One point: every parameter (validated, JSON-safe), replicate, key and seed."""

    index: int
    params: dict[str, Any]
    replicate: int
    key: str
    seed: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "key": self.key,
            "replicate": self.replicate,
            "seed": self.seed,
            "params": dict(self.params),
        }


@dataclass(frozen=True)
class SweepConfig:
    """A validated sweep: its experiment, expanded points and cluster settings."""

    experiment: Experiment
    seed: int
    repeats: int
    fixed: dict[str, Any]
    grid: dict[str, list[Any]] | None
    explicit: list[dict[str, Any]] | None
    cluster: ClusterConfig
    points: tuple[SweepPoint, ...] = field(repr=False)
    source_text: str = field(default="", repr=False)
    plugin: str | None = None

    @property
    def axes(self) -> list[str]:
        """Parameters that vary across points, grid order first."""
        if self.grid is not None:
            return [k for k, v in self.grid.items() if len(v) > 1] or list(self.grid)
        names: list[str] = []
        for p in self.explicit or []:
            names += [k for k in p if k not in names]
        return [k for k in names if len({repr(pt.params.get(k)) for pt in self.points}) > 1]

    def identity(self) -> dict[str, Any]:
        """What makes two configs the same sweep: experiment, base seed, point keys."""
        return {
            "experiment": self.experiment.name,
            "seed": self.seed,
            "keys": sorted(p.key for p in self.points),
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "experiment": self.experiment.name,
            "plugin": self.plugin,
            "seed": self.seed,
            "repeats": self.repeats,
            "fixed": self.fixed,
            "grid": self.grid,
            "points": self.explicit,
            "cluster": self.cluster.model_dump(),
            "n_points": len(self.points),
            "axes": self.axes,
        }


def _loc(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(config)"


def _lines(exc: ValidationError, where: Any = None) -> list[str]:
    """One line per error, ``location: message``; ``where`` maps a field to its place."""
    out = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        name = where(loc) if where is not None else _loc(loc)
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] not in _NO_INPUT and "input" in err:
            got = repr(err["input"])
            msg += f", got {got if len(got) <= 40 else got[:37] + '...'}"
        out.append(f"{name}: {msg}")
    return out


def _fail(lines: list[str], source: str) -> CrackleValueError:
    uniq = list(dict.fromkeys(lines))
    more = len(uniq) - _MAX_ERRORS
    text = "\n  ".join(uniq[:_MAX_ERRORS]) + (f"\n  ... and {more} more" if more > 0 else "")
    where = f" {source}" if source else ""
    return CrackleValueError(f"invalid sweep config{where}:\n  {text}")


def _expand(raw: _RawConfig) -> list[tuple[dict[str, Any], dict[str, str]]]:
    """Each point's parameters, and where each came from (for error messages)."""
    fixed_src = {k: f"fixed.{k}" for k in raw.fixed}
    if raw.grid is not None:
        names = list(raw.grid)
        out = []
        for idx in itertools.product(*(range(len(raw.grid[k])) for k in names)):
            params = dict(raw.fixed)
            src = dict(fixed_src)
            for k, i in zip(names, idx, strict=True):
                params[k] = raw.grid[k][i]
                src[k] = f"grid.{k}[{i}]" if len(raw.grid[k]) > 1 else f"grid.{k}"
            out.append((params, src))
        return out
    return [
        ({**raw.fixed, **p}, {**fixed_src, **{k: f"points[{j}].{k}" for k in p}})
        for j, p in enumerate(raw.points or [])
    ]


def parse_config(
    data: Mapping[str, Any],
    source: str = "",
    *,
    plugin: str | Callable[..., Any] | None = None,
) -> SweepConfig:
    """Validate a config (as ``tomllib`` reads it) and expand its points.

    ``plugin`` (``MODULE:FUNCTION`` or the function itself, see
    ``crackle.sweep.plugins``) overrides the config's ``plugin`` key: the sweep runs
    that function, named ``experiment`` when the config gives a name, else by the
    function's name.

    Raises
    ------
    CrackleValueError
        Naming every bad key: unknown keys, wrong types, empty grids, parameters the
        experiment does not have or whose values it refuses.

    Examples
    --------
    >>> cfg = parse_config({"experiment": "smoke", "grid": {"x": [0.0, 1.0, 2.0]}})
    >>> len(cfg.points), cfg.axes
    (3, ['x'])
    >>> parse_config({"experiment": "smoke", "grid": {"x": []}})
    Traceback (most recent call last):
    ...
    crackle._validation.CrackleValueError: invalid sweep config:
      grid.x: List should have at least 1 item after validation, not 0
    """
    try:
        raw = _RawConfig.model_validate(dict(data))
    except ValidationError as exc:
        raise _fail(_lines(exc), source) from None
    plugin = plugin if plugin is not None else raw.plugin
    try:
        if callable(plugin):
            from crackle.sweep.plugins import plugin_experiment

            exp = plugin_experiment(plugin, name=raw.experiment)
            plugin = exp.source or exp.name
        elif plugin is not None:
            from crackle.sweep.plugins import load_plugin

            exp = load_plugin(plugin, name=raw.experiment)
        elif raw.experiment is None:
            raise CrackleValueError("give an experiment name or a plugin (MODULE:FUNCTION)")
        else:
            exp = get_experiment(raw.experiment)
    except CrackleValueError as exc:
        raise _fail([f"{'plugin' if plugin else 'experiment'}: {exc}"], source) from None
    if raw.cluster.kind != "local" and raw.cluster.scheduler is not None:
        raise _fail(
            ["cluster: give a scheduler address or a kind of batch cluster, not both"], source
        )
    if raw.grid is None and raw.points is None:
        raise _fail(["(config): give a grid table or a list of points"], source)
    if raw.grid is not None and raw.points is not None:
        raise _fail(["(config): give a grid table or a list of points, not both"], source)
    lines = [
        f"grid.{k}: also set under fixed; set each parameter in one place"
        for k in (raw.grid or {})
        if k in raw.fixed
    ]
    expanded = _expand(raw)
    points: list[SweepPoint] = []
    seen: dict[str, int] = {}
    for i, (params, src) in enumerate(expanded):
        try:
            model = exp.params.model_validate(params)
        except ValidationError as exc:
            hint = " (set it under fixed, grid or each of points)"

            def where(loc: tuple[Any, ...], src: dict[str, str] = src) -> str:
                if loc and loc[0] in src:
                    return src[loc[0]] + _loc(loc[1:]).removeprefix("(config)")
                return _loc(loc)

            lines += [
                line + (hint if line.endswith("Field required") else "")
                for line in _lines(exc, where)
            ]
            continue
        canon = model.model_dump(mode="json")
        for r in range(raw.repeats):
            key = point_key(exp.name, canon, r)
            if key in seen:
                lines.append(f"points[{i}]: the same point as points[{seen[key]}]")
                continue
            seen[key] = i
            points.append(SweepPoint(len(points), canon, r, key, point_seed(raw.seed, key)))
    if lines:
        raise _fail(lines, source)
    return SweepConfig(
        exp,
        raw.seed,
        raw.repeats,
        dict(raw.fixed),
        None if raw.grid is None else {k: list(v) for k, v in raw.grid.items()},
        None if raw.points is None else [dict(p) for p in raw.points],
        raw.cluster,
        tuple(points),
        plugin=plugin,
    )


def load_config(path: str | Path, *, plugin: str | None = None) -> SweepConfig:
    """Read and validate a sweep config from a TOML file (``plugin``: as in
    :func:`parse_config`)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such sweep config: {path}")
    text = path.read_text()
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CrackleValueError(f"{path} is not valid TOML: {exc}") from None
    cfg = parse_config(data, str(path), plugin=plugin)
    return dataclasses.replace(cfg, source_text=text)
