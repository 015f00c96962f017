r"""M-SSD / signum: :math:`m_t = \beta m_{t-1} + (1-\beta) g_t` (m_0 = 0),
:math:`x_{t+1} = x_t - \eta_t\,\mathrm{sign}(m_t)` (Balles & Hennig 2018 "M-SSD"; the signum optimizer of
Tomihari & Sato's code, seed_math.md §1, whose weight decay is the decoupled ``weight_decay``)."""
import numpy as np

from ..rule import Hyper, RuleDef

__all__ = ["signum"]


def step(x, g, m, lr, beta):
    for i in range(x.shape[0]):
        mi = beta * m[i] + (1.0 - beta) * g[i]
        m[i] = mi
        x[i] -= lr * np.sign(mi)


def reference(x, g, m, lr, beta):
    m[...] = beta * m + (1.0 - beta) * g
    x -= lr * np.sign(m)


RULE = RuleDef("signum", step=step, reference=reference, state={"m": "d"},
               hyper={"beta": Hyper(interval="[0, 1)")})


def signum(lr, beta=0.9, weight_decay=0.0):
    return RULE(lr, beta=beta, weight_decay=weight_decay)


signum.__doc__ = __doc__


# The invariance card of each constructor (simopt.testing.card, which the tests hold equal to its
# measurement): the transformations that hold (all others fail) and why.
INVARIANCES = {
    "signum": {
        "make": lambda: signum(0.05),
        "holds": ("permutation", "sign_flip", "translation", "gradient_scaling"),
        "why": ("the sign of a coordinate-wise momentum: as sign descent"),
    },
}
