"""Epochs to a target accuracy on sklearn's digits: counting, resume, bad input."""

import numpy as np
import pytest

from crackle.experiments import epochs_to_target as emod
from crackle.experiments.epochs_to_target import EpochsConfig, epochs_to_target

pytestmark = pytest.mark.slow  # about 10 s on 2 cores

TINY = EpochsConfig(
    widths=(16, 32),
    sigma_w2=(0.3, 1.0),
    sigma_b2=0.0,
    target=0.6,
    max_epochs=4,
    depth=10,
    batches_per_epoch=30,
    batch_size=64,
    lr=0.05,
    n_eval=1797,
    dataset="digits",
    seed=0,
)


def test_counts_epochs_and_resumes(tmp_path, monkeypatch):
    res = epochs_to_target(TINY, out=tmp_path)
    assert res.epochs.shape == (2, 2)
    reached = np.isfinite(res.epochs)
    # Reached: within max_epochs, and the final accuracy is at the target; not
    # reached: below it after max_epochs.
    assert ((res.epochs[reached] >= 1) & (res.epochs[reached] <= TINY.max_epochs)).all()
    assert (res.final[reached] >= TINY.target).all()
    assert (res.final[~reached] < TINY.target).all()
    # Depth 10 at sigma_w^2 = 0.3 is deep in the ordered phase: it cannot learn in
    # 4 epochs, while sigma_w^2 = 1 does (the same order as Ghavasieh et al. 2025, Fig. 3f).
    assert not reached[:, 0].any()
    assert reached[:, 1].all()
    assert res.window() == [1, 1]

    def no_training(*args, **kwargs):
        raise AssertionError("a finished pair was trained again")

    monkeypatch.setattr(emod, "_run", no_training)
    again = epochs_to_target(TINY, out=tmp_path)
    np.testing.assert_array_equal(again.epochs, res.epochs)


@pytest.mark.parametrize(
    ("change", "name"),
    [
        ({"target": 0.0}, "'target'"),
        ({"target": 1.5}, "'target'"),
        ({"widths": ()}, "'widths'"),
        ({"sigma_w2": (-1.0,)}, "'sigma_w2'"),
        ({"max_epochs": 0}, "'max_epochs'"),
    ],
)
def test_bad_config(change, name):
    kw = {**TINY.to_dict(), **change}
    kw["widths"], kw["sigma_w2"] = tuple(kw["widths"]), tuple(kw["sigma_w2"])
    with pytest.raises(ValueError, match=name):
        EpochsConfig(**kw)
