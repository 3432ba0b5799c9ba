"""Fault injection: a streamed run directory killed (SIGKILL) at every step of its
finish, then rerun, is exactly the uninterrupted run; nothing temporary is left."""

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

import crackle as ck

KW = dict(width=16, depth=40, sigma_w2=1 + 2 / 16, n=3000, resample_every=200, seed=7)

# The child streams the run with a checkpoint after every draw and kills itself
# (SIGKILL: no cleanup of any kind) at the named step.
CHILD = textwrap.dedent(
    """
    import os, signal, sys, shutil
    import numpy as np
    import pyarrow.parquet as pq
    import crackle as ck
    from crackle.io import rundir
    from crackle.sim import _stream

    out, step = sys.argv[1], sys.argv[2]
    kw = dict(width=16, depth=40, sigma_w2=1 + 2 / 16, n=3000, resample_every=200, seed=7)
    _stream.CHECKPOINT_SECONDS = 0.0
    calls = {"n": 0}

    def die():
        os.kill(os.getpid(), signal.SIGKILL)

    def nth(k, before=None, after=None):
        def wrap(orig):
            def f(*a, **kw2):
                calls["n"] += 1
                if calls["n"] == k and before:
                    before(*a)
                out_ = orig(*a, **kw2)
                if calls["n"] == k:
                    die()
                return out_
            return f
        return wrap

    if step == "part-written":  # a part renamed, its totals not yet saved
        _stream._write_part = nth(3)(_stream._write_part)
    elif step == "part-tmp":  # inside a part's atomic write: a .tmp left
        orig_wt = pq.write_table
        def wt(table, where, **k):
            orig_wt(table, where, **k)
            if str(where).endswith(".tmp") and "/parts/" in str(where):
                calls["n"] += 1
                if calls["n"] == 3:
                    die()
        pq.write_table = wt
    elif step == "totals":
        _stream.StreamTotals.save = nth(4)(_stream.StreamTotals.save)
    elif step == "merge":  # halfway through the merge: the merged .tmp left
        pq.read_table = nth(5)(pq.read_table)
    elif step == "before-shapes":
        rundir.RunDir.write_shapes = lambda self, s: die()
    elif step == "shapes-tmp":
        orig_sz = np.savez_compressed
        def sz(fh, **arrays):
            orig_sz(fh, **arrays)
            if "stream_counts" not in arrays:
                fh.flush()
                die()
        np.savez_compressed = sz
    elif step == "before-rmtree":
        shutil.rmtree = lambda p, *a, **k: die()
    elif step == "mid-rmtree":
        def half(p, *a, **k):
            files = sorted(os.listdir(p))
            for f in files[: len(files) // 2]:
                os.unlink(os.path.join(p, f))
            die()
        shutil.rmtree = half
    elif step == "before-cleanup":
        _stream._remove_temporaries = nth(2)(_stream._remove_temporaries)
    ck.sim.gaussian_avalanches(**kw, out=out)
    """
)

STEPS = [
    "part-written",
    "part-tmp",
    "totals",
    "merge",
    "before-shapes",
    "shapes-tmp",
    "before-rmtree",
    "mid-rmtree",
    "before-cleanup",
]


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    out = tmp_path_factory.mktemp("ref") / "run"
    ck.sim.gaussian_avalanches(**KW, out=out)
    return out


def _leftovers(d: Path) -> list[str]:
    return sorted(
        str(p.relative_to(d))
        for p in d.rglob("*")
        if p.name.endswith((".tmp", ".partial")) or p.name in ("parts", ".crackle.lock")
    )


@pytest.mark.parametrize("step", STEPS)
def test_kill_at_any_step_then_rerun_gives_the_uninterrupted_run(tmp_path, reference, step):
    out = tmp_path / "run"
    child = subprocess.run(
        [sys.executable, "-c", CHILD, str(out), step], capture_output=True, text=True, timeout=300
    )
    assert child.returncode == -signal.SIGKILL, child.stderr  # it died where we wanted
    resumed = ck.sim.gaussian_avalanches(**KW, out=out)
    assert _leftovers(out) == []
    a, b = (
        pq.read_table(out / "avalanches.parquet"),
        pq.read_table(reference / "avalanches.parquet"),
    )
    assert a.equals(b)  # the same rows in the same order
    for name in ("shapes.npz", "totals.npz"):
        with np.load(out / name) as x, np.load(reference / name) as y:
            assert sorted(x.files) == sorted(y.files)
            for k in x.files:
                np.testing.assert_array_equal(x[k], y[k])
    whole = ck.sim.gaussian_avalanches(**KW)
    np.testing.assert_array_equal(resumed.sizes, whole.sizes)
    np.testing.assert_array_equal(resumed.shapes.sums, whole.shapes.sums)


def test_rows_do_not_depend_on_when_checkpoints_fell(tmp_path, reference, monkeypatch):
    from crackle.sim import _stream

    monkeypatch.setattr(_stream, "CHECKPOINT_SECONDS", 0.0)  # a part per draw
    ck.sim.gaussian_avalanches(**KW, out=tmp_path / "run")
    a = pq.read_table(tmp_path / "run" / "avalanches.parquet")
    assert a.equals(pq.read_table(reference / "avalanches.parquet"))  # one part in all


def test_corrupt_checkpoint_is_named_not_followed(tmp_path):
    out = tmp_path / "run"
    ck.sim.gaussian_avalanches(**KW, out=out)
    (out / "avalanches.parquet").unlink()
    (out / "totals.npz").write_bytes(b"garbage, not an npz")
    with pytest.raises(ck.CrackleValueError, match=r"totals\.npz.*corrupt"):
        ck.sim.gaussian_avalanches(**KW, out=out)
    np.save(out / "totals.npz", np.array([object()], dtype=object), allow_pickle=True)
    os.replace(out / "totals.npz.npy", out / "totals.npz")
    with pytest.raises(ck.CrackleValueError, match="corrupt") as err:
        ck.sim.gaussian_avalanches(**KW, out=out)
    assert "allow_pickle" not in str(err.value)
    for bad in ("[1, 2]", '{"x": 1}', "{not json"):
        (out / "config.json").write_text(bad)
        with pytest.raises(ck.CrackleValueError, match=r"config\.json is corrupt"):
            ck.sim.gaussian_avalanches(**KW, out=out)
