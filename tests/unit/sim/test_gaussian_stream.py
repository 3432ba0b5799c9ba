"""Streaming the Gaussian simulator into a run directory: resume, workers, bad input."""

import json

import numpy as np
import pyarrow.parquet as pq
import pytest
import torch

import crackle as ck
from crackle.sim import _stream
from crackle.sim import gaussian as g

KW = dict(width=24, depth=60, sigma_w2=1 + 2 / 24, n=3000, resample_every=200, seed=7)


def test_workers_do_not_change_the_avalanches():
    one = ck.sim.gaussian_avalanches(**KW, workers=1)
    three = ck.sim.gaussian_avalanches(**KW, workers=3)
    # The same avalanches: every duration and censoring exactly. Sizes agree to float32
    # reduction order: torch runs a matrix product on 2 threads with one worker and on
    # 1 thread with several, and on this machine's BLAS that moves the last bits
    # (measured: 1 size in 1,190 differs, by 4e-10 relative).
    np.testing.assert_array_equal(one.durations, three.durations)
    assert one.n_censored == three.n_censored
    np.testing.assert_allclose(one.sizes, three.sizes, rtol=1e-7)
    np.testing.assert_allclose(one.shapes.sums, three.shapes.sums, rtol=1e-7)


def test_run_directory_equals_in_memory_run(tmp_path):
    mem = ck.sim.gaussian_avalanches(**KW)
    disk = ck.sim.gaussian_avalanches(**KW, out=tmp_path / "run")
    np.testing.assert_array_equal(mem.sizes, disk.sizes)
    np.testing.assert_array_equal(mem.censored_durations, disk.censored_durations)
    np.testing.assert_array_equal(mem.shapes.sums, disk.shapes.sums)
    assert mem.n_empty == disk.n_empty
    assert not (tmp_path / "run" / "parts").exists()
    table = pq.read_table(tmp_path / "run" / "avalanches.parquet")
    assert table.num_rows == mem.n + mem.n_censored


def test_interrupted_run_resumes_to_the_same_avalanches(tmp_path, monkeypatch):
    monkeypatch.setattr(_stream, "CHECKPOINT_SECONDS", 0.0)  # save after every draw
    calls = []

    def stop_after_five(done):
        calls.append(done)
        if len(calls) == 5:
            raise KeyboardInterrupt

    out = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        ck.sim.gaussian_avalanches(**KW, out=out, progress=stop_after_five)
    assert not (out / "avalanches.parquet").exists()
    assert len(list((out / "parts").glob("*.parquet"))) == 4  # the fifth was not saved
    # A stale part beyond the saved state (a crash between part and state) is dropped.
    (out / "parts" / "d000000099.parquet").write_bytes(b"junk")
    seen = []
    resumed = ck.sim.gaussian_avalanches(**KW, out=out, progress=seen.append)
    assert seen[0] == calls[3]  # resumed after the four saved draws, not from zero
    whole = ck.sim.gaussian_avalanches(**KW)
    np.testing.assert_array_equal(resumed.sizes, whole.sizes)
    np.testing.assert_array_equal(resumed.durations, whole.durations)
    np.testing.assert_array_equal(resumed.shapes.sums, whole.shapes.sums)
    assert resumed.n_empty == whole.n_empty
    # Finished: a third call reads the run back and simulates nothing.
    again = []
    done = ck.sim.gaussian_avalanches(**KW, out=out, progress=again.append)
    assert again == []
    np.testing.assert_array_equal(done.sizes, whole.sizes)


def test_other_parameters_in_the_same_directory_are_refused(tmp_path):
    ck.sim.gaussian_avalanches(**{**KW, "n": 300}, out=tmp_path)
    with pytest.raises(FileExistsError, match="other parameters"):
        ck.sim.gaussian_avalanches(**{**KW, "n": 300, "seed": 8}, out=tmp_path)


