"""Argument checks shared by every public constructor: each raises ``TypeError``/``ValueError``
naming the argument and what was expected."""
from __future__ import annotations

import functools
import math
import numbers
import os

import numpy as np


def as_float(x, name: str) -> float:
    """A finite real scalar as ``float``; ``TypeError`` for non-numbers, ``ValueError`` for NaN/inf."""
    if isinstance(x, bool) or not isinstance(x, (numbers.Real, np.floating, np.integer)):
        raise TypeError(f"{name}: expected a real number, got {type(x).__name__} ({x!r})")
    v = float(x)
    if not math.isfinite(v):
        raise ValueError(f"{name}: expected a finite number, got {v!r}")
    return v


def check_positive_scalar(x, name: str) -> float:
    v = as_float(x, name)
    if v <= 0:
        raise ValueError(f"{name}: expected a positive number, got {v!r}")
    return v


def check_nonneg_scalar(x, name: str) -> float:
    v = as_float(x, name)
    if v < 0:
        raise ValueError(f"{name}: expected a number >= 0, got {v!r}")
    return v


def check_interval(x, name: str, low: float, high: float, *, low_closed=True, high_closed=False) -> float:
    v = as_float(x, name)
    ok_low = v >= low if low_closed else v > low
    ok_high = v <= high if high_closed else v < high
    if not (ok_low and ok_high):
        lb = "[" if low_closed else "("
        rb = "]" if high_closed else ")"
        raise ValueError(f"{name}: expected a value in {lb}{low}, {high}{rb}, got {v!r}")
    return v


def check_int(x, name: str, minimum: int | None = None) -> int:
    if isinstance(x, bool) or not isinstance(x, (numbers.Integral, np.integer)):
        raise TypeError(f"{name}: expected an integer, got {type(x).__name__} ({x!r})")
    v = int(x)
    if minimum is not None and v < minimum:
        raise ValueError(f"{name}: expected an integer >= {minimum}, got {v}")
    return v


def available_memory() -> int:
    """Physical memory of this machine in bytes (a generous ceiling for one array)."""
    try:
        return int(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not POSIX
        return 2 ** 40


def check_size(n_items: int, name: str, what: str, item_bytes: int = 8) -> None:
    """``ValueError`` naming ``name`` when ``n_items`` float64s (``what``) would not fit in this
    machine's memory: a clear error instead of numpy's ``MemoryError``."""
    need = int(n_items) * item_bytes
    have = available_memory()
    if need > have:
        raise ValueError(f"{name}: too large: {what} would need {need / 2 ** 30:.3g} GiB, more than "
                         f"this machine's {have / 2 ** 30:.3g} GiB of memory")


def check_dim(d, name: str = "d", *, dense: bool = False) -> int:
    """A dimension: an integer >= 1 whose (d,) vector, or (d, d) matrix when ``dense``, fits in
    memory (:func:`check_size`)."""
    d = check_int(d, name, minimum=1)
    check_size(d * d if dense else d, name, f"a {d} x {d} matrix" if dense else f"{d} values")
    return d


def check_bool(x, name: str) -> bool:
    if not isinstance(x, (bool, np.bool_)):
        raise TypeError(f"{name}: expected True or False, got {type(x).__name__} ({x!r})")
    return bool(x)


_NO = object()


def _first_non_number(x):
    """The first element of ``x`` (nested lists/tuples, or an array) that is not a real number
    (a string, bytes, a boolean, None, ...), or ``_NO``."""
    if isinstance(x, np.ndarray):
        if x.dtype.kind in "iuf":
            return _NO
        if x.dtype.kind != "O":
            return next(iter(x.flat)) if x.size else _NO
        items = x.flat
    elif isinstance(x, (list, tuple)):
        items = x
    else:
        return _NO if isinstance(x, (numbers.Real, np.number)) and not isinstance(
            x, (bool, np.bool_)) else x
    for v in items:
        if isinstance(v, (list, tuple, np.ndarray)):
            bad = _first_non_number(v)
            if bad is not _NO:
                return bad
        elif isinstance(v, (bool, np.bool_, str, bytes)) or not isinstance(v, (numbers.Real,
                                                                                np.number)):
            return v
    return _NO


def as_float_array(x, name: str, *, ndim: int | None = None, shape=None, finite=True,
                   positive=False) -> np.ndarray:
    """A float64 array copy; checks dtype (real numbers only: strings and booleans are refused, not
    converted), ndim/shape, finiteness and (optionally) positivity."""
    if isinstance(x, (str, bytes)) or x is None:
        raise TypeError(f"{name}: expected an array of numbers, got {type(x).__name__}")
    try:
        raw = np.asarray(x)
    except (TypeError, ValueError) as e:
        raise TypeError(f"{name}: expected an array of real numbers ({e})") from None
    if np.iscomplexobj(raw):
        raise TypeError(f"{name}: expected real numbers, got complex")
    bad = _first_non_number(x if isinstance(x, (list, tuple)) else raw)
    if bad is not _NO:
        raise TypeError(f"{name}: expected an array of real numbers, got an element of type "
                        f"{type(bad).__name__} ({bad!r})")
    try:
        a = np.array(raw, dtype=np.float64)
    except (TypeError, ValueError, OverflowError) as e:
        raise TypeError(f"{name}: expected an array of real numbers ({e})") from None
    if ndim is not None and a.ndim != ndim:
        raise ValueError(f"{name}: expected a {ndim}-d array, got shape {a.shape}")
    if shape is not None and a.shape != tuple(shape):
        raise ValueError(f"{name}: expected shape {tuple(shape)}, got {a.shape}")
    if a.size == 0:
        raise ValueError(f"{name}: expected a non-empty array")
    if finite and not np.all(np.isfinite(a)):
        raise ValueError(f"{name}: expected finite values (no NaN or inf)")
    if positive and not np.all(a > 0):
        raise ValueError(f"{name}: expected strictly positive values, min is {float(a.min())!r}")
    return a


def check_scale(scale, name: str):
    """A noise scale: positive scalar (float) or a 1-d vector of non-negative finite values."""
    if isinstance(scale, (numbers.Real, np.floating, np.integer)) and not isinstance(scale, bool):
        return check_positive_scalar(scale, name)
    a = as_float_array(scale, name, ndim=1)
    if np.any(a < 0):
        raise ValueError(f"{name}: expected non-negative values, min is {float(a.min())!r}")
    a.setflags(write=False)
    return a


def make_rng(seed, name: str = "seed") -> np.random.Generator:
    """A ``Generator`` from an int seed (>= 0) or a ``SeedSequence``/``Generator``."""
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, np.random.SeedSequence):
        return np.random.default_rng(seed)
    return np.random.default_rng(check_int(seed, name, minimum=0))


def check_problem(problem, name: str = "problem"):
    """A simopt problem (``simopt.Quadratic``, built by ``simopt.quadratic`` and friends)."""
    from .problems import Quadratic
    if not isinstance(problem, Quadratic):
        raise TypeError(f"{name}: expected a simopt problem (simopt.quadratic, block_diagonal or "
                        f"heterogeneous_blocks), got {type(problem).__name__}")
    return problem


def takes_problem(func):
    """Decorator for functions whose first argument is ``problem``: checked by
    :func:`check_problem` before the function runs."""
    @functools.wraps(func)
    def wrapper(problem, *args, **kwargs):
        check_problem(problem)
        return func(problem, *args, **kwargs)
    return wrapper
