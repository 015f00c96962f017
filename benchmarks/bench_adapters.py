"""What running a torch / optax optimizer through simopt's adapters costs (reported, not asserted).

One problem (a rotated dense quadratic with Gaussian gradient noise), Adam, ``runs`` runs x ``steps``
steps, timed in one process, interleaved, each way warmed up once (JIT, Numba cache), medians of
``--repeats``:

* ``simopt adam``: simopt's compiled rule (the reference for what simopt itself costs);
* ``from_torch(Adam)``: ``simopt.run`` with one ``torch.optim.Adam`` per run (the adapter);
* ``torch, one optimizer per run``: the loop a user writes to get the same per-run semantics by hand --
  NumPy gradients and noise, one Adam per run's float64 tensor;
* ``torch, one batched tensor``: one ``(runs, d)`` tensor and one Adam, gradients and noise in torch --
  the fastest torch loop, valid only for optimizers whose statistics are elementwise (not LAMB,
  Prodigy, ...);
* ``from_optax(adam)``: ``simopt.run`` with the vmapped optax adapter;
* ``optax, jit(vmap) step``: the same jitted vmapped step called from a Python loop with NumPy gradients;
* ``optax, lax.scan``: the whole run in one jitted ``lax.scan`` with ``jax.random`` noise (the fastest
  JAX loop).

The numbers show where an adapter's time goes: the library's own per-step cost (torch's optimizer step
is ~100 us per call; one per run), plus the engine's per-step gradient and bookkeeping.  Usage:
    python benchmarks/bench_adapters.py [--d 100] [--runs 16] [--steps 200] [--repeats 5]
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import simopt
from simopt import noise, optim, spectra

LR = 1e-2
SIGMA = 0.1


def _problem(d):
    return simopt.quadratic(spectra.logspace(d, 1e-2, 1.0), rotation="haar", noise=noise.gaussian(SIGMA),
                            seed=0)


def torch_ways(p, runs, steps):
    try:
        import torch
    except ImportError:
        return {}
    torch.set_num_threads(1)       # as simopt's BLAS; torch's pool spins on a loaded 2-core machine
    H = p.hessian()
    E0 = np.broadcast_to(p.x0 - p.xstar, (runs, p.dim)).copy()
    rule = optim.from_torch(torch.optim.Adam)

    def adapter():
        simopt.run(p, rule(LR), steps, runs=runs, seed=0, record_every=steps)

    def per_run():
        rng = np.random.default_rng(0)
        params = [torch.nn.Parameter(torch.tensor(e)) for e in E0]
        opts = [torch.optim.Adam([q], lr=LR) for q in params]
        E = E0.copy()
        for _ in range(steps):
            G = E @ H + SIGMA * rng.standard_normal(E.shape)
            for r, (q, o) in enumerate(zip(params, opts)):
                q.grad = torch.from_numpy(G[r])
                o.step()
                E[r] = q.detach().numpy()

    def batched():
        gen = torch.Generator().manual_seed(0)
        Ht = torch.tensor(H)
        q = torch.nn.Parameter(torch.tensor(E0))
        o = torch.optim.Adam([q], lr=LR)
        for _ in range(steps):
            with torch.no_grad():
                q.grad = q @ Ht + SIGMA * torch.randn(q.shape, generator=gen, dtype=torch.float64)
            o.step()

    return {"from_torch(Adam)": adapter, "torch, one optimizer per run": per_run,
            "torch, one batched tensor": batched}


def optax_ways(p, runs, steps):
    try:
        import jax
        import optax
    except ImportError:
        return {}
    H = p.hessian()
    E0 = np.broadcast_to(p.x0 - p.xstar, (runs, p.dim)).copy()
    rule = optim.from_optax(optax.adam)
    tx = optax.adam(LR)
    jnp = jax.numpy

    def adapter():
        simopt.run(p, rule(LR), steps, runs=runs, seed=0, record_every=steps)

    with jax.enable_x64(True):
        def one(state, g, x):
            u, state = tx.update(g, state, x)
            return optax.apply_updates(x, u), state
        step = jax.jit(jax.vmap(one))
        init = jax.jit(jax.vmap(tx.init))
        Hj = jnp.asarray(H)

        @jax.jit
        def scanned(x, key):
            def body(carry, k):
                x, s = carry
                g = x @ Hj + SIGMA * jax.random.normal(k, x.shape, dtype=jnp.float64)
                x, s = jax.vmap(one)(s, g, x)
                return (x, s), None
            (x, _), _ = jax.lax.scan(body, (x, jax.vmap(tx.init)(x)), jax.random.split(key, steps))
            return x

    def python_loop():
        with jax.enable_x64(True):
            rng = np.random.default_rng(0)
            E = E0.copy()
            s = init(jnp.asarray(E))
            for _ in range(steps):
                G = E @ H + SIGMA * rng.standard_normal(E.shape)
                xn, s = step(s, jnp.asarray(G), jnp.asarray(E))
                E = np.array(xn)

    def scan():
        with jax.enable_x64(True):
            scanned(jnp.asarray(E0), jax.random.PRNGKey(0)).block_until_ready()

    return {"from_optax(adam)": adapter, "optax, jit(vmap) step": python_loop, "optax, lax.scan": scan}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--d", type=int, default=100)
    ap.add_argument("--runs", type=int, default=16)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--repeats", type=int, default=5)
    a = ap.parse_args(argv)
    p = _problem(a.d)

    def native():
        simopt.run(p, optim.adam(LR), a.steps, runs=a.runs, seed=0, record_every=a.steps)

    ways = {"simopt adam": native, **torch_ways(p, a.runs, a.steps), **optax_ways(p, a.runs, a.steps)}
    for f in ways.values():
        f()                                   # warm-up: JIT, Numba cache, torch/jax initialisation
    times = {k: [] for k in ways}
    for _ in range(a.repeats):
        for k, f in ways.items():             # interleaved, so drifts in the machine's load hit all alike
            t0 = time.perf_counter()
            f()
            times[k].append(time.perf_counter() - t0)
    med = {k: statistics.median(v) for k, v in times.items()}
    ref = {"from_torch(Adam)": "torch, one optimizer per run", "from_optax(adam)": "optax, jit(vmap) step"}
    print(f"d={a.d}, runs={a.runs}, steps={a.steps}, Adam, median of {a.repeats} (interleaved)\n")
    print("| way | ms per run call | us per step | vs the hand loop |")
    print("|---|---|---|---|")
    for k, s in med.items():
        vs = f"{s / med[ref[k]]:.2f}x" if k in ref and ref[k] in med else ""
        print(f"| {k} | {1e3 * s:.1f} | {1e6 * s / a.steps:.0f} | {vs} |")


if __name__ == "__main__":
    main()
