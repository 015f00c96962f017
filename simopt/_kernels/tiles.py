"""What the run loop does to one tile of runs at one step, apart from the update rule.

Runs are independent, so the engine works on *tiles* of consecutive runs, in parallel.  Each helper here
takes a tile's rows and touches nothing else, and its arithmetic for one run depends only on that run's
own data: the gradient of a tile is one product per tile (``product``) by the compiled GEMM of
``simopt._kernels.gemm``, whose every output row is a fixed function of that row (a fused multiply-add
recurrence in a fixed order) -- unlike OpenBLAS, whose rounding depends on its thread count and on the
number of rows.  So results are bit-identical whatever the tile size, the thread count or the split of the
runs, and a tile can be as large as the batch.

Everything works on the error ``e = x - x*``: the gradient is ``H e``, the loss ``0.5 e.g``.
Problem kinds, noise kinds and distributions are small integer codes shared with ``simopt.engine``.
"""
import math

import numpy as np
from numba import njit

from simopt._kernels import rng
from simopt._kernels.gemm import matmul_block_diagonal, matmul_rows

#: the most runs one tile holds (the engine splits the runs into about one tile per thread)
MAX_TILE = 64

DIAGONAL = 0
BLOCK = 1
DENSE = 2
KRON = 3            # matrix problem: H = A (x) B on the row-major vec(W), gradient A E B

NOISE_NONE = 0
NOISE_SCALE = 1
NOISE_MATRIX = 2
NOISE_BLOCKS = 3
NOISE_KRON = 4      # xi = S_A Z S_B for a matrix problem (Z an m x n matrix of draws)
# sampled-data gradients (state-dependent noise): the gradient is a minibatch mean of per-sample
# least-squares gradients a (a.e - r), drawn per run and step; the true gradient stays H e
SAMPLED_GAUSSIAN = 5   # a = F z, z ~ N(0, I), F a per-coordinate scale (nvec) or, with nreal2 = 1, F^T
                       # (nmat); r = sigma eps
SAMPLED_DATA = 6       # a = X[i], r = residual[i], i uniform over the N rows of X (nmat), residuals nvec
SAMPLED_COORD = 7      # a = sqrt(S) e_k, k ~ h / S (cdf in nvec, S = nreal2); r = sigma eps

DIST_NORMAL = 0
DIST_T = 1


@njit(cache=True, error_model="numpy", inline="always")
def product(kind, Et, hdiag, Hmat, bflat, boff, blk, out):
    """out = Et @ H for one tile (Et: rows x d, C-contiguous)."""
    T, d = Et.shape
    if kind == DENSE:
        matmul_rows(Et, Hmat, out)
    elif kind == BLOCK:
        matmul_block_diagonal(Et, bflat, boff, blk, out)
    elif kind == KRON:
        kron_rows(Et, Hmat, bflat, out)
    else:
        for i in range(T):
            for j in range(d):
                out[i, j] = hdiag[j] * Et[i, j]


@njit(cache=True, error_model="numpy")
def kron_rows(Et, A, bflat, out):
    """out[i] = vec(A E_i B) for each row, E_i = Et[i] as an m x n matrix (row-major), A (m x m) and
    B = bflat as n x n: the matrix problem's gradient (Hessian A (x) B), two row-deterministic GEMMs per
    run."""
    m = A.shape[0]
    T, d = Et.shape
    n = d // m
    B = bflat[:n * n].reshape((n, n))
    tmp = np.empty((m, n))
    for i in range(T):
        matmul_rows(A, Et[i].reshape((m, n)), tmp)
        matmul_rows(tmp, B, out[i].reshape((m, n)))


@njit(cache=True, error_model="numpy", fastmath={"reassoc", "contract"})
def half_dot_and_sq(e, g):
    """(0.5 e.g, g.g).  Reassociation lets LLVM vectorise the two reductions; the order it picks is fixed
    by the compiled code, so the result still depends only on the run's own data."""
    a = 0.0
    b = 0.0
    for j in range(e.shape[0]):
        a += e[j] * g[j]
        b += g[j] * g[j]
    return 0.5 * a, b


@njit(cache=True, error_model="numpy", inline="always")
def norm_scaled(g):
    """||g||_2 without overflow or underflow of the squares (scaled by max |g_i|)."""
    m = 0.0
    for j in range(g.shape[0]):
        a = abs(g[j])
        if not (a <= m):
            m = a
    if m == 0.0 or not (m < math.inf):
        return m
    s = 0.0
    for j in range(g.shape[0]):
        q = g[j] / m
        s += q * q
    return m * math.sqrt(s)


