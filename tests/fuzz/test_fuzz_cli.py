"""Fuzz of the command line: hostile arguments give exit code 0, 1 or 2 and at most
one error line, never a traceback."""

import errno
import json
from collections import Counter

import numpy as np
import pytest
from typer.testing import CliRunner

from crackle.cli.main import _register, app

_register()
runner = CliRunner()

BAD_NUMBERS = ["0", "-1", "nan", "inf", "1e308", "x", "[red]1"]
BAD_PATHS = ["[/x].csv", "[bold]x.parquet", "nope/none.npz", "", "."]


def _garbage_files(d):
    files = {}
    for suffix, content in [
        (".csv", "a,b\n1,2\n"),
        (".csv", "size,duration\nnan,1\n-1,2\n"),
        (".parquet", "not parquet"),
        (".npy", "not npy"),
        (".npz", "not npz"),
        (".txt", "whatever"),
        (".nwb", "junk"),
    ]:
        f = d / f"[x]bad{len(files)}{suffix}"
        f.write_text(content)
        files[f.name] = f
    np.save(d / "obj.npy", np.array([object()], dtype=object), allow_pickle=True)
    files["obj.npy"] = d / "obj.npy"
    return files


def _others(defaults, opt):  # the valid small settings, less the fuzzed option
    return [a for k, v in defaults.items() if k != opt for a in (k, v)]


def _cli_cases(tmp, group="all"):
    """The CLI cases: ``group`` "core" (simulate, meanfield, analyze, report, sweep),
    "probe-demo", or "all"."""
    out = str(tmp / "o")
    if group == "probe-demo":
        return _probe_and_demo_cases(tmp, out, _others)
    cases = []
    others = _others

    sim = {"--n": "50", "--width": "8", "--depth": "10"}
    mf = {"--n-w": "4", "--n-b": "4", "--n-hermite": "32"}
    for v in BAD_NUMBERS:
        for opt in ("--width", "--depth", "--n", "--q0", "--sigma-w2", "--resample-every"):
            cases.append(
                ["simulate", "gaussian", opt, v, *others(sim, opt), "--no-report", "-o", out]
            )
        for opt in ("--n-w", "--n-b", "--sw-min", "--sw-max", "--n-hermite"):
            cases.append(["meanfield", opt, v, *others(mf, opt), "-o", out])
        cases.append(["analyze", str(tmp / "ok.csv"), "--n-boot", v, "-o", out])
        cases.append(["analyze", str(tmp / "ok.csv"), "--size-xmax", v, "-o", out])
    cases.append(["simulate", "gaussian", "--device", "meta", "-o", out])
    cases.append(["simulate", "gaussian", "--activation", "[red]x", "-o", out])
    cases.append(["meanfield", "--n-w", "100000", "--n-b", "100000", "-o", out])
    for p in BAD_PATHS:
        cases += [["analyze", p], ["report", p], ["sweep", p]]
    for f in _garbage_files(tmp).values():
        cases.append(["analyze", str(f), "-o", out])
    for name, content in [
        ("sweep.json", "[]"),
        ("config.json", "[1, 2]"),
        ("config.json", '{"x": 1}'),
        ("report.json", "{bad"),
    ]:
        d = tmp / f"state-{name}-{len(cases)}"
        d.mkdir()
        (d / name).write_text(content)
        if name == "report.json":
            (d / "config.json").write_text('{"parameters": {}}')
        cases += [["report", str(d)], ["analyze", str(d)]]
    run = tmp / "run"
    run.mkdir()
    (run / "avalanches.parquet").write_text("junk")
    (run / "shapes.npz").write_text("junk")
    cases += [["analyze", str(run)], ["report", str(run), "--out", str(tmp)]]
    toml = tmp / "[x].toml"
    toml.write_text("experiment = [1")
    cases.append(["sweep", str(toml), "-o", out])
    if group == "all":
        cases += _probe_and_demo_cases(tmp, out, others)
    return cases


def _probe_and_demo_cases(tmp, out, others):
    """crackle probe and crackle demo: one option fuzzed at a time, the others small."""
    cases = []
    probe = {"--n": "4", "--batch-size": "4", "--seed": "0"}
    gauss = {"--n": "300", "--width": "8", "--depth": "10", "--seed": "0"}
    branch = {"--n": "300", "--m": "0.9", "--seed": "0"}
    for v in BAD_NUMBERS:
        for opt in probe:
            cases.append(["probe", "mlp-tanh", opt, v, *others(probe, opt), "-o", out])
        for opt in gauss:
            cases.append(["demo", "--source", "gaussian", opt, v, *others(gauss, opt), "-o", out])
        for opt in ("--n", "--m"):
            cases.append(["demo", "--source", "branching", opt, v, *others(branch, opt), "-o", out])
    small = [*others(probe, ""), "-o", out]
    garbage = _garbage_files(tmp)
    for bad in ("nope", "[red]x", "torchvision:", "os:system", "mymod:Missing", ""):
        cases.append(["probe", bad, *small])
    for f in garbage.values():
        cases.append(["probe", f"mlp-tanh={f}", *small])  # not a checkpoint
        cases.append(["probe", "mlp-tanh", "--inputs", str(f), *small])
    for opt, v in [
        ("--modules", "[red]none*"),
        ("--modules", ""),
        ("--kwargs", "{bad"),
        ("--kwargs", "[1]"),
        ("--device", "meta"),
        ("--device", "x"),
        ("--accuracy", "mlp-tanh"),
        ("--accuracy", "other=0.5"),
        ("--checkpoint", str(tmp / "none.pt")),
    ]:
        cases.append(["probe", "mlp-tanh", opt, v, *small])
    for opt, v in [("--source", "[red]x"), ("--sizes", "none"), ("--sizes", "")]:
        cases.append(["demo", opt, v, *others(gauss, ""), "-o", out])
    cases.append(["demo", *others(branch, ""), "-o", str(garbage["obj.npy"])])  # a file
    return cases


