"""This machine's limits for the benchmark's two expensive ingredients, measured in the same run.

* float64 GEMM throughput (GFLOP/s = 2 m k n / seconds) at the cases' shapes, through NumPy's BLAS,
  with the BLAS pool limited to 1 thread and at all threads (threadpoolctl), and as a compiled (Numba)
  loop over tiles of 8 or 32 runs in parallel, one BLAS thread each (the way a batched engine that
  keeps its runs independent does it).
* for noise-free diagonal problems (no GEMM, no noise), a fused compiled SGD pass (Numba, all cores):
  coordinate updates/s, the floor of a step that is nothing but elementwise work;
* standard-normal throughput (samples/s) of NumPy ``Generator.standard_normal`` bulk fills, on one core
  and on all cores (one thread per core, each with its own Generator: bulk fills release the GIL).
  Measured for the PCG64 (NumPy's default) and SFC64 bit generators; the floor uses the faster.

Each figure is the best of a few short bursts (the maximum sustained rate, which is what a floor
needs; on a shared machine the median would mostly measure the neighbours).
"""
from __future__ import annotations

import os
import threading
import time

import numpy as np
from numba import njit, prange

try:
    from threadpoolctl import threadpool_info, threadpool_limits
except ImportError:  # pragma: no cover - threadpoolctl comes with scipy/sklearn stacks; optional here
    threadpool_info = None
    threadpool_limits = None


#: row counts of the compiled tile-by-tile products measured as another way to do the GEMM
TILES = (8, 32)


def gemm_best(g: dict) -> float:
    """The best GEMM rate measured for a shape, whichever way (BLAS 1 thread, all threads, or the
    compiled tile loop)."""
    return max(v for k, v in g.items() if k.startswith("gflops_"))


def n_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def blas_info() -> list[dict]:
    if threadpool_info is None:
        return []
    return [{k: lib.get(k) for k in ("internal_api", "version", "num_threads", "architecture",
                                      "threading_layer")}
            for lib in threadpool_info() if lib.get("user_api") == "blas"]


class _Limit:
    def __init__(self, n):
        self.cm = threadpool_limits(limits=n, user_api="blas") if threadpool_limits else None

    def __enter__(self):
        if self.cm is not None:
            self.cm.__enter__()

    def __exit__(self, *exc):
        if self.cm is not None:
            self.cm.__exit__(*exc)


def gemm_gflops(m: int, k: int, n: int, batch: int = 1, threads: int = 1,
                seconds: float = 0.3, bursts: int = 3) -> float:
    """GFLOP/s of ``batch`` separate (m x k)(k x n) float64 products per call (as a block-diagonal
    gradient does: one product per block), with the BLAS pool limited to ``threads``."""
    rng = np.random.default_rng(1)
    A = [rng.standard_normal((m, k)) for _ in range(batch)]
    B = [rng.standard_normal((k, n)) for _ in range(batch)]
    C = [np.empty((m, n)) for _ in range(batch)]
    flops = 2.0 * m * k * n * batch
    best = 0.0
    with _Limit(threads):
        for a, b, c in zip(A, B, C):
            np.matmul(a, b, out=c)
        reps = 1
        while True:  # calibrate the burst length
            t0 = time.perf_counter()
            for _ in range(reps):
                for a, b, c in zip(A, B, C):
                    np.matmul(a, b, out=c)
            dt = time.perf_counter() - t0
            if dt > seconds / 4 or reps > 1 << 20:
                break
            reps *= 4
        reps = max(1, int(reps * (seconds / max(dt, 1e-9))))
        for _ in range(bursts):
            t0 = time.perf_counter()
            for _ in range(reps):
                for a, b, c in zip(A, B, C):
                    np.matmul(a, b, out=c)
            dt = time.perf_counter() - t0
            best = max(best, flops * reps / dt / 1e9)
    return best


