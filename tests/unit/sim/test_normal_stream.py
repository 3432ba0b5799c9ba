"""The compiled normal sampler (src/crackle/sim/_normal.c) against an independent numpy
implementation of the same stream, and the stream's promises: the same numbers however
a run splits its calls, with either dtype, on every x86-64 build."""

import shutil

import numpy as np
import pytest
import torch
from scipy import stats

from crackle.sim import _normal_stream as ns
from crackle.sim._normal_stream import BLOCK, NormalStream, lane_state

CPU = torch.device("cpu")
needs_lib = pytest.mark.skipif(ns.compiled_sampler() is None, reason="sampler not built")


def xoshiro_reference(state: np.ndarray, steps: int) -> np.ndarray:
    """xoshiro128+ (Blackman and Vigna) on 16 lanes in numpy: per step, each lane's next
    output, then its one after; 32 words per step."""
    s = state.reshape(4, 16).astype(np.uint32)
    out = np.empty((steps, 2, 16), np.uint32)
    for j in range(steps):
        for half in range(2):
            out[j, half] = s[0] + s[3]
            t = s[1] << np.uint32(9)
            s[2] ^= s[0]
            s[3] ^= s[1]
            s[1] ^= s[2]
            s[0] ^= s[3]
            s[2] ^= t
            s[3] = (s[3] << np.uint32(11)) | (s[3] >> np.uint32(21))
    return out.reshape(-1)


def box_muller_reference(raw: np.ndarray) -> np.ndarray:
    """Box-Muller in float64 from the top 24 bits of each lane's two outputs."""
    w = raw.reshape(-1, 2, 16).astype(np.float64)
    u1 = (np.floor(w[:, 0] / 256) + 1) * 2.0**-24  # (0, 1]
    u2 = np.floor(w[:, 1] / 256) * 2.0**-24  # [0, 1)
    r = np.sqrt(-2 * np.log(u1))
    return np.stack([r * np.cos(2 * np.pi * u2), r * np.sin(2 * np.pi * u2)], 1).reshape(-1)


def test_the_sampler_is_built_where_a_compiler_is():
    """The extension is optional at install, so a broken build would only show as a slow
    simulator: here, where a C compiler is present, it must have been built."""
    if shutil.which("cc") is None and shutil.which("gcc") is None:
        pytest.skip("no C compiler here")
    assert ns.compiled_sampler() is not None
    assert ns.sampler_name(CPU, torch.float32) == ns.COMPILED


@needs_lib
def test_lanes_are_xoshiro128_plus():
    lib = ns.compiled_sampler()
    state = lane_state(3)
    raw = np.empty(32 * 40, np.uint32)
    lib.crackle_xoshiro_raw(state.copy().ctypes.data, raw.ctypes.data, 40)
    np.testing.assert_array_equal(raw, xoshiro_reference(state, 40))


@needs_lib
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_normals_are_box_muller_of_the_lanes(dtype):
    """Within float32 rounding of the float64 transform (the polynomials' few ulp), over
    enough numbers to reach the tails (|x| up to about 5)."""
    n_steps = 1 << 13
    state = lane_state(5)
    expect = box_muller_reference(xoshiro_reference(state, n_steps))
    got = NormalStream(5, CPU, dtype).fill_(torch.empty(32 * n_steps, dtype=dtype)).numpy()
    assert np.abs(expect).max() > 4.0
    np.testing.assert_allclose(got, expect, rtol=2e-6, atol=2e-6)


@needs_lib
def test_a_wrong_transform_fails_that_comparison():
    n_steps = 256
    expect = box_muller_reference(xoshiro_reference(lane_state(5), n_steps))
    got = NormalStream(5, CPU, torch.float32).fill_(torch.empty(32 * n_steps)).numpy()
    with pytest.raises(AssertionError):  # sin and cos halves swapped
        np.testing.assert_allclose(
            got.reshape(-1, 2, 16)[:, ::-1].reshape(-1), expect, rtol=2e-6, atol=2e-6
        )


@pytest.mark.parametrize("sampler", ["compiled", "torch"])
def test_calls_split_at_blocks_give_the_same_numbers(sampler, monkeypatch):
    if sampler == "torch":
        monkeypatch.setattr(ns, "compiled_sampler", lambda: None)
    elif ns.compiled_sampler() is None:
        pytest.skip("sampler not built")
    one = NormalStream(7, CPU, torch.float32).fill_(torch.empty(5 * BLOCK))
    s = NormalStream(7, CPU, torch.float32)
    parts = [s.fill_(torch.empty(m * BLOCK)) for m in (2, 1, 2)]
    torch.testing.assert_close(torch.cat(parts), one, rtol=0, atol=0)
    other = NormalStream(8, CPU, torch.float32).fill_(torch.empty(5 * BLOCK))
    assert not torch.equal(one, other)


@needs_lib
def test_float64_numbers_are_the_float32_ones_and_a_short_call_drops_its_block_rest():
    s32, s64 = NormalStream(1, CPU, torch.float32), NormalStream(1, CPU, torch.float64)
    a = s32.fill_(torch.empty(3 * BLOCK + 5))
    b = s64.fill_(torch.empty(3 * BLOCK + 5, dtype=torch.float64))
    torch.testing.assert_close(b, a.double(), rtol=0, atol=0)
    nxt = s32.fill_(torch.empty(BLOCK))
    whole = NormalStream(1, CPU, torch.float32).fill_(torch.empty(5 * BLOCK))
    torch.testing.assert_close(nxt, whole[4 * BLOCK :], rtol=0, atol=0)


@needs_lib
def test_the_law_is_standard_normal():
    x = NormalStream(11, CPU, torch.float64).fill_(torch.empty(1 << 20, dtype=torch.float64))
    x = x.numpy()
    assert stats.kstest(x, "norm").pvalue > 1e-3
    assert abs(x.mean()) < 5 / np.sqrt(x.size)
    assert abs(x.var() - 1) < 5 * np.sqrt(2 / x.size)
    for lag in (1, 16, 32):  # within a step, across the halves, across steps
        assert abs(np.corrcoef(x[:-lag], x[lag:])[0, 1]) < 5 / np.sqrt(x.size)
    # the pair (r cos, r sin) of one lane: |x|^2 of the pair is chi-square with 2 dof
    pairs = x.reshape(-1, 2, 16)
    assert stats.kstest((pairs**2).sum(1).reshape(-1), "chi2", args=(2,)).pvalue > 1e-3


def test_fill_refuses_what_it_cannot_fill():
    s = NormalStream(0, CPU, torch.float32)
    if s.name == ns.COMPILED:
        with pytest.raises(ValueError, match="contiguous"):
            s.fill_(torch.empty(8, 8).t())
        with pytest.raises(ValueError, match="dtype"):
            s.fill_(torch.empty(8, dtype=torch.float64))


@needs_lib
@pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc")
@pytest.mark.skipif(not ns.single_isa_marches(), reason="needs an x86-64 Linux")
def test_every_instruction_set_gives_the_same_bits(tmp_path):
    """Each build alone (no runtime dispatch), for every instruction set this CPU runs,
    gives the installed library's bits: a seed means the same numbers on every machine."""
    want = NormalStream(9, CPU, torch.float32).fill_(torch.empty(32 * 4096 + 7)).numpy()
    for march in ns.single_isa_marches():
        lib = ns.build_single_isa(march, tmp_path)
        state, got = lane_state(9), np.empty(want.size, np.float32)
        lib.crackle_fill_normal_f32(state.ctypes.data, got.ctypes.data, got.size)
        np.testing.assert_array_equal(got.view(np.uint32), want.view(np.uint32), err_msg=march)
