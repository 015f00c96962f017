"""What a result was computed with: versions, source revision, and the *machine type*.

simopt's results are bit-identical per seed on one machine type, not across machine types: the
BLAS library picks a kernel for the CPU it runs on (OpenBLAS's ``architecture``: SkylakeX, Haswell,
Zen, ...), and Numba compiles the engine for the host CPU's instruction set (LLVM's host CPU name
and features); both change the order and fusion of floating-point operations, hence the last digits.
:func:`provenance` records all of it, so two results can be compared knowing whether they should
agree bit for bit; :func:`machine_type` is the part that must match for that.  Every sweep cell
stores it (``simopt.sweep``) and ``simopt info`` prints it.

The portable mode (``SIMOPT_PORTABLE=1``, see ``simopt._cache.configure``) pins both to baselines.
"""
from __future__ import annotations

import functools
import os
import platform
import subprocess
from pathlib import Path

from ._cache import portable_requested

__all__ = ["provenance", "machine_type", "blas_info", "numba_target", "cpu_model", "git_sha", "source_digest"]


def git_sha(path) -> str | None:
    """The commit of the git work tree holding ``path`` (with ``+dirty`` when it has uncommitted
    changes), or ``None`` outside git."""
    try:
        sha = subprocess.run(["git", "-C", str(path), "rev-parse", "HEAD"], capture_output=True,
                             text=True, timeout=10)
        if sha.returncode != 0:
            return None
        dirty = subprocess.run(["git", "-C", str(path), "status", "--porcelain",
                                "--untracked-files=no"], capture_output=True, text=True, timeout=10)
        return sha.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return None


@functools.lru_cache(maxsize=1)
@functools.lru_cache(maxsize=1)
def source_digest() -> str:
    """SHA-256 (first 16 hex digits) of simopt's Python sources and of the reproductions shipped as
    ``simopt.paper_repro``, by path relative to the package: the same for an installed and an editable
    copy of one revision, different as soon as one source line differs.  A report made by one copy can
    thus be recognised as made by the same code as another."""
    import hashlib

    import simopt
    root = Path(simopt.__file__).resolve().parent
    try:
        import simopt.paper_repro as repro
        repro_root = Path(repro.__file__).resolve().parent
    except ImportError:  # pragma: no cover - a copy without the reproductions
        repro_root = None
    files = [("simopt", p.relative_to(root)) for p in root.rglob("*.py")
             if "paper_repro" not in p.relative_to(root).parts]
    if repro_root is not None:
        files += [("paper_repro", p.relative_to(repro_root)) for p in repro_root.rglob("*.py")]
    h = hashlib.sha256()
    for base, rel in sorted(files, key=lambda f: (f[0], f[1].as_posix())):
        path = (root if base == "simopt" else repro_root) / rel
        h.update(f"{base}/{rel.as_posix()}\0".encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo`` on Linux, else ``platform.processor()``)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def blas_info() -> list[dict]:
    """Every loaded BLAS library (threadpoolctl): ``internal_api`` (openblas, mkl, blis, ...),
    ``version``, ``architecture`` (the kernel chosen for this CPU), ``threading_layer`` and the
    library's file name."""
    import numpy  # noqa: F401  - numpy's and scipy's BLAS are loaded before the scan
    import scipy.linalg  # noqa: F401
    from threadpoolctl import threadpool_info
    out = []
    for lib in threadpool_info():
        if lib.get("user_api") != "blas":
            continue
        out.append({"internal_api": lib.get("internal_api"), "version": lib.get("version"),
                    "architecture": lib.get("architecture"),
                    "threading_layer": lib.get("threading_layer"),
                    "library": os.path.basename(lib.get("filepath") or "")})
    return sorted(out, key=lambda d: d["library"])


def numba_target() -> dict:
    """The CPU Numba compiles for: ``cpu_name`` and ``cpu_features`` as Numba uses them
    (``NUMBA_CPU_NAME`` / ``NUMBA_CPU_FEATURES`` when set, else LLVM's host CPU), and the host's."""
    import llvmlite.binding as ll
    import numba
    host = ll.get_host_cpu_name()
    name = numba.config.CPU_NAME or host
    feats = numba.config.CPU_FEATURES
    if feats is None:
        feats = ll.get_host_cpu_features().flatten()
    return {"cpu_name": name, "cpu_features": feats, "host_cpu_name": host}


def _numpy_simd() -> list[str]:
    try:
        from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__
    except ImportError:  # numpy < 2
        try:
            from numpy.core._multiarray_umath import __cpu_dispatch__, __cpu_features__
        except ImportError:
            return []
    return [t for t in __cpu_dispatch__ if __cpu_features__.get(t)]


def machine_type() -> dict:
    """What must be equal for two results to agree bit for bit (besides versions and seed): the
    CPU model, the BLAS kernels, Numba's target CPU and features, NumPy's SIMD targets."""
    nt = numba_target()
    return {"cpu_model": cpu_model(), "machine": platform.machine(),
            "blas": [f"{b['internal_api']} {b['version']} {b['architecture']}" for b in blas_info()],
            "numba_cpu_name": nt["cpu_name"], "numba_cpu_features": nt["cpu_features"],
            "numpy_simd": _numpy_simd(),
            "portable": portable_requested()}


def provenance() -> dict:
    """Versions, source revision and :func:`machine_type` (recorded with every sweep cell)."""
    import llvmlite
    import numba
    import numpy
    import scipy

    import simopt
    return {"simopt": simopt.__version__, "numpy": numpy.__version__, "scipy": scipy.__version__,
            "numba": numba.__version__, "llvmlite": llvmlite.__version__,
            "python": platform.python_version(), "platform": platform.platform(),
            "git_sha": git_sha(Path(simopt.__file__).resolve().parent),
            "machine_type": machine_type(), "blas": blas_info(), "numba_target": numba_target()}
