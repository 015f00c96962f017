"""What determinism costs, measured in one run.

1. ``pin``: building dense problems (Haar and partial rotations, ``hessian_aligned`` noise factors)
   with BLAS pinned to one thread (``simopt._blas``, what simopt does) against the same construction
   with the pin disabled, interleaved in one process; medians.
2. ``portable``: one fixed workload (construction + ``simopt.run`` of SGD, Adam and sign descent on a
   dense d = 300 problem with noise) in a new process per environment variant: the machine's own
   kernels, ``OPENBLAS_CORETYPE=Haswell``, ``NUMBA_CPU_NAME=generic``, NumPy without its AVX-512
   dispatch (``NPY_DISABLE_CPU_FEATURES``), all three as an AVX2-only CPU would choose them,
   ``SIMOPT_PORTABLE=1``, and ``SIMOPT_PORTABLE=1`` started with the AVX2-only CPU's choices.  Each
   variant reports the SHA-256 of every result array (equal digests = bit-identical results) and the
   median run time.  (One machine can only emulate another CPU's *choices*; that the same choices
   give the same bits on another CPU is IEEE-754 arithmetic, not measured here.)

    python benchmarks/bench_determinism.py [--repeats 5] [--only pin|portable]

The first portable variant with ``NUMBA_CPU_NAME=generic`` compiles the kernels for that target
(a minute, once; Numba caches them per target).  Numbers go to stdout as a Markdown table.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

WORKLOAD = r"""
import simopt  # first: SIMOPT_PORTABLE acts before NumPy loads
import hashlib, json, os, sys, time
import numpy as np
from simopt import noise, optim, spectra
t0 = time.perf_counter()
p = simopt.quadratic(spectra.logspace(300, 1e-2, 1.0), rotation="haar", seed=3,
                     noise=noise.gaussian(0.01))
q = simopt.quadratic(spectra.logspace(300, 1e-2, 1.0), rotation=0.5, seed=4,
                     noise=noise.hessian_aligned(0.05))
t_build = time.perf_counter() - t0
arrays = [p.hessian(), q.hessian(), q.noise.factor(q)[1]]
times = []
for rep in range(int(sys.argv[1])):
    t = time.perf_counter()
    out = []
    for prob in (p, q):
        for opt in (optim.sgd(0.5, momentum=0.9), optim.adam(0.01), optim.sign(1e-3)):
            r = simopt.run(prob, opt, 300, runs=16, seed=7, record_every=10)
            out += [r.loss, r.grad_norm, r.x]
    times.append(time.perf_counter() - t)
