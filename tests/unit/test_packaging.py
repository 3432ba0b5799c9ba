"""Packaging promises: a light import, lazy public names, extras with one-line errors,
the release files and one version everywhere."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import crackle as ck
from crackle._extras import EXTRAS, MissingExtraError, as_missing_extra, require

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))

# Optional packages (those an extra installs): a subprocess that starts with BLOCK
# behaves as if they were not installed (``import torch`` raises ModuleNotFoundError
# naming torch, and torch never enters sys.modules). pydantic stays: typer requires it
# and imports it to convert options, so every install of crackle has it.
OPTIONAL = sorted(set(EXTRAS) - {"pydantic"})
BLOCK = f"""
import importlib.abc, sys
class _NotInstalled(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {OPTIONAL!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
sys.meta_path.insert(0, _NotInstalled())
"""

# Every package whose __init__ exports names lazily.
LAZY_PACKAGES = [
    "crackle",
    "crackle.events",
    "crackle.stats",
    "crackle.io",
    "crackle.sim",
    "crackle.sweep",
    "crackle.train",
    "crackle.experiments",
]


def run_python(code: str, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=cwd
    )


def loaded_modules(statement: str) -> set[str]:
    code = f"{statement}\nimport sys\nprint('\\n'.join(sorted(sys.modules)))"
    out = run_python(code)
    assert out.returncode == 0, out.stderr
    return set(out.stdout.split())


# --- fast import -----------------------------------------------------------------


def test_import_crackle_loads_nothing_beyond_numpy():
    extra = loaded_modules("import crackle") - loaded_modules("import numpy")
    tops = {m.split(".")[0] for m in extra} - set(sys.stdlib_module_names)
    assert tops <= {"crackle", "numpy"}, tops  # numpy.typing for the annotations
    assert "crackle.stats" not in extra  # the statistics load on first use


@pytest.mark.parametrize(
    "module", ["torch", "dask", "distributed", "matplotlib", "scipy", "pandas", "pyarrow"]
)
def test_import_crackle_does_not_load(module):
    assert module not in loaded_modules("import crackle")


def test_crackle_help_does_not_load_the_statistics():
    mods = loaded_modules(
        "import sys; sys.argv = ['crackle', '--help']\n"
        "from crackle.cli.main import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass"
    )
    for heavy in ("scipy", "matplotlib", "pandas", "pyarrow", "torch", "crackle.stats"):
        assert heavy not in mods, heavy


def test_fit_power_law_loads_the_fits_but_not_the_other_statistics():
    mods = loaded_modules("from crackle import fit_power_law")
    assert "crackle.stats.powerlaw" in mods
    for other in ("crackle.stats.branching", "scipy.signal", "matplotlib", "torch"):
        assert other not in mods, other


@pytest.mark.parametrize("package", LAZY_PACKAGES)
def test_every_exported_name_resolves_and_is_listed(package):
    mod = importlib.import_module(package)
    for name in mod.__all__:
        value = getattr(mod, name)
        assert value is not None, (package, name)
        assert name in dir(mod), (package, name)
    with pytest.raises(AttributeError, match="no attribute 'no_such_name'"):
        mod.no_such_name  # noqa: B018


def test_lazy_names_are_the_defining_objects():
    from crackle.stats.powerlaw import fit_power_law

    assert ck.fit_power_law is fit_power_law
    assert ck.stats.fit_power_law is fit_power_law
    assert ck.meanfield is importlib.import_module("crackle.theory.meanfield")
    assert ck.sim is importlib.import_module("crackle.sim")


def test_star_import_gives_every_public_name():
    ns: dict[str, object] = {}
    exec("from crackle import *", ns)
    assert set(ck.__all__) <= set(ns)


# --- extras ----------------------------------------------------------------------


def test_require_names_the_extra():
    with pytest.raises(MissingExtraError) as info:
        require("crackle_no_such_module", extra="nn", feature="crackle.nn")
    assert str(info.value) == ("crackle.nn needs crackle_no_such_module: pip install 'crackle[nn]'")
    assert isinstance(info.value, ModuleNotFoundError)


def test_require_looks_the_extra_up(monkeypatch):
    monkeypatch.setitem(sys.modules, "pynwb", None)
    with pytest.raises(
        MissingExtraError, match=r"^x needs pynwb: pip install 'crackle\[neural\]'$"
    ):
        require("pynwb", feature="x")


def test_require_keeps_a_broken_installed_package_s_own_error(tmp_path, monkeypatch):
    # An installed package that fails to import because one of *its* dependencies is
    # missing is not a missing extra: its own error must come through.
    (tmp_path / "brokenpkg").mkdir()
    (tmp_path / "brokenpkg" / "__init__.py").write_text("import crackle_missing_dep\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ModuleNotFoundError) as info:
        require("brokenpkg", extra="nn")
    assert not isinstance(info.value, MissingExtraError)
    assert info.value.name == "crackle_missing_dep"


def test_as_missing_extra_only_for_known_modules():
    exc = as_missing_extra(ModuleNotFoundError("No module named 'dask'", name="dask"))
    assert str(exc) == "this feature needs dask[distributed]: pip install 'crackle[sweep]'"
    assert as_missing_extra(ModuleNotFoundError("x", name="crackle_typo")) is None


def test_every_extra_module_belongs_to_a_declared_extra():
    extras = PYPROJECT["project"]["optional-dependencies"]
    for module, (dist, extra) in EXTRAS.items():
        assert extra in extras, (module, extra)
        declared = " ".join(extras[extra]).lower()
        assert dist.split("[")[0].lower() in declared, (module, dist, extra)


def test_core_dependencies_hold_no_optional_package():
    core = " ".join(PYPROJECT["project"]["dependencies"]).lower()
    for dist in ("torch", "dask", "pydantic", "xarray", "netcdf4", "scikit-learn"):
        assert dist not in core, dist


def test_all_and_test_extras_pull_in_every_extra():
    extras = PYPROJECT["project"]["optional-dependencies"]
    runtime = set(extras) - {"all", "test", "docs"}
    (all_spec,) = extras["all"]
    assert set(re.search(r"\[(.*)\]", all_spec).group(1).split(",")) == runtime
    assert "crackle[all,docs]" in extras["test"]


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        ("import crackle.nn", "crackle.nn needs torch: pip install 'crackle[nn]'"),
        (
            "import crackle as ck; ck.sim.gaussian_avalanches",
            "crackle.sim.gaussian_avalanches needs torch: pip install 'crackle[nn]'",
        ),
        (
            "import crackle.experiments as e; e.finite_size_scaling",
            "crackle.experiments.finite_size_scaling needs torch: pip install 'crackle[nn]'",
        ),
        (
            "import crackle.train as t; t.CriticalityPenalty",
            "crackle.train.CriticalityPenalty needs torch: pip install 'crackle[nn]'",
        ),
        (
            "import crackle.sweep as s; s.run_sweep",
            "crackle.sweep.run_sweep needs dask[distributed]: pip install 'crackle[sweep]'",
        ),
        (
            "import crackle as ck; ck.meanfield",
            "crackle.meanfield needs xarray: pip install 'crackle[theory]'",
        ),
    ],
)
def test_missing_extra_is_one_line(statement, message):
    out = run_python(BLOCK + statement)
    assert out.returncode == 1
    last = out.stderr.strip().splitlines()[-1]
    assert last == f"crackle._extras.MissingExtraError: {message}"


def test_numpy_only_parts_work_without_any_extra():
    code = BLOCK + (
        "import crackle as ck, crackle.train as t, crackle.sweep as s\n"
        "av = ck.sim.branching_process(1.0, 300, seed=1)\n"
        "print(ck.fit_power_law(av.sizes, discrete=True).xmin >= 1, s.point_seed is not None,"
        " t.load_text is not None)"
    )
    out = run_python(code)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True", "True", "True"]


def test_cli_turns_a_missing_extra_into_one_line_and_exit_2(tmp_path):
    code = BLOCK + "from crackle.cli.main import main\nmain()"
    out = run_python(code, "simulate", "gaussian", "-o", str(tmp_path / "g"), cwd=tmp_path)
    assert out.returncode == 2, out.stderr
    assert out.stderr.strip() == "error: this feature needs torch: pip install 'crackle[nn]'"


def test_cli_help_works_without_any_extra():
    # Command modules import the library inside their functions: a top-level import of
    # torch, Dask or xarray in any of them would break every command of a core install.
    code = BLOCK + "from crackle.cli.main import main\nmain()"
    out = run_python(code, "--help")
    assert out.returncode == 0, out.stderr
    for command in ("analyze", "demo", "simulate", "meanfield", "probe", "sweep", "report"):
        assert command in out.stdout, command
    for group in ("simulate", "experiment"):
        out = run_python(code, group, "--help")
        assert out.returncode == 0, out.stderr


@pytest.mark.slow
def test_cli_analyze_a_csv_without_any_extra(tmp_path):
    rng_code = (
        "import numpy as np\n"
        "from crackle.sim import branching_process\n"
        "av = branching_process(1.0, 400, seed=3)\n"
        "np.savetxt('av.csv', np.c_[av.sizes, av.durations], delimiter=',',"
        " header='size,duration', comments='', fmt='%d')\n"
    )
    assert run_python(rng_code, cwd=tmp_path).returncode == 0
    code = BLOCK + "from crackle.cli.main import main\nmain()"
    out = run_python(code, "analyze", "av.csv", "--n-boot", "0", "-o", "out", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "out" / "report.json").is_file()
    assert (tmp_path / "out" / "figures" / "sizes_ccdf.png").is_file()


# --- release files and the version -----------------------------------------------


def test_version_has_one_source():
    from crackle._version import __version__

    assert ck.__version__ == __version__
    assert PYPROJECT["project"]["dynamic"] == ["version"]
    assert "version" not in PYPROJECT["project"]
    attr = PYPROJECT["tool"]["setuptools"]["dynamic"]["version"]["attr"]
    assert attr == "crackle._version.__version__"
    assert re.fullmatch(r"\d+\.\d+\.\d+([ab]|rc|\.dev)?\d*", __version__)


@pytest.mark.parametrize("argv", [["-m", "crackle"], ["-m", "crackle.cli.main"]])
def test_version_option(argv):
    out = subprocess.run([sys.executable, *argv, "--version"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"crackle {ck.__version__}"


def test_python_m_crackle_is_the_command():
    out = subprocess.run(
        [sys.executable, "-m", "crackle", "--help"], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert "Usage: crackle" in out.stdout
    for command in ("analyze", "demo", "simulate", "meanfield"):
        assert command in out.stdout


def test_license_is_bsd_3_clause():
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("BSD 3-Clause License")
    assert "crackle developers" in text
    assert "Neither the name of the copyright holder" in text
    assert PYPROJECT["project"]["license"] == "BSD-3-Clause"
    assert PYPROJECT["project"]["license-files"] == ["LICENSE"]


def test_citation_cff():
    yaml = pytest.importorskip("yaml")  # PyYAML comes with the docs extra (mkdocs)
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    assert cff["cff-version"] == "1.2.0"
    assert cff["type"] == "software"
    assert cff["version"] == ck.__version__
    assert cff["license"] == PYPROJECT["project"]["license"]
    assert cff["authors"] == [{"name": "crackle developers"}]
    refs = {r["url"].rsplit("/", 1)[-1]: r for r in cff["references"]}
    assert set(refs) == {"2509.22649", "2507.08527", "2606.10384"}
    assert refs["2509.22649"]["title"] == "Toward a Physics of Deep Learning and Brains"
    assert refs["2509.22649"]["authors"][0] == {"family-names": "Ghavasieh"}
    assert refs["2507.08527"]["title"] == "Critical dynamics governs deep learning"
    assert [a["family-names"] for a in refs["2507.08527"]["authors"]] == ["Vock", "Meisel"]
    assert refs["2606.10384"]["title"] == (
        "Towards Critical Branching Mechanism in Recurrent Neural Networks"
    )
    assert [a["family-names"] for a in refs["2606.10384"]["authors"]] == ["Ren", "Feng"]
    for arxiv, ref in refs.items():
        assert ref["type"] == "article"
        assert ref["identifiers"] == [{"type": "other", "value": f"arXiv:{arxiv}"}]
        assert ref["year"] == 2000 + int(arxiv[:2])  # arXiv ids start with yymm


def test_changelog_follows_keep_a_changelog():
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert text.startswith("# Changelog\n")
    assert "keepachangelog.com" in text
    versions = re.findall(r"^## \[([^\]]+)\]", text, flags=re.MULTILINE)
    assert versions[0] == "Unreleased"
    assert ck.__version__ in versions
    sections = set(re.findall(r"^### (\w+)", text, flags=re.MULTILINE))
    assert sections <= {"Added", "Changed", "Deprecated", "Removed", "Fixed", "Security"}
