r"""Shampoo on a matrix parameter, two-sided (Gupta, Koren & Singer 2018, "Shampoo: Preconditioned
Stochastic Tensor Optimization", arXiv 1802.09568, Algorithm 1) and one-sided (Xie, Wang, Reddi, Kumar &
Li 2025, "Structured Preconditioners in Adaptive Optimization: A Unified Analysis", arXiv 2503.10537,
ICML: the one-sided variant their analysis gives an improved rate for).  For the gradient G of the m x n
parameter W (``rows, cols = m, n``):

.. math::
    \text{two-sided:}\quad L_t = \epsilon I_m + \sum_{s \le t} G_s G_s^\top,\quad
    R_t = \epsilon I_n + \sum_{s \le t} G_s^\top G_s,\quad
    W_{t+1} = W_t - \eta_t\, L_t^{-1/4}\, G_t\, R_t^{-1/4}

    \text{one-sided:}\quad L_t = \epsilon I_m + \sum_{s \le t} G_s G_s^\top,\quad
    W_{t+1} = W_t - \eta_t\, L_t^{-1/2}\, G_t

The two-sided rule is Algorithm 1 as written (:math:`L_0 = \epsilon I_m`, :math:`R_0 = \epsilon I_n`, the
exponent -1/4 on both sides), and what ``pytorch_optimizer.Shampoo`` computes on a 2-d parameter with
``momentum=0`` (statistics started at ``matrix_eps * I``, inverse roots :math:`-1/(2k)` = -1/4 for
k = 2, by SVD; its parity test).  The one-sided rule keeps only the left statistic and uses the
exponent -1/2 of the AdaReg framework it comes from (the preconditioner :math:`L^{1/2} \otimes I_n`, the
solution of the AdaReg step over that set; the same update as ASGO, An et al. 2025, arXiv 2503.20762,
up to where the regulariser sits: ASGO writes :math:`(V_t^{1/2} + \epsilon I)^{-1}`, the two coincide at
:math:`\epsilon = 0`).  The regulariser is placed as in Gupta et al.'s Algorithm 1 (statistics started
at :math:`\epsilon I`) in both rules; the paper of Xie et al. was read only in its abstract here, so
that placement is simopt's choice for the one-sided rule.  Default :math:`\epsilon = 10^{-6}`, the
``matrix_eps`` of ``pytorch_optimizer.Shampoo`` (as :func:`simopt.optim.shampoo_vector`).

Each inverse root is computed from one eigendecomposition per factor and step,
:math:`\sum G G^\top = V \Lambda V^\top`: :math:`L^{-p} = V (\epsilon + \Lambda)^{-p} V^\top`, with
eigenvalues at or below the numerical-rank tolerance :math:`k\,\epsilon_{\mathrm{mach}}\lambda_{\max}`
(numpy's ``matrix_rank`` default) dropped with their directions, as in
:func:`simopt.optim.shampoo_vector`: G lies in the range of :math:`\sum G G^\top` (and its rows in that of
:math:`\sum G^\top G`), so in exact arithmetic G has no component there, and one computed from
rounding would only be amplified (by up to :math:`\epsilon^{-1/2}`).  All-zero gradients so far give no
step (0/0 := 0).

Special cases (tested): on a 1 x d parameter (a vector problem) one-sided Shampoo is AdaGrad-Norm,
:math:`x_{t+1} = x_t - \eta\, g_t / \sqrt{\epsilon + \sum_s \|g_s\|^2}`; on a d x 1 parameter it is
:func:`simopt.optim.shampoo_vector` (full-matrix statistics, exponent -1/2).  Both rules are equivariant
under :math:`W \mapsto R W S^\top` for orthogonal R, S (matrix functions commute with the rotation; the
one-sided rule also under any S, and under any right multiplication that keeps the statistic).

State: the statistics :math:`\sum GG^\top` (m x m) and :math:`\sum G^\top G` (n x n), stored in one slot
of ``d*d + 1`` floats per run (the rule protocol sizes state in d = m n, not in m and n; the two factors
need :math:`m^2 + n^2 \le d^2 + 1`).  Weight decay: simopt's decoupled ``weight_decay`` (the paper has
none).
"""
import numpy as np
from numba import njit

from ..rule import Hyper, RuleDef

__all__ = ["shampoo", "one_sided_shampoo"]

_EPS = np.finfo(np.float64).eps


@njit(cache=True, error_model="numpy")
def _accumulate(S, G, left):
    """S += G G^T (left) or G^T G."""
    m, n = G.shape
    if left:
        for i in range(m):
            for k in range(m):
                s = 0.0
                for j in range(n):
                    s += G[i, j] * G[k, j]
                S[i, k] += s
    else:
        for i in range(n):
            for k in range(n):
                s = 0.0
                for j in range(m):
                    s += G[j, i] * G[j, k]
                S[i, k] += s


