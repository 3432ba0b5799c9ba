"""Sweep configs: the examples parse, grids expand, keys and seeds are stable."""

import tomllib
from pathlib import Path

import pytest

from crackle.sweep.config import load_config, parse_config
from crackle.sweep.experiments import get_experiment

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "sweeps"


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.toml")), ids=lambda p: p.name)
def test_every_example_config_parses(path):
    cfg = load_config(path)
    raw = tomllib.loads(path.read_text())
    assert cfg.experiment is get_experiment(raw["experiment"])
    assert cfg.source_text == path.read_text()
    n_base = 1
    for values in (raw.get("grid") or {}).values():
        n_base *= len(values)
    if "points" in raw:
        n_base = len(raw["points"])
    assert len(cfg.points) == n_base * raw.get("repeats", 1)
    assert len({p.key for p in cfg.points}) == len(cfg.points)


def test_the_simulate_example_is_the_documented_30_runs():
    cfg = load_config(EXAMPLES / "simulate.toml")
    assert len(cfg.points) == 30
    assert cfg.axes == ["sigma_w2", "width"]
    assert {p.params["n"] for p in cfg.points} == {20000}
    assert cfg.cluster.n_workers == 2


def test_grid_is_the_cartesian_product_in_order_with_defaults_filled():
    cfg = parse_config(
        {
            "experiment": "smoke",
            "fixed": {"seconds": 0.0},
            "grid": {"x": [1.0, 2.0], "fail": [False, True]},
        }
    )
    got = [(p.params["x"], p.params["fail"]) for p in cfg.points]
    assert got == [(1.0, False), (1.0, True), (2.0, False), (2.0, True)]
    assert all(
        p.params == {"x": p.params["x"], "seconds": 0.0, "fail": p.params["fail"]}
        for p in cfg.points
    )
    assert [p.index for p in cfg.points] == [0, 1, 2, 3]


def test_key_and_seed_do_not_depend_on_grid_order_or_int_spelling_of_floats():
    a = parse_config({"experiment": "smoke", "grid": {"x": [1.0, 2.0], "seconds": [0, 0.5]}})
    b = parse_config({"experiment": "smoke", "grid": {"seconds": [0.5, 0.0], "x": [2, 1]}})
    seeds_a = {p.key: p.seed for p in a.points}
    seeds_b = {p.key: p.seed for p in b.points}
    assert seeds_a == seeds_b
    assert a.identity() == b.identity()
    assert len(set(seeds_a.values())) == 4


def test_base_seed_and_replicates_change_seeds():
    one = parse_config({"experiment": "smoke", "seed": 1, "repeats": 3, "grid": {"x": [0.0]}})
    two = parse_config({"experiment": "smoke", "seed": 2, "repeats": 3, "grid": {"x": [0.0]}})
    assert [p.replicate for p in one.points] == [0, 1, 2]
    assert [p.key for p in one.points] == [p.key for p in two.points]
    assert len({p.seed for p in one.points} | {p.seed for p in two.points}) == 6
    assert one.identity() != two.identity()


def test_explicit_points_take_fixed_values_and_name_their_axes():
    cfg = parse_config(
        {
            "experiment": "meanfield",
            "fixed": {"activation": "relu"},
            "points": [{"sigma_w2": 1.0}, {"sigma_w2": 2.0, "sigma_b2": 0.1}],
        }
    )
    assert [p.params["activation"] for p in cfg.points] == ["relu", "relu"]
    assert cfg.axes == ["sigma_w2", "sigma_b2"]


def test_the_docs_show_the_simulate_example_as_it_is():
    doc = (EXAMPLES.parents[1] / "docs" / "sweeps.md").read_text()
    block = doc.split("```toml\n", 1)[1].split("```", 1)[0]
    assert tomllib.loads(block) == tomllib.loads((EXAMPLES / "simulate.toml").read_text())
