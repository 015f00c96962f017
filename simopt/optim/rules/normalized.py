r"""Normalized and block-normalized gradient descent (Kunstner et al. 2023, seed_math.md §6): direction
:math:`d_t = g_t / \|g_t\|_2` (0 when g = 0) -- per parameter block b, :math:`d_{t,b} = g_{t,b}/\|g_{t,b}\|_2`,
for the block-normalized form -- then heavy-ball momentum without dampening,
:math:`b_t = \mu b_{t-1} + d_t` (b_1 = d_1), :math:`x_{t+1} = x_t - \eta_t b_t`.  Block normalization
moves every block the same distance per step whatever its gradient scale: a block-wise cure for gradient
heterogeneity (Tomihari & Sato 2025).

Normalized SGD with momentum, :func:`nsgd_momentum` (Cutkosky & Mehta 2020, "Momentum Improves Normalized
SGD", ICML), normalizes *after* the momentum instead:

.. math::  m_t = \beta m_{t-1} + (1-\beta) g_t,\qquad x_{t+1} = x_t - \eta_t\, m_t / \|m_t\|_2

(:math:`m_0 = 0`, no step while :math:`m_t = 0`): every step has length exactly :math:`\eta_t`, in the
direction of the averaged gradient, where the forms above average unit vectors, whose momentum sum has a
length that depends on how well successive directions agree.  It is also what Muon's orthogonalised
momentum becomes on a 1 x d parameter, :math:`U/\|U\|`.  Default :math:`\beta = 0.9`.  ``normalized_gd``
and ``nsgd_momentum`` are rotation-equivariant (the Euclidean norm is rotation-invariant),
``block_normalized`` only under block-diagonal rotations."""
import math

import numpy as np
from numba import njit

from ..rule import Hyper, RuleDef

__all__ = ["normalized_gd", "block_normalized", "nsgd_momentum"]


@njit(cache=True, error_model="numpy")
def _normalized(x, g, buf, t, lr, momentum, s, e):
    nrm = 0.0
    for i in range(s, e):
        nrm += g[i] * g[i]
    nrm = math.sqrt(nrm)
    inv = 1.0 / nrm if nrm > 0.0 else 0.0
    for i in range(s, e):
        dv = g[i] * inv
        if momentum != 0.0:
            if t > 1:
                dv = momentum * buf[i] + dv
            buf[i] = dv
        x[i] -= lr * dv


def step_whole(x, g, buf, t, lr, momentum):
    _normalized(x, g, buf, t, lr, momentum, 0, x.shape[0])


def step_blocks(x, g, buf, t, lr, momentum, blocks):
    for b in range(blocks.shape[0] - 1):
        _normalized(x, g, buf, t, lr, momentum, blocks[b], blocks[b + 1])


def _reference(x, g, buf, t, lr, momentum, bounds):
    D = np.zeros_like(g)
    for s, e in zip(bounds[:-1], bounds[1:]):
        n = np.linalg.norm(g[:, s:e], axis=1, keepdims=True)
        D[:, s:e] = np.divide(g[:, s:e], n, out=np.zeros_like(g[:, s:e]), where=n > 0)
    if momentum != 0.0:
        buf[...] = D if t == 1 else momentum * buf + D
        D = buf
    x -= lr * D


def reference_whole(x, g, buf, t, lr, momentum):
    _reference(x, g, buf, t, lr, momentum, [0, x.shape[1]])


def reference_blocks(x, g, buf, t, lr, momentum, blocks):
    _reference(x, g, buf, t, lr, momentum, list(blocks))


_HYPER = {"momentum": Hyper(interval="[0, 1)")}
_NO_MOMENTUM = lambda v: v["momentum"] == 0.0  # noqa: E731
NORMALIZED = RuleDef("normalized_gd", step=step_whole, reference=reference_whole, state={"buf": "d"},
                     hyper=_HYPER, stateless=_NO_MOMENTUM)
BLOCK_NORMALIZED = RuleDef("block_normalized", step=step_blocks, reference=reference_blocks,
                           state={"buf": "d"}, hyper=_HYPER, stateless=_NO_MOMENTUM)


def nsgd_step(x, g, m, lr, beta):
    top = 0.0
    for i in range(x.shape[0]):
        mi = beta * m[i] + (1.0 - beta) * g[i]
        m[i] = mi
        top = max(top, abs(mi))
    if top == 0.0:
        return
    nrm = 0.0                    # ||m / max|m| ||: m / ||m|| without under- or overflow of the squares
    for i in range(x.shape[0]):
        q = m[i] / top
        nrm += q * q
    nrm = math.sqrt(nrm)
    for i in range(x.shape[0]):
        x[i] -= lr * ((m[i] / top) / nrm)


def nsgd_reference(x, g, m, lr, beta):
    m[...] = beta * m + (1.0 - beta) * g
    top = np.max(np.abs(m), axis=1, keepdims=True)
    u = np.divide(m, top, out=np.zeros_like(m), where=top > 0)        # m / max|m|, then normalized
    n = np.linalg.norm(u, axis=1, keepdims=True)
    x -= lr * np.divide(u, n, out=np.zeros_like(u), where=n > 0)


NSGD_MOMENTUM = RuleDef("nsgd_momentum", step=nsgd_step, reference=nsgd_reference, state={"m": "d"},
                        hyper={"beta": Hyper(interval="[0, 1)")})


def normalized_gd(lr, momentum=0.0, weight_decay=0.0):
    return NORMALIZED(lr, momentum=momentum, weight_decay=weight_decay)


def block_normalized(lr, momentum=0.0, weight_decay=0.0):
    return BLOCK_NORMALIZED(lr, momentum=momentum, weight_decay=weight_decay)


def nsgd_momentum(lr, beta=0.9, weight_decay=0.0):
    return NSGD_MOMENTUM(lr, beta=beta, weight_decay=weight_decay)


normalized_gd.__doc__ = block_normalized.__doc__ = nsgd_momentum.__doc__ = __doc__