@njit(cache=True, error_model="numpy")
def _root_factors(S, eps, power):
    """(V, f) with (eps I + S)^(-power) = V diag(f) V^T, f = 0 on S's numerically null directions."""
    k = S.shape[0]
    lam, V = np.linalg.eigh(S)
    cut = (k * _EPS) * lam[k - 1]
    f = np.zeros(k)
    for i in range(k):
        if lam[i] > cut:
            f[i] = (eps + lam[i]) ** (-power)
    return V, f


@njit(cache=True, error_model="numpy")
def _preconditioned(G, SL, SR, eps, two_sided):
    """L^-1/4 G R^-1/4 (two-sided) or L^-1/2 G (one-sided), L = eps I + SL, R = eps I + SR."""
    VL, fL = _root_factors(SL, eps, 0.25 if two_sided else 0.5)
    C = np.dot(np.ascontiguousarray(VL.T), G)                 # V_L^T G (V_R)
    if two_sided:
        VR, fR = _root_factors(SR, eps, 0.25)
        C = np.dot(C, VR)
        for i in range(C.shape[0]):
            for j in range(C.shape[1]):
                C[i, j] *= fL[i] * fR[j]
        return np.dot(np.dot(VL, C), np.ascontiguousarray(VR.T))
    for i in range(C.shape[0]):
        for j in range(C.shape[1]):
            C[i, j] *= fL[i]
    return np.dot(VL, C)


@njit(cache=True, error_model="numpy")
def _step(x, g, S, lr, rows, cols, eps, two_sided):
    m, n = rows, cols
    G = g.reshape((m, n))
    SL = S[:m * m].reshape((m, m))
    _accumulate(SL, G, True)
    SR = SL
    if two_sided:
        SR = S[m * m:m * m + n * n].reshape((n, n))
        _accumulate(SR, G, False)
    U = _preconditioned(G, SL, SR, eps, two_sided).reshape(x.shape[0])
    for i in range(x.shape[0]):
        x[i] -= lr * U[i]


def step_two_sided(x, g, S, lr, rows, cols, eps):
    _step(x, g, S, lr, rows, cols, eps, True)


def step_one_sided(x, g, S, lr, rows, cols, eps):
    _step(x, g, S, lr, rows, cols, eps, False)


def inverse_root(S, eps, power):
    """(eps I + S)^(-power) for a batch of PSD matrices S (..., k, k), S's null directions dropped."""
    lam, V = np.linalg.eigh(S)
    keep = lam > S.shape[-1] * _EPS * lam[..., -1:]
    f = np.where(keep, (eps + np.where(keep, lam, 1.0)) ** (-power), 0.0)
    return (V * f[..., None, :]) @ np.swapaxes(V, -1, -2)


def _statistics(S, rows, cols, two_sided):
    m, n = rows, cols
    SL = S[:, :m * m].reshape(-1, m, m)
    SR = S[:, m * m:m * m + n * n].reshape(-1, n, n) if two_sided else None
    return SL, SR


def reference_two_sided(x, g, S, lr, rows, cols, eps):
    G = g.reshape(-1, rows, cols)
    SL, SR = _statistics(S, rows, cols, True)
    SL += G @ np.swapaxes(G, -1, -2)
    SR += np.swapaxes(G, -1, -2) @ G
    x -= lr * (inverse_root(SL, eps, 0.25) @ G @ inverse_root(SR, eps, 0.25)).reshape(x.shape)


def reference_one_sided(x, g, S, lr, rows, cols, eps):
    G = g.reshape(-1, rows, cols)
    SL, _ = _statistics(S, rows, cols, False)
    SL += G @ np.swapaxes(G, -1, -2)
    x -= lr * (inverse_root(SL, eps, 0.5) @ G).reshape(x.shape)


_HYPER = {"eps": Hyper(interval=">= 0")}
SHAMPOO = RuleDef("shampoo", step=step_two_sided, reference=reference_two_sided, state={"S": "d*d + 1"},
                  hyper=_HYPER)
ONE_SIDED_SHAMPOO = RuleDef("one_sided_shampoo", step=step_one_sided, reference=reference_one_sided,
                            state={"S": "d*d"}, hyper=_HYPER)


def shampoo(lr, eps=1e-6, weight_decay=0.0):
    return SHAMPOO(lr, eps=eps, weight_decay=weight_decay)


def one_sided_shampoo(lr, eps=1e-6, weight_decay=0.0):
    return ONE_SIDED_SHAMPOO(lr, eps=eps, weight_decay=weight_decay)


shampoo.__doc__ = one_sided_shampoo.__doc__ = __doc__
