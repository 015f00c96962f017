"""BLAS pinned to one thread around the linear algebra that builds problems, rotations and noise
factors, so that they do not depend on the thread count of the process that builds them.

OpenBLAS splits a large product or factorization (``Z = QR``, ``(R*λ) @ Rᵀ``, ``eigh``) over its
threads, and the split changes the order of the floating-point additions: the same call gives
results that differ in the last digits with 1 and with 2 BLAS threads.  A sweep cell may be built in
the parent process (all threads) or in a pool or Dask worker (one thread), so every construction
step runs under :func:`one_thread` and gives the same bits everywhere (on one machine type: the
BLAS kernel still depends on the CPU, see ``simopt._provenance``).  The engine pins its own run loop
the same way.

Pinning costs about 5 µs per entry (``benchmarks/bench_blas_pin.py`` measures it against the
unpinned construction); building a dense d = 1000 problem with one thread instead of two is the
larger cost, and it is paid once per problem.

The pin is process-wide (OpenBLAS has one thread setting per library) and reference-counted: the
first thread to enter sets one thread, the last one to leave restores the previous setting, so
threads that build problems concurrently never restore the count while another is still inside.
"""
from __future__ import annotations

import functools
import threading

__all__ = ["one_thread", "single_threaded"]

_LOCK = threading.Lock()
_CONTROLLER = None
_DEPTH = 0
_SAVED = None


def _controller():
    global _CONTROLLER
    if _CONTROLLER is None:
        import numpy  # noqa: F401  - numpy's and scipy's own OpenBLAS copies are loaded
        import scipy.linalg  # noqa: F401  before the libraries are scanned
        from threadpoolctl import ThreadpoolController
        _CONTROLLER = ThreadpoolController()
    return _CONTROLLER


class _OneThread:
    def __enter__(self):
        global _DEPTH, _SAVED
        with _LOCK:
            if _DEPTH == 0:
                _SAVED = _controller().limit(limits=1, user_api="blas")
            _DEPTH += 1
        return self

    def __exit__(self, *exc):
        global _DEPTH, _SAVED
        with _LOCK:
            _DEPTH -= 1
            if _DEPTH == 0:
                saved, _SAVED = _SAVED, None
                saved.restore_original_limits()
        return False


_ONE = _OneThread()


def one_thread() -> _OneThread:
    """A context manager that runs its body with every loaded BLAS library on one thread."""
    return _ONE


def single_threaded(func):
    """Decorator: ``func`` runs under :func:`one_thread`."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with _ONE:
            return func(*args, **kwargs)
    return wrapper
