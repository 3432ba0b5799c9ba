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
# # A spike data set, end to end
#
# Spike times from a driven branching network of known branching ratio (Wilting &
# Priesemann 2018), written to a file as a recording would be, read back with
# `ck.read_spikes`, binned at the mean inter-event interval (Beggs & Plenz 2003), and
# analysed: the multistep-regression branching ratio and the crackling report.
# [Spike recordings](../neural.md) covers the same ground in more depth.

# %%
import matplotlib.pyplot as plt
import pandas as pd

import crackle as ck
from crackle.sim.spiking import branching_network_spikes

# %% [markdown]
# ## A recording with a known answer
#
# 100 units, m = 0.98 per 4 ms step, a weak drive of 0.02 events per step, 400 s.

# %%
m_true, dt = 0.98, 0.004
sim = branching_network_spikes(m_true, 0.02, 100, 100_000, dt=dt, seed=1)
print(sim.n_spikes, "spikes from", sim.n_units, "units")

# %% [markdown]
# Written as a table with one row per spike, as spike sorters export them (CSV here;
# Parquet, NPZ, NWB and Neo files are read the same way):

# %%
pd.DataFrame({"unit": sim.units, "time": sim.times}).to_csv("recording.csv", index=False)
spikes = ck.read_spikes("recording.csv")
print(spikes)

# %% [markdown]
# ## Binning and the branching ratio
#
# Binned at the mean inter-event interval of the pooled train, the per-bin branching
# ratio is m^(width/dt). Multistep regression fits r_k = b m^k to the regression slopes
# of A_{t+k} on A_t, which subsampling does not bias.

# %%
binned = ck.bin_spikes(spikes, "iei")
print(f"bin width {binned.width * 1e3:.2f} ms")
est = ck.branching_ratio(binned.counts, method="mr", kmax=250, dt=binned.width)
print(f"m = {est.m:.4f} ± {est.m_stderr:.4f} (true per bin: {m_true ** (binned.width / dt):.4f})")
est.plot()
plt.show()

# %% [markdown]
# ## Avalanches and the crackling report

# %%
av = ck.avalanches_from_counts(binned.counts)
rep = ck.crackling_report(av)
print(rep.verdict.outcome, "-", rep.nearest.name)
for row in rep.summary():
    print(row)

# %%
rep.plot()
plt.show()
