"""The trainability map on sklearn's digits: cells, resume, correlations, bad input."""

import numpy as np
import pytest
from scipy import stats

from crackle.experiments import trainability as tmod
from crackle.experiments.trainability import TrainabilityConfig, trainability_map

pytestmark = pytest.mark.slow  # about 15 s on 2 cores

TINY = TrainabilityConfig(
    sigma_w2=(0.3, 1.0, 6.0),
    sigma_b2=(0.0, 0.2),
    depth=12,
    width=32,
    epochs=1,
    batches_per_epoch=60,
    batch_size=64,
    lr=0.05,
    n_eval=1797,
    dataset="digits",
    seed=1,
)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    out = tmp_path_factory.mktemp("tm")
    return out, trainability_map(TINY, out=out)


def test_cells_and_correlations(tiny):
    out, res = tiny
    assert res.accuracy.shape == (3, 2)
    assert ((res.accuracy >= 0) & (res.accuracy <= 1)).all()
    assert len(list((out / "cells").glob("*.json"))) == 6
    chi = np.asarray(res.meanfield["chi_w"], dtype=float).ravel()
    ok = np.isfinite(chi)
    rho = stats.spearmanr(res.accuracy.ravel()[ok], chi[ok]).statistic
    assert res.correlations["chi_w"][0] == pytest.approx(rho)
    assert (out / "trainability.json").exists()


def test_near_critical_deep_network_trains_better_than_ordered_and_chaotic(tiny):
    # Depth 12 at sigma_b = 0: sigma_w^2 = 0.3 forgets its input (ordered), 6.0 scrambles
    # it (chaotic); sigma_w^2 = 1 propagates it (Schoenholz et al. 2017).
    _, res = tiny
    ordered, critical, chaotic = res.accuracy[:, 0]
    assert critical > ordered + 0.1
    assert critical > chaotic + 0.1


def test_resume_does_not_retrain_finished_cells(tiny, monkeypatch):
    out, res = tiny

    def no_training(*args, **kwargs):
        raise AssertionError("a finished cell was trained again")

    monkeypatch.setattr(tmod, "_train_cell", no_training)
    again = trainability_map(TINY, out=out)
    np.testing.assert_array_equal(again.accuracy, res.accuracy)
    with pytest.raises(FileExistsError, match="other parameters"):
        trainability_map(TrainabilityConfig(**{**TINY.to_dict(), "seed": 2}), out=out)


@pytest.mark.parametrize(
    ("change", "name"),
    [
        ({"sigma_w2": ()}, "'sigma_w2'"),
        ({"sigma_w2": (0.0, 1.0)}, "'sigma_w2'"),
        ({"sigma_b2": (-0.1,)}, "'sigma_b2'"),
        ({"lr": 0.0}, "'lr'"),
        ({"depth": 0}, "'depth'"),
        ({"dataset": "cifar"}, "'dataset'"),
    ],
)
def test_bad_config(change, name):
    kw = {**TINY.to_dict(), **change}
    kw["sigma_w2"], kw["sigma_b2"] = tuple(kw["sigma_w2"]), tuple(kw["sigma_b2"])
    with pytest.raises(ValueError, match=name):
        TrainabilityConfig(**kw)
