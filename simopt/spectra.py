"""Eigenvalue generators for synthetic quadratics.

Every function returns a new float64 array of strictly positive eigenvalues sorted ascending
(``redistribute`` returns a list of such arrays, one per block).  Random spectra take ``rng``: an
int seed (>= 0), a ``numpy.random.SeedSequence`` or a ``numpy.random.Generator``; the same seed
gives bit-identical output.

Which paper uses which spectrum:

- ``power_law(d, 1.0)`` is the noisy quadratic model's ``h_i = 1/i`` (Zhang et al. 2019, NQM;
  seed_math.md §5), condition number ``d``.
- ``two_cluster`` / ``logspace`` / ``linear`` give the well- and ill-conditioned stochastic quadratics
  of Balles & Hennig (2018, Fig. 2).  Their exact spectra are [NF] (seed_math.md §4): these are
  stand-ins with the named property (condition number, clustering), not the paper's numbers.
- ``deep_learning_like`` is the DeepOBS ``quadratic_deep`` spectrum (90% of the eigenvalues
  U(0, 1), 10% U(30, 60)).
- ``redistribute`` turns a block-heterogeneous spectrum into its homogeneous counterpart with the
  same eigenvalues (Zhang et al. 2024, "Why Transformers Need Adam": "the arrangement of the
  intermediate eigenvalues across blocks affects Adam's performance, but leaves GD's unchanged",
  seed_math.md §2).
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ._validate import (as_float_array, check_dim, check_interval, check_nonneg_scalar,
                        check_positive_scalar, make_rng)

__all__ = ["linear", "logspace", "power_law", "two_cluster", "deep_learning_like", "redistribute",
           "as_block_eigvals"]


def _check_range(low, high):
    low = check_positive_scalar(low, "low")
    high = check_positive_scalar(high, "high")
    if high < low:
        raise ValueError(f"high: expected high >= low (= {low!r}), got {high!r}")
    return low, high


def linear(d, low, high) -> np.ndarray:
    """``d`` evenly spaced eigenvalues ``λ_i = low + (high − low)·(i−1)/(d−1)``, ``i = 1..d``.

    ``0 < low <= high``; ``d = 1`` gives ``[low]``.  Condition number ``high/low``.
    """
    d = check_dim(d, "d")
    low, high = _check_range(low, high)
    out = np.linspace(low, high, d, dtype=np.float64)
    out[0] = low
    if d > 1:
        out[-1] = high
    return _monotone(out, low, high)


def _monotone(out, low, high):
    """Guard against rounding (e.g. ``low == high``): clip to ``[low, high]``, make non-decreasing."""
    np.clip(out, low, high, out=out)
    np.maximum.accumulate(out, out=out)
    return out


def logspace(d, low, high) -> np.ndarray:
    """``d`` geometrically spaced eigenvalues ``λ_i = low·(high/low)^((i−1)/(d−1))``.

    ``0 < low <= high``; the end points are exactly ``low`` and ``high`` (``d = 1`` gives ``[low]``),
    so the condition number is exactly ``high/low``.
    """
    d = check_dim(d, "d")
    low, high = _check_range(low, high)
    if d == 1:
        return np.array([low])
    out = np.geomspace(low, high, d, dtype=np.float64)
    out[0], out[-1] = low, high
    return _monotone(out, low, high)


def power_law(d, alpha, top=1.0) -> np.ndarray:
    """Power-law eigenvalues ``λ_i = top·i^(−alpha)``, ``i = 1..d``, returned ascending.

    ``alpha >= 0`` (``alpha = 0``: all equal to ``top``), ``top > 0``.  Condition number ``d^alpha``.
    ``alpha = 1, top = 1`` is the NQM spectrum ``h_i = 1/i`` (Zhang et al. 2019; seed_math.md §5).
    """
    d = check_dim(d, "d")
    alpha = check_nonneg_scalar(alpha, "alpha")
    top = check_positive_scalar(top, "top")
    i = np.arange(d, 0, -1, dtype=np.float64)  # d, d-1, ..., 1 -> ascending eigenvalues
    out = top * i ** (-alpha)
    if not np.all(out > 0):
        raise ValueError(f"alpha: d^(-alpha) underflows to 0 for d={d}, alpha={alpha!r}")
    return out


def two_cluster(d, frac_high, low, high, rng, *, spread=0.1) -> np.ndarray:
    """Two clusters: ``round(frac_high·d)`` eigenvalues around ``high``, the rest around ``low``.

    Within-cluster spread: each eigenvalue is ``center·(1 + spread·u)`` with ``u ~ U(−1, 1)``
    i.i.d., i.e. uniform on ``[center(1−spread), center(1+spread)]`` (relative half-width ``spread``,
    default 0.1; ``spread = 0`` gives the exact two-point spectrum).  ``round`` is half-up.
    ``0 < low <= high``, ``frac_high`` in ``[0, 1]``, ``spread`` in ``[0, 1)``.  The low cluster's
    values are drawn first, then the high cluster's, from ``rng`` (seed, SeedSequence or Generator).
    """
    d = check_dim(d, "d")
    frac_high = check_interval(frac_high, "frac_high", 0.0, 1.0, high_closed=True)
    low, high = _check_range(low, high)
    spread = check_interval(spread, "spread", 0.0, 1.0)
    gen = make_rng(rng, "rng")
    n_high = int(math.floor(frac_high * d + 0.5))
    n_low = d - n_high
    lo = low * (1.0 + spread * gen.uniform(-1.0, 1.0, n_low))
    hi = high * (1.0 + spread * gen.uniform(-1.0, 1.0, n_high))
    out = np.sort(np.concatenate([lo, hi]))
    return out


def deep_learning_like(d, rng) -> np.ndarray:
    """DeepOBS-style "deep-learning-like" spectrum: 90% of eigenvalues U(0, 1), 10% U(30, 60).

    ``round(0.1·d)`` (half-up) eigenvalues are drawn from U(30, 60), the others from U(0, 1]
    (drawn as ``1 − U[0, 1)`` so that no eigenvalue is exactly 0); returned ascending.  The small
    eigenvalues can be arbitrarily close to 0, so the condition number is random and large.
    """
    d = check_dim(d, "d")
    gen = make_rng(rng, "rng")
    n_high = int(math.floor(0.1 * d + 0.5))
    small = 1.0 - gen.random(d - n_high)
    large = gen.uniform(30.0, 60.0, n_high)
    return np.sort(np.concatenate([small, large]))


def as_block_eigvals(block_eigvals, name: str = "block_eigvals") -> list[np.ndarray]:
    """Validate a list of per-block spectra (each a non-empty 1-d array of positive finite numbers;
    a 2-d array counts as one block per row).  Returns new float64 arrays in the given order."""
    if isinstance(block_eigvals, (str, bytes)) or block_eigvals is None:
        raise TypeError(f"{name}: expected a sequence of 1-d eigenvalue arrays, "
                        f"got {type(block_eigvals).__name__}")
    if isinstance(block_eigvals, np.ndarray):
        if block_eigvals.ndim != 2:
            raise ValueError(f"{name}: expected a list of 1-d arrays or a 2-d array (one row per "
                             f"block), got an array of shape {block_eigvals.shape}")
        items = list(block_eigvals)
    elif isinstance(block_eigvals, Sequence):
        items = list(block_eigvals)
    else:
        raise TypeError(f"{name}: expected a sequence of 1-d eigenvalue arrays, "
                        f"got {type(block_eigvals).__name__}")
    if not items:
        raise ValueError(f"{name}: expected at least one block")
    return [as_float_array(b, f"{name}[{i}]", ndim=1, positive=True) for i, b in enumerate(items)]


def redistribute(block_eigvals) -> list[np.ndarray]:
    """The homogeneous counterpart of a block spectrum: the same multiset of eigenvalues, spread
    evenly over the same block sizes.

    All eigenvalues are sorted and dealt to the blocks round-robin.  For blocks of unequal sizes the
    deal is by quantile: block ``b`` of size ``n_b`` receives the eigenvalues whose ranks come at
    quantile positions ``(j + 1/2)/n_b``, ``j = 0..n_b−1`` (ties broken by block index), which for
    equal sizes is exactly the round-robin deal (block ``b`` gets sorted ranks ``b, b+B, b+2B, …``).
    Each block then spans the whole spectrum, so ``max_b κ_b`` is close to the global ``κ`` while
    the global spectrum (hence GD's behaviour, Zhang et al. 2024, seed_math.md §2) is unchanged.
    Returns one ascending float64 array per block, in block order.
    """
    blocks = as_block_eigvals(block_eigvals)
    sizes = [b.size for b in blocks]
    everything = np.sort(np.concatenate(blocks))
    keys = [((j + 0.5) / n, bi) for bi, n in enumerate(sizes) for j in range(n)]
    order = sorted(range(len(keys)), key=keys.__getitem__)
    owner = np.array([keys[k][1] for k in order], dtype=np.int64)
    return [np.sort(everything[owner == bi]) for bi in range(len(sizes))]
