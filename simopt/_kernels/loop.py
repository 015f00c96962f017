"""The batched run loop, generic over the update rule.

One ``run_chunk`` call advances the runs of tiles ``tile_lo .. tile_hi - 1`` by ``K`` steps; the engine
calls it from a few threads at once on disjoint tile ranges (the function releases the GIL), so each tile
walks through every step of the chunk on its own, with no per-step barrier.  Per step and tile: the
gradient ``H e`` at the iterate (``tiles.product``); loss, gradient norm, divergence and records at the
iterate (``tiles.evaluate_rows``); for rules with a gradient point, the gradient again at that point; the
``M`` noisy gradient draws from each run's own stream (``tiles.add_noise``); the Hutchinson probe if the
rule takes it; the rule's step on each active run; the update's directional sharpness if recorded.

The rule is called through the address of its compiled glue (``simopt._kernels.callrule``), so this loop
is compiled and cached once for every rule.  The engine runs copies of it specialised to one problem kind
and one noise kind, distribution and Hutchinson setting (``simopt._kernels.codegen.loop_for``: the ``# <specialise>`` line becomes
``kind = ...`` / ``nkind = ...``), so LLVM drops the other kinds' code and each copy compiles in about
half the time of the generic loop; a copy is compiled the first time its combination is used.  See ``simopt._kernels.tiles`` for why the arithmetic of one
run depends on that run's data only.
"""
import numpy as np
from numba import njit

from simopt._kernels import tiles
from simopt._kernels.callrule import call_point, call_step


@njit(nogil=True, cache=True, error_model="numpy")
def run_chunk(tile_lo, tile_hi, T, kind, E, hdiag, Hmat, bflat, boff, blk,
              nkind, dist, df, nvec, nmat, nflat, noff, nint, nreal, nreal2, nrng,
              step_addr, point_addr, M, want_hutch, urng, work_size,
              hp, lrs, t0, K, final,
              state, active, f0, thresh, div_step, x_at_div, xstar, hd, mshape,
              rec_pos, rec_loss, rec_gn, rec_bgn, rec_x, rec_sharp,
              want_bgn, want_x, want_sharp):
    # <specialise>
    d = E.shape[1]
    n_eval = K + 1 if final else K
    noisy = nkind != tiles.NOISE_NONE or M > 1
    for tile in range(tile_lo, tile_hi):
        r0 = tile * T
        Gn = np.empty((T, M, d))
        G = Gn.reshape((T, d)) if M == 1 else np.empty((T, d))
        Zt = np.zeros((T, d))
        Xi = np.empty((T, d))
        Y = np.zeros((T, d))
        U = np.zeros((T, d))
        HU = np.empty((T, d))
        Hut = np.zeros((T, d))
        work = np.empty(max(1, work_size))
        loss = np.empty(T)
        gn2 = np.empty(T)
        for k in range(n_eval):
            t = t0 + k
            Et = E[r0:r0 + T]
            p = rec_pos[t]
            tiles.gradient_and_stats(kind, Et, hdiag, Hmat, bflat, boff, blk, G, loss, gn2, p >= 0 or t == 0)
            tiles.evaluate_rows(Et, G, loss, gn2, r0, t, p, active, f0, thresh, div_step, x_at_div, blk,
                                rec_loss, rec_gn, rec_bgn, rec_x, want_bgn, want_x)
            if k >= K:
                continue
            if point_addr != 0:
                for i in range(T):
                    if active[r0 + i]:
                        call_point(point_addr, Y[i], Et[i], state[r0 + i], hp, blk, xstar, t + 1, lrs[t])
                tiles.product(kind, Y, hdiag, Hmat, bflat, boff, blk, G)
            if noisy:
                for m in range(M):
                    tiles.add_noise(nkind, dist, df, nvec, nmat, nflat, noff, nint, nreal, nreal2, blk, nrng, r0,
                                    active, Et, G, Gn, m, Zt, Xi)
            if want_hutch:
                tiles.hutchinson_rows(kind, hdiag, Hmat, bflat, boff, blk, urng, r0, active, U, HU, Hut)
            sharp_now = want_sharp and p >= 0
            for i in range(T):
                r = r0 + i
                if not active[r]:
                    continue
                if sharp_now:
                    for j in range(d):
                        U[i, j] = Et[i, j]
                call_step(step_addr, Et[i], Gn[i, 0], Gn[i], state[r], hp, blk, mshape, xstar, hd, Hut[i],
                          work, t + 1, lrs[t])
                if sharp_now:
                    for j in range(d):
                        U[i, j] = Et[i, j] - U[i, j]
            if sharp_now:
                tiles.sharpness_rows(kind, hdiag, Hmat, bflat, boff, blk, r0, active, U, HU, rec_sharp, p)


@njit(cache=True, error_model="numpy")
def apply_step(step_addr, X, Gn, state, hp, blk, mshape, xstar, hd, Hut, work, t, lr):
    """One compiled step of the rule at ``step_addr`` on every row of ``X`` (runs, d) with the given
    gradients ``Gn`` (runs, M, d) and Hutchinson probes ``Hut`` (runs, d): the rule exactly as the run
    loop calls it, for tests that compare it with the rule's NumPy step (``simopt.testing``)."""
    for r in range(X.shape[0]):
        call_step(step_addr, X[r], Gn[r, 0], Gn[r], state[r], hp, blk, mshape, xstar, hd, Hut[r], work, t, lr)
