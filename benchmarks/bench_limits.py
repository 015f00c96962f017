"""This machine's limits for the benchmark's two expensive ingredients, measured in the same run.

* float64 GEMM throughput (GFLOP/s = 2 m k n / seconds) at the cases' shapes: through NumPy's BLAS
  (OpenBLAS) with its pool limited to 1 thread and at all threads (threadpoolctl), and through simopt's
  own row-deterministic GEMM (``simopt._kernels.gemm``, what the engine uses) on one thread for the whole
  product and in the engine's tiles on all cores (``engine_parts``: tiles of about runs/threads rows,
  one Python thread per range of tiles, as ``simopt.run`` does).  A case's GEMM floor uses the fastest.
* for noise-free diagonal problems (no GEMM, no noise), a fused compiled SGD pass on all cores
  (``engine_parts.fused_sgd_rate``): coordinate updates/s, the floor of a step that is nothing but
  elementwise work; and per benchmark optimizer the ceilings of simopt's noise-free diagonal loop
  (``noise_free_ceilings``): its two passes alone (gradient, then the rule's compiled step) and the
  rule's step alone;
* standard-normal throughput (samples/s) on one core and on all cores (one thread per core): NumPy's
  ``Generator.standard_normal`` bulk fills (each thread its own Generator; bulk fills release the GIL)
  for the PCG64 (NumPy's default) and SFC64 bit generators, and simopt's in-kernel xoshiro256++ /
  ziggurat generator in the engine's pattern (``bench_rng.normal_rate``: a state per run, a row of d
  normals per fill, compiled, without the GIL).  A noisy case's RNG floor uses the fastest generator.

Each figure is the best of a few short bursts (the maximum sustained rate, which is what a floor
needs; on a shared machine the median would mostly measure the neighbours).
"""
from __future__ import annotations

import os
import threading
import time

import numpy as np

import bench_rng
import engine_parts

try:
    from threadpoolctl import threadpool_info, threadpool_limits
except ImportError:  # pragma: no cover - threadpoolctl comes with scipy/sklearn stacks; optional here
    threadpool_info = None
    threadpool_limits = None


#: the ways a product is timed: key in ``measure()["gemm"][shape]`` -> what it is
GEMM_WAYS = {
    "gflops_1": "OpenBLAS 1 thread",
    "gflops_all": "OpenBLAS all threads",
    "gflops_simopt_1": "simopt GEMM 1 thread, whole product",
    "gflops_simopt_tiles": "simopt GEMM, engine tiles, all cores",
}

#: the generators timed: key in ``measure()["normal"]`` -> what it is
GENERATORS = {
    "PCG64": "NumPy Generator(PCG64), bulk fills",
    "SFC64": "NumPy Generator(SFC64), bulk fills",
    "simopt": "simopt in-kernel xoshiro256++ ziggurat, engine pattern (rows of d)",
}


def gemm_best(g: dict) -> float:
    """The best GEMM rate measured for a shape, whichever way (OpenBLAS or simopt's GEMM)."""
    return max(v for k, v in g.items() if k.startswith("gflops_"))


def fastest_generator(limits: dict, key: str = "rate_all") -> str:
    """Name of the generator with the highest rate (``rate_all``: all cores, ``rate_1``: one core)."""
    return max(limits["normal"], key=lambda name: limits["normal"][name][key])


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
    for c in cases:
        label = gemm_label(c, runs)
        if label is None or label in out["gemm"]:
            continue
        k = c.dim if c.kind == "dense" else c.block_size
        nb = 1 if c.kind == "dense" else c.n_blocks
        flops_per_eval = 2.0 * runs * k * k * nb
        evals = max(1, int((1e8 if quick else 1e10) / flops_per_eval))
        T, _, _ = engine_parts.tile_plan(runs, c.kind, c.dim)
        g = {"shape": [runs, k, k, nb], "engine_tile": T,
             "gflops_1": gemm_gflops(runs, k, k, nb, 1, seconds, bursts),
             "gflops_all": gemm_gflops(runs, k, k, nb, cores, seconds, bursts)}
        for key, kw in (("gflops_simopt_1", {"threads": 1, "tile": runs}), ("gflops_simopt_tiles", {})):
            t = engine_parts.piece_seconds("product", c.kind, c.dim, runs, evals, nb, bursts=bursts, **kw)
            g[key] = flops_per_eval * evals / t / 1e9
        out["gemm"][label] = g
    for bitgen in ("PCG64", "SFC64"):
        out["normal"][bitgen] = {
            "rate_1": normal_rate(1, bitgen, seconds=seconds, bursts=bursts),
            "rate_all": normal_rate(cores, bitgen, seconds=seconds, bursts=bursts),
        }
    d = max([c.dim for c in cases if c.noisy] or [1000])
    out["normal"]["simopt"] = {"rate_1": bench_rng.normal_rate(1, d, seconds, bursts),
                               "rate_all": bench_rng.normal_rate(cores, d, seconds, bursts), "d": d}
    if any(c.kind == "diagonal" and not c.noisy for c in cases):
        c = next(c for c in cases if c.kind == "diagonal" and not c.noisy)
        out["fused_update_rate"] = engine_parts.fused_sgd_rate(runs, c.dim, c.steps, bursts=bursts)
        out["noise_free_ceilings"] = noise_free_ceilings(runs, c.dim, c.steps, bursts)
    out["normal_best_all"] = max(v["rate_all"] for v in out["normal"].values())
    out["normal_best_1"] = max(v["rate_1"] for v in out["normal"].values())
    return out


#: the rules whose noise-free diagonal ceilings the report gives (the benchmark's optimizers)
CEILING_RULES = ("sgd", "sign", "adam")


def noise_free_ceilings(runs: int, d: int, steps: int, bursts: int) -> dict:
    """Per benchmark optimizer, the coordinate updates/s of (``loop_passes``) the noise-free diagonal
    loop's own two passes -- the gradient pass and the rule's compiled step through its address, nothing
    else -- and (``step_alone``) the rule's step alone (``engine_parts.two_pass_rate``): what the run
    loop could reach if everything else it does were free, and what any loop that calls the rule as one
    step over the vector could."""
    from bench_cases import simopt_optimizer
    hp = {"lr": 1e-6, "betas": (0.9, 0.999), "eps": 1e-8}
    out = {}
    for name in CEILING_RULES:
        opt = simopt_optimizer(name, hp)
        out[name] = {"loop_passes": engine_parts.two_pass_rate(opt, runs, d, steps, bursts=bursts),
                     "step_alone": engine_parts.two_pass_rate(opt, runs, d, steps, bursts=bursts,
                                                              with_gradient=False)}
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
    (OpenBLAS or simopt's GEMM, one or all threads) + the normals at the all-core rate of the fastest
    generator measured (NumPy's or simopt's in-kernel one); elementwise work is counted as free, except
    for a noise-free diagonal case, which has nothing else: there the floor is its coordinate updates at
    the fused compiled pass's rate."""
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
