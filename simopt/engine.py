"""``simopt.run``: many independent runs of one update rule on one problem, batched and compiled.

Determinism: run r draws its gradient noise from its own stream,
``Generator(SFC64(SeedSequence(seed, spawn_key=(first_run + r,))))`` — the r-th child of
``SeedSequence(seed).spawn(...)`` — so a run's numbers depend on (seed, run index) only: not on how many
runs share the call, how they are split across calls or workers, or how many threads run them (see
``simopt._kernels.engine_kernel`` for how the arithmetic is kept independent of those too).

Noise is drawn in bulk, ahead of the kernel, in chunks of steps, by one NumPy Generator per run filled in
parallel threads (bulk fills release the GIL); Numba's in-kernel ``np.random`` is several times slower per
sample and would tie the stream to the thread layout.  The bit generator is SFC64 (NumPy's small fast
chaotic generator, which passes the standard statistical batteries): drawing normals is most of a noisy
run's time, and SFC64 draws them about 25% faster than PCG64 here (benchmarks/RESULTS.md).
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np

from . import __version__
from ._kernels import engine_kernel as K
from ._validate import as_float_array, check_int, check_positive_scalar
from .optim.base import Optimizer
from .result import Result

RECORDABLE = ("x", "sharpness", "block_grad_norms")
_KINDS = {"diagonal": K.DIAGONAL, "block": K.BLOCK, "dense": K.DENSE}
_CHUNK_BYTES = 64 * 2 ** 20
_EMPTY1 = np.zeros(1)
_EMPTY2 = np.zeros((1, 1))
_EMPTY3 = np.zeros((1, 1, 1))
_EMPTYI = np.zeros(1, dtype=np.int64)


def _flat(mats):
    """Concatenate square matrices row-major; returns (flat, offsets)."""
    off = np.zeros(len(mats) + 1, dtype=np.int64)
    off[1:] = np.cumsum([m.size for m in mats])
    return np.concatenate([np.ascontiguousarray(m, dtype=np.float64).ravel() for m in mats]), off


def _problem_arrays(problem):
    kind = _KINDS[problem.kind]
    hdiag, Hmat, bflat, boff = _EMPTY1, _EMPTY2, _EMPTY1, _EMPTYI
    if kind == K.DIAGONAL:
        hdiag = np.ascontiguousarray(problem.diag, dtype=np.float64)
    elif kind == K.BLOCK:
        bflat, boff = _flat(problem.block_matrices)
    else:
        Hmat = np.ascontiguousarray(problem.hessian(), dtype=np.float64)
    return kind, hdiag, Hmat, bflat, boff


def _noise_arrays(problem):
    noise = problem.noise
    if noise is None:
        return K.NOISE_NONE, _EMPTY1, _EMPTY2, _EMPTY1, _EMPTYI
    how, a = noise.factor(problem)
    if how == "scale":
        return K.NOISE_SCALE, np.ascontiguousarray(a, dtype=np.float64), _EMPTY2, _EMPTY1, _EMPTYI
    if how == "matrix":  # the kernel computes Z_tile @ Amat, i.e. xi = A z with Amat = A^T
        return K.NOISE_MATRIX, _EMPTY1, np.ascontiguousarray(np.asarray(a).T), _EMPTY1, _EMPTYI
    if how == "blocks":
        flat, off = _flat([np.asarray(b).T for b in a])
        return K.NOISE_BLOCKS, _EMPTY1, _EMPTY2, flat, off
    raise ValueError(f"noise: unknown factor kind {how!r}")  # pragma: no cover


_BLAS = None     # one ThreadpoolController for the process: building one rescans the loaded libraries
_DRAW_POOL = None


def _blas_one_thread():
    """A context that pins BLAS to one thread (see ``simopt._kernels.engine_kernel``)."""
    global _BLAS
    if _BLAS is None:
        from threadpoolctl import ThreadpoolController
        _BLAS = ThreadpoolController()
    return _BLAS.limit(limits=1, user_api="blas")


def _draw_pool() -> ThreadPoolExecutor:
    """Threads that fill the runs' noise buffers (NumPy's bulk fills release the GIL)."""
    global _DRAW_POOL
    if _DRAW_POOL is None:
        _DRAW_POOL = ThreadPoolExecutor(max_workers=max(1, numba.get_num_threads()),
                                        thread_name_prefix="simopt-noise")
    return _DRAW_POOL


def run_generator(seed: int, run_index: int) -> np.random.Generator:
    """The noise stream of run ``run_index`` of a call with ``seed`` (the same whatever the batch)."""
    return np.random.Generator(np.random.SFC64(np.random.SeedSequence(seed, spawn_key=(run_index,))))


def record_steps(steps: int, record_every: int) -> np.ndarray:
    """Recorded step indices: 0, k, 2k, ... and always the final step."""
    s = np.arange(0, steps + 1, record_every, dtype=np.int64)
    return s if s[-1] == steps else np.append(s, steps)


def run(problem, optimizer, steps, runs=1, seed=0, record_every=1, record=(), x0=None,
        first_run=0, divergence_threshold=1e12, progress=False) -> Result:
    """Run ``optimizer`` on ``problem`` for ``steps`` steps, ``runs`` independent runs at once.

    Parameters
    ----------
    problem : simopt.Quadratic
    optimizer : a rule from ``simopt.optim``
    steps : int >= 1
        Number of updates; the loss is evaluated at steps 0..steps.
    runs : int >= 1
        Independent runs (they differ by their noise streams, and by ``x0`` if given per run).
    seed : int >= 0
        Seed of the runs' noise; the problem's own construction is seeded separately.
    record_every : int >= 1
        Record loss / gradient norm every this many steps (and always at the last step).
    record : iterable of {"x", "sharpness", "block_grad_norms"}
        Extra per-record quantities (see :class:`Result`).
    x0 : None, (d,) or (runs, d)
        Starting points; default the problem's ``x0`` for every run.
    first_run : int >= 0
        Index of the first run: ``run(..., runs=32, first_run=32)`` reproduces runs 32..63 of a 64-run call.
    divergence_threshold : float > 0
        A run whose loss is non-finite or exceeds this times its initial loss is stopped and flagged.
    progress : bool
        Show a progress bar over chunks of steps.
    """
    from .problems import Quadratic

    if not isinstance(problem, Quadratic):
        raise TypeError(f"problem: expected a simopt problem (simopt.quadratic, ...), got "
                        f"{type(problem).__name__}")
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"optimizer: expected a rule from simopt.optim, got {type(optimizer).__name__}")
    steps = check_int(steps, "steps", minimum=1)
    runs = check_int(runs, "runs", minimum=1)
    seed = check_int(seed, "seed", minimum=0)
    first_run = check_int(first_run, "first_run", minimum=0)
    record_every = check_int(record_every, "record_every", minimum=1)
    thresh = check_positive_scalar(divergence_threshold, "divergence_threshold")
    if isinstance(record, str):
        record = (record,)
    try:
        record = tuple(record)
    except TypeError:
        raise TypeError(f"record: expected a tuple of names from {RECORDABLE}, got {record!r}") from None
    bad = [r for r in record if r not in RECORDABLE]
    if bad:
        raise ValueError(f"record: unknown name(s) {bad}; expected names from {RECORDABLE}")

    d, nb = problem.dim, problem.n_blocks
    if x0 is None:
        X0 = np.broadcast_to(problem.x0, (runs, d))
    else:
        X0 = as_float_array(x0, "x0")
        if X0.shape not in ((d,), (runs, d)):
            raise ValueError(f"x0: expected shape ({d},) or ({runs}, {d}), got {X0.shape}")
        X0 = np.broadcast_to(X0, (runs, d))
    lrs = optimizer.lr_values(steps)
    if not (np.all(np.isfinite(lrs)) and np.all(lrs > 0)):
        raise ValueError("lr: the learning-rate schedule must give finite positive rates")
    hp = optimizer.kernel_params(problem)
    if not np.all(np.isfinite(hp)):
        raise ValueError(f"optimizer: non-finite hyperparameters for this problem: {hp}")

    kind, hdiag, Hmat, bflat, boff = _problem_arrays(problem)
    nkind, nscale, Amat, aflat, aoff = _noise_arrays(problem)
    blk = np.ascontiguousarray(problem.block_starts, dtype=np.int64)

    T = K.TILE
    Rp = -(-runs // T) * T
    E = np.zeros((Rp, d))
    E[:runs] = X0 - problem.xstar
    X0 = np.array(X0)
    state = np.zeros((Rp, max(1, optimizer.state_size(d, nb))))
    active = np.zeros(Rp, dtype=np.bool_)
    active[:runs] = True
    f0 = np.zeros(Rp)
    div_step = np.full(Rp, -1, dtype=np.int64)
    x_at_div = np.zeros((Rp, d))

    rsteps = record_steps(steps, record_every)
    n_rec = rsteps.size
    rec_pos = np.full(steps + 1, -1, dtype=np.int64)
    rec_pos[rsteps] = np.arange(n_rec)
    rec_loss = np.full((Rp, n_rec), np.inf)
    rec_gn = np.full((Rp, n_rec), np.inf)
    want_bgn, want_x, want_sharp = ("block_grad_norms" in record, "x" in record, "sharpness" in record)
    rec_bgn = np.full((Rp, n_rec, nb), np.inf) if want_bgn else _EMPTY3
    rec_x = np.full((Rp, n_rec, d), np.nan) if want_x else _EMPTY3
    rec_sharp = np.full((Rp, n_rec), np.nan) if want_sharp else _EMPTY2

    noisy = nkind != K.NOISE_NONE
    chunk = max(1, min(steps, _CHUNK_BYTES // (Rp * d * 8))) if noisy else steps
    Z = np.zeros((Rp, chunk, d)) if noisy else _EMPTY3
    if noisy:
        gens = [run_generator(seed, first_run + r) for r in range(runs)]
        pool = _draw_pool()
    starts = list(range(0, steps, chunk))
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=steps, unit="step", desc=f"{optimizer.name} x{runs}")
    try:
        with _blas_one_thread():
            for t0 in starts:
                k = min(chunk, steps - t0)
                if noisy:
                    view = Z[:, :k] if k == chunk else np.zeros((Rp, k, d))
                    list(pool.map(lambda r: problem.noise.draw(gens[r], view[r]), range(runs)))
                    Zc = view if view.flags.c_contiguous else np.ascontiguousarray(view)
                else:
                    Zc = Z
                K.run_chunk(kind, E, hdiag, Hmat, bflat, boff, blk,
                            nkind, Zc, nscale, Amat, aflat, aoff,
                            optimizer.code, hp, float(optimizer.clip_fraction), lrs, t0, k,
                            t0 + k == steps, state, active, f0, thresh, div_step, x_at_div,
                            rec_pos, rec_loss, rec_gn, rec_bgn, rec_x, rec_sharp,
                            want_bgn, want_x, want_sharp)
                if bar is not None:
                    bar.update(k)
    finally:
        if bar is not None:
            bar.close()

    sl = slice(0, runs)
    diverged = div_step[sl] >= 0
    x = E[sl] + problem.xstar
    x[diverged] = x_at_div[sl][diverged] + problem.xstar
    records = {}
    if want_x:
        records["x"] = rec_x[sl] + problem.xstar
    if want_sharp:
        records["sharpness"] = rec_sharp[sl]
    if want_bgn:
        records["block_grad_norms"] = rec_bgn[sl]
    meta = {
        "problem": problem.describe(), "optimizer": optimizer.describe(), "seed": seed,
        "steps": steps, "runs": runs, "first_run": first_run, "record_every": record_every,
        "divergence_threshold": thresh, "simopt": __version__,
    }
    return Result(steps=rsteps, loss=rec_loss[sl], grad_norm=rec_gn[sl], x=x, x0=X0,
                  f0=f0[sl].copy(), diverged=diverged, diverged_step=div_step[sl].copy(),
                  records=records, meta=meta)
