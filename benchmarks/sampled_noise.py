"""What sampled-data gradient noise costs: SGD's time per step with minibatch least-squares gradients
(``simopt.noise.sampled_gaussian``, ``sampled_coordinates``, ``dataset``) against two references measured
interleaved in the same process, medians over ``--repeats``:

  x additive   the engine with the additive noise of the same covariance at the minimiser (the NQM's
               ``hessian_aligned(sigma, batch_size=B)`` for Gaussian features, ``gaussian`` with the
               per-coordinate standard deviations for the other two): what the state dependence costs;
  x numpy      a plain-NumPy transcription of the same sampler and SGD step, batched over the runs
               (``numpy.random.Generator``; the same distribution, not the same draws).  It does less than
               the engine: no true gradient H e, loss or divergence check per step (the engine's are a
               d x d product per run for dense problems), and its Gaussian features of all runs are one
               (runs B x d)(d x d) GEMM where the engine's sampler makes one (B x d)(d x d) product per run.

Each step draws B*d normals (Gaussian features), B uniforms (+ B normals with label noise) for one-hot
coordinates, or B uniforms and B rows for a dataset, per run.

    python benchmarks/sampled_noise.py [--runs 64] [--steps 200] [--repeats 5] [--quick]
"""
from __future__ import annotations

import argparse
import time

import numpy as np

SIGMA = 0.5
LR = 0.05


def cases(quick=False):
    """name -> (problem with sampled noise, additive reference problem)."""
    import simopt
    from simopt import noise, spectra
    d_g, d_c, n = (16, 64, 100) if quick else (256, 4096, 2000)
    out = {}
    for B in (1, 16):
        for rot in ("none", "haar"):
            p = simopt.gaussian_features(spectra.logspace(d_g, 1e-2, 1.0), rot, label_noise=SIGMA,
                                         batch_size=B, seed=0)
            out[f"gaussian {'diagonal' if rot == 'none' else 'dense'} d={d_g} B={B}"] = (
                p, p.with_noise(noise.hessian_aligned(SIGMA, batch_size=B)))
        z = simopt.zipf_bigram(d_c, 1.0, batch_size=B, label_noise=SIGMA)
        out[f"coordinates d={d_c} B={B}"] = (z, z.with_noise(noise.gaussian(
            np.sqrt(np.diag(z.noise.covariance(z, z.xstar)) * B), batch_size=B)))
        rng = np.random.default_rng(0)
        X = rng.standard_normal((n, 64))
        ls = simopt.least_squares(X, X @ rng.standard_normal(64) + SIGMA * rng.standard_normal(n),
                                  batch_size=B, x0=np.ones(64))
        out[f"dataset N={n} d=64 B={B}"] = (ls, ls.with_noise(noise.gaussian(
            np.sqrt(np.diag(ls.noise.covariance(ls, ls.xstar)) * B), batch_size=B)))
    return out


def numpy_sgd(p, runs, steps, rng):
    """Plain NumPy, batched over runs: the sampler of p's noise model and x <- x - lr g."""
    kind, fac = p.noise.factor(p)
    E = np.broadcast_to(p.x0 - p.xstar, (runs, p.dim)).copy()
    for _ in range(steps):
        if kind == "sampled_gaussian":
            fkind, F, B, s = fac
            Z = rng.standard_normal((runs, B, p.dim))
            A = Z * F if fkind == "scale" else Z @ F.T
            res = np.einsum("rbd,rd->rb", A, E) - s * rng.standard_normal((runs, B))
            G = np.einsum("rb,rbd->rd", res, A) / B
        elif kind == "coordinates":
            cdf, total, B, s = fac
            k = np.minimum(np.searchsorted(cdf, rng.random((runs, B)), side="right"), p.dim - 1)
            rows = np.repeat(np.arange(runs), B).reshape(runs, B)
            G = np.zeros_like(E)
            np.add.at(G, (rows, k), total * (E[rows, k] - s * rng.standard_normal((runs, B))) / B)
        else:
            X, r, B = fac
            i = rng.integers(X.shape[0], size=(runs, B))
            Xi = X[i]
            G = np.einsum("rb,rbd->rd", np.einsum("rbd,rd->rb", Xi, E) - r[i], Xi) / B
        E -= LR * G
    return E


def measure(runs, steps, repeats, quick=False):
    import simopt
    from simopt import optim
    from simopt._blas import one_thread
    opt = optim.sgd(LR)
    rng = np.random.default_rng(0)
    todo = cases(quick)
    for p, ref in todo.values():                      # compile / load outside the timing
        simopt.run(p, opt, 2, runs=runs)
        simopt.run(ref, opt, 2, runs=runs)
    times = {k: {"sampled": [], "additive": [], "numpy": []} for k in todo}
    for _ in range(repeats):
        for k, (p, ref) in todo.items():
            for label, fn in (("sampled", lambda: simopt.run(p, opt, steps, runs=runs, record_every=steps)),
                              ("additive", lambda: simopt.run(ref, opt, steps, runs=runs, record_every=steps)),
                              ("numpy", lambda: numpy_sgd(p, runs, steps, rng))):
                with one_thread():
                    t0 = time.perf_counter()
                    fn()
                    times[k][label].append(time.perf_counter() - t0)
    out = {}
    for k, t in times.items():
        med = {label: float(np.median(v)) for label, v in t.items()}
        out[k] = {"ms_per_step": 1e3 * med["sampled"] / steps, "vs_additive": med["sampled"] / med["additive"],
                  "vs_numpy": med["sampled"] / med["numpy"]}
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=64)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="tiny sizes, one repeat: numbers meaningless")
    a = ap.parse_args(argv)
    if a.quick:
        a.steps, a.repeats = 5, 1
    res = measure(a.runs, a.steps, a.repeats, a.quick)
    print(f"SGD with sampled-data noise, {a.runs} runs, {a.steps} steps, median of {a.repeats} "
          f"(simopt's threads; NumPy peer with one BLAS thread)")
    print(f"{'case':34s} {'ms/step':>9s} {'x additive':>11s} {'x numpy':>8s}")
    for k, v in res.items():
        print(f"{k:34s} {v['ms_per_step']:9.3f} {v['vs_additive']:11.2f} {v['vs_numpy']:8.3f}")


if __name__ == "__main__":
    main()
