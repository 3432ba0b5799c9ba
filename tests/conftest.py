"""Shared fixtures. Plotting runs headless; property-based tests are reproducible.

Hypothesis profiles: ``ci`` (the default) draws the same examples on every run, so the
suite passes or fails the same way on every machine; ``explore`` draws new random
examples and more of them, to hunt for new failures:

    HYPOTHESIS_PROFILE=explore .venv/bin/python -m pytest tests/fuzz
"""

import os

import matplotlib
from hypothesis import settings

matplotlib.use("Agg")

settings.register_profile("ci", derandomize=True, database=None)
settings.register_profile("explore", max_examples=500)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
