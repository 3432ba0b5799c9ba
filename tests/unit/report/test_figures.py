"""Every public plot function and plot() method: titled axes with the quantity and
its symbol, legend entries naming the fitted exponent with the right symbol, the
return-value convention (plot(ax=None) returns the Axes it drew on, on a pyplot
figure; figure-level helpers return a pyplot Figure), and labels inside the figure."""

from __future__ import annotations

from typing import ClassVar

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

import crackle as ck
from crackle._display import format_pm
from crackle.report import figures, fss_figures, neural_figures, nn_figures
from crackle.sim.branching import branching_process


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def rep():
    return ck.crackling_report(branching_process(m=1.0, n=6000, seed=5))


def legend_texts(ax):
    leg = ax.get_legend()
    return [] if leg is None else [t.get_text() for t in leg.get_texts()]


def on_pyplot(fig):
    return any(plt.figure(n) is fig for n in plt.get_fignums())


def assert_labelled(ax, *, xlabel=None, ylabel=None, title=None):
    """Non-empty x/y labels and title, containing the given text where given."""
    for got, want, what in (
        (ax.get_xlabel(), xlabel, "x label"),
        (ax.get_ylabel(), ylabel, "y label"),
        (ax.get_title(), title, "title"),
    ):
        assert got.strip(), f"empty {what}"
        if want is not None:
            assert want in got, f"{what} {got!r} lacks {want!r}"


