"""``crackle probe``: criticality metrics of PyTorch models, one table and one figure.

Models are built-in names (``crackle.nn.build_model``), ``NAME=CHECKPOINT``, or your own
class as ``PACKAGE.MODULE:CLASS`` (imported from the current directory or PYTHONPATH,
built with ``--kwargs``, filled from ``--checkpoint`` with ``torch.load(weights_only=
True)``). Everything is loaded, checked and measured before anything is written.
"""

from __future__ import annotations

import importlib
import json
import os
import pickle
import sys
import warnings
from pathlib import Path
from typing import Any

import typer

from crackle.cli._common import WAIT_HELP, clean_errors, console, locks_out, note, progress_bar
from crackle.cli.main import app

_EXTERNAL = ("torchvision", "timm")


def _is_user_class(arch: str) -> bool:
    lib, sep, _ = arch.partition(":")
    return bool(sep) and lib not in _EXTERNAL


def _parse_models(specs: list[str]) -> list[tuple[str, str, Path | None]]:
    """``NAME``, ``NAME=CHECKPOINT`` or ``MODULE:CLASS[=CHECKPOINT]`` -> (label,
    architecture, checkpoint)."""
    out = []
    for spec in specs:
        arch, sep, path = spec.partition("=")
        if sep and not path:
            raise ValueError(f"model {spec!r}: give a checkpoint path after '='")
        name = arch.rpartition(":")[2] if _is_user_class(arch) else arch
        label = f"{name}@{Path(path).stem}" if sep else name
        out.append((label, arch, Path(path) if sep else None))
    labels = [lab for lab, _, _ in out]
    if len(set(labels)) != len(labels):
        raise ValueError(f"model labels must be distinct; got {labels}")
    return out


def _parse_accuracy(items: list[str]) -> dict[str, float]:
    acc = {}
    for item in items:
        label, sep, value = item.rpartition("=")
        try:
            acc[label] = float(value)
        except ValueError:
            sep = ""
        if not sep or not label:
            raise ValueError(f"--accuracy takes LABEL=VALUE (e.g. cnn=0.91); got {item!r}")
    return acc


def _user_model(arch: str, kwargs: dict[str, Any]) -> Any:
    """Import ``PACKAGE.MODULE:CLASS`` (the current directory first) and build it."""
    from torch import nn

    modname, _, clsname = arch.partition(":")
    if not modname or not clsname:
        raise ValueError(f"model {arch!r}: write your class as PACKAGE.MODULE:CLASS")
    cwd = os.getcwd()
    added = cwd not in sys.path
    if added:
        sys.path.insert(0, cwd)
    try:
        module = importlib.import_module(modname)
    except Exception as exc:  # ImportError, or the module's own error while importing
        raise ValueError(
            f"cannot import {modname!r} (looked in the current directory and PYTHONPATH): "
            f"{type(exc).__name__}: {exc}"
        ) from None
    finally:
        if added:
            sys.path.remove(cwd)
    cls = getattr(module, clsname, None)
    if cls is None:
        raise ValueError(f"module {modname!r} has no attribute {clsname!r}")
    if not (isinstance(cls, type) and issubclass(cls, nn.Module)):
        raise ValueError(f"{arch} is not a torch.nn.Module subclass")
    try:
        return cls(**kwargs)
    except Exception as exc:
        raise ValueError(
            f"{arch}(**{kwargs}) failed: {type(exc).__name__}: {exc}; check --kwargs"
        ) from None


def _load_inputs(path: Path) -> Any:
    """An array of inputs from .npy, .npz (one array, or 'inputs' / 'x') or .pt (a
    tensor, or a dict with 'inputs' / 'x'), read without running code."""
    import numpy as np
    import torch

    if not path.is_file():
        raise FileNotFoundError(f"no inputs file at {path}")
    suffix = path.suffix.lower()
    try:
        if suffix == ".npy":
            x: Any = np.load(path, allow_pickle=False)
        elif suffix == ".npz":
            with np.load(path, allow_pickle=False) as z:
                keys = list(z.keys())
                key = (
                    keys[0]
                    if len(keys) == 1
                    else next((k for k in ("inputs", "x") if k in z), None)
                )
                if key is None:
                    raise ValueError(
                        f"{path} holds arrays {keys}; name the inputs 'inputs' or 'x', "
                        "or store one array"
                    )
                x = z[key]
        elif suffix in (".pt", ".pth"):
            x = torch.load(path, map_location="cpu", weights_only=True)
            if isinstance(x, dict):
                x = next((x[k] for k in ("inputs", "x") if k in x), None)
            if not torch.is_tensor(x):
                raise ValueError(f"{path} holds no tensor (or dict with 'inputs' or 'x')")
        else:
            raise ValueError(f"--inputs must be a .npy, .npz or .pt file; got {path.name!r}")
    except (OSError, EOFError, RuntimeError, pickle.UnpicklingError) as exc:
        raise ValueError(f"cannot read inputs from {path}: {str(exc).splitlines()[0]}") from None
    dtype = x.dtype
    ok = (
        (torch.is_floating_point(x) or dtype in (torch.uint8, torch.int32, torch.int64))
        if torch.is_tensor(x)
        else (np.issubdtype(dtype, np.floating) or np.issubdtype(dtype, np.integer))
    )
    if not ok:
        raise ValueError(f"the inputs in {path} must be real numbers; got dtype {dtype}")
    return x


