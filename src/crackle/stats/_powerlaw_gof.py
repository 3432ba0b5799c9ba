"""The bootstrap goodness of fit behind :meth:`crackle.stats.PowerLawFit.gof` (private).

Two ways to make the synthetic data sets and refit them: Clauset, Shalizi & Newman's
(2009, sec. 4.1) semi-parametric bootstrap with the whole xmin procedure refitted, and
a fixed window (xmin and xmax held), where each replicate is n_tail draws from the
fitted law. Both return the KS distance of every replicate (NaN where a refit failed).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from crackle._validation import CrackleValueError
from crackle.stats import _powerlaw_core as core
from crackle.stats._powerlaw_fitting import fit_sorted
from crackle.stats._powerlaw_sampling import sample_continuous, sample_discrete, sample_sorted

if TYPE_CHECKING:
    from crackle.stats.powerlaw import PowerLawFit

FloatArray = core.FloatArray


def ks_refit_procedure(fit: PowerLawFit, n_boot: int, rng: np.random.Generator) -> FloatArray:
    """Each data set as many values as the fit used: with probability n_tail / n_used
    from the fitted law on [xmin, xmax], else resampled from the observed values below
    xmin; refitted with the same xmin procedure, KS variant and min_tail."""
    used = fit._used()
    below = used[used < fit.xmin]
    p_tail = fit.n_tail / used.size
    ks_boot = np.full(n_boot, np.nan)
    xmax_int = None if fit.xmax is None else int(fit.xmax)
    for b in range(n_boot):
        m = int(rng.binomial(used.size, p_tail)) if below.size else used.size
        if fit.discrete:
            tail = sample_discrete(fit.exponent, int(fit.xmin), xmax_int, m, rng)
        else:
            tail = sample_continuous(fit.exponent, fit.xmin, fit.xmax, m, rng)
        low = rng.choice(below, used.size - m) if below.size else np.empty(0)
        synth = np.sort(np.concatenate([tail, low]))
        try:
            res = fit_sorted(
                synth, fit.discrete, fit._xmin_arg, fit.xmax, fit.min_tail, fit.ks_variant == "sup"
            )
        except CrackleValueError:
            continue
        ks_boot[b] = res["ks"]
    return ks_boot


def ks_fixed_window(fit: PowerLawFit, n_boot: int, rng: np.random.Generator) -> FloatArray:
    """n_tail draws from the fitted law on [xmin, xmax], refitted at the same xmin.

    With the window fixed, the MLE depends on a sample only through its mean log, so
    all replicates are solved in one vectorised Newton iteration.
    """
    out = np.full(n_boot, np.nan)
    xmax_arg = None if fit.xmax is None else (int(fit.xmax) if fit.discrete else fit.xmax)
    idx, preps = [], []
    for b in range(n_boot):
        synth = sample_sorted(fit.exponent, fit.xmin, xmax_arg, fit.n_tail, fit.discrete, rng)
        if synth[0] != synth[-1]:
            idx.append(b)
            preps.append(core.prepare(synth, fit.discrete, fit.xmax))
    if not preps:
        return out
    mean_log = np.array([p.slog[0] / p.n for p in preps])
    u = np.full(len(preps), float(fit.xmin))
    alpha, _, ok = core.mle(preps[0], mean_log, u)
    lz = core.log_norm(preps[0], alpha, u)
    sup = fit.ks_variant == "sup"
    for j, (b, prep) in enumerate(zip(idx, preps, strict=True)):
        if ok[j]:
            out[b] = core.ks_exact(prep, float(alpha[j]), float(lz[j]), 0, sup, fit.xmin)
    return out
