r"""ADOPT (Taniguchi et al. 2024, "ADOPT: Modified Adam Can Converge with Any beta2 with the Optimal
Rate", arXiv 2411.02853, Alg. 1, with the clipping of the paper's later versions that the official code
applies by default), as the official ``torch-adopt`` package (iShohei220/adopt, ``ADOPT``) computes it.
The first step only initialises the second moment; every later step normalises the gradient by the
*previous* second moment, clips, averages, moves, and then updates the second moment (t = 1, 2, ...
counts the calls):

.. math::
    t = 1:\quad v_1 = g_1^2,\ x_2 = x_1\ \text{(no move)};\qquad
    t \ge 2:\quad \tilde g_t = \mathrm{clip}\Big(\frac{g_t}{\max(\sqrt{v_{t-1}}, \epsilon)},\
    (t-1)^{1/4}\Big),\quad m_t = \beta_1 m_{t-1} + (1-\beta_1)\tilde g_t,

    x_{t+1} = x_t - \eta_t m_t,\qquad v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2

with :math:`m_1 = 0` and ``clip(u, c)`` = :math:`\min(\max(u, -c), c)`.  The clipping bound is the
official code's ``clip_lambda(step) = step ** 0.25`` with ``step`` the number of *earlier* calls -- the
paper's :math:`c_t = t^{1/4}` in its indexing, where :math:`g_0` initialises :math:`v_0` -- so the
first update is clipped at 1, the t-th call at :math:`(t-1)^{1/4}`.  ``clip=False`` is the unclipped
Alg. 1 (the official ``clip_lambda=None``).  Defaults as the official code: ``lr=1e-3``, ``beta1=0.9``,
``beta2=0.9999``, ``eps=1e-6``.  A coordinate with :math:`\max(\sqrt{v_{t-1}}, \epsilon) = 0` (``eps=0``,
gradient exactly 0 so far) gets :math:`\tilde g = 0` if :math:`g_t = 0` (0/0 := 0) and the clipping
bound :math:`\pm(t-1)^{1/4}` otherwise; ``eps=0`` therefore needs ``clip=True``.

Other implementations: ``optax.contrib.adopt`` computes the same (its clipping bound is the same
``count ** 0.25`` of earlier steps); ``pytorch_optimizer.ADOPT`` clips the t-th call at
:math:`t^{1/4}` instead (it increments its step count first), a later, looser bound at every step.

Weight decay: simopt's decoupled ``weight_decay`` (the official ``decouple=True``,
:math:`x \leftarrow x - \eta\lambda x` before the step), applied by the engine at every step, the first
(moment-initialising) one included, where the official code skips it; the official default
``decouple=False`` (an L2 term added to the gradient) is not offered.

Invariances (claims the invariance-card tests check): coordinate-wise, so equivariant under
permutations and sign flips of the coordinates, not under rotations; with ``eps = 0`` the step is
unchanged when the gradients are rescaled by any positive diagonal matrix; invariant to translations
(without weight decay).
"""
import math

import numpy as np

from ..rule import Hyper, RuleDef

__all__ = ["adopt"]


def step(x, g, m, v, t, lr, beta1, beta2, eps, clip):
    if t == 1:
        for i in range(x.shape[0]):
            v[i] = g[i] * g[i]
        return
    c = (t - 1) ** 0.25
    for i in range(x.shape[0]):
        den = max(math.sqrt(v[i]), eps)
        if den > 0.0:
            u = g[i] / den
        elif g[i] == 0.0:
            u = 0.0
        else:
            u = c if g[i] > 0.0 else -c
        if clip:
            u = min(max(u, -c), c)
        mi = beta1 * m[i] + (1.0 - beta1) * u
        m[i] = mi
        x[i] -= lr * mi
        v[i] = beta2 * v[i] + (1.0 - beta2) * g[i] * g[i]


def reference(x, g, m, v, t, lr, beta1, beta2, eps, clip):
    if t == 1:
        v[...] = g * g                          # v_0 = g_0^2 in the paper's indexing; no move
        return
    c = (t - 1) ** 0.25
    den = np.maximum(np.sqrt(v), eps)           # the *previous* second moment
    with np.errstate(divide="ignore", invalid="ignore"):
        u = np.where(den > 0.0, g / den, np.sign(g) * c)   # 0/0 := 0; g/0 -> the clipping bound
    if clip:
        u = np.clip(u, -c, c)
    m[...] = beta1 * m + (1.0 - beta1) * u
    x -= lr * m
    v[...] = beta2 * v + (1.0 - beta2) * g * g


def _check(h):
    if h["eps"] == 0.0 and not h["clip"]:
        raise ValueError("eps: expected a value > 0 without clipping (clip=False), got 0.0")


RULE = RuleDef("adopt", step=step, reference=reference, state={"m": "d", "v": "d"}, check=_check,
               hyper={"beta1": Hyper(interval="[0, 1)"), "beta2": Hyper(interval="[0, 1)"),
                      "eps": Hyper(interval=">= 0"), "clip": Hyper(kind="bool")})


def adopt(lr=1e-3, beta1=0.9, beta2=0.9999, eps=1e-6, clip=True, weight_decay=0.0):
    return RULE(lr, beta1=beta1, beta2=beta2, eps=eps, clip=clip, weight_decay=weight_decay)


adopt.__doc__ = __doc__
