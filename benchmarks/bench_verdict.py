"""Calibration of crackling_report's verdict on ground truths and nulls.

    python benchmarks/bench_verdict.py                # 10 seeds, every case (tens of minutes)
    python benchmarks/bench_verdict.py --quick        # 3 seeds, at most 2 x 10^5 avalanches
    python benchmarks/bench_verdict.py --seeds 20 --json verdict.json
    python benchmarks/bench_verdict.py --only "GW|lognormal"   # cases whose name matches

A verdict is an estimator like any other: this script measures how often
``crackle.crackling_report(av)``, with its defaults, calls each case "critical",
"not critical" or "inconclusive", across seeds, and how long one report takes.

Ground truths (expected "critical"; exact exponents tau = 3/2, alpha = 2,
1/(sigma nu z) = 2, Harris 1963):
- critical Galton-Watson processes (m = 1), Poisson and geometric offspring, at
  5 x 10^4, 2 x 10^5 and 10^6 avalanches.

Nulls (expected not "critical"):
- subcritical processes, m = 0.9, 0.95, 0.98, at 2 x 10^5 and 10^6 avalanches;
- supercritical processes, m = 1.02 and 1.05, censored at 10^4 generations
  (2 x 10^5 started);
- i.i.d. Poisson activity (rates 0.5, 1, 2, 3; about 2 x 10^5 avalanches), no branching;
- lognormal and stretched-exponential avalanches (crackle.sim.nulls; heavy-tailed over
  three decades, <S>(T) ~ T^2 by construction) at 10^5 and 10^6;
- Gaussian tanh networks far from the edge of chaos at N = 128: sigma_w^2 = 0.96 and
  1.04 (|sigma_w^2 - 1| = 5/N).

Genuinely ambiguous (no target on the share; the answer should not depend on the
seed): Gaussian tanh networks at width N = 128, depth 400, q0 = 1e-3, method
"marginal", 10^5 inputs, sigma_w^2 = 1, 1 + 1/N, 1 + 2/N (finite-width corrections
move the straightest power laws to sigma_w^2 ~ 1 + c/N), for each size definition
that ``gaussian_avalanches(sizes=...)`` offers.

Targets (Ghavasieh et al. 2025, arXiv 2509.22649, is the application; the targets are
crackle's): at least 95 % of ground truths called critical and at most 5 % of nulls
called critical, from 10^5 avalanches on (5 x 10^4 is reported, not targeted).

Columns: the share of seeds per outcome (an exception in the report counts as
"error"), the median and largest time of one report (the simulation is not timed),
the most common reason (numbers replaced by #, with the number of reports giving it).
Until the report carries a three-outcome ``verdict``, its boolean ``critical`` is read
as "critical" / "not critical" and the reasons are taken from the power-law verdicts
and the scaling mismatch. Timings depend on the machine; compare them only within one
run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np

import crackle as ck
from crackle.sim import (
    branching_process,
    iid_poisson_activity,
    lognormal_avalanches,
    stretched_exponential_avalanches,
)

OUTCOMES = ("critical", "not critical", "inconclusive", "error")
#: Shares are targeted from this many avalanches (or network inputs) on.
TARGET_FROM = 100_000
WIDTH, DEPTH, Q0 = 128, 400, 1e-3


@dataclass(frozen=True)
class Case:
    name: str
    expect: str  # "critical", "null" or "ambiguous"
    n: int  # avalanches started (network inputs for the Gaussian networks)
    make: Callable[[int], Any]
    quick: bool = True

    @property
    def targeted(self) -> bool:
        return self.expect != "ambiguous" and self.n >= TARGET_FROM


def _gw(m: float, n: int, offspring: str = "poisson", max_duration: int = 10_000):
    return lambda seed: branching_process(
        m, n, offspring=offspring, max_duration=max_duration, seed=seed
    )


def _iid(rate: float, n_avalanches: int):
    q = 1.0 - np.exp(-rate)
    steps = int(np.ceil(n_avalanches / (q * (1.0 - q))))
    return lambda seed: ck.avalanches_from_counts(iid_poisson_activity(rate, steps, seed=seed))


def _gaussian(sigma_w2: float, sizes: str | None):
    def make(seed: int):
        from crackle.sim import gaussian_avalanches

        kw = {} if sizes is None else {"sizes": sizes}
        return gaussian_avalanches(
            WIDTH, DEPTH, sigma_w2, n=100_000, q0=Q0, method="marginal", seed=seed, **kw
        )

    return make


def _size_options() -> list[str | None]:
    """The size definitions gaussian_avalanches offers (None: it has no such option)."""
    import inspect

    from crackle.sim import gaussian_avalanches

    if "sizes" not in inspect.signature(gaussian_avalanches).parameters:
        return [None]
    return ["total", "excess"]


def cases(networks: bool = True) -> list[Case]:
    out: list[Case] = []
    for offspring in ("poisson", "geometric"):
        for n in (50_000, 200_000, 1_000_000):
            out.append(
                Case(f"GW m=1 {offspring}", "critical", n, _gw(1.0, n, offspring), n < 10**6)
            )
    for m in (0.9, 0.95, 0.98):
        for n in (200_000, 1_000_000):
            out.append(Case(f"GW m={m:g} (sub)", "null", n, _gw(m, n), n < 10**6))
    for m in (1.02, 1.05):
        out.append(Case(f"GW m={m:g} (super, cens. 1e4)", "null", 200_000, _gw(m, 200_000)))
    for rate in (0.5, 1.0, 2.0, 3.0):
        out.append(Case(f"iid Poisson rate={rate:g}", "null", 200_000, _iid(rate, 200_000)))
    for gen, label in (
        (lognormal_avalanches, "lognormal"),
        (stretched_exponential_avalanches, "stretched exp"),
    ):
        for n in (100_000, 1_000_000):
            out.append(Case(label, "null", n, lambda seed, g=gen, k=n: g(k, seed=seed), n < 10**6))
    if networks:
        grid = (
            ("0.96", 0.96, "null"),
            ("1", 1.0, "ambiguous"),
            ("1+1/N", 1.0 + 1.0 / WIDTH, "ambiguous"),
            ("1+2/N", 1.0 + 2.0 / WIDTH, "ambiguous"),
            ("1.04", 1.04, "null"),
        )
        for sizes in _size_options():
            for label, sw, expect in grid:
                tag = "" if sizes is None else f", {sizes}"
                out.append(
                    Case(f"tanh N=128 sw2={label}{tag}", expect, 100_000, _gaussian(sw, sizes))
                )
    return out


_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def template(reason: str) -> str:
    """A reason with its numbers replaced by #, so that reasons can be counted."""
    return _NUMBER.sub("#", reason)


