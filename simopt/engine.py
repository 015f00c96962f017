"""``simopt.run``: many independent runs of one update rule on one problem, batched and compiled.

Determinism: run r draws its gradient noise inside the compiled loop from its own xoshiro256++ stream,
seeded from ``SeedSequence(seed, spawn_key=(first_run + r,))`` -- the r-th child of
``SeedSequence(seed)`` -- so a run's numbers depend on (seed, run index) only: not on how many runs share
the call, how they are split across calls or workers, or how many threads run them (see
``simopt._kernels.tiles`` for how the arithmetic is kept independent of those too).  Rule-owned
randomness (the Hutchinson probe) comes from a second stream per run, ``spawn_key=(run, 1)``, so it never
shifts the noise another rule sees on the same seed: two rules run with the same seed see the same noise.

The loop is generic over the rule: each rule gets a generated, cached loop module
(``simopt._kernels.codegen``); a rule with only a NumPy step runs step by step through
``simopt._kernels.evaluate`` and its NumPy step, with the same noise, records and divergence handling.
"""
from __future__ import annotations

import json
import os
import sys
import time

import numpy as np

from . import __version__, _cache
from ._blas import one_thread
from . import streams as _streams
from ._kernels import tiles as K
from ._validate import as_float_array, check_bool, check_int, check_positive_scalar
from .optim.rule import Optimizer, matrix_shape, size_of
from .result import Result

RECORDABLE = ("x", "sharpness", "block_grad_norms")
_KINDS = {"diagonal": K.DIAGONAL, "block": K.BLOCK, "dense": K.DENSE, "kron": K.KRON}
_EMPTY1 = np.zeros(1)
_EMPTY2 = np.zeros((1, 1))
_EMPTY3 = np.zeros((1, 1, 1))
_EMPTYI = np.zeros(1, dtype=np.int64)
_WORK_PER_CHUNK = 4e8      # coordinate-operations per compiled call (~0.1-0.5 s): Ctrl-C and progress


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
    elif kind == K.KRON:
        A, B = problem.kron_factors
        Hmat = np.ascontiguousarray(A, dtype=np.float64)
        bflat = np.ascontiguousarray(B, dtype=np.float64).ravel()
    else:
        Hmat = np.ascontiguousarray(problem.hessian(), dtype=np.float64)
    return kind, hdiag, Hmat, bflat, boff


def _noise_arrays(problem):
    """The problem's noise model as the kernel reads it: (kind, distribution, df, vector, matrix, flat
    blocks, block offsets, batch size, sigma, extra) -- see ``simopt._kernels.tiles``."""
    noise = problem.noise
    out = [K.NOISE_NONE, K.DIST_NORMAL, 0.0, _EMPTY1, _EMPTY2, _EMPTY1, _EMPTYI, 1, 0.0, 0.0]
    if noise is None:
        return tuple(out)
    out[1] = K.DIST_T if noise.distribution == "t" else K.DIST_NORMAL
    out[2] = float(getattr(noise, "df", 0.0))
    how, a = noise.factor(problem)
    c = np.ascontiguousarray
    if how == "scale":
        out[0], out[3] = K.NOISE_SCALE, c(a, dtype=np.float64)
    elif how == "matrix":  # the kernel computes Z_tile @ A^T, i.e. xi = A z
        out[0], out[4] = K.NOISE_MATRIX, c(np.asarray(a, dtype=np.float64).T)
    elif how == "blocks":
        out[0] = K.NOISE_BLOCKS
        out[5], out[6] = _flat([np.asarray(b).T for b in a])
    elif how == "kron":    # xi = S_A Z S_B
        SA, SB = a
        out[0], out[4], out[5] = K.NOISE_KRON, c(SA, dtype=np.float64), c(SB, dtype=np.float64).ravel()
    elif how == "sampled_gaussian":
        fkind, F, batch, sigma = a
        out[0], out[7], out[8] = K.SAMPLED_GAUSSIAN, int(batch), float(sigma)
        if fkind == "scale":
            out[3] = c(F, dtype=np.float64)
        else:
            out[4], out[9] = c(np.asarray(F, dtype=np.float64).T), 1.0
    elif how == "dataset":
        X, residuals, batch = a
        out[0], out[3], out[4], out[7] = K.SAMPLED_DATA, c(residuals, dtype=np.float64), \
            c(X, dtype=np.float64), int(batch)
    elif how == "coordinates":
        cdf, total, batch, sigma = a
        out[0], out[3], out[7], out[8], out[9] = K.SAMPLED_COORD, c(cdf, dtype=np.float64), int(batch), \
            float(sigma), float(total)
    else:  # pragma: no cover
        raise ValueError(f"noise: unknown factor kind {how!r}")
    return tuple(out)


