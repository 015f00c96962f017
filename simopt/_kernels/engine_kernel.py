"""The batched run loop.

Runs are independent, so the loop is parallel over *tiles* of ``TILE`` runs (``prange``) and each tile
walks through every step of the chunk on its own: one parallel region per chunk, no per-step barrier.
A tile's gradient is one matrix product ``E_tile (TILE x d) @ H`` for dense problems and one per block
for block problems, computed by BLAS with ``TILE`` rows *always* (the run count is padded to a multiple
of ``TILE``).  BLAS must run single-threaded inside the region (the engine pins it): nested BLAS threads
inside ``prange`` were measured 7-9x slower, and OpenBLAS's rounding depends on its thread count and on
the number of rows; with a fixed tile shape and one thread the result of a run's row depends on nothing
but that row, which makes results bit-identical whatever the thread count or the split of the runs.
Diagonal problems use a fused elementwise pass.

Everything works on the error ``e = x - x*``: the gradient is ``H e``, the loss ``0.5 e.g`` (free once g is
known), and every update rule is translation invariant.
"""
import math

import numpy as np
from numba import njit, prange

from .updates import clip_into, clip_threshold, update_row

TILE = 8

DIAGONAL = 0
BLOCK = 1
DENSE = 2

NOISE_NONE = 0
NOISE_SCALE = 1
NOISE_MATRIX = 2
NOISE_BLOCKS = 3


@njit(cache=True, error_model="numpy", fastmath={"reassoc", "contract"})
def _half_dot_and_sq(e, g):
    """(0.5 e.g, g.g).  Reassociation lets LLVM vectorise the two reductions; the order it picks is fixed
    by the compiled code, so the result still depends only on the run's own data."""
    a = 0.0
    b = 0.0
    for j in range(e.shape[0]):
        a += e[j] * g[j]
        b += g[j] * g[j]
    return 0.5 * a, b


@njit(cache=True, error_model="numpy")
def _product(kind, Et, hdiag, Hmat, bflat, boff, blk, out):
    """out = Et @ H for one tile (Et: TILE x d, C-contiguous)."""
    T, d = Et.shape
    if kind == DENSE:
        out[:, :] = np.dot(Et, Hmat)
    elif kind == BLOCK:
        for b in range(blk.shape[0] - 1):
            s, e = blk[b], blk[b + 1]
            n = e - s
            Hb = bflat[boff[b]:boff[b] + n * n].reshape((n, n))
            tmp = np.ascontiguousarray(Et[:, s:e])
            out[:, s:e] = np.dot(tmp, Hb)
    else:
        for i in range(T):
            for j in range(d):
                out[i, j] = hdiag[j] * Et[i, j]


@njit(parallel=True, cache=True, error_model="numpy")
def run_chunk(kind, E, hdiag, Hmat, bflat, boff, blk,
              nkind, Z, nscale, Amat, aflat, aoff,
              code, hp, clip, lrs, t0, K, final,
              state, active, f0, thresh, div_step, x_at_div,
              rec_pos, rec_loss, rec_gn, rec_bgn, rec_x, rec_sharp,
              want_bgn, want_x, want_sharp):
    Rp, d = E.shape
    nb = blk.shape[0] - 1
    ntiles = Rp // TILE
    n_eval = K + 1 if final else K
    for tile in prange(ntiles):
        r0 = tile * TILE
        G = np.empty((TILE, d))
        Xi = np.empty((TILE, d))
        Zt = np.empty((TILE, d))
        U = np.zeros((TILE, d))
        HU = np.empty((TILE, d))
        gt = np.empty(d)
        gc = np.empty(d)
        work = np.empty(d)
        for k in range(n_eval):
            t = t0 + k
            Et = E[r0:r0 + TILE]
            _product(kind, Et, hdiag, Hmat, bflat, boff, blk, G)
            updating = k < K
            if updating and nkind == NOISE_MATRIX:
                for i in range(TILE):
                    Zt[i, :] = Z[r0 + i, k, :]
                Xi[:, :] = np.dot(Zt, Amat)
            elif updating and nkind == NOISE_BLOCKS:
                for b in range(nb):
                    s, e = blk[b], blk[b + 1]
                    n = e - s
                    Ab = aflat[aoff[b]:aoff[b] + n * n].reshape((n, n))
                    for i in range(TILE):
                        Zt[i, s:e] = Z[r0 + i, k, s:e]
                    tmp = np.ascontiguousarray(Zt[:, s:e])
                    Xi[:, s:e] = np.dot(tmp, Ab)
            p = rec_pos[t]
            sharp_now = want_sharp and updating and p >= 0
            for i in range(TILE):
                r = r0 + i
                if not active[r]:
                    continue
                g = G[i]
                e_r = E[r]
                loss, gn2 = _half_dot_and_sq(e_r, g)
                if t == 0:
                    f0[r] = loss
                ref = f0[r] if f0[r] > 0.0 else 1.0
                if not (loss <= thresh * ref) or not (gn2 < math.inf):
                    active[r] = False
                    div_step[r] = t
                    x_at_div[r, :] = e_r
                    e_r[:] = 0.0
                    U[i, :] = 0.0
                    continue
                if p >= 0:
                    rec_loss[r, p] = loss
                    rec_gn[r, p] = math.sqrt(gn2)
                    if want_bgn:
                        for b in range(nb):
                            sq = 0.0
                            for j in range(blk[b], blk[b + 1]):
                                sq += g[j] * g[j]
                            rec_bgn[r, p, b] = math.sqrt(sq)
                    if want_x:
                        rec_x[r, p, :] = e_r
                if not updating:
                    continue
                # the gradient the method sees (noisy), and its clipped version; no copies when unchanged
                if nkind == NOISE_NONE:
                    gv = g
                elif nkind == NOISE_SCALE:
                    for j in range(d):
                        gt[j] = g[j] + nscale[j] * Z[r, k, j]
                    gv = gt
                else:
                    for j in range(d):
                        gt[j] = g[j] + Xi[i, j]
                    gv = gt
                if clip > 0.0:
                    clip_into(gv, clip_threshold(gv, clip, work), gc)
                    gcv = gc
                else:
                    gcv = gv
                if sharp_now:
                    U[i, :] = e_r
                update_row(code, e_r, gv, gcv, state[r], t + 1, lrs[t], hp, blk)
                if sharp_now:
                    for j in range(d):
                        U[i, j] = e_r[j] - U[i, j]
            if sharp_now:
                _product(kind, U, hdiag, Hmat, bflat, boff, blk, HU)
                for i in range(TILE):
                    r = r0 + i
                    if not active[r]:
                        continue
                    num = 0.0
                    den = 0.0
                    for j in range(d):
                        num += U[i, j] * HU[i, j]
                        den += U[i, j] * U[i, j]
                    rec_sharp[r, p] = num / den if den > 0.0 else math.nan
