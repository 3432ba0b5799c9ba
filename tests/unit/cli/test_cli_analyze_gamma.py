"""crackle analyze --gamma-range: the collapse's scan range, from the command line."""

import json

import pytest
from typer.testing import CliRunner

from crackle.cli.main import _register, app

_register()
runner = CliRunner()
pytestmark = pytest.mark.slow  # a demo run and four reports: ~20 s of CPU


@pytest.fixture(scope="module")
def branching_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "demo"
    args = ["demo", "--source", "branching", "--n", "20000", "--seed", "3", "--out", str(out)]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    return out


def _analyze(run, out, *extra):
    res = runner.invoke(app, ["analyze", str(run), "--out", str(out), "--n-boot", "0", *extra])
    return res, (json.loads((out / "report.json").read_text()) if res.exit_code == 0 else None)


def test_gamma_range_reaches_the_collapse(branching_run, tmp_path):
    # A critical branching process collapses at gamma = 1/(sigma nu z) = 2 (mean field).
    _, wide = _analyze(branching_run, tmp_path / "default")
    assert wide["collapse"]["gamma"] == pytest.approx(2.0, abs=0.3)
    # A range that stops short of 2 pins the minimum at its upper edge, and the report
    # says so with the advice the option answers.
    res, narrow = _analyze(branching_run, tmp_path / "narrow", "--gamma-range", "0.5", "1.2")
    assert res.exit_code == 0, res.output
    assert narrow["collapse"]["gamma"] <= 1.2
    assert any("edge of gamma_range" in n and "widen" in n for n in narrow["notes"])
    # Widened past the default, the same minimum as the default's.
    res, wider = _analyze(branching_run, tmp_path / "wider", "--gamma-range", "0.2", "6")
    assert res.exit_code == 0, res.output
    assert wider["collapse"]["gamma"] == pytest.approx(wide["collapse"]["gamma"], abs=0.02)


@pytest.mark.parametrize(
    ("lo", "hi", "needle"), [("2", "1", "increasing pair"), ("0", "3", "'gamma_range'")]
)
def test_bad_gamma_range_is_one_clear_line(branching_run, tmp_path, lo, hi, needle):
    res, _ = _analyze(branching_run, tmp_path / "bad", "--gamma-range", lo, hi)
    assert res.exit_code != 0
    assert needle in res.output
    assert "Traceback" not in res.output
