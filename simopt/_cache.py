"""Where simopt keeps compiled code: a per-user cache directory, never the installed package.

Numba's ``cache=True`` writes machine code next to the sources by default (``__pycache__`` inside the
package).  For an installed simopt that folder belongs to pip: files written there are not recorded, so
a later ``pip install -e .`` leaves them behind and the stray ``simopt/_kernels/__pycache__`` makes
``simopt`` a namespace package that shadows the editable install.  simopt therefore points Numba at

    $SIMOPT_CACHE_DIR, else $XDG_CACHE_HOME/simopt, else ~/.cache/simopt  (sub-folder ``numba``)

unless ``NUMBA_CACHE_DIR`` is set, which always wins.  Inside it, each state of simopt's compiled sources
gets its own folder (``numba/<version>-<digest of simopt/_kernels and simopt/optim>``): Numba checks only
the timestamp of a function's own file, so a kernel that inlines a changed helper from another file would
otherwise load stale machine code.  The generated glue modules of update rules
(``simopt._kernels.codegen``) live beside it in the sub-folder ``loops``.

This must run before any ``@njit(cache=True)`` function of simopt is defined (Numba chooses a function's
cache location when it is decorated), so ``simopt/__init__.py`` calls :func:`configure` first.

Portable mode (opt-in, ``SIMOPT_PORTABLE=1`` in the environment): :func:`configure` also pins the
CPU-dependent code paths to baselines, by environment variables that must be set before NumPy and
Numba load (so before ``import numpy``, or set them yourself): ``NUMBA_CPU_NAME=generic`` (Numba
compiles for the baseline x86-64 / CPU-family target, not the host's instruction set),
``OPENBLAS_CORETYPE`` (``Haswell`` on x86-64, ``ARMV8`` on arm64: OpenBLAS uses that kernel, not the
one it would pick for this CPU) and, on x86-64, ``NPY_DISABLE_CPU_FEATURES`` (NumPy's own
AVX-512 loops off, e.g. for ``power``/``exp`` in the spectra).  Pool and LocalCluster workers inherit
them.  Results are then the same on CPUs that differ only in those choices (any x86-64 CPU with
AVX2 and FMA), at a measured cost (``benchmarks/bench_determinism.py``).
"""
from __future__ import annotations

import os

_CONFIGURED = False


def cache_root() -> str:
    """simopt's per-user cache directory (not created here)."""
    env = os.environ.get("SIMOPT_CACHE_DIR")
    if env:
        return os.path.abspath(os.path.expanduser(env))
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = xdg if xdg else os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(os.path.abspath(base), "simopt")


def source_digest() -> str:
    """SHA-256 (hex) of every source file of simopt's compiled code (``_kernels``, ``optim``)."""
    import hashlib
    here = os.path.dirname(os.path.abspath(__file__))
    h = hashlib.sha256()
    for folder in ("_kernels", "optim", os.path.join("optim", "rules")):
        path = os.path.join(here, folder)
        for fn in sorted(os.listdir(path)) if os.path.isdir(path) else ():
            if fn.endswith(".py"):
                h.update(fn.encode())
                with open(os.path.join(path, fn), "rb") as f:
                    h.update(f.read())
    return h.hexdigest()


def numba_cache_dir() -> str:
    """The directory Numba caches simopt's kernels in (``NUMBA_CACHE_DIR`` if the user set it)."""
    env = os.environ.get("NUMBA_CACHE_DIR")
    if env:
        return os.path.abspath(env)
    from . import __version__
    return os.path.join(cache_root(), "numba", f"{__version__}-{source_digest()[:12]}")


def loops_dir() -> str:
    """Where the generated, rule-specialised run loops are written (created on demand)."""
    d = os.path.join(cache_root(), "loops")
    os.makedirs(d, exist_ok=True)
    return d


#: NumPy's dispatch targets above x86-64-v3 (AVX2/FMA, what the Haswell BLAS kernel needs too),
#: under the names of NumPy 1.x and 2.x (a name this NumPy does not know is ignored)
_NUMPY_ABOVE_V3 = ("X86_V4 AVX512F AVX512CD AVX512_KNL AVX512_KNM AVX512_SKX AVX512_CLX "
                   "AVX512_CNL AVX512_ICL AVX512_SPR")
_X86 = {"NUMBA_CPU_NAME": "generic", "OPENBLAS_CORETYPE": "Haswell",
        "NPY_DISABLE_CPU_FEATURES": _NUMPY_ABOVE_V3}
_ARM = {"NUMBA_CPU_NAME": "generic", "OPENBLAS_CORETYPE": "ARMV8"}
#: what SIMOPT_PORTABLE=1 sets, per machine architecture
PORTABLE_ENV = {"x86_64": _X86, "AMD64": _X86, "aarch64": _ARM, "arm64": _ARM}


def portable_requested() -> bool:
    return os.environ.get("SIMOPT_PORTABLE", "") not in ("", "0")


def _configure_portable() -> None:
    import platform
    import sys
    import warnings
    env = PORTABLE_ENV.get(platform.machine(), {"NUMBA_CPU_NAME": "generic"})
    late = [m for m in ("numpy", "numba") if m in sys.modules]
    os.environ.update(env)  # children (pool and LocalCluster workers) inherit these
    if late:
        warnings.warn(f"SIMOPT_PORTABLE=1: {' and '.join(late)} was imported before simopt, so "
                      f"{', '.join(f'{k}={v}' for k, v in env.items())} cannot take effect in this "
                      f"process: set them in the environment before starting Python",
                      RuntimeWarning, stacklevel=3)


def configure() -> None:
    """Point Numba's on-disk cache at :func:`numba_cache_dir` and, with ``SIMOPT_PORTABLE=1``, pin
    Numba's target and OpenBLAS's kernel to baselines (module docstring); idempotent."""
    global _CONFIGURED
    if _CONFIGURED:
        return
    if portable_requested():
        _configure_portable()
    import numba
    if not os.environ.get("NUMBA_CACHE_DIR"):
        numba.config.CACHE_DIR = numba_cache_dir()
    _CONFIGURED = True
