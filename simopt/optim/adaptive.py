"""Adaptive (second-moment) rules with ``torch.optim`` semantics: Adam, RMSprop, Adagrad, and the
block-wise Adam relative (one second moment per block, as in Adam-mini)."""
from __future__ import annotations

import numpy as np

from .._kernels import codes
from .._validate import check_interval, check_nonneg_scalar
from .base import Optimizer


class Adam(Optimizer):
    r"""Adam, exactly ``torch.optim.Adam`` (bias-corrected, no weight decay, no amsgrad):

    .. math::
        m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t,\quad v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2,\quad
        x_{t+1} = x_t - \frac{\eta_t}{1-\beta_1^t}\,\frac{m_t}{\sqrt{v_t}/\sqrt{1-\beta_2^t} + \epsilon}

    with :math:`m_0 = v_0 = 0`.  ``v0="first_grad"`` expresses the setting of Zhang et al. (2024),
    Thm 3.2 of the thesis version (seed_math.md §2): the second moment starts at the first gradient,
    :math:`v_1 = g_1^2`, and is *not* bias-corrected; with ``beta1=0, beta2=1, eps=0`` Adam is then gradient
    descent preconditioned by the fixed :math:`\mathrm{diag}(|g_1|)^{-1}` (theory_notes.md §2E).
    ``beta2 = 1`` is only allowed with ``v0="first_grad"`` (with ``v0="zero"`` the bias correction would
    divide by zero).
    """
    name = "adam"
    code = codes.ADAM

    def __init__(self, lr, beta1=0.9, beta2=0.999, eps=1e-8, v0="zero"):
        if v0 not in ("zero", "first_grad"):
            raise ValueError(f"v0: expected 'zero' or 'first_grad', got {v0!r}")
        beta1 = check_interval(beta1, "beta1", 0.0, 1.0)
        beta2 = check_interval(beta2, "beta2", 0.0, 1.0, high_closed=(v0 == "first_grad"))
        eps = check_nonneg_scalar(eps, "eps")
        super().__init__(lr, beta1=beta1, beta2=beta2, eps=eps, v0=v0)

    def _hp(self, problem):
        h = self._hyper
        return [h["beta1"], h["beta2"], h["eps"], float(h["v0"] == "first_grad")]

    def state_size(self, d, n_blocks):
        return 2 * d

    def init_state(self, runs, d, blocks):
        return {"m": np.zeros((runs, d)), "v": np.zeros((runs, d))}

    def reference_step(self, X, G, state, t, lr, blocks, Gc=None, problem=None):
        h = self._hyper
        b1, b2, eps = h["beta1"], h["beta2"], h["eps"]
        first = h["v0"] == "first_grad"
        gm = G if Gc is None else Gc          # Pan & Li clip only the first-moment input
        state["m"] = b1 * state["m"] + (1 - b1) * gm
        state["v"] = G * G if (first and t == 1) else b2 * state["v"] + (1 - b2) * G * G
        bc1 = 1 - b1 ** t
        bc2 = 1.0 if first else 1 - b2 ** t
        return X - (lr / bc1) * (state["m"] / (np.sqrt(state["v"]) / np.sqrt(bc2) + eps))


class RMSprop(Optimizer):
    r"""RMSprop, exactly ``torch.optim.RMSprop`` (not centered, no momentum):
    :math:`v_t = \alpha v_{t-1} + (1-\alpha) g_t^2` (v_0 = 0),
    :math:`x_{t+1} = x_t - \eta_t\, g_t / (\sqrt{v_t} + \epsilon)`."""
    name = "rmsprop"
    code = codes.RMSPROP

    def __init__(self, lr, alpha=0.99, eps=1e-8):
        super().__init__(lr, alpha=check_interval(alpha, "alpha", 0.0, 1.0),
                         eps=check_nonneg_scalar(eps, "eps"))

    def _hp(self, problem):
        return [self._hyper["alpha"], self._hyper["eps"]]

    def state_size(self, d, n_blocks):
        return d

    def init_state(self, runs, d, blocks):
        return {"v": np.zeros((runs, d))}

    def reference_step(self, X, G, state, t, lr, blocks, Gc=None, problem=None):
        a, eps = self._hyper["alpha"], self._hyper["eps"]
        state["v"] = a * state["v"] + (1 - a) * G * G
        return X - lr * (G / (np.sqrt(state["v"]) + eps))


