"""``crackle probe`` end to end on tiny built-in models, and a checkpoint round trip."""

import json
import sys

import numpy as np
import pandas as pd
import pytest
import torch
from typer.testing import CliRunner

import crackle as ck
from crackle.cli.main import _register, app

_register()
runner = CliRunner()


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Tiny models: one intra-op thread avoids OpenMP contention on a loaded machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_probe_writes_table_figure_and_config(tmp_path):
    ckpt = tmp_path / "cnn.pt"
    torch.save(ck.nn.build_model("cnn", seed=3).state_dict(), ckpt)
    out = tmp_path / "probe"
    res = runner.invoke(
        app,
        [
            "probe",
            "mlp-tanh",
            "cnn",
            f"cnn={ckpt}",
            "--n",
            "4",
            "--out",
            str(out),
            "--accuracy",
            "cnn=0.9",
            "--accuracy",
            "mlp-tanh=0.8",
        ],
    )
    assert res.exit_code == 0, res.output
    df = pd.read_csv(out / "probe.csv")
    assert list(df["model"]) == ["mlp-tanh", "cnn", "cnn@cnn"]
    assert {"branching", "lyapunov", "dynamic_range_db", "distance", "accuracy"} <= set(df)
    assert df["accuracy"][0] == 0.8
    assert df["accuracy"][1] == 0.9
    assert pd.isna(df["accuracy"][2])
    # The checkpointed CNN has other weights (seed 3) than the built-in one (seed 0).
    assert df["lyapunov"][1] != df["lyapunov"][2]
    assert (out / "figures" / "probe.png").stat().st_size > 10_000
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["parameters"]["models"][2]["checkpoint"] == str(ckpt)
    assert "σ" in res.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nosuchnet"], "must be one of mlp-tanh"),
        (["cnn=/no/such/file.pt"], "no checkpoint file"),
        (["cnn", "--accuracy", "cnn"], "LABEL=VALUE"),
        (["cnn", "--accuracy", "mlp=0.5"], "keyed by model labels"),
        (["cnn", "--device", "cuda:7"], "device"),
        (["cnn", "cnn"], "distinct"),
        (["timm:resnet18"], "timm:NAME with timm installed"),
    ],
)
def test_probe_bad_input_is_one_clear_line(tmp_path, args, message):
    res = runner.invoke(app, ["probe", *args, "--n", "2", "--out", str(tmp_path / "o")])
    assert res.exit_code == 2
    assert message in res.output
    assert "Traceback" not in res.output


def test_unsafe_checkpoint_is_refused_by_the_cli(tmp_path):
    class Payload:
        def __reduce__(self):
            return (open, (str(tmp_path / "ran.txt"), "w"))

    torch.save({"state_dict": {}, "p": Payload()}, tmp_path / "evil.pt")
    res = runner.invoke(app, ["probe", f"cnn={tmp_path / 'evil.pt'}", "--out", str(tmp_path)])
    assert res.exit_code == 2
    assert "refused to load" in res.output
    assert not (tmp_path / "ran.txt").exists()


USER_MODULE = '''
import torch
import torch.nn.functional as F
from torch import nn


class SmallCNN(nn.Module):
    """A user's model: functional ReLU and a residual sum, no input_shape attribute."""

    def __init__(self, width=4):
        super().__init__()
        self.conv = nn.Conv2d(1, width, 3, padding=1)
        self.res = nn.Conv2d(width, width, 3, padding=1)
        self.head = nn.Linear(width, 3)

    def forward(self, x):
        h = F.relu(self.conv(x))
        h = h + torch.tanh(self.res(h))
        return self.head(h.mean(dim=(2, 3)))


class NotAModule:
    pass
'''


