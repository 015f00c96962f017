r"""Gradient descent preconditioned by a power of the exact Hessian diagonal:

.. math::  x_{t+1} = x_t - \eta_t\,\mathrm{diag}(H)^{-p}\,g_t

the Gauss-Newton-type diagonal baselines of Liu et al. (2025, arXiv 2510.13680, "Adam or Gauss-Newton?"):
on a quadratic the Gauss-Newton matrix is H, so ``power = 1`` is their GN\ :sup:`-1` and ``power = 0.5``
their GN\ :sup:`-1/2` (``power = 0`` is SGD).  The preconditioner is an oracle (``hdiag``, the problem's
exact diagonal, always positive since H is positive definite), not an estimate from the gradients: this
is the noise-free limit of the diagonal Hessian that Sophia (:func:`simopt.optim.sophia`) estimates.

With ``power = 1`` and ``lr = 1`` the step is Newton's on an axis-aligned (diagonal) quadratic, which it
solves in one step without noise; on a rotated H it is Jacobi's iteration and does not.  Like SGD it is
not rotation-equivariant for ``power > 0`` (the diagonal depends on the basis), but it is invariant
under a diagonal rescaling of the coordinates for ``power = 1``.  The compiled step multiplies by
:math:`\mathrm{diag}(H)^{-p}` computed once per run (a derived constant); a problem whose
:math:`\mathrm{diag}(H)^{-p}` overflows is rejected at ``run`` with a ``ValueError``.
"""
import numpy as np

from ..rule import Hyper, RuleDef

__all__ = ["diag_precond"]


def step(x, g, lr, scale):
    for i in range(x.shape[0]):
        x[i] -= lr * (g[i] * scale[i])


def reference(x, g, hdiag, lr, power):
    x -= lr * g / hdiag ** power


def _derive(problem, power):
    """diag(H)^-p, computed once per run (the compiled step's ``scale``)."""
    h = problem.diag if problem.diag is not None else np.diag(problem.hessian())
    with np.errstate(over="ignore"):          # an overflow is reported by the engine, naming the rule
        return {"scale": np.asarray(h, dtype=np.float64) ** -power}


RULE = RuleDef("diag_precond", step=step, reference=reference, hyper={"power": Hyper(interval=">= 0")},
               derived={"scale": "d"}, derive=_derive, stateless=lambda v: True)


def diag_precond(lr, power=1.0, weight_decay=0.0):
    return RULE(lr, power=power, weight_decay=weight_decay)


diag_precond.__doc__ = __doc__
