r"""Adan, the adaptive Nesterov momentum algorithm (Xie et al. 2022, arXiv 2208.06677, Alg. 1), in the
form of the official sail-sg/Adan ``adan.py``: the betas are decay rates (the paper's
:math:`1-\beta_k`), the moments are bias-corrected, and the decay is proximal.  With
:math:`\Delta_t = g_t - g_{t-1}` and :math:`\Delta_1 = 0` (the official code sets the previous gradient
to :math:`g_1` at the first step):

.. math::
    m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t,\quad
    v_t = \beta_2 v_{t-1} + (1-\beta_2)\Delta_t,\quad
    n_t = \beta_3 n_{t-1} + (1-\beta_3)\big(g_t + \beta_2\Delta_t\big)^2

    x_{t+1} = \frac{1}{1+\eta_t\lambda}\Big(x_t - \eta_t\,
    \frac{m_t/(1-\beta_1^t) + \beta_2\, v_t/(1-\beta_2^t)}{\sqrt{n_t/(1-\beta_3^t)} + \epsilon}\Big)

with :math:`m_0 = v_0 = n_0 = 0`.  The gradient-difference term is weighted by :math:`\beta_2`, in the
step and inside :math:`n_t`, as in the paper (its :math:`1-\beta_2` with the paper's convention) and
the official code; ``optax.adan`` weights it by :math:`1-\beta_2` instead (a different method for the
same betas; it also adds ``eps_root=1e-8`` under the square root by default), while
``pytorch_optimizer.Adan`` follows the official code.  Defaults as the official
code: ``lr=1e-3``, ``betas=(0.98, 0.92, 0.99)``, ``eps=1e-8``.  The decay is the official default
(``no_prox=False``): :math:`x \leftarrow x/(1+\eta\lambda)` after the step, on the absolute iterate --
simopt's ``weight_decay`` with ``decay="proximal"``, applied by the engine.  The official global
gradient-norm clipping (``max_grad_norm``, off by default) is not offered.  A coordinate with
:math:`\sqrt{\hat n_t} + \epsilon = 0` (``eps=0``, gradient exactly 0 so far, so the numerator is 0
too) is not moved (0/0 := 0).

Limit: ``beta2 = 0`` removes the difference term from the step (its weight :math:`\beta_2` is 0) and
from :math:`n_t`, leaving Adam with :math:`(\beta_1, \beta_3)` (:func:`simopt.optim.adam`).

Invariances (claims the invariance-card tests check): coordinate-wise, so equivariant under
permutations and sign flips of the coordinates, not under rotations; with ``eps = 0`` the step is
unchanged when the gradients are rescaled by any positive diagonal matrix; invariant to translations
(without weight decay).
"""
import math

import numpy as np

from ..rule import Hyper, RuleDef

__all__ = ["adan"]


def step(x, g, m, v, n, gprev, t, lr, beta1, beta2, beta3, eps):
    c1 = lr / (1.0 - beta1 ** t)
    c2 = lr * beta2 / (1.0 - beta2 ** t)
    bc3s = math.sqrt(1.0 - beta3 ** t)
    for i in range(x.shape[0]):
        diff = 0.0 if t == 1 else g[i] - gprev[i]
        mi = beta1 * m[i] + (1.0 - beta1) * g[i]
        vi = beta2 * v[i] + (1.0 - beta2) * diff
        s = g[i] + beta2 * diff
        ni = beta3 * n[i] + (1.0 - beta3) * s * s
        m[i] = mi
        v[i] = vi
        n[i] = ni
        gprev[i] = g[i]
        den = math.sqrt(ni) / bc3s + eps
        if den > 0.0:
            x[i] -= c1 * mi / den + c2 * vi / den


def reference(x, g, m, v, n, gprev, t, lr, beta1, beta2, beta3, eps):
    diff = np.zeros_like(g) if t == 1 else g - gprev
    m[...] = beta1 * m + (1.0 - beta1) * g
    v[...] = beta2 * v + (1.0 - beta2) * diff
    n[...] = beta3 * n + (1.0 - beta3) * (g + beta2 * diff) ** 2
    gprev[...] = g
    den = np.sqrt(n) / math.sqrt(1.0 - beta3 ** t) + eps
    with np.errstate(divide="ignore", invalid="ignore"):
        step_m = np.where(den > 0.0, (lr / (1.0 - beta1 ** t)) * m / den, 0.0)
        step_v = np.where(den > 0.0, (lr * beta2 / (1.0 - beta2 ** t)) * v / den, 0.0)
    x -= step_m + step_v


RULE = RuleDef("adan", step=step, reference=reference, decay="proximal",
               state={"m": "d", "v": "d", "n": "d", "gprev": "d"},
               hyper={"beta1": Hyper(interval="[0, 1)"), "beta2": Hyper(interval="[0, 1)"),
                      "beta3": Hyper(interval="[0, 1)"), "eps": Hyper(interval=">= 0")})


def adan(lr=1e-3, beta1=0.98, beta2=0.92, beta3=0.99, eps=1e-8, weight_decay=0.0):
    return RULE(lr, beta1=beta1, beta2=beta2, beta3=beta3, eps=eps, weight_decay=weight_decay)


adan.__doc__ = __doc__
