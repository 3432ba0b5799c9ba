"""Plugin experiments: a plain function by MODULE:FUNCTION, by entry point, by object."""

import json
import pickle
import sys

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import crackle.cli.sweep  # noqa: F401  (registers the command)
from crackle._validation import CrackleValueError
from crackle.cli.main import app
from crackle.sweep import plugins
from crackle.sweep.config import parse_config
from crackle.sweep.experiments import experiment_names, get_experiment
from crackle.sweep.runner import run_sweep

runner = CliRunner()

MODULE = '''
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def noisy_square(x: float, scale: float = 1.0, *, seed: int) -> dict:
    """x^2 plus scale times one standard normal drawn from the seed."""
    draw = float(np.random.default_rng(seed).standard_normal())
    return {"y": x**2 + scale * draw, "draw": draw, "fit": {"exponent": 1.5},
            "profile": [1.0, 2.0, x], "tags": ["a", "b"]}


@dataclass(frozen=True)
class Result:
    m: float
    seed: int

    def to_dict(self):
        return {"m_squared": self.m**2, "seed_seen": self.seed}


def as_result(m: float, seed: int):
    return Result(m, seed)


def no_seed(x: float) -> dict:
    return {"y": x}


def star(x: float, *rest, seed: int) -> dict:
    return {"y": x}


def returns_list(x: float, seed: int):
    return [x]
'''


@pytest.fixture
def plugin_dir(tmp_path, monkeypatch):
    """A module of plugins in a directory of its own, on sys.path (a fresh name each time)."""
    name = f"crackle_plugin_{tmp_path.name.replace('-', '_')}"
    d = tmp_path / "plugins"
    d.mkdir()
    (d / f"{name}.py").write_text(MODULE)
    monkeypatch.syspath_prepend(str(d))
    yield name
    sys.modules.pop(name, None)
    plugins._CACHE.clear()


def test_cli_runs_a_plugin_from_a_tmp_module(plugin_dir, tmp_path):
    cfg = tmp_path / "s.toml"
    cfg.write_text(
        "seed = 9\nrepeats = 2\n[fixed]\nscale = 0.5\n[grid]\nx = [0.0, 1, 2.0]\n"
        "[cluster]\nprocesses = false\n"
    )
    out = tmp_path / "out"
    args = ["sweep", str(cfg), "--plugin", f"{plugin_dir}:noisy_square", "--out", str(out)]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    assert "experiment 'noisy_square', 6 points" in res.output
    table = pd.read_parquet(out / "results.parquet")
    assert len(table) == 6
    assert (table["status"] == "ok").all()
    # Each point got its own seed, and the function saw exactly that seed.
    assert table["seed"].nunique() == 6
    for row in table.itertuples():
        draw = np.random.default_rng(row.seed).standard_normal()
        assert row.draw == draw
        assert row.y == pytest.approx(row.x**2 + 0.5 * draw, rel=1e-12, abs=1e-12)
    assert (table["fit.exponent"] == 1.5).all()
    assert set(table["tags"]) == {'["a", "b"]'}
    rec = json.loads(next((out / "points").glob("*.json")).read_text())
    assert rec["arrays"] == ["profile"]
    meta = json.loads((out / "sweep.json").read_text())
    assert json.dumps(meta).count(f"{plugin_dir}:noisy_square") >= 1
    # Resumed: the same sweep, nothing to run again.
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    assert "0 run now, 6 already in the ledger" in res.output


def test_toml_plugin_key_and_worker_processes(plugin_dir, tmp_path):
    # Worker processes import the module again (by MODULE:FUNCTION), not this process's copy.
    cfg = tmp_path / "s.toml"
    cfg.write_text(
        f'plugin = "{plugin_dir}:as_result"\nexperiment = "mass"\n[grid]\nm = [0.5, 2.0]\n'
        "[cluster]\nn_workers = 1\n"
    )
    out = tmp_path / "out"
    res = runner.invoke(app, ["sweep", str(cfg), "--out", str(out), "--no-html"])
    assert res.exit_code == 0, res.output
    table = pd.read_parquet(out / "results.parquet")
    assert sorted(table["m_squared"]) == [0.25, 4.0]
    assert (table["seed_seen"] == table["seed"]).all()  # to_dict() of a frozen dataclass
    rec = json.loads(next((out / "points").glob("*.json")).read_text())
    assert rec["experiment"] == "mass"