def test_a_run_begun_with_other_random_streams_is_refused(tmp_path, monkeypatch):
    """A directory begun by a version that gave inputs other random numbers (other block
    sizes) is not resumed into a mixture of the two."""
    ck.sim.gaussian_avalanches(**{**KW, "n": 300}, out=tmp_path)
    assert json.loads((tmp_path / "config.json").read_text())["parameters"]["stream_version"]
    monkeypatch.setattr(g, "STREAM_VERSION", g.STREAM_VERSION + 1)
    with pytest.raises(FileExistsError, match="other parameters"):
        ck.sim.gaussian_avalanches(**{**KW, "n": 300}, out=tmp_path)


@pytest.mark.parametrize("first", ["total", "excess"])
def test_a_run_begun_with_the_other_size_definition_is_refused(tmp_path, first):
    """Sizes of one definition are not resumed into a run of the other, nor into one
    begun before the width factor N (whose config has no size definition)."""
    other = {"total": "excess", "excess": "total"}[first]
    ck.sim.gaussian_avalanches(**{**KW, "n": 300, "sizes": first}, out=tmp_path / "a")
    config = json.loads((tmp_path / "a" / "config.json").read_text())
    assert config["parameters"]["size_definition"] == g.SIZE_DEFINITIONS[first]
    with pytest.raises(FileExistsError, match=r"other parameters: its avalanche sizes are S"):
        ck.sim.gaussian_avalanches(**{**KW, "n": 300, "sizes": other}, out=tmp_path / "a")
    # A run of an earlier version: the same config without the size definition.
    old = tmp_path / "old"
    old.mkdir()
    del config["parameters"]["size_definition"]
    (old / "config.json").write_text(json.dumps(config))
    with pytest.raises(FileExistsError, match="without the width factor N"):
        ck.sim.gaussian_avalanches(**{**KW, "n": 300, "sizes": first}, out=old)
    assert not (old / "avalanches.parquet").exists()


def test_a_run_begun_with_the_other_normal_sampler_is_refused(tmp_path, monkeypatch):
    """A 'marginal' run begun with the compiled sampler is not resumed where only torch's
    generator is there (another stream of numbers), and the other way round."""
    from crackle.sim import _normal_stream as ns

    kw = {**KW, "n": 300, "method": "marginal"}
    ck.sim.gaussian_avalanches(**kw, out=tmp_path)
    used = json.loads((tmp_path / "config.json").read_text())["parameters"]["normal_sampler"]
    assert used == ns.sampler_name(torch.device("cpu"), torch.float32)
    if used == ns.COMPILED:
        monkeypatch.setattr(ns, "compiled_sampler", lambda: None)
    else:
        pytest.skip("the compiled sampler is not built here")
    with pytest.raises(FileExistsError, match="other parameters"):
        ck.sim.gaussian_avalanches(**kw, out=tmp_path)


def test_out_needs_a_seed_and_checks_arguments_before_writing(tmp_path):
    with pytest.raises(ValueError, match="'seed'"):
        ck.sim.gaussian_avalanches(**{**KW, "seed": None}, out=tmp_path / "a")
    with pytest.raises(ValueError, match="'width'"):
        ck.sim.gaussian_avalanches(**{**KW, "width": 0}, out=tmp_path / "b")
    assert not (tmp_path / "b" / "config.json").exists()


def test_iterator_checks_arguments_when_called():
    with pytest.raises(ValueError, match="'q0'"):
        g.iter_gaussian_avalanches(8, 5, 1.0, n=10, q0=-1.0)


def test_supercritical_overflow_is_counted_in_the_run_directory(tmp_path):
    av = ck.sim.gaussian_avalanches(
        8, 200, 1e6, n=50, q0=1.0, seed=0, activation="linear", out=tmp_path, dtype="float32"
    )
    assert av.info["n_overflow"] > 0
    assert np.isfinite(av.sizes).all()
    assert np.isfinite(av.censored_sizes).all()
