"""Spike input: readers for every format, binning against a slow twin, bad input."""

from datetime import UTC

import numpy as np
import pandas as pd
import pytest

import crackle as ck
from crackle.events.spikes import Spikes


def _spikes(seed=0, n_units=5, n=400, t_end=10.0):
    rng = np.random.default_rng(seed)
    t = np.round(rng.uniform(0, t_end, n), 6)
    u = rng.integers(0, n_units, n)
    keep = ~pd.DataFrame({"t": t, "u": u}).duplicated().to_numpy()
    return t[keep], u[keep]


def slow_bins(times, units, t0, width, n_bins, n_units):
    out = np.zeros((n_units, n_bins), dtype=int)
    for t, u in zip(times, units, strict=True):
        i = min(int((t - t0) // width), n_bins - 1)
        out[u, i] += 1
    return out


@pytest.mark.parametrize("width", [0.05, 0.3, "iei"])
def test_binning_matches_slow_twin(width):
    t, u = _spikes(1)
    sp = Spikes.from_arrays(t, u, t_stop=10.0)
    b = ck.bin_spikes(sp, width)
    r = ck.bin_spikes(sp, width, raster=True)
    w = b.width
    if width == "iei":
        ts = np.sort(t)
        assert w == pytest.approx(np.mean(np.diff(ts)), rel=1e-12)  # Beggs & Plenz IEI
    n_bins = int(np.ceil(10.0 / w))
    slow = slow_bins(sp.times, sp.units, 0.0, w, n_bins, sp.n_units)
    np.testing.assert_array_equal(r.counts, slow)
    np.testing.assert_array_equal(b.counts, slow.sum(axis=0))
    assert b.counts.sum() == t.size


def _write(path, t, u, fmt):
    df = pd.DataFrame({"unit": u, "time": t})
    if fmt == "csv":
        df.to_csv(path, index=False)
    elif fmt == "parquet":
        df.to_parquet(path)
    elif fmt == "npz":
        np.savez(path, times=t, units=u)
    elif fmt == "npy":
        np.save(path, np.column_stack([u, t]))


@pytest.mark.parametrize("fmt", ["csv", "parquet", "npz", "npy"])
def test_read_tables_round_trip(tmp_path, fmt):
    t, u = _spikes(2)
    p = tmp_path / f"spikes.{fmt}"
    _write(p, t, u, fmt)
    sp = ck.read_spikes(p)
    order = np.argsort(t, kind="stable")
    np.testing.assert_allclose(sp.times, t[order])
    labels = np.array(sp.unit_labels)[sp.units]
    np.testing.assert_array_equal(labels, u[order])
    assert sp.n_units == len(np.unique(u))
    np.testing.assert_allclose(
        sp.rates * sp.duration, np.bincount(np.searchsorted(np.unique(u), u))
    )


def test_read_nwb_units_table(tmp_path):
    pynwb = pytest.importorskip("pynwb")
    from datetime import datetime

    t, u = _spikes(3, n_units=4)
    nwb = pynwb.NWBFile("spikes", "id0", datetime(2024, 1, 1, tzinfo=UTC))
    for unit in range(4):
        nwb.add_unit(spike_times=np.sort(t[u == unit]), id=10 + unit)
    nwb.add_unit(spike_times=[], id=99)  # a unit that never spiked
    p = tmp_path / "rec.nwb"
    with pynwb.NWBHDF5IO(str(p), "w") as io:
        io.write(nwb)
    sp = ck.read_spikes(p)
    assert sp.unit_labels == (10, 11, 12, 13, 99)
    assert sp.n_spikes == t.size
    assert sp.spike_counts[-1] == 0
    assert sp.rates[-1] == 0.0
    for unit in range(4):
        np.testing.assert_allclose(sp.unit_times(unit), np.sort(t[u == unit]))


def test_read_neo_file(tmp_path):
    neo = pytest.importorskip("neo")

    t, u = _spikes(4, n_units=3)
    seg = neo.Segment()
    for unit in range(3):
        seg.spiketrains.append(
            neo.SpikeTrain(
                np.sort(t[u == unit]) * 1000.0,
                units="ms",
                t_start=0.0,
                t_stop=10_000.0,
                name=f"unit{unit}",
            )
        )
    block = neo.Block()
    block.segments.append(seg)
    p = tmp_path / "rec.pkl"
    neo.io.PickleIO(str(p)).write_block(block)
    sp = ck.read_spikes(p)
    assert sp.unit_labels == ("unit0", "unit1", "unit2")
    assert sp.t_stop == pytest.approx(10.0)
    np.testing.assert_allclose(sp.unit_times(1), np.sort(t[u == 1]), rtol=1e-12)


def test_documented_input_handling():
    # Unsorted times are sorted; string labels become codes in sorted label order.
    sp = Spikes.from_arrays([3.0, 1.0, 2.0], ["z", "a", "z"])
    assert sp.times.tolist() == [1.0, 2.0, 3.0]
    assert sp.unit_labels == ("a", "z")
    assert sp.units.tolist() == [0, 1, 1]
    # Duplicates: dropped on request, kept on request.
    assert Spikes.from_arrays([1.0, 1.0, 1.0], [0, 0, 1], duplicates="drop").n_spikes == 2
    assert Spikes.from_arrays([1.0, 1.0], [0, 0], duplicates="keep").n_spikes == 2
    # Negative times with the recording start given.
    assert Spikes.from_arrays([-0.5, 0.2], [0, 1], t_start=-1.0).duration == pytest.approx(1.2)
    # Units that never spiked are kept with rate 0.
    sp = Spikes.from_arrays([0.5, 1.0], [1, 1], unit_labels=[0, 1, 2], t_stop=2.0)
    assert sp.rates.tolist() == [0.0, 1.0, 0.0]


def _bad_calls(tmp_path):
    f = Spikes.from_arrays
    wrong = tmp_path / "wrong.csv"
    pd.DataFrame({"neuron": [1, 2], "t": [0.1, 0.2]}).to_csv(wrong, index=False)
    sp = f([0.1, 0.2])
    return [
        (lambda: f([0.1, np.nan, 0.3]), "times", "finite"),
        (lambda: f([0.1, -0.2]), "times", "t_start"),
        (lambda: f([0.1, 0.1], [3, 3]), "times", "duplicates='drop'"),
        (lambda: f(["a", "b"]), "times", "numeric"),
        (lambda: f([0.1, 0.2], [0.0, np.nan]), "units", "no NaN"),
        (lambda: f([0.1, 0.2], [0]), "units", "one label per spike"),
        (lambda: f([0.1, 0.2], duplicates="merge"), "duplicates", "one of"),
        (lambda: f([0.1, 0.5], t_stop=0.3), "t_stop", "last spike"),
        (lambda: ck.read_spikes(wrong), "time_col", "columns ['neuron', 't']"),
        (lambda: ck.read_spikes(wrong, time_col="t"), "unit_col", "pass unit_col="),
        (lambda: ck.bin_spikes(sp, -1.0), "width", "in (0"),
        (lambda: ck.bin_spikes(sp, "mean"), "width", "one of"),
        (lambda: ck.bin_spikes(f([0.1]), "iei"), "width", "a number when"),
        (lambda: ck.bin_spikes(np.ones(3)), "spikes", "Spikes object"),
    ]


@pytest.mark.parametrize("case", range(14))
def test_bad_input_gives_clear_errors(tmp_path, case):
    call, name, words = _bad_calls(tmp_path)[case]
    with pytest.raises(ck.CrackleValueError) as info:
        call()
    msg = str(info.value)
    assert msg.startswith(f"The '{name}' parameter of "), msg
    assert words in msg, msg


def test_neural_extra_missing_gives_one_line(tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "pynwb", None)  # makes ``import pynwb`` fail
    p = tmp_path / "x.nwb"
    p.write_bytes(b"")
    with pytest.raises(ModuleNotFoundError, match=r"needs pynwb: pip install 'crackle\[neural\]'"):
        ck.read_spikes(p)


def test_raster_is_pooled_not_taken_as_trials():
    # Two units that take turns: pooled, one long avalanche; per unit, many short ones.
    raster = np.array([[0, 1, 0, 1, 0, 1, 0, 0], [0, 0, 1, 0, 1, 0, 1, 0]])
    pooled = ck.avalanches_from_counts(raster, raster=True)
    assert pooled.sizes.tolist() == [6.0]
    assert pooled.durations.tolist() == [6]
    np.testing.assert_array_equal(ck.avalanches_from_counts(raster.sum(axis=0)).sizes, pooled.sizes)
    with pytest.warns(UserWarning, match="raster=True"):
        as_trials = ck.avalanches_from_counts(raster)
    assert as_trials.n == 6
    # Explicit trials and lists of trials: no warning (backward compatible).
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ck.avalanches_from_counts(raster, raster=False)
        ck.avalanches_from_counts(raster.tolist())
        ck.avalanches_from_counts(raster[0])
