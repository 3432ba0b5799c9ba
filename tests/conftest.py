"""Shared fixtures. Plotting runs headless."""

import matplotlib

matplotlib.use("Agg")
