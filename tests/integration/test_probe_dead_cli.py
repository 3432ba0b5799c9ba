"""``crackle probe`` on a dead network: the table says n/a and one warning line per
model names the dead layer; the live model beside it is measured as usual."""

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
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_probe_names_a_dead_network_and_measures_the_live_one(tmp_path):
    # Biases of -1e6: every ReLU is off at every intensity the dynamic range scans.
    net = ck.nn.build_model("mlp-relu", seed=0)
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, torch.nn.Linear):
                m.bias.fill_(-1e6)
    ckpt = tmp_path / "dead.pt"
    torch.save(net.state_dict(), ckpt)
    out = tmp_path / "probe"
    res = runner.invoke(
        app, ["probe", f"mlp-relu={ckpt}", "mlp-tanh", "--n", "6", "--out", str(out)]
    )
    assert res.exit_code == 0, res.output
    assert "Traceback" not in res.output
    text = res.output.replace("\n", " ")
    assert "warning: mlp-relu@dead: dead network: no unit active at layer" in text
    assert "warning: mlp-tanh" not in text
    df = pd.read_csv(out / "probe.csv").set_index("model")
    assert df.loc["mlp-relu@dead", ["branching", "lyapunov", "dynamic_range_db"]].isna().all()
    assert df.loc["mlp-relu@dead", "dynamic_range_reason"].startswith("dead network")
    assert df.loc["mlp-tanh", ["branching", "lyapunov"]].notna().all()
