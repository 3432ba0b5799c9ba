"""CriticalityCallback in a real Lightning Trainer: logged through trainer.logger."""

import copy
import csv
import math

import pytest
import torch
from torch import nn

pl = pytest.importorskip("pytorch_lightning")

from crackle.train import CriticalityMonitor  # noqa: E402
from crackle.train.monitor import CriticalityCallback  # noqa: E402

pytestmark = pytest.mark.filterwarnings(
    # Lightning's advice on a tiny CPU run (workers, logging interval) is not our business.
    "ignore::UserWarning:pytorch_lightning.*",
    "ignore::UserWarning:lightning_fabric.*",
    "ignore:.*LeafSpec.*",  # pytorch_lightning's own use of torch's pytree
)
pytestmark = [pytestmark, pytest.mark.slow]  # three short fits: ~15 s on a busy machine


class Regressor(pl.LightningModule):
    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.net = nn.Sequential(
            nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 1)
        )

    def forward(self, x):
        return self.net(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = nn.functional.mse_loss(self(x), y)
        self.log("train_loss", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.5)


def _loader():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(64, 6, generator=g)
    y = torch.sin(x.sum(1, keepdim=True))
    return torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=8)


def _fit(tmp_path, loggers, every=2, max_steps=5):
    torch.set_num_threads(1)
    model = Regressor()
    probe = torch.randn(32, 6, generator=torch.Generator().manual_seed(2))
    untrained = copy.deepcopy(model)
    cb = CriticalityCallback(probe, every=every)
    trainer = pl.Trainer(
        max_steps=max_steps,
        logger=loggers,
        callbacks=[cb],
        accelerator="cpu",
        devices=1,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        log_every_n_steps=1,
        default_root_dir=tmp_path,
    )
    trainer.fit(model, _loader())
    step0 = CriticalityMonitor(untrained, probe, log_dir=tmp_path / "unused").measure()
    return cb, model, step0


def _csv_rows(path):
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def test_csv_logger_gets_step_0_and_every_k(tmp_path):
    logger = pl.loggers.CSVLogger(tmp_path, name="csv")
    cb, _, step0 = _fit(tmp_path, logger)
    assert [h["step"] for h in cb.history] == [0, 2, 4]
    # Step 0 is the untrained model, measured before the first optimizer step.
    assert cb.history[0]["branching"] == pytest.approx(step0["branching"], rel=1e-6)
    assert cb.history[0]["lyapunov"] == pytest.approx(step0["lyapunov"], rel=1e-6, abs=1e-9)
    rows = _csv_rows(next(tmp_path.glob("csv/version_*/metrics.csv")))
    logged = {int(r["step"]): r for r in rows if r.get("criticality/branching")}
    assert sorted(logged) == [0, 2, 4]
    for h in cb.history:
        r = logged[h["step"]]
        assert float(r["criticality/branching"]) == pytest.approx(h["branching"], rel=1e-6)
        assert float(r["criticality/lyapunov"]) == pytest.approx(h["lyapunov"], rel=1e-6)
    assert any(r.get("train_loss") for r in rows)  # the module's own logging is untouched
    # Training changed the model, and the callback saw it.
    assert cb.history[-1]["branching"] != cb.history[0]["branching"]
    # Nothing written by the callback itself.
    assert not list(tmp_path.rglob("criticality.csv"))
    assert not list(tmp_path.rglob("events.out.tfevents.*"))


def test_tensorboard_logger_event_file_reads_back(tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    tb = pl.loggers.TensorBoardLogger(tmp_path, name="tb")
    csv_logger = pl.loggers.CSVLogger(tmp_path, name="csv")
    cb, _, _ = _fit(tmp_path, [tb, csv_logger], every=1, max_steps=3)
    events = list(tmp_path.glob("tb/version_*/events.out.tfevents.*"))
    assert len(events) == 1
    acc = EventAccumulator(str(events[0].parent))
    acc.Reload()
    assert {"criticality/branching", "criticality/lyapunov", "train_loss"} <= set(
        acc.Tags()["scalars"]
    )
    for name in ("branching", "lyapunov"):
        got = [(e.step, e.value) for e in acc.Scalars(f"criticality/{name}")]
        want = [(h["step"], h[name]) for h in cb.history]
        assert [s for s, _ in got] == [0, 1, 2, 3]
        for (s, v), (s2, w) in zip(got, want, strict=True):
            assert s == s2
            assert v == pytest.approx(w, rel=1e-6)  # float32 in the event file
    # Both loggers got the same numbers.
    rows = _csv_rows(next(tmp_path.glob("csv/version_*/metrics.csv")))
    by_step = {
        int(r["step"]): float(r["criticality/branching"])
        for r in rows
        if r.get("criticality/branching")
    }
    assert by_step == pytest.approx({h["step"]: h["branching"] for h in cb.history}, rel=1e-6)


def test_without_a_logger_the_history_remains(tmp_path):
    cb, _, _ = _fit(tmp_path, False, every=3, max_steps=4)
    assert [h["step"] for h in cb.history] == [0, 3]
    assert all(math.isfinite(h["branching"]) for h in cb.history)


def test_bad_arguments_are_refused_at_construction():
    from crackle._validation import CrackleValueError

    with pytest.raises(CrackleValueError, match="'every' parameter of CriticalityCallback"):
        CriticalityCallback(torch.randn(4, 6), every=0)
    with pytest.raises(CrackleValueError, match="'metrics' parameter"):
        CriticalityCallback(torch.randn(4, 6), metrics=["entropy"])
