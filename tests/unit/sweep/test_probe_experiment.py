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
    # Numbers, and the dynamic range's reason in words ("" where it is measured).
    assert isinstance(out.pop("dynamic_range_reason"), str)
    assert all(isinstance(v, int | float) for v in out.values())
    # A chaotic tanh MLP amplifies perturbations: sigma > 1, lambda_0 > 0.
    assert out["branching"] > 1
    assert out["lyapunov"] > 0
    assert np.isfinite(out["dynamic_range_db"])


def test_probe_config_errors_name_the_key():
    with pytest.raises(ValueError, match=r"grid\.model"):
        parse_config({"experiment": "probe", "grid": {"model": ["mlp-tanh", "no-such-net"]}})
    with pytest.raises(ValueError, match="n"):
        parse_config({"experiment": "probe", "grid": {"model": ["cnn"]}, "fixed": {"n": 1}})


def test_train_experiment_runs_one_cell_on_digits():
    exp = get_experiment("train")
    params = exp.params(
        sigma_w2=1.0, depth=4, width=16, epochs=1, batches_per_epoch=20, dataset="digits"
    )
    out = exp.func(params, 3)
    assert out == exp.func(params, 3)
    assert 0.0 <= out["accuracy"] <= 1.0
    with pytest.raises(ValueError, match="dataset"):
        parse_config({"experiment": "train", "grid": {"dataset": ["digits", "cifar"]}})
