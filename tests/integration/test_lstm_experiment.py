"""The recurrent-criticality experiment end to end on a tiny configuration (a small text,
two LSTM sizes, two seeds, matched transformers). The run takes 30 s to minutes on
a busy 2-core machine (training, crackling battery and per-unit fits of 8 models), so
the tests that use it are marked slow."""

import json

import numpy as np
import pandas as pd
import pytest
import torch
from typer.testing import CliRunner

from crackle.cli.main import _register, app
from crackle.experiments._lstm_models import build_model, make_text_task
from crackle.experiments._recurrent_analysis import analyse_states
from crackle.experiments._transformer import layer_states
from crackle.experiments.lstm import (
    LSTMConfig,
    decide_claim,
    lstm_criticality,
    paper_scale,
    summarise,
)
from crackle.nn.recurrent import hidden_states

PROSE = (
    "It was the best of times, it was the worst of times, it was the age of wisdom, "
    "it was the age of foolishness, it was the epoch of belief, it was the epoch of "
    "incredulity, it was the season of Light, it was the season of Darkness. "
) * 40


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def tiny(text_path, **kw):
    base = dict(
        hidden_sizes=(4, 12),
        n_seeds=2,
        max_steps=40,
        checkpoint_every=10,
        patience=20,
        seq_len=16,
        train_chars=5000,
        val_windows=8,
        eval_sequences=6,
        eval_len=90,
        kmax=20,
        text_min_count=1,
        text_path=str(text_path),
        min_avalanches=20,
        n_boot=3,
        seed=1,
        workers=1,
    )
    base.update(kw)
    return LSTMConfig(**base)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("lstm")
    (root / "prose.txt").write_text(PROSE)
    cfg = tiny(root / "prose.txt")
    return root, cfg, lstm_criticality(cfg, out=root / "run")


@pytest.mark.slow
def test_table_has_one_row_per_checkpoint_layer_and_marks_the_best(run):
    _, cfg, res = run
    t = res.table
    assert set(t["model"]) == {"lstm", "transformer"}
    for (kind, _size, _s), rows in t.groupby(["model", "size", "seed"]):
        top = rows[rows["top"]]
        assert top["best"].sum() == 1
        assert top.loc[top["best"], "val_loss"].item() == top["val_loss"].min()
        assert top["step"].iloc[0] == 0  # the untrained baseline is always measured
        last = int(top["last_step"].iloc[0])
        best = int(top.loc[top["best"], "step"].item())
        # Stopped by patience or at max_steps.
        assert last == cfg.max_steps or last - best >= cfg.patience
        n_layers = 1 if kind == "lstm" else cfg.transformer_layers
        assert len(rows) == n_layers * len(top)
    assert (t["n_steps"] == cfg.eval_len).all()
    assert (t["n_sequences"] == cfg.eval_sequences).all()
    assert len(res.best()) == 2 * 2 * 2
    # Untrained and best step of every model have their per-unit m_i.
    states = {(u["model"], u["size"], u["seed"], u["state"]) for u in res.units}
    assert len(states) == 2 * 2 * 2 * 2


@pytest.mark.slow
def test_transformers_are_matched_by_parameter_count(run):
    _, _, res = run
    s = res.summary
    lstm = s[s["model"] == "lstm"].sort_values("size")["n_params"].to_numpy()
    tf = s[s["model"] == "transformer"].sort_values("size")["n_params"].to_numpy()
    assert np.all(np.abs(np.log(tf / lstm)) < 0.35)


@pytest.mark.slow
def test_files_and_numbers_match_a_direct_measurement(run):
    root, cfg, res = run
    out = root / "run"
    for name in ("config.json", "metrics.csv", "metrics.parquet", "summary.csv", "units.json",
                 "lstm.json", "figures/lstm_training.png", "figures/lstm_sizes.png",
                 "figures/lstm_units.png"):  # fmt: skip
        assert (out / name).is_file(), name
    disk = pd.read_parquet(out / "metrics.parquet")
    pd.testing.assert_frame_equal(disk, res.table, check_dtype=False)
    # to_dict round trip: strict JSON on disk, equal to the result's dict.
    summary = json.loads((out / "lstm.json").read_text(), parse_constant=_refuse)
    assert summary == json.loads(json.dumps(res.to_dict(), allow_nan=False))
    assert summary["config"] == json.loads(json.dumps(cfg.to_dict()))
    assert set(summary["decision"]) == {"lstm", "transformer"}
    # Re-measure the best checkpoint of one LSTM and one transformer by hand.
    task = make_text_task(cfg)
    for kind, size in (
        ("lstm", 12),
        ("transformer", int(res.table.query("model == 'transformer'")["size"].max())),
    ):
        model = build_model(kind, task.vocab, size, cfg)
        name = f"{kind}_{size}_s1"
        model.load_state_dict(torch.load(out / "checkpoints" / name / "best.pt", weights_only=True))
        h = (hidden_states(model, task.eval_x) if kind == "lstm"
             else layer_states(model, task.eval_x)[-1])  # fmt: skip
        direct = analyse_states(
            h, theta=cfg.theta, percentile=cfg.percentile, kmax=cfg.kmax, n_boot=cfg.n_boot,
            seed=cfg.seed, min_avalanches=cfg.min_avalanches, crackling=True,
        )  # fmt: skip
        t = res.table
        row = t[
            (t["model"] == kind) & (t["size"] == size) & (t["seed"] == 1) & t["best"] & t["top"]
        ]
        row = row.iloc[0]
        for key in ("m", "m_stderr", "mean_active", "n_avalanches", "n_silent_units"):
            assert row[key] == pytest.approx(direct[key], nan_ok=True), key


