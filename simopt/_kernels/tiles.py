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

NOISE_NONE = 0
NOISE_SCALE = 1
NOISE_MATRIX = 2
NOISE_BLOCKS = 3

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
    else:
        for i in range(T):
            for j in range(d):
                out[i, j] = hdiag[j] * Et[i, j]


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
def _diag_product_and_stats(Et, hdiag, G, loss, gn2):
    """The diagonal problem's G = h * e, fused with each run's 0.5 e.g and g.g (one pass)."""
    T, d = Et.shape
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
def gradient_and_stats(kind, Et, hdiag, Hmat, bflat, boff, blk, G, loss, gn2):
    """G = H e for the tile, and each run's loss 0.5 e.g and squared gradient norm g.g."""
    if kind == DIAGONAL:
        _diag_product_and_stats(Et, hdiag, G, loss, gn2)
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
            x_at_div[r, :] = e
            e[:] = 0.0
            continue
        if p >= 0:
            rec_loss[r, p] = lo
            rec_gn[r, p] = gn
            if want_bgn:
                for b in range(nb):
                    rec_bgn[r, p, b] = norm_scaled(g[blk[b]:blk[b + 1]])
            if want_x:
                rec_x[r, p, :] = e


@njit(cache=True, error_model="numpy", inline="always")
def add_noise(nkind, dist, df, nscale, Amat, aflat, aoff, blk, nrng, r0, active, G, Gn, m, Zt, Xi):
    """Gn[i, m] = G[i] + xi for every active run of the tile, xi = A z with z drawn from the run's own
    stream ``nrng[r]`` (d standard normal or Student-t values per draw, in coordinate order).

    ``G`` may be the same memory as ``Gn[:, 0]`` (one draw per step): the noise is then added in place."""
    T, d = G.shape
    if nkind == NOISE_NONE:
        for i in range(T):
            if active[r0 + i]:
                for j in range(d):
                    Gn[i, m, j] = G[i, j]
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
                    Gn[i, m, j] = G[i, j] + nscale[j] * Zt[i, j]
        return
    if nkind == NOISE_MATRIX:
        matmul_rows(Zt, Amat, Xi)
    else:
        matmul_block_diagonal(Zt, aflat, aoff, blk, Xi)
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
