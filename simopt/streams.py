"""Per-run random streams: (seed, run, sub) -> one xoshiro256++ state, and the numbers drawn from it.

A stream's state is

    SeedSequence(seed, spawn_key=(run,)).generate_state(4, uint64)          for sub = 0,
    SeedSequence(seed, spawn_key=(run, sub)).generate_state(4, uint64)      for sub >= 1,

i.e. run ``r`` gets the r-th child of ``SeedSequence(seed)`` (the same (seed, run) -> SeedSequence map the
engine uses for its NumPy generators) and its sub-stream ``k`` that child's k-th child.  NumPy's
SeedSequence hashes the whole key, so the streams of neighbouring runs and of a run's sub-streams are
unrelated states of a generator with period 2**256 - 1.  ``sub = 0`` is a run's gradient-noise stream;
``sub >= 1`` are streams an update rule may own (e.g. Hutchinson probe vectors), so a rule that draws
extra numbers never shifts the noise another rule sees on the same seed.

The all-zero state is xoshiro's one forbidden state.  SeedSequence produces it with probability 2**-256;
should it happen, the state is the next four words of the same SeedSequence's output
(``generate_state(8)[4:]``, and so on), so every (seed, run, sub) still has one well-defined state.

The drawing functions (``normals``, ``student_t``, ``gammas``, ``rademachers``) fill an array of the given
shape in row-major order with the kernels of :mod:`simopt._kernels.rng`, so they give exactly the numbers a
compiled loop draws from ``stream_state(seed, run, sub)``; they are the NumPy-side reference for code that
draws in a kernel.  Each starts from the stream's first number; a :class:`Stream` is read on from call to
call instead, as a run's loop reads its stream step after step (mixing uniforms and normals, as the
sampled-data gradients of ``simopt.noise`` do).
"""
from __future__ import annotations

import numbers

import numpy as np

from ._kernels import rng as _rng
from ._validate import check_int, check_positive_scalar

__all__ = ["stream_state", "stream_states", "normals", "student_t", "gammas", "rademachers", "Stream"]

STATE_WORDS = 4


def _state_from(seq) -> np.ndarray:
    """The first block of four output words of ``seq`` (a SeedSequence) that is not all zero."""
    n = STATE_WORDS
    while True:
        words = np.asarray(seq.generate_state(n, np.uint64), dtype=np.uint64)[n - STATE_WORDS:]
        if words.any():
            return words.copy()
        n += STATE_WORDS


def _key(run: int, sub: int) -> tuple:
    return (run,) if sub == 0 else (run, sub)


def stream_state(seed, run, sub=0) -> np.ndarray:
    """The xoshiro256++ state (``uint64``, shape (4,)) of stream ``sub`` of run ``run`` under ``seed``.

    ``seed``, ``run`` and ``sub`` are integers >= 0; ``sub = 0`` is the run's gradient-noise stream.
    """
    seed = check_int(seed, "seed", minimum=0)
    run = check_int(run, "run", minimum=0)
    sub = check_int(sub, "sub", minimum=0)
    return _state_from(np.random.SeedSequence(seed, spawn_key=_key(run, sub)))


def stream_states(seed, first_run, runs, sub=0) -> np.ndarray:
    """States of runs ``first_run, ..., first_run + runs - 1``: a C-contiguous (runs, 4) ``uint64`` array
    whose row r is ``stream_state(seed, first_run + r, sub)``."""
    seed = check_int(seed, "seed", minimum=0)
    first_run = check_int(first_run, "first_run", minimum=0)
    runs = check_int(runs, "runs", minimum=0)
    sub = check_int(sub, "sub", minimum=0)
    key = (seed, first_run, runs, sub)
    out = _RECENT.get(key)
    if out is None:
        out = np.empty((runs, STATE_WORDS), dtype=np.uint64)
        for r in range(runs):
            out[r] = _state_from(np.random.SeedSequence(seed, spawn_key=_key(first_run + r, sub)))
        if len(_RECENT) >= _RECENT_MAX:
            _RECENT.pop(next(iter(_RECENT)))
        _RECENT[key] = out
    return out.copy()


