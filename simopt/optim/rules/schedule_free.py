r"""Schedule-free SGD and AdamW (Defazio et al. 2024, "The Road Less Scheduled", arXiv 2405.15682,
Eq. (1)-(3) and Alg. 1), exactly as the official ``schedulefree`` package's reference forms
``SGDScheduleFreeReference`` and ``AdamWScheduleFreeReference`` compute them.  Three sequences: the
gradient is taken at y, the base step moves z, and x -- the point the loss is reported at, the engine's
iterate -- is a weighted average of the z's; with k = t - 1 = 0, 1, ... and :math:`z_0 = x_0`:

.. math::
    y_k = (1-\beta) z_k + \beta x_k,\qquad \gamma_k = \eta_k \min\big(1, (k+1)/T_w\big),\qquad
    \gamma_{\max} \leftarrow \max(\gamma_{\max}, \gamma_k)

    w_k = (k+1)^r\,\gamma_{\max}^{p},\qquad c_{k+1} = w_k \Big/ \textstyle\sum_{j\le k} w_j

    \text{SGD:}\quad z_{k+1} = z_k - \gamma_k\big(\nabla f(y_k) + \lambda Y_k\big)

    \text{AdamW:}\quad v_{k+1} = \beta_2 v_k + (1-\beta_2)\nabla f(y_k)^2,

    z_{k+1} = z_k - \gamma_k\lambda Y_k
    - \gamma_k \frac{\nabla f(y_k)}{\sqrt{v_{k+1}/(1-\beta_2^{k+1})} + \epsilon}

    x_{k+1} = (1 - c_{k+1}) x_k + c_{k+1} z_{k+1}

(:math:`T_w` = ``warmup_steps``, no warmup when 0; p = ``weight_lr_power``; :math:`Y_k = y_k + x^*` the
absolute gradient point; c = 0 when the weights sum to 0).  The weight decay is the official one --
at y (``decay_at_z=True``: at z, AdamW only), inside the base step -- which the engine's ``weight_decay``
(on x) is not; the rule therefore applies it itself (``decay=None``; the hyperparameter is this rule's
``weight_decay``) and binds ``xstar`` for it.  The gradient point is the rule's ``point`` (simopt
reports the loss at x and takes the gradient at y).  Defaults as the official classes: SGD ``lr=1``,
``momentum=0.9``; AdamW ``lr=0.0025``, ``betas=(0.9, 0.999)``, ``eps=1e-8``; both ``warmup_steps=0``,
``r=0``, ``weight_lr_power=2``, ``weight_decay=0``.  The official code requires :math:`0 < \beta < 1`
for SGD; the paper's analysis (Thm. 1) holds for :math:`\beta \in [0, 1]`, which is what is accepted:
:math:`\beta = 0` is Polyak-Ruppert averaging of plain SGD (y = z), :math:`\beta = 1` primal averaging
(the gradient at x).  A coordinate of SF-AdamW with a zero denominator (``eps=0``, gradient exactly 0 so
far) is not moved by the base step (0/0 := 0).

The non-reference classes ``SGDScheduleFree``/``AdamWScheduleFree`` run the same method with y as the
stored parameter (x is recovered by ``eval()``), equal to these to rounding.

Invariances (claims the invariance-card tests check): schedule-free SGD is a linear combination of
gradients, so equivariant under rotations (every orthogonal change of basis), and so under permutations
and sign flips; schedule-free AdamW is coordinate-wise: permutation and sign-flip equivariant, not
rotation equivariant.  Both are invariant to translations (without weight decay).
"""
import math

import numpy as np
from numba import njit

from ..rule import Hyper, Optimizer, RuleDef

__all__ = ["schedule_free_sgd", "schedule_free_adamw"]
RULES = ("schedule_free_sgd", "schedule_free_adamw")


def sgd_point(y, x, z, t, momentum):
    if t == 1:
        y[...] = x                                   # z_0 = x_0
    else:
        y[...] = momentum * x + (1.0 - momentum) * z


def adamw_point(y, x, z, t, beta1):
    if t == 1:
        y[...] = x
    else:
        y[...] = beta1 * x + (1.0 - beta1) * z


@njit(cache=True, error_model="numpy")
def _averaging(t, lr, lr_max, wsum, warmup_steps, r, weight_lr_power):
    """(gamma_k, c_{k+1}) of step t = k + 1; updates the running max rate and weight sum in place."""
    gamma = lr * (t / warmup_steps if t <= warmup_steps else 1.0)
    lm = max(gamma, lr_max[0])
    lr_max[0] = lm
    weight = float(t) ** r * lm ** weight_lr_power
    ws = wsum[0] + weight
    wsum[0] = ws
    return gamma, (weight / ws if ws != 0.0 else 0.0)


def _averaging_reference(t, lr, lr_max, wsum, warmup_steps, r, weight_lr_power):
    gamma = lr * (t / warmup_steps if t <= warmup_steps else 1.0)   # linear warmup over T_w steps
    lr_max[...] = np.maximum(lr_max, gamma)
    weight = float(t) ** r * lr_max ** weight_lr_power            # w_k = (k+1)^r gamma_max^p
    wsum += weight
    return gamma, np.divide(weight, wsum, out=np.zeros_like(wsum), where=wsum != 0.0)


