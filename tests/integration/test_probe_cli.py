"""``crackle probe`` end to end on tiny built-in models, and a checkpoint round trip."""

import json

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
