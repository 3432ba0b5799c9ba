"""The trainability map on sklearn's digits: cells and seeds, resume, workers, the
rank correlations against the mean-field lines, the figure, the CLI, bad input."""

import json

import numpy as np
import pytest
from scipy import stats

from crackle import CrackleValueError
from crackle.experiments import trainability as tmod
from crackle.experiments.trainability import PREDICTORS, TrainabilityConfig, trainability_map
from crackle.theory import meanfield as mf

pytestmark = pytest.mark.slow  # about 30 s on 2 cores

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
    n_seeds=2,
    n_boot=200,
)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    out = tmp_path_factory.mktemp("tm")
    return out, trainability_map(TINY, out=out)


def test_cells_seeds_and_files(tiny):
    out, res = tiny
    assert res.accuracy_seeds.shape == (3, 2, 2)
    assert ((res.accuracy_seeds >= 0) & (res.accuracy_seeds <= 1)).all()
    np.testing.assert_allclose(res.accuracy, res.accuracy_seeds.mean(axis=2))
    assert len(list((out / "cells").glob("*.json"))) == 12
    # Seeds differ between replicates (different initialisations, different accuracies).
    assert not np.array_equal(res.accuracy_seeds[..., 0], res.accuracy_seeds[..., 1])
    saved = json.loads((out / "trainability.json").read_text())
    np.testing.assert_allclose(saved["accuracy_seeds"], res.accuracy_seeds)
    assert set(saved["rank_tests"]) == {"pooled", "sigma_b2=0", "sigma_b2=0.2"}


def test_replicate_zero_keeps_the_single_seed_maps_seed():
    one = TrainabilityConfig(**{**TINY.to_dict(), "n_seeds": 1})
    assert tmod._cell_seed(one, 2, 1, 0) == tmod._cell_seed(TINY, 2, 1, 0)
    assert tmod._cell_seed(TINY, 2, 1, 1) != tmod._cell_seed(TINY, 2, 1, 0)


def test_predictors_are_distances_to_the_lines(tiny):
    _, res = tiny
    sb = np.array(TINY.sigma_b2)
    edge = mf.edge_of_chaos(sb).sigma_w2
    np.testing.assert_allclose(res.lines["edge_of_chaos"], edge)
    np.testing.assert_allclose(res.lines["widom_w2"], mf.widom_line(sb).sigma_w2)
    sw = np.array(TINY.sigma_w2)
    np.testing.assert_allclose(
        res.predictors["edge_closeness"], -np.abs(sw[:, None] - edge[None, :])
    )
    chi1 = np.asarray(mf.phase_diagram(sw, sb).chi_1)
    np.testing.assert_allclose(res.predictors["chi_1_closeness"], -np.abs(chi1 - 1))
    assert set(res.predictors) == set(PREDICTORS)


def test_correlations_are_spearman_of_the_seed_means(tiny):
    _, res = tiny
    pred = res.predictors["edge_closeness"].ravel()
    rho = stats.spearmanr(res.accuracy.ravel(), pred).statistic
    assert res.correlations["edge_closeness"][0] == pytest.approx(rho)
    pooled = res.rank_tests["pooled"]["edge_closeness"]
    assert pooled.rho == pytest.approx(rho)
    assert pooled.low <= pooled.high
    assert pooled.n == 6
    row = res.rank_tests["sigma_b2=0.2"]["edge_closeness"]
    assert row.rho == pytest.approx(
        stats.spearmanr(res.accuracy[:, 1], res.predictors["edge_closeness"][:, 1]).statistic
    )
    assert "widom_w2_closeness - edge_closeness" in res.differences["pooled"]
    assert {r["scope"] for r in res.table()} == set(res.rank_tests)


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
    np.testing.assert_array_equal(again.accuracy_seeds, res.accuracy_seeds)
    with pytest.raises(FileExistsError, match="other parameters"):
        trainability_map(TrainabilityConfig(**{**TINY.to_dict(), "seed": 2}), out=out)


def test_two_workers_give_the_same_map():
    # Seeds belong to (cell, replicate), not to the process that trains them.
    small = TrainabilityConfig(
        **{**TINY.to_dict(), "sigma_w2": (1.0, 2.0), "width": 8, "batches_per_epoch": 5}
    )
    one = trainability_map(small, workers=1)
    two = trainability_map(small, workers=2)
    np.testing.assert_array_equal(two.accuracy_seeds, one.accuracy_seeds)


def test_figure_and_axes(tiny):
    import matplotlib.pyplot as plt

    from crackle.report.trainability_figures import plot_rank_tests, trainability_figure

    _, res = tiny
    ax = res.plot()
    assert ax.get_xlabel() == "weight variance σ_w²"
    assert "depth 12" in ax.get_title()
    assert plot_rank_tests(res).get_title()
    fig = trainability_figure([res, res])
    assert isinstance(fig, plt.Figure)
    assert len(fig.axes) == 6  # two heat maps with colour bars, two forest plots
    plt.close("all")


def test_cli_end_to_end(tmp_path):
    from typer.testing import CliRunner

    from crackle.cli.main import _register, app

    _register()
    args = ["experiment", "trainability", "--out", str(tmp_path), "--sigma-w2", "0.5,1.5",
            "--sigma-b2", "0,0.3", "--depth", "3,4", "--width", "8", "--epochs", "1",
            "--batches-per-epoch", "3", "--batch-size", "16", "--dataset", "digits",
            "--n-seeds", "2", "--n-boot", "50"]  # fmt: skip
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    assert (tmp_path / "depth3" / "trainability.json").exists()
    assert (tmp_path / "depth4" / "trainability.json").exists()
    assert (tmp_path / "figures" / "trainability.png").exists()
    assert "pooled" in res.output


def test_config_round_trip_and_paper_scale():
    assert TrainabilityConfig(**TINY.to_dict()) == TINY
    assert json.loads(json.dumps(TINY.to_dict())) == TINY.to_dict()
    paper = TrainabilityConfig.paper_scale(100)
    assert (paper.depth, paper.epochs, paper.batches_per_epoch, paper.batch_size) == (
        100, 10, 200, 128
    )  # fmt: skip
    assert len(paper.sigma_w2) == 20
    assert len(paper.sigma_b2) == 10
    assert TrainabilityConfig.paper_scale(50, n_seeds=5).n_seeds == 5


@pytest.mark.parametrize(
    ("change", "name"),
    [
        ({"sigma_w2": ()}, "'sigma_w2'"),
        ({"sigma_w2": (0.0, 1.0)}, "'sigma_w2'"),
        ({"sigma_w2": (1.0, 1.0)}, "'sigma_w2'"),
        ({"sigma_b2": (-0.1,)}, "'sigma_b2'"),
        ({"lr": 0.0}, "'lr'"),
        ({"depth": 0}, "'depth'"),
        ({"n_seeds": 0}, "'n_seeds'"),
        ({"n_boot": 0}, "'n_boot'"),
        ({"confidence": 1.5}, "'confidence'"),
        ({"dataset": "cifar"}, "'dataset'"),
    ],
)
def test_bad_config(change, name):
    with pytest.raises(CrackleValueError, match=name):
        TrainabilityConfig(**{**TINY.to_dict(), **change})


def test_bad_call():
    with pytest.raises(CrackleValueError, match="'config'"):
        trainability_map({"depth": 3})
    with pytest.raises(CrackleValueError, match="'workers'"):
        trainability_map(TINY, workers=0)
