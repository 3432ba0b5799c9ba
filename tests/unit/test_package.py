"""Package-level promises: import cost, public names, lazy submodules."""

import subprocess
import sys

import crackle as ck


def test_import_crackle_does_not_import_torch():
    code = "import sys, crackle; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_public_names_exist():
    for name in ck.__all__:
        assert getattr(ck, name) is not None, name


def test_sim_is_lazy_and_reachable():
    from crackle.sim import branching_process

    assert ck.sim.branching_process is branching_process


def test_branching_process_does_not_import_torch_but_finite_width_is_reachable():
    code = (
        "import sys; from crackle.sim import branching_process; a = 'torch' in sys.modules; "
        "import crackle.sim as s; f = s.simulate_finite_width; print(a, 'torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True"]
