"""Helpers of the update-rule tests.  Mainly: run another library's optimizer on a given float64 gradient
stream, or on a simopt problem, so a test can hold simopt's rule equal to it (parity tests).

``torch_iterates(make, G, x0)``: ``make(params)`` builds a ``torch.optim.Optimizer`` on one float64
parameter started at ``x0``; each step sets ``p.grad`` to the next row of ``G`` and calls ``step()``.
``optax_iterates(tx, G, x0)`` does the same with an optax transformation in float64.  Both return the
iterates (steps + 1, d), the start included -- the layout of ``simopt.testing.compiled_steps`` for one
run.  ``torch_on_problem`` feeds the optimizer the exact gradient of a noise-free simopt problem at the
point it holds, for end-to-end checks against ``simopt.run``.
"""
import numpy as np
import pytest


def _torch():
    return pytest.importorskip("torch")


def torch_iterates(make, G, x0, read=None):
    """Iterates of a torch optimizer fed the rows of ``G``; ``read(opt, p)`` returns the point to record
    (default the parameter itself)."""
    torch = _torch()
    p = torch.nn.Parameter(torch.tensor(np.asarray(x0, dtype=np.float64)))
    opt = make([p])
    read = read or (lambda o, q: q.detach().numpy().copy())
    out = [np.asarray(x0, dtype=np.float64).copy()]
    for g in np.asarray(G, dtype=np.float64):
        p.grad = torch.tensor(g.copy())        # a fresh tensor: some optimizers change p.grad in place
        opt.step()
        out.append(np.asarray(read(opt, p), dtype=np.float64).copy())
    return np.stack(out)


def torch_on_problem(make, problem, steps, read=None):
    """Iterates of a torch optimizer on ``problem`` (noise-free) from its ``x0``: the gradient is the
    problem's exact gradient at the parameter."""
    torch = _torch()
    p = torch.nn.Parameter(torch.tensor(np.array(problem.x0, dtype=np.float64)))
    opt = make([p])
    read = read or (lambda o, q: q.detach().numpy().copy())
    out = [np.array(problem.x0, dtype=np.float64)]
    for _ in range(steps):
        p.grad = torch.tensor(problem.grad(p.detach().numpy().copy()))
        opt.step()
        out.append(np.asarray(read(opt, p), dtype=np.float64).copy())
    return np.stack(out)


def optax_iterates(tx, G, x0):
    """Iterates of an optax transformation (float64) fed the rows of ``G``."""
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    optax = pytest.importorskip("optax")
    import jax.numpy as jnp
    params = jnp.asarray(np.asarray(x0, dtype=np.float64))
    state = tx.init(params)
    update = jax.jit(tx.update)
    out = [np.asarray(params).copy()]
    for g in np.asarray(G, dtype=np.float64):
        updates, state = update(jnp.asarray(g), state, params)
        params = optax.apply_updates(params, updates)
        out.append(np.asarray(params).copy())
    return np.stack(out)


def stream(d=6, steps=50, seed=0, zeros=0.0, scale=1.0):
    """A gradient stream (steps, d) and a start (d,), float64, optionally with exact zeros."""
    rng = np.random.default_rng(seed)
    G = rng.standard_normal((steps, d)) * scale
    if zeros:
        G[rng.random((steps, d)) < zeros] = 0.0
    return G, rng.standard_normal(d)


def rel_err(a, b):
    """max |a - b| / max |b| (a relative error that a coordinate crossing 0 does not inflate)."""
    a, b = np.asarray(a), np.asarray(b)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))



def before_divergence(*trajectories, factor=1e6):
    """The steps (a prefix) at which no run of any of the trajectories (steps + 1, runs, d) has left
    ``factor`` times its starting distance from x* -- as the engine would see them: it stops a run whose
    loss exceeds 1e12 times its start, a factor 1e6 in distance.  Returns the trajectories cut there."""
    X = np.stack([np.asarray(t) for t in trajectories])
    start = np.max(np.abs(X[:, 0]), axis=-1, keepdims=True)
    with np.errstate(invalid="ignore"):
        ok = np.all(np.abs(X) <= factor * start[:, None] + 1e-300, axis=-1)   # NaN counts as left
    good = np.all(ok, axis=(0, 2))
    stop = int(np.argmin(good)) if not np.all(good) else X.shape[1]
    return tuple(t[:stop + 1] for t in trajectories) if stop < X.shape[1] else trajectories


def edge_streams(d=5, runs=2, steps=6):
    """Gradient streams (steps, runs, d) with starts (runs, d) at the edges every rule must handle without
    a NaN: all-zero gradients, and scales 1e-100 and 1e100 with exact zeros mixed in."""
    rng = np.random.default_rng(99)
    base = rng.standard_normal((steps, runs, d))
    base[rng.random(base.shape) < 0.3] = 0.0
    x0 = rng.standard_normal((runs, d))
    return [(np.zeros_like(base), x0), (1e-100 * base, 1e-100 * x0), (1e100 * base, 1e100 * x0)]
