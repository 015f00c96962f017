"""A rule's compiled step and its NumPy step on the same gradients, and how to compare them.

``compiled_steps`` and ``reference_steps`` apply a rule to a given stream of gradients -- the compiled
step exactly as the run loop calls it (through its address, ``simopt._kernels.callrule``), the NumPy step
exactly as the engine's NumPy path does (``Optimizer.reference_step``) -- so a test can hold the two equal
without any problem dynamics in between::

    G = np.random.default_rng(0).standard_normal((steps, runs, 1, d))
    a = compiled_steps(opt, problem, G, x0)
    b = reference_steps(opt, problem, G, x0)
    assert_close(a, b)                       # 1e-12 relative

``edge_streams`` gives the streams every rule must handle without a NaN (all-zero gradients, scales 1e-100
and 1e100 with exact zeros), ``stream_problem`` a problem to feed a stream to; ``relative_distance`` is
the relative error the parity tests use.
"""
from __future__ import annotations

import numpy as np

from .._validate import as_float_array
from ..optim.rule import Optimizer, matrix_shape, size_of

__all__ = ["compiled_steps", "reference_steps", "assert_close", "relative_distance", "edge_streams",
           "stream_problem"]


def _inputs(optimizer, problem, grads, x0, hutchinson):
    from ..problems import Quadratic
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"optimizer: expected a simopt.optim optimizer, got {type(optimizer).__name__}")
    if not isinstance(problem, Quadratic):
        raise TypeError(f"problem: expected a simopt problem, got {type(problem).__name__}")
    G = as_float_array(grads, "grads", finite=False)
    if G.ndim == 3:
        G = G[:, :, None, :]
    if G.ndim != 4 or G.shape[3] != problem.dim or G.shape[2] != optimizer.draws():
        raise ValueError(f"grads: expected shape (steps, runs, {optimizer.draws()}, {problem.dim}) "
                         f"(or without the draws axis when M = 1), got {np.shape(grads)}")
    steps, runs = G.shape[:2]
    X0 = np.broadcast_to(as_float_array(x0, "x0", finite=False), (runs, problem.dim)).copy()
    H = np.zeros((steps, runs, problem.dim)) if hutchinson is None else \
        as_float_array(hutchinson, "hutchinson", shape=(steps, runs, problem.dim))
    return G, X0, H


def compiled_steps(optimizer, problem, grads, x0, hutchinson=None) -> np.ndarray:
    """Iterates (steps + 1, runs, d), measured from x*, of the rule's compiled step fed ``grads``
    (steps, runs, M, d) from ``x0`` (runs, d) (also measured from x*)."""
    from .._kernels import codegen
    from .._kernels.loop import apply_step
    G, X, H = _inputs(optimizer, problem, grads, x0, hutchinson)
    steps, runs, M, d = G.shape
    mod = codegen.rule_module(optimizer)
    nb = problem.n_blocks
    state = np.zeros((runs, max(1, optimizer.state_size(d, nb))))
    work = np.empty(max(1, size_of(str(mod.WORK_SIZE), d, nb, M)))
    hp = optimizer.params(problem)
    blk = np.ascontiguousarray(problem.block_starts, dtype=np.int64)
    xs = np.ascontiguousarray(problem.xstar, dtype=np.float64)
    hd = np.ascontiguousarray(np.diag(problem.hessian()))
    lrs = optimizer.lr_values(steps)
    mshape = np.asarray(matrix_shape(problem), dtype=np.int64)
    out = [X.copy()]
    for t in range(steps):
        apply_step(mod.step_c.address, X, np.ascontiguousarray(G[t]), state, hp, blk, mshape, xs, hd,
                   np.ascontiguousarray(H[t]), work, t + 1, float(lrs[t]))
        out.append(X.copy())
    return np.stack(out)


def reference_steps(optimizer, problem, grads, x0, hutchinson=None) -> np.ndarray:
    """The same as :func:`compiled_steps` with the rule's NumPy step."""
    G, X, H = _inputs(optimizer, problem, grads, x0, hutchinson)
    steps, runs = G.shape[:2]
    state = optimizer.init_state(runs, problem)
    lrs = optimizer.lr_values(steps)
    out = [X.copy()]
    with np.errstate(all="ignore"):
        for t in range(steps):
            optimizer.reference_step(X, G[t].copy(), state, t + 1, float(lrs[t]), problem,
                                     hutchinson=H[t] if hutchinson is not None else None)
            out.append(X.copy())
    return np.stack(out)


def assert_close(actual, expected, rtol=1e-12):
    """``actual`` equals ``expected`` to ``rtol`` relative, each entry or, for entries near 0, relative to
    the largest finite magnitude of ``expected`` (iterates that pass through 0 are not judged on their
    last digits there); NaN equals NaN."""
    a, b = np.asarray(actual), np.asarray(expected)
    scale = np.max(np.abs(b[np.isfinite(b)]), initial=1.0)
    np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * scale, equal_nan=True)


def relative_distance(a, b) -> float:
    """``max |a - b| / max |b|``: a relative error that a coordinate crossing 0 does not inflate (NaN if
    either has a NaN)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


def edge_streams(d=5, runs=2, steps=6, draws=1, seed=99) -> list:
    """``[(G, X0), ...]``: gradient streams (steps, runs, d) -- (steps, runs, draws, d) for several draws --
    and starts (runs, d) at the edges every rule must handle without a NaN: all-zero gradients, and scales
    1e-100 and 1e100 with 30% exact zeros."""
    rng = np.random.default_rng(seed)
    shape = (steps, runs, d) if draws == 1 else (steps, runs, draws, d)
    base = rng.standard_normal(shape)
    base[rng.random(base.shape) < 0.3] = 0.0
    x0 = rng.standard_normal((runs, d))
    return [(np.zeros_like(base), x0), (1e-100 * base, 1e-100 * x0), (1e100 * base, 1e100 * x0)]


def stream_problem(sizes, seed=1):
    """A block-rotated problem with blocks of the given ``sizes`` (eigenvalues in [0.5, 50], fixed by the
    sizes), to feed a gradient stream to a rule: only its blocks, x*, diag(H) and curvature constants
    reach the steps."""
    from ..problems import block_diagonal
    rng = np.random.default_rng(len(sizes) * 7 + sum(sizes))
    blocks = [np.sort(rng.uniform(0.5, 50.0, s)) for s in sizes]
    return block_diagonal(blocks, rotation="block", seed=seed)
