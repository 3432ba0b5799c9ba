"""`crackle sweep` end to end on in-process workers: failures, exit codes, the page."""

import json

from typer.testing import CliRunner

import crackle.cli.report
import crackle.cli.sweep  # noqa: F401  (registers the commands)
from crackle.cli.main import app

runner = CliRunner()

CONFIG = """
experiment = "smoke"
seed = 4
[grid]
x = [0.0, 1.0]
fail = [false, true]
[cluster]
processes = false
"""


def test_sweep_records_failures_exits_1_and_refuses_another_config(tmp_path):
    cfg = tmp_path / "s.toml"
    cfg.write_text(CONFIG)
    out = tmp_path / "out"
    res = runner.invoke(app, ["sweep", str(cfg), "--out", str(out)])
    assert res.exit_code == 1, res.output
    assert "4 points: 4 run now, 0 already in the ledger; 2 ok, 2 failed" in res.output
    assert "--retry-failed" in res.output
    assert (out / "report.html").is_file()
    assert (out / "sweep.toml").read_text() == CONFIG
    failed = [
        json.loads(f.read_text())
        for f in (out / "points").glob("*.json")
        if json.loads(f.read_text())["status"] == "failed"
    ]
    assert len(failed) == 2
    assert all(r["params"]["fail"] for r in failed)
    assert all(r["error"]["type"] == "RuntimeError" for r in failed)

    res = runner.invoke(app, ["sweep", str(cfg), "--out", str(out)])
    assert "0 run now, 4 already in the ledger" in res.output

    cfg.write_text(CONFIG.replace("seed = 4", "seed = 5"))
    res = runner.invoke(app, ["sweep", str(cfg), "--out", str(out)])
    assert res.exit_code == 2
    assert "holds a different sweep" in res.output
