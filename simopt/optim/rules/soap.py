r"""SOAP (Vyas et al. 2024, "SOAP: Improving and Stabilizing Shampoo using Adam", arXiv 2409.11321,
Algorithm 1; the official nikhilvyas/SOAP ``soap.py``): Adam run in the eigenbasis of an EMA of the
gradients' outer products, a basis it learns from the gradients -- for a vector as the official code
with ``precondition_1d=True`` (below), for a matrix parameter in its 2-d form (further below).

With :math:`\beta_s` = ``shampoo_beta`` (default: :math:`\beta_2`, as the official code), f =
``precondition_frequency`` and s = t - 1 the number of parameter updates so far:

.. math::
    t = 1:\quad GG_1 = (1-\beta_s)\,g_1 g_1^\top,\quad
    Q = \mathrm{eigvecs}(GG_1 + 10^{-30} I)\ \text{(columns by decreasing eigenvalue)},\quad
    \text{no step}

    t \ge 2:\quad g' = Q^\top g_t,\quad m = \beta_1 m + (1-\beta_1) g',\quad
    v = \beta_2 v + (1-\beta_2)\,g'^2

    x_{t+1} = x_t - \eta_t\,\frac{\sqrt{1-\beta_2^s}}{1-\beta_1^s}\; Q\,\frac{m}{\sqrt v + \epsilon},\qquad
    GG \leftarrow \beta_s GG + (1-\beta_s)\,g_t g_t^\top

and, when :math:`s \bmod f = 0`, one power-iteration step refreshes the basis (the official
``get_orthogonal_matrix_QR``): order the columns of Q by :math:`\mathrm{diag}(Q^\top GG\,Q)` decreasing,
permute v the same way, :math:`Q \leftarrow \mathrm{qr}(GG\,Q)`, and rotate the first moment into the new
basis, :math:`m \leftarrow Q_{\mathrm{new}}^\top Q_{\mathrm{old}}\, m` (so m stays the EMA of the
gradients, expressed in the current basis; v is only permuted).  The first step only initialises GG and
Q ("so that we never use the current gradients in the projection").  ``correct_bias=False`` drops the
bias-correction factor.  0/0 := 0 where :math:`\sqrt v + \epsilon = 0`.

Matches the official code (state ``GG``, ``Q`` are d x d per run) except:

- precision: the official code computes the eigendecomposition and the QR step in float32 (``.float()``)
  even for float64 parameters; simopt does everything in float64;
- the official code projects m back and forth through the unchanged Q on every step (an identity up to
  rounding); simopt rotates m only when Q changes;
- weight decay: as the official code, the updated parameter is decayed,
  :math:`x \leftarrow (x - \eta u)(1-\eta\lambda)` (``decay="after"``), but also on the first step,
  which the official code skips entirely (simopt's engine applies the decay, the rule only skips its own
  update).  Its default here is 0 (official: 0.01; on a quadratic it moves the minimiser).
- ``normalize_grads`` (off by default in the official code) is not offered.

Defaults as the official code: :math:`\beta = (0.95, 0.95)`, :math:`\epsilon = 10^{-8}`, f = 10 (its
lr = 3e-3 is a network's; ``lr`` is required here, as for every simopt rule).  ``pytorch_optimizer.SOAP`` (``precondition_1d=True``) follows the same algorithm but takes its QR
step in float32, so it agrees with this rule only until the first refresh (its parity test);
heavyball's SOAP changes the algorithm (debiased preconditioner beta, a refresh schedule).

**On a matrix problem** (``rows, cols = m, n``, both > 1) the rule is the official 2-d form: two
statistics :math:`L = \mathrm{EMA}_{\beta_s}(G G^\top)` (m x m) and :math:`R = \mathrm{EMA}_{\beta_s}(G^\top
G)` (n x n), their bases :math:`Q_L, Q_R` set as above at t = 1, and Adam on :math:`G' = Q_L^\top G Q_R`,

.. math::
    M = \beta_1 M + (1-\beta_1) G',\quad V = \beta_2 V + (1-\beta_2)\,G'^2,\quad
    W_{t+1} = W_t - \eta_t\,\frac{\sqrt{1-\beta_2^s}}{1-\beta_1^s}\;
    Q_L\,\frac{M}{\sqrt V + \epsilon}\,Q_R^\top,

each basis refreshed every f updates by the same QR step with V's rows (for :math:`Q_L`) and columns
(for :math:`Q_R`) permuted, and :math:`M \leftarrow Q_{L,\mathrm{new}}^\top (Q_L M Q_R^\top)
Q_{R,\mathrm{new}}` (the official ``project``/``project_back`` with its tensordots).  A 1 x n or
m x 1 parameter gets the 1-d form above: there the official 2-d form has a 1 x 1 statistic whose basis
is [1] (LAPACK's QR of a 1 x 1 matrix is Q = 1), so it is the same algorithm.  The 2-d statistics are
stored in the d x d slots ``GG`` and ``Q`` (:math:`L, R` and :math:`Q_L, Q_R` packed, m² + n² <= d²
floats used: the rule protocol sizes state in d, not m and n).

Rotation-equivariant up to eigenvector signs and ties: on :math:`RHR^\top` the statistics are
:math:`R\,GG\,R^\top`, their eigenvectors :math:`RQ` (up to signs, which Adam in the rotated basis does not
see) and QR commutes with R -- as long as the eigen/QR problems have no ties.  :math:`GG_1` has rank 1,
so for d > 2 its null space is a tie whose basis is arbitrary: a trajectory is exactly equivariant for
d <= 2, and from any state whose GG has distinct eigenvalues.  (Numerically, a noise-free run has
:math:`g_2 = g_1`, so :math:`g_2`'s coordinates off the first basis vector are rounding, which its second
step divides by :math:`\epsilon`: with the default :math:`\epsilon = 10^{-8}` two implementations agree
there only to about 1e-9.)
"""
import math

