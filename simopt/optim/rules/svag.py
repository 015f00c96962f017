r"""Stochastic variance-adapted gradient (SVAG) and its momentum form M-SVAG, Balles & Hennig (2018),
the practical form of their official code (seed_math.md §4).  With one :math:`\beta` for both moving
averages, t = 1, 2, ...:

.. math::
    \tilde m_t = \beta\tilde m_{t-1} + (1-\beta) g_t,\quad
    \tilde v_t = \beta\tilde v_{t-1} + (1-\beta) g_t^2,\quad
    m_t = \tilde m_t/(1-\beta^t),\quad v_t = \tilde v_t/(1-\beta^t)

    \rho_t = \min\Big(\frac{(1-\beta)^2 (1-\beta^{2t})}{(1-\beta^t)^2 (1-\beta^2)},\ 0.9999\Big),\quad
    s_t = \frac{v_t - m_t^2}{1-\rho_t}

    \gamma_t = \frac{m_t^2}{m_t^2 + s_t}\ \text{(SVAG)},\qquad
    \gamma_t = \frac{m_t^2}{m_t^2 + \rho_t s_t}\ \text{(M-SVAG)}

:math:`\gamma` is clipped to [0, 1], NaN (m = v = 0) becomes 0; SVAG steps
:math:`x \leftarrow x - \eta\gamma_t\odot g_t`, M-SVAG :math:`x \leftarrow x - \eta\gamma_t\odot m_t`.
:math:`\gamma = (1+\hat\eta^2)^{-1}` is Lemma 1(a)'s optimal factor with the relative variance estimated
online (theory_notes.md §4).
"""
import numpy as np
from numba import njit

from ..rule import Hyper, RuleDef

__all__ = ["svag", "msvag", "svag_factor"]
RULES = ("svag", "msvag")


def rho(beta, t):
    """:math:`\\rho_t`, the variance of the bias-corrected EMA relative to one gradient, capped."""
    r = (1.0 - beta) ** 2 * (1.0 - beta ** (2 * t)) / ((1.0 - beta ** t) ** 2 * (1.0 - beta * beta))
    return min(r, 0.9999)


@njit(cache=True, error_model="numpy")
def _step(x, g, m, v, t, lr, beta, momentum_variant):
    bc = 1.0 - beta ** t
    r = (1.0 - beta) ** 2 * (1.0 - beta ** (2 * t)) / (bc * bc * (1.0 - beta * beta))
    if r > 0.9999:
        r = 0.9999
    for i in range(x.shape[0]):
        mt = beta * m[i] + (1.0 - beta) * g[i]
        vt = beta * v[i] + (1.0 - beta) * g[i] * g[i]
        m[i] = mt
        v[i] = vt
        mh = mt / bc
        vh = vt / bc
        m2 = mh * mh
        s = (vh - m2) / (1.0 - r)
        gam = m2 / (m2 + r * s) if momentum_variant else m2 / (m2 + s)
        if gam != gam or gam < 0.0:
            gam = 0.0
        elif gam > 1.0:
            gam = 1.0
        x[i] -= lr * gam * (mh if momentum_variant else g[i])


def svag_factor(m, v, t, beta, momentum_variant=False):
    """The variance-adaptation factor :math:`\\gamma_t` and :math:`m_t` from the (already updated) EMAs
    (NumPy, any shape)."""
    mh = m / (1.0 - beta ** t)
    vh = v / (1.0 - beta ** t)
    r = rho(beta, t)
    s = (vh - mh * mh) / (1.0 - r)
    with np.errstate(invalid="ignore", divide="ignore"):
        gam = mh * mh / (mh * mh + (r * s if momentum_variant else s))
    return np.clip(np.nan_to_num(gam, nan=0.0), 0.0, 1.0), mh


def _reference(x, g, m, v, t, lr, beta, momentum_variant):
    m[...] = beta * m + (1.0 - beta) * g
    v[...] = beta * v + (1.0 - beta) * g * g
    gam, mh = svag_factor(m, v, t, beta, momentum_variant)
    x -= lr * gam * (mh if momentum_variant else g)


def step_svag(x, g, m, v, t, lr, beta):
    _step(x, g, m, v, t, lr, beta, False)


def step_msvag(x, g, m, v, t, lr, beta):
    _step(x, g, m, v, t, lr, beta, True)


def reference_svag(x, g, m, v, t, lr, beta):
    _reference(x, g, m, v, t, lr, beta, False)


def reference_msvag(x, g, m, v, t, lr, beta):
    _reference(x, g, m, v, t, lr, beta, True)


_HYPER = {"beta": Hyper(interval="(0, 1)")}
SVAG = RuleDef("svag", step=step_svag, reference=reference_svag, state={"m": "d", "v": "d"}, hyper=_HYPER)
MSVAG = RuleDef("msvag", step=step_msvag, reference=reference_msvag, state={"m": "d", "v": "d"}, hyper=_HYPER)


def svag(lr, beta=0.9, weight_decay=0.0):
    return SVAG(lr, beta=beta, weight_decay=weight_decay)


def msvag(lr, beta=0.9, weight_decay=0.0):
    return MSVAG(lr, beta=beta, weight_decay=weight_decay)


svag.__doc__ = msvag.__doc__ = __doc__


# The invariance card of each constructor (simopt.testing.card, which the tests hold equal to its
# measurement): the transformations that hold (all others fail) and why.
INVARIANCES = {
    "svag": {
        "make": lambda: svag(0.05),
        "holds": ("permutation", "sign_flip", "translation"),
        "why": ("a coordinate-wise factor m²/(m² + s) that ignores scales, but the step η·factor·g scales "
                "with g"),
    },
    "msvag": {
        "make": lambda: msvag(0.05),
        "holds": ("permutation", "sign_flip", "translation"),
        "why": ("as SVAG, with the step η·factor·m"),
    },
}
