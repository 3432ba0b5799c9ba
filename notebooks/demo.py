# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # The demo, step by step
#
# `crackle demo` in a notebook, smaller: a critical branching process, whose exponents
# are known exactly, and a Gaussian-initialised tanh network near its finite-width
# critical point (Ghavasieh et al. 2025, arXiv 2509.22649), each cut into avalanches
# and put through the crackling-noise battery. [The theory page](../theory.md) gives
# the definitions.

# %%
import matplotlib.pyplot as plt

import crackle as ck
from crackle.sim import branching_process, gaussian_avalanches

# %% [markdown]
# ## A ground truth: the critical branching process
#
# A Galton-Watson process with Poisson(1) offspring has tau = 3/2, alpha = 2 and
# 1/(sigma nu z) = 2 (mean-field directed percolation). Each avalanche starts from one
# unit; the ones still running at the cap are censored and never fitted.

# %%
av = branching_process(m=1.0, n=50_000, seed=0)
print(av)

# %% [markdown]
# A power law for the sizes, by maximum likelihood with x_min chosen by the smallest
# Kolmogorov-Smirnov distance (Clauset, Shalizi & Newman 2009):

# %%
fit = ck.fit_power_law(av.sizes, discrete=True)
print(
    f"tau = {fit.exponent:.3f} ± {fit.exponent_err:.3f} from x_min = {fit.xmin:g} ({fit.n_tail} avalanches)"
)
R, p = fit.compare("lognormal")
print(f"against a lognormal: R = {R:.2f}, p = {p:.2f}")
fit.plot()
plt.show()

# %% [markdown]
# The whole battery at once: exponents with statistical and systematic errors, the
# scaling relation (alpha - 1)/(tau - 1) = 1/(sigma nu z), shape collapse, the nearest
# universality class and a calibrated verdict.

# %%
rep = ck.crackling_report(av)
print(rep.verdict.outcome, "-", rep.nearest.name)
for row in rep.summary():
    print(row)

# %%
rep.plot()
plt.show()

# %% [markdown]
# ## A deep tanh network
#
# 20,000 inputs of signal strength q0 = 10^-3 go through a tanh network of width 64
# and depth 200 at sigma_w^2 = 1 + 2/N; an input's avalanche lasts while its
# layer-by-layer signal strength q^l stays above q0. `method="marginal"` draws each
# avalanche from its exact law without forming the weights.

# %%
width = 64
net_av = gaussian_avalanches(
    width=width,
    depth=200,
    sigma_w2=1 + 2 / width,
    n=20_000,
    q0=1e-3,
    seed=0,
    method="marginal",
    sizes="excess",
    device="cpu",
)
net_rep = ck.crackling_report(net_av)
print(net_av.n, "complete avalanches,", net_av.n_censored, "censored")
print(net_rep.verdict.outcome)
for reason in net_rep.verdict.reasons:
    print(" -", reason)

# %% [markdown]
# Finite networks are the ambiguous case: the exponents depend on the fitting window,
# which the scan of the size exponent against x_min shows (the systematic error is the
# spread over the plateau).

# %%
net_rep.size_scan.plot()
plt.show()

# %% [markdown]
# `to_dict()` gives everything as JSON-safe values, the form `crackle demo` writes to
# `report.json`.

# %%
d = net_rep.to_dict()
sorted(d)[:10]
