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
    m = ck.nearest_class(tau=1.34, alpha=1.52)
    assert m.name.startswith("random-walk")
    assert set(m.to_dict()["distances"]) == {c.name for c in ck.UNIVERSALITY_CLASSES}


def test_far_from_everything_is_not_consistent():
    assert not ck.nearest_class(tau=2.5, alpha=3.5, inv_snz=1.0).consistent


def test_needs_one_exponent():
    with pytest.raises(ValueError, match="at least one"):
        ck.nearest_class()
    with pytest.raises(ValueError, match="'tau_err'"):
        ck.nearest_class(tau=1.5, tau_err=-1)
