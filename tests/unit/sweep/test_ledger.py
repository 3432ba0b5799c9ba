"""The ledger: atomic per-point records, the config check, the table; run_point."""

import json

import numpy as np
import pandas as pd
import pytest

from crackle import CrackleValueError
from crackle.sweep.config import parse_config
from crackle.sweep.experiments import Experiment, get_experiment
from crackle.sweep.ledger import open_ledger
from crackle.sweep.runner import _record, run_point


def _cfg(**extra):
    return parse_config({"experiment": "smoke", "grid": {"x": [0.0, 1.0, 2.0]}, **extra})


def test_run_point_returns_results_or_the_error_as_data():
    smoke = get_experiment("smoke")
    ok = run_point(smoke, {"x": 2.0, "seconds": 0.0, "fail": False}, seed=5)
    draw = float(np.random.default_rng(5).standard_normal())
    assert ok["status"] == "ok"
    assert ok["error"] is None
    assert ok["results"] == {"y": 4.0 + draw, "draw": draw}
    bad = run_point(smoke, {"x": 2.0, "seconds": 0.0, "fail": True}, seed=5)
    assert bad["status"] == "failed"
    assert bad["results"] == {}
    assert bad["error"]["type"] == "RuntimeError"
    assert "failed on request" in bad["error"]["message"]
    assert "run_smoke" in bad["error"]["traceback"]


def test_run_point_splits_arrays_and_refuses_bad_results():
    smoke = get_experiment("smoke")
    arrays = Experiment("t", smoke.params, lambda p, s: {"v": np.float32(1.5), "a": np.arange(3)})
    out = run_point(arrays, {"x": 0.0}, 0)
    assert out["results"] == {"v": 1.5}
    assert type(out["results"]["v"]) is float
    np.testing.assert_array_equal(out["arrays"]["a"], [0, 1, 2])
    clash = Experiment("t", smoke.params, lambda p, s: {"x": 1.0})
    assert "name of a parameter" in run_point(clash, {"x": 0.0}, 0)["error"]["message"]
    reserved = Experiment("t", smoke.params, lambda p, s: {"status": "fine"})
    assert run_point(reserved, {"x": 0.0}, 0)["status"] == "failed"
    odd = Experiment("t", smoke.params, lambda p, s: {"d": {"nested": 1}})
    assert "scalars" in run_point(odd, {"x": 0.0}, 0)["error"]["message"]


def test_records_round_trip_and_arrays_sit_beside_them(tmp_path):
    cfg = _cfg()
    led = open_ledger(tmp_path / "s", cfg)
    assert json.loads(led.meta.read_text())["identity"] == cfg.identity()
    pt = cfg.points[1]
    res = {
        "status": "ok",
        "results": {"y": float("nan"), "z": 3},
        "arrays": {"a": np.ones(4)},
        "error": None,
        "elapsed_s": 0.1,
        "worker": "w",
    }
    led.write_record(_record(cfg, pt, res), res["arrays"])
    recs = led.read_records()
    assert list(recs) == [pt.key]
    assert recs[pt.key]["results"] == {"y": None, "z": 3}  # JSON has no NaN
    assert recs[pt.key]["seed"] == pt.seed
    assert recs[pt.key]["params"] == pt.params
    np.testing.assert_array_equal(led.read_arrays(pt.key)["a"], np.ones(4))
    assert not list(led.points.glob(".*.tmp"))


def test_table_has_one_row_per_point_in_sweep_order(tmp_path):
    cfg = _cfg()
    led = open_ledger(tmp_path / "s", cfg)
    for pt, status in zip(cfg.points[:2], ("ok", "failed"), strict=True):
        res = {
            "status": status,
            "results": {"y": 1.0} if status == "ok" else {},
            "error": None if status == "ok" else {"type": "E", "message": "m", "traceback": ""},
        }
        led.write_record(_record(cfg, pt, res))
    df = pd.read_parquet(led.write_table(cfg, led.read_records()))
    assert list(df["key"]) == [p.key for p in cfg.points]
    assert list(df["status"]) == ["ok", "failed", "pending"]
    assert list(df["x"]) == [0.0, 1.0, 2.0]
    assert df["y"].iloc[0] == 1.0
    assert df["y"].iloc[1:].isna().all()
    assert list(df["error_type"].fillna("")) == ["", "E", ""]


def test_a_directory_holding_another_sweep_is_a_clear_error(tmp_path):
    open_ledger(tmp_path / "s", _cfg())
    open_ledger(tmp_path / "s", _cfg())  # the same sweep: fine
    with pytest.raises(CrackleValueError, match="holds a different sweep"):
        open_ledger(tmp_path / "s", _cfg(seed=1))
    other = parse_config({"experiment": "smoke", "grid": {"x": [0.0, 1.0]}})
    with pytest.raises(CrackleValueError, match="3 points"):
        open_ledger(tmp_path / "s", other)


def test_a_foreign_directory_or_a_file_is_refused(tmp_path):
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="not a sweep directory"):
        open_ledger(tmp_path / "busy", _cfg())
    (tmp_path / "f").write_text("")
    with pytest.raises(FileExistsError, match="not a directory"):
        open_ledger(tmp_path / "f", _cfg())


def test_temporaries_of_a_killed_write_are_removed_and_never_read(tmp_path):
    led = open_ledger(tmp_path / "s", _cfg())
    (led.points / ".abc.json.x1.tmp").write_text('{"key": "abc"')
    (led.points / "abc.json").write_text('{"key": "ab')  # cannot happen, but is not trusted
    assert led.read_records() == {}
    assert led.clean_temporaries() == 1
    assert not list(led.points.glob(".*.tmp"))
