"""Bootstrap confidence intervals over evaluation units, paired across compared methods, with
censored and diverged runs handled as bounds rather than dropped or turned into NaN.

**Units.**  Each method (arm) has one value per evaluation unit, an array of shape (draws, runs): a
problem draw of a family and one run on it.  Resampling follows that structure (a two-stage
bootstrap: draws with replacement, then runs with replacement within each drawn draw; with one draw
this is the ordinary bootstrap over runs).  **Paired** (the default when arms share their units, as
``simopt.run`` gives the same noise stream to the same (seed, run index) whatever the rule): one set
of resampled indices is applied to every arm, so the interval is that of the paired comparison.

**Censoring.**  A run that did not reach eps within the budget has T in (budget, inf]; a diverged run
has T = inf.  An arm's values are therefore a :class:`Sample` of bounds ``lo <= value <= hi``
(``lo = hi`` for exact values; ``lo = budget, hi = inf`` for a censored T; ``inf`` both for a diverged
run).  A :class:`Statistic` declares in which arms it is non-decreasing and in which non-increasing
(e.g. a ratio num/den), so its smallest possible value takes ``lo`` of the first and ``hi`` of the
second and its largest the reverse.  The interval is the percentile interval

    [ q_{a/2} of the bootstrap distribution of the smallest possible statistic,
      q_{1-a/2} of that of the largest possible statistic ],

which contains the ordinary percentile interval for every completion of the censored values, and
equals it when nothing is censored.  Where a statistic is undefined (``inf/inf``, ``0/0``: both
medians censored) the bounds are -inf and +inf: an interval of (-inf, inf) is a valid outcome and
says that the data cannot decide.  A median that is inf (more than half the runs censored or
diverged) is a valid outcome as well.  No NaN reaches an interval.

Order statistics, not interpolation, pick the endpoints (k = floor((B + 1) a/2): the k-th smallest
and the k-th largest of B resamples; the percentile interval of Efron & Tibshirani, *An Introduction
to the Bootstrap*, 1993, ch. 13), so infinite resamples never mix into a NaN.  The resampling RNG is seeded: the same data and seed give the same interval.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .._validate import as_float, check_bool, check_int, check_interval, check_positive_scalar

__all__ = ["Sample", "Statistic", "Interval", "bootstrap_interval", "median", "mean", "log_ratio_of_medians",
           "log_ratio_of_means", "difference_of_medians", "difference_of_means", "log_slope_of_medians"]


def _as_values(x, name):
    a = np.array(x, dtype=np.float64)
    if a.ndim == 1:
        a = a[None, :]
    if a.ndim != 2 or a.size == 0:
        raise ValueError(f"{name}: expected a non-empty (runs,) or (draws, runs) array, got shape "
                         f"{np.shape(x)}")
    if np.isnan(a).any():
        raise ValueError(f"{name}: NaN values (use +inf for a censored or diverged run)")
    return a


@dataclass(frozen=True)
class Sample:
    """Per-unit values of one arm, shape (draws, runs), as bounds ``lo <= true value <= hi``."""
    lo: np.ndarray
    hi: np.ndarray

    def __post_init__(self):
        lo, hi = _as_values(self.lo, "lo"), _as_values(self.hi, "hi")
        if lo.shape != hi.shape:
            raise ValueError(f"hi: expected the shape of lo {lo.shape}, got {hi.shape}")
        if np.any(lo > hi):
            raise ValueError("lo: expected lo <= hi for every unit")
        object.__setattr__(self, "lo", lo)
        object.__setattr__(self, "hi", hi)

    @classmethod
    def exact(cls, values) -> "Sample":
        """Values known exactly (``+inf`` allowed, e.g. the final loss of a diverged run)."""
        v = _as_values(values, "values")
        return cls(v, v)

    @classmethod
    def censored(cls, T, budget, diverged=None) -> "Sample":
        """Iteration counts with ``inf`` for runs that did not reach the target: a censored run
        (not ``diverged``) has ``T in [budget, inf]``, a diverged one ``T = inf``."""
        T = _as_values(T, "T")
        budget = as_float(budget, "budget")
        div = np.zeros(T.shape, dtype=bool) if diverged is None else \
            np.asarray(diverged, dtype=bool).reshape(T.shape)
        lo = np.where(np.isinf(T) & ~div, budget, T)
        return cls(lo, T)

    @property
    def shape(self):
        return self.lo.shape

    @property
    def n_censored(self) -> int:
        return int(np.sum(self.lo < self.hi))


@dataclass(frozen=True)
class Statistic:
    """A number computed from the arms' unit values, vectorised over resamples.

    ``fn(values)`` gets ``{arm: (B, n) array}`` and returns a ``(B,)`` array (NaN where undefined).
    It must be non-decreasing in every value of the arms listed in ``increasing`` and
    non-increasing in those of ``decreasing`` (this is what makes censoring bounds valid).
    ``name`` may contain ``{m}``, replaced by the measured quantity's symbol (e.g. ``T``)."""
    name: str
    fn: object = field(repr=False, compare=False)
    increasing: tuple = ()
    decreasing: tuple = ()
    log10: bool = False       # the statistic is a log10 ratio (reported as such)

    @property
    def arms(self) -> tuple:
        return tuple(self.increasing) + tuple(self.decreasing)

    def describe(self, symbol: str = "x") -> str:
        return self.name.replace("{m}", symbol)

    def bounds(self, values: dict) -> tuple[np.ndarray, np.ndarray]:
        """Smallest and largest possible statistic for ``{arm: (lo, hi)}`` arrays of shape (B, n);
        NaN (undefined) becomes -inf / +inf."""
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            low = np.asarray(self.fn({a: values[a][0] if a in self.increasing else values[a][1]
                                      for a in self.arms}), dtype=np.float64)
            high = np.asarray(self.fn({a: values[a][1] if a in self.increasing else values[a][0]
                                       for a in self.arms}), dtype=np.float64)
        return np.where(np.isnan(low), -np.inf, low), np.where(np.isnan(high), np.inf, high)

    def to_dict(self) -> dict:
        return {"name": self.name, "increasing": list(self.increasing),
                "decreasing": list(self.decreasing), "log10": self.log10}