@pytest.fixture
def user_project(tmp_path, monkeypatch):
    """A directory with the user's package ``mymodels.nets``, a checkpoint and inputs,
    as the current directory."""
    pkg = tmp_path / "mymodels"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "nets.py").write_text(USER_MODULE)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))  # removed again after the test
    import importlib

    importlib.invalidate_caches()
    nets = importlib.import_module("mymodels.nets")
    torch.manual_seed(0)
    net = nets.SmallCNN(width=6)
    torch.save(net.state_dict(), tmp_path / "cnn_sd.pt")
    x = torch.randn(10, 1, 8, 8, generator=torch.Generator().manual_seed(1))
    np.save(tmp_path / "x.npy", x.numpy())
    np.savez(tmp_path / "x.npz", inputs=x.numpy(), labels=np.zeros(10))
    torch.save({"inputs": x}, tmp_path / "x.pt")
    yield tmp_path, net, x
    for name in ("mymodels.nets", "mymodels"):
        sys.modules.pop(name, None)


@pytest.mark.parametrize("inputs", ["x.npy", "x.npz", "x.pt"])
def test_probe_your_own_class_from_the_command_line(user_project, inputs):
    root, net, x = user_project
    out = root / "out"
    res = runner.invoke(
        app,
        ["probe", "mymodels.nets:SmallCNN", "--kwargs", '{"width": 6}',
         "--checkpoint", "cnn_sd.pt", "--inputs", inputs, "--out", str(out)],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    df = pd.read_csv(out / "probe.csv")
    assert df["model"].tolist() == ["SmallCNN"]
    assert df["n_inputs"][0] == 10
    # blocks: conv+relu, the residual sum, the head (the sum and the ReLU are functional)
    assert df["n_layers"][0] == 3
    # the same numbers as the library on the loaded weights and the same inputs
    ly = ck.nn.lyapunov_exponent(net.eval(), x, seed=0, batch_size=64)
    assert df["lyapunov"][0] == pytest.approx(ly.value, rel=1e-9)
    assert df["lyapunov_stderr"][0] == pytest.approx(ly.stderr, rel=1e-9)
    assert df["branching_stderr"][0] > 0
    assert (out / "figures" / "probe.png").stat().st_size > 10_000
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["parameters"]["models"][0]["kwargs"] == {"width": 6}
    assert cfg["parameters"]["models"][0]["checkpoint"] == "cnn_sd.pt"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nosuch.module:Net", "--inputs", "x.npy"], "cannot import 'nosuch.module'"),
        (["mymodels.nets:Nope", "--inputs", "x.npy"], "has no attribute 'Nope'"),
        (["mymodels.nets:NotAModule", "--inputs", "x.npy"], "not a torch.nn.Module"),
        (["mymodels.nets:SmallCNN", "--kwargs", "{width: 6}", "--inputs", "x.npy"], "JSON"),
        (["mymodels.nets:SmallCNN", "--kwargs", '{"depth": 6}', "--inputs", "x.npy"],
         "unexpected keyword"),
        # the checkpoint was saved at width 6: the default width 4 does not fit
        (["mymodels.nets:SmallCNN", "--checkpoint", "cnn_sd.pt", "--inputs", "x.npy"],
         "do not fit the model"),
        (["mymodels.nets:SmallCNN", "--inputs", "bad_shape.npy"], "the inputs do not fit"),
        (["mymodels.nets:SmallCNN", "--inputs", "strings.npy"], "must be real numbers"),
        (["mymodels.nets:SmallCNN", "--inputs", "x.csv"], ".npy, .npz or .pt"),
        (["mymodels.nets:SmallCNN"], "give --inputs"),
        (["mymodels.nets:SmallCNN", "--inputs", "x.npy", "--modules", "nope*"], "available"),
    ],
)  # fmt: skip
def test_bad_input_for_your_own_class_writes_nothing(user_project, args, message):
    root, _, _ = user_project
    np.save(root / "bad_shape.npy", np.zeros((4, 3, 8, 8), dtype=np.float32))
    np.save(root / "strings.npy", np.array([["a", "b"]]))
    (root / "x.csv").write_text("1,2\n")
    out = root / "never"
    res = runner.invoke(app, ["probe", *args, "--out", str(out)])
    assert res.exit_code == 2, res.output
    assert message in " ".join(res.output.split()), res.output
    assert "Traceback" not in res.output
    assert not out.exists()