def assert_inside(fig, ax):
    """The axis labels are drawn inside the figure (not clipped)."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    box = fig.bbox
    for label in (ax.xaxis.label, ax.yaxis.label):
        b = label.get_window_extent(renderer)
        inside = b.x0 >= box.x0 - 1 and b.y0 >= box.y0 - 1
        inside &= b.x1 <= box.x1 + 1 and b.y1 <= box.y1 + 1
        assert inside, f"{label.get_text()!r} is clipped"


# ------------------------------------------------------------------ power-law fits
@pytest.mark.parametrize("kind", ["ccdf", "pdf"])
def test_fit_plot_names_the_quantity_and_the_exponent(rep, kind):
    ax = rep.size_fit.plot(kind=kind, name="avalanche size", symbol="S", exponent_symbol="τ")
    assert on_pyplot(ax.figure)
    ylabel = "P(S ≥ s)" if kind == "ccdf" else "P(S = s)"
    assert_labelled(ax, xlabel="avalanche size S", ylabel=ylabel)
    texts = legend_texts(ax)
    law = [t for t in texts if t.startswith("power law")]
    assert law, texts
    fit = rep.size_fit
    assert f"τ = {format_pm(fit.exponent, fit.exponent_err)}" in law[0], texts
    assert not any("alpha" in t or "α" in t for t in texts)
    assert any("cut-off" in t for t in texts)
    assert_inside(ax.figure, ax)


def test_fit_plot_on_given_axes_returns_them_and_rejects_unknown_kinds(rep):
    _fig, ax = plt.subplots()
    assert rep.duration_fit.plot(ax=ax) is ax
    assert ax.get_ylabel() == "P(X ≥ x)"  # generic names by default
    with pytest.raises(ck.CrackleValueError, match="'kind' parameter"):
        rep.duration_fit.plot(kind="histogram")


def test_pdf_law_sits_on_the_log_binned_data():
    """The law's binned density matches the data's where the power law holds: a
    continuous Pareto sample, exponent 2.5, from xmin = 1."""
    x = np.random.default_rng(1).pareto(1.5, 20_000) + 1.0
    fit = ck.fit_power_law(x, xmin=1.0)
    ax = fit.plot(kind="pdf")
    data, law = ax.get_lines()[0], ax.get_lines()[1]
    xd, yd = data.get_xdata(), data.get_ydata()
    xl, yl = law.get_xdata(), law.get_ydata()
    common = np.intersect1d(np.round(xd, 9), np.round(xl, 9))
    assert common.size >= 5
    pick_d = np.isin(np.round(xd, 9), common) & (xd < 30)
    pick_l = np.isin(np.round(xl, 9), common) & (xl < 30)
    ratio = yd[pick_d] / yl[pick_l]
    assert np.all(np.abs(np.log(ratio)) < 0.15), ratio


# ------------------------------------------------------------------ the crackling report
def test_report_plot_is_a_pyplot_figure_with_six_titled_panels(rep):
    fig = rep.plot()
    assert on_pyplot(fig)  # rep.plot(); plt.show() shows it
    assert fig.get_suptitle().startswith("crackling report:")
    axes = [a for a in fig.axes if a.get_label() != "<colorbar>"]
    assert len(axes) == 6
    titles = [a.get_title() for a in axes]
    assert titles[0].startswith("distribution: τ =")
    assert titles[1].startswith("CCDF: τ =")
    assert titles[2].startswith("distribution: α =")
    assert titles[3].startswith("CCDF: α =")
    assert axes[0].get_xlabel() == "avalanche size S"
    assert axes[2].get_xlabel() == "avalanche duration T"
    assert axes[3].get_ylabel() == "P(T ≥ t)"
    assert any("1/(σνz)" in t for t in legend_texts(axes[4]))
    assert "γ = 1/(σνz)" in titles[5]
    assert any(t.startswith("power law, α") for t in legend_texts(axes[3]))


def test_report_plot_draws_into_a_given_figure(rep):
    from matplotlib.figure import Figure

    fig = Figure()
    assert rep.plot(fig) is fig
    assert not on_pyplot(fig)


def test_windows_figure(rep):
    fig = figures.windows_figure(rep)
    assert on_pyplot(fig)
    axes = fig.axes
    assert len(axes) == 3
    for ax, sym in zip(axes, ("τ", "α", "1/(σνz)"), strict=True):
        if ax.axison:
            assert_labelled(ax, ylabel=sym)


def test_window_scan_plot(rep):
    ax = rep.size_scan.plot()
    assert_labelled(ax, xlabel="x_min", ylabel="τ")
    assert any("τ fitted" in t for t in legend_texts(ax))


def test_size_duration_plot(rep):
    ax = rep.scaling.plot(predicted=rep.inv_snz_predicted)
    assert_labelled(ax, xlabel="duration T", ylabel="⟨S⟩(T)", title="1/(σνz)")
    texts = legend_texts(ax)
    assert any(t.startswith("fit: 1/(σνz) =") for t in texts)
    assert any("(α-1)/(τ-1)" in t for t in texts)


def test_collapse_draws_a_readable_subset_coloured_by_duration():
    rng = np.random.default_rng(0)
    durations = np.arange(10, 70)  # 60 durations
    x = np.linspace(0.02, 0.98, 20)
    profiles = np.array([t**1.0 * 4 * x * (1 - x) + 0.01 * rng.normal(size=x.size)
                         for t in durations])  # fmt: skip
    from crackle.stats.collapse import CollapseResult

    gammas = np.linspace(1.5, 2.5, 11)
    col = CollapseResult(
        2.0, 0.01, 0.001, True, "ok", durations, np.full(durations.size, 50), x, profiles,
        gammas, (gammas - 2.0) ** 2 + 1e-3,
    )  # fmt: skip
    ax = col.plot()
    curves = [line for line in ax.get_lines() if line.get_label().startswith("_")]
    assert 2 <= len(curves) <= 12
    assert {float(durations.min()), float(durations.max())} <= {
        float(t) for t in durations[figures.collapse_subset(durations)]
    }
    assert any(a.get_label() == "<colorbar>" for a in ax.figure.axes)
    assert_labelled(ax, xlabel="t/T", title="γ = 1/(σνz)")
    assert any("12 of 60 durations" in t for t in legend_texts(ax))
    ax = col.plot(kind="error")
    assert_labelled(ax, xlabel="γ", ylabel="collapse error")
    assert any(t.startswith("minimum: γ") for t in legend_texts(ax))


def test_collapse_subset():
    assert list(figures.collapse_subset(np.arange(1, 6))) == [0, 1, 2, 3, 4]
    idx = figures.collapse_subset(np.arange(1, 1001), 12)
    assert idx.size <= 12
    assert idx[0] == 0
    assert idx[-1] == 999
    assert np.all(np.diff(np.log(np.arange(1, 1001)[idx])) > 0.3)  # spread in log T


# ------------------------------------------------------------------ branching, probes
def test_branching_ratio_plot_keeps_its_labels_inside_the_figure():
    from crackle.sim.driven import driven_branching_process

    act = driven_branching_process(0.95, 5.0, 20_000, seed=2)
    est = ck.branching_ratio(act.activity, kmax=20)
    ax = est.plot()
    assert_labelled(ax, xlabel="lag k", ylabel="r_k")
    assert any(t.startswith(f"{est.fit} fit, m =") for t in legend_texts(ax))
    assert_inside(ax.figure, ax)


def test_per_layer_probe_plots():
    pytest.importorskip("torch")
    from crackle.nn._lyapunov_probes import GrowthRateResult, LyapunovResult, LyapunovSpectrum
    from crackle.nn.probes import BranchingResult

    layers = np.array([1.1, 0.9, 1.0])
    res = BranchingResult(1.0, 0.99, layers, ("a", "b", "c"), 1e-3, 4, 1, 0, 0, 0.02)
    ax = res.plot()
    assert_labelled(ax, xlabel="layer", ylabel="branching ratio", title="σ = 1.000 ± 0.020")
    assert any("critical value 1" in t for t in legend_texts(ax))
    lyap = LyapunovResult(0.1, 0.01, np.zeros(3), layers, ("a", "b", "c"), 3, 5, True, True, 0)
    assert_labelled(lyap.plot(), title="λ_max = 0.100 ± 0.010")
    rate = GrowthRateResult(0.05, 0.01, layers, ("a", "b", "c"), 3, 1, 0)
    assert_labelled(rate.plot(), title="growth rate")
    spec = LyapunovSpectrum(np.array([0.1, -0.2]), np.array([0.01, 0.02]), np.zeros((3, 2)),
                            ("a",), 3, 5, True, True, 0)  # fmt: skip
    ax = spec.plot()
    assert_labelled(ax, xlabel="index i", ylabel="λ_i", title="Lyapunov spectrum")
    # error bars: one vertical segment per exponent
    assert ax.collections
    assert len(ax.collections[0].get_segments()) == 2


def test_probe_table_figure_has_error_bars_and_titles():
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(
        {
            "model": ["mlp", "cnn"],
            "branching": [1.02, 0.8],
            "branching_stderr": [0.01, 0.02],
            "lyapunov": [0.01, -0.2],
            "lyapunov_stderr": [0.005, 0.01],
            "dynamic_range_db": [12.0, float("nan")],
            "accuracy": [0.9, 0.8],
        }
    )
    fig = nn_figures.plot_probe(df)
    assert on_pyplot(fig)
    assert "2 models" in fig.get_suptitle()
    assert len(fig.axes) == 4
    for ax in fig.axes:
        assert ax.get_title()
        assert ax.get_xlabel()
    segments = fig.axes[0].collections[0].get_segments()
    assert len(segments) == 2  # one bar per model


# ------------------------------------------------------------------ correlations, spectra
def test_dfa_psd_and_mixture_plots():
    x = np.random.default_rng(3).normal(size=4096)
    ax = ck.dfa(x).plot()
    assert_labelled(ax, xlabel="window", ylabel="F(n)", title="fluctuation")
    assert any("H =" in t for t in legend_texts(ax))
    psd = ck.psd_slope(x)
    ax = psd.plot()
    assert_labelled(ax, xlabel="frequency f", ylabel="S(f)")
    assert any("β =" in t for t in legend_texts(ax))
    from crackle.stats.mixture import fit_mixture_spectrum

    m = fit_mixture_spectrum(psd.freqs[1:], psd.psd[1:])
    ax = m.plot()
    assert_labelled(ax, xlabel="frequency f", ylabel="S(f)")
    assert any("Beta(" in t for t in legend_texts(ax))


def test_finite_size_extrapolation_plot():
    from crackle.stats.finite_size import extrapolate_to_infinite_size

    e = extrapolate_to_infinite_size([50, 100, 200, 400], [1.7, 1.6, 1.55, 1.525], [0.01] * 4)
    ax = e.plot(label="τ")
    assert_labelled(ax, xlabel="1/N", ylabel="τ", title="infinite width")
    assert legend_texts(ax) == ["τ"]


# ------------------------------------------------------------------ neural data
def test_bin_scan_figure_names_the_exponents():
    from crackle.stats.neural import BinScan

    f = np.array([0.5, 1.0, 2.0])
    v = np.array([1.5, 1.5, 1.5])
    scan = BinScan(f, f, np.array([100, 90, 80]), v, v * 0.01, v + 0.5, v * 0.01,
                   v + 0.5, v + 0.5, 1.0)  # fmt: skip
    fig = neural_figures.bin_scan_figure(scan)
    assert on_pyplot(fig)
    left, right = fig.axes
    assert_labelled(left, xlabel="bin width", ylabel="exponent", title="τ and α")
    assert {"τ (sizes)", "α (durations)"} <= set(legend_texts(left))
    assert_labelled(right, ylabel="1/(σνz)", title="crackling relation")


def test_null_figure_titles_each_measure():
    class Analysis:  # duck-typed SpikeAnalysis: only .nulls is read
        nulls: ClassVar[dict] = {
            "data": [{"tau": 1.5, "m": 0.99, "kappa": 1.0, "dcc": 0.1, "mr_valid": True}],
            "shuffled": [{"tau": 2.5, "m": 0.1, "kappa": 0.5, "dcc": 1.0, "mr_valid": False}],
        }

    fig = neural_figures.null_figure(Analysis())
    assert on_pyplot(fig)
    assert fig.get_suptitle()
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[0] == "size exponent τ"
    assert "branching ratio m" in titles[1]
    assert legend_texts(fig.axes[0]) == ["data"]


# ------------------------------------------------------------------ the conventions
def test_axes_helpers_follow_the_convention():
    ax = figures.new_axes()
    assert on_pyplot(ax.figure)
    assert figures.new_axes(ax) is ax
    fig = figures.new_figure()
    assert on_pyplot(fig)
    assert figures.new_figure(fig) is fig
    assert fig.get_layout_engine() is not None  # constrained: labels never clipped


def test_fss_panels_accept_a_duck_typed_result():
    """The finite-size panels read plain attributes (no experiment import needed)."""
    from types import SimpleNamespace

    rep = ck.crackling_report(branching_process(m=1.0, n=3000, seed=1))
    av = branching_process(m=1.0, n=3000, seed=2)
    w = SimpleNamespace(width=100, avalanches=av, report=rep, sizes_of=lambda what: av.sizes)
    res = SimpleNamespace(
        widths=[w], config=SimpleNamespace(sizes="excess"), extrapolations={}, nearest=None
    )
    ax = fss_figures.plot_distributions(res, what="durations")
    assert_labelled(ax, xlabel="avalanche duration T", ylabel="P(T = t)")
    assert legend_texts(ax) == ["N=100"]
    ax = fss_figures.plot_mean_size(res)
    assert_labelled(ax, xlabel="duration T", ylabel="⟨S⟩(T)", title="1/(σνz)")


# ------------------------------------------------------------------ mean-field figures
def test_phase_diagram_figure():
    pytest.importorskip("xarray")
    from crackle.report.phase_diagram import plot_phase_diagram
    from crackle.theory import meanfield as mf

    ds = mf.phase_diagram(np.linspace(0.5, 2.5, 6), np.linspace(0.0, 0.3, 4), "tanh")
    fig = plot_phase_diagram(ds)
    assert on_pyplot(fig)
    assert "phase diagram" in fig.get_suptitle()
    panels = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    for ax in panels:
        assert_labelled(ax, xlabel="σ_w²", ylabel="σ_b²")
    assert {"edge of chaos", "Widom line", "critical point"} <= set(legend_texts(panels[0]))


def test_zoo_figure_takes_its_metrics_from_the_caller():
    pd = pytest.importorskip("pandas")
    from types import SimpleNamespace

    rng = np.random.default_rng(0)
    n = 8
    table = pd.DataFrame(
        {
            "family": ["mlp", "cnn"] * (n // 2),
            "year": [1986, 1998] * (n // 2),
            "penalty": [False] * (n - 2) + [True] * 2,
            "test_accuracy": rng.uniform(0.7, 0.9, n),
            "acc_noise_0.5": rng.uniform(0.5, 0.8, n),
            "dist_log_sigma": rng.uniform(0, 1, n),
            "dist_lyapunov": rng.uniform(0, 1, n),
            "dynamic_range_db": rng.uniform(5, 15, n),
        }
    )
    corr = [{"metric": m, "spearman": -0.5, "spearman_lo": -0.8, "spearman_hi": -0.1, "n": n}
            for m in ("dist_log_sigma", "dist_lyapunov", "dynamic_range_db")]  # fmt: skip
    robust = [
        {"column": c, "plain_mean": 0.8, "penalty_mean": 0.82, "mean_difference": 0.02,
         "lo": -0.01, "hi": 0.05, "n_pairs": 2}
        for c in ("test_accuracy", "acc_noise_0.5")
    ]  # fmt: skip
    result = SimpleNamespace(
        table=table,
        correlations=corr,
        history={},
        robustness=robust,
        config=SimpleNamespace(noise=(0.5,), steps=10, batch_size=4),
    )
    metrics = (
        ("dist_log_sigma", "|log σ|"),
        ("dist_lyapunov", "|λ_max|"),
        ("dynamic_range_db", "Δ (dB)"),
    )
    fig = nn_figures.plot_zoo(result, metrics=metrics)
    assert on_pyplot(fig)
    assert "zoo" in fig.get_suptitle()
    top = fig.axes[:3]
    assert [ax.get_xlabel() for ax in top] == ["|log σ|", "|λ_max|", "Δ (dB)"]
    for ax in top:
        assert ax.get_title().startswith("ρ = -0.50 [-0.80, -0.10]")
        assert ax.get_ylabel() == "test accuracy"
    assert set(legend_texts(fig.axes[0])) == {"mlp", "cnn"}
    assert set(legend_texts(fig.axes[5])) == {"no penalty", "penalty"}


# ------------------------------------------------------------------ ResNet crackling
def test_resnet_figure_draws_every_observable_model_and_mean_field_line():
    from crackle.experiments.resnet_results import ExponentRow, ResNetConfig, ResNetResult
    from crackle.report.resnet_figures import MEAN_FIELD_DP, resnet_figure

    rows = tuple(
        ExponentRow(model=m, grain=g, signal="activity", sizes="total", k=k, n_layers=10,
                    n=500, n_censored=0, n_empty=0, tau=1.5 + 0.1 * k, tau_err=0.02,
                    tau_sys=0.01, alpha=2.0, alpha_err=0.05, alpha_sys=0.0,
                    inv_snz_fitted=1.9, inv_snz_fitted_err=0.1, inv_snz_predicted=2.0)
        for m in ("resnet18", "resnet34") for g in ("layers", "blocks") for k in (0.5, 1.0)
    )  # fmt: skip
    res = ResNetResult(ResNetConfig(), rows, {}, {})
    fig = res.plot()
    assert on_pyplot(fig)
    assert fig.get_layout_engine() is not None  # constrained: no clipped labels
    axes = np.array(fig.axes).reshape(2, 3)
    assert [ax.get_title(loc="left") for ax in axes[:, 0]] == [
        "layers/activity/total",
        "blocks/activity/total",
    ]
    for ax, col in zip(axes[1], ("tau", "alpha", "inv_snz_fitted"), strict=True):
        assert ax.get_xlabel() == "threshold level k"
        assert ax.get_ylabel().strip()
        dotted = [ln for ln in ax.get_lines() if ln.get_linestyle() == ":"]
        assert [ln.get_ydata()[0] for ln in dotted] == [MEAN_FIELD_DP[col]]
    assert legend_texts(axes[0, 0]) == ["resnet18", "resnet34"]
    assert "mean-field directed percolation" in fig._suptitle.get_text()
    # the selected observables only
    assert len(resnet_figure(res, ["blocks/activity/total"]).axes) == 3
    plt.close("all")


# ------------------------------------------------------------------ LSTM experiment
def _lstm_result():
    import pandas as pd

    rows, summary, units = [], [], []
    for kind, sizes in (("lstm", (8, 64)), ("transformer", (12, 40))):
        for size in sizes:
            for seed in range(3):
                for step in (0, 100, 200, 300):
                    rows.append({
                        "model": kind, "size": size, "seed": seed, "n_params": size * 100,
                        "step": step, "val_loss": 4.0 - step / 100, "m": 0.5 + step / 400,
                        "m_valid": step != 100, "best": step == 200, "top": True,
                    })  # fmt: skip
                for state in ("untrained", "best"):
                    units.append({"model": kind, "size": size, "state": state,
                                  "m_i": list(np.linspace(0.1, 0.9, 20))})  # fmt: skip
            summary.append({
                "model": kind, "size": size, "n_params": size * 100, "n_seeds": 3,
                "m_best": 0.9, "m_best_err": 0.02, "m_best_valid": 3 if size < 20 else 1,
                "m_untrained": 0.5, "m_untrained_err": 0.1,
            })  # fmt: skip
    return type("R", (), {"table": pd.DataFrame(rows), "summary": pd.DataFrame(summary),
                          "units": units})()  # fmt: skip


def test_lstm_figures_are_labelled_and_cross_out_sizes_without_valid_fits():
    from crackle.report.lstm_figures import (
        lstm_size_figure,
        lstm_training_figure,
        lstm_units_figure,
    )

    res = _lstm_result()
    fig = lstm_training_figure(res)
    assert on_pyplot(fig)
    assert fig.get_layout_engine() is not None
    axes = np.array(fig.axes).reshape(2, 2)
    assert [ax.get_title() for ax in axes[0]] == [
        "lstm: size = hidden units",
        "transformer: size = d_model (top layer)",
    ]
    for ax in axes[1]:
        assert ax.get_xlabel() == "training step"
        assert "m" in ax.get_ylabel()
    assert legend_texts(axes[0, 0]) == ["8 (800 params)", "64 (6400 params)"]

    fig = lstm_size_figure(res)
    (ax,) = fig.axes
    assert_labelled(ax, xlabel="parameters", ylabel="m", title="valid fits")
    texts = legend_texts(ax)
    assert "lstm, best step" in texts
    assert "transformer, untrained" in texts
    assert "most fits fail the checks" in texts
    # the two sizes with 1 valid fit of 3 (64 and 40) are crossed out, the others not
    crosses = [ln for ln in ax.get_lines() if ln.get_marker() == "x" and len(ln.get_xdata())]
    assert sorted(x for ln in crosses for x in ln.get_xdata()) == [4000.0, 6400.0]
    assert sorted(t.get_text() for t in ax.texts) == ["1/3", "1/3", "3/3", "3/3"]

    fig = lstm_units_figure(res)
    assert len(fig.axes) == 2
    for ax in fig.axes:
        assert_labelled(ax, xlabel="m_i", ylabel="density", title="per-unit")
        assert len(legend_texts(ax)) == 4  # two sizes, best and untrained
    plt.close("all")