def _median(v):
    return np.median(v, axis=-1)


def _mean(v):
    return np.mean(v, axis=-1)


def _log_ratio(a, b):
    return np.log10(a) - np.log10(b)   # inf - inf, -inf - -inf -> NaN: undefined


def median(arm) -> Statistic:
    """The median over units of ``arm``'s values."""
    return Statistic(f"median {{m}}[{arm}]", lambda v: _median(v[arm]), (arm,))


def mean(arm) -> Statistic:
    """The mean over units of ``arm``'s values."""
    return Statistic(f"mean {{m}}[{arm}]", lambda v: _mean(v[arm]), (arm,))


def log_ratio_of_medians(num, den) -> Statistic:
    """log10(median[num] / median[den]); e.g. with T(eps), > 0 when ``den`` is faster."""
    _distinct(num, den)
    return Statistic(f"log10(median {{m}}[{num}] / median {{m}}[{den}])",
                     lambda v: _log_ratio(_median(v[num]), _median(v[den])), (num,), (den,), True)


def log_ratio_of_means(num, den) -> Statistic:
    """log10(mean[num] / mean[den])."""
    _distinct(num, den)
    return Statistic(f"log10(mean {{m}}[{num}] / mean {{m}}[{den}])",
                     lambda v: _log_ratio(_mean(v[num]), _mean(v[den])), (num,), (den,), True)


def difference_of_medians(a, b) -> Statistic:
    """median[a] - median[b]."""
    _distinct(a, b)
    return Statistic(f"median {{m}}[{a}] - median {{m}}[{b}]",
                     lambda v: _median(v[a]) - _median(v[b]), (a,), (b,))


def difference_of_means(a, b) -> Statistic:
    """mean[a] - mean[b]."""
    _distinct(a, b)
    return Statistic(f"mean {{m}}[{a}] - mean {{m}}[{b}]",
                     lambda v: _mean(v[a]) - _mean(v[b]), (a,), (b,))


def log_slope_of_medians(xs) -> Statistic:
    """The least-squares slope of log10(median[arm]) against log10(x) over the arms of ``xs``
    (``{arm: x}``, at least two arms, distinct positive x): a scaling exponent, e.g. T(eps) ~ d^b
    with one arm per dimension d gives b.

    The slope is :math:`\\sum_i w_i \\log_{10} m_i` with :math:`w_i = (u_i - \\bar u)/\\sum_j (u_j -
    \\bar u)^2`, :math:`u_i = \\log_{10} x_i` (ordinary least squares), so it is non-decreasing in the
    arms with :math:`w_i \\ge 0` and non-increasing in the others, which makes the censoring bounds
    of :func:`bootstrap_interval` valid.  A median that is 0 or inf gives an undefined (or infinite)
    slope, never NaN in an interval."""
    if not isinstance(xs, dict) or len(xs) < 2:
        raise ValueError(f"xs: expected a dict arm -> x with at least two arms, got {xs!r}")
    arms = list(xs)
    u = np.array([math.log10(check_positive_scalar(xs[a], f"xs[{a!r}]")) for a in arms])
    if len(set(u.tolist())) != len(u):
        raise ValueError(f"xs: expected distinct x, got {xs!r}")
    w = (u - u.mean()) / np.sum((u - u.mean()) ** 2)

    def fn(v):
        return sum(wi * np.log10(_median(v[a])) for a, wi in zip(arms, w))

    inc = tuple(a for a, wi in zip(arms, w) if wi >= 0)
    dec = tuple(a for a, wi in zip(arms, w) if wi < 0)
    lo, hi = min(xs.values()), max(xs.values())
    return Statistic(f"slope of log10 median {{m}} vs log10 x over {len(arms)} arms (x = {lo:g}..{hi:g})",
                     fn, inc, dec)


