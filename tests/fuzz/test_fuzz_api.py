"""Fuzz of the public API: every outcome is a result or a CrackleValueError."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import crackle as ck

from .cases import nn_hostile_calls, run_all


def test_every_hostile_value_of_every_parameter_is_a_result_or_a_clear_error():
    counts, failures = run_all()
    assert counts["tried"] > 2000
    assert failures == [], "\n".join(failures)


def test_every_hostile_value_of_every_nn_parameter_is_a_result_or_a_clear_error():
    # the probes of crackle.nn (a dead or saturated network is a result with its
    # reason and a DeadNetworkWarning, not a RuntimeWarning) and checkpoint loading
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        counts, failures = run_all(nn_hostile_calls())
    finally:
        torch.set_num_threads(before)
    assert counts["tried"] > 1000
    assert failures == [], "\n".join(failures)


# Arrays a hostile user might pass: any float (NaN, inf, huge, tiny, negative),
# complex, integers, booleans, text; empty or not; 1-D or 2-D.
_dtypes = st.sampled_from([np.float64, np.float32, np.int64, np.bool_, np.complex128, "<U3"])
_arrays = _dtypes.flatmap(
    lambda dt: hnp.arrays(
        dt,
        hnp.array_shapes(min_dims=1, max_dims=2, min_side=0, max_side=300),
        elements=None
        if dt != np.float64
        else st.floats(allow_nan=True, allow_infinity=True, width=64),
    )
)
_ragged = st.lists(st.lists(st.floats(), max_size=4), min_size=2, max_size=4)

FUNCS = {
    "fit_power_law": lambda x: ck.fit_power_law(x, min_tail=5),
    "avalanches_from_counts": lambda x: ck.avalanches_from_counts(x, raster=False),
    "branching_ratio": lambda x: ck.branching_ratio(x, kmax=3, n_boot=2),
    "dfa": ck.dfa,
    "psd_slope": ck.psd_slope,
    "fit_size_duration": lambda x: ck.fit_size_duration(x, x, min_count=2),
    "edge_of_chaos": ck.meanfield.edge_of_chaos,
}


@pytest.mark.parametrize("name", sorted(FUNCS))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(x=st.one_of(_arrays, _ragged))
def test_hostile_arrays(name, x):
    refused = False
    try:
        # an unguarded overflow or NaN inside is a failure, not a quiet result
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            FUNCS[name](x)
    except ck.CrackleValueError:
        refused = True
    hostile = not isinstance(x, np.ndarray) or (x.dtype.kind in "cU" and x.size > 0)
    if hostile and not (isinstance(x, list) and len({len(r) for r in x}) == 1):
        assert refused, "complex, text or ragged input must be refused, not converted"
