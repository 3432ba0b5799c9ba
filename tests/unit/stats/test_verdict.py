"""The crackling report's verdict: three outcomes with reasons, never an exception."""

import json

import numpy as np
import pytest

import crackle as ck
from crackle.events.avalanches import Avalanches
from crackle.sim import branching_process
from crackle.stats.verdict import N_JUDGE, OUTCOMES, Check, censoring_check, combine_checks


@pytest.fixture(scope="module")
def critical():
    return branching_process(1.0, 100_000, seed=0)


@pytest.fixture(scope="module")
def critical_report(critical):
    return ck.crackling_report(critical)


def test_critical_process_has_exponents_with_both_errors(critical_report):
    rep = critical_report
    assert rep.verdict.outcome == "critical"
    for name in ("tau", "alpha", "inv_snz_fitted", "inv_snz_predicted"):
        assert np.isfinite(getattr(rep, name))
        assert getattr(rep, f"{name}_err") > 0
        assert getattr(rep, f"{name}_sys") >= 0
    assert rep.dcc == pytest.approx(abs(rep.scaling_mismatch))
    assert rep.dcc_err > 0
    names = [c.name for c in rep.verdict.checks]
    assert names[:3] == ["data", "sizes", "durations"]
    assert "scaling relation" in names


def test_report_is_json_safe_and_the_table_shows_systematic_errors(critical_report):
    d = json.loads(json.dumps(critical_report.to_dict(), allow_nan=False))
    assert d["verdict"]["outcome"] == "critical"
    assert {"tau_sys", "alpha_sys", "inv_snz_fitted_sys", "dcc"} <= set(d)
    assert d["size_scan"]["scan"]["lows"]
    rows = dict((r[0], r[1]) for r in critical_report.summary())
    assert "sys" in rows["τ (sizes)"]
    assert "sys" in rows["α (durations)"]
    assert rows["verdict"] == "critical"


def test_fits_stop_below_the_shortest_censored_avalanche(critical, critical_report):
    assert critical.n_censored > 0
    assert critical_report.duration_xmax == critical.censored_durations.min() - 1
    assert critical_report.duration_fit.xmax == critical_report.duration_xmax
    assert critical_report.size_xmax < critical.censored_sizes.min()
    # None turns the truncation off; a number sets it.
    rep = ck.crackling_report(critical, duration_xmax=None, size_xmax=None, n_boot=0)
    assert rep.duration_fit.xmax is None
    rep = ck.crackling_report(critical, duration_xmax=500, n_boot=0)
    assert rep.duration_fit.xmax == 500


def test_supercritical_runaway_avalanches_fail_the_censoring_check():
    rep = ck.crackling_report(branching_process(1.1, 20_000, max_duration=1000, seed=0))
    check = next(c for c in rep.verdict.checks if c.name == "censoring")
    assert check.status == "fail"
    assert rep.verdict.outcome == "not critical"


def test_censoring_check_passes_where_the_law_predicts_the_count(critical_report, critical):
    check = censoring_check(
        critical_report.duration_fit, critical.censored_durations, critical.n_censored
    )
    assert check.status == "pass"


def test_too_few_avalanches_is_inconclusive_with_the_number_needed():
    rep = ck.crackling_report(branching_process(1.0, 3000, seed=0))
    assert rep.verdict.outcome in ("inconclusive", "not critical")
    data = next(c for c in rep.verdict.checks if c.name == "data")
    assert data.status == "unknown"
    assert str(N_JUDGE) in data.detail
    if rep.verdict.outcome == "inconclusive":
        assert rep.verdict.n_needed == N_JUDGE


@pytest.mark.parametrize(
    "av",
    [
        Avalanches.from_arrays(np.full(500, 3.0), np.full(500, 2)),
        Avalanches.from_arrays([1, 2, 3, 5, 8], [1, 1, 2, 2, 3]),
        Avalanches(np.zeros(0), np.zeros(0, np.int64), np.array([5.0, 7.0]), np.array([3, 4])),
    ],
    ids=["all equal", "a handful", "only censored"],
)
def test_degenerate_data_are_inconclusive_not_an_exception(av):
    rep = ck.crackling_report(av)
    assert rep.verdict.outcome == "inconclusive"
    assert rep.verdict.reasons
    json.dumps(rep.to_dict(), allow_nan=False)
    rep.summary()


def test_combine_rule():
    p, f, u = Check("a", "pass", ""), Check("b", "fail", "x"), Check("c", "unknown", "y")
    assert combine_checks([p, p], 10).outcome == "critical"
    assert combine_checks([p, u], 10).outcome == "inconclusive"
    assert combine_checks([u, f], 10).outcome == "not critical"
    assert combine_checks([u, f], 10).reasons == ("b: x",)
    assert set(OUTCOMES) == {"critical", "not critical", "inconclusive"}


@pytest.mark.parametrize(
    ("kw", "name"),
    [
        ({"n_boot": "x"}, "n_boot"),
        ({"n_boot": -1}, "n_boot"),
        ({"n_boot": 2.5}, "n_boot"),
        ({"collapse": "no"}, "collapse"),
        ({"discrete_sizes": "no"}, "discrete_sizes"),
        ({"size_xmax": "big"}, "size_xmax"),
        ({"duration_xmax": -3}, "duration_xmax"),
        ({"size_xmin": "minimal"}, "size_xmin"),
        ({"duration_xmin": (5, 2)}, "duration_xmin"),
        ({"tmin": 0}, "tmin"),
    ],
)
def test_bad_parameters(critical, kw, name):
    with pytest.raises(ValueError, match=f"'{name}'"):
        ck.crackling_report(critical, **kw)
