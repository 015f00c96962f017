r"""Adagrad, exactly ``torch.optim.Adagrad`` (Duchi, Hazan & Singer 2011, diagonal form; lr_decay = 0,
initial accumulator 0): :math:`s_t = s_{t-1} + g_t^2`,
:math:`x_{t+1} = x_t - \eta_t\, g_t / (\sqrt{s_t} + \epsilon)`; 0/0 := 0 (``eps=0``, g = 0 so far)."""
import math

import numpy as np

from ..rule import Hyper, RuleDef

__all__ = ["adagrad"]


def step(x, g, s, lr, eps):
    for i in range(x.shape[0]):
        si = s[i] + g[i] * g[i]
        s[i] = si
        den = math.sqrt(si) + eps
        if den > 0.0:
            x[i] -= lr * (g[i] / den)


def reference(x, g, s, lr, eps):
    s += g * g
    den = np.sqrt(s) + eps
    x -= lr * np.divide(g, den, out=np.zeros_like(g), where=den > 0.0)


RULE = RuleDef("adagrad", step=step, reference=reference, state={"s": "d"},
               hyper={"eps": Hyper(interval=">= 0")})


def adagrad(lr, eps=1e-10, weight_decay=0.0):
    return RULE(lr, eps=eps, weight_decay=weight_decay)


adagrad.__doc__ = __doc__


# The invariance card of each constructor (simopt.testing.card, which the tests hold equal to its
# measurement): the transformations that hold (all others fail) and why.
INVARIANCES = {
    "adagrad": {
        "make": lambda: adagrad(0.05),
        "holds": ("permutation", "sign_flip", "translation", "gradient_scaling"),
        "why": ("coordinate-wise: g/(√s + ε) follows signed permutations and ignores a positive scale of g "
                "(up to ε)"),
    },
}
