"""Sweep overhead: time a sweep spends beyond its cells' own compute (reported, not asserted).

Sweep: 200 cells, each one ``simopt.run`` of 4 runs x 200 steps on a d=50 problem (2 problems x
(SGD, Adam) x 5 learning rates x 10 seeds), loss recorded every 10 steps.

For each way of running it, ``W`` is the sweep's wall time (validation, hashing, execution, store
writes; from ``run_sweep`` call to return) and ``S`` the sum of the cells' own compute times, each
measured around the cell's work (build problem and optimizer, ``simopt.run``) inside the process that
ran it.  With ``N`` processes computing, the ideal is ``S / N`` and the overhead is
``(W - S/N) / (S/N)``: bookkeeping (serial), plus worker start-up and scheduling (pool, Dask).
``S`` and ``W`` come from the same run, so drifts in the machine's load affect both alike.

* serial: ``workers=1``, this process only.
* default: what ``simopt sweep run`` does without ``--workers`` (one worker per core, started only
  when the sweep is big enough to pay for them; otherwise this process alone).
* pool: ``workers=N`` local processes, always started.
* dask: a ``LocalCluster`` of N single-threaded worker processes, started for the sweep.

A plain Python loop over the same 200 ``simopt.run`` calls (nothing stored) is timed too, as a
second reference.  Usage:
    python benchmarks/sweep_overhead.py [--workers N] [--repeats R] [--no-dask] [--json PATH]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import tempfile
import time

SPEC = {
    "name": "overhead", "steps": 200, "runs": 4, "seeds": {"start": 0, "count": 10},
    "record_every": 10,
    "problems": [
        {"type": "quadratic", "eigvals": {"spectrum": "logspace", "d": 50, "low": 1e-3, "high": 1.0},
         "rotation": "haar", "noise": {"type": "gaussian", "scale": 1e-3}},
        {"type": "heterogeneous_blocks", "n_blocks": 5, "block_size": 10, "heterogeneity": 1.0,
         "condition_number": 100.0, "noise": {"type": "gaussian", "scale": 1e-3}},
    ],
    "optimizers": [{"name": "sgd", "lr": [0.01, 0.03, 0.1, 0.3, 1.0]},
                   {"name": "adam", "lr": [1e-3, 3e-3, 1e-2, 3e-2, 1e-1]}],
}


def plain_loop(spec):
    """The cells' work in a bare loop, nothing stored."""
    import simopt
    from simopt.sweep.spec import build_optimizer, build_problem
    t0 = time.perf_counter()
    for c in spec.cells:
        p = c.payload
        simopt.run(build_problem(p["problem"]), build_optimizer(p["optimizer"]), p["steps"],
                   runs=p["runs"], seed=p["seed"], record_every=p["record_every"])
    return time.perf_counter() - t0


def timed_sweep(**kw):
    """(wall, sum of cell times, processes that computed) of one fresh sweep of SPEC."""
    from simopt.sweep import Store, run_sweep
    out = tempfile.mkdtemp(prefix="simopt_overhead_")
    try:
        t0 = time.perf_counter()
        rep = run_sweep(SPEC, out, quiet=True, **kw)  # the raw dict: validation is part of it
        wall = time.perf_counter() - t0
        if rep.failed or len(rep.computed) != rep.total:
            errs = {Store(out).load_failure(h)["error"] for h in rep.failed}
            raise RuntimeError(f"{len(rep.failed)} of {rep.total} cells failed: {sorted(errs)}")
        ex = rep.executor
        if ex["executor"] == "dask":
            n = ex.get("workers") or os.cpu_count()
        elif ex.get("pool_started"):
            n = ex["workers"]
        else:
            n = 1
        return wall, rep.compute_time, n
    finally:
        shutil.rmtree(out, ignore_errors=True)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--repeats", type=int, default=3, help="best of R (lowest overhead) per mode")
    ap.add_argument("--no-dask", action="store_true")
    ap.add_argument("--json", default=None, help="also write the numbers to this JSON file")
    args = ap.parse_args(argv)

    from simopt.sweep import parse
    spec = parse(SPEC)
    n = len(spec.cells)
    plain_loop(parse(dict(SPEC, seeds=[0])))  # load the compiled kernels once
    modes = [("serial", {"workers": 1}), ("default", {}),
             ("pool", {"workers": args.workers})]
    if not args.no_dask:
        try:
            import distributed  # noqa: F401
            modes.append(("dask", {"dask": "local", "workers": args.workers}))
        except ImportError:
            print("(dask not installed: skipping the Dask measurement)")
    results = {name: [] for name, _ in modes}
    plain = []
    for _ in range(args.repeats):  # interleaved: slow drifts in the machine's load hit all modes
        plain.append(plain_loop(spec))
        for name, kw in modes:
            results[name].append(timed_sweep(**kw))

    def overhead(r):
        w, s, k = r
        return (w - s / k) / (s / k)

    res = {"cells": n, "repeats": args.repeats, "plain_loop_s": min(plain),
           "machine": platform.platform(), "cpus": os.cpu_count(), "loadavg": os.getloadavg()}
    print(f"sweep of {n} cells (d=50, 200 steps, 4 runs each); best of {args.repeats}; "
          f"load average {res['loadavg'][0]:.1f} on {os.cpu_count()} cpus")
    print(f"{'mode':10s} {'procs':>5s} {'wall W s':>9s} {'cells S s':>10s} {'(W-S/N)/(S/N)':>14s} "
          f"{'ms/cell':>8s}")
    print(f"{'plain':10s} {1:5d} {min(plain):9.3f} {'':>10s} {'':>14s} {1e3 * min(plain) / n:8.2f}")
    for name, _ in modes:
        w, s, k = min(results[name], key=overhead)
        o = overhead((w, s, k))
        res[name] = {"processes": k, "wall_s": w, "sum_cells_s": s, "overhead": o,
                     "all_overheads": [overhead(r) for r in results[name]]}
        print(f"{name:10s} {k:5d} {w:9.3f} {s:10.3f} {100 * o:13.1f}% {1e3 * w / n:8.2f}")
    print("W: sweep wall time; S: sum of the cells' own compute; N: processes that computed cells")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=1)
    return res


if __name__ == "__main__":
    main()
