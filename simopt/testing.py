"""Tools for testing update rules: a rule's compiled step and its NumPy step on the same gradients.

``compiled_steps`` and ``reference_steps`` apply a rule to a given stream of gradients -- the compiled
step exactly as the run loop calls it (through its address, ``simopt._kernels.callrule``), the NumPy step
exactly as the engine's NumPy path does (``Optimizer.reference_step``) -- so a test can hold the two equal
without any problem dynamics in between::

    G = np.random.default_rng(0).standard_normal((steps, runs, 1, d))
    a = compiled_steps(opt, problem, G, x0)
    b = reference_steps(opt, problem, G, x0)
    np.testing.assert_allclose(a, b, rtol=1e-12)
"""
from __future__ import annotations

import numpy as np

from ._validate import as_float_array
from .optim.rule import Optimizer, matrix_shape, size_of

__all__ = ["compiled_steps", "reference_steps"]


def _inputs(optimizer, problem, grads, x0, hutchinson):
    from .problems import Quadratic
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
    from ._kernels import codegen
    from ._kernels.loop import apply_step
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
