r"""RMSprop, exactly ``torch.optim.RMSprop`` (not centered, no momentum; Tieleman & Hinton 2012):
:math:`v_t = \alpha v_{t-1} + (1-\alpha) g_t^2` (v_0 = 0),
:math:`x_{t+1} = x_t - \eta_t\, g_t / (\sqrt{v_t} + \epsilon)`; 0/0 := 0 (``eps=0``, g = 0 so far)."""
import math

import numpy as np

from ..rule import Hyper, RuleDef

__all__ = ["rmsprop"]


def step(x, g, v, lr, alpha, eps):
    for i in range(x.shape[0]):
        vi = alpha * v[i] + (1.0 - alpha) * g[i] * g[i]
        v[i] = vi
        den = math.sqrt(vi) + eps
        if den > 0.0:
            x[i] -= lr * (g[i] / den)


def reference(x, g, v, lr, alpha, eps):
    v[...] = alpha * v + (1.0 - alpha) * g * g
    den = np.sqrt(v) + eps
    x -= lr * np.divide(g, den, out=np.zeros_like(g), where=den > 0.0)


RULE = RuleDef("rmsprop", step=step, reference=reference, state={"v": "d"},
               hyper={"alpha": Hyper(interval="[0, 1)"), "eps": Hyper(interval=">= 0")})


def rmsprop(lr, alpha=0.99, eps=1e-8, weight_decay=0.0):
    return RULE(lr, alpha=alpha, eps=eps, weight_decay=weight_decay)


rmsprop.__doc__ = __doc__


# The invariance card of each constructor (simopt.testing.card, which the tests hold equal to its
# measurement): the transformations that hold (all others fail) and why.
INVARIANCES = {
    "rmsprop": {
        "make": lambda: rmsprop(0.05),
        "holds": ("permutation", "sign_flip", "translation", "gradient_scaling"),
        "why": ("coordinate-wise: g/(√v + ε) follows signed permutations and ignores a positive scale of g "
                "(up to ε)"),
    },
}