def judge(rep: Any) -> tuple[str, tuple[str, ...]]:
    """The report's outcome and reasons: its ``verdict`` where it has one, otherwise
    its boolean ``critical`` with the reasons read off the older report."""
    verdict = getattr(rep, "verdict", None)
    if verdict is not None:
        return str(verdict.outcome), tuple(str(r) for r in verdict.reasons)
    critical = bool(rep.critical)
    mismatch = rep.scaling_mismatch
    if critical:
        return "critical", (f"power laws and the scaling relation hold ({mismatch:+.3f})",)
    reasons = []
    for label, v in (("sizes", rep.sizes_verdict), ("durations", rep.durations_verdict)):
        if not v.plausible:
            reasons.append(f"{label}: {v.reason}")
    if np.isfinite(mismatch):
        reasons.append(f"scaling mismatch {mismatch:+.3f}")
    else:
        reasons.append("scaling relation not tested (<S>(T) not fitted)")
    return ("critical" if critical else "not critical"), tuple(reasons)


def run_case(case: Case, seeds: list[int]) -> dict[str, Any]:
    runs = []
    for seed in seeds:
        t0 = time.perf_counter()
        av = case.make(seed)
        t_sim = time.perf_counter() - t0
        t0 = time.perf_counter()
        try:
            rep = ck.crackling_report(av)
        except Exception as exc:  # an exception is a result here, counted as "error"
            t_rep = time.perf_counter() - t0
            runs.append(
                {
                    "seed": seed,
                    "outcome": "error",
                    "reasons": [f"{type(exc).__name__}: {exc}"],
                    "report_s": t_rep,
                    "simulate_s": t_sim,
                    "n_complete": av.n,
                    "n_censored": av.n_censored,
                }
            )
            continue
        t_rep = time.perf_counter() - t0
        outcome, reasons = judge(rep)
        nearest = getattr(rep, "nearest", None)
        runs.append(
            {
                "seed": seed,
                "outcome": outcome,
                "reasons": list(reasons),
                "report_s": t_rep,
                "simulate_s": t_sim,
                "n_complete": av.n,
                "n_censored": av.n_censored,
                "tau": _num(rep.tau),
                "alpha": _num(rep.alpha),
                "inv_snz_fitted": _num(rep.inv_snz_fitted),
                "inv_snz_predicted": _num(rep.inv_snz_predicted),
                "nearest_class": None if nearest is None else nearest.name,
                "nearest_consistent": None if nearest is None else bool(nearest.consistent),
            }
        )
    return summarise(case, runs)