import numpy as np
from numba import njit

from ..rule import Hyper, RuleDef

__all__ = ["soap"]

_RIDGE = 1e-30   # added to GG before the first eigendecomposition, as the official code


@njit(cache=True, error_model="numpy")
def _eigvecs_descending(S, Q):
    """Q = eigenvectors of S + 1e-30 I, columns by decreasing eigenvalue (the official first basis)."""
    k = S.shape[0]
    A = S.copy()
    for i in range(k):
        A[i, i] += _RIDGE
    _, V = np.linalg.eigh(A)
    for j in range(k):
        for i in range(k):
            Q[i, j] = V[i, k - 1 - j]


@njit(cache=True, error_model="numpy")
def _qr_refresh(S, Q):
    """One power-iteration step of the official ``get_orthogonal_matrix_QR``: (qr(S Q[:, order]), order)
    with the columns ordered by diag(Q^T S Q) decreasing (a stable sort)."""
    k = S.shape[0]
    Q = np.ascontiguousarray(Q)
    PQ = np.dot(np.ascontiguousarray(S), Q)
    est = np.empty(k)
    for j in range(k):
        e = 0.0
        for i in range(k):
            e += Q[i, j] * PQ[i, j]
        est[j] = -e
    order = np.argsort(est, kind="mergesort")
    Qn, _ = np.linalg.qr(np.ascontiguousarray(PQ[:, order]))
    return Qn, order


@njit(cache=True, error_model="numpy")
def _ema_outer(S, G, beta, left):
    """S = beta S + (1 - beta) G G^T (left) or G^T G."""
    P = np.dot(G, np.ascontiguousarray(G.T)) if left else np.dot(np.ascontiguousarray(G.T), G)
    for i in range(S.shape[0]):
        for j in range(S.shape[1]):
            S[i, j] = beta * S[i, j] + (1.0 - beta) * P[i, j]


