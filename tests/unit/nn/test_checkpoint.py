"""load_checkpoint: weights in, code never run."""

import pytest
import torch
from torch import nn

import crackle as ck
from crackle.nn import UnsafeCheckpointError


class MakesAFile:
    """Unpickling this calls open(marker, "w"): a stand-in for a malicious payload."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_a_pickle_that_would_run_code_is_refused_and_runs_nothing(tmp_path):
    marker = tmp_path / "pwned.txt"
    path = tmp_path / "evil.pt"
    torch.save({"state_dict": nn.Linear(2, 2).state_dict(), "x": MakesAFile(marker)}, path)
    assert not marker.exists()
    with pytest.raises(UnsafeCheckpointError, match=r"refused to load .*it calls io.open"):
        ck.nn.load_checkpoint(path, nn.Linear(2, 2))
    with pytest.raises(ValueError, match="would run code"):
        ck.nn.load_checkpoint(path)
    assert not marker.exists()
    # The payload is live: an unsafe load does create the file (so the test can fail).
    torch.load(path, weights_only=False)
    assert marker.exists()


@pytest.mark.parametrize("wrap", ["plain", "state_dict", "model_state_dict", "dataparallel"])
def test_loads_state_dicts_in_common_layouts(tmp_path, wrap):
    src = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    sd = src.state_dict()
    obj = {
        "plain": sd,
        "state_dict": {"state_dict": sd, "epoch": 3},
        "model_state_dict": {"model_state_dict": sd, "acc": 0.9},
        "dataparallel": {f"module.{k}": v for k, v in sd.items()},
    }[wrap]
    torch.save(obj, tmp_path / "c.pt")
    dst = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    out = ck.nn.load_checkpoint(tmp_path / "c.pt", dst)
    assert out is dst
    for k, v in src.state_dict().items():
        assert torch.equal(dst.state_dict()[k], v)


def test_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no checkpoint file"):
        ck.nn.load_checkpoint(tmp_path / "missing.pt")
    torch.save(nn.Linear(3, 4).state_dict(), tmp_path / "lin.pt")
    with pytest.raises(ValueError, match=r"do not fit the model.*missing key"):
        ck.nn.load_checkpoint(tmp_path / "lin.pt", nn.Sequential(nn.Linear(3, 4)))
    with pytest.raises(ValueError, match=r"size mismatch|do not fit"):
        ck.nn.load_checkpoint(tmp_path / "lin.pt", nn.Linear(3, 5))
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="not a readable torch checkpoint"):
        ck.nn.load_checkpoint(tmp_path / "junk.pt")
    torch.save([1, 2], tmp_path / "list.pt")
    with pytest.raises(ValueError, match="holds no state_dict"):
        ck.nn.load_checkpoint(tmp_path / "list.pt", nn.Linear(3, 4))