def _check_runs(label: str, model: Any, x: Any) -> None:
    """One forward pass of the first two inputs: a clear error for the wrong shape."""
    import torch

    from crackle.nn._modules import as_input_tensor, shape_error

    xt = as_input_tensor(x[:2], model, "probe")
    try:
        with torch.no_grad():
            model(xt)
    except RuntimeError as exc:
        clear = shape_error(exc, model, xt, "probe")
        msg = str(clear) if clear is not None else str(exc).splitlines()[0]
        raise ValueError(f"model {label}: the inputs do not fit: {msg}") from None


def _pm(v: float, err: float, fmt: str, sign: str = "") -> str:
    """``v ± err``, or n/a for a value that is not a measurement (NaN)."""
    if v != v:
        return "n/a"
    return f"{v:{sign}{fmt}} ± {err:{fmt}}"


def _dead_models(
    caught: list[warnings.WarningMessage], marks: list[tuple[int, str]]
) -> list[tuple[str, str]]:
    """(model label, message) of each dead-network warning the probes gave; every other
    warning is shown again as usual."""
    from crackle.nn.probes import DeadNetworkWarning

    out = []
    for i, w in enumerate(caught):
        label = next((lab for at, lab in reversed(marks) if at <= i), "?")
        if issubclass(w.category, DeadNetworkWarning):
            if (label, str(w.message)) not in out:
                out.append((label, str(w.message)))
        else:
            warnings.showwarning(w.message, w.category, w.filename, w.lineno)
    return out