@njit(cache=True, error_model="numpy")
def _step_2d(x, g, GG, Q, m, v, t, lr, beta1, beta2, shampoo_beta, eps, precondition_frequency,
             correct_bias, rows, cols):
    a, b = rows * rows, rows * rows + cols * cols
    flat_gg, flat_q = GG.reshape(GG.size), Q.reshape(Q.size)
    L, R = flat_gg[:a].reshape((rows, rows)), flat_gg[a:b].reshape((cols, cols))
    QL, QR = flat_q[:a].reshape((rows, rows)), flat_q[a:b].reshape((cols, cols))
    G = g.reshape((rows, cols))
    _ema_outer(L, G, shampoo_beta, True)
    _ema_outer(R, G, shampoo_beta, False)
    if t == 1:
        _eigvecs_descending(L, QL)
        _eigvecs_descending(R, QR)
        return
    s = t - 1
    QLc, QRc = np.ascontiguousarray(QL), np.ascontiguousarray(QR)
    Gp = np.dot(np.dot(np.ascontiguousarray(QLc.T), G), QRc)    # Q_L^T G Q_R
    M, V = m.reshape((rows, cols)), v.reshape((rows, cols))
    u = np.empty((rows, cols))
    for i in range(rows):
        for j in range(cols):
            M[i, j] = beta1 * M[i, j] + (1.0 - beta1) * Gp[i, j]
            V[i, j] = beta2 * V[i, j] + (1.0 - beta2) * (Gp[i, j] * Gp[i, j])
            den = math.sqrt(V[i, j]) + eps
            u[i, j] = M[i, j] / den if den > 0.0 else 0.0
    size = lr * math.sqrt(1.0 - beta2 ** s) / (1.0 - beta1 ** s) if correct_bias else lr
    back = np.dot(np.dot(QLc, u), np.ascontiguousarray(QRc.T)).reshape(x.shape[0])
    for i in range(x.shape[0]):
        x[i] -= size * back[i]
    if s % precondition_frequency == 0:
        M_orig = np.dot(np.dot(QLc, np.ascontiguousarray(M)), np.ascontiguousarray(QRc.T))
        QLn, order_l = _qr_refresh(L, QL)
        QRn, order_r = _qr_refresh(R, QR)
        V[:, :] = V[order_l, :]
        V[:, :] = np.ascontiguousarray(V[:, order_r])
        QL[:, :] = QLn
        QR[:, :] = QRn
        M[:, :] = np.dot(np.dot(np.ascontiguousarray(QLn.T), M_orig), np.ascontiguousarray(QRn))


def step(x, g, GG, Q, m, v, t, lr, beta1, beta2, shampoo_beta, eps, precondition_frequency, correct_bias,
         rows, cols):
    if rows > 1 and cols > 1:
        _step_2d(x, g, GG, Q, m, v, t, lr, beta1, beta2, shampoo_beta, eps, precondition_frequency,
                 correct_bias, rows, cols)
        return
    d = x.shape[0]
    for i in range(d):
        for j in range(d):
            GG[i, j] = shampoo_beta * GG[i, j] + (1.0 - shampoo_beta) * (g[i] * g[j])
    if t == 1:
        _eigvecs_descending(GG, Q)
        return
    s = t - 1
    gp = np.dot(g, Q)                       # Q^T g (BLAS on the row-major Q)
    u = np.empty(d)
    for j in range(d):
        m[j] = beta1 * m[j] + (1.0 - beta1) * gp[j]
        v[j] = beta2 * v[j] + (1.0 - beta2) * (gp[j] * gp[j])
        den = math.sqrt(v[j]) + eps
        u[j] = m[j] / den if den > 0.0 else 0.0
    size = lr * math.sqrt(1.0 - beta2 ** s) / (1.0 - beta1 ** s) if correct_bias else lr
    back = np.dot(Q, u)
    for i in range(d):
        x[i] -= size * back[i]
    if s % precondition_frequency == 0:
        m_orig = np.dot(Q, m)
        Qn, order = _qr_refresh(GG, Q)
        v[:] = v[order]
        Q[:, :] = Qn
        for j in range(d):
            mj = 0.0
            for i in range(d):
                mj += Qn[i, j] * m_orig[i]
            m[j] = mj


def _eigvecs_desc(S):
    return np.linalg.eigh(S + _RIDGE * np.eye(S.shape[-1]))[1][..., ::-1]


def _refreshed(S, Q):
    """The official QR refresh on a batch: (qr(S Q[:, order]), order), order by diag(Q^T S Q) decreasing."""
    PQ = S @ Q
    order = np.argsort(-np.einsum("rij,rij->rj", Q, PQ), axis=1, kind="stable")
    return np.linalg.qr(np.take_along_axis(PQ, order[:, None, :], axis=2))[0], order


