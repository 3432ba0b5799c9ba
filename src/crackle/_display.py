"""How result objects display: numbers with their errors at a precision the errors
set, and the compact HTML table Jupyter shows for a result (``_repr_html_``).

Shared by the result objects of every stage and by the HTML run report
(``crackle.report.html``), so that a number reads the same everywhere.

A value with an error is written with the error rounded to two significant figures
and the value to the same decimal place (the convention of the Particle Data Group,
Review of Particle Physics, "Rounding"): 1.4837 ± 0.0123 -> "1.484 ± 0.012".
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = [
    "FIELD_LABELS",
    "field_label",
    "format_number",
    "format_pm",
    "html_table",
    "repr_html",
]

#: Human names of the keys of the results' ``to_dict()`` (symbols as in the papers).
FIELD_LABELS: dict[str, str] = {
    "tau": "τ, size exponent",
    "alpha": "α, duration exponent",
    "inv_snz_fitted": "1/(σνz), fitted",
    "inv_snz_predicted": "1/(σνz), predicted (α − 1)/(τ − 1)",
    "inv_snz_collapse": "1/(σνz), shape collapse",
    "dcc": "DCC, |fitted − predicted|",
    "scaling_mismatch": "scaling mismatch (σ)",
    "collapse_mismatch": "collapse mismatch (σ)",
    "n": "avalanches",
    "n_censored": "censored avalanches",
    "n_empty": "empty windows",
    "critical": "critical",
    "size_xmax": "upper cut-off of sizes",
    "duration_xmax": "upper cut-off of durations",
    "exponent": "exponent",
    "xmin": "lower cut-off x_min",
    "xmax": "upper cut-off x_max",
    "ks": "KS distance",
    "n_tail": "values in the tail",
    "n_above_xmax": "values above x_max",
    "loglik": "log-likelihood",
    "discrete": "discrete",
    "success": "converged",
    "message": "message",
    "m": "branching ratio m",
    "tau_ms": "autocorrelation time τ (bins)",
    "gamma": "γ = 1/(σνz)",
    "error_min": "collapse error at the minimum",
    "tmin": "shortest duration T_min",
    "tmax": "longest duration T_max",
    "n_durations": "durations",
    "n_avalanches": "avalanches",
    "reduced_chi2": "reduced χ²",
    "value": "value",
    "geometric": "geometric mean",
    "n_samples": "inputs",
    "n_directions": "directions per input",
    "seed": "seed",
    "outcome": "outcome",
    "reasons": "reasons",
}

_SUFFIXES = {"_err": "statistical error", "_stderr": "standard error",
             "_sys": "systematic error"}  # fmt: skip


def field_label(key: str) -> str | None:
    """The human name of a key ('inv_snz_fitted_err' -> '1/(σνz), fitted: statistical
    error'), or None when there is none."""
    if key in FIELD_LABELS:
        return FIELD_LABELS[key]
    for suffix, what in _SUFFIXES.items():
        base = key.removesuffix(suffix)
        if base != key and base in FIELD_LABELS:
            return f"{FIELD_LABELS[base]}: {what}"
    return None


_MAX_TEXT = 160
_NUMERIC = re.compile(r"^[-−+]?(\d|\.\d|∞|–$)")
_NUM = " class='num'"

_CSS = (
    "<style>.crackle-result{border-collapse:collapse;font-size:0.9em}"
    ".crackle-result th,.crackle-result td{padding:0.15em 0.6em;text-align:left;"
    "border-bottom:1px solid #ddd}.crackle-result td.num{text-align:right;"
    "font-variant-numeric:tabular-nums}.crackle-result caption{font-weight:bold;"
    "text-align:left}</style>"
)


def _finite(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def _decimals(err: float) -> int:
    """Decimal places that leave two significant figures of ``err`` (>= 0)."""
    return max(0, 1 - math.floor(math.log10(abs(err))))


def format_number(value: Any, digits: int = 4) -> str:
    """A number alone: integers in full, floats to ``digits`` significant figures,
    NaN and None as '–'.

    Examples
    --------
    >>> format_number(1.483712), format_number(12), format_number(None)
    ('1.484', '12', '–')
    """
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return "–" if math.isnan(value) else ("∞" if value > 0 else "−∞")
        if value == int(value) and abs(value) < 1e15:
            return str(int(value))
        return f"{value:.{digits}g}"
    return str(value)


def format_pm(value: Any, err: Any = None, sys: Any = None) -> str:
    """'value ± stat ± sys', rounded where the smallest finite, positive error puts its
    second significant figure; without an error, :func:`format_number`.

    Examples
    --------
    >>> format_pm(1.48371, 0.01234)
    '1.484 ± 0.012'
    >>> format_pm(1.48371, 0.0042, 0.031)
    '1.4837 ± 0.0042 ± 0.0310 sys'
    >>> format_pm(152.37, 13.1)
    '152 ± 13'
    >>> format_pm(float("nan"), 0.1)
    '–'
    """
    if not _finite(value):
        return format_number(value)
    errs = [e for e in (err, sys) if _finite(e) and e > 0]
    if not errs:
        return format_number(value)
    d = min(_decimals(min(errs)), 10)
    text = f"{value:.{d}f}"
    if _finite(err):
        text += f" ± {err:.{d}f}"
    if _finite(sys):
        text += f" ± {sys:.{d}f} sys"
    return text


def _text(value: Any) -> str:
    if isinstance(value, list | tuple):
        if all(not isinstance(v, dict | list | tuple) for v in value):
            shown = "; ".join(format_number(v) for v in value[:8])
            return shown + (f"; … ({len(value)} values)" if len(value) > 8 else "")
        return f"({len(value)} entries)"
    if isinstance(value, dict):
        return f"({len(value)} entries)"
    text = format_number(value)
    return text if len(text) <= _MAX_TEXT else text[: _MAX_TEXT - 1] + "…"


def html_table(title: str, rows: Sequence[tuple[str, str]], note: str = "") -> str:
    """A two-column HTML table (label, text), every string escaped."""
    body = "".join(
        f"<tr><th>{html.escape(label)}</th>"
        f"<td{_NUM if _NUMERIC.match(text) else ''}>{html.escape(text)}</td></tr>"
        for label, text in rows
    )
    foot = f"<p style='font-size:0.85em'>{html.escape(note)}</p>" if note else ""
    return (
        f"{_CSS}<table class='crackle-result'><caption>{html.escape(title)}</caption>"
        f"{body}</table>{foot}"
    )


#: One row of a result's table: (key, label or None for FIELD_LABELS, error key,
#: systematic-error key).
Field = tuple[str, str | None, str | None, str | None]


def repr_html(
    obj: Any,
    title: str,
    fields: Sequence[Field | str],
    *,
    data: Mapping[str, Any] | None = None,
    note: str = "",
) -> str:
    """The compact table of a result for Jupyter, from its ``to_dict()``.

    ``fields`` are keys (label from :data:`FIELD_LABELS`) or (key, label, error key,
    systematic key) tuples; keys absent from the dictionary are skipped, and so is a
    row whose label was already shown (so old and new names of a field may both be
    listed).

    Examples
    --------
    >>> class R:
    ...     def to_dict(self):
    ...         return {"tau": 1.5012, "tau_err": 0.0123, "note": "<b>"}
    >>> page = repr_html(R(), "result", [("tau", None, "tau_err", None), "note"])
    >>> "1.501 ± 0.012" in page, "&lt;b&gt;" in page, "<b>" in page
    (True, True, False)
    """
    d = dict(obj.to_dict() if data is None else data)
    rows: list[tuple[str, str]] = []
    seen: set[str] = set()
    for f in fields:
        key, label, err, sys = (f, None, None, None) if isinstance(f, str) else f
        if key not in d:
            continue
        label = label or field_label(key) or key.replace("_", " ")
        if label in seen:
            continue
        seen.add(label)
        value = d[key]
        if err is not None or sys is not None:
            text = format_pm(value, d.get(err) if err else None, d.get(sys) if sys else None)
        else:
            text = _text(value)
        rows.append((label, text))
    return html_table(title, rows, note)