class Adagrad(Optimizer):
    r"""Adagrad, exactly ``torch.optim.Adagrad`` (lr_decay = 0, initial accumulator 0):
    :math:`s_t = s_{t-1} + g_t^2`, :math:`x_{t+1} = x_t - \eta_t\, g_t / (\sqrt{s_t} + \epsilon)`."""
    name = "adagrad"
    code = codes.ADAGRAD

    def __init__(self, lr, eps=1e-10):
        super().__init__(lr, eps=check_nonneg_scalar(eps, "eps"))

    def _hp(self, problem):
        return [self._hyper["eps"]]

    def state_size(self, d, n_blocks):
        return d

    def init_state(self, runs, d, blocks):
        return {"s": np.zeros((runs, d))}

    def reference_step(self, X, G, state, t, lr, blocks, Gc=None, problem=None):
        state["s"] = state["s"] + G * G
        return X - lr * (G / (np.sqrt(state["s"]) + self._hyper["eps"]))


class BlockwiseAdam(Optimizer):
    r"""Adam with one second-moment scalar per parameter block (the Adam-mini idea): per block b,

    .. math::
        m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t,\quad
        v_{t,b} = \beta_2 v_{t-1,b} + (1-\beta_2)\,\mathrm{mean}_{i\in b}(g_{t,i}^2),\quad
        x_{t+1,b} = x_{t,b} - \frac{\eta_t}{1-\beta_1^t}\frac{m_{t,b}}{\sqrt{v_{t,b}}/\sqrt{1-\beta_2^t} + \epsilon}

    It adapts to *block* heterogeneity (Zhang et al. 2024) but not to within-block scale; comparing it
    with Adam separates the two effects.
    """
    name = "blockwise_adam"
    code = codes.BLOCKWISE_ADAM

    def __init__(self, lr, beta1=0.9, beta2=0.999, eps=1e-8):
        super().__init__(lr, beta1=check_interval(beta1, "beta1", 0.0, 1.0),
                         beta2=check_interval(beta2, "beta2", 0.0, 1.0),
                         eps=check_nonneg_scalar(eps, "eps"))

    def _hp(self, problem):
        h = self._hyper
        return [h["beta1"], h["beta2"], h["eps"]]

    def state_size(self, d, n_blocks):
        return d + n_blocks

    def init_state(self, runs, d, blocks):
        return {"m": np.zeros((runs, d)), "v": np.zeros((runs, len(blocks)))}

    def reference_step(self, X, G, state, t, lr, blocks, Gc=None, problem=None):
        h = self._hyper
        b1, b2, eps = h["beta1"], h["beta2"], h["eps"]
        state["m"] = b1 * state["m"] + (1 - b1) * G
        ms = np.stack([np.mean(G[:, s] ** 2, axis=1) for s in blocks], axis=1)
        state["v"] = b2 * state["v"] + (1 - b2) * ms
        sizes = [s.stop - s.start for s in blocks]
        v = np.repeat(state["v"], sizes, axis=1)
        return X - (lr / (1 - b1 ** t)) * (state["m"] / (np.sqrt(v) / np.sqrt(1 - b2 ** t) + eps))


def adam(lr, beta1=0.9, beta2=0.999, eps=1e-8, v0="zero") -> Adam:
    return Adam(lr, beta1=beta1, beta2=beta2, eps=eps, v0=v0)


def rmsprop(lr, alpha=0.99, eps=1e-8) -> RMSprop:
    return RMSprop(lr, alpha=alpha, eps=eps)


def adagrad(lr, eps=1e-10) -> Adagrad:
    return Adagrad(lr, eps=eps)


def blockwise_adam(lr, beta1=0.9, beta2=0.999, eps=1e-8) -> BlockwiseAdam:
    return BlockwiseAdam(lr, beta1=beta1, beta2=beta2, eps=eps)


adam.__doc__, rmsprop.__doc__, adagrad.__doc__, blockwise_adam.__doc__ = (
    Adam.__doc__, RMSprop.__doc__, Adagrad.__doc__, BlockwiseAdam.__doc__)