@njit(cache=True, error_model="numpy", fastmath={"reassoc", "contract"})
def _diag_product_and_stats(Et, hdiag, G, loss, gn2, want_gn):
    """The diagonal problem's G = h * e, fused with each run's 0.5 e.g and, if ``want_gn``, g.g (one
    pass).  Without ``want_gn`` the gradient norm is left 0: the divergence check needs only the loss
    there, as a finite loss implies a finite gradient (h finite: g_j = h_j e_j is infinite only if
    e_j g_j is, and then the loss is not finite)."""
    T, d = Et.shape
    if not want_gn:
        for i in range(T):
            a = 0.0
            for j in range(d):
                g = hdiag[j] * Et[i, j]
                G[i, j] = g
                a += Et[i, j] * g
            loss[i] = 0.5 * a
            gn2[i] = 0.0
        return
    for i in range(T):
        a = 0.0
        b = 0.0
        for j in range(d):
            g = hdiag[j] * Et[i, j]
            G[i, j] = g
            a += Et[i, j] * g
            b += g * g
        loss[i] = 0.5 * a
        gn2[i] = b


@njit(cache=True, error_model="numpy", inline="always")
def gradient_and_stats(kind, Et, hdiag, Hmat, bflat, boff, blk, G, loss, gn2, want_gn=True):
    """G = H e for the tile, and each run's loss 0.5 e.g and squared gradient norm g.g (for a diagonal
    problem only where ``want_gn``: a step that records it or t = 0; elsewhere 0)."""
    if kind == DIAGONAL:
        _diag_product_and_stats(Et, hdiag, G, loss, gn2, want_gn)
        return
    product(kind, Et, hdiag, Hmat, bflat, boff, blk, G)
    for i in range(Et.shape[0]):
        loss[i], gn2[i] = half_dot_and_sq(Et[i], G[i])


@njit(cache=True, error_model="numpy", inline="always")
def evaluate_rows(Et, G, loss, gn2, r0, t, p, active, f0, thresh, div_step, x_at_div, blk,
                  rec_loss, rec_gn, rec_bgn, rec_x, want_bgn, want_x):
    """Divergence check and records (at record position ``p``; -1: none) of every active run of the tile
    at step t, from the losses and squared gradient norms of ``gradient_and_stats`` (G = H e, the true
    gradient).

    A run diverges when its loss is not finite or exceeds ``thresh`` times its initial loss (compared as
    a ratio, so a huge f(x0) cannot overflow the threshold), or its gradient is not finite.  The gradient
    norm is computed scaled when its square overflows (eigenvalues up to ~1e300 stay measurable)."""
    T = Et.shape[0]
    nb = blk.shape[0] - 1
    for i in range(T):
        r = r0 + i
        if not active[r]:
            continue
        e = Et[i]
        g = G[i]
        gn = math.sqrt(gn2[i])
        if not (gn < math.inf):
            gn = norm_scaled(g)
        lo = loss[i]
        if t == 0:
            f0[r] = lo
        ref = f0[r] if f0[r] > 0.0 else 1.0
        if not (lo < math.inf) or not (lo / ref <= thresh) or not (gn < math.inf):
            active[r] = False
            div_step[r] = t
            for j in range(e.shape[0]):
                x_at_div[r, j] = e[j]
            e[:] = 0.0
            continue
        if p >= 0:
            rec_loss[r, p] = lo
            rec_gn[r, p] = gn
            if want_bgn:
                for b in range(nb):
                    rec_bgn[r, p, b] = norm_scaled(g[blk[b]:blk[b + 1]])
            if want_x:
                for j in range(e.shape[0]):
                    rec_x[r, p, j] = e[j]


@njit(cache=True, error_model="numpy", fastmath={"reassoc", "contract"})
def _dot(a, b):
    s = 0.0
    for j in range(a.shape[0]):
        s += a[j] * b[j]
    return s


@njit(cache=True, error_model="numpy")
def _searchsorted(cdf, u):
    """The first k with u < cdf[k] (cdf increasing, cdf[-1] = 1); the last index if none."""
    lo, hi = 0, cdf.shape[0] - 1
    while lo < hi:
        mid = (lo + hi) // 2
        if u < cdf[mid]:
            hi = mid
        else:
            lo = mid + 1
    return lo


@njit(cache=True, error_model="numpy")
def sampled_gradient(nkind, nvec, nmat, nint, nreal, nreal2, s, e, out, Zs, As, eps):
    """One minibatch gradient ``out = (1/B) sum_b a_b (a_b . e - r_b)`` of a least-squares problem at the
    error ``e``, with the ``B = nint`` samples drawn from the stream ``s`` in this order: SAMPLED_GAUSSIAN
    B*d normals (the z_b, row by row), then B normals for the label noise if sigma = nreal > 0;
    SAMPLED_DATA B uniforms (row i = floor(u N)); SAMPLED_COORD B uniforms (the coordinates), then B
    normals if sigma > 0.  ``Zs``, ``As``: (B, d) work arrays, ``eps``: (B,)."""
    B = nint
    d = e.shape[0]
    sigma = nreal
    for j in range(d):
        out[j] = 0.0
    if nkind == SAMPLED_GAUSSIAN:
        rng.fill_normal(s, Zs)
        if nreal2 > 0.0:
            matmul_rows(Zs, nmat, As)
        else:
            for b in range(B):
                for j in range(d):
                    As[b, j] = nvec[j] * Zs[b, j]
        if sigma > 0.0:
            rng.fill_normal(s, eps)
        for b in range(B):
            res = _dot(As[b], e) - (sigma * eps[b] if sigma > 0.0 else 0.0)
            for j in range(d):
                out[j] += res * As[b, j]
    elif nkind == SAMPLED_DATA:
        N = nmat.shape[0]
        for b in range(B):
            i = int(rng.next_double(s) * N)
            res = _dot(nmat[i], e) - nvec[i]
            for j in range(d):
                out[j] += res * nmat[i, j]
    else:
        scale = nreal2
        for b in range(B):
            eps[b] = rng.next_double(s)
        if sigma > 0.0:
            rng.fill_normal(s, Zs[0, :B])
        for b in range(B):
            k = _searchsorted(nvec, eps[b])
            res = e[k] - (sigma * Zs[0, b] if sigma > 0.0 else 0.0)
            out[k] += scale * res
    for j in range(d):
        out[j] /= B


