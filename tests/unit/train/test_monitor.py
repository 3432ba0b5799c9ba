"""crackle.train.monitor: CSV rows every k steps, resuming, TensorBoard, bad input."""

import csv
import importlib.util
import types

import numpy as np
import pytest
import torch
from torch import nn

import crackle as ck
from crackle._validation import CrackleValueError
from crackle.train import CriticalityMonitor, CriticalityPenalty, jvp_branching
from crackle.train import monitor as monitor_module


@pytest.fixture(autouse=True)
def one_torch_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def small_net(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 8), nn.Tanh(), nn.Linear(8, 3))


def read_rows(path):
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def test_rows_every_k_steps_match_the_probes(tmp_path):
    net = small_net()
    probe = torch.randn(20, 6, generator=torch.Generator().manual_seed(1))
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    mon = CriticalityMonitor(net, probe, every=3, log_dir=tmp_path / "run", seed=2)
    expected = {}
    for step in range(10):
        loss = net(probe).square().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        row = mon.step(step, loss=loss, lr=0.1)
        if step % 3:
            assert row is None
        else:
            b = ck.nn.branching_parameter(net, probe, seed=2).value
            ly = ck.nn.lyapunov_exponent(net, probe, seed=2).value
            expected[step] = (b, ly, loss.item())
    mon.close()
    rows = read_rows(tmp_path / "run" / "criticality.csv")
    assert list(rows[0]) == ["step", "branching", "lyapunov", "loss", "lr"]
    assert [int(r["step"]) for r in rows] == [0, 3, 6, 9]
    for r in rows:
        b, ly, loss = expected[int(r["step"])]
        assert float(r["branching"]) == b  # written with repr: exact round trip
        assert float(r["lyapunov"]) == ly
        assert float(r["loss"]) == loss
        assert float(r["lr"]) == 0.1
    assert mon.history() == rows
    assert not list((tmp_path / "run").glob("*.tmp"))


def test_resume_appends_without_duplicates(tmp_path):
    net = small_net()
    probe = torch.randn(8, 6)
    first = CriticalityMonitor(net, probe, every=2, log_dir=tmp_path, metrics=("lyapunov",))
    for step in range(9):  # logs 0, 2, 4, 6, 8; the last checkpoint was at step 5
        first.step(step, loss=float(step))
    # Restart from the step-5 checkpoint: a new monitor, steps 5.. again, a new column.
    second = CriticalityMonitor(net, probe, every=2, log_dir=tmp_path, metrics=("lyapunov",))
    for step in range(5, 11):
        second.step(step, loss=100.0 + step, acc=0.5)
    rows = read_rows(tmp_path / "criticality.csv")
    assert [int(r["step"]) for r in rows] == [0, 2, 4, 6, 8, 10]
    assert [float(r["loss"]) for r in rows] == [0.0, 2.0, 4.0, 106.0, 108.0, 110.0]
    assert [r["acc"] for r in rows] == ["", "", "", "0.5", "0.5", "0.5"]
    assert list(rows[0]) == ["step", "lyapunov", "loss", "acc"]
    assert second.n_discarded == 2  # the interrupted run's rows 6 and 8