def _distinct(a, b):
    if a == b:
        raise ValueError(f"arms: expected two different methods, got {a!r} twice")


@dataclass(frozen=True)
class Interval:
    """A bootstrap confidence interval and the point estimate it belongs to.

    ``value`` is the statistic on the data with censored runs counted at the budget (``None`` where
    that is undefined); ``value_low``/``value_high`` bound it over the censored values."""
    low: float
    high: float
    value: float | None
    value_low: float
    value_high: float
    confidence: float
    n_boot: int
    seed: int
    paired: bool
    n_units: int

    def to_dict(self) -> dict:
        return {"low": self.low, "high": self.high, "value": self.value,
                "value_bounds": [self.value_low, self.value_high], "confidence": self.confidence,
                "method": "percentile bootstrap" + (", paired" if self.paired else ""),
                "n_boot": self.n_boot, "seed": self.seed, "n_units": self.n_units}


def _resample_index(rng, shape, n_boot):
    """(n_boot, draws*runs) flat indices: draws with replacement, then runs within each."""
    G, R = shape
    g = rng.integers(0, G, size=(n_boot, G)) if G > 1 else np.zeros((n_boot, 1), dtype=np.int64)
    r = rng.integers(0, R, size=(n_boot, G, R))
    return (g[:, :, None] * R + r).reshape(n_boot, G * R)


def bootstrap_interval(samples: dict, statistic: Statistic, *, confidence=0.95, n_boot=2000, seed=0,
              paired=True) -> Interval:
    """Percentile bootstrap interval of ``statistic`` over the units of ``samples``
    (``{arm: Sample or array}``; see the module docstring for units, pairing and censoring)."""
    if not isinstance(statistic, Statistic):
        raise TypeError(f"statistic: expected a simopt.claims Statistic, got {type(statistic).__name__}")
    confidence = check_interval(confidence, "confidence", 0.0, 1.0, low_closed=False)
    n_boot = check_int(n_boot, "n_boot", minimum=10)
    seed = check_int(seed, "seed", minimum=0)
    paired = check_bool(paired, "paired")
    if not isinstance(samples, dict):
        raise TypeError(f"samples: expected a dict arm -> Sample, got {type(samples).__name__}")
    missing = [a for a in statistic.arms if a not in samples]
    if missing:
        raise ValueError(f"samples: no values for arm(s) {missing} of {statistic.describe()}")
    data = {a: (s if isinstance(s, Sample) else Sample.exact(s)) for a, s in samples.items()
            if a in statistic.arms}
    shapes = {s.shape for s in data.values()}
    if paired and len(shapes) > 1:
        raise ValueError(f"paired: paired arms need the same units, got shapes {sorted(shapes)}")
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    boot = {}
    shared = _resample_index(rng, next(iter(shapes)), n_boot) if paired else None
    for a in statistic.arms:        # a fixed order, so the draws do not depend on dict order
        s = data[a]
        idx = shared if paired else _resample_index(rng, s.shape, n_boot)
        boot[a] = (s.lo.reshape(-1)[idx], s.hi.reshape(-1)[idx])
    low_b, high_b = statistic.bounds(boot)
    alpha = 1.0 - confidence
    k = max(1, int(math.floor((n_boot + 1) * alpha / 2)))
    low = float(np.sort(low_b)[k - 1])
    high = float(np.sort(high_b)[n_boot - k])
    point = {a: (s.lo.reshape(1, -1), s.hi.reshape(1, -1)) for a, s in data.items()}
    v_low, v_high = (float(x[0]) for x in statistic.bounds(point))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        v = float(np.asarray(statistic.fn({a: s.lo.reshape(1, -1) for a, s in data.items()}))[0])
    n_units = int(max(s.lo.size for s in data.values()))
    return Interval(low=low, high=high, value=None if math.isnan(v) else v, value_low=v_low,
                    value_high=v_high, confidence=confidence, n_boot=n_boot, seed=seed,
                    paired=paired, n_units=n_units)