def sgd_step(x, g, z, lr_max, wsum, t, lr, xstar, momentum, weight_decay, warmup_steps, r,
             weight_lr_power):
    gamma, c = _averaging(t, lr, lr_max, wsum, warmup_steps, r, weight_lr_power)
    for i in range(x.shape[0]):
        zi = x[i] if t == 1 else z[i]
        gi = g[i]
        if weight_decay != 0.0:
            yi = x[i] if t == 1 else momentum * x[i] + (1.0 - momentum) * zi
            gi = gi + weight_decay * (yi + xstar[i])
        zi = zi - gamma * gi
        z[i] = zi
        x[i] = (1.0 - c) * x[i] + c * zi


def sgd_reference(x, g, z, lr_max, wsum, t, lr, xstar, momentum, weight_decay, warmup_steps, r,
                  weight_lr_power):
    gamma, c = _averaging_reference(t, lr, lr_max, wsum, warmup_steps, r, weight_lr_power)
    y = x.copy() if t == 1 else momentum * x + (1.0 - momentum) * z     # where g was taken
    if t == 1:
        z[...] = x
    z -= gamma * (g + weight_decay * (y + xstar) if weight_decay != 0.0 else g)
    x[...] = (1.0 - c) * x + c * z


def adamw_step(x, g, z, v, lr_max, wsum, t, lr, xstar, beta1, beta2, eps, weight_decay, warmup_steps, r,
               weight_lr_power, decay_at_z):
    gamma, c = _averaging(t, lr, lr_max, wsum, warmup_steps, r, weight_lr_power)
    bc2 = 1.0 - beta2 ** t
    for i in range(x.shape[0]):
        zi = x[i] if t == 1 else z[i]
        if weight_decay != 0.0:
            if decay_at_z:
                pi = zi + xstar[i]
            else:
                pi = (x[i] if t == 1 else beta1 * x[i] + (1.0 - beta1) * zi) + xstar[i]
            zi = zi - gamma * weight_decay * pi
        vi = beta2 * v[i] + (1.0 - beta2) * g[i] * g[i]
        v[i] = vi
        den = math.sqrt(vi / bc2) + eps
        if den > 0.0:
            zi = zi - gamma * (g[i] / den)
        z[i] = zi
        x[i] = (1.0 - c) * x[i] + c * zi


def adamw_reference(x, g, z, v, lr_max, wsum, t, lr, xstar, beta1, beta2, eps, weight_decay, warmup_steps,
                    r, weight_lr_power, decay_at_z):
    gamma, c = _averaging_reference(t, lr, lr_max, wsum, warmup_steps, r, weight_lr_power)
    y = x.copy() if t == 1 else beta1 * x + (1.0 - beta1) * z           # where g was taken
    if t == 1:
        z[...] = x
    if weight_decay != 0.0:
        z -= gamma * weight_decay * ((z if decay_at_z else y) + xstar)
    v[...] = beta2 * v + (1.0 - beta2) * g * g
    den = np.sqrt(v / (1.0 - beta2 ** t)) + eps
    z -= gamma * np.divide(g, den, out=np.zeros_like(g), where=den > 0.0)
    x[...] = (1.0 - c) * x + c * z


_COMMON = {"weight_decay": Hyper(interval=">= 0"), "warmup_steps": Hyper(kind="int", minimum=0),
           "r": Hyper(interval=">= 0"), "weight_lr_power": Hyper(interval=">= 0")}

SGD = RuleDef("schedule_free_sgd", step=sgd_step, reference=sgd_reference, point=sgd_point, decay=None,
              state={"z": "d", "lr_max": "1", "wsum": "1"},
              hyper={"momentum": Hyper(interval="[0, 1]"), **_COMMON})

ADAMW = RuleDef("schedule_free_adamw", step=adamw_step, reference=adamw_reference, point=adamw_point,
                decay=None, state={"z": "d", "v": "d", "lr_max": "1", "wsum": "1"},
                hyper={"beta1": Hyper(interval="[0, 1]"), "beta2": Hyper(interval="[0, 1)"),
                       "eps": Hyper(interval=">= 0"), **_COMMON, "decay_at_z": Hyper(kind="bool")})


def schedule_free_sgd(lr=1.0, momentum=0.9, weight_decay=0.0, warmup_steps=0, r=0.0, weight_lr_power=2.0):
    return Optimizer(SGD, lr, dict(momentum=momentum, weight_decay=weight_decay, warmup_steps=warmup_steps,
                                   r=r, weight_lr_power=weight_lr_power))


def schedule_free_adamw(lr=0.0025, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, warmup_steps=0, r=0.0,
                        weight_lr_power=2.0, decay_at_z=False):
    return Optimizer(ADAMW, lr, dict(beta1=beta1, beta2=beta2, eps=eps, weight_decay=weight_decay,
                                     warmup_steps=warmup_steps, r=r, weight_lr_power=weight_lr_power,
                                     decay_at_z=decay_at_z))


schedule_free_sgd.__doc__ = schedule_free_adamw.__doc__ = __doc__
