"""The tutorial notebooks (jupytext percent scripts in notebooks/) run from top to bottom.

Each is converted with jupytext and executed by nbclient in a fresh kernel, in a
temporary working directory, as a reader would run it in Jupyter.
"""

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.py"))
NEEDED = ("jupytext", "nbclient", "ipykernel")


def test_there_are_tutorials():
    assert {p.stem for p in NOTEBOOKS} >= {"demo", "spikes", "model_probe"}


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path, tmp_path, monkeypatch):
    missing = [m for m in NEEDED if importlib.util.find_spec(m) is None]
    if missing:
        pytest.skip(f"the notebook packages are not installed: {', '.join(missing)}")
    import jupytext
    from nbclient import NotebookClient

    if path.stem in ("model_probe",) and importlib.util.find_spec("torch") is None:
        pytest.skip("torch is not installed (pip install crackle[nn])")
    nb = jupytext.read(path)
    assert sum(c.cell_type == "code" for c in nb.cells) >= 3
    # One thread per kernel and a headless backend: the suite runs two workers at once.
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    client = NotebookClient(
        nb,
        kernel_name="python3",
        timeout=180,
        resources={"metadata": {"path": str(tmp_path)}},
    )  # the kernel inherits the environment set above
    client.execute()  # raises CellExecutionError, with the cell and its traceback
    errors = [
        o
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if o.get("output_type") == "error"
    ]
    assert not errors