def _num(v: Any) -> float | None:
    v = float(v)
    return v if np.isfinite(v) else None


def summarise(case: Case, runs: list[dict[str, Any]]) -> dict[str, Any]:
    k = len(runs)
    share = {o: sum(r["outcome"] == o for r in runs) / k for o in OUTCOMES}
    times = [r["report_s"] for r in runs]
    reasons = Counter(t for r in runs for t in dict.fromkeys(template(x) for x in r["reasons"]))
    top, top_count = reasons.most_common(1)[0] if reasons else ("", 0)
    if not case.targeted:
        if case.expect == "ambiguous":
            same = len({r["outcome"] for r in runs}) == 1
            target, met = "same answer on every seed", same
        else:
            target, met = "reported, not targeted", None
    elif case.expect == "critical":
        target, met = ">= 95 % critical", share["critical"] >= 0.95
    else:
        target, met = "<= 5 % critical", share["critical"] <= 0.05
    return {
        "case": case.name,
        "expect": case.expect,
        "n": case.n,
        "seeds": [r["seed"] for r in runs],
        "share": share,
        "report_s_median": statistics.median(times),
        "report_s_max": max(times),
        "simulate_s_median": statistics.median(r["simulate_s"] for r in runs),
        "n_complete_median": statistics.median(r["n_complete"] for r in runs),
        "most_common_reason": top,
        "most_common_reason_count": top_count,
        "target": target,
        "target_met": met,
        "runs": runs,
    }


def _fmt_n(n: int) -> str:
    exp = int(np.floor(np.log10(n)))
    mant = n / 10**exp
    return f"1e{exp}" if mant == 1 else f"{mant:g}e{exp}"


def print_row(row: dict[str, Any], first: bool) -> None:
    if first:
        print(
            f"{'case':<34} {'expect':<9} {'n':>5} {'k':>3} {'crit':>5} {'not':>5} {'inc':>5} "
            f"{'err':>4} {'med s':>6} {'max s':>6}  {'target':<4}  most common reason"
        )
    s = row["share"]
    met = {True: "ok", False: "MISS", None: "-"}[row["target_met"]]
    reason = row["most_common_reason"]
    reason = reason if len(reason) <= 70 else reason[:67] + "..."
    print(
        f"{row['case']:<34} {row['expect']:<9} {_fmt_n(row['n']):>5} {len(row['seeds']):>3} "
        f"{s['critical']:>5.0%} {s['not critical']:>5.0%} {s['inconclusive']:>5.0%} "
        f"{s['error']:>4.0%} {row['report_s_median']:>6.2f} {row['report_s_max']:>6.2f}  "
        f"{met:<4}  {reason} ({row['most_common_reason_count']}/{len(row['seeds'])})",
        flush=True,
    )


