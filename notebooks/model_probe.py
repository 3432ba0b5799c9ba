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
# # Probing a PyTorch model
#
# The three measures of criticality of Vock & Meisel 2025 (arXiv 2507.08527) on any
# `torch.nn.Module`: the branching parameter sigma (1 at criticality), the largest
# Lyapunov exponent lambda_max (0 at criticality) and the dynamic range Delta. Here a
# small tanh MLP, initialised with weights N(0, sigma_w^2 / n_in) across the edge of
# chaos, which mean-field theory puts at sigma_w^2 = 1 for tanh without biases
# ([theory](../theory.md)).

# %%
import matplotlib.pyplot as plt
import torch

import crackle as ck

torch.set_num_threads(1)


def mlp(sigma_w2: float, width: int = 64, depth: int = 8, seed: int = 0) -> torch.nn.Module:
    """A tanh MLP with Gaussian weights of variance sigma_w2 / fan_in and no biases."""
    torch.manual_seed(seed)
    layers: list[torch.nn.Module] = []
    for _ in range(depth):
        lin = torch.nn.Linear(width, width, bias=False)
        torch.nn.init.normal_(lin.weight, std=(sigma_w2 / width) ** 0.5)
        layers += [lin, torch.nn.Tanh()]
    return torch.nn.Sequential(*layers).eval()


x = torch.randn(128, 64)

# %% [markdown]
# ## Recording a model
#
# `ck.nn.record` attaches forward hooks (removed on exit, the model unchanged) and
# keeps each module's signal strength per input.

# %%
net = mlp(1.0)
with ck.nn.record(net, modules="leaves") as rec:
    net(x)
print(rec.signals.shape, rec.names[:4])

# %% [markdown]
# ## The three measures across the edge of chaos

# %%
rows = []
for sigma_w2 in (0.5, 1.0, 2.0, 4.0):
    net = mlp(sigma_w2)
    b = ck.nn.branching_parameter(net, x, seed=0)
    ly = ck.nn.lyapunov_exponent(net, x, seed=0)
    dr = ck.nn.dynamic_range(net, x)
    rows.append((sigma_w2, b.value, ly.value, ly.stderr, dr.value))
    print(
        f"sigma_w^2 = {sigma_w2:3.1f}: sigma = {b.value:.3f}, "
        f"lambda_max = {ly.value:+.3f} ± {ly.stderr:.3f}, Delta = {dr.value:.1f} dB"
    )

# %% [markdown]
# The two dynamical measures need not agree at finite depth: lambda_max follows the
# direction that grows fastest (the top singular value of the input-output Jacobian),
# sigma averages random directions, which grow less ([theory](../theory.md)). In this
# run lambda_max is closest to 0 at sigma_w^2 = 1, where mean field puts the edge of
# chaos, while sigma reaches 1 only near sigma_w^2 = 2. Per-layer ratios show where a
# perturbation grows or dies:

# %%
ck.nn.branching_parameter(mlp(2.0), x, seed=0).plot()
plt.show()
