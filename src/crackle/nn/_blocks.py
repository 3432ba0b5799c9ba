"""``modules="blocks"``: the layers of a network at the grain of its blocks.

A block boundary is a point of the forward pass through which the whole signal flows:
a *cut* of the computation graph, where the tensor just computed is the only
input-dependent tensor still needed later. In a plain stack every layer's output is a
cut; inside a residual block the skip branch keeps the block's input alive, so the
first cut after it is the residual sum (or the activation after it); in a DenseNet the
concatenations between dense layers are cuts. Between two consecutive *weight
operations* (a Linear, convolution, embedding or recurrent layer, or a functional
``linear``/``conv``/``matmul``) the boundary is the last cut before the second one, so
that each block holds one weight operation (or a whole residual or parallel block)
with its normalisation, activation, pooling and residual sum: normalisation layers
carry parameters but do not start a block. The last boundary is the model's output.

The graph comes from :func:`torch.fx.symbolic_trace` of the model in eval mode, so
functional activations (``F.relu``) and residual sums (``out + x``) are seen. An
identity marker module is inserted at each boundary of a copy of the graph (a
:class:`torch.fx.GraphModule` that shares the model's parameters and submodules), and
the probes run that copy, whose outputs are the model's own. A model that does not
trace (control flow on tensor values) falls back on its module structure: its
top-level children in call order, an ``nn.Sequential`` or ``nn.ModuleList`` child
expanded into its own children (stages into blocks), keeping those that hold
parameters; functional operations between them are then part of the next block.
"""

from __future__ import annotations

import operator
import warnings
import weakref
from typing import Any

import torch
from torch import nn

from crackle._validation import param_error

__all__ = ["BlockMarker", "BlocksFallbackWarning", "block_view"]

_WEIGHT_FUNCS = {
    torch.nn.functional.linear,
    torch.nn.functional.conv1d,
    torch.nn.functional.conv2d,
    torch.nn.functional.conv3d,
    torch.nn.functional.embedding,
    torch.matmul,
    torch.bmm,
    torch.einsum,
    operator.matmul,
}
_META_METHODS = {"size", "dim", "numel", "ndimension"}
_cache: weakref.WeakKeyDictionary[nn.Module, tuple[Any, ...]] = weakref.WeakKeyDictionary()


class BlocksFallbackWarning(UserWarning):
    """The model does not trace with torch.fx; blocks were taken from its modules."""


class BlockMarker(nn.Identity):
    """An identity at a block boundary (hooks on it see the block's output)."""


def _is_weight_module(m: nn.Module) -> bool:
    return any(p.ndim >= 2 for p in m.parameters(recurse=False)) or isinstance(
        m, nn.RNNBase | nn.MultiheadAttention
    )


def _boundaries(gm: Any) -> list[tuple[Any, list[Any]]]:
    """(boundary node, nodes of its block) in order, from the traced graph."""
    nodes = list(gm.graph.nodes)
    index = {n: i for i, n in enumerate(nodes)}
    modules = dict(gm.named_modules())
    dep: set[Any] = set()  # input-dependent nodes
    meta: set[Any] = set()  # input-dependent values that are not tensors (sizes, shapes)
    for n in nodes:
        ins = [a for a in n.all_input_nodes if a in dep]
        if n.op == "placeholder":
            dep.add(n)
        elif ins:
            dep.add(n)
            size_like = (n.op == "call_method" and n.target in _META_METHODS) or (
                n.op == "call_function" and n.target is getattr
            )
            if size_like or all(a in meta for a in ins):
                meta.add(n)
    live = [n for n in nodes if n in dep and n not in meta and n.op != "output"]
    last_use = {n: max((index[u] for u in n.users), default=index[n]) for n in live}
    # sweep: the values alive after position i are those defined at or before i and used after
    cuts, alive = set(), 0
    ends: dict[int, int] = {}
    for n in nodes:
        i = index[n]
        alive -= ends.pop(i, 0)
        if n in last_use and last_use[n] > i:
            alive += 1
            ends[last_use[n]] = ends.get(last_use[n], 0) + 1
            if alive == 1 and n.op != "placeholder":
                cuts.add(n)

    def is_weight(n: Any) -> bool:
        if n not in dep:
            return False
        if n.op == "call_module":
            return _is_weight_module(modules[n.target])
        return n.op == "call_function" and n.target in _WEIGHT_FUNCS

    out_node = next(n for n in nodes if n.op == "output")
    result = out_node.args[0]
    if isinstance(result, tuple | list):
        result = result[0] if result else None
    if not isinstance(result, torch.fx.Node) or result not in dep:
        return []
    bounds: list[tuple[Any, list[Any]]] = []
    seg_start, last_weight = 0, None
    window: list[Any] = []
    for n in nodes:
        if n.op == "output":
            break
        if is_weight(n):
            if last_weight is not None and window:
                # the last cut that belongs to the module holding the previous weight op
                home = _path(last_weight)[:-1]
                score = [_common(_path(c), home) for c in window]
                best = max(i for i, s in enumerate(score) if s == max(score))
                cut_i = index[window[best]]
                bounds.append((window[best], nodes[seg_start : cut_i + 1]))
                seg_start = cut_i + 1
            last_weight, window = n, []
        if n in cuts and last_weight is not None:
            window.append(n)
    has_weight = last_weight is not None
    if has_weight:
        bounds.append((result, nodes[seg_start : index[result] + 1]))
    return bounds


