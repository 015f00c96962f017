"""Learning-rate schedules.  A schedule is a small immutable object whose ``values(steps)`` returns
the per-step rates ``eta_0 .. eta_{steps-1}`` (step index t counts from 0, the first update).

Conventions follow ``torch.optim.lr_scheduler`` where it has the same schedule (StepLR,
CosineAnnealingLR); every optimizer accepts a float or one of these as ``lr``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ._validate import as_float_array, check_int, check_nonneg_scalar, check_positive_scalar

__all__ = ["Schedule", "constant", "step", "inverse_sqrt", "cosine", "array", "as_schedule"]


class Schedule:
    """Base class: ``values(steps) -> (steps,) float64``; ``base`` is the peak rate; ``with_base(lr)``
    returns the same shape scaled so its peak rate is ``lr`` (what learning-rate tuning varies)."""

    base: float

    def values(self, steps: int) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def with_base(self, lr: float) -> "Schedule":  # pragma: no cover - abstract
        raise NotImplementedError

    def describe(self) -> dict:
        return {"schedule": type(self).__name__.lstrip("_").lower(), **{
            k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in self.__dict__.items()}}


@dataclass(frozen=True)
class _Constant(Schedule):
    base: float

    def values(self, steps):
        return np.full(steps, self.base)

    def with_base(self, lr):
        return constant(lr)


@dataclass(frozen=True)
class _Step(Schedule):
    base: float
    step_size: int
    gamma: float

    def values(self, steps):
        t = np.arange(steps)
        return self.base * self.gamma ** (t // self.step_size)

    def with_base(self, lr):
        return step(lr, self.step_size, self.gamma)


@dataclass(frozen=True)
class _InverseSqrt(Schedule):
    base: float
    offset: float

    def values(self, steps):
        t = np.arange(steps, dtype=np.float64)
        return self.base * np.sqrt(self.offset / (t + self.offset))

    def with_base(self, lr):
        return inverse_sqrt(lr, self.offset)


@dataclass(frozen=True)
class _Cosine(Schedule):
    base: float
    final: float
    total: int | None

    def values(self, steps):
        T = self.total if self.total is not None else steps
        t = np.minimum(np.arange(steps), T)
        return self.final + (self.base - self.final) * 0.5 * (1.0 + np.cos(math.pi * t / T))

    def with_base(self, lr):
        return cosine(lr, final_lr=self.final * lr / self.base, total=self.total)


@dataclass(frozen=True, eq=False)
class _Array(Schedule):
    rates: np.ndarray

    @property
    def base(self):
        return float(self.rates.max())

    def values(self, steps):
        if steps > self.rates.size:
            raise ValueError(f"lr: the schedule array has {self.rates.size} rates but the run asks for "
                             f"{steps} steps")
        return self.rates[:steps].copy()

    def with_base(self, lr):
        return array(self.rates * (lr / self.base))


def constant(lr) -> Schedule:
    """``eta_t = lr``."""
    return _Constant(check_positive_scalar(lr, "lr"))


def step(lr, step_size, gamma=0.1) -> Schedule:
    """``eta_t = lr * gamma ** floor(t / step_size)`` (torch ``StepLR``)."""
    return _Step(check_positive_scalar(lr, "lr"), check_int(step_size, "step_size", minimum=1),
                 check_positive_scalar(gamma, "gamma"))


def inverse_sqrt(lr, offset=1.0) -> Schedule:
    """``eta_t = lr * sqrt(offset / (t + offset))``: ``eta_0 = lr``, then decaying like ``1/sqrt(t)``."""
    return _InverseSqrt(check_positive_scalar(lr, "lr"), check_positive_scalar(offset, "offset"))


def cosine(lr, final_lr=0.0, total=None) -> Schedule:
    """``eta_t = final + (lr - final) (1 + cos(pi t / T)) / 2`` for ``t <= T`` (torch ``CosineAnnealingLR``
    without restarts); ``T = total`` or, by default, the run's number of steps."""
    lr = check_positive_scalar(lr, "lr")
    final = check_nonneg_scalar(final_lr, "final_lr")
    if final > lr:
        raise ValueError(f"final_lr: expected a value <= lr ({lr}), got {final}")
    total = None if total is None else check_int(total, "total", minimum=1)
    return _Cosine(lr, final, total)


def array(rates) -> Schedule:
    """Any user-given per-step rates (a 1-d array of positive finite numbers)."""
    r = as_float_array(rates, "rates", ndim=1, positive=True)
    r.setflags(write=False)
    return _Array(r)


def as_schedule(lr, name="lr") -> Schedule:
    """A float becomes ``constant(lr)``; a schedule passes through; anything else is a ``TypeError``."""
    if isinstance(lr, Schedule):
        return lr
    if lr is None or isinstance(lr, (str, bytes, list, tuple, np.ndarray, bool)):
        raise TypeError(f"{name}: expected a positive float or a simopt.schedules schedule, got "
                        f"{type(lr).__name__} ({lr!r})")
    return constant(check_positive_scalar(lr, name))
