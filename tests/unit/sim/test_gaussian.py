"""The Gaussian-network avalanche simulator against a full-depth twin and exact laws."""

import numpy as np
import pytest
import torch
from scipy import special

import crackle as ck
from crackle.sim import _gaussian_kernel as gk
from crackle.sim import gaussian as g
from crackle.sim._normal_stream import NormalStream


def twin_avalanches(q, width, q0, sizes, depth):
    """The avalanches of trajectories q^l (inputs x layers) under either size
    definition, the obvious way: size N sum (q^l - b) while q^l > q0, with b = 0
    (total) or q0 (excess); profiles N (q^l - b)."""
    b = {"total": 0.0, "excess": q0}[sizes]
    return ck.avalanches_from_trajectories(
        width * (q - b), width * (q0 - b), max_shape_duration=depth
    )


def full_depth_trajectories(k, width, depth, sw, sb, q0, seed_int, dtype=torch.float64):
    """The obvious version: every input through every layer, no compaction, same RNG."""
    gen = NormalStream(seed_int, torch.device("cpu"), dtype)
    h = gk._inputs(k, width, q0, gen)
    qs = []
    for layer in range(depth):
        w, b = gk._layer(gen, width, sw, sb)
        z = h @ w.T + b
        qs.append(z.pow(2).mean(dim=1))
        h = torch.tanh(z) if layer + 1 < depth else z
    return torch.stack(qs, dim=1).numpy()


@pytest.mark.parametrize("sizes", ["total", "excess"])
@pytest.mark.parametrize(("sw", "sb"), [(1.0 + 1 / 32, 0.0), (0.9, 0.0), (1.5, 1e-4)])
def test_compaction_matches_full_depth_twin(sw, sb, sizes):
    k, width, depth, q0 = 300, 32, 40, 1e-3
    chunks = list(
        g.iter_gaussian_avalanches(
            width,
            depth,
            sw,
            sb,
            n=k,
            q0=q0,
            resample_every=k,
            seed=5,
            dtype="float64",
            sizes=sizes,
        )
    )
    assert len(chunks) == 1
    av = chunks[0][1]
    q = full_depth_trajectories(k, width, depth, sw, sb, q0, gk._draw_seed(5, 0))
    ref = twin_avalanches(q, width, q0, sizes, depth)
    np.testing.assert_array_equal(av.durations, ref.durations)
    np.testing.assert_allclose(av.sizes, ref.sizes, rtol=1e-12)
    assert av.n_censored == ref.n_censored
    assert av.n_empty == ref.n_empty
    np.testing.assert_allclose(av.shapes.sums, ref.shapes.sums, rtol=1e-12)


@pytest.mark.parametrize(
    # 'matrix' with one input per draw pays ~0.5 ms of bookkeeping per draw: ~20 s here.
    "method",
    [pytest.param("matrix", marks=pytest.mark.slow), "gram", "marginal"],
)
def test_first_layer_law_is_exact(method):
    # Given the input, z^1_i ~ N(0, sigma_w^2 q0 + sigma_b^2) independently, so
    # q^1 = (sigma_w^2 q0 + sigma_b^2) chi^2_N / N: P(q^1 > q0) is a chi^2 tail.
    width, sw, sb, q0, n = 16, 1.3, 2e-4, 1e-3, 40_000
    av = ck.sim.gaussian_avalanches(
        width, 1, sw, sb, n=n, q0=q0, resample_every=1, seed=1, method=method
    )
    scale = sw * q0 + sb
    p_above = special.chdtrc(width, width * q0 / scale)
    frac = (av.n_censored) / n  # depth 1: above threshold at layer 1 = censored
    assert abs(frac - p_above) < 4 * np.sqrt(p_above * (1 - p_above) / n)
    assert av.n_empty == n - av.n_censored


@pytest.mark.parametrize("method", ["matrix", "gram"])
def test_same_seed_same_avalanches_whatever_the_grouping(method):
    # 'gram' on a CPU runs these 15 draws as one group: draw 6 resumes inside it.
    kw = dict(n=1500, resample_every=100, seed=3, q0=1e-3, method=method)
    whole = ck.sim.gaussian_avalanches(24, 30, 1.05, workers=1, **kw)
    again = ck.sim.gaussian_avalanches(24, 30, 1.05, workers=2, **kw)
    # Durations exactly; sizes to float32 reduction order (torch's matrix products run
    # on a different number of threads with one worker and with two, which moves the
    # last bits on some BLAS builds: 4e-10 relative measured).
    np.testing.assert_array_equal(whole.durations, again.durations)
    np.testing.assert_allclose(whole.sizes, again.sizes, rtol=1e-7)
    # Resuming from draw 6 gives exactly the draws 6.. of an uninterrupted run.
    first = [c for _, c in g.iter_gaussian_avalanches(24, 30, 1.05, **kw)]
    tail = [c for _, c in g.iter_gaussian_avalanches(24, 30, 1.05, start_draw=6, **kw)]
    for a, b in zip(first[6:], tail, strict=True):
        np.testing.assert_array_equal(a.sizes, b.sizes)
        np.testing.assert_array_equal(a.durations, b.durations)
    other = ck.sim.gaussian_avalanches(24, 30, 1.05, **{**kw, "seed": 4})
    assert not np.array_equal(whole.sizes, other.sizes)