#: the states of the last few ``stream_states`` calls: a tuning grid or a benchmark runs the same seeds
#: again and again, and deriving 64 states through SeedSequence costs about a millisecond
_RECENT = {}
_RECENT_MAX = 32


def _shape(shape) -> tuple:
    """An array shape: an int >= 0 or a tuple of them."""
    if isinstance(shape, (numbers.Integral, np.integer)) and not isinstance(shape, bool):
        shape = (shape,)
    if not isinstance(shape, (tuple, list)):
        raise TypeError(f"shape: expected an integer or a tuple of integers, got {type(shape).__name__} "
                        f"({shape!r})")
    return tuple(check_int(n, "shape", minimum=0) for n in shape)


def _draw(seed, run, shape, sub):
    shape = _shape(shape)
    return stream_state(seed, run, sub), np.empty(shape, dtype=np.float64)


def normals(seed, run, shape, sub=0) -> np.ndarray:
    """Standard normals of stream (seed, run, sub), ``shape`` filled in row-major order (ziggurat,
    :func:`simopt._kernels.rng.std_normal`)."""
    s, out = _draw(seed, run, shape, sub)
    _rng.fill_normal(s, out.reshape(-1))
    return out


def student_t(seed, run, shape, df, sub=0) -> np.ndarray:
    """Standard Student-t(df) draws (any real ``df > 0``) of stream (seed, run, sub), ``shape`` filled in
    row-major order (:func:`simopt._kernels.rng.std_t`: z / sqrt(2 Gamma(df/2) / df))."""
    df = check_positive_scalar(df, "df")
    s, out = _draw(seed, run, shape, sub)
    _rng.fill_t(s, df, out.reshape(-1))
    return out


def gammas(seed, run, shape, alpha, sub=0) -> np.ndarray:
    """Gamma(alpha, scale 1) draws (shape parameter ``alpha > 0``) of stream (seed, run, sub), ``shape``
    filled in row-major order (:func:`simopt._kernels.rng.std_gamma`, Marsaglia & Tsang 2000)."""
    alpha = check_positive_scalar(alpha, "alpha")
    s, out = _draw(seed, run, shape, sub)
    _rng.fill_gamma(s, alpha, out.reshape(-1))
    return out


def rademachers(seed, run, shape, sub=0) -> np.ndarray:
    """Random signs +-1.0 (one u64 each, :func:`simopt._kernels.rng.rademacher`) of stream (seed, run,
    sub), ``shape`` filled in row-major order."""
    s, out = _draw(seed, run, shape, sub)
    _rng.fill_rademacher(s, out.reshape(-1))
    return out


class Stream:
    """Stream ``sub`` of run ``run`` under ``seed``, read on from call to call: each draw continues where
    the previous one stopped, so a sequence of calls gives exactly the numbers a compiled loop draws from
    the same stream in the same order (``Stream(seed, r)`` is run r's gradient-noise stream in
    ``simopt.run``)."""

    def __init__(self, seed, run, sub=0):
        self.state = stream_state(seed, run, sub)

    def normals(self, shape) -> np.ndarray:
        """The next standard normals, ``shape`` filled in row-major order (:func:`normals`)."""
        out = np.empty(_shape(shape), dtype=np.float64)
        _rng.fill_normal(self.state, out.reshape(-1))
        return out

    def uniforms(self, shape) -> np.ndarray:
        """The next uniforms on [0, 1), one output each (:func:`simopt._kernels.rng.next_double`),
        ``shape`` filled in row-major order."""
        out = np.empty(_shape(shape), dtype=np.float64)
        flat = out.reshape(-1)
        for i in range(flat.size):
            flat[i] = _rng.next_double(self.state)
        return out

    def student_t(self, shape, df) -> np.ndarray:
        """The next standard Student-t(df) draws, ``shape`` filled in row-major order (:func:`student_t`)."""
        df = check_positive_scalar(df, "df")
        out = np.empty(_shape(shape), dtype=np.float64)
        _rng.fill_t(self.state, df, out.reshape(-1))
        return out

    def __repr__(self):
        return f"Stream(state={[int(w) for w in self.state]})"
