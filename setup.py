"""Build the C core (csrc/) and the Cython bridge into menios._unix, and
the benchmark floors (csrc/bench/) into menios._floor.

The C sources are listed once, here; tests/cffi_build.py reads the same list
to build the sanitizer-instrumented core for the C-level tests.
"""
import os

from setuptools import Extension, setup

HERE = os.path.dirname(os.path.abspath(__file__))

C_SOURCES = [
    "csrc/platform/host.c",
    "csrc/kernel/sched/wait.c",
    "csrc/kernel/trace/trace.c",
    "csrc/kernel/net/skbuff.c",
    "csrc/kernel/mm/page.c",
    "csrc/kernel/net/unix/af_unix.c",
    "csrc/kernel/net/unix/stream.c",
    "csrc/kernel/net/unix/dgram.c",
    "csrc/kernel/net/unix/scm.c",
    "csrc/kernel/net/unix/msg.c",
    "csrc/kernel/net/unix/zerocopy.c",
    "csrc/kernel/net/unix/garbage.c",
    "csrc/kernel/net/unix/ready.c",
    "csrc/kernel/fs/pipe.c",
    "csrc/bridge/gil.c",
]

# The benchmark floors (menios._floor): plain C with pthreads, not the core.
FLOOR_SOURCES = ["csrc/bench/copyfloor.c", "csrc/bench/readyfloor.c"]

# The C core is held to -Werror; Cython's generated C is not ours to police.
# No feature macros: csrc/kernel is freestanding C, and the platform file
# asks for what it needs itself.
C_CORE_FLAGS = ["-std=c11", "-Wall", "-Wextra", "-Werror", "-O2"]
# The floors are host programs (pthreads, clock_gettime).
FLOOR_FLAGS = C_CORE_FLAGS + ["-D_GNU_SOURCE"]

# MENIOS_NO_TRACE=1 builds the core and the bridge without their tracepoints
# (csrc/kernel/trace/trace.h): the baseline the cost of disabled tracing is
# measured against (benchmarks/README.md).
TRACE_DEFINES = ["-DMENIOS_NO_TRACE"] if os.environ.get("MENIOS_NO_TRACE") == "1" else []
C_CORE_FLAGS += TRACE_DEFINES


def _build_ext_class():
    from setuptools.command.build_ext import build_ext

    class BuildExt(build_ext):
        """Compile the C core strictly, then the Cython module normally."""

        def build_extension(self, ext):
            core = ext.name == "menios._unix"
            objects = self.compiler.compile(
                C_SOURCES if core else FLOOR_SOURCES, output_dir=self.build_temp,
                include_dirs=["csrc"], extra_postargs=C_CORE_FLAGS if core else FLOOR_FLAGS)
            ext.extra_objects = objects
            super().build_extension(ext)

    return BuildExt


def _c_headers():
    out = []
    for root, _, files in os.walk(os.path.join(HERE, "csrc")):
        out += [os.path.relpath(os.path.join(root, f), HERE) for f in files if f.endswith(".h")]
    return sorted(out)


def _extensions():
    from Cython.Build import cythonize

    ext = Extension(
        "menios._unix",
        # _pysignal.c reads CPython's own signal flags: Python.h and
        # CPython's internal headers, so not a file of the C core.
        sources=["menios/_unix.pyx", "menios/_pysignal.c"],
        include_dirs=["csrc"],
        extra_compile_args=["-O2", "-std=c11", "-D_GNU_SOURCE", *TRACE_DEFINES],
        # A change to the C core alone must relink the module.
        depends=C_SOURCES + _c_headers() + ["menios/pagecache.pxi", "menios/_pysignal.h"],
    )
    floor = Extension(
        "menios._floor",
        sources=["menios/_floor.pyx"],
        include_dirs=["csrc"],
        extra_compile_args=["-O2", "-std=c11", "-D_GNU_SOURCE"],
        depends=FLOOR_SOURCES + ["csrc/bench/copyfloor.h", "csrc/bench/readyfloor.h"],
    )
    return cythonize([ext, floor], language_level=3,
                     compiler_directives={"embedsignature": True})


if __name__ == "__main__":
    setup(ext_modules=_extensions(), cmdclass={"build_ext": _build_ext_class()})
