"""Small versions of nine architecture families, for 1 x 28 x 28 images and 10 classes.

Each family is built here (no torchvision), at a size that trains in seconds on a CPU,
with a ``width``, a ``depth`` and an initialisation (``init="default"``: PyTorch's; or
``"small"``: every weight matrix and kernel then multiplied by 0.5, which starts the
network on the ordered side). Every model traces with torch.fx, so the probes see its
blocks (``modules="blocks"``), and every operation supports forward-mode automatic
differentiation (the recurrent cell is written out, not ``nn.LSTM``), so the
criticality penalty works on all of them.

:data:`FAMILIES` records for each family its year of introduction, the paper, and the
architectural innovations it carries (batch normalisation, residual connections,
dense concatenation, depthwise convolution, attention, layer normalisation); the
training recipe of its era (optimiser, label smoothing, augmentation) is part of the
zoo experiment's configuration (:mod:`crackle.experiments.zoo`).

========== ==== ===================================================================
family     year blocks (``modules="blocks"``)
========== ==== ===================================================================
mlp        1986 Linear + tanh, ``depth`` hidden layers; linear readout
rnn        1997 the 28 image rows read in order by a GRU-style gated cell (written
                out); the recurrence is one block, the readout another
cnn        1998 LeNet-style: conv 5x5 + tanh + average pooling, twice, then
                ``depth - 2`` further conv + tanh; linear readout
vgg        2014 two stages of ``depth`` conv 3x3 + ReLU and a max pooling; readout
resnet     2015 conv stem, then ``depth`` basic blocks (conv-BN-ReLU-conv-BN + skip,
                ReLU) in two stages; pooled linear readout
densenet   2016 ``depth`` dense layers (BN-ReLU-conv 3x3, concatenated) in two dense
                blocks with a transition; pooled readout
mobilenet  2018 MobileNetV2 inverted residuals (1x1 expand, depthwise 3x3, 1x1
                project, BN, ReLU6, skip when shapes allow); pooled readout
vit        2020 7 x 7 patches (16 tokens), ``depth`` pre-norm transformer blocks
                (attention, GELU MLP, residual), mean-pooled readout
mixer      2021 7 x 7 patches, ``depth`` MLP-Mixer blocks (token- and channel-mixing
                MLPs, layer norm, residual), mean-pooled readout
========== ==== ===================================================================
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from crackle._validation import check_choice, check_int, param_error

__all__ = ["FAMILIES", "INITS", "build_family"]

INITS = ("default", "small")

#: Year of introduction, paper, and architectural innovations of each family.
FAMILIES: dict[str, dict[str, Any]] = {
    "mlp": {
        "year": 1986,
        "paper": "Rumelhart, Hinton & Williams, Nature 323, 533 (1986)",
        "innovations": (),
    },
    "rnn": {
        "year": 1997,
        "paper": "Hochreiter & Schmidhuber, Neural Comput. 9, 1735 (1997); gated cell as "
        "Cho et al., arXiv 1406.1078 (2014)",
        "innovations": ("gating",),
    },
    "cnn": {
        "year": 1998,
        "paper": "LeCun, Bottou, Bengio & Haffner, Proc. IEEE 86, 2278 (1998)",
        "innovations": ("convolution",),
    },
    "vgg": {
        "year": 2014,
        "paper": "Simonyan & Zisserman, arXiv 1409.1556 (2014)",
        "innovations": ("convolution", "relu", "depth"),
    },
    "resnet": {
        "year": 2015,
        "paper": "He, Zhang, Ren & Sun, arXiv 1512.03385 (2015)",
        "innovations": ("convolution", "relu", "batch_norm", "residual"),
    },
    "densenet": {
        "year": 2016,
        "paper": "Huang, Liu, van der Maaten & Weinberger, arXiv 1608.06993 (2016)",
        "innovations": ("convolution", "relu", "batch_norm", "dense_concat"),
    },
    "mobilenet": {
        "year": 2018,
        "paper": "Sandler, Howard, Zhu, Zhmoginov & Chen, arXiv 1801.04381 (2018)",
        "innovations": ("convolution", "relu", "batch_norm", "residual", "depthwise"),
    },
    "vit": {
        "year": 2020,
        "paper": "Dosovitskiy et al., arXiv 2010.11929 (2020)",
        "innovations": ("attention", "layer_norm", "residual", "gelu"),
    },
    "mixer": {
        "year": 2021,
        "paper": "Tolstikhin et al., arXiv 2105.01601 (2021)",
        "innovations": ("layer_norm", "residual", "gelu", "token_mixing"),
    },
}


class _MLP(nn.Module):
    def __init__(self, width: int, depth: int) -> None:
        super().__init__()
        dims = [784] + [width] * depth
        self.hidden = nn.ModuleList(nn.Linear(a, b) for a, b in itertools.pairwise(dims))
        self.head = nn.Linear(dims[-1], 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x.flatten(1)
        for lin in self.hidden:
            h = torch.tanh(lin(h))
        return self.head(h)


class _GRU(nn.Module):
    """Rows of the image as a sequence; h_t = (1 - z) h + z tanh(W x_t + U (r h))."""

    def __init__(self, width: int, depth: int) -> None:
        super().__init__()
        self.inp = nn.Linear(28, 3 * width)
        self.rec = nn.Linear(width, 2 * width, bias=False)
        self.cand = nn.Linear(width, width, bias=False)
        self.width = width
        self.head = nn.Sequential(*[nn.Linear(width, width) for _ in range(depth - 1)])
        self.out = nn.Linear(width, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        rows = self.inp(x.flatten(1, 2).reshape(-1, 28, 28))  # (B, 28, 3 width)
        h = torch.zeros_like(rows[:, 0, : self.width])
        for t in range(28):
            zr = torch.sigmoid(rows[:, t, : 2 * self.width] + self.rec(h))
            z, r = zr.chunk(2, dim=1)
            c = torch.tanh(rows[:, t, 2 * self.width :] + self.cand(r * h))
            h = (1 - z) * h + z * c
        for lin in self.head:
            h = torch.tanh(lin(h))
        return self.out(h)


class _LeNet(nn.Module):
    def __init__(self, width: int, depth: int) -> None:
        super().__init__()
        self.c1 = nn.Conv2d(1, width, 5, padding=2)
        self.c2 = nn.Conv2d(width, 2 * width, 5, padding=2)
        self.extra = nn.ModuleList(
            nn.Conv2d(2 * width, 2 * width, 3, padding=1) for _ in range(max(depth - 2, 0))
        )
        self.head = nn.Linear(2 * width * 49, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.avg_pool2d(torch.tanh(self.c1(x)), 2)
        h = F.avg_pool2d(torch.tanh(self.c2(h)), 2)
        for c in self.extra:
            h = torch.tanh(c(h))
        return self.head(h.flatten(1))


class _VGG(nn.Module):
    def __init__(self, width: int, depth: int) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        cin = 1
        for stage in range(2):
            cout = width * 2**stage
            for _ in range(depth):
                layers += [nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU()]
                cin = cout
            layers.append(nn.MaxPool2d(2))
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(cin * 49, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x).flatten(1))


class _Basic(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.proj = (
            nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
            if stride != 1 or cin != cout
            else None
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        skip = x if self.proj is None else self.proj(x)
        return F.relu(out + skip)


class _ResNet(nn.Module):
    def __init__(self, width: int, depth: int) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, width, 3, 1, 1, bias=False), nn.BatchNorm2d(width))
        first = (depth + 1) // 2
        blocks, cin = [], width
        for i in range(depth):
            cout, stride = (width, 1) if i < first else (2 * width, 2 if i == first else 1)
            blocks.append(_Basic(cin, cout, stride))
            cin = cout
        self.blocks = nn.Sequential(*blocks)
        self.head = nn.Linear(cin, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.blocks(F.relu(self.stem(x)))
        return self.head(h.mean(dim=(2, 3)))


class _DenseLayer(nn.Module):
    def __init__(self, cin: int, growth: int) -> None:
        super().__init__()
        self.bn = nn.BatchNorm2d(cin)
        self.conv = nn.Conv2d(cin, growth, 3, padding=1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([x, self.conv(F.relu(self.bn(x)))], dim=1)


class _DenseNet(nn.Module):
    def __init__(self, width: int, depth: int) -> None:
        super().__init__()
        growth = max(width // 2, 2)
        self.stem = nn.Conv2d(1, width, 3, padding=1, bias=False)
        layers: list[nn.Module] = []
        c = width
        per = max(depth // 2, 1)
        for block in range(2):
            for _ in range(per):
                layers.append(_DenseLayer(c, growth))
                c += growth
            if block == 0:  # transition: BN-ReLU-conv 1x1, average pooling
                layers.append(
                    nn.Sequential(
                        nn.BatchNorm2d(c),
                        nn.ReLU(),
                        nn.Conv2d(c, c // 2, 1, bias=False),
                        nn.AvgPool2d(2),
                    )
                )
                c = c // 2
        self.features = nn.Sequential(*layers)
        self.bn = nn.BatchNorm2d(c)
        self.head = nn.Linear(c, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.relu(self.bn(self.features(self.stem(x))))
        return self.head(h.mean(dim=(2, 3)))


class _Inverted(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int, expand: int = 4) -> None:
        super().__init__()
        mid = cin * expand
        self.body = nn.Sequential(
            nn.Conv2d(cin, mid, 1, bias=False), nn.BatchNorm2d(mid), nn.ReLU6(),
            nn.Conv2d(mid, mid, 3, stride, 1, groups=mid, bias=False), nn.BatchNorm2d(mid),
            nn.ReLU6(), nn.Conv2d(mid, cout, 1, bias=False), nn.BatchNorm2d(cout),
        )  # fmt: skip
        self.skip = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.body(x)
        return x + out if self.skip else out


class _MobileNet(nn.Module):
    def __init__(self, width: int, depth: int) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(1, width, 3, 2, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU6()
        )
        blocks, cin = [], width
        for i in range(depth):
            cout = width if i < depth // 2 else 2 * width
            stride = 2 if i == depth // 2 else 1
            blocks.append(_Inverted(cin, cout, stride))
            cin = cout
        self.blocks = nn.Sequential(*blocks)
        self.head = nn.Linear(cin, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.blocks(self.stem(x)).mean(dim=(2, 3)))


class _Patches(nn.Module):
    """7 x 7 patches of a 28 x 28 image, embedded: (B, 16, dim)."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.proj = nn.Conv2d(1, dim, 7, 7)
        self.pos = nn.Parameter(torch.zeros(1, 16, dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(x).flatten(2).transpose(1, 2) + self.pos


def _softmax(s: torch.Tensor) -> torch.Tensor:
    """Softmax over the last axis from exp and sum: torch.softmax's forward-mode
    derivative cannot be differentiated again (reverse over forward), which the
    criticality penalty needs."""
    e = torch.exp(s - s.amax(dim=-1, keepdim=True).detach())
    return e / e.sum(dim=-1, keepdim=True)


class _Attention(nn.Module):
    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.out = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, d = x.shape
        q, k, v = self.qkv(x).reshape(b, n, 3, self.heads, d // self.heads).unbind(2)
        q, k, v = (t.transpose(1, 2) for t in (q, k, v))  # (B, heads, n, d_head)
        att = _softmax(q @ k.transpose(-2, -1) / math.sqrt(d // self.heads))
        return self.out((att @ v).transpose(1, 2).reshape(b, n, d))


class _ViTBlock(nn.Module):
    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(dim)
        self.attn = _Attention(dim, heads)
        self.ln2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, 2 * dim), nn.GELU(), nn.Linear(2 * dim, dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class _ViT(nn.Module):
    def __init__(self, width: int, depth: int) -> None:
        super().__init__()
        self.patches = _Patches(width)
        self.blocks = nn.Sequential(*[_ViTBlock(width, 4 if width % 4 == 0 else 1)
                                      for _ in range(depth)])  # fmt: skip
        self.ln = nn.LayerNorm(width)
        self.head = nn.Linear(width, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.ln(self.blocks(self.patches(x))).mean(dim=1))


class _MixerBlock(nn.Module):
    def __init__(self, dim: int, tokens: int = 16) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(dim)
        self.token = nn.Sequential(nn.Linear(tokens, 2 * tokens), nn.GELU(),
                                   nn.Linear(2 * tokens, tokens))  # fmt: skip
        self.ln2 = nn.LayerNorm(dim)
        self.channel = nn.Sequential(nn.Linear(dim, 2 * dim), nn.GELU(), nn.Linear(2 * dim, dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.token(self.ln1(x).transpose(1, 2)).transpose(1, 2)
        return x + self.channel(self.ln2(x))


class _Mixer(nn.Module):
    def __init__(self, width: int, depth: int) -> None:
        super().__init__()
        self.patches = _Patches(width)
        self.blocks = nn.Sequential(*[_MixerBlock(width) for _ in range(depth)])
        self.ln = nn.LayerNorm(width)
        self.head = nn.Linear(width, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.ln(self.blocks(self.patches(x))).mean(dim=1))


_BUILDERS: dict[str, Callable[[int, int], nn.Module]] = {
    "mlp": _MLP,
    "rnn": _GRU,
    "cnn": _LeNet,
    "vgg": _VGG,
    "resnet": _ResNet,
    "densenet": _DenseNet,
    "mobilenet": _MobileNet,
    "vit": _ViT,
    "mixer": _Mixer,
}


def build_family(
    family: str, *, width: int, depth: int, init: str = "default", seed: int = 0
) -> nn.Module:
    """A model of ``family`` (see the module docstring) for 1 x 28 x 28 inputs.

    Parameters
    ----------
    family : str
        One of :data:`FAMILIES`.
    width : int
        Hidden units, channels of the first stage, or the embedding dimension.
    depth : int
        Hidden layers, blocks, or dense layers (at least 2 where a family has two
        stages).
    init : {"default", "small"}
        PyTorch's default initialisation, or that with every weight matrix and kernel
        times 0.5 (an ordered start).
    seed : int
        Seeds the initialisation (without touching torch's global generator).

    Returns
    -------
    torch.nn.Module
        In eval mode, with ``input_shape = (1, 28, 28)``.

    Examples
    --------
    >>> import torch
    >>> from crackle.nn.families import build_family
    >>> net = build_family("vit", width=16, depth=2)
    >>> net(torch.zeros(3, 1, 28, 28)).shape
    torch.Size([3, 10])
    """
    func = "build_family"
    check_choice(family, "family", func, tuple(FAMILIES))
    width = check_int(width, "width", func, low=2)
    depth = check_int(depth, "depth", func, low=1)
    check_choice(init, "init", func, INITS)
    seed = check_int(seed, "seed", func, low=0)
    if family in ("resnet", "densenet", "mobilenet") and depth < 2:
        raise param_error("depth", func, f"at least 2 for {family} (two stages)", depth)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = _BUILDERS[family](width, depth)
    if init == "small":
        with torch.no_grad():
            for p in model.parameters():
                if p.ndim >= 2:
                    p.mul_(0.5)
    model.input_shape = (1, 28, 28)  # type: ignore[assignment]
    return model.eval()
