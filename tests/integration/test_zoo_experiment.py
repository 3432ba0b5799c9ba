"""The Fashion-MNIST zoo end to end on a tiny configuration, and its statistics."""

import json

import numpy as np
import pandas as pd
import pytest
import torch
from scipy import stats
from typer.testing import CliRunner

import crackle.experiments._zoo_train as zt
from crackle.cli.main import _register, app
from crackle.experiments._zoo_analysis import bootstrap, partial_spearman
from crackle.experiments.zoo import ModelSpec, ZooConfig, train_zoo
from crackle.nn.families import FAMILIES, build_family
from crackle.nn.probes import lyapunov_exponent
from crackle.train.data import FASHION_MNIST_ROOT

needs_data = pytest.mark.skipif(
    not FASHION_MNIST_ROOT.is_dir(),
    reason=f"Fashion-MNIST IDX files not found at {FASHION_MNIST_ROOT} "
    "(apt-get install dataset-fashion-mnist)",
)

TINY = dict(
    families=("mlp", "cnn", "vit"),
    variants=("base", "small-init"),
    seeds=(0, 1),
    penalty_families=("mlp", "cnn"),
    steps=15,
    train_subset=512,
    test_subset=200,
    probe_n=12,
    robust_n=100,
    noise=(0.5, 2.0),
    n_boot=50,
    lyapunov_iter=5,
    device="cpu",
)


@pytest.fixture(autouse=True)
def one_torch_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.mark.parametrize("family", list(FAMILIES))
def test_every_family_traces_into_blocks_and_has_a_finite_exponent(family):
    net = build_family(family, width=8, depth=2, seed=1)
    x = torch.randn(3, 1, 28, 28)
    out = net(x)
    assert out.shape == (3, 10)
    ly = lyapunov_exponent(net, x, n_iter=3)
    assert ly.reorthonormalized  # the blocks form a chain
    assert len(ly.names) >= 2
    assert np.isfinite(ly.value)
    assert FAMILIES[family]["year"] >= 1986


def test_partial_spearman_against_its_definition():
    # The slow twin: the rank partial correlation is the correlation of the residuals
    # of the ranks after a least-squares fit on the covariate's rank (with intercept);
    # with no covariate it is scipy's Spearman rho.
    rng = np.random.default_rng(0)
    z = rng.normal(size=40)
    x, y = 2 * z + rng.normal(size=40), 2 * z + rng.normal(size=40)
    assert partial_spearman(x, y, None) == pytest.approx(stats.spearmanr(x, y)[0], abs=1e-12)
    rz = stats.rankdata(z)
    design = np.column_stack([np.ones(40), rz])
    rx = stats.rankdata(x) - design @ np.linalg.lstsq(design, stats.rankdata(x), rcond=None)[0]
    ry = stats.rankdata(y) - design @ np.linalg.lstsq(design, stats.rankdata(y), rcond=None)[0]
    want = float(np.corrcoef(rx, ry)[0, 1])
    assert partial_spearman(x, y, design) == pytest.approx(want, abs=1e-12)
    # x and y are related only through z: the partial correlation is near 0, the plain
    # one clearly positive, and the bootstrap interval covers the estimate
    est, lo, hi = bootstrap(x, y, z, None, 400, np.random.default_rng(1))
    assert abs(est) < 0.3
    assert partial_spearman(x, y, None) > 0.4  # 0.58 for this draw
    assert lo < est < hi


@pytest.mark.slow
@needs_data
def test_tiny_zoo_end_to_end_resume_and_cli(tmp_path):
    out = tmp_path / "zoo"
    cfg = ZooConfig(**TINY)
    res = train_zoo(cfg, out=out)
    df = res.table
    # 3 families x 2 variants x 2 seeds, and 2 families x 2 seeds with the penalty
    assert len(df) == 12 + 4
    assert df["penalty"].sum() == 4
    assert set(df["year"]) == {1986, 1998, 2020}
    assert ((df["test_accuracy"] >= 0) & (df["test_accuracy"] <= 1)).all()
    assert np.allclose(df["dist_lyapunov"], np.abs(df["lyapunov"]))
    assert (df["lyapunov_stderr"] > 0).all()
    # the dynamic range is a number or NaN with its reason, never both
    dr = df["dynamic_range_db"].to_numpy(dtype=float)
    assert ((np.isfinite(dr)) == (df["dynamic_range_reason"].fillna("") == "")).all()
    # a penalised model starts from its plain twin's weights and sees the same batches
    pen, twin = ModelSpec("mlp", "base", 1, True), ModelSpec("mlp", "base", 1, False)
    a, b = zt.build(pen), zt.build(twin)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))
    # the stored row reproduces: rebuild a model from its checkpoint and re-measure
    row = df[df["name"] == "cnn-base-s0"].iloc[0]
    model = zt.build(ModelSpec("cnn", "base", 0, False))
    model.load_state_dict(torch.load(out / "models" / "cnn-base-s0.pt", weights_only=True))
    data = zt.load_data(cfg)
    assert zt.accuracy(model.eval(), data["x_test"], data["y_test"], "cpu") == row["test_accuracy"]
    # the analysis: three metrics, the history, the robustness pairs (2 x 2)
    assert [c["metric"] for c in res.correlations] == [
        "dist_log_sigma",
        "dist_lyapunov",
        "dynamic_range_db",
    ]
    rob = {r["column"]: r for r in res.robustness}
    assert rob["test_accuracy"]["n_pairs"] == 4
    assert set(rob) == {"test_accuracy", "acc_noise_0.5", "acc_noise_2", "dist_lyapunov"}
    assert [f["family"] for f in res.history["families"]] == ["mlp", "cnn", "vit"]
    saved = json.loads((out / "zoo.json").read_text())
    assert len(saved["models"]) == 16
    assert pd.read_csv(out / "zoo.csv").shape[0] == 16
    # resume: every model is on disk, nothing is trained again
    calls = []
    real = zt.train
    zt.train = lambda *a, **k: calls.append(a) or real(*a, **k)
    try:
        again = train_zoo(cfg, out=out)
    finally:
        zt.train = real
    assert calls == []
    pd.testing.assert_frame_equal(
        again.table[["name", "test_accuracy", "lyapunov"]],
        df[["name", "test_accuracy", "lyapunov"]],
    )
    # other parameters on the same directory are refused
    with pytest.raises(FileExistsError, match="other parameters"):
        train_zoo(ZooConfig(**{**TINY, "steps": 16}), out=out)
    # the command: same run directory, resumed, writes the figure
    _register()
    args = ["experiment", "zoo", "--out", str(out), "--families", "mlp,cnn,vit"]
    args += ["--variants", "base,small-init", "--penalty-families", "mlp,cnn", "--steps", "15"]
    args += ["--train-subset", "512", "--test-subset", "200", "--probe-n", "12"]
    args += ["--robust-n", "100", "--noise", "0.5,2", "--n-boot", "50", "--device", "cpu"]
    cli = CliRunner().invoke(app, [*args, "--lyapunov-iter", "5"])
    assert cli.exit_code == 0, cli.output
    assert (out / "figures" / "zoo.png").stat().st_size > 10_000
    assert "Spearman" in cli.output
    cli = CliRunner().invoke(app, [*args, "--lyapunov-iter", "6"])
    assert cli.exit_code == 2
    assert "other parameters" in cli.output