@app.command("probe")
@clean_errors
@locks_out
def probe(
    models: list[str] = typer.Argument(
        ...,
        help="Built-in names (mlp-tanh, mlp-tanh-ordered, mlp-tanh-chaotic, mlp-relu, cnn, "
        "resnet18/34/50, resnet18-cifar, ..., torchvision:NAME, timm:NAME), NAME=CHECKPOINT "
        "to load weights into that architecture, or your own PACKAGE.MODULE:CLASS "
        "(imported from the current directory or PYTHONPATH).",
    ),
    kwargs: str = typer.Option(
        "{}", "--kwargs", help="JSON object of keyword arguments for your class."
    ),
    checkpoint: Path | None = typer.Option(
        None, "--checkpoint", help="Weights for your class (a state_dict file, weights_only)."
    ),
    inputs: Path | None = typer.Option(
        None,
        "--inputs",
        help="Inputs (.npy, .npz, .pt), samples first; default: --n standard Gaussian samples "
        "of each model's input_shape.",
    ),
    modules: str = typer.Option(
        "blocks", "--modules", help="Layers: 'blocks' (default), 'leaves', or a glob pattern."
    ),
    out: Path = typer.Option(Path("runs/probe"), "--out", "-o", help="Output directory."),
    n: int = typer.Option(128, "--n", help="Gaussian random inputs per model.", min=2),
    seed: int = typer.Option(0, "--seed", help="Seed of inputs, directions, weights.", min=0),
    device: str = typer.Option("cpu", "--device", help="Torch device (cpu, cuda)."),
    accuracy: list[str] = typer.Option(
        [], "--accuracy", help="LABEL=VALUE, repeatable: plotted against |λ_max|."
    ),
    batch_size: int = typer.Option(64, "--batch-size", help="Inputs per forward pass.", min=1),
    wait: bool = typer.Option(False, "--wait", help=WAIT_HELP),
) -> None:
    """Branching parameter σ, largest Lyapunov exponent λ_max and dynamic range Δ of
    each model, with standard errors over the inputs.

    Writes OUT/probe.csv, OUT/figures/probe.png (error bars) and OUT/config.json, only
    after every model has been loaded and measured. Bad input (a class that cannot be
    imported, a checkpoint that does not match, inputs of the wrong shape or dtype, a
    model with no selectable blocks) is one line on stderr and exit code 2.
    """
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from crackle.io.atomic import atomic_path, write_json
    from crackle.io.rundir import versions
    from crackle.nn.checkpoint import load_checkpoint
    from crackle.nn.probes import DeadNetworkWarning
    from crackle.nn.zoo import build_model, plot_probe_table, probe_table
    from crackle.sim._torch import resolve_device

    dev = resolve_device(device, "probe")
    parsed = _parse_models(models)
    acc = _parse_accuracy(accuracy)
    try:
        kw = json.loads(kwargs)
    except json.JSONDecodeError as exc:
        raise ValueError(f"--kwargs must be a JSON object; {exc}") from None
    if not isinstance(kw, dict):
        raise ValueError(f"--kwargs must be a JSON object, e.g. '{{\"width\": 8}}'; got {kwargs!r}")
    users = [a for _, a, _ in parsed if _is_user_class(a)]
    if checkpoint is not None and len(users) != 1:
        raise ValueError(
            "--checkpoint goes with exactly one PACKAGE.MODULE:CLASS model; use NAME=CHECKPOINT "
            "for several"
        )
    if kw and not users:
        raise ValueError("--kwargs is for your own PACKAGE.MODULE:CLASS model; none was given")
    if out.exists() and not out.is_dir():
        raise FileExistsError(f"{out} exists and is not a directory; choose another --out")
    x = None if inputs is None else _load_inputs(inputs)
    built, used = {}, {}
    for label, arch, ckpt in parsed:
        if _is_user_class(arch):
            model = _user_model(arch, kw)
            ckpt = ckpt if ckpt is not None else checkpoint
        else:
            model = build_model(arch, seed=seed)
        if ckpt is not None:
            load_checkpoint(ckpt, model)
        used[label] = None if ckpt is None else str(ckpt)
        model = model.eval().to(dev)
        if x is not None:
            _check_runs(label, model, x)
        elif getattr(model, "input_shape", None) is None:
            raise ValueError(
                f"model {label} has no input_shape attribute, so crackle cannot draw Gaussian "
                "inputs for it; give --inputs FILE"
            )
        built[label] = model
    sel: Any = None if modules == "blocks" else modules
    marks: list[tuple[int, str]] = []  # (warnings caught so far, model label)
    with progress_bar() as progress, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DeadNetworkWarning)
        task = progress.add_task("probing", total=len(built))

        def step(label: str) -> None:
            marks.append((len(caught), label))
            progress.update(
                task, description=f"probing {label}", completed=list(built).index(label)
            )

        df = probe_table(
            built,
            n=n,
            seed=seed,
            accuracy=acc,
            batch_size=batch_size,
            inputs=x,
            modules=sel,
            progress=step,
        )
        progress.update(task, completed=len(built), description="writing")
    dead = _dead_models(caught, marks)
    fig = plot_probe_table(df)
    png_bytes = io.BytesIO()
    fig.savefig(png_bytes, format="png", dpi=130)
    plt.close(fig)
    # everything is measured and drawn: now write
    (out / "figures").mkdir(parents=True, exist_ok=True)
    csv = out / "probe.csv"
    with atomic_path(csv) as tmp:
        df.to_csv(tmp, index=False)
    png = out / "figures" / "probe.png"
    with atomic_path(png) as tmp:
        Path(tmp).write_bytes(png_bytes.getvalue())
    params = {
        "command": "probe",
        "models": [
            {
                "label": lab,
                "architecture": a,
                "checkpoint": used[lab],
                "kwargs": kw if _is_user_class(a) else None,
            }
            for lab, a, _ in parsed
        ],
        "n": n,
        "seed": seed,
        "device": str(dev),
        "batch_size": batch_size,
        "modules": modules,
        "inputs": str(inputs)
        if inputs is not None
        else "standard Gaussian of each model's input_shape",
    }
    write_json(out / "config.json", {"parameters": params, "versions": versions()})

    from rich.table import Table

    table = Table(
        title="crackle probe (critical: σ = 1, λ_max = 0, Δ maximal)", title_justify="left"
    )
    for col in ("model", "layers", "σ", "λ_max (per layer)", "Δ (dB)", "accuracy"):
        table.add_column(col, justify="left" if col == "model" else "right")
    for _, r in df.iterrows():
        a = "" if r["accuracy"] != r["accuracy"] else f"{r['accuracy']:.3f}"
        d = r["dynamic_range_db"]
        table.add_row(
            r["model"],
            str(r["n_layers"]),
            _pm(r["branching"], r["branching_stderr"], ".3f"),
            _pm(r["lyapunov"], r["lyapunov_stderr"], ".4f", "+"),
            "n/a" if d != d else f"{d:.1f}",
            a,
        )
    console.print(table)
    if df["dynamic_range_reason"].str.startswith("the response does not saturate").any():
        console.print(
            "Δ n/a: the response does not saturate within the scanned intensities (a "
            "positively homogeneous network), so Δ would measure the scan, not the model"
        )
    for label, message in dead:
        note(f"{label}: {message}", "warning:")
    console.print(f"wrote {csv}, {png} and {out / 'config.json'}")
