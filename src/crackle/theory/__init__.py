"""Theory stage: mean-field signal propagation (numpy/scipy, results as xarray)."""
