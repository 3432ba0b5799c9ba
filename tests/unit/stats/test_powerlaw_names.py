"""PowerLawFit's exponent / exponent_err, and the 0.1 names kept as deprecated aliases."""

import json
import warnings

import pytest

from crackle.stats import fit_power_law, sample_power_law


@pytest.fixture(scope="module")
def fit():
    return fit_power_law(sample_power_law(2.2, 3, 4000, discrete=True, seed=11), discrete=True)


@pytest.mark.parametrize(("old", "new"), [("alpha", "exponent"), ("sigma", "exponent_err")])
def test_old_name_warns_names_the_new_one_and_agrees(fit, old, new):
    with pytest.warns(DeprecationWarning, match=rf"PowerLawFit\.{old} .*PowerLawFit\.{new}\b"):
        value = getattr(fit, old)
    assert value == getattr(fit, new)
    assert fit.to_dict()[old] == fit.to_dict()[new] == getattr(fit, new)


def test_new_names_do_not_warn(fit):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        d = fit.to_dict()
        values = (fit.exponent, fit.exponent_err, fit.survival([10.0]), fit.compare("exponential"))
    json.dumps(d)
    assert 2.0 < values[0] < 2.4
    assert 0 < values[1] < 0.1


def test_the_warning_points_at_the_caller(fit):
    with pytest.warns(DeprecationWarning, match="exponent") as record:
        fit.alpha  # noqa: B018
    assert record[0].filename == __file__


def test_fields_are_the_new_names(fit):
    import dataclasses

    names = {f.name for f in dataclasses.fields(fit)}
    assert {"exponent", "exponent_err"} <= names
    assert not {"alpha", "sigma"} & names
