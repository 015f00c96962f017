"""simopt's Numba compile time, measured apart from the run times.

Each measurement is a NEW Python process with ``NUMBA_CACHE_DIR`` pointing at a private temporary
directory: first with the directory empty (cold: everything is compiled), then again with the cache the
first process left (warm: kernels are loaded from Numba's on-disk cache).  In the child, every
(problem kind x noise x optimizer) combination the benchmark times is run twice on a tiny problem;
compile (or cache-load) time = first call - second call, summed.  ``import simopt`` is timed too.

Run as a script (``python bench_compile.py --child``) it is that child and prints one JSON line.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time

KINDS = ("diagonal", "dense", "block")


def _child(runs: int, optimizers: list[str]) -> dict:
    t0 = time.perf_counter()
    import simopt
    t_import = time.perf_counter() - t0
    out = {"import_s": t_import, "calls": {}}
    opts = {"sgd": lambda: simopt.optim.sgd(0.5), "sign": lambda: simopt.optim.sign(1e-3),
            "adam": lambda: simopt.optim.adam(1e-3)}
    total = 0.0
    for kind in KINDS:
        for noisy in (True, False):
            noise = simopt.noise.gaussian(0.1) if noisy else None
            if kind == "diagonal":
                p = simopt.quadratic(simopt.spectra.logspace(8, 0.1, 1.0), noise=noise, seed=0)
            elif kind == "dense":
                p = simopt.quadratic(simopt.spectra.logspace(8, 0.1, 1.0), rotation="haar",
                                     noise=noise, seed=0)
            else:
                p = simopt.heterogeneous_blocks(2, 4, 1.0, condition_number=10.0, rotation="block",
                                                noise=noise, seed=0)
            for name in optimizers:
                t0 = time.perf_counter()
                simopt.run(p, opts[name](), 20, runs=runs, seed=0, record_every=10)
                t1 = time.perf_counter()
                simopt.run(p, opts[name](), 20, runs=runs, seed=0, record_every=10)
                t2 = time.perf_counter()
                c = max(0.0, (t1 - t0) - (t2 - t1))
                out["calls"][f"{kind}/{'noisy' if noisy else 'noise-free'}/{name}"] = c
                total += c
    out["total_s"] = total
    return out


def _spawn(cache_dir: str, runs: int, optimizers, timeout: float) -> dict:
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir)
    cmd = [sys.executable, os.path.abspath(__file__), "--child", str(runs), ",".join(optimizers)]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"compile-time child failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    res["process_wall_s"] = wall
    return res


def measure(runs: int, optimizers, timeout: float = 1800.0) -> dict:
    """Cold (empty cache) and warm (cache from the cold process) compile times, each a new process."""
    with tempfile.TemporaryDirectory(prefix="simopt-numba-cache-") as d:
        cold = _spawn(d, runs, optimizers, timeout)
        warm = _spawn(d, runs, optimizers, timeout)
    return {"cold": cold, "warm": warm}


if __name__ == "__main__":
    if len(sys.argv) >= 4 and sys.argv[1] == "--child":
        print(json.dumps(_child(int(sys.argv[2]), sys.argv[3].split(","))))
    else:
        print(json.dumps(measure(64, ["sgd", "sign", "adam"]), indent=1))