@njit(cache=True, error_model="numpy", inline="always")
def add_noise(nkind, dist, df, nvec, nmat, nflat, noff, nint, nreal, nreal2, blk, nrng, r0, active, Et, G,
              Gn, m, Zt, Xi):
    """Gn[i, m] = the m-th stochastic gradient of every active run of the tile, drawn from the run's own
    stream ``nrng[r]``: G[i] + xi for additive noise (xi = A z with z d standard normal or Student-t
    values in coordinate order; for a matrix problem xi = S_A Z S_B), or a minibatch least-squares
    gradient at the run's iterate ``Et[i]`` for sampled-data noise (:func:`sampled_gradient`).

    ``G`` may be the same memory as ``Gn[:, 0]`` (one draw per step): additive noise is then added in
    place (sampled-data gradients are not, as they do not use G)."""
    T, d = G.shape
    if nkind == NOISE_NONE:
        for i in range(T):
            if active[r0 + i]:
                for j in range(d):
                    Gn[i, m, j] = G[i, j]
        return
    if nkind >= SAMPLED_GAUSSIAN:
        B = nint
        Zs = np.empty((B if nkind == SAMPLED_GAUSSIAN else 1, d if nkind == SAMPLED_GAUSSIAN else B))
        As = np.empty((B if nkind == SAMPLED_GAUSSIAN else 1, d))
        eps = np.zeros(B)
        for i in range(T):
            r = r0 + i
            if active[r]:
                sampled_gradient(nkind, nvec, nmat, nint, nreal, nreal2, nrng[r], Et[i], Gn[i, m], Zs, As, eps)
        return
    for i in range(T):
        r = r0 + i
        if active[r]:
            if dist == DIST_T:
                rng.fill_t(nrng[r], df, Zt[i])
            else:
                rng.fill_normal(nrng[r], Zt[i])
    if nkind == NOISE_SCALE:
        for i in range(T):
            if active[r0 + i]:
                for j in range(d):
                    Gn[i, m, j] = G[i, j] + nvec[j] * Zt[i, j]
        return
    if nkind == NOISE_MATRIX:
        matmul_rows(Zt, nmat, Xi)
    elif nkind == NOISE_KRON:
        kron_rows(Zt, nmat, nflat, Xi)
    else:
        matmul_block_diagonal(Zt, nflat, noff, blk, Xi)
    for i in range(T):
        if active[r0 + i]:
            for j in range(d):
                Gn[i, m, j] = G[i, j] + Xi[i, j]


@njit(cache=True, error_model="numpy", inline="always")
def hutchinson_rows(kind, hdiag, Hmat, bflat, boff, blk, urng, r0, active, U, HU, out):
    """out[i] = u * (H u) with u Rademacher from run r's own stream ``urng[r]`` (active runs)."""
    T, d = U.shape
    for i in range(T):
        r = r0 + i
        if active[r]:
            rng.fill_rademacher(urng[r], U[i])
        else:
            U[i, :] = 0.0
    product(kind, U, hdiag, Hmat, bflat, boff, blk, HU)
    for i in range(T):
        for j in range(d):
            out[i, j] = U[i, j] * HU[i, j]


@njit(cache=True, error_model="numpy", inline="always")
def sharpness_rows(kind, hdiag, Hmat, bflat, boff, blk, r0, active, U, HU, rec_sharp, p):
    """Directional sharpness u^T H u / ||u||^2 of each active run's update u (Pan & Li 2023;
    theory_notes.md §1) into ``rec_sharp[r, p]``."""
    T, d = U.shape
    product(kind, U, hdiag, Hmat, bflat, boff, blk, HU)
    for i in range(T):
        r = r0 + i
        if not active[r]:
            continue
        num = 0.0
        den = 0.0
        for j in range(d):
            num += U[i, j] * HU[i, j]
            den += U[i, j] * U[i, j]
        rec_sharp[r, p] = num / den if den > 0.0 else math.nan
