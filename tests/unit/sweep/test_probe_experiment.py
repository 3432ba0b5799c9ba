"""The ``probe`` sweep experiment: registered lazily, validated, seeded."""

import numpy as np
import pytest

from crackle.sweep.config import parse_config
from crackle.sweep.experiments import experiment_names, get_experiment


def test_probe_is_known_and_runs_one_point():
    assert "probe" in experiment_names()
    exp = get_experiment("probe")
    params = exp.params(model="mlp-tanh-chaotic", n=16)
    out = exp.func(params, 7)
    again = exp.func(params, 7)
    assert out == again  # the seed decides the model and the inputs
    assert all(isinstance(v, int | float) for v in out.values())
    # A chaotic tanh MLP amplifies perturbations: sigma > 1, lambda_0 > 0.
    assert out["branching"] > 1
    assert out["lyapunov"] > 0
    assert np.isfinite(out["dynamic_range_db"])


def test_probe_config_errors_name_the_key():
    with pytest.raises(ValueError, match=r"grid\.model"):
        parse_config({"experiment": "probe", "grid": {"model": ["mlp-tanh", "no-such-net"]}})
    with pytest.raises(ValueError, match="n"):
        parse_config({"experiment": "probe", "fixed": {"n": 1}})
