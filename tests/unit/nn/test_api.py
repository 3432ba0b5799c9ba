"""crackle.nn's public names, and the lazy import promise."""

import subprocess
import sys

import crackle as ck


def test_public_names_exist():
    for name in ck.nn.__all__:
        assert getattr(ck.nn, name) is not None, name
    for name in (
        "record",
        "branching_parameter",
        "lyapunov_exponent",
        "dynamic_range",
        "resnet18",
        "resnet34",
        "resnet50",
        "load_checkpoint",
    ):
        assert name in ck.nn.__all__


def test_import_crackle_still_does_not_import_torch():
    code = "import sys, crackle; print('torch' in sys.modules, 'crackle.nn' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
