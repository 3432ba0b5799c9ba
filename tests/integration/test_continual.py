"""Continual learning on permuted digits: per-task results, resume, bad input."""

import numpy as np
import pytest

from crackle.experiments import continual as cmod
from crackle.experiments.continual import ContinualConfig, continual_learning

pytestmark = pytest.mark.slow  # about 15 s on 2 cores

TINY = ContinualConfig(
    n_tasks=4,
    examples_per_task=600,
    batch_size=32,
    depth=2,
    width=32,
    arms=("plain", "branching"),
    penalty_every=2,
    lr=0.1,
    n_eval=297,
    dataset="digits",
    seed=0,
)


def test_tasks_arms_and_an_exact_resume(tmp_path, monkeypatch):
    whole = continual_learning(TINY)
    assert set(whole.accuracy) == {"plain", "branching"}
    for arm in whole.accuracy:
        assert whole.accuracy[arm].shape == (4,)
        assert ((whole.accuracy[arm] > 0.3) & (whole.accuracy[arm] <= 1)).all()
        assert np.isfinite(whole.log_sigma[arm]).all()
    # The penalty changes the training: the arms differ (same data, same order).
    assert not np.array_equal(whole.accuracy["plain"], whole.accuracy["branching"])
    s = whole.summary()["plain"]
    k = 1
    assert s["first_tenth"] == pytest.approx(whole.accuracy["plain"][:k].mean())

    # Interrupt after the second task of the first arm, then resume.
    real = cmod._distance
    calls = []

    def stop_after_two(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(cmod, "_distance", stop_after_two)
    with pytest.raises(KeyboardInterrupt):
        continual_learning(TINY, out=tmp_path)
    monkeypatch.setattr(cmod, "_distance", real)
    resumed = continual_learning(TINY, out=tmp_path)
    for arm in whole.accuracy:
        np.testing.assert_allclose(resumed.accuracy[arm], whole.accuracy[arm], rtol=1e-6)
        np.testing.assert_allclose(resumed.log_sigma[arm], whole.log_sigma[arm], rtol=1e-5)
    assert (tmp_path / "continual.json").exists()


@pytest.mark.parametrize(
    ("change", "name"),
    [
        ({"n_tasks": 0}, "'n_tasks'"),
        ({"arms": ()}, "'arms'"),
        ({"arms": ("plain", "plain")}, "'arms'"),
        ({"arms": ("plain", "dropout")}, "'arms'"),
        ({"penalty_weight": -1.0}, "'penalty_weight'"),
        ({"activation": "sigmoid"}, "'activation'"),
    ],
)
def test_bad_config(change, name):
    kw = {**TINY.to_dict(), **change}
    kw["arms"] = tuple(kw["arms"])
    with pytest.raises(ValueError, match=name):
        ContinualConfig(**kw)
