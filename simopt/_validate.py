"""Argument checks shared by every public constructor: each raises ``TypeError``/``ValueError``
naming the argument and what was expected."""
from __future__ import annotations

import math
import numbers

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


def check_bool(x, name: str) -> bool:
    if not isinstance(x, (bool, np.bool_)):
        raise TypeError(f"{name}: expected True or False, got {type(x).__name__} ({x!r})")
    return bool(x)


def as_float_array(x, name: str, *, ndim: int | None = None, shape=None, finite=True,
                   positive=False) -> np.ndarray:
    """A float64 array copy; checks dtype, ndim/shape, finiteness and (optionally) positivity."""
    if isinstance(x, (str, bytes)) or x is None:
        raise TypeError(f"{name}: expected an array of numbers, got {type(x).__name__}")
    try:
        a = np.array(x, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise TypeError(f"{name}: expected an array of real numbers ({e})") from None
    if np.iscomplexobj(np.asarray(x)):
        raise TypeError(f"{name}: expected real numbers, got complex")
    if ndim is not None and a.ndim != ndim:
        raise ValueError(f"{name}: expected a {ndim}-d array, got shape {a.shape}")
    if shape is not None and a.shape != tuple(shape):
        raise ValueError(f"{name}: expected shape {tuple(shape)}, got {a.shape}")
    if a.size == 0:
        raise ValueError(f"{name}: expected a non-empty array")
    if finite and not np.all(np.isfinite(a)):
        raise ValueError(f"{name}: expected finite values (no NaN or inf)")
    if positive and not np.all(a > 0):
        raise ValueError(f"{name}: expected strictly positive values, min is {a.min()!r}")
    return a


def check_scale(scale, name: str):
    """A noise scale: positive scalar (float) or a 1-d vector of non-negative finite values."""
    if isinstance(scale, (numbers.Real, np.floating, np.integer)) and not isinstance(scale, bool):
        return check_positive_scalar(scale, name)
    a = as_float_array(scale, name, ndim=1)
    if np.any(a < 0):
        raise ValueError(f"{name}: expected non-negative values, min is {a.min()!r}")
    a.setflags(write=False)
    return a


def make_rng(seed, name: str = "seed") -> np.random.Generator:
    """A ``Generator`` from an int seed (>= 0) or a ``SeedSequence``/``Generator``."""
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, np.random.SeedSequence):
        return np.random.default_rng(seed)
    return np.random.default_rng(check_int(seed, name, minimum=0))
