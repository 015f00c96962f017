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


def configure() -> None:
    """Point Numba's on-disk cache at :func:`numba_cache_dir` (idempotent)."""
    global _CONFIGURED
    if _CONFIGURED:
        return
    import numba
    if not os.environ.get("NUMBA_CACHE_DIR"):
        numba.config.CACHE_DIR = numba_cache_dir()
    _CONFIGURED = True
