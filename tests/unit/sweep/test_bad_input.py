"""Bad sweep input fails before any point runs, with one clear error naming the key."""

import socket
import time

import pytest
from typer.testing import CliRunner

import crackle.cli.report
import crackle.cli.sweep  # noqa: F401  (registers the command)
from crackle.cli.main import app

runner = CliRunner()


def _closed_port() -> int:
    # A port on 127.0.0.1 that nothing listens on (bound, then released).
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


GOOD_GRID = "[grid]\nsigma_w2 = [0.9, 1.0]\n"


@pytest.mark.parametrize(
    ("toml", "args", "needle"),
    [
        pytest.param(
            'experiment = "simulate"\ngird = 1\n' + GOOD_GRID,
            [],
            "gird: Extra inputs are not permitted",
            id="unknown-top-level-key",
        ),
        pytest.param(
            'experiment = "simulate"\n[grid]\nwidht = [32]\n',
            [],
            "grid.widht: Extra inputs are not permitted",
            id="unknown-parameter",
        ),
        pytest.param(
            'experiment = "simulate"\n[fixed]\nn_inputs = 5\n' + GOOD_GRID,
            [],
            "fixed.n_inputs: Extra inputs are not permitted",
            id="unknown-fixed-key",
        ),
        pytest.param(
            'experiment = "simulate"\n[grid]\nwidth = [32, "64"]\n',
            [],
            "grid.width[1]: Input should be a valid integer, got '64'",
            id="wrong-type",
        ),
        pytest.param(
            'experiment = "simulate"\n[grid]\nwidth = 1.5\n',
            [],
            "grid.width: Input should be a valid list",
            id="axis-not-a-list",
        ),
        pytest.param(
            'experiment = "simulate"\n[grid]\nwidth = [32, 0]\n',
            [],
            "grid.width[1]: Input should be greater than or equal to 1",
            id="out-of-range",
        ),
        pytest.param(
            'experiment = "simulate"\nseed = "zero"\n' + GOOD_GRID,
            [],
            "seed: Input should be a valid integer",
            id="wrong-type-seed",
        ),
        pytest.param(
            'experiment = "simulate"\n[grid]\nwidth = []\n',
            [],
            "grid.width: List should have at least 1 item",
            id="empty-axis",
        ),
        pytest.param(
            'experiment = "simulate"\n[grid]\n', [], "grid: an empty grid table", id="empty-grid"
        ),
        pytest.param(
            'experiment = "simulate"\npoints = []\n', [], "points: an empty list", id="empty-points"
        ),
        pytest.param(
            'experiment = "simulate"\n', [], "give a grid table or a list of points", id="no-grid"
        ),
        pytest.param(
            'experiment = "meanfield"\n[grid]\nsigma_b2 = [0.0]\n',
            [],
            "sigma_w2: Field required",
            id="missing-parameter",
        ),
        pytest.param(
            'experiment = "simulat"\n' + GOOD_GRID,
            [],
            "unknown experiment 'simulat'; known: meanfield, ",
            id="unknown-experiment",
        ),
        pytest.param('experiment = "simulate"\n[grid\n', [], "is not valid TOML", id="bad-toml"),
        pytest.param(
            'experiment = "smoke"\n[grid]\nx = [0.0]\n',
            ["--scheduler", "CLOSED"],
            "cannot reach the Dask scheduler at tcp://127.0.0.1:",
            id="unreachable-scheduler",
        ),
        pytest.param(
            'experiment = "smoke"\n[grid]\nx = [0.0]\n',
            ["--scheduler", "not an address"],
            "must be an address such as tcp://",
            id="malformed-scheduler",
        ),
    ],
)
def test_bad_sweep_input_exits_2_with_a_clear_error(tmp_path, toml, args, needle):
    cfg = tmp_path / "bad.toml"
    cfg.write_text(toml)
    args = [a.replace("CLOSED", f"tcp://127.0.0.1:{_closed_port()}") for a in args]
    out = tmp_path / "out"
    t0 = time.monotonic()
    res = runner.invoke(app, ["sweep", str(cfg), "--out", str(out), "--timeout", "2", *args])
    assert time.monotonic() - t0 < 15, "a bad input must fail fast, never hang"
    assert res.exit_code == 2, res.output
    assert needle in res.output
    assert "Traceback" not in res.output
    assert not (out / "points").exists() or not any((out / "points").iterdir())
