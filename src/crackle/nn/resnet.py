"""Pre-activation ResNets (He et al. 2016), built here: no torchvision needed.

Every operation is its own module, so that :func:`crackle.nn.record` with
``modules="leaves"`` sees each one as a layer (Ghavasieh et al. 2025, arXiv 2509.22649,
"ResNet statistics"): convolutions, batch norms, ReLUs (one instance per use), pooling,
and the residual sum (:class:`Add`). A basic block computes x -> x +
conv(relu(bn(conv(relu(bn(x)))))); a block that changes width or resolution adds a 1x1
projection of relu(bn(x)) instead of x. The bottleneck block (ResNet-50) has 1x1, 3x3,
1x1 convolutions, 4x expansion.

Two families of widths:

- ``style="imagenet"``: stage widths 64, 128, 256, 512 (times ``width``), a 7x7 stride-2
  stem convolution followed by bn, relu and a 3x3 stride-2 max pool;
- ``style="cifar"``: narrow stage widths 16, 32, 64, 128 (times ``width``), a 3x3
  stride-1 stem and no pooling before the blocks.

Both end in bn, relu, global average pooling, flatten and a linear classifier.
Initialisation as torchvision's ResNets: Kaiming-normal convolutions (fan_out, ReLU
gain), batch norm weight 1 and bias 0, PyTorch's default for the classifier; ``seed``
makes it reproducible without touching torch's global generator.
"""

from __future__ import annotations

import math
from typing import Literal

import torch
from torch import nn

from crackle._validation import check_choice, check_int, check_real, param_error

__all__ = [
    "Add",
    "PreActBasicBlock",
    "PreActBottleneck",
    "PreActResNet",
    "preact_resnet",
    "resnet18",
    "resnet34",
    "resnet50",
]

Style = Literal["imagenet", "cifar"]
_WIDTHS = {"imagenet": (64, 128, 256, 512), "cifar": (16, 32, 64, 128)}
_DEPTHS = {
    18: ("basic", (2, 2, 2, 2)),
    34: ("basic", (3, 4, 6, 3)),
    50: ("bottleneck", (3, 4, 6, 3)),
}


class Add(nn.Module):
    """The residual sum ``a + b`` as a module, so hooks see it as a layer."""

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return a + b


