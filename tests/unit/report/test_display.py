"""Result objects display in Jupyter as a compact table (``_repr_html_``): the values
with their errors at the precision the errors set, human names, escaped text."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import numpy as np
import pytest

import crackle as ck
from crackle._display import field_label, format_number, format_pm, html_table, repr_html
from crackle.sim.branching import branching_process


class _Cells(HTMLParser):
    """The text of every <th> and <td>, and whether the page parses with no stray tag."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: list[str] = []
        self.tags: list[str] = []
        self._in = False

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag in ("th", "td", "caption"):
            self._in = True
            self.cells.append("")

    def handle_endtag(self, tag):
        if tag in ("th", "td", "caption"):
            self._in = False

    def handle_data(self, data):
        if self._in:
            self.cells[-1] += data


def cells(page: str) -> list[str]:
    p = _Cells()
    p.feed(page)
    return p.cells


def row(page: str, label: str) -> str:
    """The value cell next to the header cell that starts with ``label``."""
    c = cells(page)
    for i, text in enumerate(c[:-1]):
        if text.startswith(label):
            return c[i + 1]
    raise AssertionError(f"no row {label!r} in {c}")


# ------------------------------------------------------------------ precision
@pytest.mark.parametrize(
    ("value", "err", "sys", "text"),
    [
        (1.48371, 0.01234, None, "1.484 ± 0.012"),
        (1.48371, 0.0042, 0.031, "1.4837 ± 0.0042 ± 0.0310 sys"),
        (152.37, 13.1, None, "152 ± 13"),
        (0.000123456, 0.0000021, None, "0.0001235 ± 0.0000021"),
        (2.0, float("nan"), None, "2"),
        (float("nan"), 0.1, None, "–"),
        (None, None, None, "–"),
        (1.5, 0.0, None, "1.5"),  # a zero error sets no precision
    ],
)
def test_format_pm_rounds_where_the_error_has_two_figures(value, err, sys, text):
    assert format_pm(value, err, sys) == text


def test_format_number():
    assert format_number(1.48371) == "1.484"
    assert format_number(7) == "7"
    assert format_number(True) == "yes"
    assert format_number(float("inf")) == "∞"
    assert format_number(3.0) == "3"


def test_field_labels_name_errors_too():
    assert field_label("inv_snz_fitted") == "1/(σνz), fitted"
    assert field_label("tau_sys") == "τ, size exponent: systematic error"
    assert field_label("no_such_key") is None


# ------------------------------------------------------------------ escaping
def test_text_is_escaped():
    class Nasty:
        def to_dict(self):
            return {"message": "<script>alert(1)</script> & more", "x": 1.0}

    page = repr_html(Nasty(), "a <b> title", ["message", "x"])
    assert "<script>" not in page
    assert "<b>" not in page
    assert "&lt;script&gt;" in page
    assert "&amp; more" in page
    assert row(page, "message") == "<script>alert(1)</script> & more"  # after unescaping
    page = html_table("t", [("<i>label</i>", "1")], note="<note>")
    assert "<i>" not in page
    assert "<note>" not in page


def test_missing_and_repeated_fields_are_skipped():
    class Renamed:  # old and new names of one field both listed
        def to_dict(self):
            return {"exponent": 2.5, "exponent_err": 0.01, "alpha": 2.5}

    fields = [("exponent", "exponent", "exponent_err", None),
              ("alpha", "exponent", None, None), "absent"]  # fmt: skip
    page = repr_html(Renamed(), "fit", fields)
    assert [c for c in cells(page) if c.startswith("exponent")] == ["exponent"]
    assert row(page, "exponent") == "2.500 ± 0.010"


# ------------------------------------------------------------------ the result objects
@pytest.fixture(scope="module")
def rep():
    return ck.crackling_report(branching_process(m=1.0, n=6000, seed=5))