def _path(n: Any) -> list[str]:
    """The qualified name of the module that ran ``n`` (or that holds a function call)."""
    stack = n.meta.get("nn_module_stack") or {}
    if stack:
        return str(list(stack)[-1]).split(".")
    return str(n.target).split(".") if n.op == "call_module" else []


def _common(a: list[str], b: list[str]) -> int:
    k = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        k += 1
    return k


def _block_name(seg: list[Any], fallback: str) -> str:
    paths = []
    for n in seg:
        stack = n.meta.get("nn_module_stack") or {}
        if stack:
            paths.append(list(stack)[-1].split("."))
        elif n.op == "call_module":
            paths.append(str(n.target).split("."))
    if not paths:
        return fallback
    common: list[str] = []
    for parts in zip(*paths, strict=False):
        if len(set(parts)) != 1:
            break
        common.append(parts[0])
    if common:
        return ".".join(common)
    first, last = ".".join(paths[0]), ".".join(paths[-1])
    return first if first == last else f"{first}..{last}"


def _traced_blocks(model: nn.Module) -> tuple[nn.Module, list[tuple[str, nn.Module]]] | None:
    import torch.fx as fx

    flags = [(m, m.training) for m in model.modules()]
    model.eval()  # trace what the probes run: eval-mode branches
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            gm = fx.symbolic_trace(model)
    except Exception:  # anything fx cannot trace: fall back on the modules
        return None
    finally:
        for m, was in flags:
            m.training = was
    bounds = _boundaries(gm)
    if not bounds:
        return None
    names: list[str] = []
    seen: dict[str, int] = {}
    for i, (_, seg) in enumerate(bounds):
        name = _block_name(seg, f"block{i}")
        seen[name] = seen.get(name, 0) + 1
        names.append(name if seen[name] == 1 else f"{name}#{seen[name]}")
    named: list[tuple[str, nn.Module]] = []
    for i, ((node, _), name) in enumerate(zip(bounds, names, strict=True)):
        target = f"crackle_block_{i}"
        marker = BlockMarker()
        gm.add_submodule(target, marker)
        with gm.graph.inserting_after(node):
            new = gm.graph.call_module(target, (node,))
        node.replace_all_uses_with(new, delete_user_cb=lambda u, new=new: u is not new)
        named.append((name, marker))
    gm.recompile()
    gm.train(model.training)
    for attr in ("input_shape",):
        if hasattr(model, attr):
            setattr(gm, attr, getattr(model, attr))
    return gm, named


def _structural_blocks(model: nn.Module) -> list[tuple[str, nn.Module]]:
    out: list[tuple[str, nn.Module]] = []
    for name, child in model.named_children():
        parts = (
            list(child.named_children())
            if isinstance(child, nn.Sequential | nn.ModuleList)
            else [("", child)]
        )
        for sub, m in parts:
            if any(True for _ in m.parameters()):
                out.append((f"{name}.{sub}" if sub else name, m))
    return out


def block_view(
    model: nn.Module, func: str, *, explicit: bool = True
) -> tuple[nn.Module, list[tuple[str, nn.Module]], str]:
    """The module to run, the block markers to hook, and how they were found.

    ``how`` is ``"fx"`` (traced) or ``"modules"`` (module structure). With
    ``explicit=False`` (the probes' default selection) the fallback is silent and
    returns ``how="none"`` with no modules, so the caller can use another default.
    """
    hit = _cache.get(model)
    if hit is not None and hit[0] == _signature(model):
        return hit[1], hit[2], "fx"
    traced = _traced_blocks(model)
    if traced is not None:
        gm, named = traced
        _cache[model] = (_signature(model), gm, named)
        return gm, named, "fx"
    if not explicit:
        return model, [], "none"
    named = _structural_blocks(model)
    if not named:
        raise param_error(
            "modules",
            func,
            "a selection with at least one block; 'blocks' found none in this model (it does "
            "not trace with torch.fx and has no child module with parameters)",
            "'blocks'",
        )
    warnings.warn(
        f"{type(model).__name__} does not trace with torch.fx, so its blocks were taken "
        "from its module structure (top-level children, Sequential stages expanded): "
        "functional activations and residual sums between them are not seen as layers",
        BlocksFallbackWarning,
        stacklevel=user_stacklevel(),
    )
    return model, named, "modules"


def _signature(model: nn.Module) -> tuple[int, ...]:
    """Changes when a submodule is added, removed or replaced."""
    return tuple(id(m) for m in model.modules())


def user_stacklevel() -> int:
    """The stacklevel of ``warnings.warn`` that names the first frame outside crackle
    (and torch): the user's line."""
    import contextlib
    import os
    import sys

    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # .../crackle
    torch_dir = os.path.dirname(os.path.abspath(torch.__file__))
    skip = (here + os.sep, torch_dir + os.sep, os.path.abspath(contextlib.__file__))
    frame = sys._getframe(1)  # the caller, which calls warnings.warn: stacklevel 1
    level = 1
    while frame is not None:
        if not os.path.abspath(frame.f_code.co_filename).startswith(skip):
            return level
        frame = frame.f_back  # type: ignore[assignment]
        level += 1
    return 1
