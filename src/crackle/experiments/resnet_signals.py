"""Layer and block signals of a ResNet at initialisation, and of small perturbations.

The torch side of :mod:`crackle.experiments.resnet`. One forward pass records, for
every image of a batch and at every layer,

- the **activity**: the L2 norm of the tensor the layer produces (Ghavasieh et al.
  2025, sec. 0.15: every operation is a layer, its signal strength the norm of its
  output), and
- the **difference**: for each of ``P`` small perturbations ``x + delta`` of the
  image, the L2 norm of the difference between the perturbed and the unperturbed
  output of the layer (how far the perturbation has spread at that depth),

at two grains: every operation a layer (``"layers"``: convolutions, batch norms,
ReLUs, pooling, the residual sums, the head) and the blocks of
:func:`crackle.nn.record` with ``modules="blocks"`` (``"blocks"``: the stem, each
residual block ending at its sum, the head). The images and their perturbations run
in one batch of ``(1 + P) B`` samples in eval mode; with ``batch_norm="batch"`` every
batch norm first takes the statistics of the ``B`` unperturbed images (a pass in
training mode), so that the unperturbed images see their batch's statistics, as in a
freshly built network, and the perturbed ones see the same normalisation (a
perturbation changes its image only, never the statistics of the others).
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray
from torch import nn

from crackle.nn._blocks import BlockMarker, block_view
from crackle.nn._modules import select_modules

__all__ = ["LayerSignals", "fashion_images", "prepare_images", "resnet_signals", "split_even"]

#: Fashion-MNIST pixel mean and standard deviation (training split, scaled to [0, 1]).
FASHION_MEAN, FASHION_STD = 0.2860, 0.3530
RESIZE = ("pad", "upsample")


def prepare_images(images: NDArray[np.uint8], size: int, resize: str) -> torch.Tensor:
    """Grey 28 x 28 images as normalised 3 x size x size tensors.

    Pixels are scaled to [0, 1] and standardised with the Fashion-MNIST mean and
    standard deviation; ``resize="pad"`` pads with the background (black) to
    ``size`` (centred), ``"upsample"`` resizes bilinearly; the grey channel is
    replicated three times (the RGB input of an ImageNet ResNet).

    >>> import numpy as np
    >>> prepare_images(np.zeros((2, 28, 28), np.uint8), 32, "pad").shape
    torch.Size([2, 3, 32, 32])
    """
    x = torch.as_tensor(np.asarray(images), dtype=torch.float32)[:, None] / 255.0
    h, w = x.shape[-2:]
    if resize == "pad" and size != h:
        top, left = (size - h) // 2, (size - w) // 2
        x = nn.functional.pad(x, (left, size - w - left, top, size - h - top))
    elif resize == "upsample" and size != h:
        x = nn.functional.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)
    x = (x - FASHION_MEAN) / FASHION_STD
    return x.expand(-1, 3, -1, -1).contiguous()


def fashion_images(
    split: str, n: int, *, seed: int, root: Any = None
) -> tuple[NDArray[np.uint8], NDArray[np.int64]]:
    """``n`` Fashion-MNIST images of ``split`` in a seeded random order (and their
    indices in the split)."""
    from crackle.train.data import load_fashion_mnist

    images, _ = load_fashion_mnist(split, root=root)
    order = np.random.default_rng([seed, 0 if split == "train" else 1]).permutation(len(images))
    idx = np.sort(order[:n])
    return images[idx], idx


@dataclass(frozen=True)
class LayerSignals:
    """Signals of one model at one grain.

    Attributes
    ----------
    names : tuple of str
        The layers (or blocks) in the order they run.
    entries : ndarray of shape (L,)
        Entries per sample of each layer's output tensor.
    activity : ndarray of shape (n_images, L)
        Norm of each layer's output for each image.
    difference : ndarray of shape (n_images * P, L)
        Norm of the change of each layer's output for each perturbation (row
        ``p * n + i`` is perturbation p of image i within its batch order); empty
        (0 rows) without perturbations.
    """

    names: tuple[str, ...]
    entries: NDArray[np.int64]
    activity: NDArray[np.float64]
    difference: NDArray[np.float64]


class _Tap:
    """Hooks on the leaves and the block markers of a traced copy: for each call, the
    norm of the unperturbed output and of the change of each perturbed one."""

    def __init__(
        self,
        runner: nn.Module,
        leaves: list[tuple[str, nn.Module]],
        blocks: list[tuple[str, nn.Module]],
    ) -> None:
        self.runner = runner
        self.leaves = leaves
        self.markers = blocks
        self.n_pert = 0
        self.layer: list[tuple[str, torch.Tensor, int]] = []
        self.block: list[tuple[str, torch.Tensor, int]] = []
        self._last_out: torch.Tensor | None = None
        self.active = False
        self._handles: list[Any] = []

    def _values(self, t: torch.Tensor) -> torch.Tensor:
        flat = t.reshape(1 + self.n_pert, t.shape[0] // (1 + self.n_pert), -1)
        if flat.dtype in (torch.float16, torch.bfloat16):
            flat = flat.float()
        act = torch.linalg.vector_norm(flat[0], dim=1)[None]
        if not self.n_pert:
            return act
        diff = torch.linalg.vector_norm(flat[1:] - flat[0][None], dim=2)
        return torch.cat([act, diff], dim=0)

    def _hook(self, name: str, is_marker: bool) -> Callable[..., None]:
        def hook(module: nn.Module, args: Any, out: torch.Tensor) -> None:
            if not self.active:
                return
            entries = out.numel() // max(out.shape[0], 1)
            vals = self._values(out)
            if is_marker:
                self.block.append((name, vals, entries))
                # A marker after an inlined residual sum stands for that sum; after a
                # module it repeats that module's output, already recorded.
                if out is not self._last_out:
                    self.layer.append((f"{name}.sum", vals, entries))
            else:
                self.layer.append((name, vals, entries))
            self._last_out = out

        return hook

    def __enter__(self) -> _Tap:
        for name, m in self.leaves:
            if not isinstance(m, BlockMarker):
                self._handles.append(m.register_forward_hook(self._hook(name, False)))
        for name, m in self.markers:
            self._handles.append(m.register_forward_hook(self._hook(name, True)))
        return self

    def __exit__(self, *exc: object) -> None:
        while self._handles:
            self._handles.pop().remove()

    def run(self, x: torch.Tensor, n_pert: int) -> tuple[list[Any], list[Any]]:
        self.n_pert, self.layer, self.block, self._last_out = n_pert, [], [], None
        self.active = True
        try:
            with torch.no_grad():
                self.runner(x)
        finally:
            self.active = False
        return self.layer, self.block


def split_even(x: Any, size: int) -> list[Any]:
    """``x`` cut into ceil(len / size) consecutive pieces of nearly equal length (none
    of length 1 unless ``len(x)`` is 1: batch statistics need two samples)."""
    n = len(x)
    parts = max(1, -(-n // size))
    bounds = np.linspace(0, n, parts + 1).round().astype(int)
    return [x[a:b] for a, b in itertools.pairwise(bounds)]


def _batch_norms(model: nn.Module) -> list[nn.modules.batchnorm._BatchNorm]:
    return [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]


def _take_batch_statistics(model: nn.Module, x: torch.Tensor) -> None:
    """Set every batch norm's running statistics to those of batch ``x`` (the biased
    variance that a training-mode pass normalises with), then leave eval mode on."""
    bns = _batch_norms(model)
    counts: dict[int, int] = {}

    def pre(m: nn.Module, args: Any) -> None:
        counts[id(m)] = args[0].numel() // args[0].shape[1]

    handles = [m.register_forward_pre_hook(pre) for m in bns]
    saved = [(m, m.momentum) for m in bns]
    try:
        for m in bns:
            m.momentum = 1.0
            m.train()
        with torch.no_grad():
            model(x)
            for m in bns:
                n = counts[id(m)]
                if n > 1 and m.running_var is not None:
                    m.running_var.mul_((n - 1) / n)  # unbiased -> biased
    finally:
        for h in handles:
            h.remove()
        for m, mom in saved:
            m.momentum = mom
            m.eval()


def _stack(parts: list[list[tuple[str, torch.Tensor, int]]]) -> tuple[Any, Any, Any, Any]:
    """Per-batch hook outputs -> names, entries, activity (n, L), difference (n P, L)."""
    names = tuple(n for n, _, _ in parts[0])
    entries = np.array([e for _, _, e in parts[0]], dtype=np.int64)
    act, diff = [], []
    for batch in parts:
        vals = torch.stack([v for _, v, _ in batch], dim=-1).to("cpu", torch.float64).numpy()
        act.append(vals[0])
        diff.append(vals[1:].reshape(-1, vals.shape[-1]))
    return names, entries, np.concatenate(act), np.concatenate(diff)


def resnet_signals(
    model: nn.Module,
    images: torch.Tensor,
    *,
    perturbations: int = 0,
    eps: float = 0.01,
    batch_norm: str = "batch",
    batch_size: int = 64,
    seed: int = 0,
    device: str = "cpu",
) -> dict[str, LayerSignals]:
    """Activity and perturbation signals of ``model`` at the layers and at the blocks.

    Parameters
    ----------
    model : torch.nn.Module
        A network that traces with torch.fx (crackle's ResNets do); it is copied, so
        its own batch-norm statistics and mode are untouched.
    images : tensor of shape (n, C, H, W)
        The inputs, already prepared (:func:`prepare_images`).
    perturbations : int
        P perturbations per image: ``delta`` Gaussian, rescaled to
        ``eps * |x|`` for image ``x``; 0 records the activity only.
    eps : float
        Relative size of a perturbation.
    batch_norm : {"batch", "running"}
        Batch statistics of each batch of unperturbed images (a freshly built
        network), or the running statistics (eval mode; 0 and 1 at initialisation).
    batch_size : int
        Images per batch (the batch runs ``(1 + P) * batch_size`` samples).
    seed : int
        Seed of the perturbations (drawn on the CPU, the same on every device).
    device : str
        Where the model runs.

    Returns
    -------
    dict
        ``{"layers": LayerSignals, "blocks": LayerSignals}``.
    """
    twin = copy.deepcopy(model).to(device).eval()
    runner, blocks, _ = block_view(twin, "resnet_signals")
    leaves = select_modules(twin, "leaves", "resnet_signals")
    gen = torch.Generator().manual_seed(seed)
    layer_parts, block_parts = [], []
    with _Tap(runner, leaves, blocks) as tap:
        for x in split_even(images, batch_size):
            batch = x
            if perturbations:
                d = torch.randn((perturbations, *x.shape), generator=gen, dtype=x.dtype)
                scale = eps * torch.linalg.vector_norm(x.reshape(x.shape[0], -1), dim=1)
                dn = torch.linalg.vector_norm(d.reshape(perturbations, x.shape[0], -1), dim=2)
                d = d * (scale[None] / dn.clamp_min(1e-30)).reshape(
                    perturbations, x.shape[0], *([1] * (x.ndim - 1))
                )
                batch = torch.cat([x[None], x[None] + d]).reshape(-1, *x.shape[1:])
            if batch_norm == "batch" and not perturbations:
                # No perturbation: one pass in training mode uses the batch's statistics.
                bns = _batch_norms(twin)
                for m in bns:
                    m.train()
                try:
                    layer, block = tap.run(batch.to(device), 0)
                finally:
                    for m in bns:
                        m.eval()
            else:
                if batch_norm == "batch":
                    _take_batch_statistics(twin, x.to(device))
                layer, block = tap.run(batch.to(device), perturbations)
            layer_parts.append(layer)
            block_parts.append(block)
    out = {}
    for grain, parts in (("layers", layer_parts), ("blocks", block_parts)):
        names, entries, act, diff = _stack(parts)
        if perturbations:
            # Rows p * n + i over the whole run, not per batch.
            per_batch = [len(x) for x in split_even(images, batch_size)]
            pieces, start = [], 0
            for b in per_batch:
                pieces.append(diff[start : start + perturbations * b].reshape(perturbations, b, -1))
                start += perturbations * b
            diff = np.concatenate(pieces, axis=1).reshape(-1, act.shape[1])
        out[grain] = LayerSignals(names, entries, act, diff)
    return out