def _refuse(name):
    raise ValueError(f"non-standard JSON constant {name}")


@pytest.mark.slow
def test_rerun_resumes_and_another_config_is_refused(run):
    root, cfg, res = run
    part = root / "run" / "parts" / "lstm_4_s0.csv"
    before = part.stat().st_mtime_ns
    again = lstm_criticality(cfg, out=root / "run")
    assert part.stat().st_mtime_ns == before  # nothing retrained
    pd.testing.assert_frame_equal(again.table, res.table, check_dtype=False)
    with pytest.raises(FileExistsError, match="another configuration"):
        lstm_criticality(tiny(root / "prose.txt", max_steps=30), out=root / "run")


@pytest.mark.slow
def test_summary_and_decision_follow_the_table(run):
    _, _, res = run
    again = summarise(res.table, res.units)
    pd.testing.assert_frame_equal(again, res.summary)
    best = res.best()
    g = best[(best["model"] == "lstm") & (best["size"] == 4)]
    row = res.summary[(res.summary["model"] == "lstm") & (res.summary["size"] == 4)].iloc[0]
    assert row["m_best"] == pytest.approx(g["m"].mean())
    assert row["m_best_valid"] == g["m_valid"].sum()
    assert res.decision["lstm"]["verdict"] in ("supported", "not supported", "undecided")


def _summary(**rows):
    base = dict(model="lstm", n_seeds=3, m_best_valid=3, m_untrained=0.5, m_untrained_err=0.02,
                sizes_power_law_best=3, durations_power_law_best=3)  # fmt: skip
    return pd.DataFrame([{**base, "size": s, **r} for s, r in rows.items()])


def test_decide_claim_on_constructed_summaries():
    ok = _summary(
        **{"8": dict(m_best=0.97, m_best_err=0.01), "512": dict(m_best=0.8, m_best_err=0.01)}
    )
    ok["size"] = ok["size"].astype(int)
    assert decide_claim(ok)["verdict"] == "supported"
    reversed_ = ok.copy()
    reversed_["m_best"] = [0.8, 0.97]
    d = decide_claim(reversed_)
    assert d["verdict"] == "not supported"
    assert any("opposite order" in f for f in d["failed"])
    close = ok.copy()
    close["m_best_err"] = 0.2
    assert decide_claim(close)["verdict"] == "undecided"
    invalid = ok.copy()
    invalid["m_best_valid"] = [0, 3]
    assert decide_claim(invalid)["verdict"] == "undecided"


@pytest.mark.slow
def test_cli(run, tmp_path):
    root, _, _ = run
    _register()
    runner = CliRunner()
    args = ["experiment", "lstm", "--out", str(tmp_path / "cli"), "--hidden-sizes", "3",
            "--seeds", "1", "--no-transformer", "--max-steps", "10", "--checkpoint-every", "5",
            "--patience", "5", "--train-chars", "3000", "--eval-sequences", "4",
            "--eval-len", "50", "--kmax", "10", "--n-boot", "0", "--workers", "1",
            "--text-path", str(root / "prose.txt")]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "best validation step" in result.output
    assert "lstm: claim" in result.output
    assert (tmp_path / "cli" / "figures" / "lstm_sizes.png").is_file()
    bad = runner.invoke(app, [*args[:4], "--hidden-sizes", "8,8"])
    assert bad.exit_code == 2
    assert "'hidden_sizes' parameter of lstm_criticality must be distinct sizes" in bad.output
    helptext = runner.invoke(app, ["experiment", "lstm", "--help"]).output
    assert "--paper-scale" in helptext


def test_bad_config_and_paper_scale():
    with pytest.raises(ValueError, match="'hidden_sizes'"):
        LSTMConfig(hidden_sizes=(8, 8))
    with pytest.raises(ValueError, match="'theta'"):
        LSTMConfig(theta=0.0)
    with pytest.raises(ValueError, match="'max_steps'"):
        LSTMConfig(max_steps=0)
    with pytest.raises(ValueError, match="'eval_len'"):
        LSTMConfig(eval_len=100, kmax=50)  # trials must be longer than 2 kmax
    with pytest.raises(ValueError, match="'n_seeds'"):
        LSTMConfig(n_seeds=0)
    big = paper_scale()
    assert big.hidden_sizes == (8, 16, 32, 64, 128, 256, 512)
    assert big.n_seeds >= 3
    assert big.eval_len > 2 * big.kmax
    assert paper_scale(n_seeds=3).n_seeds == 3


@pytest.mark.slow
def test_two_workers_give_the_same_table(run, tmp_path):
    root, _cfg, res = run
    cfg2 = tiny(root / "prose.txt", workers=2)
    par = lstm_criticality(cfg2, out=tmp_path / "par")
    pd.testing.assert_frame_equal(par.table, res.table)
