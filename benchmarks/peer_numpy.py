"""Peer (i): plain NumPy, batched over the runs, as a competent user would write it.

The state of all runs is one (runs, d) array; each step computes the batch gradient (elementwise for
a diagonal Hessian, one (runs x d)(d x d) product for a dense one, one product per diagonal block),
draws the noise for all runs with one ``Generator.standard_normal`` fill, and applies the update with
in-place ufuncs (no temporaries in the loop).  The loss is recorded every ``record_every`` steps from
the true gradient of that step: f(x) - f* = 1/2 (x - x*)^T H (x - x*) = 1/2 <x - x*, grad>.

Update rules (torch.optim semantics):
  SGD   x <- x - lr g
  sign  x <- x - lr sign(g)
  Adam  m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2;
        x <- x - (lr / (1 - b1^t)) m / (sqrt(v) / sqrt(1 - b2^t) + eps)      (t = 1, 2, ...)
"""
from __future__ import annotations

import math

import numpy as np

NAME = "numpy"


def available() -> tuple[bool, str]:
    return True, f"numpy {np.__version__}"


def run(data, opt: str, hp: dict, steps: int, runs: int, seed: int, record_every: int) -> np.ndarray:
    """Run ``runs`` independent noisy runs for ``steps`` steps; returns the loss (runs, n_records)."""
    d = data.dim
    X = np.tile(data.x0, (runs, 1))
    xstar = data.xstar
    D = np.empty_like(X)
    G = np.empty_like(X)
    Z = np.empty_like(X) if data.sigma > 0 else None
    T = np.empty_like(X)
    rng = np.random.default_rng(seed)
    loss = np.empty((runs, steps // record_every + 1))
    if data.kind == "block":
        b = data.block_size
        slices = [slice(i * b, (i + 1) * b) for i in range(len(data.blocks))]
        mats = list(data.blocks)
    lr = hp["lr"]
    if opt == "adam":
        b1, b2 = hp["betas"]
        eps = hp["eps"]
        m = np.zeros_like(X)
        v = np.zeros_like(X)

    for t in range(steps + 1):
        np.subtract(X, xstar, out=D)
        if data.kind == "diagonal":
            np.multiply(D, data.diag, out=G)
        elif data.kind == "dense":
            np.matmul(D, data.hessian, out=G)
        else:
            for sl, Hb in zip(slices, mats):
                np.matmul(D[:, sl], Hb, out=G[:, sl])
        if t % record_every == 0:
            np.multiply(D, G, out=T)
            loss[:, t // record_every] = 0.5 * T.sum(axis=1)
        if t == steps:
            break
        if Z is not None:
            rng.standard_normal(out=Z)
            Z *= data.sigma
            G += Z
        if opt == "sgd":
            G *= lr
            X -= G
        elif opt == "sign":
            np.sign(G, out=G)
            G *= lr
            X -= G
        else:
            k = t + 1
            m *= b1
            np.multiply(G, 1.0 - b1, out=T)
            m += T
            v *= b2
            np.multiply(G, G, out=T)
            T *= 1.0 - b2
            v += T
            np.sqrt(v, out=T)
            T *= 1.0 / math.sqrt(1.0 - b2 ** k)
            T += eps
            np.divide(m, T, out=T)
            T *= lr / (1.0 - b1 ** k)
            X -= T
    return loss
