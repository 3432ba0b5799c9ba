"""Tiny models shared by the crackle.nn tests (built here, nothing downloaded)."""

import pytest
import torch
from torch import nn


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Tiny models gain nothing from intra-op threads, and on a loaded 2-core machine
    OpenMP threads contend (a 300-input tiny ResNet ran 16x slower with 2 threads)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def orthogonal_linear_net(width: int, depth: int, gain: float, seed: int = 0) -> nn.Sequential:
    """A deep linear network, weights orthogonal times ``gain``, float64, no biases."""
    torch.manual_seed(seed)
    net = nn.Sequential(*[nn.Linear(width, width, bias=False) for _ in range(depth)]).double()
    for m in net:
        nn.init.orthogonal_(m.weight, gain=gain)
    return net


@pytest.fixture
def orthogonal_net():
    """Factory: ``orthogonal_net(width, depth, gain)``."""
    return orthogonal_linear_net


@pytest.fixture
def small_cnn() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1),
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(4 * 4 * 4, 5),
    ).eval()


@pytest.fixture
def mlp() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Linear(6, 10), nn.Tanh(), nn.Linear(10, 10), nn.Tanh(), nn.Linear(10, 3)
    )
