"""Gradient-based rules: SGD with momentum (torch semantics), normalized and block-normalized GD."""
from __future__ import annotations

import numpy as np

from .._kernels import codes
from .._validate import check_bool, check_interval
from .base import Optimizer


class SGD(Optimizer):
    r"""Stochastic gradient descent with heavy-ball / Nesterov momentum, exactly ``torch.optim.SGD``.

    With momentum :math:`\mu` and dampening :math:`\tau` (t = 1, 2, ...):

    .. math::  b_1 = g_1,\quad b_t = \mu b_{t-1} + (1-\tau) g_t,\qquad
               d_t = g_t + \mu b_t \text{ (nesterov) else } b_t,\qquad x_{t+1} = x_t - \eta_t d_t

    and plain SGD ``x_{t+1} = x_t - eta_t g_t`` when ``momentum == 0``.  Balles & Hennig (2018) call the
    momentum variant M-SGD (seed_math.md §4).
    """
    name = "sgd"
    code = codes.SGD

    def __init__(self, lr, momentum=0.0, dampening=0.0, nesterov=False):
        momentum = check_interval(momentum, "momentum", 0.0, 1.0)
        dampening = check_interval(dampening, "dampening", 0.0, 1.0, high_closed=True)
        nesterov = check_bool(nesterov, "nesterov")
        if nesterov and (momentum <= 0.0 or dampening != 0.0):
            raise ValueError("nesterov: Nesterov momentum requires momentum > 0 and dampening = 0 "
                             "(as in torch.optim.SGD)")
        super().__init__(lr, momentum=momentum, dampening=dampening, nesterov=nesterov)

    def _hp(self, problem):
        h = self._hyper
        return [h["momentum"], h["dampening"], float(h["nesterov"])]

    def state_size(self, d, n_blocks):
        return d if self._hyper["momentum"] != 0.0 else 0

    def init_state(self, runs, d, blocks):
        return {"buf": np.zeros((runs, d))}

    def reference_step(self, X, G, state, t, lr, blocks, Gc=None, problem=None):
        g = G if Gc is None else Gc
        mu, tau = self._hyper["momentum"], self._hyper["dampening"]
        if mu == 0.0:
            return X - lr * g
        state["buf"] = g.copy() if t == 1 else mu * state["buf"] + (1.0 - tau) * g
        d = g + mu * state["buf"] if self._hyper["nesterov"] else state["buf"]
        return X - lr * d


class NormalizedGD(Optimizer):
    r"""Normalized gradient descent (Kunstner et al. 2023, seed_math.md §6): direction
    :math:`d_t = g_t / \|g_t\|_2` (0 when g = 0), then heavy-ball momentum without dampening,
    :math:`b_t = \mu b_{t-1} + d_t` (b_1 = d_1), :math:`x_{t+1} = x_t - \eta_t b_t`."""
    name = "normalized_gd"
    code = codes.NORMALIZED_GD
    per_block = False

    def __init__(self, lr, momentum=0.0):
        super().__init__(lr, momentum=check_interval(momentum, "momentum", 0.0, 1.0))

    def _hp(self, problem):
        return [self._hyper["momentum"]]

    def state_size(self, d, n_blocks):
        return d if self._hyper["momentum"] != 0.0 else 0

    def init_state(self, runs, d, blocks):
        return {"buf": np.zeros((runs, d))}

    def reference_step(self, X, G, state, t, lr, blocks, Gc=None, problem=None):
        parts = blocks if self.per_block else [slice(0, G.shape[1])]
        D = np.zeros_like(G)
        for s in parts:
            n = np.linalg.norm(G[:, s], axis=1, keepdims=True)
            D[:, s] = np.divide(G[:, s], n, out=np.zeros_like(G[:, s]), where=n > 0)
        mu = self._hyper["momentum"]
        if mu != 0.0:
            state["buf"] = D if t == 1 else mu * state["buf"] + D
            D = state["buf"]
        return X - lr * D


class BlockNormalized(NormalizedGD):
    r"""Block-normalized GD (Kunstner et al. 2023, seed_math.md §6): per parameter block b,
    :math:`d_{t,b} = g_{t,b} / \|g_{t,b}\|_2`, then heavy-ball momentum as in :class:`NormalizedGD`.
    Every block moves the same distance per step, whatever its gradient scale — a block-wise cure
    for gradient heterogeneity (Tomihari & Sato 2025)."""
    name = "block_normalized"
    code = codes.BLOCK_NORMALIZED
    per_block = True


def sgd(lr, momentum=0.0, dampening=0.0, nesterov=False) -> SGD:
    return SGD(lr, momentum=momentum, dampening=dampening, nesterov=nesterov)


def normalized_gd(lr, momentum=0.0) -> NormalizedGD:
    return NormalizedGD(lr, momentum=momentum)


def block_normalized(lr, momentum=0.0) -> BlockNormalized:
    return BlockNormalized(lr, momentum=momentum)


sgd.__doc__ = SGD.__doc__
normalized_gd.__doc__ = NormalizedGD.__doc__
block_normalized.__doc__ = BlockNormalized.__doc__