def record_steps(steps: int, record_every: int) -> np.ndarray:
    """Recorded step indices: 0, k, 2k, ... and always the final step."""
    s = np.arange(0, steps + 1, record_every, dtype=np.int64)
    return s if s[-1] == steps else np.append(s, steps)


# --------------------------------------------------------------------------------------------- compile
_TIMES = "compile_times.json"


def _read_times() -> dict:
    try:
        with open(os.path.join(_cache.cache_root(), _TIMES)) as f:
            doc = json.load(f)
        return doc if isinstance(doc, dict) else {}
    except (OSError, ValueError):
        return {}


def _compile_estimate(what: str, default: float) -> float:
    """The median of the compile times measured on this machine for ``what`` ("loop" or "rule")."""
    seen = _read_times().get(what)
    try:
        return float(np.median([float(x) for x in seen])) if seen else default
    except (TypeError, ValueError):
        return default


def _note_compile_time(what: str, seconds: float) -> None:
    doc = _read_times()
    seen = doc.get(what) if isinstance(doc.get(what), list) else []
    doc[what] = (seen + [round(seconds, 2)])[-9:]
    path = os.path.join(_cache.cache_root(), _TIMES)
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = f"{path}.{os.getpid()}.tmp"
        with open(tmp, "w") as f:
            json.dump(doc, f)
        os.replace(tmp, path)
    except OSError:
        pass


def _will_compile(dispatcher) -> bool:
    """True when ``dispatcher`` has no compiled version in this process and none on disk."""
    if dispatcher.overloads:
        return False
    cache = getattr(dispatcher, "_cache", None)
    index = getattr(getattr(cache, "_cache_file", None), "_index_path", None)
    return not (index and os.path.exists(index))


def _announce(what: str, seconds: float) -> None:
    print(f"simopt: compiling {what} for first use (about {seconds:.0f} s; cached afterwards)",
          file=sys.stderr, flush=True)


#: problem kinds and noise kinds whose gradients or draws go through simopt's matrix product
_GEMM_KINDS = (K.DENSE, K.BLOCK, K.KRON)
_GEMM_NOISE = (K.NOISE_MATRIX, K.NOISE_BLOCKS, K.NOISE_KRON, K.SAMPLED_GAUSSIAN)


def _ensure_gemm(kind: int, nkind: int) -> None:
    """Load the C callback of simopt's row-deterministic matrix product (``simopt._kernels.gemm``) when
    this problem needs it, compiling it on first use on this machine (announced)."""
    from ._kernels import gemm
    if gemm.callback_loaded() or not (kind in _GEMM_KINDS or nkind in _GEMM_NOISE):
        return
    marker = os.path.join(_cache.numba_cache_dir(), "gemm_callback.ready")
    fresh = not os.path.exists(marker)
    if fresh:
        _announce("simopt's matrix product", _compile_estimate("gemm", 2.0))
    t0 = time.perf_counter()
    gemm.ensure_callback()
    if fresh:
        _note_compile_time("gemm", time.perf_counter() - t0)
        try:
            os.makedirs(os.path.dirname(marker), exist_ok=True)
            open(marker, "w").close()
        except OSError:
            pass


def _rule_callbacks(optimizer):
    """Addresses of the optimizer's compiled step (and gradient point, or 0), compiling on first use."""
    from numba.core.errors import NumbaError
    from ._kernels import codegen
    fresh = codegen.will_compile(optimizer)
    if fresh:
        _announce(f"the step of {optimizer.name}", _compile_estimate("rule", 3.0))
    t0 = time.perf_counter()
    try:
        mod = codegen.rule_module(optimizer)
    except NumbaError as e:
        first = str(e).strip().splitlines()
        raise TypeError(f"optimizer: the compiled step of {optimizer.name} does not compile in Numba's "
                        f"nopython mode: {first[-1] if first else type(e).__name__} (a rule can also be "
                        f"given as a NumPy step only, simopt.optim.numpy_rule)") from e
    if fresh:
        _note_compile_time("rule", time.perf_counter() - t0)
    point = mod.point_c.address if hasattr(mod, "point_c") else 0
    return mod, mod.step_c.address, point