arrays += out
from simopt._provenance import machine_type
mt = machine_type()
print(json.dumps({"digest": hashlib.sha256(b"".join(np.ascontiguousarray(a).tobytes()
                                                    for a in arrays)).hexdigest()[:16],
                  "run_s": sorted(times)[len(times) // 2], "build_s": t_build,
                  "blas": mt["blas"], "numba": mt["numba_cpu_name"],
                  "numpy_simd": mt["numpy_simd"]}))
"""

NO_AVX512 = "X86_V4 AVX512_ICL AVX512_SPR AVX512F AVX512CD AVX512_SKX AVX512_CLX AVX512_CNL"
#: what an AVX2-only CPU (no AVX-512) would choose by itself
AVX2_HOST = {"OPENBLAS_CORETYPE": "Haswell", "NUMBA_CPU_NAME": "haswell",
             "NPY_DISABLE_CPU_FEATURES": NO_AVX512}
VARIANTS = [
    ("this machine's kernels", {}),
    ("OPENBLAS_CORETYPE=Haswell", {"OPENBLAS_CORETYPE": "Haswell"}),
    ("NUMBA_CPU_NAME=generic", {"NUMBA_CPU_NAME": "generic"}),
    ("NumPy without AVX-512 dispatch", {"NPY_DISABLE_CPU_FEATURES": NO_AVX512}),
    ("as an AVX2-only CPU would run", AVX2_HOST),
    ("SIMOPT_PORTABLE=1", {"SIMOPT_PORTABLE": "1"}),
    ("SIMOPT_PORTABLE=1, as an AVX2-only CPU", dict(AVX2_HOST, SIMOPT_PORTABLE="1")),
]


def bench_pin(repeats: int):
    import simopt
    from simopt import _blas, noise, spectra
    from simopt._provenance import machine_type

    class _Off:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    on, off = _blas._ONE, _Off()

    def build(d):
        p = simopt.quadratic(spectra.logspace(d, 1e-2, 1.0), rotation="haar", seed=1,
                             noise=noise.hessian_aligned(0.1))
        q = simopt.quadratic(spectra.logspace(d, 1e-2, 1.0), rotation=0.5, seed=2)
        p.noise.factor(p)
        return q.hessian()

    rows = []
    for d in (100, 300, 1000):
        t = {"pinned": [], "unpinned": []}
        for _ in range(repeats):
            for name, ctx in (("pinned", on), ("unpinned", off)):
                _blas._ONE = ctx
                s = time.perf_counter()
                build(d)
                t[name].append(time.perf_counter() - s)
        _blas._ONE = on
        med = {k: statistics.median(v) for k, v in t.items()}
        rows.append((d, med["pinned"], med["unpinned"]))
    n = 20000
    s = time.perf_counter()
    for _ in range(n):
        with on:
            pass
    per_entry = (time.perf_counter() - s) / n
    print("## BLAS pinned to one thread during construction\n")
    print(f"BLAS: {'; '.join(machine_type()['blas'])}; "
          f"{os.cpu_count()} cpus; medians of {repeats}, interleaved\n")
    print("| d | pinned (s) | unpinned (s) | ratio |\n|---|---|---|---|")
    for d, a, b in rows:
        print(f"| {d} | {a:.4f} | {b:.4f} | {a / b:.2f} |")
    print(f"\none pin entry + exit: {per_entry * 1e6:.1f} µs\n", flush=True)


def bench_portable(repeats: int):
    base = {k: v for k, v in os.environ.items()
            if k not in ("OPENBLAS_CORETYPE", "NUMBA_CPU_NAME", "NUMBA_CPU_FEATURES",
                         "NPY_DISABLE_CPU_FEATURES", "SIMOPT_PORTABLE")}
    res = []
    for name, env in VARIANTS:
        r = subprocess.run([sys.executable, "-c", WORKLOAD, "1"], env=dict(base, **env),
                           capture_output=True, text=True)  # warm the variant's Numba cache
        if r.returncode != 0:
            print(f"{name}: failed\n{r.stderr}", file=sys.stderr)
            continue
        r = subprocess.run([sys.executable, "-c", WORKLOAD, str(repeats)], env=dict(base, **env),
                           capture_output=True, text=True, check=True)
        res.append((name, json.loads(r.stdout.strip().splitlines()[-1])))
    ref = res[0][1]
    print("## Results across CPU-dependent settings (one process per variant)\n")
    print("| variant | BLAS kernel | Numba target | NumPy SIMD | digest | same as this machine "
          "| run time / this machine's |\n|---|---|---|---|---|---|---|")
    for name, r in res:
        kern = ", ".join(sorted({b.split()[-1] for b in r["blas"]}))
        print(f"| {name} | {kern} | {r['numba']} | {' '.join(r['numpy_simd']) or 'baseline'} "
              f"| {r['digest']} | {'yes' if r['digest'] == ref['digest'] else 'no'} "
              f"| {r['run_s'] / ref['run_s']:.2f} |")
    print()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--only", choices=("pin", "portable"), default=None)
    args = ap.parse_args(argv)
    if args.only in (None, "pin"):
        bench_pin(args.repeats)
    if args.only in (None, "portable"):
        bench_portable(args.repeats)


if __name__ == "__main__":
    main()