def normal_rate(threads: int = 1, bitgen: str = "PCG64", chunk: int = 1 << 18,
                seconds: float = 0.3, bursts: int = 3) -> float:
    """Standard normals per second from ``threads`` threads, each filling its own buffer of ``chunk``
    doubles from its own ``Generator(bitgen)`` for about ``seconds``."""
    bg = getattr(np.random, bitgen)
    seeds = np.random.SeedSequence(12345).spawn(threads)
    gens = [np.random.Generator(bg(s)) for s in seeds]
    bufs = [np.empty(chunk) for _ in range(threads)]
    gens[0].standard_normal(out=bufs[0])
    t0 = time.perf_counter()
    gens[0].standard_normal(out=bufs[0])
    per_fill = max(time.perf_counter() - t0, 1e-7)
    reps = max(1, int(seconds / per_fill))
    best = 0.0
    for _ in range(bursts):
        barrier = threading.Barrier(threads + 1)

        def work(i):
            g, b = gens[i], bufs[i]
            barrier.wait()
            for _ in range(reps):
                g.standard_normal(out=b)

        ts = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
        for t in ts:
            t.start()
        barrier.wait()
        t0 = time.perf_counter()
        for t in ts:
            t.join()
        dt = time.perf_counter() - t0
        best = max(best, threads * reps * chunk / dt)
    return best


