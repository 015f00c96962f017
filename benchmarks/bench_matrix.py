"""Matrix problems: the engine's Kronecker gradient against the dense Hessian, and what the matrix rules
cost per step.

1. ``kron`` vs ``dense``: SGD on ``matrix_quadratic`` (gradient ``A E B``: two m x m / n x n products per
   run, kind ``"kron"``) and on the same problem as a dense vector quadratic with ``H = A (x) B`` (one
   d x d GEMM per run), noise-free and with ``hessian_aligned`` noise (``S_A Z S_B`` vs a dense factor);
   the ratio is kron time / dense time.
2. Per-step cost of Muon (NS5 and exact polar), two- and one-sided Shampoo and SOAP's 2-d form relative
   to Adam on the matrix problem.

Every configuration is timed interleaved with its reference in one process, ``--repeats`` times; medians.

    python benchmarks/bench_matrix.py [--shape 24 32] [--runs 8] [--steps 100] [--repeats 5]
"""
from __future__ import annotations

import argparse
import json
import time


def _twin(p, noise_model):
    import numpy as np
    from simopt.problems import Quadratic
    lam, Q = p.eigh()
    return Quadratic(kind="dense", sizes=p.block_sizes, lam=lam, rot=Q, x0=p.x0, xstar=p.xstar,
                     noise=noise_model, seed=p.seed, description={"constructor": "quadratic", "args": {}})


def _dense_factor_noise(p, scale):
    """A noise model with xi = F z, F = S_A (x) S_B^T: the dense form of hessian_aligned's S_A Z S_B."""
    from dataclasses import dataclass
    import numpy as np
    from simopt import noise

    @dataclass(frozen=True, eq=False)
    class Fixed(noise.Noise):
        F: np.ndarray = None

        def factor(self, problem):
            return "matrix", self.F

    _, (SA, SB) = p.noise_factor_sqrt_hessian(scale)
    return Fixed(distribution="normal", F=np.kron(SA, SB.T))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shape", type=int, nargs=2, default=(24, 32))
    ap.add_argument("--runs", type=int, default=8)
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--repeats", type=int, default=5)
    a = ap.parse_args(argv)
    import numpy as np
    import simopt
    from simopt import noise, optim, spectra
    m, n = a.shape
    base = simopt.matrix_quadratic(spectra.logspace(m, 1.0, 100.0), spectra.logspace(n, 1.0, 10.0),
                                   rotation_A="haar", rotation_B="haar", seed=0)
    cases = {"noise-free": (base, _twin(base, None)),
             "hessian_aligned": (base.with_noise(noise.hessian_aligned(0.1)),
                                 _twin(base, _dense_factor_noise(base, 0.1)))}
    lr = 0.5 / base.L
    rules = {"adam": optim.adam(1e-3), "muon": optim.muon(1e-3), "muon_exact": optim.muon(1e-3, polar="exact"),
             "shampoo": optim.shampoo(1e-3), "one_sided_shampoo": optim.one_sided_shampoo(1e-3),
             "soap": optim.soap(1e-3)}

    def timed(p, o):
        t0 = time.perf_counter()
        simopt.run(p, o, a.steps, runs=a.runs, record_every=a.steps)
        return time.perf_counter() - t0

    for p, v in cases.values():                      # compile / load outside the timing
        timed(p, optim.sgd(lr)), timed(v, optim.sgd(lr))
    for o in rules.values():
        timed(cases["noise-free"][0], o)
    times = {k: ([], []) for k in cases}
    rtimes = {k: [] for k in rules}
    for _ in range(a.repeats):
        for k, (p, v) in cases.items():
            times[k][0].append(timed(p, optim.sgd(lr)))
            times[k][1].append(timed(v, optim.sgd(lr)))
        for k, o in rules.items():
            rtimes[k].append(timed(cases["noise-free"][0], o))
    per = a.runs * a.steps
    out = {"shape": [m, n], "d": m * n, "runs": a.runs, "steps": a.steps, "repeats": a.repeats,
           "sgd": {k: {"kron_us_per_run_step": 1e6 * float(np.median(kt)) / per,
                       "dense_us_per_run_step": 1e6 * float(np.median(dt)) / per,
                       "kron_over_dense": float(np.median(kt)) / float(np.median(dt))}
                   for k, (kt, dt) in times.items()},
           "rules": {k: {"us_per_run_step": 1e6 * float(np.median(t)) / per,
                         "vs_adam": float(np.median(t)) / float(np.median(rtimes["adam"]))}
                     for k, t in rtimes.items()}}
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