def test_the_two_size_definitions():
    """The same avalanches under both definitions: total = N sum q^l (Ghavasieh et al.),
    excess = total - N q0 T, the profiles likewise; the definition is recorded."""
    kw = dict(n=2000, q0=1e-3, seed=6, method="marginal")
    tot = ck.sim.gaussian_avalanches(40, 80, 1.0 + 2 / 40, sizes="total", **kw)
    exc = ck.sim.gaussian_avalanches(40, 80, 1.0 + 2 / 40, sizes="excess", **kw)
    np.testing.assert_array_equal(tot.durations, exc.durations)
    np.testing.assert_allclose(exc.sizes, tot.sizes - 40 * 1e-3 * tot.durations, rtol=1e-9)
    np.testing.assert_allclose(
        exc.censored_sizes, tot.censored_sizes - 40 * 1e-3 * tot.censored_durations, rtol=1e-9
    )
    for t in np.flatnonzero(tot.shapes.counts) + 1:
        np.testing.assert_allclose(
            exc.shapes.profile_sum(t),
            tot.shapes.profile_sum(t) - 40 * 1e-3 * tot.shapes.counts[t - 1],
            rtol=1e-9,
        )
    # Every layer of an avalanche has q^l > q0, so N q0 T < S_total and S_excess > 0.
    assert (tot.sizes > 40 * 1e-3 * tot.durations).all()
    assert (exc.sizes > 0).all()
    assert tot.info["size_definition"] == g.SIZE_DEFINITIONS["total"]
    assert exc.info["size_definition"] == g.SIZE_DEFINITIONS["excess"]


def test_phases_order_and_chaos():
    kw = dict(n=2000, seed=0, q0=1e-3, resample_every=500)
    ordered = ck.sim.gaussian_avalanches(64, 60, 0.8, **kw)
    chaotic = ck.sim.gaussian_avalanches(64, 60, 3.0, **kw)
    assert ordered.n_censored == 0
    assert ordered.n > 0
    assert ordered.durations.max() < 15
    assert chaotic.n_censored > 0.45 * 2000  # most non-empty ones never come back


def test_overflow_is_censored_not_nan():
    av = ck.sim.gaussian_avalanches(
        16, 400, 50.0, n=50, activation="linear", q0=1.0, seed=0, resample_every=50
    )
    assert av.info["n_overflow"] > 0
    assert np.isfinite(av.censored_sizes).all()
    assert np.isfinite(av.sizes).all()


def test_streaming_mode_keeps_only_summaries():
    seen = []
    av = ck.sim.gaussian_avalanches(
        16, 20, 1.0, n=300, resample_every=100, seed=0, keep_events=False, sink=seen.append
    )
    assert av.n == 0
    assert av.info["n_complete"] == sum(c.n for c in seen)
    assert av.shapes.counts.sum() == av.info["n_complete"]


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"width": 0}, "'width'"),
        ({"depth": -1}, "'depth'"),
        ({"sigma_w2": 0.0}, "'sigma_w2'"),
        ({"sigma_b2": -1.0}, "'sigma_b2'"),
        ({"q0": 0.0}, "'q0'"),
        ({"activation": "sigmoidish"}, "'activation'"),
        ({"dtype": "float16"}, "'dtype'"),
        ({"device": "cuda:7" if torch.cuda.is_available() else "cuda"}, "'device'"),
        ({"device": "nonsense"}, "'device'"),
        ({"sizes": "area"}, "'sizes'"),
    ],
)
def test_bad_input(kwargs, name):
    args = {"width": 8, "depth": 5, "sigma_w2": 1.0, "n": 10, **kwargs}
    with pytest.raises(ValueError, match=name):
        ck.sim.gaussian_avalanches(**args)


