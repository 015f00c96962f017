"""Pieces of simopt's run loop timed on their own, at the tile shape and thread split the engine uses.

The engine (``simopt.engine``) splits the runs into tiles of ``T = _tile_size(runs, kind, d)`` runs (about
one tile per thread; for diagonal problems few enough to stay in cache) and calls its compiled loop from
Python threads on disjoint tile ranges (``_tile_ranges``), the loop releasing the GIL; each tile walks
through all the steps of a chunk on its own.  The drivers here do the same with one piece of the loop:

  ``product``   the gradient ``G = E_tile H`` alone (``simopt._kernels.tiles.product``: simopt's
                row-deterministic GEMM ``gemm.matmul_rows`` for a dense Hessian, one
                ``gemm.matmul_block`` per block for a block-diagonal one, an elementwise product for a
                diagonal one);
  ``stats``     the gradient with each run's loss 0.5 e.g and squared gradient norm g.g
                (``tiles.gradient_and_stats``, what the loop computes at every step for the divergence
                check and the records);
  ``fused_sgd`` ``e <- e - lr h e`` for a diagonal h, every step of a tile in one pass and nothing
                recorded: the most a noise-free diagonal step can do.

Each driver runs ``evaluations`` times per tile, tile by tile, in the engine's thread split, so the time
is what that piece costs inside a ``simopt.run`` call of ``evaluations`` gradient evaluations.
"""
from __future__ import annotations

import time

import numpy as np

import simopt  # noqa: F401  (points Numba's cache at simopt's cache folder before the drivers compile)
from numba import njit
from simopt import engine
from simopt._kernels import gemm, tiles
from simopt._kernels.callrule import call_step

KINDS = {"diagonal": tiles.DIAGONAL, "dense": tiles.DENSE, "block": tiles.BLOCK}
gemm.ensure_callback()   # the drivers call the product as the engine does, through its C callback


@njit(nogil=True, cache=True, error_model="numpy")
def _product_tiles(lo, hi, T, kind, E, hdiag, Hmat, bflat, boff, blk, G, reps):  # pragma: no cover
    for tile in range(lo, hi):
        Et = E[tile * T:(tile + 1) * T]
        Gt = G[tile * T:(tile + 1) * T]
        for _ in range(reps):
            tiles.product(kind, Et, hdiag, Hmat, bflat, boff, blk, Gt)


@njit(nogil=True, cache=True, error_model="numpy")
def _stats_tiles(lo, hi, T, kind, E, hdiag, Hmat, bflat, boff, blk, G, loss, gn2, reps):  # pragma: no cover
    for tile in range(lo, hi):
        Et = E[tile * T:(tile + 1) * T]
        Gt = G[tile * T:(tile + 1) * T]
        lt = loss[tile * T:(tile + 1) * T]
        gt = gn2[tile * T:(tile + 1) * T]
        for _ in range(reps):
            tiles.gradient_and_stats(kind, Et, hdiag, Hmat, bflat, boff, blk, Gt, lt, gt)


@njit(nogil=True, cache=True, error_model="numpy")
def _fused_sgd_tiles(lo, hi, T, E, h, lr, reps):  # pragma: no cover
    for r in range(lo * T, hi * T):
        e = E[r]
        for _ in range(reps):
            for j in range(e.shape[0]):
                e[j] -= lr * h[j] * e[j]


@njit(nogil=True, cache=True, error_model="numpy")
def _two_pass_tiles(lo, hi, T, E, h, G, loss, gn2, state, step_addr, hp, blk, mshape, xstar, Hut, work,
                    lr, reps, with_gradient):  # pragma: no cover
    """The noise-free diagonal loop's own passes and nothing else: per step and tile the gradient pass
    (G = h e with each run's 0.5 e.g; ``tiles.gradient_and_stats`` as on a step that records nothing),
    then the rule's compiled step on every run through its address, as the loop calls it; no divergence
    check, records or set-up.  ``with_gradient=False`` times the rule's step alone."""
    for tile in range(lo, hi):
        r0 = tile * T
        Et = E[r0:r0 + T]
        Gt = G[r0:r0 + T]
        Gn = Gt.reshape((T, 1, Et.shape[1]))
        for k in range(reps):
            if with_gradient:
                tiles.gradient_and_stats(tiles.DIAGONAL, Et, h, Hut, h, blk, blk, Gt, loss[r0:r0 + T],
                                         gn2[r0:r0 + T], False)
            for i in range(T):
                call_step(step_addr, Et[i], Gn[i, 0], Gn[i], state[r0 + i], hp, blk, mshape, xstar, h,
                          Hut[i], work, k + 1, lr)