def test_interrupted_write_keeps_previous_rows(tmp_path, monkeypatch):
    net = small_net()
    mon = CriticalityMonitor(net, torch.randn(8, 6), every=1, log_dir=tmp_path)
    mon.step(0)
    mon.step(1)

    def crash(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(monitor_module.os, "replace", crash)
    with pytest.raises(KeyboardInterrupt):
        mon.step(2)
    monkeypatch.undo()
    assert [r["step"] for r in read_rows(mon.path)] == ["0", "1"]


def test_tensorboard_events_read_back(tmp_path):
    pytest.importorskip("tensorboard")  # in the test extra: this runs in CI
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    net = small_net()
    with CriticalityMonitor(net, torch.randn(8, 6), every=1, log_dir=tmp_path) as mon:
        rows = [mon.step(0, loss=1.0), mon.step(1, loss=0.5)]
    assert len(list(tmp_path.glob("events.out.tfevents.*"))) == 1
    acc = EventAccumulator(str(tmp_path))
    acc.Reload()
    for tag, key in (("criticality/branching", "branching"), ("loss", "loss")):
        got = [(e.step, e.value) for e in acc.Scalars(tag)]
        assert [s for s, _ in got] == [0, 1]
        assert [v for _, v in got] == pytest.approx([r[key] for r in rows], rel=1e-6)


def test_no_tensorboard_means_csv_only(tmp_path, monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        monitor_module.importlib.util,
        "find_spec",
        lambda name, *a: None if name == "tensorboard" else real(name, *a),
    )
    mon = CriticalityMonitor(small_net(), torch.randn(4, 6), every=1, log_dir=tmp_path)
    mon.step(0)
    mon.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["criticality.csv"]


class _RecordingLogger:
    def __init__(self):
        self.calls = []

    def log_metrics(self, metrics, step):
        self.calls.append((step, dict(metrics)))


def test_lightning_callback_logic_with_a_stand_in(tmp_path):
    # A stand-in for lightning's Callback and Trainer: the callback's logic without
    # Lightning (tests/unit/train/test_lightning.py runs a real Trainer).
    fake = types.SimpleNamespace(Callback=type("Callback", (), {}))
    cls = monitor_module._make_callback(fake)
    net = small_net()
    probe = torch.randn(8, 6)
    cb = cls(probe, every=2)
    logger = _RecordingLogger()
    trainer = types.SimpleNamespace(
        global_step=0, is_global_zero=True, loggers=[logger], default_root_dir=str(tmp_path)
    )
    cb.on_train_start(trainer, net)  # step 0, before any batch
    for step in [1, 2, 2, 3, 4]:  # 2 twice: gradient accumulation repeats a step
        trainer.global_step = step
        cb.on_train_batch_end(trainer, net, {"loss": torch.tensor(1.0)}, None, 0)
    assert [s for s, _ in logger.calls] == [0, 2, 4]
    assert set(logger.calls[0][1]) == {"criticality/branching", "criticality/lyapunov"}
    want = CriticalityMonitor(net, probe, log_dir=tmp_path).measure()
    assert logger.calls[0][1]["criticality/branching"] == want["branching"]
    assert [h["step"] for h in cb.history] == [0, 2, 4]
    assert not list(tmp_path.iterdir())  # no files of its own
    other = types.SimpleNamespace(global_step=6, is_global_zero=False, loggers=[logger])
    cb.on_train_batch_end(other, net, None, None, 0)
    assert len(logger.calls) == 3  # rank 0 only
    if monitor_module._lightning() is None:
        with pytest.raises(ImportError, match="lightning"):
            monitor_module.CriticalityCallback  # noqa: B018


def _mlp():
    return small_net()


BAD = [
    (lambda d: CriticalityMonitor(_mlp(), torch.randn(4, 6), every=0, log_dir=d), "'every'"),
    (lambda d: CriticalityMonitor(_mlp(), torch.randn(4, 6), every=-3, log_dir=d), "'every'"),
    (lambda d: CriticalityMonitor(_mlp(), torch.randn(4, 6), every=1.5, log_dir=d), "'every'"),
    (
        lambda d: CriticalityMonitor(_mlp(), torch.randn(4, 6), log_dir=d, metrics=("sigma",)),
        "'metrics'",
    ),
    (lambda d: CriticalityMonitor(_mlp(), torch.randn(4, 5), log_dir=d), "'probe_inputs'.*6"),
    (lambda d: CriticalityMonitor(_mlp(), torch.randn(6), log_dir=d), "'probe_inputs'"),
    (lambda d: CriticalityMonitor(_mlp(), [[np.nan] * 6], log_dir=d), "'probe_inputs'.*finite"),
    (lambda d: CriticalityMonitor(_mlp(), torch.randn(4, 6), log_dir=d, modules="x*"), "'modules'"),
    (lambda d: CriticalityMonitor(_mlp(), torch.randn(4, 6), log_dir=d).step(-1), "'step'"),
    (
        lambda d: CriticalityMonitor(_mlp(), torch.randn(4, 6), log_dir=d).step(0, loss="a"),
        "'loss'",
    ),
    (
        lambda d: CriticalityMonitor(_mlp(), torch.randn(4, 6), log_dir=d).step(0, lyapunov=1.0),
        "'scalars'",
    ),
    (lambda d: CriticalityPenalty("chaos"), "'kind'.*'branching', 'lyapunov'"),
    (lambda d: CriticalityPenalty("branching", weight=-0.1), "'weight'.*\\[0, inf\\]"),
    (lambda d: CriticalityPenalty("branching", weight=float("nan")), "'weight'"),
    (lambda d: CriticalityPenalty(n_directions=0), "'n_directions'"),
    (lambda d: CriticalityPenalty(seed=-1), "'seed'"),
    (lambda d: CriticalityPenalty(per_unit="yes"), "'per_unit'"),
    (lambda d: CriticalityPenalty()(_mlp(), torch.randn(4, 5)), "'inputs'.*\\(N, 6\\)"),
    (lambda d: CriticalityPenalty(modules=nn.Conv2d)(_mlp(), torch.randn(4, 6)), "'modules'"),
    (lambda d: jvp_branching(_mlp(), torch.randn(4, 6), n_directions=0), "'n_directions'"),
]


@pytest.mark.parametrize(("make", "match"), BAD)
def test_bad_input_gives_clear_errors(tmp_path, make, match):
    with pytest.raises(CrackleValueError, match=match):
        make(tmp_path)
    assert not (tmp_path / "criticality.csv").exists()
