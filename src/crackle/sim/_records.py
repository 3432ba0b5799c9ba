"""From what a simulator recorded layer by layer (which inputs, their signal strength,
whether still in their avalanche) to the avalanches of each weight draw."""

from __future__ import annotations

import numpy as np
import torch

from crackle.events.avalanches import Avalanches
from crackle.events.shapes import ShapeSums


def to_avalanches(
    sizes: list[int],
    k: int,
    rec_ids: list[torch.Tensor],
    rec_q: list[torch.Tensor],
    rec_on: list[torch.Tensor],
    overflow: torch.Tensor,
    still_alive: torch.Tensor,
    max_shape: int | None,
    baseline: float = 0.0,
    rec_layer: list[torch.Tensor] | None = None,
    scale: float = 1.0,
) -> list[Avalanches]:
    """Avalanches per draw; sizes and profiles are ``scale`` times the recorded q^l
    minus ``baseline`` (the simulator passes scale = N, the width, and baseline 0 for
    the total size S = N sum q^l, q0 for the excess S - N q0 T = N sum (q^l - q0)).

    Entry i of a record is input ``rec_ids[s][i]`` at layer s, or at layer
    ``rec_layer[s][i]`` where inputs enter the batch at different steps; an input's
    entries come in the order of its layers. Inputs in ``still_alive`` (above threshold
    at the last layer) and those that overflowed are censored."""
    n_layers, total = len(rec_ids), len(sizes) * k
    if n_layers:
        on = torch.cat(rec_on)
        ids = torch.cat(rec_ids)[on].cpu().numpy()
        q = (torch.cat(rec_q)[on].cpu().numpy().astype(np.float64) - baseline) * scale
        if rec_layer is None:
            counts = torch.stack([r.sum() for r in rec_on]).cpu().numpy()
            pos = np.repeat(np.arange(n_layers), counts)
        else:
            pos = torch.cat(rec_layer)[on].cpu().numpy().astype(np.int64)
    else:
        ids, q, pos = np.zeros(0, np.int64), np.zeros(0), np.zeros(0, np.int64)
    # Layer by layer, in order: a sequential sum, bit-identical however draws are chunked.
    size_all = np.bincount(ids, weights=q, minlength=total).astype(np.float64)
    dur_all = np.bincount(ids, minlength=total).astype(np.int64)
    over_all = overflow.cpu().numpy()
    cens_all = np.zeros(total, dtype=bool)
    cens_all[still_alive.cpu().numpy()] = True  # above threshold at the last layer
    cens_all |= over_all
    # Entries grouped by draw once (stable: layer order kept within a draw); a single
    # draw (every group on a CPU) takes them all, as views.
    mine_of: list[slice | np.ndarray] = [slice(None)]
    if len(sizes) > 1:
        draw_of = ids // k
        order = np.argsort(draw_of, kind="stable")
        bounds = np.searchsorted(draw_of[order], np.arange(len(sizes) + 1))
        mine_of = [order[bounds[d] : bounds[d + 1]] for d in range(len(sizes))]
    out = []
    for d, size in enumerate(sizes):
        lo, hi = d * k, d * k + size
        dur, over, censored = dur_all[lo:hi], over_all[lo:hi], cens_all[lo:hi]
        sz = size_all[lo:hi]
        complete = ~censored & (dur > 0)
        shapes = None
        if max_shape is not None:
            mine = mine_of[d]
            local = ids[mine] - lo if lo else ids[mine]
            keep = complete[local]
            shapes = ShapeSums.from_flat(
                dur[local[keep]], pos[mine][keep], q[mine][keep], dur[complete], max_shape
            )
        out.append(
            Avalanches(
                sz[complete],
                dur[complete],
                sz[censored],
                dur[censored],
                shapes,
                int(((dur == 0) & ~censored).sum()),
                {"n_overflow": int(over.sum())},
            )
        )
    return out