def test_crackling_report(rep):
    page = rep._repr_html_()
    assert cells(page)[0] == "crackling report"
    assert row(page, "outcome") == rep.verdict.outcome
    assert row(page, "τ, size exponent") == format_pm(rep.tau, rep.tau_err, rep.tau_sys)
    assert row(page, "1/(σνz), fitted") == format_pm(
        rep.inv_snz_fitted, rep.inv_snz_fitted_err, rep.inv_snz_fitted_sys
    )
    assert row(page, "avalanches") == str(rep.n)
    assert "inv_snz" not in page  # no raw keys
    assert rep.nearest.name.split(" / ")[0] in row(page, "nearest")


def test_window_scan(rep):
    scan = rep.size_scan
    page = scan._repr_html_()
    assert row(page, "τ") == format_pm(scan.exponent, scan.stat_err, scan.sys_err)
    assert "window scan of τ" in page


def test_scaling_and_collapse(rep):
    page = rep.scaling._repr_html_()
    assert row(page, "1/(σνz), slope") == format_pm(rep.scaling.exponent, rep.scaling.stderr)
    assert row(page, "longest duration") == str(rep.scaling.tmax)
    page = rep.collapse._repr_html_()
    assert row(page, "γ = 1/(σνz)") == format_pm(rep.collapse.gamma, rep.collapse.gamma_err)


def test_power_law_fit_and_verdict(rep):
    fit = rep.size_fit
    page = fit._repr_html_()
    assert row(page, "exponent") == format_pm(fit.exponent, fit.exponent_err)
    assert "sigma" not in page  # the deprecated alias is not shown twice
    assert row(page, "lower cut-off") == format_number(fit.xmin)
    page = rep.sizes_verdict._repr_html_()
    assert row(page, "status") == rep.sizes_verdict.status


def test_branching_ratio():
    from crackle.sim.driven import driven_branching_process

    act = driven_branching_process(0.95, 5.0, 20_000, seed=2)
    est = ck.branching_ratio(act.activity, kmax=20)
    page = est._repr_html_()
    assert row(page, "branching ratio m") == format_pm(est.m, est.m_stderr)
    assert re.search(r"autocorrelation time", page)


def test_probe_results():
    pytest.importorskip("torch")
    from crackle.nn._dynamic_range import DynamicRangeResult
    from crackle.nn._lyapunov_probes import GrowthRateResult, LyapunovResult, LyapunovSpectrum
    from crackle.nn.probes import BranchingResult

    layers = np.array([1.1, 0.9, 1.0])
    res = BranchingResult(1.0123, 0.99, layers, ("a", "b", "c"), 1e-3, 4, 1, 0, 0, 0.021)
    assert row(res._repr_html_(), "branching parameter σ") == "1.012 ± 0.021"
    lyap = LyapunovResult(0.1, 0.01, np.zeros(3), layers, ("a",), 3, 5, True, True, 0)
    assert row(lyap._repr_html_(), "λ_max") == "0.100 ± 0.010"
    rate = GrowthRateResult(0.05, 0.01, layers, ("a",), 3, 1, 0)
    assert row(rate._repr_html_(), "growth rate") == "0.050 ± 0.010"
    spec = LyapunovSpectrum(np.array([0.1, -0.2]), np.array([0.01, 0.02]), np.zeros((3, 2)),
                            ("a",), 3, 5, True, True, 0)  # fmt: skip
    page = spec._repr_html_()
    assert row(page, "λ_1") == "0.100 ± 0.010"
    assert row(page, "λ_2") == "-0.200 ± 0.020"
    nan = float("nan")
    dr = DynamicRangeResult(
        nan, layers, ("a",), layers, layers, np.zeros((3, 1)), nan, nan, "rms", 3,
        reason="flat <response>",
    )  # fmt: skip
    page = dr._repr_html_()
    assert row(page, "dynamic range Δ") == "–"
    assert "flat &lt;response&gt;" in page
