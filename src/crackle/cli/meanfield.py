"""``crackle meanfield``: a mean-field phase diagram to netCDF, with its figure."""

from __future__ import annotations

from pathlib import Path

import typer

from crackle.cli._common import WAIT_HELP, clean_errors, console, locks_out, progress_bar
from crackle.cli.main import app


@app.command("meanfield")
@clean_errors
@locks_out
def meanfield(
    out: Path = typer.Option(Path("runs/meanfield"), "--out", "-o", help="Output directory."),
    activation: str = typer.Option("tanh", "--activation", "-a", help="Activation name."),
    sigma_w2_min: float = typer.Option(0.5, "--sw-min", help="Smallest sigma_w^2."),
    sigma_w2_max: float = typer.Option(4.0, "--sw-max", help="Largest sigma_w^2."),
    sigma_b2_min: float = typer.Option(0.0, "--sb-min", help="Smallest sigma_b^2."),
    sigma_b2_max: float = typer.Option(1.0, "--sb-max", help="Largest sigma_b^2."),
    n_w: int = typer.Option(128, "--n-w", help="Grid points in sigma_w^2."),
    n_b: int = typer.Option(128, "--n-b", help="Grid points in sigma_b^2."),
    n_hermite: int = typer.Option(256, "--n-hermite", help="Mehler series terms (c*)."),
    wait: bool = typer.Option(False, "--wait", help=WAIT_HELP),
) -> None:
    """Phase diagram (q*, chi's, c*, depth scales) with the edge of chaos and Widom line.

    Writes OUT/phase_diagram.nc, OUT/figures/phase_diagram.png and OUT/config.json.
    """
    import numpy as np

    from crackle.io.atomic import atomic_path, write_json
    from crackle.io.rundir import versions
    from crackle.report.phase_diagram import plot_phase_diagram, save_figure_atomic
    from crackle.theory import meanfield as mf

    for name, val in (("--n-w", n_w), ("--n-b", n_b)):
        if val < 2:
            raise ValueError(f"{name} must be at least 2; got {val}")
    for name, lo, hi in (
        ("--sw-min/--sw-max", sigma_w2_min, sigma_w2_max),
        ("--sb-min/--sb-max", sigma_b2_min, sigma_b2_max),
    ):
        if not (np.isfinite(lo) and np.isfinite(hi)) or lo < 0 or hi <= lo:
            raise ValueError(f"{name} must satisfy 0 <= min < max (variances); got {lo}, {hi}")
    if out.exists() and not out.is_dir():
        raise FileExistsError(f"{out} exists and is not a directory; choose another --out")
    sw = np.linspace(sigma_w2_min, sigma_w2_max, n_w)
    sb = np.linspace(sigma_b2_min, sigma_b2_max, n_b)
    params = {
        "command": "meanfield",
        "activation": activation,
        "sigma_w2": [sigma_w2_min, sigma_w2_max, n_w],
        "sigma_b2": [sigma_b2_min, sigma_b2_max, n_b],
        "n_hermite": n_hermite,
    }
    with progress_bar() as progress:
        task = progress.add_task("phase diagram", total=3)
        ds = mf.phase_diagram(sw, sb, activation, n_hermite=n_hermite)
        progress.advance(task)
        progress.update(task, description="lines")
        edge = mf.edge_of_chaos(sb, activation)
        widom = mf.widom_line(sb, activation, sigma_w2_max=sigma_w2_max)
        progress.advance(task)
        progress.update(task, description="writing")
        (out / "figures").mkdir(parents=True, exist_ok=True)
        nc = out / "phase_diagram.nc"
        with atomic_path(nc) as tmp:
            ds.to_netcdf(tmp)
        fig = plot_phase_diagram(ds, edge=edge, widom=widom)
        png = save_figure_atomic(fig, out / "figures" / "phase_diagram.png")
        import matplotlib.pyplot as plt

        plt.close(fig)
        write_json(
            out / "config.json",
            {
                "parameters": params,
                "versions": versions(),
                "edge_of_chaos": edge.to_dict(),
                "widom_line": widom.to_dict(),
            },
        )
        progress.advance(task)
    console.print(f"activation {ds.attrs['activation']}: {n_w} x {n_b} grid")
    console.print(f"non-finite values: {ds.attrs['nonfinite_reasons']}", highlight=False)
    console.print(f"wrote {nc}, {png} and {out / 'config.json'}")