def meta(args: argparse.Namespace, seeds: list[int]) -> dict[str, Any]:
    # Ask git about the crackle that was imported, wherever it lies.
    where = Path(ck.__file__).parent

    def git(*cmd: str) -> str | None:
        try:
            res = subprocess.run(["git", *cmd], capture_output=True, text=True, cwd=where)
        except OSError:
            return None
        return res.stdout.strip() if res.returncode == 0 else None

    probe = ck.crackling_report(branching_process(1.0, 2000, seed=0))
    return {
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
        "date": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "crackle": getattr(ck, "__version__", None),
        "crackle_path": str(Path(ck.__file__).parent),
        "git_commit": git("rev-parse", "HEAD"),
        # Uncommitted changes to crackle's own files (None: not in a git checkout).
        "git_dirty": None
        if (status := git("status", "--porcelain", "--untracked-files=no", "--", ".")) is None
        else bool(status),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores",
        "seeds": seeds,
        "quick": args.quick,
        "verdict_source": "verdict.outcome"
        if getattr(probe, "verdict", None) is not None
        else "critical (no three-outcome verdict in this version)",
        "targets": {
            "critical": ">= 95 % called critical",
            "null": "<= 5 % called critical",
            "ambiguous": "same answer on every seed",
            "from_n": TARGET_FROM,
        },
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=None, help="seeds per case (default 10)")
    parser.add_argument(
        "--quick", action="store_true", help="3 seeds, no 10^6 cases (a few minutes)"
    )
    parser.add_argument("--json", type=Path, default=None, help="write the table here")
    parser.add_argument("--only", default=None, help="regular expression on case names")
    parser.add_argument("--no-networks", action="store_true", help="skip the Gaussian networks")
    args = parser.parse_args()
    n_seeds = args.seeds if args.seeds is not None else (3 if args.quick else 10)
    if n_seeds < 1:
        parser.error("--seeds must be at least 1")
    seeds = list(range(n_seeds))
    todo = [c for c in cases(networks=not args.no_networks) if c.quick or not args.quick]
    if args.only:
        pattern = re.compile(args.only)
        todo = [c for c in todo if pattern.search(c.name)]
    info = meta(args, seeds)
    print(
        f"crackling_report defaults, {len(todo)} cases x {n_seeds} seeds; verdict read from "
        f"{info['verdict_source']}; crackle from {info['crackle_path']}, git {info['git_commit']}"
        + (" + uncommitted changes" if info["git_dirty"] else "")
    )
    t0 = time.perf_counter()
    rows = []
    for i, case in enumerate(todo):
        rows.append(run_case(case, seeds))
        print_row(rows[-1], first=i == 0)
    wall = time.perf_counter() - t0
    checked = [r for r in rows if r["target_met"] is not None]
    met = sum(bool(r["target_met"]) for r in checked)
    for group in ("critical", "null"):
        sel = [r for r in rows if r["expect"] == group and r["n"] >= TARGET_FROM]
        if sel:
            share = np.mean([r["share"]["critical"] for r in sel])
            print(f"{group:>9}s from 1e5 on: {share:.1%} of reports called critical")
    # The critical processes must also match mean-field directed percolation.
    for r in rows:
        if r["expect"] == "critical":
            ok = [
                bool(x.get("nearest_consistent"))
                and str(x.get("nearest_class", "")).startswith("mean-field directed")
                for x in r["runs"]
            ]
            r["mean_field_dp_share"] = float(np.mean(ok)) if ok else None
            print(
                f"{r['case']} at {_fmt_n(r['n'])}: nearest class mean-field DP and consistent "
                f"in {np.mean(ok):.0%} of seeds"
            )
    print(f"targets met: {met}/{len(checked)}; wall time {wall:.0f} s")
    info["wall_s"] = wall
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        tmp = args.json.with_suffix(args.json.suffix + ".tmp")
        tmp.write_text(json.dumps({"meta": info, "cases": rows}, indent=1))
        os.replace(tmp, args.json)
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
