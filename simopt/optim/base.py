"""The optimizer object shared by every rule.

An optimizer is a small immutable description: a name, a learning rate (float or schedule), its
hyperparameters, the kernel id the engine dispatches on, and a plain-NumPy ``reference_step`` that *is*
the paper's formula, written for a batch of runs ``X, G: (runs, d)``.  The Numba kernel
(``simopt._kernels.updates``) is tested equal to it.
"""
from __future__ import annotations

import numpy as np

from ..schedules import Schedule, as_schedule


class Optimizer:
    """Base class.  Subclasses set ``name``, ``code``, implement ``_hp``/``init_state``/``reference_step``."""

    name: str = "optimizer"
    code: int = -1
    #: Pan & Li coordinate-wise clipping fraction (set by ``simopt.optim.clipped``); 0 = off.
    clip_fraction: float = 0.0
    #: False for rules that set their own step size from the problem (the oracles)
    has_lr: bool = True

    def __init__(self, lr, **hyper):
        self.lr: Schedule | None = as_schedule(lr) if self.has_lr else None
        self._hyper = dict(hyper)

    # --- description -------------------------------------------------------------------------
    def hyperparams(self) -> dict:
        """Hyperparameters other than the learning rate."""
        return dict(self._hyper)

    def describe(self) -> dict:
        lr = self.lr
        if lr is not None:
            lr = lr.base if type(lr).__name__ == "_Constant" else lr.describe()
        return {"name": self.name, "lr": lr, **self.hyperparams()}

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.describe().items() if k != "name")
        return f"{self.name}({args})"

    def with_lr(self, lr) -> "Optimizer":
        """The same rule with another learning rate (a float, or a schedule's shape rescaled)."""
        if self.lr is None:
            raise TypeError(f"{self.name}: this rule sets its own step size and has no lr")
        new_lr = lr if isinstance(lr, Schedule) else (
            self.lr.with_base(lr) if type(self.lr).__name__ != "_Constant" else lr)
        return type(self)(new_lr, **self._hyper)

    # --- what the engine needs ---------------------------------------------------------------
    def kernel_params(self, problem) -> np.ndarray:
        """Float hyperparameters in the order the kernel reads them (may depend on the problem)."""
        return np.asarray(self._hp(problem), dtype=np.float64).reshape(-1)

    def _hp(self, problem):  # pragma: no cover - abstract
        raise NotImplementedError

    def state_size(self, d: int, n_blocks: int) -> int:
        """Length of one run's flat state vector in the kernel."""
        return 0

    def lr_values(self, steps: int) -> np.ndarray:
        if self.lr is None:
            return np.ones(steps)
        return np.ascontiguousarray(self.lr.values(steps), dtype=np.float64)

    # --- the readable reference --------------------------------------------------------------
    def init_state(self, runs: int, d: int, blocks) -> dict:
        return {}

    def reference_step(self, X, G, state, t, lr, blocks, Gc=None, problem=None):
        """One step from the paper's formula: returns the new ``X``; updates ``state`` in place.

        ``t`` is the 1-based step count, ``lr`` this step's rate, ``blocks`` a list of slices,
        ``Gc`` the clipped gradient (``None`` = no clipping)."""
        raise NotImplementedError  # pragma: no cover
