"""The reading of the LSTM experiment: the per-size summary over seeds and the decision
on Ren & Feng's claim (arXiv 2606.10384); public through :mod:`crackle.experiments.lstm`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["decide_claim", "summarise"]


def _err(x: Any, se: Any) -> tuple[float, float, float]:
    """Mean over seeds, the standard error over seeds, and the combined error
    sqrt(sd_seeds^2 / n + mean(se_boot^2) / n) (seed-to-seed spread plus the
    held-out-sequence bootstrap)."""
    x = np.asarray(x, float)
    se = np.asarray(se, float)
    n = x.size
    if n == 0:
        return float("nan"), float("nan"), float("nan")
    sd = float(np.std(x, ddof=1)) if n > 1 else float("nan")
    boot = float(np.nanmean(se**2)) if np.isfinite(se).any() else 0.0
    comb = float(np.sqrt((sd**2 if n > 1 else 0.0) / n + boot / n))
    return float(x.mean()), sd / np.sqrt(n) if n > 1 else float("nan"), comb


def summarise(table: Any, units: list[dict[str, Any]]) -> Any:
    """Per model kind and size (top layer): m at the best step and untrained (mean over
    seeds, errors), valid fits, power-law verdicts, and the m_i / spectrum account."""
    import pandas as pd

    top = table[table["top"]]
    u = pd.DataFrame(units) if units else pd.DataFrame(columns=["model", "size", "state"])
    out = []
    for (kind, size), g in top.groupby(["model", "size"], sort=True):
        best, init = g[g["best"]], g[g["step"] == 0]
        m_b, se_b, err_b = _err(best["m"], best["m_stderr"])
        m_0, _, err_0 = _err(init["m"], init["m_stderr"])
        ub = u[(u["model"] == kind) & (u["size"] == size) & (u["state"] == "best")]
        row = {
            "model": kind,
            "size": int(size),
            "n_params": int(g["n_params"].iloc[0]),
            "n_seeds": int(best.shape[0]),
            "best_step_mean": float(best["step"].mean()),
            "steps_past_best_min": int((best["last_step"] - best["step"]).min()),
            "val_loss_best": float(best["val_loss"].mean()),
            "m_best": m_b,
            "m_best_se_seeds": se_b,
            "m_best_err": err_b,
            "m_best_valid": int(best["m_valid"].sum()),
            "m_untrained": m_0,
            "m_untrained_err": err_0,
            "m_untrained_valid": int(init["m_valid"].sum()),
            "sizes_power_law_best": int(best["sizes_power_law"].sum()),
            "durations_power_law_best": int(best["durations_power_law"].sum()),
            "tau_best": float(best["tau"].mean()),
            "alpha_best": float(best["alpha"].mean()),
            "n_silent_units_best": float(best["n_silent_units"].mean()),
            "n_constant_sequences_best": float(best["n_constant_sequences"].mean()),
        }
        for col in ("m_i_median", "frac_units_valid", "beta_units", "mix_mean_m", "mix_b",
                    "beta_from_m_i"):  # fmt: skip
            row[col] = float(ub[col].mean()) if col in ub and len(ub) else float("nan")
        out.append(row)
    return pd.DataFrame(out)


def decide_claim(summary: Any, kind: str = "lstm", z: float = 2.0) -> dict[str, Any]:
    """Supported / not supported / undecided, for one model kind, from the summary.

    The claim has three parts, each tested at the best step with the combined
    error (seeds and held-out sequences) and ``z`` standard errors:

    1. the smallest model approaches m ~ 1: m >= 0.9 (Ren & Feng report about 0.9)
       within z errors, with valid MR fits in most seeds, and above its untrained
       baseline;
    2. the largest stays subcritical: its m is below the smallest model's by more
       than z combined errors;
    3. the smallest model's avalanches are scale-free: sizes and durations pass the
       calibrated power-law verdict in most seeds.

    All three hold: "supported". One fails beyond its error bars (m of the smallest
    below 0.9 by more than z errors, or the order of sizes reversed by more than z
    errors, or no seed with power-law avalanches): "not supported". Otherwise
    (invalid fits, differences within the errors): "undecided".

    Parameters
    ----------
    summary : pandas.DataFrame
        :func:`summarise`'s table (one row per model kind and size).
    kind : {"lstm", "transformer"}
        Which models.
    z : float
        Standard errors a difference must exceed.

    Returns
    -------
    dict
        ``verdict``, the ``failed`` and ``unclear`` parts, the ``numbers`` used.

    Examples
    --------
    >>> import pandas as pd
    >>> row = dict(model="lstm", n_seeds=3, m_best_valid=3, m_untrained=0.5,
    ...            m_untrained_err=0.02, sizes_power_law_best=0, durations_power_law_best=0)
    >>> s = pd.DataFrame([{**row, "size": 8, "m_best": 0.90, "m_best_err": 0.01},
    ...                   {**row, "size": 128, "m_best": 0.91, "m_best_err": 0.01}])
    >>> d = decide_claim(s)
    >>> d["verdict"], d["failed"]
    ('not supported', ['no seed of the smallest model has power-law avalanches'])
    >>> d["unclear"]
    ['small and large m do not differ beyond the error bars']
    """
    s = summary[summary["model"] == kind].sort_values("size")
    if len(s) < 2:
        return {"model": kind, "verdict": "undecided", "failed": [],
                "unclear": ["fewer than two sizes"], "numbers": [], "z": z}  # fmt: skip
    small, large = s.iloc[0], s.iloc[-1]
    half = small["n_seeds"] / 2
    reasons, fails, unclear = [], [], []
    e_s = small["m_best_err"]
    diff = small["m_best"] - large["m_best"]
    e_d = float(np.hypot(e_s, large["m_best_err"]))
    near = small["m_best"] + z * e_s >= 0.9
    valid = small["m_best_valid"] > half
    trained_up = small["m_best"] - small["m_untrained"] > z * float(
        np.hypot(e_s, small["m_untrained_err"]))  # fmt: skip
    reasons.append(
        f"smallest ({int(small['size'])}): m = {small['m_best']:.3f} ± {e_s:.3f} at the best "
        f"step ({int(small['m_best_valid'])}/{int(small['n_seeds'])} fits pass the checks), "
        f"untrained {small['m_untrained']:.3f} ± {small['m_untrained_err']:.3f}"
    )
    reasons.append(
        f"largest ({int(large['size'])}): m = {large['m_best']:.3f} ± {large['m_best_err']:.3f} "
        f"({int(large['m_best_valid'])}/{int(large['n_seeds'])} valid); "
        f"difference small - large = {diff:.3f} ± {e_d:.3f}"
    )
    pl = small["sizes_power_law_best"] > half and small["durations_power_law_best"] > half
    reasons.append(
        f"smallest: sizes power law in {int(small['sizes_power_law_best'])}, durations in "
        f"{int(small['durations_power_law_best'])} of {int(small['n_seeds'])} seeds"
    )
    if not np.isfinite(small["m_best"]) or not valid:
        unclear.append("the smallest model's MR fits fail their consistency checks")
    elif not near:
        fails.append("the smallest model's m is below 0.9 by more than the error bars")
    elif not trained_up:
        unclear.append("training does not raise the smallest model's m above its baseline")
    if np.isfinite(diff) and diff < -z * e_d:
        fails.append("m grows with size (the opposite order)")
    elif not (np.isfinite(diff) and diff > z * e_d):
        unclear.append("small and large m do not differ beyond the error bars")
    if small["sizes_power_law_best"] == 0 and small["durations_power_law_best"] == 0:
        fails.append("no seed of the smallest model has power-law avalanches")
    elif not pl:
        unclear.append("power-law avalanches in at most half of the seeds")
    verdict = "not supported" if fails else ("undecided" if unclear else "supported")
    return {"model": kind, "verdict": verdict, "failed": fails, "unclear": unclear,
            "numbers": reasons, "z": z}  # fmt: skip
