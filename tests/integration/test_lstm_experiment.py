"""The LSTM experiment end to end on a tiny configuration (digits and a small text)."""

import json

import numpy as np
import pandas as pd
import pytest
import torch
from typer.testing import CliRunner

from crackle.cli.main import _register, app
from crackle.experiments._lstm_models import build_model, make_task
from crackle.experiments.lstm import LSTMConfig, lstm_criticality
from crackle.nn.recurrent import recurrent_criticality

PROSE = (
    "It was the best of times, it was the worst of times, it was the age of wisdom, "
    "it was the age of foolishness, it was the epoch of belief, it was the epoch of "
    "incredulity, it was the season of Light, it was the season of Darkness. "
) * 12


def tiny(text_path, **kw):
    base = dict(
        tasks=("digits", "text"),
        hidden_sizes=(4, 12),
        steps=20,
        checkpoint_every=10,
        train_subset=300,
        val_size=100,
        eval_sequences=100,
        text_path=str(text_path),
        text_seq_len=16,
        val_size_text=8,
        text_eval_sequences=3,
        text_eval_len=60,
        text_min_count=1,
        min_avalanches=20,
        n_boot=3,
        seed=1,
    )
    base.update(kw)
    return LSTMConfig(**base)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("lstm")
    (root / "prose.txt").write_text(PROSE)
    cfg = tiny(root / "prose.txt")
    return root, cfg, lstm_criticality(cfg, out=root / "run")


def test_table_has_one_row_per_checkpoint_and_marks_the_best(run):
    _, _cfg, res = run
    t = res.table
    assert len(t) == 2 * 2 * 3
    assert sorted(set(t["step"])) == [0, 10, 20]
    for (_task, _h), rows in t.groupby(["task", "hidden_size"]):
        assert rows["best"].sum() == 1
        assert rows.loc[rows["best"], "val_loss"].item() == rows["val_loss"].min()
    assert t["val_acc"].between(0, 1).all()
    assert (t.loc[t["task"] == "digits", "n_steps"] == 8).all()
    assert (t.loc[t["task"] == "text", "n_steps"] == 60).all()
    assert len(res.best()) == 4


def test_files_and_numbers_match_a_direct_measurement(run):
    root, cfg, res = run
    out = root / "run"
    for name in ("config.json", "metrics.csv", "metrics.parquet", "lstm.json",
                 "figures/lstm_digits.png", "figures/lstm_text.png"):  # fmt: skip
        assert (out / name).is_file(), name
    disk = pd.read_parquet(out / "metrics.parquet")
    pd.testing.assert_frame_equal(disk, res.table, check_dtype=False)
    summary = json.loads((out / "lstm.json").read_text())
    assert len(summary["best_steps"]) == 4
    assert json.loads((out / "config.json").read_text())["parameters"]["steps"] == 20
    # Re-measure one checkpoint by hand: same numbers.
    task = make_task("text", cfg, np.random.default_rng(cfg.seed))
    model = build_model(task, 12)
    model.load_state_dict(
        torch.load(out / "checkpoints/text_h12/step0000010.pt", weights_only=True)
    )
    direct = recurrent_criticality(
        model, task.eval_x, cfg.theta, percentile=cfg.percentile,
        min_avalanches=cfg.min_avalanches, n_boot=cfg.n_boot, seed=cfg.seed,
    ).summary()  # fmt: skip
    row = res.table[(res.table["task"] == "text") & (res.table["hidden_size"] == 12)]
    row = row[row["step"] == 10].iloc[0]
    for key in ("m", "m_stderr", "mean_active", "n_avalanches", "dfa_h", "psd_beta", "tau"):
        assert row[key] == pytest.approx(direct[key], nan_ok=True), key


def test_rerun_resumes_and_another_config_is_refused(run):
    root, cfg, res = run
    ckpt = root / "run" / "checkpoints/digits_h4/step0000020.pt"
    before = ckpt.stat().st_mtime_ns
    again = lstm_criticality(cfg, out=root / "run")
    assert ckpt.stat().st_mtime_ns == before  # nothing retrained
    pd.testing.assert_frame_equal(again.table, res.table, check_dtype=False)
    with pytest.raises(FileExistsError, match="another configuration"):
        lstm_criticality(tiny(root / "prose.txt", steps=30), out=root / "run")


def test_cli(run, tmp_path):
    _root, _, _ = run
    _register()
    runner = CliRunner()
    args = ["experiment", "lstm", "--out", str(tmp_path / "cli"), "--tasks", "digits",
            "--hidden-sizes", "3", "--steps", "10", "--checkpoint-every", "5",
            "--train-subset", "200", "--eval-sequences", "50", "--n-boot", "0"]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "best validation step" in result.output
    assert (tmp_path / "cli" / "figures" / "lstm_digits.png").is_file()
    bad = runner.invoke(app, [*args[:4], "--tasks", "imagenet"])
    assert bad.exit_code == 2
    assert "'tasks' parameter of lstm_criticality must be one of" in bad.output


def test_bad_config():
    with pytest.raises(ValueError, match="'hidden_sizes'"):
        LSTMConfig(hidden_sizes=(8, 8))
    with pytest.raises(ValueError, match="'theta'"):
        LSTMConfig(theta=0.0)
    with pytest.raises(ValueError, match="'steps'"):
        LSTMConfig(steps=0)
