"""Nanoseconds per draw of simopt's in-kernel generator (``simopt._kernels.rng``) against NumPy's.

Single thread, all in one process, interleaved: every repeat times each method once (in a rotating
order), and the table gives the median over repeats of ns per sample, with the ratio to NumPy's
``Generator(SFC64)`` (NumPy's fastest bit generator here, which the 0.1.0 engine drew its noise from)
measured in the same run.

Methods, each drawing about ``samples`` numbers per timing:
  kernel rows d      the engine's pattern: ``TILE`` runs with a state each, and per step one
                     ``fill_normal(state[r], E[r])`` (or ``fill_t``) per run on its row of d values, called
                     from a compiled loop (per-call overhead included);
  kernel 2-d d       one ``fill_normal`` per run on a (steps, d) row-major block (the same numbers as the
                     row-by-row fills);
  numpy SFC64/PCG64  one Generator per run filling its (steps, d) block in one call, NumPy's best case:
                     ``standard_normal(out=block)``; for Student-t ``standard_t(df, size=block.shape)``
                     (NumPy's standard_t has no ``out``).

``python benchmarks/bench_rng.py [--samples N] [--repeats R] [--df DF]`` prints the table;
``measure(...)`` returns it as a dict.  ``normal_rate(threads, d)`` is the generator's throughput in the
engine's pattern on ``threads`` cores at once (each thread its own runs, the compiled loop without the
GIL), the figure the benchmark's limits table sets beside NumPy's (``bench_limits``).
"""
from __future__ import annotations

import argparse
import threading
import time
from functools import partial

import numpy as np
from numba import njit

from simopt._kernels import rng
from simopt.streams import stream_states

#: runs drawn side by side, as in one tile of the engine
TILE = 8
#: the row lengths d measured
DIMS = (100, 1000)

# The drivers are cached: Numba keys a function's cache on its own source file only, but importing simopt
# (above) points Numba's cache at a folder named by the digest of simopt's compiled sources
# (``simopt._cache``), so a change to the generator they inline lands in a fresh folder.


@njit(nogil=True, cache=True, error_model="numpy")
def _normal_rows(states, E, steps):
    for _ in range(steps):
        for r in range(E.shape[0]):
            rng.fill_normal(states[r], E[r])


@njit(cache=True, error_model="numpy")
def _t_rows(states, df, E, steps):
    for _ in range(steps):
        for r in range(E.shape[0]):
            rng.fill_t(states[r], df, E[r])


@njit(cache=True, error_model="numpy")
def _normal_blocks(states, B):
    for r in range(B.shape[0]):
        rng.fill_normal(states[r], B[r])


def _generators(name: str) -> list:
    """One NumPy Generator per run, seeded the way the engine seeds them."""
    bitgen = getattr(np.random, name)
    return [np.random.Generator(bitgen(np.random.SeedSequence(0, spawn_key=(r,)))) for r in range(TILE)]


def _numpy_normal(gens, B):
    for g, b in zip(gens, B):
        g.standard_normal(out=b)


def _numpy_t(gens, df, B):
    for g, b in zip(gens, B):
        b[...] = g.standard_t(df, size=b.shape)


def _methods(samples: int, df: float) -> dict:
    """name -> (law, d, zero-argument callable drawing ``n = TILE * steps * d`` numbers, n)."""
    out = {}
    for d in DIMS:
        steps = max(1, samples // (TILE * d))
        n = TILE * steps * d
        states = stream_states(0, 0, TILE)
        E = np.empty((TILE, d))
        B = np.empty((TILE, steps, d))
        gens = {name: _generators(name) for name in ("SFC64", "PCG64")}
        out[f"normal kernel rows d={d}"] = ("normal", d, partial(_normal_rows, states, E, steps), n)
        out[f"normal kernel 2-d d={d}"] = ("normal", d, partial(_normal_blocks, states, B), n)
        for name, g in gens.items():
            out[f"normal numpy {name} d={d}"] = ("normal", d, partial(_numpy_normal, g, B), n)
        out[f"t kernel rows d={d}"] = ("t", d, partial(_t_rows, states, df, E, steps), n)
        for name, g in gens.items():
            out[f"t numpy {name} d={d}"] = ("t", d, partial(_numpy_t, g, df, B), n)
    return out


def measure(samples: int = 1 << 20, repeats: int = 9, df: float = 3.0) -> dict:
    """Median ns per sample of every method (see the module docstring) and its ratio to NumPy SFC64 for
    the same law and d: ``{"ns": {name: ns}, "vs_sfc64": {name: ratio}, "config": {...}}``."""
    methods = _methods(samples, df)
    for _, _, call, _ in methods.values():      # compile and warm up
        call()
    names = list(methods)
    times = {k: [] for k in names}
    for rep in range(repeats):
        k = rep % len(names)
        for name in names[k:] + names[:k]:
            call, n = methods[name][2], methods[name][3]
            t0 = time.perf_counter()
            call()
            times[name].append((time.perf_counter() - t0) / n * 1e9)
    ns = {k: float(np.median(v)) for k, v in times.items()}
    ratio = {}
    for name, (kind, d, _, _) in methods.items():
        ratio[name] = ns[name] / ns[f"{kind} numpy SFC64 d={d}"]
    return {"ns": ns, "vs_sfc64": ratio,
            "config": {"samples": samples, "repeats": repeats, "df": df, "tile": TILE, "threads": 1}}


def normal_rate(threads: int = 1, d: int = 1000, seconds: float = 0.3, bursts: int = 3) -> float:
    """Standard normals per second of the in-kernel generator on ``threads`` threads at once, each
    drawing rows of ``d`` for its own ``TILE`` runs (one state per run, ``fill_normal`` per row, as the
    run loop does) for about ``seconds``; the best of ``bursts`` (the sustained rate a floor needs)."""
    states = [stream_states(0, i * TILE, TILE) for i in range(threads)]
    bufs = [np.empty((TILE, d)) for _ in range(threads)]
    _normal_rows(states[0], bufs[0], 1)                     # compile outside the timing
    t0 = time.perf_counter()
    _normal_rows(states[0], bufs[0], 4)
    steps = max(1, int(seconds / max((time.perf_counter() - t0) / 4, 1e-9)))
    best = 0.0
    for _ in range(bursts):
        barrier = threading.Barrier(threads + 1)

        def work(i):
            barrier.wait()
            _normal_rows(states[i], bufs[i], steps)

        ts = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
        for t in ts:
            t.start()
        barrier.wait()
        t0 = time.perf_counter()
        for t in ts:
            t.join()
        best = max(best, threads * steps * TILE * d / (time.perf_counter() - t0))
    return best


def table(res: dict) -> str:
    lines = [f"ns per draw, one thread, median of {res['config']['repeats']} interleaved repeats "
             f"(~{res['config']['samples']} draws each; Student-t df = {res['config']['df']})",
             f"{'method':<28} {'ns/draw':>8} {'/ SFC64':>8}"]
    for name, v in res["ns"].items():
        lines.append(f"{name:<28} {v:8.2f} {res['vs_sfc64'][name]:8.2f}")
    return "\n".join(lines)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=1 << 20, help="draws per timing (default 2**20)")
    ap.add_argument("--repeats", type=int, default=9, help="interleaved repeats (default 9)")
    ap.add_argument("--df", type=float, default=3.0, help="Student-t degrees of freedom (default 3)")
    a = ap.parse_args(argv)
    print(table(measure(a.samples, a.repeats, a.df)))


if __name__ == "__main__":
    main()
