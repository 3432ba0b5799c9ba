"""Method 'marginal' of the Gaussian-network simulator: each input's trajectory drawn
from its exact conditional law, one number of state per input.

Given the previous layer's output h (N numbers), fresh weights make the pre-activations
independent N(0, v) with v = sigma_w^2 |h|^2 / N + sigma_b^2, so z = sqrt(v) xi with xi
standard normal, and the next layer needs only the next v, a function of
|phi(sqrt(v) xi)|^2. An input's state between layers is therefore the number v (and its
layer); the N numbers of a layer live only inside it, in one reused buffer: per layer and
input, N normal numbers, one scaling, the activation and two sums of squares, no copy.

Inputs are independent, so the batch is refilled as avalanches end (inputs at different
layers side by side): every step carries a full buffer, and the few long avalanches do
not leave hundreds of nearly empty steps, each paying the per-step overhead, at the end
of every block. What is not needed to steer the batch (overflows, censoring, each
entry's layer) is worked out once from the records, not step by step.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from crackle.events.avalanches import Avalanches
from crackle.sim._records import to_avalanches


def run_marginal(
    k: int,
    capacity: int,
    width: int,
    depth: int,
    sw: float,
    sb: float,
    q0: float,
    phi_: Callable[[torch.Tensor], torch.Tensor],
    fill_: Callable[[torch.Tensor], torch.Tensor],
    dev: torch.device,
    dt: torch.dtype,
    max_shape: int | None,
    compact_every: int,
    baseline: float = 0.0,
    scale: float = 1.0,
) -> Avalanches:
    """The avalanches of ``k`` independent inputs of per-neuron signal strength ``q0``.

    At most ``capacity`` inputs are in the batch at once; inputs enter in order as others
    leave. ``phi_`` is the activation, applied in place where it can be. Inputs whose
    avalanche ended stay in the batch, masked, for up to ``compact_every`` steps (on a
    GPU a compaction waits for the device); the batch is refilled at compactions. Per
    step, ``width`` standard normal numbers for each row of the batch, in order, from
    ``fill_`` (which overwrites a contiguous tensor with the next numbers of a stream).
    Sizes and profiles are ``scale`` (q^l - ``baseline``), as in :func:`to_avalanches`.
    """
    # State per row: the input, the step it entered at, whether its avalanche goes on,
    # and v / N for its next layer. The first layer sees the raw input, whose
    # |x|^2 / N is exactly q0 (Poole et al.): its direction does not enter the law, so
    # it is not drawn.
    v_first = (sw * q0 + sb) / width
    m = min(k, capacity)
    ids = torch.arange(m, dtype=torch.int32, device=dev)  # records: 4 bytes per entry
    entry = torch.zeros(m, dtype=torch.int32, device=dev)
    alive = torch.ones(m, dtype=torch.bool, device=dev)
    var_n = torch.full((m,), v_first, dtype=dt, device=dev)
    entered = m
    buf = torch.empty((m, width), dtype=dt, device=dev)
    # Rows not alive at the start of a step exist only between compactions; with a
    # compaction after every step (a CPU) every row is, and 'in' is not recorded.
    masked = compact_every > 1
    rec: dict[str, list[torch.Tensor]] = {"ids": [], "q": [], "in": [], "entry": []}
    step = 0
    while True:
        xi = fill_(buf[: ids.shape[0]])
        q = torch.linalg.vector_norm(xi, dim=1).square_().mul_(var_n)  # |z|^2 / N
        rec["ids"].append(ids)
        rec["q"].append(q)
        rec["entry"].append(entry)
        if masked:
            rec["in"].append(alive)
        # On while above threshold and finite (NaN fails both), up to the last layer.
        alive = alive & (q > q0) & (q < np.inf) & (entry > step + 1 - depth)
        # Rows that just ended get values nobody reads (inf or NaN after an overflow).
        h = phi_(xi.mul_(var_n.mul(width).sqrt_()[:, None]))
        var_n = torch.linalg.vector_norm(h, dim=1).square_().mul_(sw / width**2).add_(sb / width)
        step += 1
        if step % compact_every == 0:
            live = alive.nonzero().squeeze(1)  # one synchronisation per stretch
            new = min(capacity - live.shape[0], k - entered)
            if live.shape[0] == 0 and new == 0:
                break
            if live.shape[0] < ids.shape[0]:
                ids, entry, var_n = (t.index_select(0, live) for t in (ids, entry, var_n))
                alive = alive.index_select(0, live)
            if new > 0:
                fresh = torch.arange(entered, entered + new, dtype=torch.int32, device=dev)
                ids = torch.cat([ids, fresh])
                entry = torch.cat([entry, entry.new_full((new,), step)])
                alive = torch.cat([alive, alive.new_ones(new)])
                var_n = torch.cat([var_n, var_n.new_full((new,), v_first)])
                entered += new
    ids_all, q_all = torch.cat(rec["ids"]), torch.cat(rec["q"])
    # Entry i of step s is its input's layer s - entry; records are in step order.
    steps = torch.repeat_interleave(
        torch.arange(len(rec["q"]), device=dev, dtype=torch.int32),
        torch.tensor([len(r) for r in rec["q"]], device=dev),
    )
    layer = steps - torch.cat(rec["entry"])
    finite = torch.isfinite(q_all)
    overflow = torch.zeros(k, dtype=torch.bool, device=dev)
    on = finite & (q_all > q0)
    if masked:
        was_in = torch.cat(rec["in"])
        overflow[ids_all[was_in & ~finite].long()] = True
        on &= was_in
    else:
        overflow[ids_all[~finite].long()] = True
    # Censored: still on at the last layer (an avalanche is on from its first layer on).
    still = ids_all[on & (layer == depth - 1)].long()
    return to_avalanches(
        [k], k, [ids_all], [q_all], [on], overflow, still, max_shape, baseline, [layer], scale
    )[0]
