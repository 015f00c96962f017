"""Where simopt's time goes on a benchmark case: noise drawing vs the compiled kernel, and inside the
kernel the gradient products vs the elementwise work (noise add, update, loss/divergence checks).

Method (wall clock, nothing estimated from first principles except the GEMM share):
  total       one ``simopt.run`` call, as in the benchmark;
  kernel      time inside the engine's compiled chunk kernel (``simopt._kernels.engine_kernel.run_chunk``,
              wrapped with a timer for the measurement only); outside = total - kernel: drawing the
              noise (NumPy Generators, one per run, filled in threads) plus setup;
  kernel, noise-free   the same call on the same problem without noise;
  GEMM        the kernel's products timed on their own, the way the kernel does them: a compiled
              (Numba) loop over tiles of TILE runs in parallel, each a (TILE x d)(d x d) product (one
              per block for block problems) with one BLAS thread -> GEMM share of the kernel;
  elementwise = kernel - GEMM.
The split depends on the engine's internals; when they are not there it says so instead of guessing.

Run as ``python benchmarks/profile_simopt.py [A B C ...]`` for a standalone table.
"""
from __future__ import annotations

import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import bench_cases  # noqa: E402
import bench_limits  # noqa: E402


def _timed_kernel():
    """Wrap the engine's chunk kernel with a timer; returns (restore, clock) or (None, None)."""
    try:
        from simopt._kernels import engine_kernel as K
    except ImportError:
        return None, None
    orig = getattr(K, "run_chunk", None)
    if orig is None:
        return None, None
    clock = {"s": 0.0, "calls": 0}

    def timed(*a, **kw):
        t0 = time.perf_counter()
        try:
            return orig(*a, **kw)
        finally:
            clock["s"] += time.perf_counter() - t0
            clock["calls"] += 1

    K.run_chunk = timed

    def restore():
        K.run_chunk = orig
    return restore, clock


def profile_case(case, opt: str, repeats: int = 3) -> dict:
    import simopt
    problem = bench_cases.build_problem(case)
    data = bench_cases.problem_data(case, problem)
    hp = bench_cases.hyperparams(opt, data)
    o = bench_cases.simopt_optimizer(opt, hp)
    variants = {"noisy": problem, "noise-free": problem.with_noise(None)} if case.noisy else \
        {"noise-free": problem}
    out = {"case": case.key, "opt": opt}
    restore, clock = _timed_kernel()
    try:
        for name, p in variants.items():
            simopt.run(p, o, case.steps, runs=bench_cases.RUNS, seed=0, record_every=bench_cases.RECORD_EVERY)
            tot, ker = [], []
            for _ in range(repeats):
                if clock is not None:
                    clock["s"] = 0.0
                t0 = time.perf_counter()
                simopt.run(p, o, case.steps, runs=bench_cases.RUNS, seed=0,
                           record_every=bench_cases.RECORD_EVERY)
                tot.append(time.perf_counter() - t0)
                ker.append(clock["s"] if clock is not None else np.nan)
            i = int(np.argsort(tot)[len(tot) // 2])
            out[name] = {"total_s": tot[i], "kernel_s": ker[i]}
    finally:
        if restore is not None:
            restore()
    if clock is None:
        out["note"] = "engine kernel not found: only totals"
        return out
    try:
        from simopt._kernels import engine_kernel as K
        tile = int(K.TILE)
    except (ImportError, AttributeError):
        tile = None
    if tile is not None and case.kind != "diagonal":
        out["gemm_s"] = bench_limits.tile_gemm_seconds(case, bench_cases.RUNS, tile, case.steps + 1)
        out["tile"] = tile
    else:
        out["gemm_s"] = 0.0
    return out


def format_rows(profiles) -> list[str]:
    rows = ["| case | optimizer | total s | noise draw + setup (outside kernel) s | kernel s | "
            "kernel noise-free s | of which GEMM s | elementwise s |",
            "|---|---|---|---|---|---|---|---|"]
    for p in profiles:
        nz = p.get("noisy")
        nf = p["noise-free"]
        main = nz or nf
        outside = main["total_s"] - main["kernel_s"]
        g = p.get("gemm_s", float("nan"))
        rows.append(
            f"| {p['case']} | {p['opt']} | {main['total_s']:.3f} | {outside:.3f} "
            f"({outside / main['total_s']:.0%}) | {main['kernel_s']:.3f} ({main['kernel_s'] / main['total_s']:.0%}) | "
            f"{nf['kernel_s']:.3f} | {g:.3f} | {main['kernel_s'] - g:.3f} |")
    return rows


if __name__ == "__main__":
    keys = sys.argv[1:] or ["A", "B", "C", "A0", "B0"]
    unknown = [k for k in keys if k not in bench_cases.FULL_CASES]
    if unknown:
        sys.exit(f"usage: python benchmarks/profile_simopt.py [CASE ...]  (cases: "
                 f"{', '.join(bench_cases.FULL_CASES)}); unknown: {', '.join(unknown)}")
    profs = [profile_case(bench_cases.FULL_CASES[k], opt) for k in keys for opt in ("sgd", "sign", "adam")]
    print("\n".join(format_rows(profs)))
