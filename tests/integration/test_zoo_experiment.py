"""The Fashion-MNIST zoo experiment end to end on a tiny configuration."""

import itertools
import json
import math

import numpy as np
import pandas as pd
import pytest
import torch
from scipy import stats
from typer.testing import CliRunner

import crackle.experiments._zoo_train as zoo_train
from crackle.cli.main import _register, app
from crackle.experiments._rank_tests import exact_spearman_p
from crackle.experiments.zoo import DISTANCES, ZooConfig, train_zoo
from crackle.nn.probes import branching_parameter, lyapunov_exponent
from crackle.nn.zoo import build_model
from crackle.train.data import FASHION_MNIST_ROOT

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not FASHION_MNIST_ROOT.is_dir(),
        reason=f"Fashion-MNIST IDX files not found at {FASHION_MNIST_ROOT} "
        "(apt-get install dataset-fashion-mnist)",
    ),
]

TINY = dict(
    archs=("mlp-tanh-ordered", "mlp-tanh-chaotic"),
    steps=(40, 4),
    train_subset=512,
    test_subset=300,
    probe_n=24,
    seed=3,
)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("zoo")
    return out, train_zoo(ZooConfig(**TINY), out=out)


def test_table_one_row_per_model(run):
    out, res = run
    df = res.table
    assert df["name"].tolist() == [f"{a}@{s}" for a in TINY["archs"] for s in (4, 40)]
    assert ((df["test_accuracy"] >= 0) & (df["test_accuracy"] <= 1)).all()
    # 10 classes: 4 steps leave a model near chance, 40 steps of SGD do better
    for arch in TINY["archs"]:
        sub = df[df["arch"] == arch].set_index("steps")
        assert sub.loc[40, "test_accuracy"] > sub.loc[4, "test_accuracy"]
    assert np.allclose(df["dist_log_sigma"], np.abs(np.log(df["branching"])))
    assert np.allclose(df["dist_lyapunov"], np.abs(df["lyapunov"]))
    assert np.allclose(df["dist_lyapunov_gauss"], np.abs(df["lyapunov_gauss"]))
    # test images and Gaussian inputs are different probes
    assert not np.allclose(df["lyapunov"], df["lyapunov_gauss"])
    assert pd.read_csv(out / "zoo.csv")["name"].tolist() == df["name"].tolist()
    stored = json.loads((out / "zoo.json").read_text())
    assert len(stored["models"]) == 4
    assert len(stored["correlations"]) == len(DISTANCES)
    # one correlation per distance at each step count, across the two architectures
    assert [c.steps for c in res.within_steps] == [4] * len(DISTANCES) + [40] * len(DISTANCES)
    assert all(c.n == 2 and math.isnan(c.spearman_rho) for c in res.within_steps)  # n < 3


def test_probes_ran_on_the_saved_weights_and_test_images(run):
    out, res = run
    cfg = ZooConfig(**TINY)
    data = zoo_train.load_data(cfg)
    x = data["x_test"][: cfg.probe_n]
    row = res.table.iloc[1]
    model = build_model(row["arch"], seed=cfg.seed)
    model.load_state_dict(torch.load(out / "models" / f"{row['name']}.pt", weights_only=True))
    # a finite difference in float32 (eps = 1e-3): thread counts change the last digits
    res_br = branching_parameter(model, x, seed=cfg.seed)
    br = res_br.value
    assert br == pytest.approx(row["branching"], rel=1e-3)
    assert row["branching_hidden"] == pytest.approx(res_br.per_layer[:4].mean(), rel=1e-3)
    assert abs(br - row["branching_gauss"]) > 1e-2  # not the Gaussian-input probe
    ly = lyapunov_exponent(model, x, seed=cfg.seed)
    assert ly.value == pytest.approx(row["lyapunov"], rel=1e-5)
    # hidden layers: the readout's log rate left out of the mean over layers
    assert len(ly.per_layer) == 5
    assert row["lyapunov_hidden"] == pytest.approx(ly.per_layer[:4].mean(), rel=1e-5)
    assert row["dist_lyapunov_hidden"] == pytest.approx(abs(ly.per_layer[:4].mean()), rel=1e-5)
    acc = zoo_train.accuracy(model.eval(), data["x_test"], data["y_test"], "cpu")
    assert acc == pytest.approx(row["test_accuracy"])


