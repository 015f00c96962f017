"""Step-size oracles: rules whose step is set from the problem's curvature constants, so the engine
can run exactly the methods whose guarantees theory_notes.md §2 proves.  They have no ``lr``."""
from __future__ import annotations

import numpy as np

from .._kernels import codes
from .._validate import check_positive_scalar
from .base import Optimizer

_GD_RULES = {"1/L": 0, "2/(L+mu)": 1, "1/L_G": 2}


class GDOracle(Optimizer):
    r"""Gradient descent with a curvature-set step :math:`x_{t+1} = x_t - \eta_t g_t`:

    - ``rule="1/L"``: :math:`\eta = s/L` (theory_notes.md §2A, contraction :math:`1 - 1/\kappa`);
    - ``rule="2/(L+mu)"``: :math:`\eta = 2s/(L+\mu)` (§2A, contraction :math:`(\kappa-1)/(\kappa+1)`);
    - ``rule="1/L_G"``: :math:`\eta_t = s/L_G(x_t)`, :math:`L_G = \sum_b L_b\|g_b\|^2/\|g\|^2` the
      gradient-weighted block smoothness (§2B; the weighted Hessian complexity of a gradient method in
      Tomihari & Sato 2025, whose exact Def. 4.5 is not available, seed_math.md §1).

    ``s = scale`` (1 = the rule as proved; other values let a test break the guarantee on purpose).
    The step uses the gradient the method sees (noisy if the problem has noise).
    """
    name = "gd_oracle"
    code = codes.GD_ORACLE
    has_lr = False

    def __init__(self, rule="1/L", scale=1.0):
        if rule not in _GD_RULES:
            raise ValueError(f"rule: expected one of {sorted(_GD_RULES)}, got {rule!r}")
        super().__init__(None, rule=rule, scale=check_positive_scalar(scale, "scale"))

    def _hp(self, problem):
        h = self._hyper
        return [float(_GD_RULES[h["rule"]]), h["scale"], problem.L, problem.mu, *problem.block_L]

    def step_size(self, G, problem):
        """:math:`\\eta_t` for each row of ``G``."""
        h = self._hyper
        runs = np.atleast_2d(G).shape[0]
        if h["rule"] == "1/L":
            return np.full(runs, h["scale"] / problem.L)
        if h["rule"] == "2/(L+mu)":
            return np.full(runs, 2 * h["scale"] / (problem.L + problem.mu))
        G = np.atleast_2d(G)
        sq = np.stack([np.sum(G[:, s] ** 2, axis=1) for s in problem.blocks], axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            return h["scale"] * sq.sum(1) / (sq @ np.asarray(problem.block_L))

    def reference_step(self, X, G, state, t, lr, blocks, Gc=None, problem=None):
        eta = np.nan_to_num(self.step_size(G, problem), nan=0.0)
        return X - eta[:, None] * G


class SignOracle(Optimizer):
    r"""Sign descent with the :math:`\ell_\infty` step of theory_notes.md §2C:
    :math:`x_{t+1} = x_t - \eta_t\,\mathrm{sign}(g_t)`, :math:`\eta_t = s\,\|g_t\|_1 / U_\infty`, with
    :math:`U_\infty \ge \max_{s\in\{\pm1\}^d} s^\top H s` the problem's ``linf_smoothness``.  Guarantees
    :math:`f(x_{t+1}) \le (1 - \mu_\infty/U_\infty) f(x_t)` (steepest descent in the
    :math:`\ell_\infty` norm, the sign-based method of Tomihari & Sato 2025)."""
    name = "sign_oracle"
    code = codes.SIGN_ORACLE
    has_lr = False

    def __init__(self, scale=1.0):
        super().__init__(None, scale=check_positive_scalar(scale, "scale"))

    def _hp(self, problem):
        return [self._hyper["scale"], problem.linf_smoothness]

    def reference_step(self, X, G, state, t, lr, blocks, Gc=None, problem=None):
        eta = self._hyper["scale"] * np.abs(G).sum(axis=1) / problem.linf_smoothness
        return X - eta[:, None] * np.sign(G)


def gd_oracle(rule="1/L", scale=1.0) -> GDOracle:
    return GDOracle(rule=rule, scale=scale)


def sign_oracle(scale=1.0) -> SignOracle:
    return SignOracle(scale=scale)


gd_oracle.__doc__, sign_oracle.__doc__ = GDOracle.__doc__, SignOracle.__doc__
