r"""Adam with one second-moment scalar per parameter block (the Adam-mini idea, Zhang et al. 2024b,
arXiv 2406.16793, the ``vmean`` of its code): per block b,

.. math::
    m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t,\quad
    v_{t,b} = \beta_2 v_{t-1,b} + (1-\beta_2)\,\mathrm{mean}_{i\in b}(g_{t,i}^2),\quad
    x_{t+1,b} = x_{t,b} - \frac{\eta_t}{1-\beta_1^t}\frac{m_{t,b}}{\sqrt{v_{t,b}}/\sqrt{1-\beta_2^t} + \epsilon}

It adapts to *block* heterogeneity (Zhang et al. 2024) but not to within-block scale; comparing it with
Adam separates the two effects.  Equivariant under block-diagonal rotations (``||g_b||`` is invariant),
not global ones.  0/0 := 0 as in :func:`simopt.optim.adam`.
"""
import math

import numpy as np

from ..rule import Hyper, RuleDef

__all__ = ["blockwise_adam"]


def step(x, g, m, v, t, lr, beta1, beta2, eps, blocks):
    bc2s = math.sqrt(1.0 - beta2 ** t)
    c = lr / (1.0 - beta1 ** t)
    for b in range(blocks.shape[0] - 1):
        s, e = blocks[b], blocks[b + 1]
        ms = 0.0
        for i in range(s, e):
            ms += g[i] * g[i]
        ms /= e - s
        vb = beta2 * v[b] + (1.0 - beta2) * ms
        v[b] = vb
        den = math.sqrt(vb) / bc2s + eps
        for i in range(s, e):
            mi = beta1 * m[i] + (1.0 - beta1) * g[i]
            m[i] = mi
            if den > 0.0:
                x[i] -= c * (mi / den)


def reference(x, g, m, v, t, lr, beta1, beta2, eps, blocks):
    bounds = list(blocks)
    m[...] = beta1 * m + (1.0 - beta1) * g
    ms = np.stack([np.mean(g[:, s:e] ** 2, axis=1) for s, e in zip(bounds[:-1], bounds[1:])], axis=1)
    v[...] = beta2 * v + (1.0 - beta2) * ms
    den = np.repeat(np.sqrt(v) / math.sqrt(1.0 - beta2 ** t) + eps, np.diff(bounds), axis=1)
    x -= (lr / (1.0 - beta1 ** t)) * np.divide(m, den, out=np.zeros_like(m), where=den > 0.0)


RULE = RuleDef("blockwise_adam", step=step, reference=reference, state={"m": "d", "v": "nb"},
               hyper={"beta1": Hyper(interval="[0, 1)"), "beta2": Hyper(interval="[0, 1)"),
                      "eps": Hyper(interval=">= 0")})


def blockwise_adam(lr, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0):
    return RULE(lr, beta1=beta1, beta2=beta2, eps=eps, weight_decay=weight_decay)


blockwise_adam.__doc__ = __doc__


# The invariance card of each constructor (simopt.testing.card, which the tests hold equal to its
# measurement): the transformations that hold (all others fail) and why.
INVARIANCES = {
    "blockwise_adam": {
        "make": lambda: blockwise_adam(0.05),
        "holds": ("block_rotation", "sign_flip", "translation"),
        "why": ("one √v per block: rotations inside a block keep ‖g_b‖, maps across blocks and uneven scales "
                "do not"),
    },
}
