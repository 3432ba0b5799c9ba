"""The ResNet crackling experiment (Ghavasieh et al. 2025, Fig. 4) on a tiny configuration:
end to end, its files, the signals against crackle.nn's recorder, the configuration's
checks and the result's JSON round trip."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

import crackle as ck
from crackle.cli.main import _register, app
from crackle.experiments.resnet import (
    ExponentRow,
    ResNetConfig,
    ResNetResult,
    layer_thresholds,
    resnet_crackling,
    threshold_avalanches,
)
from crackle.experiments.resnet_signals import prepare_images, resnet_signals

FASHION = Path("/usr/share/datasets/fashion-mnist")
needs_fashion = pytest.mark.skipif(not FASHION.is_dir(), reason="Fashion-MNIST not installed")

TINY = ResNetConfig(
    depths=(18,),
    width=0.125,
    n_images=240,
    n_perturbed=40,
    n_calibration=80,
    n_calibration_perturbed=20,
    perturbations=2,
    ks=(0.5, 1.0),
    sizes=("total",),
    batch_size=40,
    n_boot=0,
    threads=1,
)


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("resnet")
    return out, resnet_crackling(TINY, out=out)


@pytest.mark.slow  # 10-25 s on 2 busy cores
@needs_fashion
def test_tiny_run_end_to_end(tiny_run):
    out, res = tiny_run
    assert res.layers == {"resnet18": {"layers": 68, "blocks": 10}}
    assert len(res.rows) == 2 * 2 * 1 * 2  # grains x signals x sizes x ks
    for r in res.rows:
        # Every trajectory is complete, censored or empty: images for the activity,
        # perturbed images times perturbations for the difference.
        total = TINY.n_perturbed * TINY.perturbations if r.signal == "difference" else TINY.n_images
        assert r.n + r.n_censored + r.n_empty == total
        assert r.verdict in ("critical", "not critical", "inconclusive")
    # A higher threshold leaves fewer complete-or-censored avalanches.
    for grain in TINY.grains:
        lo, hi = (res.select(grain=grain, signal="activity", k=k)[0] for k in (0.5, 1.0))
        assert hi.n + hi.n_censored <= lo.n + lo.n_censored
    for name in ("resnet.json", "exponents.csv", "config.json", "figures/resnet_exponents.png"):
        assert (out / name).is_file()
    assert (out / "models" / "resnet18" / "signals.npz").is_file()
    back = ResNetResult.from_dict(json.loads((out / "resnet.json").read_text()))
    assert back.to_dict() == json.loads(json.dumps(res.to_dict(), default=float))


@pytest.mark.slow
@needs_fashion
def test_rerun_reuses_signals_and_other_signal_parameters_are_refused(tiny_run):
    out, res = tiny_run
    again = resnet_crackling(
        ResNetConfig(**{**TINY.to_dict(), "ks": (1.0,), "normalise": "none"}), out=out
    )
    assert again.seconds["resnet18"] == 0.0  # read back, no forward pass
    assert any("signals read from" in n for n in again.notes)
    # Durations do not depend on the normalisation; sizes do.
    for grain in TINY.grains:
        a = res.select(grain=grain, signal="activity", k=1.0)[0]
        b = again.select(grain=grain, signal="activity", k=1.0)[0]
        assert (a.n, a.n_censored, a.n_empty) == (b.n, b.n_censored, b.n_empty)
    with pytest.raises(FileExistsError, match="other parameters"):
        resnet_crackling(ResNetConfig(**{**TINY.to_dict(), "eps": 0.02}), out=out)


def test_layer_signals_match_the_recorder():
    """The activity at every layer equals crackle.nn's recorder (every operation a
    layer, norms, batch statistics) on the untraced model, in the same order; the
    residual sums, inlined by the trace, are read at the block boundary after them."""
    net = ck.nn.preact_resnet(18, width=0.125, num_classes=10, input_size=28, seed=1)
    x = torch.randn(12, 3, 28, 28, generator=torch.Generator().manual_seed(0))
    want, names = ck.nn.layer_signals(
        net, x, modules="leaves", stat="norm", batch_norm="batch", batch_size=6
    )
    for pert in (0, 2):
        got = resnet_signals(net, x, perturbations=pert, batch_size=6)["layers"]
        assert len(got.names) == len(names) == 68
        assert [n.replace(".sum", ".add") for n in got.names] == names
        np.testing.assert_allclose(got.activity, want, rtol=1e-4)
        assert got.difference.shape == (12 * pert, 68)


def test_difference_is_linear_in_a_small_perturbation():
    """ReLU networks with frozen batch statistics are piecewise linear: doubling eps
    doubles every difference (the same directions, seeded; double precision, so that
    the subtraction loses nothing)."""
    net = ck.nn.preact_resnet(18, width=0.125, num_classes=10, input_size=28, seed=2).double()
    x = torch.randn(8, 3, 28, 28, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    a = resnet_signals(net, x, perturbations=3, eps=1e-7, batch_size=8, seed=5)
    b = resnet_signals(net, x, perturbations=3, eps=2e-7, batch_size=8, seed=5)
    for grain in ("layers", "blocks"):
        np.testing.assert_allclose(b[grain].difference, 2 * a[grain].difference, rtol=1e-6)
        assert np.all(a[grain].difference > 0)


def test_images_are_padded_or_upsampled_to_three_normalised_channels():
    img = np.full((1, 28, 28), 255, np.uint8)
    pad = prepare_images(img, 32, "pad")
    up = prepare_images(img, 56, "upsample")
    assert pad.shape == (1, 3, 32, 32)
    assert up.shape == (1, 3, 56, 56)
    assert torch.equal(pad[:, 0], pad[:, 2])
    # the border is background (black), the inside the white image
    assert pad[0, 0, 0, 0] < 0 < pad[0, 0, 16, 16]
    torch.testing.assert_close(up[0, 0, 10, 10], pad[0, 0, 16, 16])


def test_thresholds_and_normalisation():
    cal = np.array([[1.0, 10.0], [3.0, 30.0], [2.0, 20.0]])
    theta, mu, _sd = layer_thresholds(cal, 2.0)
    np.testing.assert_allclose(mu, [2.0, 20.0])
    np.testing.assert_allclose(theta, mu + 2.0 * np.array([1.0, 10.0]))
    # Dividing signal and threshold by mu_l changes sizes, never durations.
    x = np.array([[5.0, 45.0], [5.0, 30.0], [1.0, 99.0]])
    raw = threshold_avalanches(x, theta)
    norm = threshold_avalanches(x, theta, scale=mu)
    exc = threshold_avalanches(x, theta, scale=mu, sizes="excess")
    assert raw.durations.tolist() == norm.durations.tolist() == [1]
    assert (raw.n_censored, raw.n_empty) == (norm.n_censored, norm.n_empty) == (1, 1)
    assert raw.sizes.tolist() == [5.0]
    assert norm.sizes.tolist() == [2.5]
    assert exc.sizes == pytest.approx([(5.0 - 4.0) / 2.0])
    np.testing.assert_allclose(exc.censored_sizes, [(5 - 4) / 2 + (45 - 40) / 20])
    with pytest.raises(ValueError, match="'scale' parameter of threshold_avalanches"):
        threshold_avalanches(x, theta, scale=[1.0, 0.0])
    with pytest.raises(ValueError, match="'calibration' parameter of layer_thresholds"):
        layer_thresholds([[1.0, 2.0]], 1.0)


@pytest.mark.parametrize(
    ("kw", "name"),
    [
        ({"depths": (18, 101)}, "depths"),
        ({"depths": (18, 18)}, "depths"),
        ({"depths": ()}, "depths"),
        ({"ks": ()}, "ks"),
        ({"ks": (1.0, float("nan"))}, "ks"),
        ({"grains": ("neurons",)}, "grains"),
        ({"signals": "activity"}, "signals"),
        ({"sizes": ("area",)}, "sizes"),
        ({"n_images": 60_001}, "n_images"),
        ({"n_perturbed": 50_000, "n_images": 1000}, "n_perturbed"),
        ({"n_calibration": 10_001}, "n_calibration"),
        ({"perturbations": 0}, "perturbations"),
        ({"eps": 0.0}, "eps"),
        ({"input_size": 16}, "input_size"),
        ({"resize": "crop"}, "resize"),
        ({"normalise": "zscore"}, "normalise"),
        ({"batch_norm": "frozen"}, "batch_norm"),
        ({"batch_size": 1}, "batch_size"),
        ({"min_tail_fraction": 2.0}, "min_tail_fraction"),
        ({"device": ""}, "device"),
    ],
)
def test_bad_config(kw, name):
    with pytest.raises(ck.CrackleValueError, match=f"The '{name}' parameter of resnet_crackling"):
        ResNetConfig(**kw)


def test_config_round_trip_and_paper_scale():
    cfg = ResNetConfig(ks=(1, 2), depths=[18, 50])
    assert cfg.ks == (1.0, 2.0)
    assert cfg.depths == (18, 50)
    assert ResNetConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg
    paper = ResNetConfig.paper_scale(device="cpu")
    assert (paper.input_size, paper.resize, paper.n_images, paper.device) == (
        224,
        "upsample",
        60_000,
        "cpu",
    )
    # without perturbations the difference signal needs none
    assert ResNetConfig(signals=("activity",), perturbations=0).perturbations == 0


def test_row_round_trip_keeps_nan_as_null():
    row = ExponentRow("resnet18", "layers", "activity", "total", 1.0, 68, 10, 1, 5, tau=1.5)
    d = row.to_dict()
    assert d["alpha"] is None
    assert d["tau"] == 1.5
    assert ExponentRow.from_dict(json.loads(json.dumps(d))).to_dict() == d


@pytest.mark.slow
@needs_fashion
def test_cli(tiny_run, tmp_path):
    _register()
    runner = CliRunner()
    args = ["experiment", "resnet", "--out", str(tmp_path / "cli"), "--depths", "18",
            "--n-images", "120", "--n-perturbed", "20", "--n-calibration", "40",
            "--n-calibration-perturbed", "10", "--perturbations", "2", "--ks", "1",
            "--grains", "blocks", "--sizes", "excess", "--n-boot", "0", "--style", "cifar",
            "--threads", "1"]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "resnet18" in result.output
    assert "wrote" in result.output
    saved = json.loads((tmp_path / "cli" / "resnet.json").read_text())
    assert {r["grain"] + "/" + r["sizes"] for r in saved["rows"]} == {"blocks/excess"}
    assert saved["config"]["style"] == "cifar"
    assert (tmp_path / "cli" / "figures" / "resnet_exponents.png").is_file()
    bad = runner.invoke(app, [*args[:4], "--depths", "20"])
    assert bad.exit_code == 2
    assert "'depths' parameter of resnet_crackling must be" in bad.output