def tile_plan(runs: int, kind: str, d: int, threads: int | None = None, tile: int | None = None):
    """(tile size, padded rows, tile ranges) of the engine for ``runs`` runs of a ``kind`` problem of
    dimension ``d``; ``threads``/``tile`` override the engine's choice (the split is the engine's rule
    applied to them)."""
    import numba
    saved = numba.get_num_threads()
    if threads is not None:
        numba.set_num_threads(max(1, min(threads, numba.config.NUMBA_NUM_THREADS)))
    try:
        T = tile if tile is not None else engine._tile_size(runs, KINDS[kind], d)
        rows = -(-runs // T) * T
        ranges = engine._tile_ranges(rows // T)
    finally:
        numba.set_num_threads(saved)
    return T, rows, ranges


def _operands(kind: str, d: int, n_blocks: int, rows: int):
    rng = np.random.default_rng(0)
    E = rng.standard_normal((rows, d))
    hdiag = np.linspace(1e-3, 1.0, d) if kind == "diagonal" else np.zeros(1)
    Hmat = rng.standard_normal((d, d)) / np.sqrt(d) if kind == "dense" else np.zeros((1, 1))
    if kind == "block":
        b = d // n_blocks
        blk = np.arange(n_blocks + 1, dtype=np.int64) * b
        bflat = rng.standard_normal(n_blocks * b * b) / np.sqrt(b)
        boff = np.arange(n_blocks + 1, dtype=np.int64) * b * b
    else:
        blk = np.array([0, d], dtype=np.int64)
        bflat, boff = np.zeros(1), np.zeros(2, dtype=np.int64)
    return E, hdiag, Hmat, bflat, boff, blk


def _in_threads(fn, ranges, *args) -> float:
    """Seconds for ``fn(lo, hi, *args)`` over the ranges, one Python thread each (as the engine)."""
    t0 = time.perf_counter()
    if len(ranges) == 1:
        fn(*ranges[0], *args)
    else:
        for f in [engine._pool().submit(fn, lo, hi, *args) for lo, hi in ranges]:
            f.result()
    return time.perf_counter() - t0


def piece_seconds(piece: str, kind: str, d: int, runs: int, evaluations: int, n_blocks: int = 1,
                  threads: int | None = None, tile: int | None = None, bursts: int = 1) -> float:
    """Best of ``bursts`` timings of ``piece`` ("product" or "stats") over ``evaluations`` gradient
    evaluations of ``runs`` runs, tile by tile in the engine's split (``tile_plan``)."""
    if piece not in ("product", "stats"):
        raise ValueError(f"piece: expected 'product' or 'stats', got {piece!r}")
    T, rows, ranges = tile_plan(runs, kind, d, threads, tile)
    E, hdiag, Hmat, bflat, boff, blk = _operands(kind, d, n_blocks, rows)
    G = np.empty_like(E)
    loss, gn2 = np.empty(rows), np.empty(rows)
    k = KINDS[kind]
    if piece == "product":
        fn, args = _product_tiles, (T, k, E, hdiag, Hmat, bflat, boff, blk, G)
    else:
        fn, args = _stats_tiles, (T, k, E, hdiag, Hmat, bflat, boff, blk, G, loss, gn2)
    fn(0, 1, *args, 1)                       # compile / load outside the timing
    return min(_in_threads(fn, ranges, *args, evaluations) for _ in range(bursts))


def fused_sgd_rate(runs: int, d: int, steps: int, threads: int | None = None, bursts: int = 1) -> float:
    """Coordinate updates/s of the fused diagonal SGD pass (``_fused_sgd_tiles``) over ``runs`` x ``d``
    for ``steps`` steps, in the engine's tile split on ``threads`` (default: all of Numba's)."""
    T, rows, ranges = tile_plan(runs, "diagonal", d, threads)
    h = np.linspace(1e-3, 1.0, d)
    E = np.ones((rows, d))
    _fused_sgd_tiles(0, 1, T, E, h, 1e-3, 1)
    best = 0.0
    for _ in range(bursts):
        E[:] = 1.0
        best = max(best, runs * d * steps / _in_threads(_fused_sgd_tiles, ranges, T, E, h, 1e-3, steps))
    return best


def two_pass_rate(optimizer, runs: int, d: int, steps: int, threads: int | None = None, bursts: int = 1,
                  with_gradient: bool = True) -> float:
    """Coordinate updates/s of ``_two_pass_tiles``: the most the noise-free diagonal loop can do with
    ``optimizer``'s compiled step (its gradient pass and the rule's step through its address, nothing
    else), over ``runs`` x ``d`` for ``steps`` steps in the engine's split; ``with_gradient=False``: the
    rule's step alone, the ceiling of any loop that calls it."""
    from simopt._kernels.codegen import rule_module
    from simopt.optim.rule import size_of
    T, rows, ranges = tile_plan(runs, "diagonal", d, threads)
    h = np.linspace(1e-3, 1.0, d)
    E = np.ones((rows, d))
    G = np.empty((rows, d))
    loss, gn2 = np.empty(rows), np.empty(rows)
    blk = np.array([0, d], dtype=np.int64)
    mod = rule_module(optimizer)
    state = np.zeros((rows, max(1, optimizer.state_size(d, 1))))
    hp = optimizer.params(simopt.quadratic(h, rotation="none"))
    work = np.empty(max(1, size_of(str(mod.WORK_SIZE), d, 1, 1)))
    args = (T, E, h, G, loss, gn2, state, mod.step_c.address, hp, blk, np.array([1, d], dtype=np.int64),
            np.zeros(d), np.zeros((T, d)), work, 1e-6)
    _two_pass_tiles(0, 1, *args, 1, with_gradient)
    best = 0.0
    for _ in range(bursts):
        E[:] = 1.0
        state[:] = 0.0
        best = max(best, runs * d * steps / _in_threads(_two_pass_tiles, ranges, *args, steps, with_gradient))
    return best
