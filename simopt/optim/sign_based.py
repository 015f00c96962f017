"""Sign-based rules and variance adaptation, exactly as Balles & Hennig (2018) define them
(seed_math.md §4): SSD, M-SSD (signum), SVAG, M-SVAG."""
from __future__ import annotations

import numpy as np

from .._kernels import codes
from .._validate import check_interval
from .base import Optimizer


class Sign(Optimizer):
    r"""Stochastic sign descent (SSD, signSGD): :math:`x_{t+1} = x_t - \eta_t\,\mathrm{sign}(g_t)`,
    with sign(0) = 0 (Balles & Hennig 2018, Fig. 1; seed_math.md §4).  The steepest-descent direction
    for the :math:`\ell_\infty` norm (Tomihari & Sato 2025)."""
    name = "sign"
    code = codes.SIGN

    def __init__(self, lr):
        super().__init__(lr)

    def _hp(self, problem):
        return [0.0]

    def reference_step(self, X, G, state, t, lr, blocks, Gc=None, problem=None):
        return X - lr * np.sign(G)


class Signum(Optimizer):
    r"""M-SSD / signum: :math:`m_t = \beta m_{t-1} + (1-\beta) g_t` (m_0 = 0),
    :math:`x_{t+1} = x_t - \eta_t\,\mathrm{sign}(m_t)` (Balles & Hennig 2018 "M-SSD"; the same rule as the
    signum optimizer of Tomihari & Sato's code, seed_math.md §1, without weight decay)."""
    name = "signum"
    code = codes.SIGNUM

    def __init__(self, lr, beta=0.9):
        super().__init__(lr, beta=check_interval(beta, "beta", 0.0, 1.0))

    def _hp(self, problem):
        return [self._hyper["beta"]]

    def state_size(self, d, n_blocks):
        return d

    def init_state(self, runs, d, blocks):
        return {"m": np.zeros((runs, d))}

    def reference_step(self, X, G, state, t, lr, blocks, Gc=None, problem=None):
        b = self._hyper["beta"]
        state["m"] = b * state["m"] + (1 - b) * G
        return X - lr * np.sign(state["m"])


class SVAG(Optimizer):
    r"""Stochastic variance-adapted gradient (SVAG), Balles & Hennig (2018), practical form of their
    official code (seed_math.md §4).  With one :math:`\beta` for both moving averages, t = 1, 2, ...:

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
    :math:`\gamma = (1+\hat\eta^2)^{-1}` is Lemma 1(a)'s optimal factor with the relative variance
    estimated online (theory_notes.md §4).
    """
    name = "svag"
    code = codes.SVAG
    momentum_variant = False

    def __init__(self, lr, beta=0.9):
        super().__init__(lr, beta=check_interval(beta, "beta", 0.0, 1.0, low_closed=False))

    def _hp(self, problem):
        return [self._hyper["beta"]]

    def state_size(self, d, n_blocks):
        return 2 * d

    def init_state(self, runs, d, blocks):
        return {"m": np.zeros((runs, d)), "v": np.zeros((runs, d))}

    @staticmethod
    def rho(beta, t):
        """:math:`\\rho_t`, the variance of the bias-corrected EMA relative to one gradient, capped."""
        r = (1 - beta) ** 2 * (1 - beta ** (2 * t)) / ((1 - beta ** t) ** 2 * (1 - beta ** 2))
        return min(r, 0.9999)

    def factor(self, state, t):
        """The variance-adaptation factor :math:`\\gamma_t` from the (already updated) state."""
        b = self._hyper["beta"]
        m = state["m"] / (1 - b ** t)
        v = state["v"] / (1 - b ** t)
        rho = self.rho(b, t)
        s = (v - m * m) / (1 - rho)
        with np.errstate(invalid="ignore", divide="ignore"):
            gam = m * m / (m * m + (rho * s if self.momentum_variant else s))
        return np.clip(np.nan_to_num(gam, nan=0.0), 0.0, 1.0), m

    def reference_step(self, X, G, state, t, lr, blocks, Gc=None, problem=None):
        b = self._hyper["beta"]
        state["m"] = b * state["m"] + (1 - b) * G
        state["v"] = b * state["v"] + (1 - b) * G * G
        gam, m = self.factor(state, t)
        return X - lr * gam * (m if self.momentum_variant else G)


class MSVAG(SVAG):
    __doc__ = SVAG.__doc__
    name = "msvag"
    code = codes.MSVAG
    momentum_variant = True


def sign(lr) -> Sign:
    return Sign(lr)


def signum(lr, beta=0.9) -> Signum:
    return Signum(lr, beta=beta)


def svag(lr, beta=0.9) -> SVAG:
    return SVAG(lr, beta=beta)


def msvag(lr, beta=0.9) -> MSVAG:
    return MSVAG(lr, beta=beta)


sign.__doc__, signum.__doc__, svag.__doc__, msvag.__doc__ = (
    Sign.__doc__, Signum.__doc__, SVAG.__doc__, SVAG.__doc__)
