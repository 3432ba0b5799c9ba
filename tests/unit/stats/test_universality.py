import numpy as np
import pytest

import crackle as ck
from crackle.stats.scaling import predicted_exponent


@pytest.mark.parametrize("cls", ck.UNIVERSALITY_CLASSES, ids=lambda c: c.name[:30])
def test_every_class_obeys_the_scaling_relation(cls):
    pred, err = predicted_exponent(cls.tau, cls.alpha, cls.tau_err, cls.alpha_err)
    # Exact rows to rounding (0.005); measured rows within two propagated errors.
    assert abs(pred - cls.inv_snz) <= 2 * np.hypot(err, cls.inv_snz_err) + 0.005


@pytest.mark.parametrize("cls", ck.UNIVERSALITY_CLASSES, ids=lambda c: c.name[:30])
def test_exact_exponents_find_their_own_class(cls):
    m = ck.nearest_class(cls.tau, cls.alpha, cls.inv_snz, floor=0.01)
    assert m.name == cls.name
    assert m.distance == 0.0
    assert m.consistent


def test_random_walk_class_and_partial_input():
    m = ck.nearest_class(tau=1.34, alpha=1.52, tau_err=0.02, alpha_err=0.03)
    assert m.name.startswith("random-walk")
    assert set(m.to_dict()["distances"]) == {c.name for c in ck.UNIVERSALITY_CLASSES}


def test_far_from_everything_is_not_consistent():
    assert not ck.nearest_class(tau=2.5, alpha=3.5, inv_snz=1.0).consistent


def test_needs_one_exponent():
    with pytest.raises(ValueError, match="at least one"):
        ck.nearest_class()
    with pytest.raises(ValueError, match="'tau_err'"):
        ck.nearest_class(tau=1.5, tau_err=-1)


def test_without_measurement_errors_only_an_exact_match_is_consistent():
    # No floor: a measurement quoted without uncertainty is consistent only with a
    # class whose own uncertainty covers it.
    m = ck.nearest_class(tau=1.34, alpha=1.52)
    assert m.distances[ck.UNIVERSALITY_CLASSES[1].name] == np.inf


def test_class_uncertainties_are_their_literature_values():
    by_name = {c.name.split(",")[0].split(" /")[0]: c for c in ck.UNIVERSALITY_CLASSES}
    mf = by_name["mean-field directed percolation"]
    assert (mf.tau_err, mf.alpha_err, mf.inv_snz_err) == (0.0, 0.0, 0.0)  # exact
    bk = by_name["Barkhausen"]
    assert bk.tau_err == 0.03  # Durin & Zapperi 2000
    # alpha and 1/(sigma nu z) carry tau's uncertainty through the scaling relation.
    assert bk.alpha_err == pytest.approx(1.77 * 0.03)
    assert bk.inv_snz_err == pytest.approx(0.5 * 0.03 / 0.27**2)


def test_no_class_consistent_is_said_plainly():
    m = ck.nearest_class(
        tau=1.9, alpha=2.9, inv_snz=2.0, tau_err=0.01, alpha_err=0.02, inv_snz_err=0.02
    )
    assert not m.consistent
    assert m.consistent_classes == ()
    assert m.to_dict()["consistent_classes"] == []


@pytest.mark.parametrize("bad", [(), "x", (1, 2)])
def test_bad_classes(bad):
    with pytest.raises(ValueError, match="'classes'"):
        ck.nearest_class(tau=1.5, classes=bad)
