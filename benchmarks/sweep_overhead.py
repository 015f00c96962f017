"""Sweep overhead: time a sweep spends beyond its cells' own compute (reported, not asserted).

Sweep: 200 cells, each one ``simopt.run`` of 4 runs x 200 steps on a d=50 problem (2 problems x
(SGD, Adam) x 5 learning rates x 10 seeds), loss recorded every 10 steps.

* plain loop: the same 200 (problem, optimizer, run) calls in a Python loop, nothing stored: the
  cells' own compute, ``C``.
* serial sweep (``workers=1``, in this process): wall ``W``; overhead ``(W - C) / C``.  This is the
  sweep machinery proper: spec validation and hashing, one .npz + one .json written atomically per
  cell, provenance.
* default (``simopt sweep run`` without ``--workers``): one worker per core, started only if the
  sweep is big enough to pay for them; overhead against ``C`` as for the serial sweep.
* pool / Dask sweeps with N workers: wall ``W_N`` against the ideal ``S / N`` where ``S`` is the sum
  of the cells' wall times measured inside the workers; overhead ``(W_N - S/N) / (S/N)``.  This adds
  worker start-up (each worker imports simopt and loads the compiled kernels) and scheduling.

Usage: python benchmarks/sweep_overhead.py [--workers N] [--repeats R] [--no-dask] [--json PATH]
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
    """The cells' own compute, without any sweep machinery."""
    import simopt
    from simopt.sweep.spec import build_optimizer, build_problem
    t0 = time.perf_counter()
    for c in spec.cells:
        p = c.payload
        simopt.run(build_problem(p["problem"]), build_optimizer(p["optimizer"]), p["steps"],
                   runs=p["runs"], seed=p["seed"], record_every=p["record_every"])
    return time.perf_counter() - t0


def timed_sweep(spec, **kw):
    from simopt.sweep import run_sweep
    out = tempfile.mkdtemp(prefix="simopt_overhead_")
    try:
        t0 = time.perf_counter()
        rep = run_sweep(spec, out, quiet=True, **kw)
        wall = time.perf_counter() - t0
        if rep.failed or len(rep.computed) != rep.total:
            from simopt.sweep import Store
            errs = {Store(out).load_failure(h)["error"] for h in rep.failed}
            raise RuntimeError(f"{len(rep.failed)} of {rep.total} cells failed: {sorted(errs)}")
        return wall, rep.compute_time
    finally:
        shutil.rmtree(out, ignore_errors=True)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--repeats", type=int, default=3, help="best of R for each measurement")
    ap.add_argument("--no-dask", action="store_true")
    ap.add_argument("--json", default=None, help="also write the numbers to this JSON file")
    args = ap.parse_args(argv)

    from simopt.sweep import parse
    spec = parse(SPEC)
    n = len(spec.cells)
    plain_loop(parse(dict(SPEC, seeds=[0])))  # compile / load the kernels once
    # interleaved repeats (the machine's load drifts): best of R for each
    Cs, serial = [], []
    for _ in range(args.repeats):
        Cs.append(plain_loop(spec))
        serial.append(timed_sweep(SPEC, workers=1))  # the raw dict: parsing is part of the sweep
    C = min(Cs)
    W, S = min(serial)
    rows = [("plain loop (own compute C)", C, None, None)]
    res = {"cells": n, "repeats": args.repeats, "plain_loop_s": C, "machine": platform.platform(),
           "cpus": os.cpu_count(), "loadavg": os.getloadavg()}
    rows.append(("serial sweep, in-process", W, S, (W - C) / C))
    res["serial"] = {"wall_s": W, "sum_cell_s": S, "overhead_vs_plain": (W - C) / C,
                     "bookkeeping_ms_per_cell": 1e3 * (W - S) / n}

    modes = [("default (no --workers)", {}), ("local pool", {"workers": args.workers})]
    if not args.no_dask:
        try:
            import distributed  # noqa: F401
            modes.append(("dask LocalCluster", {"dask": "local", "workers": args.workers}))
        except ImportError:
            print("(dask not installed: skipping the Dask measurement)")
    for name, kw in modes:
        W, S = min(timed_sweep(SPEC, **kw) for _ in range(args.repeats))
        if not kw:  # the default decides by itself; compare with the plain loop
            rows.append((name, W, S, (W - C) / C))
            res["default"] = {"wall_s": W, "sum_cell_s": S, "overhead_vs_plain": (W - C) / C}
            continue
        ideal = S / args.workers
        rows.append((f"{name}, {args.workers} workers", W, S, (W - ideal) / ideal))
        res[name.split()[0]] = {"workers": args.workers, "wall_s": W, "sum_cell_s": S,
                                "ideal_s": ideal, "overhead": (W - ideal) / ideal,
                                "speedup_vs_plain": C / W}

    print(f"sweep of {n} cells (d=50, 200 steps, 4 runs each); best of {args.repeats}")
    print(f"{'mode':34s} {'wall s':>8s} {'sum cells s':>12s} {'overhead':>9s}")
    for name, w, s, o in rows:
        print(f"{name:34s} {w:8.3f} {'' if s is None else f'{s:12.3f}':>12s} "
              f"{'' if o is None else f'{100 * o:8.1f}%':>9s}")
    print(f"serial bookkeeping (wall - sum of cells): {res['serial']['bookkeeping_ms_per_cell']:.2f} "
          f"ms per cell; load average {res['loadavg'][0]:.1f} on {os.cpu_count()} cpus")
    print("overhead: serial and default = (wall - plain loop) / plain loop; pool and Dask = "
          "(wall - S/N) / (S/N), S = sum of the cells' wall times inside the workers, N workers")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=1)
    return res


if __name__ == "__main__":
    main()
