"""crackling_report's min_tail_fraction: x_min searched where the tail keeps a share."""

import pytest

import crackle as ck
from crackle.sim import branching_process


@pytest.fixture(scope="module")
def critical():
    return branching_process(1.0, 200_000, seed=0)


def test_the_window_keeps_the_exact_exponents_and_the_tail_share(critical):
    rep = ck.crackling_report(critical, min_tail_fraction=0.1)
    assert abs(rep.tau - 1.5) <= 0.05  # exact: 3/2 and 2
    assert abs(rep.alpha - 2.0) <= 0.1
    for fit in (rep.size_fit, rep.duration_fit):
        assert fit.n_tail >= 0.1 * critical.n
    assert any("at least 10%" in note for note in rep.notes)


def test_a_fixed_xmin_is_not_overridden(critical):
    rep = ck.crackling_report(critical, size_xmin=3.0, min_tail_fraction=0.5)
    assert rep.size_fit.xmin == 3.0
    assert rep.duration_fit.n_tail >= 0.5 * critical.n


@pytest.mark.parametrize("bad", [-0.1, 1.5, float("nan")])
def test_bad_fraction(critical, bad):
    with pytest.raises(ValueError, match="'min_tail_fraction'"):
        ck.crackling_report(critical, min_tail_fraction=bad)
