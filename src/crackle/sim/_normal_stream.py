"""Standard normal numbers for the simulators: the compiled CPU sampler where it is built,
torch's generator elsewhere.

On a CPU torch draws one 32-bit number at a time from mt19937 (about 3.5 ns per normal
on the development machine), which made the 'marginal' kernel two-thirds random-number
generation. ``_normal.c`` draws 32 at a time from 16 xoshiro128+ lanes with a vectorised
Box-Muller transform (0.7 ns per normal with AVX-512, 1.4 with AVX2, 2.1 with plain
x86-64: ``benchmarks/bench_normal.py``), with the same bits on every x86-64 machine. It
is an optional extension, built at install where a C compiler is present; without it,
and on a GPU (where torch's Philox generator is fast), :class:`NormalStream` uses torch.
Which one a run used is part of its stream (:func:`sampler_name`), so a streamed run is
never resumed with the other.
"""

from __future__ import annotations

import ctypes
import importlib.machinery
import subprocess
from functools import cache
from pathlib import Path

import numpy as np
import torch

__all__ = ["NormalStream", "compiled_sampler", "sampler_name"]

_STATE_WORDS = 64  # 16 lanes x 4 words of xoshiro128+ state
# Numbers per step of the lanes: a call for n numbers takes ceil(n / 32) steps, so calls
# whose sizes are multiples of this give the same numbers as one call for their total.
BLOCK = 32
COMPILED = "xoshiro128+x16 box-muller"  # the compiled sampler's name in run configs
TORCH = "torch"


# The flags setup.py compiles _normal.c with (the two must agree).
COMPILE_ARGS = ("-O3", "-fno-math-errno", "-ffp-contract=off", "-Wno-psabi")


def _bind(lib: ctypes.CDLL) -> ctypes.CDLL:
    for name in ("crackle_fill_normal_f32", "crackle_fill_normal_f64", "crackle_xoshiro_raw"):
        getattr(lib, name).argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64]
        getattr(lib, name).restype = None
    return lib


@cache
def compiled_sampler() -> ctypes.CDLL | None:
    """The compiled sampler's library, or None where it was not built."""
    here = Path(__file__).parent
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        path = here / f"_normal_c{suffix}"
        if path.exists():
            try:
                return _bind(ctypes.CDLL(str(path)))
            except OSError:
                return None
    return None


def single_isa_marches() -> list[str]:
    """The ``-march`` levels this CPU runs (x86-64 Linux; none elsewhere), for building
    the sampler for one instruction set alone (tests and benchmarks/bench_normal.py)."""
    info = Path("/proc/cpuinfo")
    flags = info.read_text() if info.exists() else ""
    if " sse2" not in flags:
        return []
    marches = ["x86-64"] + ["x86-64-v3"] * (" avx2" in flags)
    return marches + ["x86-64-v4"] * all(
        f" {f}" in flags for f in ("avx512f", "avx512bw", "avx512vl")
    )


def build_single_isa(march: str, directory: Path) -> ctypes.CDLL:
    """The sampler compiled with gcc for ``-march=march`` alone (no runtime dispatch)."""
    lib_path = Path(directory) / f"libnormal-{march}.so"
    source = Path(__file__).with_name("_normal.c")
    subprocess.run(
        ["gcc", *COMPILE_ARGS, f"-march={march}", "-DCRACKLE_NO_CLONES", "-shared", "-fPIC",
         "-o", str(lib_path), str(source)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return _bind(ctypes.CDLL(str(lib_path)))


def sampler_name(dev: torch.device, dtype: torch.dtype) -> str:
    """The sampler :class:`NormalStream` uses for tensors of this device and dtype."""
    usable = dev.type == "cpu" and dtype in (torch.float32, torch.float64)
    return COMPILED if usable and compiled_sampler() is not None else TORCH


def lane_state(seed: int) -> np.ndarray:
    """The 16 lanes' xoshiro128+ state for ``seed``, from numpy's SeedSequence (no lane
    all zero: that state never leaves zero)."""
    st = np.random.SeedSequence(seed).generate_state(_STATE_WORDS, dtype=np.uint32)
    lanes = st.reshape(4, 16)
    lanes[0, ~lanes.any(axis=0)] = 1
    return np.ascontiguousarray(lanes.reshape(-1))


class NormalStream:
    """One stream of standard normal numbers from ``seed``, for tensors on ``dev``.

    ``fill_(t)`` overwrites a contiguous tensor with the stream's next ``t.numel()``
    numbers and returns it. The same seed gives the same numbers on the same device and
    dtype (and, with the compiled sampler, on every x86-64 machine).
    """

    def __init__(self, seed: int, dev: torch.device, dtype: torch.dtype) -> None:
        self.name = sampler_name(dev, dtype)
        self.dtype = dtype
        self._device = dev
        if self.name == COMPILED:
            lib = compiled_sampler()
            assert lib is not None
            self._fill = (
                lib.crackle_fill_normal_f32
                if dtype == torch.float32
                else lib.crackle_fill_normal_f64
            )
            self._state = lane_state(seed)
            self._state_ptr = self._state.ctypes.data
        else:
            self._gen = torch.Generator(device=dev).manual_seed(seed)

    def randn(self, shape: tuple[int, ...]) -> torch.Tensor:
        """A new tensor of the stream's next numbers (its device and dtype)."""
        return self.fill_(torch.empty(shape, dtype=self.dtype, device=self._device))

    def fill_(self, t: torch.Tensor) -> torch.Tensor:
        if self.name == TORCH:
            return t.normal_(generator=self._gen)
        if t.dtype != self.dtype or t.device.type != "cpu" or not t.is_contiguous():
            raise ValueError("NormalStream.fill_ needs a contiguous CPU tensor of its dtype")
        self._fill(self._state_ptr, t.data_ptr(), t.numel())
        return t