def test_correlations_recomputed_from_the_table(run):
    _, res = run
    acc = res.table["test_accuracy"].to_numpy()
    for col, _ in DISTANCES:
        c = res.correlation(col)
        d = res.table[col].to_numpy()
        r, p = stats.pearsonr(d, acc)
        rho = stats.spearmanr(d, acc)[0]
        assert c.n == 4
        assert (c.pearson_r, c.pearson_p) == pytest.approx((r, p))
        assert c.spearman_rho == pytest.approx(rho)
        # 4 models: the exact permutation p-value, not scipy's t approximation
        exact = np.mean([abs(stats.spearmanr(d, q)[0]) >= abs(rho) - 1e-12
                         for q in itertools.permutations(acc)])  # fmt: skip
        assert c.spearman_p == pytest.approx(exact)
        # rank partial correlation given the step count, by the textbook formula
        rd, ra, rs = (stats.rankdata(v) for v in (d, acc, res.table["steps"]))
        r_da, r_ds, r_as = (np.corrcoef(u, v)[0, 1] for u, v in ((rd, ra), (rd, rs), (ra, rs)))
        partial = (r_da - r_ds * r_as) / np.sqrt((1 - r_ds**2) * (1 - r_as**2))
        assert c.partial_rho == pytest.approx(partial)
        t = partial * np.sqrt((4 - 3) / (1 - partial**2))
        assert c.partial_p == pytest.approx(2 * stats.t.sf(abs(t), 4 - 3), abs=1e-6)
    fig = res.plot()
    assert "Spearman" in fig.axes[0].get_title()


def test_exact_spearman_p_of_a_perfect_ranking():
    x = np.arange(5.0)
    assert exact_spearman_p(x, x**2) == pytest.approx(2 / 120)  # rho = +-1: 2 of 5!
    assert stats.spearmanr(x, x**2)[1] < 1e-20  # what scipy's approximation says


def test_rerun_skips_training(run, monkeypatch):
    out, res = run

    def boom(*a, **k):
        raise AssertionError("trained again")

    monkeypatch.setattr(zoo_train, "train", boom)
    again = train_zoo(ZooConfig(**TINY), out=out)
    pd.testing.assert_frame_equal(again.table, res.table)
    # a model missing from disk makes its architecture train again
    (out / "models" / "mlp-tanh-chaotic@4.json").rename(out / "moved.json")
    with pytest.raises(AssertionError, match="trained again"):
        train_zoo(ZooConfig(**TINY), out=out)
    (out / "moved.json").rename(out / "models" / "mlp-tanh-chaotic@4.json")
    with pytest.raises(FileExistsError, match="other parameters"):
        train_zoo(ZooConfig(**{**TINY, "lr": 0.02}), out=out)


def test_cli_resumes_and_writes_files(run, monkeypatch):
    out, _ = run
    _register()
    monkeypatch.setattr(zoo_train, "train", None)  # resumed: nothing is trained
    args = ["experiment", "zoo", "--out", str(out), "--archs", ",".join(TINY["archs"]),
            "--steps", "40,4", "--train-subset", "512", "--test-subset", "300",
            "--probe-n", "24", "--seed", "3"]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "Spearman" in result.output
    assert "zoo.png" in result.output
    assert (out / "figures" / "zoo.png").stat().st_size > 1000
    bad = CliRunner().invoke(app, ["experiment", "zoo", "--out", str(out), "--steps", "a"])
    assert bad.exit_code == 2
    assert "--steps" in bad.output


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"archs": ()}, "archs"),
        ({"archs": ("resnet18",)}, "archs"),
        ({"archs": ("cnn", "cnn")}, "archs"),
        ({"steps": ()}, "steps"),
        ({"steps": (0, 5)}, "steps"),
        ({"steps": (5, 5)}, "steps"),
        ({"optimizer": "lbfgs"}, "optimizer"),
        ({"lr": 0.0}, "lr"),
        ({"lr": math.nan}, "lr"),
        ({"batch_size": 0}, "batch_size"),
        ({"train_subset": 70_000}, "train_subset"),
        ({"test_subset": 20_000}, "test_subset"),
        ({"probe_n": 500, "test_subset": 300}, "probe_n"),
        ({"seed": -1}, "seed"),
        ({"num_threads": 8}, "num_threads"),
        ({"device": "tpu"}, "device"),
    ],
)
def test_bad_config_values(kw, match):
    with pytest.raises(ValueError, match=f"'{match}' parameter of train_zoo"):
        ZooConfig(**kw)


def test_config_must_be_a_zooconfig():
    with pytest.raises(ValueError, match="'config' parameter"):
        train_zoo({"archs": ("cnn",)})  # type: ignore[arg-type]
