"""Build of crackle's one compiled piece, the CPU normal sampler (src/crackle/sim/_normal.c).

Everything else is in pyproject.toml. The extension is optional: where it cannot be
compiled (no C compiler), crackle installs anyway and samples with torch's generator.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "crackle.sim._normal_c",
            ["src/crackle/sim/_normal.c"],
            # -ffp-contract=off: no fused multiply-adds, so the AVX-512, AVX2 and plain
            # builds round alike and a seed gives the same numbers on every machine.
            # The same flags as COMPILE_ARGS in crackle/sim/_normal_stream.py.
            extra_compile_args=["-O3", "-fno-math-errno", "-ffp-contract=off", "-Wno-psabi"],
            optional=True,
        )
    ]
)
