r"""Full-matrix AdaGrad (Duchi, Hazan & Singer 2011, JMLR 12, Sec. 1.1: the full-matrix proximal function
:math:`\psi_t(x) = \tfrac12 x^\top(\delta I + G_t^{1/2})x`) and Shampoo on a vector (Gupta, Koren &
Singer 2018, arXiv 1802.09568, Algorithm 2 for an order-1 tensor).  Both accumulate the gradients' outer
products,

.. math::  G_t = \sum_{s \le t} g_s g_s^\top \qquad (d \times d),

and differ only in where the regulariser sits:

.. math::
    \text{full-matrix AdaGrad:}\quad x_{t+1} = x_t - \eta_t\,(\delta I + G_t^{1/2})^{-1} g_t,\qquad
    \text{Shampoo (k = 1):}\quad x_{t+1} = x_t - \eta_t\,(\epsilon I + G_t)^{-1/2} g_t

(Shampoo starts its statistic at :math:`H_0 = \epsilon I` and uses the exponent :math:`-1/(2k)` = -1/2
for k = 1).  They coincide exactly when the regulariser is 0 -- the pseudo-inverse square root
:math:`G_t^{+1/2} g_t`, well defined because :math:`g_t g_t^\top \preceq G_t` puts :math:`g_t` in the
range of :math:`G_t` -- and differ for any positive one, so simopt has the two as separate rules, both
computed from one eigendecomposition :math:`G_t = V\Lambda V^\top` per step (O(d³)):
:math:`u = \sum_i f(\lambda_i)\,(v_i^\top g_t)\,v_i` with :math:`f(\lambda) = 1/(\delta+\sqrt\lambda)` or
:math:`(\epsilon+\lambda)^{-1/2}`.  Eigenvalues at or below the numerical-rank tolerance
:math:`d\,\epsilon_{\mathrm{mach}}\lambda_{\max}` (numpy's ``matrix_rank`` default) count as exactly 0 and
their directions are dropped: in exact arithmetic :math:`g_t` has no component there, and computing one
from rounding noise would only amplify it (by up to :math:`1/\delta`).  All-zero gradients so far give
G = 0 and no step (0/0 := 0).

Defaults: :math:`\delta = 10^{-10}` as simopt's diagonal :func:`simopt.optim.adagrad` (``torch.optim.
Adagrad``), which full-matrix AdaGrad reduces to when every :math:`G_t` is diagonal;
:math:`\epsilon = 10^{-6}`, the ``matrix_eps`` of ``pytorch_optimizer.Shampoo``, which on a 1-d parameter
with ``momentum=0`` is exactly this Shampoo (its parity test).  Both rules are rotation-equivariant:
on :math:`Q H Q^\top` from :math:`Q x_0` the iterates are :math:`Q x_t` (matrix functions commute with
the rotation), the full-matrix counterpart of AdaGrad's per-coordinate adaptivity.  Dense state
``runs x d x d``.
"""
import math

import numpy as np
from numba import njit

from ..rule import Hyper, RuleDef

__all__ = ["full_matrix_adagrad", "shampoo_vector"]

_EPS = np.finfo(np.float64).eps
ADAGRAD, SHAMPOO = 0, 1


@njit(cache=True, error_model="numpy")
def _step(x, g, G, lr, eps, form):
    d = x.shape[0]
    for i in range(d):
        gi = g[i]
        for j in range(d):
            G[i, j] += gi * g[j]
    lam, V = np.linalg.eigh(G)
    cut = (d * _EPS) * lam[d - 1]
    for k in range(d):
        lk = lam[k]
        if not (lk > cut):
            continue
        f = 1.0 / (eps + math.sqrt(lk)) if form == ADAGRAD else 1.0 / math.sqrt(eps + lk)
        c = 0.0
        for i in range(d):
            c += V[i, k] * g[i]
        c *= f
        for i in range(d):
            x[i] -= lr * (c * V[i, k])


def _reference(x, g, G, lr, eps, form):
    G += g[:, :, None] * g[:, None, :]
    lam, V = np.linalg.eigh(G)
    keep = lam > (x.shape[1] * _EPS) * lam[:, -1:]
    lk = np.where(keep, lam, 1.0)
    f = 1.0 / (eps + np.sqrt(lk)) if form == ADAGRAD else 1.0 / np.sqrt(eps + lk)
    c = np.einsum("rik,ri->rk", V, g) * np.where(keep, f, 0.0)
    x -= lr * np.einsum("rik,rk->ri", V, c)


def step_adagrad(x, g, G, lr, eps):
    _step(x, g, G, lr, eps, ADAGRAD)


def step_shampoo(x, g, G, lr, eps):
    _step(x, g, G, lr, eps, SHAMPOO)


def reference_adagrad(x, g, G, lr, eps):
    _reference(x, g, G, lr, eps, ADAGRAD)


def reference_shampoo(x, g, G, lr, eps):
    _reference(x, g, G, lr, eps, SHAMPOO)


_STATE = {"G": ("d", "d")}
_HYPER = {"eps": Hyper(interval=">= 0")}
FULL_MATRIX_ADAGRAD = RuleDef("full_matrix_adagrad", step=step_adagrad, reference=reference_adagrad,
                              state=_STATE, hyper=_HYPER)
SHAMPOO_VECTOR = RuleDef("shampoo_vector", step=step_shampoo, reference=reference_shampoo, state=_STATE,
                         hyper=_HYPER)


def full_matrix_adagrad(lr, eps=1e-10, weight_decay=0.0):
    return FULL_MATRIX_ADAGRAD(lr, eps=eps, weight_decay=weight_decay)


def shampoo_vector(lr, eps=1e-6, weight_decay=0.0):
    return SHAMPOO_VECTOR(lr, eps=eps, weight_decay=weight_decay)


full_matrix_adagrad.__doc__ = shampoo_vector.__doc__ = __doc__
