"""What each built-in update rule costs: time per step relative to Adam, and its first-call compile time.

Per-step cost: every rule of ``simopt.optim.REGISTRY`` (wrappers excepted) runs on the same noisy dense
problem (d, runs and steps below), interleaved with the others in one process, ``--repeats`` times; the
median time per step is reported with its ratio to Adam's.  Compile time: a new Python process with an
empty private cache builds every rule's compiled glue (cold: compiled), then a second process with that
cache (warm: loaded from Numba's cache).

    python benchmarks/rule_costs.py [--d 64] [--runs 64] [--steps 200] [--repeats 5] [--no-compile]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

#: values for hyperparameters a rule requires (no default)
REQUIRED = {"workers": 3}


def optimizers(lr=1e-3):
    """name -> optimizer for every built-in rule, with its defaults."""
    from simopt import optim
    out = {}
    for name in sorted(optim.REGISTRY):
        if name in ("clipped",):
            continue
        sig = optim.signature(optim.REGISTRY[name])
        kw = {k: REQUIRED[k] for k, p in sig.parameters.items()
              if p.default is p.empty and k != "lr" and k in REQUIRED}
        out[name] = optim.make(name, **({"lr": lr} if "lr" in sig.parameters else {}), **kw)
    return out


def step_costs(d, runs, steps, repeats):
    import numpy as np
    import simopt
    p = simopt.quadratic(simopt.spectra.logspace(d, 1.0, 100.0), rotation="haar",
                         noise=simopt.noise.gaussian(0.01), seed=0)
    opts = optimizers()
    for o in opts.values():                       # compile / load outside the timing
        simopt.run(p, o, 2, runs=runs)
    times = {k: [] for k in opts}
    for _ in range(repeats):
        for k, o in opts.items():
            t0 = time.perf_counter()
            simopt.run(p, o, steps, runs=runs, record_every=steps)
            times[k].append(time.perf_counter() - t0)
    ref = float(np.median(times["adam"]))
    return {k: {"ms_per_step": 1e3 * float(np.median(v)) / steps, "vs_adam": float(np.median(v)) / ref}
            for k, v in times.items()}


_CHILD = """
import json, time
from simopt._kernels import codegen
import rule_costs
out = {}
for name, opt in rule_costs.optimizers().items():
    t0 = time.perf_counter()
    codegen.rule_module(opt)
    out[name] = time.perf_counter() - t0
print(json.dumps(out))
"""


def compile_times():
    here = os.path.dirname(os.path.abspath(__file__))
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, SIMOPT_CACHE_DIR=cache, PYTHONPATH=here + os.pathsep + os.environ.get("PYTHONPATH", ""))
        env.pop("NUMBA_CACHE_DIR", None)
        out = {}
        for label in ("cold", "warm"):
            r = subprocess.run([sys.executable, "-c", _CHILD], env=env, capture_output=True, text=True,
                               check=True)
            out[label] = json.loads(r.stdout.strip().splitlines()[-1])
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--d", type=int, default=64)
    ap.add_argument("--runs", type=int, default=64)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--no-compile", action="store_true", help="skip the cold/warm compile measurement")
    a = ap.parse_args(argv)
    costs = step_costs(a.d, a.runs, a.steps, a.repeats)
    comp = None if a.no_compile else compile_times()
    print(f"dense noisy quadratic, d = {a.d}, {a.runs} runs, {a.steps} steps, median of {a.repeats}")
    print(f"{'rule':22s} {'ms/step':>9s} {'x adam':>8s}" + ("" if comp is None else f" {'cold s':>8s} {'warm s':>8s}"))
    for k, v in sorted(costs.items(), key=lambda kv: kv[1]["vs_adam"]):
        line = f"{k:22s} {v['ms_per_step']:9.3f} {v['vs_adam']:8.2f}"
        if comp is not None:
            line += f" {comp['cold'][k]:8.2f} {comp['warm'][k]:8.2f}"
        print(line)


if __name__ == "__main__":
    main()
