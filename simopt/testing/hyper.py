"""The valid values of a declared hyperparameter (:class:`simopt.optim.Hyper`), read from its kind and
interval, and values outside them: what the hypothesis strategies (:mod:`simopt.testing.strategies`) and
:func:`simopt.testing.check_rule` draw from, so that a new rule is covered by its declaration alone; and
the built-in definitions they range over (:func:`builtin_rules`, :func:`builtin_wrappers`: every
``RuleDef`` and ``Wrapper`` of the modules of :mod:`simopt.optim.rules`).

Ranges (:func:`valid_range`):

- ``"float"`` with an interval ``[a, b]``, ``(a, b)``, ...: uniform on it, each closed end point with some
  probability; ``">= a"`` / ``"> a"``: ``a + 10**u`` with u uniform on [-8, 1] (log-uniform, the end
  point too when closed); no interval: 0.5 to 1.5 times the default (standard normal without one);
- ``"int"`` with ``minimum`` m: m .. m + 4 (around the default without a minimum);
- ``"bool"``: both; ``"choice"``: every option.
"""
from __future__ import annotations

import importlib
import math
import pkgutil
from dataclasses import dataclass

import numpy as np

from ..optim import rules as _rules
from ..optim.rule import _REQUIRED, Hyper, RuleDef, Wrapper

__all__ = ["Range", "valid_range", "sample_valid", "invalid_values", "builtin_rules", "builtin_wrappers"]

#: log10 of the span above the bound of a half-bounded interval (a + 10**-8 .. a + 10)
LOG_SPAN = (-8.0, 1.0)
#: ints drawn from minimum .. minimum + INT_SPAN
INT_SPAN = 4


@dataclass(frozen=True)
class Range:
    """The valid values of one hyperparameter: ``kind``; for floats ``low``/``high`` (``math.inf`` when
    unbounded above) and whether each end is closed, ``log`` for a half-bounded interval; for ints
    ``low``..``high``; for choices the ``options``."""

    kind: str
    low: float = -math.inf
    high: float = math.inf
    low_closed: bool = True
    high_closed: bool = True
    log: bool = False
    options: tuple = ()


def _default(h):
    return None if h.default is _REQUIRED or h.default is None else h.default


def valid_range(h: Hyper) -> Range:
    """The range a valid value of ``h`` is drawn from (module docstring)."""
    if not isinstance(h, Hyper):
        raise TypeError(f"h: expected a simopt.optim.Hyper, got {type(h).__name__}")
    if h.kind == "bool":
        return Range("bool", options=(False, True))
    if h.kind == "choice":
        return Range("choice", options=h.options)
    if h.kind == "int":
        if h.minimum is not None:
            return Range("int", h.minimum, h.minimum + INT_SPAN)
        c = int(_default(h) or 0)
        return Range("int", c - INT_SPAN // 2, c + INT_SPAN // 2)
    if h.bounds is not None:
        lo, lo_c, hi, hi_c = h.bounds
        if math.isinf(hi):
            return Range("float", lo, math.inf, lo_c, False, log=True)
        return Range("float", lo, hi, lo_c, hi_c)
    c = _default(h)
    if c is None:
        return Range("float", -3.0, 3.0)
    c = float(c)
    return Range("float", min(0.5 * c, 1.5 * c), max(0.5 * c, 1.5 * c)) if c else Range("float", -1.0, 1.0)


def _inside(r: Range, v: float) -> bool:
    return (v >= r.low if r.low_closed else v > r.low) and (v <= r.high if r.high_closed else v < r.high)


def sample_valid(h: Hyper, rng: np.random.Generator):
    """One valid value of ``h`` drawn from ``rng`` (see :func:`valid_range`)."""
    r = valid_range(h)
    if r.kind in ("bool", "choice"):
        return r.options[int(rng.integers(len(r.options)))]
    if r.kind == "int":
        return int(rng.integers(r.low, r.high + 1))
    ends = [e for e, closed in ((r.low, r.low_closed), (r.high, r.high_closed)) if closed and math.isfinite(e)]
    if ends and rng.random() < 0.2:
        return float(ends[int(rng.integers(len(ends)))])
    for _ in range(100):
        v = r.low + 10.0 ** rng.uniform(*LOG_SPAN) if r.log else rng.uniform(r.low, r.high)
        if _inside(r, v):
            return float(v)
    return float(0.5 * (r.low + r.high)) if not r.log else float(r.low + 1.0)   # pragma: no cover


def invalid_values(h: Hyper) -> list:
    """Values ``h`` must reject with a ``TypeError`` or ``ValueError``: ``[(value, why), ...]`` -- the
    wrong type, non-finite numbers, and numbers just outside the declared interval or minimum."""
    if h.kind == "bool":
        return [(1, "an int, not a bool"), ("yes", "a string")]
    if h.kind == "choice":
        return [("no such option", "not one of the options"), (0, "an index, not an option")]
    if h.kind == "int":
        out = [(1.5, "a float"), ("3", "a string"), (True, "a bool")]
        if h.minimum is not None:
            out.append((h.minimum - 1, f"below the minimum {h.minimum}"))
        return out
    out = [("0.5", "a string"), (True, "a bool"), (math.nan, "NaN"), (math.inf, "inf")]
    if h.bounds is not None:
        lo, lo_c, hi, hi_c = h.bounds
        below = lo - max(1e-3, 1e-3 * abs(lo)) if lo_c else lo
        out.append((below, f"outside {h.interval} (low end)"))
        if math.isfinite(hi):
            above = hi + max(1e-3, 1e-3 * abs(hi)) if hi_c else hi
            out.append((above, f"outside {h.interval} (high end)"))
    return out


def _definitions(kind):
    out = []
    for info in sorted(pkgutil.iter_modules(_rules.__path__), key=lambda m: m.name):
        mod = importlib.import_module(f"{_rules.__name__}.{info.name}")
        for v in vars(mod).values():
            if isinstance(v, kind) and type(v) is kind and all(v is not o for o in out):
                out.append(v)
    return tuple(out)


def builtin_rules() -> tuple:
    """Every built-in rule definition (:class:`simopt.optim.RuleDef`), in module order."""
    return _definitions(RuleDef)


def builtin_wrappers() -> tuple:
    """Every built-in wrapper definition (:class:`simopt.optim.Wrapper`: ``clipped``, ``cautious``)."""
    return _definitions(Wrapper)
