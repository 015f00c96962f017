r"""Muon, "MomentUm Orthogonalized by Newton-Schulz" (Jordan et al. 2024, the reference implementation
KellerJordan/Muon ``muon.py``: ``muon_update`` and ``zeropower_via_newtonschulz5``), and Muon with the
exact polar factor (the comparison of Gonon, Muşat & Boumal 2026, arXiv 2602.11948).  For the gradient
G of the m x n parameter W (``rows, cols = m, n``; a vector problem is 1 x d):

.. math::
    B_t = \mu B_{t-1} + (1-\mu) G_t,\qquad
    U_t = (1-\mu) G_t + \mu B_t \ \text{(Nesterov; else } U_t = B_t),\qquad
    W_{t+1} = W_t - \eta_t\,\sqrt{\max(1, m/n)}\;\mathrm{NS}_5(U_t)

(:math:`B_0 = 0`; the reference's ``lerp`` forms ``B.lerp_(G, 1-mu)`` and ``G.lerp_(B, mu)``).
:math:`\mathrm{NS}_5` is the reference's quintic Newton-Schulz iteration on :math:`X \in
\mathbb{R}^{k \times l}`, :math:`k \le l` (U, or :math:`U^\top` when m > n, transposed back at the end):

.. math::
    X_0 = U / (\|U\|_F + 10^{-7}),\qquad A = X X^\top,\quad X \leftarrow a X + (bA + cA^2)\,X
    \quad (5 \text{ times}),\qquad (a, b, c) = (3.4445, -4.7750, 2.0315).

Each step maps every singular value by :math:`p(\sigma) = a\sigma + b\sigma^3 + c\sigma^5` and keeps the
singular vectors, so :math:`\mathrm{NS}_5(U) = P\,p^{\circ 5}(\Sigma_0)\,Q^\top` for
:math:`U = P\Sigma Q^\top`: "something like :math:`US'V^\top` with :math:`S'_{ii} \sim
\mathrm{Uniform}(0.5, 1.5)`" in the reference's words (``tests/test_rules_matrix.py`` measures the band).
``polar="exact"`` replaces it by the polar factor :math:`PQ^\top` from the SVD (singular values at or
below :math:`\max(m,n)\,\epsilon_{\mathrm{mach}}\,\sigma_{\max}` count as 0 and their directions are
dropped, as :math:`p` maps 0 to 0: a zero U gives no step).  The scale :math:`\sqrt{\max(1, m/n)}` is
the reference's current one (``update *= max(1, grad.size(-2) / grad.size(-1))**0.5``).

Defaults as the reference: :math:`\mu` = ``momentum`` = 0.95, ``nesterov=True``, ``ns_steps`` = 5
(its lr = 0.02 is a network's; ``lr`` is required here).  Weight decay: the reference's
``p.mul_(1 - lr*wd)`` before adding the update is simopt's decoupled ``weight_decay``, applied by the
engine to the absolute iterate.  Precision: the reference runs the iteration in bfloat16; simopt in
float64 (``pytorch_optimizer.Muon`` also in bfloat16, and it normalises by :math:`\max(\|U\|_F,
10^{-7})` instead of :math:`\|U\|_F + 10^{-7}` -- its test shows the gap).

Properties: equivariant under :math:`W \mapsto R W S^\top` for orthogonal R, S (the momentum is linear,
:math:`\mathrm{NS}_5(RUS^\top) = R\,\mathrm{NS}_5(U)\,S^\top` and the norm is invariant); on a 1 x d
parameter the orthogonalisation is a normalisation, :math:`U/\|U\|` exactly with the exact polar factor
-- with ``nesterov=False`` that is :func:`simopt.optim.nsgd_momentum` (Cutkosky & Mehta) -- and
:math:`\phi(\|U\|)\,U/\|U\|` with NS5, :math:`\phi(s) = p^{\circ 5}(s/(s+10^{-7}))` a scalar close to
0.7-1.1.
"""
import math

import numpy as np
from numba import njit

from ..rule import Hyper, RuleDef

__all__ = ["muon"]

NS_COEFFICIENTS = (3.4445, -4.7750, 2.0315)
NS_EPS = 1e-7                       # added to ||U||_F before dividing, as the reference
NEWTON_SCHULZ, EXACT = 0, 1
_EPS = np.finfo(np.float64).eps


