"""One step of everything but the update rule, for rules that only have a NumPy step.

The engine runs such a rule (a user's prototype, :func:`simopt.optim.numpy_rule`) step by step: this
kernel computes, for every tile of runs, the gradient at the iterate, the loss/gradient-norm records and
the divergence check, then the gradient at the rule's gradient point if it has one, the ``M`` noisy draws
and the Hutchinson probe -- with the same helpers, in the same order and from the same per-run streams as
the compiled loop (``simopt._kernels.loop``) -- and Python applies the rule's NumPy step to the batch.
"""
import numpy as np
from numba import njit

from simopt._kernels import tiles


@njit(nogil=True, cache=True, error_model="numpy")
def evaluate_step(tile_lo, tile_hi, T, kind, E, hdiag, Hmat, bflat, boff, blk,
                  nkind, dist, df, nvec, nmat, nflat, noff, nint, nreal, nreal2, nrng,
                  M, want_hutch, urng, Y, use_point, t, update,
                  active, f0, thresh, div_step, x_at_div,
                  rec_pos, rec_loss, rec_gn, rec_bgn, rec_x, want_bgn, want_x, Gn, Hut):
    # <specialise>
    d = E.shape[1]
    for tile in range(tile_lo, tile_hi):
        r0 = tile * T
        G = np.empty((T, d))
        Zt = np.zeros((T, d))
        Xi = np.empty((T, d))
        U = np.zeros((T, d))
        HU = np.empty((T, d))
        loss = np.empty(T)
        gn2 = np.empty(T)
        Et = E[r0:r0 + T]
        p = rec_pos[t]
        tiles.gradient_and_stats(kind, Et, hdiag, Hmat, bflat, boff, blk, G, loss, gn2, p >= 0 or t == 0)
        tiles.evaluate_rows(Et, G, loss, gn2, r0, t, p, active, f0, thresh, div_step, x_at_div, blk,
                            rec_loss, rec_gn, rec_bgn, rec_x, want_bgn, want_x)
        if not update:
            continue
        if use_point:
            tiles.product(kind, Y[r0:r0 + T], hdiag, Hmat, bflat, boff, blk, G)
        Gt = Gn[r0:r0 + T]
        for m in range(M):
            tiles.add_noise(nkind, dist, df, nvec, nmat, nflat, noff, nint, nreal, nreal2, blk, nrng, r0,
                            active, Et, G, Gt, m, Zt, Xi)
        if want_hutch:
            tiles.hutchinson_rows(kind, hdiag, Hmat, bflat, boff, blk, urng, r0, active, U, HU,
                                  Hut[r0:r0 + T])