def test_parameters_come_from_the_signature_strictly(plugin_dir):
    exp = plugins.load_plugin(f"{plugin_dir}:noisy_square")
    assert exp.name == "noisy_square"
    assert exp.description.startswith("x^2 plus scale")
    with pytest.raises(CrackleValueError, match=r"grid\.x\[1\]: Input should be a valid number"):
        parse_config({"grid": {"x": [1.0, "2"]}}, plugin=f"{plugin_dir}:noisy_square")
    with pytest.raises(CrackleValueError, match=r"x: Field required"):
        parse_config({"fixed": {"scale": 1.0}, "points": [{}]}, plugin=f"{plugin_dir}:noisy_square")
    with pytest.raises(CrackleValueError, match=r"grid\.nope"):
        parse_config({"grid": {"x": [1.0], "nope": [1]}}, plugin=f"{plugin_dir}:noisy_square")
    cfg = parse_config({"grid": {"x": [1, 2]}}, plugin=f"{plugin_dir}:noisy_square")
    assert [p.params for p in cfg.points] == [{"x": 1.0, "scale": 1.0}, {"x": 2.0, "scale": 1.0}]


@pytest.mark.parametrize(
    ("attr", "needle"),
    [
        ("no_seed", "takes no 'seed' parameter"),
        ("star", "no \\*args"),
        ("missing", "has no 'missing'"),
    ],
)
def test_contract_breaches_are_named(plugin_dir, attr, needle):
    with pytest.raises(CrackleValueError, match=needle):
        parse_config({"grid": {"x": [1.0]}}, plugin=f"{plugin_dir}:{attr}")


@pytest.mark.parametrize("spec", ["nocolon", "a:b:c", ":f", "no_such_module_xyz:f", "1a:f"])
def test_bad_plugin_specs_are_one_clear_line(spec, tmp_path):
    cfg = tmp_path / "s.toml"
    cfg.write_text("[grid]\nx = [1.0]\n")
    res = runner.invoke(app, ["sweep", str(cfg), "--plugin", spec, "--out", str(tmp_path / "o")])
    assert res.exit_code == 2
    assert "plugin:" in res.output
    assert "Traceback" not in res.output


def test_a_result_that_is_not_a_mapping_fails_the_point(plugin_dir, tmp_path):
    cfg = parse_config({"grid": {"x": [1.0]}}, plugin=f"{plugin_dir}:returns_list")
    s = run_sweep(cfg, tmp_path / "o", processes=False, figures=False)
    assert s.n_failed == 1
    rec = json.loads(next((tmp_path / "o" / "points").glob("*.json")).read_text())
    assert "a plugin returns a dict or an object with to_dict()" in rec["error"]["message"]


def test_plugin_experiments_pickle_by_source(plugin_dir):
    exp = plugins.load_plugin(f"{plugin_dir}:noisy_square")
    blob = pickle.dumps(exp)
    assert b"noisy_squareParams" not in blob  # the run-time model is rebuilt, not sent
    back = pickle.loads(blob)
    assert back.name == exp.name
    assert back.func(back.params(x=2.0, scale=0.0), 3)["y"] == 4.0


def _defined_here(x: float, *, seed: int) -> dict:
    return {"y": x + seed % 2}


def test_a_function_object_is_a_plugin_too(tmp_path):
    cfg = parse_config({"experiment": "here", "grid": {"x": [1.0, 2.0]}}, plugin=_defined_here)
    assert cfg.experiment.name == "here"
    s = run_sweep(cfg, tmp_path / "o", processes=False, figures=False)
    assert s.n_ok == 2


def test_entry_point_group_crackle_experiments(plugin_dir, tmp_path, monkeypatch):
    # An installed package's entry point: a .dist-info directory on sys.path is what
    # importlib.metadata reads for any installed distribution.
    site = tmp_path / "site"
    info = site / "crackle_plugin_pkg-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: crackle-plugin-pkg\nVersion: 0.1\n"
    )
    (info / "entry_points.txt").write_text(
        f"[crackle.experiments]\nsquare_ep = {plugin_dir}:noisy_square\n"
    )
    monkeypatch.syspath_prepend(str(site))
    assert "square_ep" in experiment_names()
    exp = get_experiment("square_ep")
    assert exp.name == "square_ep"
    assert exp.source == f"{plugin_dir}:noisy_square"
    cfg = parse_config({"experiment": "square_ep", "fixed": {"scale": 0.0}, "grid": {"x": [3.0]}})
    s = run_sweep(cfg, tmp_path / "o", processes=False, figures=False)
    table = pd.read_parquet(s.table)
    assert table["y"].tolist() == [9.0]
    # Built-in names keep their meaning; an unknown name lists what is known.
    with pytest.raises(CrackleValueError, match="square_ep"):
        get_experiment("no_such_experiment")


def test_the_contract_in_the_module_docstring_matches_the_flattening():
    got = plugins.plugin_results({"a": 1, "b": {"c": 2.0, "d": {"e": None}}, "v": [1, 2]})
    assert got["a"] == 1
    assert got["b.c"] == 2.0
    assert got["b.d.e"] is None
    np.testing.assert_array_equal(got["v"], [1, 2])
    with pytest.raises(TypeError, match="dict or an object with to_dict"):
        plugins.plugin_results(3.0)
