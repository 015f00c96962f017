"""This machine's limits for the benchmark's two expensive ingredients, measured in the same run.

* float64 GEMM throughput (GFLOP/s = 2 m k n / seconds) at the cases' shapes, through NumPy's BLAS,
  with the BLAS pool limited to 1 thread and at all threads (threadpoolctl).
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

try:
    from threadpoolctl import threadpool_info, threadpool_limits
except ImportError:  # pragma: no cover - threadpoolctl comes with scipy/sklearn stacks; optional here
    threadpool_info = None
    threadpool_limits = None


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
    for label, (m, k, n, batch) in shapes.items():
        out["gemm"][label] = {
            "shape": [m, k, n, batch],
            "gflops_1": gemm_gflops(m, k, n, batch, 1, seconds, bursts),
            "gflops_all": gemm_gflops(m, k, n, batch, cores, seconds, bursts),
        }
    for bitgen in ("PCG64", "SFC64"):
        out["normal"][bitgen] = {
            "rate_1": normal_rate(1, bitgen, seconds=seconds, bursts=bursts),
            "rate_all": normal_rate(cores, bitgen, seconds=seconds, bursts=bursts),
        }
    out["normal_best_all"] = max(v["rate_all"] for v in out["normal"].values())
    out["normal_best_1"] = max(v["rate_1"] for v in out["normal"].values())
    return out


def gemm_label(case, runs: int) -> str | None:
    if case.kind == "dense":
        return f"({runs}x{case.dim})({case.dim}x{case.dim})"
    if case.kind == "block":
        return f"{case.n_blocks}x({runs}x{case.block_size})({case.block_size}x{case.block_size})"
    return None


def floor_seconds(case, runs: int, limits: dict) -> dict:
    """Implied floor for one timed call: GEMM FLOPs at the measured all-thread peak for the case's
    shape (the better of 1 and all threads) + the normals at the measured all-core rate."""
    label = gemm_label(case, runs)
    gemm_t = 0.0
    if label is not None:
        g = limits["gemm"][label]
        gemm_t = case.gemm_flops / (max(g["gflops_all"], g["gflops_1"]) * 1e9)
    rng_t = case.samples / limits["normal_best_all"] if case.samples else 0.0
    return {"gemm_s": gemm_t, "rng_s": rng_t, "floor_s": gemm_t + rng_t,
            "rng_1core_s": case.samples / limits["normal_best_1"] if case.samples else 0.0}
