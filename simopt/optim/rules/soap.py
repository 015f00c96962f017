r"""SOAP with one-sided preconditioning of a vector (Vyas et al. 2024, "SOAP: Improving and Stabilizing
Shampoo using Adam", arXiv 2409.11321, Algorithm 1 with a 1-d parameter; the official nikhilvyas/SOAP
``soap.py`` with ``precondition_1d=True``): Adam run in the eigenbasis of an EMA of the gradients' outer
products, a basis it learns from the gradients.

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

from ..rule import Hyper, RuleDef

__all__ = ["soap"]

_RIDGE = 1e-30   # added to GG before the first eigendecomposition, as the official code


def step(x, g, GG, Q, m, v, t, lr, beta1, beta2, shampoo_beta, eps, precondition_frequency, correct_bias):
    d = x.shape[0]
    for i in range(d):
        for j in range(d):
            GG[i, j] = shampoo_beta * GG[i, j] + (1.0 - shampoo_beta) * (g[i] * g[j])
    if t == 1:
        A = GG.copy()
        for i in range(d):
            A[i, i] += _RIDGE
        _, V = np.linalg.eigh(A)
        for j in range(d):
            for i in range(d):
                Q[i, j] = V[i, d - 1 - j]
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
        PQ = np.dot(GG, Q)
        est = np.empty(d)
        for j in range(d):
            e = 0.0
            for i in range(d):
                e += Q[i, j] * PQ[i, j]
            est[j] = -e
        order = np.argsort(est, kind="mergesort")
        v[:] = v[order]
        Qn, _ = np.linalg.qr(np.ascontiguousarray(PQ[:, order]))
        Q[:, :] = Qn
        for j in range(d):
            mj = 0.0
            for i in range(d):
                mj += Qn[i, j] * m_orig[i]
            m[j] = mj


def reference(x, g, GG, Q, m, v, t, lr, beta1, beta2, shampoo_beta, eps, precondition_frequency,
              correct_bias):
    d = x.shape[1]
    GG[...] = shampoo_beta * GG + (1.0 - shampoo_beta) * (g[:, :, None] * g[:, None, :])
    if t == 1:
        Q[...] = np.linalg.eigh(GG + _RIDGE * np.eye(d))[1][:, :, ::-1]
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
        PQ = GG @ Q
        order = np.argsort(-np.einsum("rij,rij->rj", Q, PQ), axis=1, kind="stable")
        v[...] = np.take_along_axis(v, order, axis=1)
        Q[...] = np.linalg.qr(np.take_along_axis(PQ, order[:, None, :], axis=2))[0]
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


# The invariance card of each constructor (simopt.testing.card, which the tests hold equal to its
# measurement): the transformations that hold (all others fail) and why.
INVARIANCES = {
    "soap": {
        "make": lambda: soap(0.05),
        "holds": ("rotation", "block_rotation", "permutation", "sign_flip", "translation"),
        "why": ("Adam in the eigenbasis of EMA(ggᵀ), which turns with the problem (up to column signs); at d "
                "= 2, as for d > 2 the tied null space of the rank-one GG₁ makes the run depend on rounding"),
        "dim": 2,
    },
}
