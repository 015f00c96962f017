"""Verdicts from intervals, and the overall status of a claim across its protocol variants.

**Verdict** of one protocol (a claimed side of a threshold, or a band):

* ``PASS`` when the confidence interval lies entirely on the claimed side (``at_least``: low >= t;
  ``at_most``: high <= t; a band: both);
* ``FAIL`` when it lies entirely on the other side (``at_least``: high < t; ``at_most``: low > t; a
  band: entirely below or entirely above it);
* ``INCONCLUSIVE`` otherwise -- never rounded to either.

**Overall status** of a claim, from the primary protocol's verdict and its variants':

* ``ROBUST``: PASS under the primary protocol and under every variant;
* ``FRAGILE``: the primary verdict is PASS or FAIL and some variant does not confirm it (PASS with
  a variant that FAILs or is INCONCLUSIVE; FAIL with a variant that PASSes); the report names them;
* ``FAILS``: FAIL under the primary protocol and no variant PASSes;
* ``INCONCLUSIVE``: the primary verdict is INCONCLUSIVE;
* ``HOLDS``: PASS under the primary protocol, with no variants declared (nothing was varied, so
  nothing is claimed about robustness).

A claim declares the status it is expected to have (per mode, when quick and full size legitimately
differ); it is *as declared* when the observed status equals the declared one.  Known failures stay
expressible this way (``expected="FAILS"`` or ``"FRAGILE"``, with the reason).
"""
from __future__ import annotations

import math

from .._validate import as_float

VERDICTS = ("PASS", "FAIL", "INCONCLUSIVE")
STATUSES = ("ROBUST", "HOLDS", "FRAGILE", "FAILS", "INCONCLUSIVE")
#: statuses under which the claim is reproduced
POSITIVE = ("ROBUST", "HOLDS")

__all__ = ["VERDICTS", "STATUSES", "POSITIVE", "verdict", "overall_status", "check_threshold",
           "check_status", "side_text"]


def check_threshold(at_least, at_most):
    """The thresholds as floats; at least one, and a band must not be empty."""
    lo = None if at_least is None else as_float(at_least, "at_least")
    hi = None if at_most is None else as_float(at_most, "at_most")
    if lo is None and hi is None:
        raise ValueError("at_least/at_most: expected a threshold on at least one side")
    if lo is not None and hi is not None and lo > hi:
        raise ValueError(f"at_most: expected a band at_least <= at_most, got [{lo}, {hi}]")
    return lo, hi


def verdict(low, high, at_least=None, at_most=None) -> str:
    """PASS / FAIL / INCONCLUSIVE of an interval [low, high] against the claimed side(s)."""
    low, high = float(low), float(high)
    if math.isnan(low) or math.isnan(high) or low > high:
        raise ValueError(f"low/high: expected an interval low <= high, got [{low}, {high}]")
    a, b = check_threshold(at_least, at_most)
    inside_low = a is None or low >= a
    inside_high = b is None or high <= b
    if inside_low and inside_high:
        return "PASS"
    if (a is not None and high < a) or (b is not None and low > b):
        return "FAIL"
    return "INCONCLUSIVE"


def side_text(at_least=None, at_most=None, fmt="{:.4g}") -> str:
    """``">= t"``, ``"<= t"`` or ``"in [a, b]"``."""
    a, b = check_threshold(at_least, at_most)
    if a is not None and b is not None:
        return f"in [{fmt.format(a)}, {fmt.format(b)}]"
    return f">= {fmt.format(a)}" if a is not None else f"<= {fmt.format(b)}"


def overall_status(primary: str, variants: dict) -> tuple[str, list]:
    """``(status, names)``: the overall status (module docstring) and the variants that keep the
    primary verdict from being confirmed (empty unless FRAGILE)."""
    if primary not in VERDICTS:
        raise ValueError(f"primary: expected one of {VERDICTS}, got {primary!r}")
    bad = [n for n, v in variants.items() if v not in VERDICTS]
    if bad:
        raise ValueError(f"variants: verdicts must be one of {VERDICTS}; got {bad}")
    if primary == "INCONCLUSIVE":
        return "INCONCLUSIVE", []
    if primary == "PASS":
        if not variants:
            return "HOLDS", []
        flips = [n for n, v in variants.items() if v != "PASS"]
        return ("FRAGILE", flips) if flips else ("ROBUST", [])
    flips = [n for n, v in variants.items() if v == "PASS"]
    return ("FRAGILE", flips) if flips else ("FAILS", [])


def check_status(status, name="expected") -> str:
    if not isinstance(status, str) or status not in STATUSES:
        raise ValueError(f"{name}: expected one of {STATUSES}, got {status!r}")
    return status