def _reference_2d(x, g, GG, Q, m, v, t, lr, beta1, beta2, shampoo_beta, eps, precondition_frequency,
                  correct_bias, rows, cols):
    runs, a, b = x.shape[0], rows * rows, rows * rows + cols * cols
    gg, q = GG.reshape(runs, -1), Q.reshape(runs, -1)               # L, R and Q_L, Q_R packed, flat
    G = g.reshape(runs, rows, cols)
    Gt = np.swapaxes(G, 1, 2)
    L = shampoo_beta * gg[:, :a].reshape(runs, rows, rows) + (1.0 - shampoo_beta) * (G @ Gt)
    R = shampoo_beta * gg[:, a:b].reshape(runs, cols, cols) + (1.0 - shampoo_beta) * (Gt @ G)
    gg[:, :a], gg[:, a:b] = L.reshape(runs, a), R.reshape(runs, b - a)
    if t == 1:
        q[:, :a] = _eigvecs_desc(L).reshape(runs, a)
        q[:, a:b] = _eigvecs_desc(R).reshape(runs, b - a)
        return
    s = t - 1
    QL, QR = q[:, :a].reshape(runs, rows, rows), q[:, a:b].reshape(runs, cols, cols)
    Gp = np.swapaxes(QL, 1, 2) @ G @ QR                              # Q_L^T G Q_R
    M, V = m.reshape(runs, rows, cols), v.reshape(runs, rows, cols)
    M[...] = beta1 * M + (1.0 - beta1) * Gp
    V[...] = beta2 * V + (1.0 - beta2) * Gp * Gp
    den = np.sqrt(V) + eps
    u = np.divide(M, den, out=np.zeros_like(M), where=den > 0.0)
    size = lr * math.sqrt(1.0 - beta2 ** s) / (1.0 - beta1 ** s) if correct_bias else lr
    x -= size * (QL @ u @ np.swapaxes(QR, 1, 2)).reshape(runs, -1)  # back: Q_L u Q_R^T
    if s % precondition_frequency == 0:
        M_orig = QL @ M @ np.swapaxes(QR, 1, 2)
        QLn, order_l = _refreshed(L, QL)
        QRn, order_r = _refreshed(R, QR)
        V[...] = np.take_along_axis(np.take_along_axis(V, order_l[:, :, None], axis=1),
                                    order_r[:, None, :], axis=2)
        q[:, :a], q[:, a:b] = QLn.reshape(runs, a), QRn.reshape(runs, b - a)
        M[...] = np.swapaxes(QLn, 1, 2) @ M_orig @ QRn


def reference(x, g, GG, Q, m, v, t, lr, beta1, beta2, shampoo_beta, eps, precondition_frequency, correct_bias,
              rows=1, cols=1):
    if rows > 1 and cols > 1:
        _reference_2d(x, g, GG, Q, m, v, t, lr, beta1, beta2, shampoo_beta, eps, precondition_frequency,
                      correct_bias, rows, cols)
        return
    GG[...] = shampoo_beta * GG + (1.0 - shampoo_beta) * (g[:, :, None] * g[:, None, :])
    if t == 1:
        Q[...] = _eigvecs_desc(GG)
        return
    s = t - 1
    gp = np.einsum("rij,ri->rj", Q, g)                       # g' = Q^T g
    m[...] = beta1 * m + (1.0 - beta1) * gp
    v[...] = beta2 * v + (1.0 - beta2) * gp * gp
    den = np.sqrt(v) + eps
    u = np.divide(m, den, out=np.zeros_like(m), where=den > 0.0)
    size = lr * math.sqrt(1.0 - beta2 ** s) / (1.0 - beta1 ** s) if correct_bias else lr
    x -= size * np.einsum("rij,rj->ri", Q, u)                # back to the original basis: Q u
    if s % precondition_frequency == 0:
        m_orig = np.einsum("rij,rj->ri", Q, m)
        Q[...], order = _refreshed(GG, Q)
        v[...] = np.take_along_axis(v, order, axis=1)
        m[...] = np.einsum("rij,ri->rj", Q, m_orig)


RULE = RuleDef("soap", step=step, reference=reference, decay="after",
               state={"GG": ("d", "d"), "Q": ("d", "d"), "m": "d", "v": "d"},
               hyper={"beta1": Hyper(interval="[0, 1)"), "beta2": Hyper(interval="[0, 1)"),
                      "shampoo_beta": Hyper(interval="[0, 1)"), "eps": Hyper(interval=">= 0"),
                      "precondition_frequency": Hyper(kind="int", minimum=1),
                      "correct_bias": Hyper(kind="bool")})


def soap(lr, beta1=0.95, beta2=0.95, shampoo_beta=None, eps=1e-8, precondition_frequency=10,
         correct_bias=True, weight_decay=0.0):
    return RULE(lr, beta1=beta1, beta2=beta2, shampoo_beta=beta2 if shampoo_beta is None else shampoo_beta,
                eps=eps, precondition_frequency=precondition_frequency, correct_bias=correct_bias,
                weight_decay=weight_decay)


soap.__doc__ = __doc__