@njit(cache=True, error_model="numpy")
def _newton_schulz(U, steps):
    """The reference's NS5 of one k x l matrix (C-contiguous), on a copy; transposes when k > l."""
    a, b, c = NS_COEFFICIENTS
    tall = U.shape[0] > U.shape[1]
    X = np.ascontiguousarray(U.T) if tall else U.copy()
    s = 0.0
    for i in range(X.shape[0]):
        for j in range(X.shape[1]):
            s += X[i, j] * X[i, j]
    X /= math.sqrt(s) + NS_EPS
    for _ in range(steps):
        A = np.dot(X, X.T)
        P = b * A + c * np.dot(A, A)
        X = a * X + np.dot(P, X)
    return np.ascontiguousarray(X.T) if tall else X


@njit(cache=True, error_model="numpy")
def _polar(U):
    """The polar factor P Q^T of U = P S Q^T, without the directions of (numerically) zero singular values."""
    P, S, Qt = np.linalg.svd(U, full_matrices=False)
    cut = max(U.shape[0], U.shape[1]) * _EPS * S[0]
    r = 0
    while r < S.shape[0] and S[r] > cut:     # S is descending
        r += 1
    if r == 0:
        return np.zeros(U.shape)
    return np.dot(np.ascontiguousarray(P[:, :r]), np.ascontiguousarray(Qt[:r, :]))


def step(x, g, B, lr, rows, cols, momentum, nesterov, ns_steps, polar):
    d = x.shape[0]
    U = np.empty(d)
    for i in range(d):
        bi = momentum * B[i] + (1.0 - momentum) * g[i]
        B[i] = bi
        U[i] = (1.0 - momentum) * g[i] + momentum * bi if nesterov else bi
    M = U.reshape((rows, cols))
    O = _polar(M) if polar == EXACT else _newton_schulz(M, ns_steps)
    size = lr * math.sqrt(max(1.0, rows / cols))
    o = O.reshape(d)
    for i in range(d):
        x[i] -= size * o[i]


def newton_schulz(U, steps=5):
    """NS5 of a batch of matrices ``U`` (..., k, l), as the reference's ``zeropower_via_newtonschulz5``
    (in float64)."""
    a, b, c = NS_COEFFICIENTS
    tall = U.shape[-2] > U.shape[-1]
    X = np.swapaxes(U, -1, -2) if tall else U
    X = X / (np.sqrt(np.sum(X * X, axis=(-2, -1), keepdims=True)) + NS_EPS)
    for _ in range(steps):
        A = X @ np.swapaxes(X, -1, -2)
        X = a * X + (b * A + c * A @ A) @ X
    return np.swapaxes(X, -1, -2) if tall else X


def polar_factor(U):
    """The polar factor of a batch of matrices ``U`` (..., k, l) from the SVD, zero singular values
    (relative tolerance as :func:`numpy.linalg.matrix_rank`) dropped."""
    P, S, Qt = np.linalg.svd(U, full_matrices=False)
    keep = S > max(U.shape[-2:]) * _EPS * S[..., :1]
    return (P * keep[..., None, :]) @ Qt


def reference(x, g, B, lr, rows, cols, momentum, nesterov, ns_steps, polar):
    B[...] = momentum * B + (1.0 - momentum) * g
    U = (1.0 - momentum) * g + momentum * B if nesterov else B
    U = U.reshape(-1, rows, cols)
    O = polar_factor(U) if polar == EXACT else newton_schulz(U, ns_steps)
    x -= lr * math.sqrt(max(1.0, rows / cols)) * O.reshape(x.shape)


RULE = RuleDef("muon", step=step, reference=reference, state={"B": "d"},
               hyper={"momentum": Hyper(interval="[0, 1)"), "nesterov": Hyper(kind="bool"),
                      "ns_steps": Hyper(kind="int", minimum=1),
                      "polar": Hyper(kind="choice", options=("newton_schulz", "exact"))})


def muon(lr, momentum=0.95, nesterov=True, ns_steps=5, polar="newton_schulz", weight_decay=0.0):
    return RULE(lr, momentum=momentum, nesterov=nesterov, ns_steps=ns_steps, polar=polar,
                weight_decay=weight_decay)


muon.__doc__ = __doc__