@pytest.mark.slow
@pytest.mark.parametrize(("sw", "sb"), [(1.0 + 2 / 48, 0.0), (1.3, 1e-4)])
def test_marginal_method_has_the_matrix_laws(sw, sb):
    """One input's trajectory has the same law whether its weights come from a matrix
    draw or from the exact conditional law (marginal). With resample_every=1 the matrix
    path's inputs are independent, so two-sample tests apply (inputs that share a draw
    are strongly correlated: the effective sample size is nearer the number of draws)."""
    from scipy import stats

    kw = dict(n=6000, q0=1e-3, seed=12)
    a = ck.sim.gaussian_avalanches(48, 80, sw, sb, method="matrix", resample_every=1, **kw)
    b = ck.sim.gaussian_avalanches(48, 80, sw, sb, method="marginal", resample_every=6000, **kw)
    assert stats.ks_2samp(a.durations, b.durations).pvalue > 1e-3
    assert stats.ks_2samp(a.sizes, b.sizes).pvalue > 1e-3
    for x, y in ((a.n_censored, b.n_censored), (a.n_empty, b.n_empty)):
        p = (x + y) / 12_000
        assert abs(x - y) / 6000 < 5 * np.sqrt(2 * p * (1 - p) / 6000) + 1e-9


def test_the_distribution_check_can_fail():
    """The same two-sample test tells sigma_w^2 = 1 + 2/N and 1 + 5/N apart."""
    from scipy import stats

    kw = dict(n=6000, q0=1e-3, seed=11, resample_every=6000, method="marginal")
    a = ck.sim.gaussian_avalanches(48, 80, 1.0 + 2 / 48, **kw)
    b = ck.sim.gaussian_avalanches(48, 80, 1.0 + 5 / 48, **kw)
    assert stats.ks_2samp(a.durations, b.durations).pvalue < 1e-6


def grouped_full_depth_trajectories(sizes, width, depth, sw, sb, q0, seed_int):
    """The obvious version of a group of draws sharing one random stream: the same
    numbers, drawn in the same order, then every draw through every layer on its own."""
    gen = NormalStream(seed_int, torch.device("cpu"), torch.float64)
    d, k = len(sizes), max(sizes)
    h = gk._inputs(d * k, width, q0, gen).view(d, k, width)
    ws, bs = [], []
    for _ in range(depth):
        w, b = gk._layer(gen, width, sw, sb, d)
        ws.append(w)
        bs.append(b)
    out = []
    for j, size in enumerate(sizes):
        x, qs = h[j, :size], []
        for layer in range(depth):
            z = x @ ws[layer][j].T + bs[layer][j, 0]
            qs.append(z.pow(2).mean(dim=1))
            x = torch.tanh(z) if layer + 1 < depth else z
        out.append(torch.stack(qs, dim=1).numpy())
    return out


@pytest.mark.parametrize(
    ("n", "size_def"), [(600, "total"), (530, "excess")]
)  # whole groups, and a short last draw
def test_grouped_draws_match_their_full_depth_twins(monkeypatch, n, size_def):
    # Force GPU-style groups of 3 draws on the CPU.
    k, width, depth, sw, sb, q0 = 100, 16, 30, 1 + 2 / 16, 1e-4, 1e-3
    monkeypatch.setitem(gk._GROUP_ELEMENTS, "cpu", 3 * k * width)
    chunks = list(
        g.iter_gaussian_avalanches(
            width,
            depth,
            sw,
            sb,
            n=n,
            q0=q0,
            resample_every=k,
            seed=2,
            dtype="float64",
            sizes=size_def,
        )
    )
    assert [d for d, _ in chunks] == list(range(-(-n // k)))
    sizes = [min(k, n - d * k) for d in range(-(-n // k))]
    for group in range(0, len(sizes), 3):
        twins = grouped_full_depth_trajectories(
            sizes[group : group + 3], width, depth, sw, sb, q0, gk._draw_seed(2, group // 3)
        )
        for j, q in enumerate(twins):
            av = chunks[group + j][1]
            ref = twin_avalanches(q, width, q0, size_def, depth)
            np.testing.assert_array_equal(av.durations, ref.durations)
            np.testing.assert_allclose(av.sizes, ref.sizes, rtol=1e-12)
            assert (av.n_censored, av.n_empty) == (ref.n_censored, ref.n_empty)
            np.testing.assert_allclose(av.shapes.sums, ref.shapes.sums, rtol=1e-12)
    # Resuming in the middle of a group gives the same later draws.
    later = list(
        g.iter_gaussian_avalanches(
            width,
            depth,
            sw,
            sb,
            n=n,
            q0=q0,
            resample_every=k,
            seed=2,
            dtype="float64",
            sizes=size_def,
            start_draw=4,
        )
    )
    assert [d for d, _ in later] == [d for d, _ in chunks[4:]]
    for (_, a), (_, b) in zip(later, chunks[4:], strict=True):
        np.testing.assert_array_equal(a.sizes, b.sizes)