def _conv(cin: int, cout: int, k: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, k, stride=stride, padding=k // 2, bias=False)


class PreActBasicBlock(nn.Module):
    """x -> x + conv2(relu2(bn2(conv1(relu1(bn1(x)))))), projection when shapes change."""

    expansion = 1

    def __init__(self, cin: int, width: int, stride: int = 1) -> None:
        super().__init__()
        cout = width * self.expansion
        self.bn1, self.relu1 = nn.BatchNorm2d(cin), nn.ReLU()
        self.conv1 = _conv(cin, width, 3, stride)
        self.bn2, self.relu2 = nn.BatchNorm2d(width), nn.ReLU()
        self.conv2 = _conv(width, cout, 3)
        self.shortcut = _conv(cin, cout, 1, stride) if stride != 1 or cin != cout else None
        self.add = Add()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu1(self.bn1(x))
        skip = self.shortcut(out) if self.shortcut is not None else x
        out = self.conv1(out)
        out = self.conv2(self.relu2(self.bn2(out)))
        return self.add(out, skip)


class PreActBottleneck(nn.Module):
    """Pre-activation bottleneck: 1x1 -> 3x3 (stride) -> 1x1 (4x wider), plus the skip."""

    expansion = 4

    def __init__(self, cin: int, width: int, stride: int = 1) -> None:
        super().__init__()
        cout = width * self.expansion
        self.bn1, self.relu1 = nn.BatchNorm2d(cin), nn.ReLU()
        self.conv1 = _conv(cin, width, 1)
        self.bn2, self.relu2 = nn.BatchNorm2d(width), nn.ReLU()
        self.conv2 = _conv(width, width, 3, stride)
        self.bn3, self.relu3 = nn.BatchNorm2d(width), nn.ReLU()
        self.conv3 = _conv(width, cout, 1)
        self.shortcut = _conv(cin, cout, 1, stride) if stride != 1 or cin != cout else None
        self.add = Add()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu1(self.bn1(x))
        skip = self.shortcut(out) if self.shortcut is not None else x
        out = self.conv1(out)
        out = self.conv2(self.relu2(self.bn2(out)))
        out = self.conv3(self.relu3(self.bn3(out)))
        return self.add(out, skip)


class PreActResNet(nn.Module):
    """A pre-activation ResNet: stem, four stages of blocks, bn-relu-pool-linear head.

    ``input_shape`` (channels, height, width) records the input the model was built
    for; it is a hint for tools (default inputs, error messages), the network itself
    accepts any spatial size.
    """

    def __init__(
        self,
        block: type[PreActBasicBlock] | type[PreActBottleneck],
        blocks: tuple[int, ...],
        *,
        num_classes: int = 1000,
        in_channels: int = 3,
        widths: tuple[int, ...] = (64, 128, 256, 512),
        style: Style = "imagenet",
        input_size: int = 224,
    ) -> None:
        super().__init__()
        self.input_shape = (in_channels, input_size, input_size)
        if style == "imagenet":
            self.stem = nn.Sequential(
                _conv(in_channels, widths[0], 7, 2),
                nn.BatchNorm2d(widths[0]),
                nn.ReLU(),
                nn.MaxPool2d(3, stride=2, padding=1),
            )
        else:
            self.stem = nn.Sequential(_conv(in_channels, widths[0], 3))
        cin, stages = widths[0], []
        for i, (w, n) in enumerate(zip(widths, blocks, strict=True)):
            layers = []
            for j in range(n):
                layers.append(block(cin, w, 2 if (j == 0 and i > 0) else 1))
                cin = w * block.expansion
            stages.append(nn.Sequential(*layers))
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.bn, self.relu = nn.BatchNorm2d(cin), nn.ReLU()
        self.pool, self.flatten = nn.AdaptiveAvgPool2d(1), nn.Flatten()
        self.fc = nn.Linear(cin, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(self.flatten(self.pool(self.relu(self.bn(x)))))


def _init(model: nn.Module, seed: int | None) -> None:
    gen = None if seed is None else torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(
                    m.weight, mode="fan_out", nonlinearity="relu", generator=gen
                )
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.kaiming_uniform_(m.weight, a=math.sqrt(5), generator=gen)
                bound = 1 / math.sqrt(m.in_features)
                nn.init.uniform_(m.bias, -bound, bound, generator=gen)


def preact_resnet(
    depth: int,
    *,
    style: str = "imagenet",
    num_classes: int = 1000,
    in_channels: int = 3,
    width: float = 1.0,
    input_size: int | None = None,
    seed: int | None = None,
) -> PreActResNet:
    """A pre-activation ResNet-18, -34 or -50.

    Parameters
    ----------
    depth : {18, 34, 50}
        Blocks per stage (2, 2, 2, 2), (3, 4, 6, 3) basic, (3, 4, 6, 3) bottleneck.
    style : {"imagenet", "cifar"}
        ImageNet widths and stem, or narrow CIFAR-style widths and a 3x3 stem.
    num_classes, in_channels : int
        Classifier outputs and input channels.
    width : float
        Multiplier of every stage width (rounded, at least 1): tiny models for tests.
    input_size : int, optional
        Side of the square input recorded in ``input_shape``; default 224 (imagenet)
        or 32 (cifar).
    seed : int, optional
        Seed of the initialisation; None uses torch's global generator.

    Returns
    -------
    PreActResNet

    References
    ----------
    He, Zhang, Ren & Sun, "Identity Mappings in Deep Residual Networks", ECCV (2016);
    Ghavasieh et al., arXiv 2509.22649 (2025), Methods
    ("ResNet statistics").

    Examples
    --------
    >>> import torch, crackle as ck
    >>> net = ck.nn.resnet18(style="cifar", width=0.25, num_classes=10, seed=0)
    >>> net(torch.randn(2, 3, 32, 32)).shape, net.input_shape
    (torch.Size([2, 10]), (3, 32, 32))
    """
    func = "preact_resnet"
    depth = check_int(depth, "depth", func)
    if depth not in _DEPTHS:
        raise param_error("depth", func, "one of 18, 34, 50", depth)
    style = check_choice(style, "style", func, tuple(_WIDTHS))
    num_classes = check_int(num_classes, "num_classes", func, low=1)
    in_channels = check_int(in_channels, "in_channels", func, low=1)
    width = check_real(width, "width", func, low=0.0, low_open=True)
    size = input_size if input_size is not None else (224 if style == "imagenet" else 32)
    size = check_int(size, "input_size", func, low=1)
    if seed is not None:
        seed = check_int(seed, "seed", func, low=0)
    kind, blocks = _DEPTHS[depth]
    block = PreActBasicBlock if kind == "basic" else PreActBottleneck
    widths = tuple(max(1, round(w * width)) for w in _WIDTHS[style])
    model = PreActResNet(
        block,
        blocks,
        num_classes=num_classes,
        in_channels=in_channels,
        widths=widths,
        style=style,  # type: ignore[arg-type]
        input_size=size,
    )
    _init(model, seed)
    return model


def resnet18(**kwargs: object) -> PreActResNet:
    """Pre-activation ResNet-18; keyword arguments as :func:`preact_resnet`."""
    return preact_resnet(18, **kwargs)  # type: ignore[arg-type]


def resnet34(**kwargs: object) -> PreActResNet:
    """Pre-activation ResNet-34; keyword arguments as :func:`preact_resnet`."""
    return preact_resnet(34, **kwargs)  # type: ignore[arg-type]


def resnet50(**kwargs: object) -> PreActResNet:
    """Pre-activation ResNet-50 (bottleneck blocks); arguments as :func:`preact_resnet`."""
    return preact_resnet(50, **kwargs)  # type: ignore[arg-type]