def run_cli(tmp, group="all"):
    """Counts of outcomes (tried, exit 0, exit 1, exit 2, traceback) and the failures."""
    (tmp / "ok.csv").write_text(
        "size,duration\n" + "\n".join(f"{i % 17 + 1},{i % 5 + 1}" for i in range(300))
    )
    counts, bad = Counter(), []
    for args in _cli_cases(tmp, group):
        res = runner.invoke(app, args)
        counts["tried"] += 1
        exc = res.exception
        if (exc is not None and not isinstance(exc, SystemExit)) or "Traceback" in res.output:
            counts["traceback"] += 1
            bad.append(f"{args}: {type(exc).__name__}: {exc}")
        elif res.exit_code not in (0, 1, 2):
            counts[f"exit {res.exit_code}"] += 1
            bad.append(f"{args}: exit {res.exit_code}")
        else:
            counts[f"exit {res.exit_code}"] += 1
            errors = [ln for ln in res.output.splitlines() if ln.startswith("error:")]
            if len(errors) > 1:
                bad.append(f"{args}: {len(errors)} error lines")
    return counts, bad


@pytest.mark.slow
@pytest.mark.parametrize(("group", "least"), [("core", 120), ("probe-demo", 90)])
def test_cli_fuzz_no_tracebacks(tmp_path, group, least):
    counts, bad = run_cli(tmp_path, group)
    assert counts["tried"] > least
    assert counts["exit 2"] > 0.9 * least
    assert bad == [], "\n".join(bad)


@pytest.mark.parametrize(
    ("code", "hint", "exit_code"),
    [
        (errno.EROFS, "read-only", 1),
        (errno.ENOSPC, "disk is full", 1),
        (errno.EACCES, "permission denied", 1),
    ],
)
def test_os_errors_are_one_line_naming_the_path(tmp_path, monkeypatch, code, hint, exit_code):
    import crackle.io.atomic as atomic

    def refuse(*a, **k):
        raise OSError(code, "refused by the file system", str(tmp_path / "o" / "report.json"))

    monkeypatch.setattr(atomic.tempfile, "mkstemp", refuse)
    csv = tmp_path / "ok.csv"
    csv.write_text("size,duration\n" + "\n".join(f"{i % 9 + 1},{i % 4 + 1}" for i in range(60)))
    res = runner.invoke(app, ["analyze", str(csv), "-o", str(tmp_path / "o"), "--n-boot", "0"])
    assert res.exit_code == exit_code
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    err = [ln for ln in lines if ln.startswith("error:")]
    assert len(err) == 1
    assert "report.json" in res.output
    assert hint in res.output
    assert not isinstance(res.exception, OSError)


def test_disk_full_without_a_file_name_names_the_output(tmp_path, monkeypatch):
    import crackle.io.atomic as atomic

    def full(path):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(atomic, "_fsync_file", full)
    res = runner.invoke(app, ["meanfield", "--n-w", "4", "--n-b", "4", "-o", str(tmp_path / "mf")])
    assert res.exit_code == 1
    assert "mf" in res.output
    assert "disk is full" in res.output


def test_user_text_is_printed_literally(tmp_path):
    f = tmp_path / "[bold]x.csv"
    f.write_text("size,duration\n" + "\n".join(f"{i % 9 + 1},{i % 4 + 1}" for i in range(60)))
    out = tmp_path / "[red]an"
    res = runner.invoke(app, ["analyze", str(f), "-o", str(out), "--n-boot", "0"])
    assert res.exit_code == 0, res.output
    assert "[red]an" in res.output.replace("\n", "")
    assert (out / "report.json").exists()
    res = runner.invoke(app, ["analyze", str(f), "--size-column", "[it calls posix.system]"])
    assert res.exit_code == 2
    assert "[it calls posix.system]" in res.output
    res = runner.invoke(app, ["analyze", str(tmp_path / "[/x].csv")])
    assert res.exit_code == 2
    assert "[/x].csv" in res.output


def test_corrupt_state_named(tmp_path):
    d = tmp_path / "r"
    d.mkdir()
    (d / "config.json").write_text('{"parameters": {}}')
    (d / "report.json").write_text("{bad")
    res = runner.invoke(app, ["report", str(d)])
    assert res.exit_code == 2
    assert "report.json is corrupt" in res.output
    (d / "report.json").write_text(json.dumps({"tau": 1.5}))
    res = runner.invoke(app, ["report", str(d), "--out", str(d)])
    assert res.exit_code == 2
    assert "is a directory" in res.output


@pytest.mark.parametrize("config", ['{"x": 1}', '{"parameters": [1, 2]}', '{"versions": {}}'])
def test_report_of_a_config_without_parameters_names_the_file(tmp_path, config):
    d = tmp_path / "r"
    d.mkdir()
    (d / "config.json").write_text(config)
    (d / "report.json").write_text(json.dumps({"tau": 1.5}))
    res = runner.invoke(app, ["report", str(d)])
    assert res.exit_code == 2, res.output
    err = [ln for ln in res.output.splitlines() if ln.startswith("error:")]
    assert len(err) == 1
    assert str(d / "config.json") in res.output.replace("\n", "")
    assert "'parameters'" in res.output
    assert not (d / "report.html").exists()  # no half-rendered page