def measure(cases, runs: int, quick: bool = False) -> dict:
    """All limits the report needs, for the GEMM shapes of ``cases``."""
    cores = n_cores()
    seconds = 0.02 if quick else 0.3
    bursts = 1 if quick else 3
    out = {"cores": cores, "gemm": {}, "normal": {}}
    shapes = {}
    for c in cases:
        if c.kind == "dense":
            shapes[f"({runs}x{c.dim})({c.dim}x{c.dim})"] = (runs, c.dim, c.dim, 1)
        elif c.kind == "block":
            shapes[f"{c.n_blocks}x({runs}x{c.block_size})({c.block_size}x{c.block_size})"] = (
                runs, c.block_size, c.block_size, c.n_blocks)
    case_of = {gemm_label(c, runs): c for c in cases if gemm_label(c, runs)}
    for label, (m, k, n, batch) in shapes.items():
        g = {"shape": [m, k, n, batch],
             "gflops_1": gemm_gflops(m, k, n, batch, 1, seconds, bursts),
             "gflops_all": gemm_gflops(m, k, n, batch, cores, seconds, bursts)}
        flops_per_eval = 2.0 * m * k * n * batch
        evals = max(1, int((1e8 if quick else 1e10) / flops_per_eval))
        for tile in TILES:
            padded = -(-runs // tile) * tile
            t = tile_gemm_seconds(case_of[label], runs, tile, evals, bursts)
            g[f"gflops_tiles_{tile}"] = flops_per_eval * padded / runs * evals / t / 1e9
        out["gemm"][label] = g
    for bitgen in ("PCG64", "SFC64"):
        out["normal"][bitgen] = {
            "rate_1": normal_rate(1, bitgen, seconds=seconds, bursts=bursts),
            "rate_all": normal_rate(cores, bitgen, seconds=seconds, bursts=bursts),
        }
    if any(c.kind == "diagonal" and not c.noisy for c in cases):
        c = next(c for c in cases if c.kind == "diagonal" and not c.noisy)
        out["fused_update_rate"] = fused_update_rate(runs, c.dim, c.steps, bursts)
    out["normal_best_all"] = max(v["rate_all"] for v in out["normal"].values())
    out["normal_best_1"] = max(v["rate_1"] for v in out["normal"].values())
    return out


def merge_best(a: dict, b: dict) -> dict:
    """Two measurements of ``measure`` merged figure by figure, keeping the higher rate: a limit is
    what the machine can do, and on a shared machine a neighbour can only make a burst slower."""
    if not isinstance(a, dict):
        return max(a, b) if isinstance(a, (int, float)) and not isinstance(a, bool) else a
    return {k: merge_best(a[k], b[k]) if k in b else a[k] for k in a}


def gemm_label(case, runs: int) -> str | None:
    if case.kind == "dense":
        return f"({runs}x{case.dim})({case.dim}x{case.dim})"
    if case.kind == "block":
        return f"{case.n_blocks}x({runs}x{case.block_size})({case.block_size}x{case.block_size})"
    return None


def floor_seconds(case, runs: int, limits: dict) -> dict:
    """Implied floor for one timed call: GEMM FLOPs at the best rate measured for the case's shape
    (BLAS 1 thread, all threads, or compiled tiles) + the normals at the measured all-core rate; elementwise
    work is counted as free, except for a noise-free diagonal case, which has nothing else: there the
    floor is its coordinate updates at the fused compiled pass's rate."""
    label = gemm_label(case, runs)
    gemm_t = 0.0
    if label is not None:
        g = limits["gemm"][label]
        gemm_t = case.gemm_flops / (gemm_best(g) * 1e9)
    rng_t = case.samples / limits["normal_best_all"] if case.samples else 0.0
    upd_t = 0.0
    if case.kind == "diagonal" and not case.noisy and "fused_update_rate" in limits:
        upd_t = case.coordinate_updates / limits["fused_update_rate"]
    return {"gemm_s": gemm_t, "rng_s": rng_t, "update_s": upd_t, "floor_s": gemm_t + rng_t + upd_t,
            "rng_1core_s": case.samples / limits["normal_best_1"] if case.samples else 0.0}


# ---- compiled references (Numba), for the shapes and loops the engine itself runs -------------
@njit(parallel=True, cache=True)
def _fused_sgd(E, h, lr, steps):  # pragma: no cover - compiled
    """e <- e - lr * h * e for every row, all steps, a row at a time (rows stay in L1)."""
    for r in prange(E.shape[0]):
        e = E[r]
        for _ in range(steps):
            for j in range(e.shape[0]):
                e[j] -= lr * h[j] * e[j]


@njit(parallel=True, cache=True)
def _tile_products(E, Hs, starts, tile, reps):  # pragma: no cover - compiled
    """For every tile of ``tile`` rows (in parallel), ``reps`` times: one (tile x b)(b x b) product per
    diagonal block, as a block or dense gradient is computed tile by tile."""
    R, d = E.shape
    for t in prange(R // tile):
        Et = E[t * tile:(t + 1) * tile]
        G = np.empty((tile, d))
        for _ in range(reps):
            for b in range(starts.shape[0] - 1):
                s, e = starts[b], starts[b + 1]
                G[:, s:e] = np.dot(np.ascontiguousarray(Et[:, s:e]), Hs[b])
    return 0


def fused_update_rate(runs: int, d: int, steps: int, bursts: int = 3) -> float:
    """Coordinate updates/s of a fused, compiled diagonal SGD pass over (runs x d) on all cores: the
    most a noise-free diagonal step can do (one multiply-add per coordinate, nothing recorded)."""
    h = np.linspace(1e-3, 1.0, d)
    E = np.ones((runs, d))
    _fused_sgd(E, h, 1e-3, 2)
    best = 0.0
    for _ in range(bursts):
        E[:] = 1.0
        t0 = time.perf_counter()
        _fused_sgd(E, h, 1e-3, steps)
        best = max(best, runs * d * steps / (time.perf_counter() - t0))
    return best


def tile_gemm_seconds(case, runs: int, tile: int, evaluations: int, bursts: int = 3) -> float:
    """Seconds for ``evaluations`` gradient evaluations of ``runs`` runs done as the engine does them:
    tiles of ``tile`` rows in parallel (Numba prange), one BLAS thread each, one product per block."""
    if case.kind == "diagonal":
        return 0.0
    b = case.dim if case.kind == "dense" else case.block_size
    nb = 1 if case.kind == "dense" else case.n_blocks
    rng = np.random.default_rng(0)
    Hs = np.ascontiguousarray(rng.standard_normal((nb, b, b)))
    starts = np.arange(nb + 1, dtype=np.int64) * b
    rows = -(-runs // tile) * tile
    E = rng.standard_normal((rows, nb * b))
    best = np.inf
    with _Limit(1):
        _tile_products(E, Hs, starts, tile, 1)
        for _ in range(bursts):
            t0 = time.perf_counter()
            _tile_products(E, Hs, starts, tile, evaluations)
            best = min(best, time.perf_counter() - t0)
    return best
