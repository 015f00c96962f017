r"""Stochastic sign descent (SSD, signSGD): :math:`x_{t+1} = x_t - \eta_t\,\mathrm{sign}(g_t)`, with
sign(0) = 0 (Balles & Hennig 2018, Fig. 1; seed_math.md §4).  The steepest-descent direction for the
:math:`\ell_\infty` norm (Tomihari & Sato 2025)."""
import numpy as np

from ..rule import RuleDef

__all__ = ["sign"]


def step(x, g, lr):
    for i in range(x.shape[0]):
        x[i] -= lr * np.sign(g[i])


def reference(x, g, lr):
    x -= lr * np.sign(g)


RULE = RuleDef("sign", step=step, reference=reference)


def sign(lr, weight_decay=0.0):
    return RULE(lr, weight_decay=weight_decay)


sign.__doc__ = __doc__


# The invariance card of each constructor (simopt.testing.card, which the tests hold equal to its
# measurement): the transformations that hold (all others fail) and why.
INVARIANCES = {
    "sign": {
        "make": lambda: sign(0.05),
        "holds": ("permutation", "sign_flip", "translation", "gradient_scaling"),
        "why": ("sign(g) follows signed permutations and ignores positive scales; a rotation changes the "
                "signs"),
    },
}
