"""Peer (ii): PyTorch on the CPU, batched tensors and ``torch.optim``, as a competent user would write it.

All runs are ONE parameter tensor of shape (runs, d).  torch.optim treats it as a single tensor, and
that is exactly right for elementwise rules: SGD, Adam (its m, v and step count are per element /
shared, and every run takes its t-th step together) and sign descent act coordinate by coordinate, so
one (runs, d) tensor gives the same numbers as ``runs`` separate optimizers, without a Python loop
over runs (one parameter per run measured 13-18 s on case A).  It would NOT be right for rules with a
global reduction over the parameter (e.g. norm-based clipping), which this benchmark does not time.

The gradient of the quadratic is written by hand (H (x - x*), plus sigma * randn), not through
autograd: nobody differentiates a quadratic through a tape when its gradient is one product.
SGD and Adam are ``torch.optim.SGD`` / ``torch.optim.Adam`` (``fused=True`` where this torch supports
it on the CPU: the fastest built-in path); torch has no sign-descent optimizer, so sign descent is
the in-place update ``x.add_(g.sign_(), alpha=-lr)``.

Threads: torch's default intra-op pool (one thread per core) is slow for tensors this small, badly so
when the cores are shared (its OpenMP workers spin at every op: a noise-free 400-step run measured
2.7 s with 2 threads vs 0.06 s with 1 on a loaded machine).  A user who measures would pick the
thread count, so the first (untimed) call for each (problem, optimizer) tries a short run (a fifth of
the steps, at most 200) with 1 thread and with all threads and keeps the faster; ``THREADS`` records the choice.
``$SIMOPT_BENCH_TORCH_THREADS`` fixes the count instead (``bench.py --quick`` sets it to 1: its numbers
mean nothing, and the trial would cost more than its runs).
"""
from __future__ import annotations

import os

import numpy as np

NAME = "torch"

try:  # optional: the benchmark skips this peer when torch is missing
    import torch
    DEFAULT_THREADS = torch.get_num_threads()
except ImportError:  # pragma: no cover - depends on the machine
    torch = None


#: chosen intra-op thread count per (kind, dim, noisy, optimizer)
THREADS: dict = {}


def available() -> tuple[bool, str]:
    if torch is None:
        return False, "torch not installed (pip install torch, CPU build)"
    fixed = os.environ.get("SIMOPT_BENCH_TORCH_THREADS")
    return True, (f"torch {torch.__version__} (threads: "
                  + (f"{fixed}, fixed" if fixed else
                     f"the faster of 1 and {DEFAULT_THREADS}, picked per case and optimizer") + ")")


def _optimizer(opt, param, hp):
    if opt == "sgd":
        make = lambda **kw: torch.optim.SGD([param], lr=hp["lr"], **kw)  # noqa: E731
    elif opt == "adam":
        make = lambda **kw: torch.optim.Adam([param], lr=hp["lr"], betas=hp["betas"],  # noqa: E731
                                             eps=hp["eps"], **kw)
    else:
        return None
    try:
        return make(fused=True)
    except (RuntimeError, ValueError, TypeError):
        return make()


def run(data, opt: str, hp: dict, steps: int, runs: int, seed: int, record_every: int) -> np.ndarray:
    key = (data.kind, data.dim, data.sigma > 0, opt)
    if key not in THREADS:
        fixed = os.environ.get("SIMOPT_BENCH_TORCH_THREADS")
        THREADS[key] = int(fixed) if fixed else _pick_threads(data, opt, hp, steps, runs, seed, record_every)
    torch.set_num_threads(THREADS[key])
    return _run(data, opt, hp, steps, runs, seed, record_every)


def _pick_threads(data, opt, hp, steps, runs, seed, record_every) -> int:
    import time
    # a fifth of the run, at most 20 records: 200 steps on the full cases, one record on the quick ones
    # (where a trial as long as the run would cost more than the run: 2 threads spin on a shared machine)
    trial = max(record_every, min(steps // 5, 20 * record_every) // record_every * record_every)
    best, best_t = 1, float("inf")
    for n in sorted({1, DEFAULT_THREADS}):
        torch.set_num_threads(n)
        _run(data, opt, hp, trial, runs, seed, record_every)  # warm the pool
        t0 = time.perf_counter()
        _run(data, opt, hp, trial, runs, seed, record_every)
        t = time.perf_counter() - t0
        if t < best_t:
            best, best_t = n, t
    return best


def _run(data, opt, hp, steps, runs, seed, record_every) -> np.ndarray:
    f64 = torch.float64
    param = torch.nn.Parameter(torch.from_numpy(np.tile(data.x0, (runs, 1))).to(f64))
    xstar = torch.from_numpy(data.xstar)
    D = torch.empty_like(param.data)
    G = torch.empty_like(param.data)
    Z = torch.empty_like(param.data)
    gen = torch.Generator().manual_seed(seed)
    loss = torch.empty((runs, steps // record_every + 1), dtype=f64)
    if data.kind == "diagonal":
        h = torch.from_numpy(data.diag)
    elif data.kind == "dense":
        H = torch.from_numpy(data.hessian)
    else:
        Hb = torch.from_numpy(data.blocks)             # (B, b, b)
        nb, b = Hb.shape[0], Hb.shape[1]
    optimizer = _optimizer(opt, param, hp)
    lr = hp["lr"]
    param.grad = G
    x = param.data
    with torch.no_grad():
        for t in range(steps + 1):
            torch.sub(x, xstar, out=D)
            if data.kind == "diagonal":
                torch.mul(D, h, out=G)
            elif data.kind == "dense":
                torch.mm(D, H, out=G)
            else:  # one batched product over the blocks: (B, runs, b) @ (B, b, b)
                G.view(runs, nb, b).copy_(
                    torch.bmm(D.view(runs, nb, b).transpose(0, 1), Hb).transpose(0, 1))
            if t % record_every == 0:
                loss[:, t // record_every] = 0.5 * torch.einsum("ri,ri->r", D, G)
            if t == steps:
                break
            if data.sigma > 0:
                torch.randn(Z.shape, generator=gen, out=Z, dtype=f64)
                G.add_(Z, alpha=data.sigma)
            if optimizer is not None:
                optimizer.step()
            else:
                x.add_(G.sign_(), alpha=-lr)
    return loss.numpy()
