"""``crackle meanfield`` end to end in a temporary folder."""

import json

import pytest
import xarray as xr
from typer.testing import CliRunner

from crackle.cli.main import _register, app

_register()
runner = CliRunner()


def test_meanfield_writes_dataset_figure_and_config(tmp_path):
    out = tmp_path / "mf"
    res = runner.invoke(app, ["meanfield", "--out", str(out), "--n-w", "24", "--n-b", "12"])
    assert res.exit_code == 0, res.output
    ds = xr.load_dataset(out / "phase_diagram.nc")
    assert ds.q_star.shape == (24, 12)
    assert ds.attrs["activation"] == "tanh"
    assert (out / "figures" / "phase_diagram.png").stat().st_size > 10_000
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["parameters"]["sigma_w2"] == [0.5, 4.0, 24]
    assert "crackle" in cfg["versions"]
    assert "wrote" in res.output
    assert not list(out.rglob(".*.tmp"))


@pytest.mark.parametrize(
    "args",
    [
        ["--sb-min", "-1"],
        ["--sw-min", "3", "--sw-max", "1"],
        ["--activation", "swish"],
        ["--n-w", "1"],
    ],
)
def test_meanfield_bad_input_exits_2_with_one_line(tmp_path, args):
    res = runner.invoke(app, ["meanfield", "--out", str(tmp_path / "x"), *args])
    assert res.exit_code == 2
    assert "error" in res.output.lower()
