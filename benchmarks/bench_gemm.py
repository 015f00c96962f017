"""simopt's row-deterministic GEMM (``simopt._kernels.gemm``) against OpenBLAS through NumPy, in one run.

Single products, GFLOP/s (= 2 n k m / seconds), every way timed in turn within each round; reported are
the median and the best over the rounds, and ratios taken round by round (ways measured next to each
other in time) and then their median, so a change in the machine's load hits every way of a ratio alike:

  simopt       ``matmul_rows`` / ``matmul_block_diagonal``, one thread
  blas1        ``np.dot`` with the BLAS pool limited to 1 thread, the whole product in one call
  blas1_tile8  the same in 8-row tiles (how the engine calls BLAS to stay deterministic)
  blas2        ``np.dot`` with 2 BLAS threads, one call

Shapes: dense n x 500 @ 500 x 500 for n in 8, 32, 64; block-diagonal d = 500 in 5 blocks of 100 for n in
8, 64 (BLAS: one call per block on a contiguous copy of the block's columns, its result copied into
the block's columns of ``out``, as the engine does).

The engine's loop, ``E <- E - lr * (E @ H)`` for 64 runs x 1000 steps at d = 500 (dense) and 5 blocks of
100 (block), GFLOP/s of the products:

  simopt_prange      2 tiles of 32 runs in ``numba.prange`` on 2 threads, ``matmul_rows`` per step
  blas_tile8_prange  8 tiles of 8 runs in ``prange`` on 2 threads, ``np.dot`` with BLAS pinned to 1
                     thread (what the engine does now)
  numpy_blas2        plain NumPy on the whole batch, ``np.matmul(E, H, out=G); E -= lr * G``, 2 BLAS
                     threads

The prange loop is also run with 1 tile of 64 on 1 thread and with 8 tiles of 8: ``E`` must come out
bit-identical (reported as ``deterministic``).  Finally the kernel's compile time: a new process with an
empty ``NUMBA_CACHE_DIR`` times its first calls (cold), a second process with that cache again (warm).

Usage:  python benchmarks/bench_gemm.py [--quick] [--rounds N] [--json PATH]
or ``measure()`` from Python, which returns everything as a dict.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import numba  # noqa: E402
from numba import njit, prange  # noqa: E402

import simopt  # noqa: E402,F401  (configures simopt's Numba cache before the kernels load)
from simopt._kernels.gemm import ensure_callback, matmul_block_diagonal, matmul_rows  # noqa: E402

ensure_callback()
import bench_limits  # noqa: E402
from bench_limits import _Limit  # noqa: E402

THREADS = 2


def _blocks(d: int, size: int, rng):
    """Block-diagonal operands as the engine stores them: flat C-ordered blocks, offsets, bounds."""
    bounds = np.arange(0, d + 1, size, dtype=np.int64)
    sizes = np.diff(bounds)
    blocks = [rng.standard_normal((s, s)) / np.sqrt(s) for s in sizes]
    flat = np.concatenate([b.ravel() for b in blocks])
    offsets = np.concatenate([[0], np.cumsum(sizes ** 2)[:-1]]).astype(np.int64)
    return blocks, flat, offsets, bounds


def _blas_tiles(A, B, out, tile=8):
    for i in range(0, A.shape[0], tile):
        np.dot(A[i:i + tile], B, out=out[i:i + tile])


def _blas_blocks(A, blocks, bounds, out):
    for b, H in enumerate(blocks):
        s, e = bounds[b], bounds[b + 1]
        out[:, s:e] = np.dot(np.ascontiguousarray(A[:, s:e]), H)


def _blas_blocks_tiles(A, blocks, bounds, out, tile=8):
    for i in range(0, A.shape[0], tile):
        _blas_blocks(A[i:i + tile], blocks, bounds, out[i:i + tile])


def _time_calls(f, min_seconds: float) -> float:
    """Seconds per call: calls repeated until ``min_seconds`` have passed (at least one)."""
    n = 0
    t0 = time.perf_counter()
    while True:
        f()
        n += 1
        t = time.perf_counter() - t0
        if t >= min_seconds:
            return t / n


def single_products(rounds: int = 25, min_seconds: float = 0.01, quick: bool = False) -> dict:
    """GFLOP/s of one product, each way, for the dense and block-diagonal shapes (medians over rounds)."""
    rng = np.random.default_rng(0)
    d, size = (64, 16) if quick else (500, 100)
    shapes = []
    for n in (8, 32, 64):
        A = rng.standard_normal((n, d))
        H = rng.standard_normal((d, d)) / np.sqrt(d)
        out = np.empty((n, d))
        shapes.append((f"dense n={n} k=m={d}", 2.0 * n * d * d, {
            "simopt": lambda A=A, H=H, out=out: matmul_rows(A, H, out),
            "blas1": lambda A=A, H=H, out=out: np.dot(A, H, out=out),
            "blas1_tile8": lambda A=A, H=H, out=out: _blas_tiles(A, H, out),
            "blas2": lambda A=A, H=H, out=out: np.dot(A, H, out=out)}))
    blocks, flat, offsets, bounds = _blocks(d, size, rng)
    for n in (8, 64):
        A = rng.standard_normal((n, d))
        out = np.empty((n, d))
        shapes.append((f"blocks n={n} {d // size}x{size}", 2.0 * n * size * d, {
            "simopt": lambda A=A, out=out: matmul_block_diagonal(A, flat, offsets, bounds, out),
            "blas1": lambda A=A, out=out: _blas_blocks(A, blocks, bounds, out),
            "blas1_tile8": lambda A=A, out=out: _blas_blocks_tiles(A, blocks, bounds, out),
            "blas2": lambda A=A, out=out: _blas_blocks(A, blocks, bounds, out)}))
    for _, _, ways in shapes:          # compile and warm up every way once
        for f in ways.values():
            f()
    times = {label: {w: [] for w in ways} for label, _, ways in shapes}
    for _ in range(rounds):
        for label, _, ways in shapes:
            for way, f in ways.items():
                with _Limit(THREADS if way == "blas2" else 1):
                    times[label][way].append(_time_calls(f, min_seconds))
    res = {}
    for label, flop, ways in shapes:
        g = {w: flop / float(np.median(times[label][w])) / 1e9 for w in ways}
        best = {w: flop / float(np.min(times[label][w])) / 1e9 for w in ways}
        t = {w: np.array(v) for w, v in times[label].items()}
        res[label] = {"gflops": g, "gflops_best": best,
                      # rate ratios round by round (neighbours in time), then the median
                      "simopt_over_blas1": float(np.median(t["blas1"] / t["simopt"])),
                      "simopt_over_blas2": float(np.median(t["blas2"] / t["simopt"]))}
    return res


# ---- the engine's loop --------------------------------------------------------------------------
@njit(parallel=True, error_model="numpy")
def _loop_simopt(E, H, flat, offsets, bounds, blocky, lr, steps, tile):  # pragma: no cover - compiled
    R, d = E.shape
    for t in prange(R // tile):
        Et = E[t * tile:(t + 1) * tile]
        G = np.empty((tile, d))
        for _ in range(steps):
            if blocky:
                matmul_block_diagonal(Et, flat, offsets, bounds, G)
            else:
                matmul_rows(Et, H, G)
            for i in range(tile):
                for j in range(d):
                    Et[i, j] -= lr * G[i, j]


@njit(parallel=True, error_model="numpy")
def _loop_blas_tiles(E, H, blocks3, bounds, blocky, lr, steps, tile):  # pragma: no cover - compiled
    R, d = E.shape
    for t in prange(R // tile):
        Et = E[t * tile:(t + 1) * tile]
        G = np.empty((tile, d))
        for _ in range(steps):
            if blocky:
                for b in range(bounds.shape[0] - 1):
                    s, e = bounds[b], bounds[b + 1]
                    G[:, s:e] = np.dot(np.ascontiguousarray(Et[:, s:e]), blocks3[b])
            else:
                G[:, :] = np.dot(Et, H)
            for i in range(tile):
                for j in range(d):
                    Et[i, j] -= lr * G[i, j]


def _loop_numpy(E, H, blocks, bounds, blocky, lr, steps):
    G = np.empty_like(E)
    for _ in range(steps):
        if blocky:
            _blas_blocks(E, blocks, bounds, G)
        else:
            np.matmul(E, H, out=G)
        E -= lr * G


def engine_loop(runs: int = 64, steps: int = 1000, repeats: int = 7, quick: bool = False) -> dict:
    """GFLOP/s of the products in ``steps`` steps of E <- E - lr (E @ H) for ``runs`` runs, each way
    (medians over ``repeats``, ways interleaved), and whether simopt's result is the same for 1, 2 and 8
    tiles."""
    rng = np.random.default_rng(1)
    d, size = (64, 16) if quick else (500, 100)
    H = rng.standard_normal((d, d))
    H = H @ H.T / d  # positive semi-definite, spectral radius ~ 4
    blocks, flat, offsets, bounds = _blocks(d, size, rng)
    blocks = [b @ b.T for b in blocks]
    flat = np.concatenate([b.ravel() for b in blocks])
    blocks3 = np.ascontiguousarray(np.stack(blocks))
    lr = 0.05
    E0 = rng.standard_normal((runs, d))
    numba.set_num_threads(THREADS)
    res = {}
    for blocky, label in ((False, f"dense d={d}"), (True, f"blocks {d // size}x{size}")):
        flop = 2.0 * runs * d * (size if blocky else d) * steps
        ways = {
            "simopt_prange": lambda E: _loop_simopt(E, H, flat, offsets, bounds, blocky, lr, steps,
                                                    runs // THREADS),
            "blas_tile8_prange": lambda E: _loop_blas_tiles(E, H, blocks3, bounds, blocky, lr, steps, 8),
            "numpy_blas2": lambda E: _loop_numpy(E, H, blocks, bounds, blocky, lr, steps),
        }
        for way, f in ways.items():    # compile
            with _Limit(THREADS if way == "numpy_blas2" else 1):
                f(E0[:16].copy() if way != "simopt_prange" else E0.copy())
        times = {w: [] for w in ways}
        for _ in range(repeats):
            for way, f in ways.items():
                E = E0.copy()
                with _Limit(THREADS if way == "numpy_blas2" else 1):
                    t0 = time.perf_counter()
                    f(E)
                    times[way].append(time.perf_counter() - t0)
        g = {w: flop / float(np.median(t)) / 1e9 for w, t in times.items()}
        best = {w: flop / float(np.min(t)) / 1e9 for w, t in times.items()}
        results = []
        for tile, threads in ((runs, 1), (runs // THREADS, THREADS), (8, THREADS)):
            numba.set_num_threads(threads)
            E = E0.copy()
            _loop_simopt(E, H, flat, offsets, bounds, blocky, lr, steps, tile)
            results.append(E)
        numba.set_num_threads(THREADS)
        t = {w: np.array(v) for w, v in times.items()}
        res[label] = {"gflops": g, "gflops_best": best,
                      # time ratios repeat by repeat (neighbours in time), then the median
                      "simopt_time_over_numpy": float(np.median(t["simopt_prange"] / t["numpy_blas2"])),
                      "simopt_time_over_blas_tile8": float(np.median(t["simopt_prange"]
                                                                     / t["blas_tile8_prange"])),
                      "deterministic": all(np.array_equal(results[0], r) for r in results[1:]),
                      "finite": bool(np.isfinite(results[0]).all())}
    return res


# ---- compile time -------------------------------------------------------------------------------
_COMPILE_CHILD = """
import json, time
t0 = time.perf_counter()
import numpy as np
import simopt
from simopt._kernels import gemm
t1 = time.perf_counter()
A, B, out = np.ones((9, 20)), np.ones((20, 20)), np.empty((9, 20))
gemm.ensure_callback()
gemm.matmul_rows(A, B, out)
t2 = time.perf_counter()
gemm.matmul_block_diagonal(A, B.ravel()[:200], np.array([0, 100]), np.array([0, 10, 20]), out)
t3 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "matmul_rows_s": t2 - t1, "matmul_block_diagonal_s": t3 - t2}))
"""


def compile_time() -> dict:
    """First-call times in new processes: with an empty Numba cache (cold), then with the cache the
    first process wrote (warm)."""
    out = {}
    with tempfile.TemporaryDirectory(prefix="simopt-gemm-cache-") as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        for label in ("cold", "warm"):
            proc = subprocess.run([sys.executable, "-c", _COMPILE_CHILD], env=env, capture_output=True,
                                  text=True, timeout=600)
            if proc.returncode != 0:
                raise RuntimeError(f"compile-time child failed:\n{proc.stderr[-2000:]}")
            out[label] = json.loads(proc.stdout.strip().splitlines()[-1])
    return out


def measure(quick: bool = False, rounds: int = 25) -> dict:
    """Everything above as one dict: machine, single products, the engine loop, compile time."""
    from simopt._kernels import gemm
    res = {
        "quick": quick,
        "machine": {"cores": bench_limits.n_cores(), "blas": bench_limits.blas_info(),
                    "numba": numba.__version__, "vector_doubles": gemm.W, "tile_rows": gemm.MR,
                    "tile_columns": gemm.NR, "load_average_before": os.getloadavg()[0]},
        "single": single_products(rounds=2 if quick else rounds, min_seconds=0.002 if quick else 0.01,
                                  quick=quick),
        "loop": engine_loop(runs=16 if quick else 64, steps=5 if quick else 1000,
                            repeats=1 if quick else 7, quick=quick),
    }
    res["machine"]["load_average_after"] = os.getloadavg()[0]
    res["compile"] = compile_time()
    return res


def report(res: dict) -> str:
    """The results as text: each rate as median (best) GFLOP/s."""
    m = res["machine"]

    def pair(r, way):
        return f"{r['gflops'][way]:5.1f} ({r['gflops_best'][way]:4.1f})"

    L = [f"simopt GEMM benchmark{' (QUICK: tiny sizes, numbers meaningless)' if res['quick'] else ''}",
         f"cores {m['cores']}, numba {m['numba']}, vector {m['vector_doubles']} doubles, micro-tile "
         f"{m['tile_rows']} x {m['tile_columns']}, 1-min load average {m['load_average_before']:.1f} before, "
         f"{m['load_average_after']:.1f} after the timings",
         "BLAS: " + "; ".join(f"{b['internal_api']} {b['version']} {b['architecture']}"
                              for b in m["blas"]), "",
         "single product, GFLOP/s median (best)",
         f"  {'':24s} {'simopt':>12s} {'blas1':>12s} {'blas1_tile8':>12s} {'blas2':>12s}"
         "  rate simopt/blas1  simopt/blas2 (median of per-round ratios)"]
    for label, r in res["single"].items():
        L.append(f"  {label:24s} " + " ".join(f"{pair(r, w):>12s}" for w in ("simopt", "blas1", "blas1_tile8",
                                                                              "blas2"))
                 + f"  {r['simopt_over_blas1']:16.2f}  {r['simopt_over_blas2']:12.2f}")
    L += ["", f"engine loop E <- E - lr E@H, {THREADS} threads, GFLOP/s median (best)",
          f"  {'':16s} {'simopt_prange':>14s} {'blas_tile8_prange':>18s} {'numpy_blas2':>14s}"
          "  time simopt/numpy  simopt/blas_tile8  bit-identical for 1/2/8 tiles"]
    for label, r in res["loop"].items():
        L.append(f"  {label:16s} {pair(r, 'simopt_prange'):>14s} {pair(r, 'blas_tile8_prange'):>18s}"
                 f" {pair(r, 'numpy_blas2'):>14s}  {r['simopt_time_over_numpy']:17.2f}"
                 f"  {r['simopt_time_over_blas_tile8']:17.2f}  {r['deterministic']}")
    c = res["compile"]
    L += ["", "compile (new process), s   import  matmul_rows  matmul_block_diagonal"]
    for label in ("cold", "warm"):
        L.append(f"  {label + (' (empty cache)' if label == 'cold' else ' (from cache)'):24s} "
                 f"{c[label]['import_s']:7.2f} {c[label]['matmul_rows_s']:12.2f}"
                 f" {c[label]['matmul_block_diagonal_s']:14.2f}")
    return "\n".join(L)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="tiny sizes, one repeat (a smoke test)")
    ap.add_argument("--rounds", type=int, default=25, help="rounds of the single-product timings")
    ap.add_argument("--json", help="also write the results as JSON to this path")
    args = ap.parse_args(argv)
    res = measure(quick=args.quick, rounds=args.rounds)
    print(report(res))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