_POOL = None


def _pool():
    global _POOL
    if _POOL is None:
        from concurrent.futures import ThreadPoolExecutor
        _POOL = ThreadPoolExecutor(max_workers=max(1, os.cpu_count() or 1), thread_name_prefix="simopt")
    return _POOL


def _threads() -> int:
    import numba
    return max(1, numba.get_num_threads())


#: bytes of a tile's iterates and gradients a diagonal problem keeps in cache between its two passes
_TILE_CACHE_BYTES = 1 << 18


def _tile_size(runs: int, kind: int = K.DENSE, d: int = 1) -> int:
    """Runs per tile (results do not depend on it): about one tile per thread, at most ``MAX_TILE``;
    for elementwise (diagonal) problems also few enough that a tile's iterates and gradients stay in the
    core's cache between the gradient pass and the update pass."""
    t = max(1, min(K.MAX_TILE, -(-runs // _threads())))
    if kind == K.DIAGONAL:
        t = max(1, min(t, _TILE_CACHE_BYTES // (16 * max(1, d))))
    return t


def _tile_ranges(ntiles: int):
    n = max(1, min(_threads(), ntiles))
    bounds = np.linspace(0, ntiles, n + 1).round().astype(int)
    return [(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:]) if b > a]


def _run_tiles(fn, ntiles, args):
    """``fn(lo, hi, *args)`` over disjoint tile ranges, one per thread (``fn`` releases the GIL);
    ``args`` starts with the tile size."""
    ranges = _tile_ranges(ntiles)
    if _will_compile(fn):
        _announce("simopt's run loop", _compile_estimate("loop", 20.0))
        t0 = time.perf_counter()
        fn(*ranges[0], *args)
        _note_compile_time("loop", time.perf_counter() - t0)
        ranges = ranges[1:]
    if len(ranges) == 1:
        fn(*ranges[0], *args)
    elif ranges:
        for f in [_pool().submit(fn, lo, hi, *args) for lo, hi in ranges]:
            f.result()


# --------------------------------------------------------------------------------------------- run
def batch_size(problem) -> int:
    """Samples one stochastic gradient costs: the noise model's ``batch_size`` (1 without one)."""
    return int(getattr(problem.noise, "batch_size", 1) or 1)


def _physical_memory() -> float:
    try:
        return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not POSIX
        return 2.0 ** 40


def _check_memory(runs, steps, record_every, d, nb, optimizer, record):
    """A named ``ValueError`` for a call whose arrays cannot fit in this machine's memory (instead of
    NumPy's ``MemoryError`` or "array is too big" half-way through the set-up)."""
    n_rec = steps // record_every + 2
    per_run = d * (3 + optimizer.draws()) + optimizer.state_size(d, nb)
    rec = n_rec * (2 + (d if "x" in record else 0) + (nb if "block_grad_norms" in record else 0)
                   + ("sharpness" in record))
    need = 8.0 * runs * (per_run + rec) + 8.0 * (steps + 1)
    limit = _physical_memory()
    if need > limit:
        name = "steps (with record_every)" if runs * rec > runs * per_run else "runs"
        raise ValueError(f"{name}: this call needs about {need / 2 ** 30:.3g} GiB for {runs} runs x "
                         f"{n_rec} records of a {d}-dimensional problem, more than this machine's "
                         f"{limit / 2 ** 30:.3g} GiB; use fewer runs, or record less often")


def _steps_from(steps, samples, problem, optimizer) -> int:
    if samples is None:
        if steps is None:
            raise TypeError("steps: expected the number of steps (or samples=, a sample budget)")
        return check_int(steps, "steps", minimum=1)
    if steps is not None:
        raise TypeError("steps, samples: give one of them, not both")
    samples = check_int(samples, "samples", minimum=1)
    per_step = batch_size(problem) * optimizer.draws()
    if samples < per_step:
        raise ValueError(f"samples: a budget of {samples} is less than one step's {per_step} samples "
                         f"(batch size x draws per step)")
    return samples // per_step



def run(problem, optimizer, steps=None, runs=1, seed=0, record_every=1, record=(), x0=None,
        first_run=0, divergence_threshold=1e12, progress=False, samples=None) -> Result:
    """Run ``optimizer`` on ``problem`` for ``steps`` steps, ``runs`` independent runs at once.

    Parameters
    ----------
    problem : simopt.Quadratic
    optimizer : simopt.optim.Optimizer
        A built-in rule (``simopt.optim.adam(1e-3)``) or a user's (``simopt.optim.rule``).
    steps : int >= 1
        Number of updates; the loss is evaluated at steps 0..steps.  Give ``samples`` instead to tie the
        number of steps to a sample budget.
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
        A run whose loss is non-finite or exceeds this times its initial loss, or whose gradient is not
        finite, is stopped and flagged.
    progress : bool
        Show a progress bar over chunks of steps.
    samples : int >= 1 or None
        A sample budget instead of ``steps``: ``steps = samples // (batch_size * draws)``, with the noise
        model's ``batch_size`` (1 without one) and the rule's gradient draws per step, so methods and
        batch sizes are compared at the same number of samples (the budget must give at least one step).

    A rule runs compiled when every part of it has a compiled step; the first use of a rule on a machine
    compiles its loop (a message says so) and later processes load it from the on-disk cache.  A rule
    with only a NumPy step runs step by step, with the same numbers up to rounding.
    """
    from .problems import Quadratic

    if not isinstance(problem, Quadratic):
        raise TypeError(f"problem: expected a simopt problem (simopt.quadratic, ...), got "
                        f"{type(problem).__name__}")
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"optimizer: expected an optimizer from simopt.optim (a built-in such as "
                        f"simopt.optim.adam(1e-3), or a rule declared with simopt.optim.rule), got "
                        f"{type(optimizer).__name__}")
    rule_def = getattr(optimizer, "rule", None)
    from .optim.rule import RuleDef
    if not isinstance(rule_def, RuleDef) or not hasattr(optimizer, "_values"):
        raise TypeError(f"optimizer: {type(optimizer).__name__} has neither a compiled step nor a NumPy step "
                        f"the engine can call (methods of an Optimizer subclass are not used); declare the "
                        f"rule with simopt.optim.rule (compiled) or simopt.optim.numpy_rule (NumPy) and call "
                        f"it with its hyperparameters")
    steps = _steps_from(steps, samples, problem, optimizer)
    runs = check_int(runs, "runs", minimum=1)
    seed = check_int(seed, "seed", minimum=0)
    first_run = check_int(first_run, "first_run", minimum=0)
    record_every = check_int(record_every, "record_every", minimum=1)
    thresh = check_positive_scalar(divergence_threshold, "divergence_threshold")
    progress = check_bool(progress, "progress")
    if isinstance(record, str):
        record = (record,)
    try:
        record = tuple(record)
    except TypeError:
        raise TypeError(f"record: expected a tuple of names from {RECORDABLE}, got {record!r}") from None
    bad = [r for r in record if not isinstance(r, str) or r not in RECORDABLE]
    if bad:
        raise ValueError(f"record: unknown name(s) {bad}; expected names from {RECORDABLE}")

    d, nb = problem.dim, problem.n_blocks
    _check_memory(runs, steps, record_every, d, nb, optimizer, record)
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
    hp = optimizer.params(problem)
    M = optimizer.draws()

    kind, hdiag, Hmat, bflat, boff = _problem_arrays(problem)
    noise_arrays = _noise_arrays(problem)
    blk = np.ascontiguousarray(problem.block_starts, dtype=np.int64)
    xstar = np.ascontiguousarray(problem.xstar, dtype=np.float64)
    hd = hdiag if kind == K.DIAGONAL else np.ascontiguousarray(np.diag(problem.hessian()))
    mshape = np.asarray(matrix_shape(problem), dtype=np.int64)

    T = _tile_size(runs, _KINDS[problem.kind], d)
    Rp = -(-runs // T) * T
    E = np.zeros((Rp, d))
    E[:runs] = X0 - problem.xstar
    X0 = np.array(X0)
    nrng = np.zeros((Rp, 4), dtype=np.uint64)
    nrng[:runs] = _streams.stream_states(seed, first_run, runs, 0)
    want_hutch = optimizer.needs_hutchinson
    urng = np.zeros((Rp, 4), dtype=np.uint64)
    if want_hutch:
        urng[:runs] = _streams.stream_states(seed, first_run, runs, 1)
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

    per_step = Rp * d * (d if kind == K.DENSE else max(problem.block_sizes) if kind == K.BLOCK else 4) * M \
        * max(1, noise_arrays[7])
    chunk = int(max(1, min(steps, _WORK_PER_CHUNK // max(1, per_step))))
    if progress:
        chunk = max(1, min(chunk, -(-steps // 50)))
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=steps, unit="step", desc=f"{optimizer.name} x{runs}")
    problem_args = (kind, E, hdiag, Hmat, bflat, boff, blk)
    noise_args = (*noise_arrays, nrng)
    rec_args = (rec_pos, rec_loss, rec_gn, rec_bgn, rec_x)
    _ensure_gemm(kind, noise_arrays[0])
    try:
        with one_thread():
            if optimizer.compiled:
                from ._kernels.codegen import loop_for
                run_chunk = loop_for(kind, noise_arrays[0], noise_arrays[1], want_hutch)
                mod, step_addr, point_addr = _rule_callbacks(optimizer)
                work = size_of(str(mod.WORK_SIZE), d, nb, M)
                state = np.zeros((Rp, max(1, optimizer.state_size(d, nb))))
                for t0 in range(0, steps, chunk):
                    k = min(chunk, steps - t0)
                    args = (T, *problem_args, *noise_args, step_addr, point_addr, M, want_hutch, urng, work,
                            hp, lrs, t0, k, t0 + k == steps, state, active, f0, thresh, div_step,
                            x_at_div, xstar, hd, mshape, *rec_args, rec_sharp, want_bgn, want_x, want_sharp)
                    _run_tiles(run_chunk, Rp // T, args)
                    if bar is not None:
                        bar.update(k)
            else:
                _run_numpy(optimizer, problem, steps, lrs, problem_args, noise_args, rec_args, M, want_hutch,
                           urng, active, f0, thresh, div_step, x_at_div, rec_sharp, want_bgn, want_x,
                           want_sharp, E, Rp, T, bar)
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
        "engine": "compiled" if optimizer.compiled else "numpy",
    }
    return Result(steps=rsteps, loss=rec_loss[sl], grad_norm=rec_gn[sl], x=x, x0=X0,
                  f0=f0[sl].copy(), diverged=diverged, diverged_step=div_step[sl].copy(),
                  records=records, meta=meta)


def _run_numpy(optimizer, problem, steps, lrs, problem_args, noise_args, rec_args, M, want_hutch, urng,
               active, f0, thresh, div_step, x_at_div, rec_sharp, want_bgn, want_x, want_sharp, E, Rp, T, bar):
    """The step-by-step path of a rule with only NumPy steps (see ``simopt._kernels.evaluate``)."""
    from ._kernels.codegen import loop_for
    evaluate_step = loop_for(problem_args[0], noise_args[0], noise_args[1], want_hutch, "evaluate")
    d = E.shape[1]
    runs = int(np.count_nonzero(active))      # the real runs (the rest pad the last tile)
    state = optimizer.init_state(runs, problem)
    Er = E[:runs]                             # views: the NumPy step updates them in place
    Gn = np.zeros((Rp, M, d))
    Hut = np.zeros((Rp, d))
    Y = np.zeros((Rp, d))
    use_point = optimizer.has_point
    rec_pos = rec_args[0]
    for t in range(steps + 1):
        update = t < steps
        if use_point and update:
            Y[:runs] = optimizer.reference_point(Er, state, t + 1, float(lrs[t]), problem)
        args = (T, *problem_args, *noise_args, M, want_hutch, urng, Y, use_point, t, update, active, f0,
                thresh, div_step, x_at_div, *rec_args, want_bgn, want_x, Gn, Hut)
        _run_tiles(evaluate_step, E.shape[0] // T, args)
        if not update:
            break
        before = Er.copy() if (want_sharp and rec_pos[t] >= 0) else None
        with np.errstate(all="ignore"):
            optimizer.reference_step(Er, Gn[:runs], state, t + 1, float(lrs[t]), problem,
                                     hutchinson=Hut[:runs] if want_hutch else None)
        E[~active] = 0.0
        if before is not None:
            U = Er - before
            with np.errstate(all="ignore"):
                num = np.einsum("ij,ij->i", U, problem.hvp(U))
                den = np.einsum("ij,ij->i", U, U)
                act = active[:runs]
                rec_sharp[:runs][act, rec_pos[t]] = np.where(den > 0, num / np.where(den > 0, den, 1.0),
                                                             np.nan)[act]
        if bar is not None:
            bar.update(1)
