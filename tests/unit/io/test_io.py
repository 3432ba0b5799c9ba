import json

import numpy as np
import pytest

import crackle as ck
from crackle.io import AvalancheWriter, RunDir, atomic_path, read_avalanches, write_json


def test_atomic_path_leaves_nothing_on_error(tmp_path):
    target = tmp_path / "x.json"
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("interrupted")
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


def test_write_json_turns_nan_into_null(tmp_path):
    p = write_json(
        tmp_path / "r.json", {"a": float("nan"), "b": [np.float64(1.5)], "c": np.int64(2)}
    )
    assert json.loads(p.read_text()) == {"a": None, "b": [1.5], "c": 2}


def test_writer_round_trip_keeps_censored_apart(tmp_path):
    q = np.array([[2.0, 0.1], [3.0, 3.0], [2.0, 2.0], [5.0, 0.0]])
    av = ck.avalanches_from_trajectories(q, 1.0)
    path = tmp_path / "a.parquet"
    with AvalancheWriter(path) as w:
        w.write(av)
        w.write(av)
    back = read_avalanches(path)
    assert back.n == 2 * av.n
    assert back.n_censored == 2 * av.n_censored
    np.testing.assert_array_equal(back.sizes, np.tile(av.sizes, 2))


def test_interrupted_writer_never_leaves_a_whole_looking_file(tmp_path):
    path = tmp_path / "a.parquet"
    av = ck.Avalanches.from_arrays([1.0, 2.0], [1, 2])
    with pytest.raises(KeyboardInterrupt), AvalancheWriter(path) as w:
        w.write(av)
        raise KeyboardInterrupt
    assert not path.exists()
    assert (tmp_path / "a.parquet.partial").exists()


def test_rundir_shapes_round_trip(tmp_path):
    av = ck.avalanches_from_counts([0, 1, 2, 0, 3, 3, 0])
    run = RunDir.create(tmp_path / "r")
    run.write_shapes(av.shapes)
    back = run.read_shapes()
    np.testing.assert_array_equal(back.sums, av.shapes.sums)
    cfg = json.loads(run.write_config({"x": 1}).read_text())
    assert cfg["versions"]["crackle"]


def test_rundir_refuses_a_file(tmp_path):
    f = tmp_path / "file"
    f.write_text("")
    with pytest.raises(FileExistsError):
        RunDir.create(f)


def test_atomic_files_get_ordinary_permissions(tmp_path):
    import os

    p = write_json(tmp_path / "x.json", {})
    mask = os.umask(0)
    os.umask(mask)
    assert p.stat().st_mode & 0o777 == 0o666 & ~mask
