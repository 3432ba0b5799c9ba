"""One self-contained HTML page of a run or sweep directory.

Figures are embedded as base64 PNG data URIs and the style sheet is inline: the page
loads nothing from anywhere, so it opens offline, from an e-mail attachment, or on a
cluster's login node copied home. No JavaScript.
"""

from __future__ import annotations

import base64
import html
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from crackle._display import field_label, format_number, format_pm
from crackle.io.atomic import atomic_path
from crackle.io.state import read_json_object

__all__ = ["html_report", "write_html_report"]

_MAX_ROWS = 500
_MAX_TEXT = 120

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;
margin:0 auto;max-width:1200px;padding:1rem 2rem;color:#1b1f24;background:#fff}
h1{font-size:1.5rem;margin-bottom:.2rem}h2{font-size:1.15rem;border-bottom:1px solid #d0d7de;
padding-bottom:.2rem;margin-top:2rem}.meta{color:#57606a;font-size:.9rem}
nav a{margin-right:1rem}table{border-collapse:collapse;font-size:.85rem;margin:.5rem 0}
th,td{border:1px solid #d0d7de;padding:.2rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}td.num{text-align:right;font-variant-numeric:tabular-nums}
.scroll{overflow-x:auto}.figs{display:flex;flex-wrap:wrap;gap:1rem}
figure{margin:0;border:1px solid #d0d7de;padding:.5rem;background:#fff;box-sizing:border-box;
flex:0 1 calc(50% - .5rem)}
figure img{display:block;max-width:100%;height:auto}figure.wide{flex-basis:100%}
figcaption{font-size:.8rem;color:#57606a;text-align:center}
pre{background:#f6f8fa;padding:.5rem;overflow-x:auto;font-size:.8rem}
.failed{color:#cf222e}.ok{color:#1a7f37}details{margin:.3rem 0}
.key{color:#8c959f;font-weight:normal;font-size:.75rem;margin-left:.3rem}
"""


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _fmt(v: Any) -> str:
    if v is None:
        return "–"
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, float):
        return format_number(v)
    if isinstance(v, list | tuple):
        if all(not isinstance(x, dict | list) for x in v):
            shown = ", ".join(_fmt(x) for x in v[:12])
            return shown + (f", … ({len(v)} values)" if len(v) > 12 else "")
        v = json.dumps(v)
    text = str(v)
    return text if len(text) <= _MAX_TEXT else text[: _MAX_TEXT - 1] + "…"


def _cell(v: Any) -> str:
    num = isinstance(v, int | float) and not isinstance(v, bool)
    return f'<td class="num">{_e(_fmt(v))}</td>' if num else f"<td>{_e(_fmt(v))}</td>"


def _label(key: str) -> str:
    """A human name for a key of report.json ('inv_snz_fitted' -> '1/(σνz), fitted'),
    with the key itself in small type so that the file can still be searched."""
    name = field_label(key)
    if name is None or name == key:
        return _e(key)
    return f'{_e(name)} <span class="key">{_e(key)}</span>'


def _kv_table(d: dict[str, Any], labels: bool = False) -> str:
    """Keys and values; ``labels``: keys of a result, shown by their human names."""
    rows = "".join(
        f"<tr><th>{_label(k) if labels else _e(k)}</th>{_cell(v)}</tr>" for k, v in d.items()
    )
    return f"<table>{rows}</table>"


def _dict_section(d: dict[str, Any], labels: bool = False) -> str:
    """Scalars as one table, each nested dict folded below it (recursively)."""
    flat = {k: v for k, v in d.items() if not isinstance(v, dict)}
    out = _kv_table(flat, labels) if flat else ""
    for k, v in d.items():
        if isinstance(v, dict):
            name = _label(k) if labels else _e(k)
            out += f"<details><summary>{name}</summary>{_dict_section(v, labels)}</details>"
    return out


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _state(path: Path, what: str, required: tuple[str, ...] = ()) -> dict[str, Any] | None:
    """A state file of the directory, or None when absent; corrupt: a named error."""
    if not path.exists():
        return None
    return read_json_object(
        path,
        what,
        required=required,
        fix="rerun the command that wrote it, or remove the file to leave it out of the page",
    )


def _figures(directory: Path, order: list[str] | None = None) -> str:
    """Every PNG of ``directory``: 'summary' first, then in ``order``, then by name."""
    rank = {name: i for i, name in enumerate(order or [])}
    pngs = sorted(
        directory.glob("*.png"),
        key=lambda p: (p.stem != "summary", rank.get(p.stem, len(rank)), p.name),
    )
    if not pngs:
        return "<p>No figures.</p>"
    items = []
    for p in pngs:
        data = base64.b64encode(p.read_bytes()).decode("ascii")
        cls = ' class="wide"' if p.stem == "summary" else ""
        items.append(
            f'<figure{cls}><img src="data:image/png;base64,{data}" alt="{_e(p.stem)}">'
            f"<figcaption>{_e(p.name)}</figcaption></figure>"
        )
    return f'<div class="figs">{"".join(items)}</div>'


def _frame_table(df: Any) -> str:
    head = "".join(f"<th>{_e(c)}</th>" for c in df.columns)
    body = []
    for row in df.head(_MAX_ROWS).itertuples(index=False):
        cells = []
        for col, v in zip(df.columns, row, strict=True):
            v = v.item() if hasattr(v, "item") else v
            v = None if isinstance(v, float) and v != v else v
            if col == "status":
                cells.append(f'<td class="{_e(v)}">{_e(v)}</td>')
            else:
                cells.append(_cell(v))
        body.append(f"<tr>{''.join(cells)}</tr>")
    more = (
        f"<p>First {_MAX_ROWS} of {len(df)} rows; the full table is results.parquet.</p>"
        if len(df) > _MAX_ROWS
        else ""
    )
    return f'<div class="scroll"><table><tr>{head}</tr>{"".join(body)}</table></div>{more}'


_EXPONENT_ROWS = (
    ("τ, size exponent", "tau"),
    ("α, duration exponent", "alpha"),
    ("1/(σνz), fitted slope of ⟨S⟩(T)", "inv_snz_fitted"),
    ("1/(σνz), predicted (α − 1)/(τ − 1)", "inv_snz_predicted"),
    ("1/(σνz), shape collapse", "inv_snz_collapse"),
)


def _num(v: Any, digits: int = 3) -> str:
    return "–" if not isinstance(v, int | float) or isinstance(v, bool) else f"{v:.{digits}f}"


def _exponent_row(label: str, value: Any, err: Any, sys: Any) -> str:
    """One exponent: 'value ± stat ± sys', rounded where its smaller error has its
    second significant figure."""
    return f'<tr><td>{_e(label)}</td><td class="num">{_e(format_pm(value, err, sys))}</td></tr>'


def _verdict_section(report: dict[str, Any]) -> str:
    """The verdict with its checks, and each exponent as value ± stat ± sys."""
    verdict = report.get("verdict")
    out = ""
    if isinstance(verdict, dict):
        outcome = str(verdict.get("outcome", "–"))
        cls = "ok" if outcome == "critical" else "failed" if outcome == "not critical" else ""
        out += f'<p>Verdict: <strong class="{cls}">{_e(outcome)}</strong></p>'
        status_cls = {"pass": "ok", "fail": "failed"}
        rows = "".join(
            f"<tr><td>{_e(c.get('name'))}</td>"
            f'<td class="{status_cls.get(str(c.get("status")), "")}">{_e(c.get("status"))}</td>'
            f"<td>{_e(c.get('detail'))}</td></tr>"
            for c in verdict.get("checks", [])
            if isinstance(c, dict)
        )
        out += f"<table><tr><th>check</th><th>status</th><th>detail</th></tr>{rows}</table>"
    rows = ""
    for label, key in _EXPONENT_ROWS:
        if key not in report:
            continue
        rows += _exponent_row(label, report.get(key), report.get(key + "_err"),
                              report.get(key + "_sys"))  # fmt: skip
    if "dcc" in report:
        rows += _exponent_row(
            "DCC, |fitted − predicted| (Ma et al. 2019)",
            report.get("dcc"),
            report.get("dcc_err"),
            None,
        )
    if rows:
        out += (
            "<table><tr><th>exponent</th><th>value ± statistical ± systematic</th></tr>"
            f"{rows}</table><p class='meta'>Rounded where the smaller error has its second "
            "significant figure; every digit is in report.json.</p>"
        )
    near = report.get("nearest_class")
    if isinstance(near, dict):
        state = "consistent" if near.get("consistent") else "no class consistent; closest"
        out += (
            f"<p>Nearest universality class ({_e(state)}): {_e(near.get('name'))}, "
            f"distance {_num(near.get('distance'), 2)}</p>"
        )
    return out


def _run_sections(path: Path) -> list[tuple[str, str, str]]:
    config = _state(path / "config.json", "run config") or {}
    report = _state(path / "report.json", "crackling report")
    sections = []
    if isinstance(report, dict):
        notes = report.get("notes") or []
        body = "".join(f"<li>{_e(n)}</li>" for n in notes)
        body = _verdict_section(report) + (f"<ul>{body}</ul>" if body else "")
        body += "<details><summary>every field of report.json</summary>"
        rest = {k: v for k, v in report.items() if k != "notes"}
        body += _dict_section(rest, labels=True) + "</details>"
        sections.append(("report", "Report (report.json)", body))
    sections.append(("figures", "Figures", _figures(path / "figures")))
    params = config.get("parameters")
    if isinstance(params, dict):
        sections.append(("parameters", "Parameters (config.json)", _dict_section(params)))
    extra = {k: v for k, v in config.items() if k not in ("parameters", "versions", "created")}
    if extra:
        sections.append(("results", "Other results (config.json)", _dict_section(extra)))
    return sections


def _sweep_sections(path: Path, meta: dict[str, Any]) -> list[tuple[str, str, str]]:
    import pandas as pd

    cfg = meta.get("config")
    cfg = cfg if isinstance(cfg, dict) else {}
    sections = []
    table = path / "results.parquet"
    if table.exists():
        df = pd.read_parquet(table)
        counts = df["status"].value_counts().to_dict()
        summary = _kv_table(
            {
                "experiment": cfg.get("experiment"),
                "points": len(df),
                **{f"status {k}": int(v) for k, v in counts.items()},
                "axes": cfg.get("axes"),
                "base seed": cfg.get("seed"),
                "repeats": cfg.get("repeats"),
            }
        )
        sections.append(("summary", "Sweep", summary))
        sections.append(("figures", "Figures", _figures(path / "figures", list(df.columns))))
        shown = df.drop(columns=["error_message"], errors="ignore")
        sections.append(("table", "Results (results.parquet)", _frame_table(shown)))
    else:
        sections.append(("summary", "Sweep", "<p>No results.parquet yet: run the sweep.</p>"))
    failures, unreadable = [], []
    for f in sorted((path / "points").glob("*.json")):
        rec = _read_json(f)
        if not isinstance(rec, dict):
            unreadable.append(f"<li>{_e(f.name)}</li>")
        elif rec.get("status") == "failed":
            err = rec.get("error") or {}
            failures.append(
                f"<details><summary>{_e(rec.get('key'))} {_e(_fmt(rec.get('params')))}: "
                f'<span class="failed">{_e(err.get("type"))}: {_e(err.get("message"))}</span>'
                f"</summary><pre>{_e(err.get('traceback', ''))}</pre></details>"
            )
    if failures:
        sections.append(("failures", f"Failed points ({len(failures)})", "".join(failures)))
    if unreadable:
        sections.append(
            (
                "unreadable",
                f"Unreadable point records ({len(unreadable)})",
                '<p class="failed">These files in points/ are not valid JSON records and are '
                "left out; the next run of the sweep computes their points again once they "
                f"are removed.</p><ul>{''.join(unreadable)}</ul>",
            )
        )
    toml = path / "sweep.toml"
    body = f"<pre>{_e(toml.read_text())}</pre>" if toml.exists() else ""
    body += _dict_section({k: v for k, v in cfg.items() if k not in ("points",)})
    sections.append(("parameters", "Parameters (sweep.toml)", body))
    return sections


def html_report(path: str | Path) -> str:
    """The HTML text of the report of a run directory or a sweep directory.

    A run directory has ``config.json`` (and usually ``report.json``, ``figures/``);
    a sweep directory has ``sweep.json`` (see ``crackle.sweep``).

    Examples
    --------
    >>> import json, tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "config.json").write_text(json.dumps({"parameters": {"n": 10}}))
    >>> page = html_report(d)
    >>> page.startswith("<!doctype html>"), "<th>n</th>" in page
    (True, True)
    """
    p = Path(path)
    if not p.is_dir():
        raise FileNotFoundError(f"no such run or sweep directory: {p}")
    meta = _state(p / "sweep.json", "sweep record")
    if meta is not None:
        kind, sections = "sweep", _sweep_sections(p, meta)
        versions = meta.get("versions") or {}
    elif (p / "config.json").exists() or (p / "report.json").exists():
        kind, sections = "run", _run_sections(p)
        versions = (_state(p / "config.json", "run config") or {}).get("versions") or {}
    else:
        raise FileNotFoundError(
            f"{p} holds neither config.json (a run directory) nor sweep.json (a sweep)"
        )
    if not isinstance(versions, dict):
        versions = {}
    sections.append(("versions", "Versions", _kv_table(versions) if versions else "<p>–</p>"))
    name = p.resolve().name
    now = datetime.now(UTC).isoformat(timespec="seconds")
    nav = "".join(f'<a href="#{sid}">{_e(title.split(" (")[0])}</a>' for sid, title, _ in sections)
    body = "".join(
        f'<section id="{sid}"><h2>{_e(title)}</h2>{content}</section>'
        for sid, title, content in sections
    )
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>crackle {kind}: {_e(name)}</title><style>{_CSS}</style></head><body>"
        f"<header><h1>crackle {kind}: {_e(name)}</h1>"
        f'<p class="meta">{_e(p.resolve())} · page written {_e(now)}</p>'
        f"<nav>{nav}</nav></header>{body}</body></html>\n"
    )


def write_html_report(path: str | Path, out: str | Path | None = None) -> Path:
    """Write :func:`html_report` of ``path`` to ``out`` (default ``path/report.html``),
    atomically; return where it went."""
    target = Path(out) if out is not None else Path(path) / "report.html"
    if target.is_dir():
        raise IsADirectoryError(
            f"{target} is a directory; the report is one HTML file: give a file name such "
            f"as {target / 'report.html'}"
        )
    page = html_report(path)
    with atomic_path(target) as tmp:
        tmp.write_text(page, encoding="utf-8")
    return target
