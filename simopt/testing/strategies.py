"""Hypothesis strategies for property-based tests of problems and update rules (needs ``hypothesis``, part
of simopt's ``test`` extra)::

    from hypothesis import given
    from simopt.testing import strategies as sst

    @given(sst.problems(max_dim=6), sst.optimizers())
    def test_no_nan(problem, opt):
        assert not np.isnan(simopt.run(problem, opt, 20, runs=2).loss).any()

- :func:`spectra` -- every generator of :mod:`simopt.spectra` (``linear``, ``logspace``, ``power_law``,
  ``two_cluster``, ``deep_learning_like``) with drawn sizes and ranges; :func:`block_spectra` lists of
  them, optionally :func:`simopt.spectra.redistribute`-d;
- :func:`noise_models` -- ``None`` or each model of :mod:`simopt.noise` with drawn parameters;
- :func:`problems` -- every constructor (``quadratic``, ``block_diagonal``, ``heterogeneous_blocks``,
  ``matrix_quadratic``), so every kind (diagonal, block, dense, kron), with each rotation (none, Haar,
  block, global, an angle, within blocks; per factor of a matrix problem), with and without each noise
  model;
- :func:`gradient_streams` -- gradients (steps, runs, [M,] d) and starts with exact zeros and scales
  1e-100..1e100, and :func:`stream_problem`, a block problem of the stream's block sizes;
- :func:`hyperparameters` -- valid values of a rule's declared hyperparameters (its ``Hyper`` kinds and
  intervals, :mod:`simopt.testing.hyper`; constraints between them through the rule's ``check``);
- :func:`learning_rates` -- a float or a :mod:`simopt.schedules` schedule;
- :func:`optimizers` -- an optimizer of any built-in rule (or of the rules given), with drawn
  hyperparameters, learning rate, weight decay and optionally a built-in wrapper: a new rule module is
  covered without editing this one.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st

from .. import noise as _noise
from .. import schedules as _schedules
from .. import spectra as _spectra
from ..optim.rule import Optimizer, RuleDef, Wrapper
from ..matrix_problems import matrix_quadratic
from ..problems import block_diagonal, heterogeneous_blocks, quadratic
from .hyper import builtin_rules, builtin_wrappers, valid_range
from .steps import stream_problem

__all__ = ["spectra", "block_spectra", "noise_models", "problems", "gradient_streams", "stream_problem",
           "Stream", "hyper_values", "hyperparameters", "learning_rates", "optimizers", "seeds",
           "SPECTRA", "NOISE_MODELS", "CONSTRUCTORS"]

SPECTRA = ("linear", "logspace", "power_law", "two_cluster", "deep_learning_like")
NOISE_MODELS = ("gaussian", "correlated_gaussian", "hessian_aligned", "student_t")
CONSTRUCTORS = ("quadratic", "block_diagonal", "heterogeneous_blocks", "matrix_quadratic")

#: a problem or generator seed
seeds = st.integers(0, 2 ** 32 - 1)


# ------------------------------------------------------------------------------------------ spectra
@st.composite
def spectra(draw, min_dim=1, max_dim=8, low=1e-2, high=1e2, generators=SPECTRA):
    """Eigenvalues (ascending float64) from one of ``generators`` (names of :mod:`simopt.spectra`), of a
    dimension in ``min_dim..max_dim``, with ranges inside [``low``, ``high``] (``deep_learning_like`` has
    its own range, (0, 60])."""
    bad = [g for g in generators if g not in SPECTRA]
    if bad:
        raise ValueError(f"generators: unknown {bad}; expected names from {SPECTRA}")
    d = draw(st.integers(min_dim, max_dim))
    which = draw(st.sampled_from(tuple(generators)))
    ends = st.floats(low, high, allow_nan=False)
    if which in ("linear", "logspace"):
        a, b = sorted((draw(ends), draw(ends)))
        return getattr(_spectra, which)(d, a, b)
    if which == "power_law":
        top = draw(st.floats(low, high))
        alpha = draw(st.floats(0.0, np.log(top / low) / np.log(d))) if d > 1 else 0.0
        return _spectra.power_law(d, alpha, top)
    if which == "two_cluster":
        a, b = sorted((draw(ends), draw(ends)))
        return _spectra.two_cluster(d, draw(st.floats(0.0, 1.0)), a, b, draw(seeds),
                                    spread=draw(st.floats(0.0, 0.5)))
    return _spectra.deep_learning_like(d, draw(seeds))


@st.composite
def block_spectra(draw, max_blocks=3, max_block_size=4, low=1e-2, high=1e2, redistribute=None):
    """A list of per-block spectra (:func:`spectra`), one to ``max_blocks`` blocks of one to
    ``max_block_size`` eigenvalues; ``redistribute`` True / False / None (drawn) applies
    :func:`simopt.spectra.redistribute` (the homogeneous counterpart)."""
    out = draw(st.lists(spectra(1, max_block_size, low, high), min_size=1, max_size=max_blocks))
    if redistribute if redistribute is not None else draw(st.booleans()):
        out = _spectra.redistribute(out)
    return out


# -------------------------------------------------------------------------------------------- noise
@st.composite
def noise_models(draw, d, models=NOISE_MODELS, none=True):
    """``None`` (when ``none``) or one of ``models`` (names of :mod:`simopt.noise`) for dimension ``d``:
    Gaussian with a scalar or per-coordinate scale, correlated Gaussian with a random positive
    semi-definite covariance, Hessian-aligned, Student-t (df in [1, 30])."""
    bad = [m for m in models if m not in NOISE_MODELS]
    if bad:
        raise ValueError(f"models: unknown {bad}; expected names from {NOISE_MODELS}")
    choices = (("none",) if none else ()) + tuple(models)
    which = draw(st.sampled_from(choices))
    scale = st.floats(1e-3, 10.0)
    if which == "none":
        return None
    if which == "hessian_aligned":
        return _noise.hessian_aligned(draw(scale))
    s = draw(st.one_of(scale, st.lists(scale, min_size=d, max_size=d).map(np.asarray)))
    if which == "gaussian":
        return _noise.gaussian(s)
    if which == "student_t":
        return _noise.student_t(s, df=draw(st.floats(1.0, 30.0)))
    rng = np.random.default_rng(draw(seeds))
    B = rng.standard_normal((d, draw(st.integers(1, d)))) * draw(scale)
    return _noise.correlated_gaussian(B @ B.T)


# ------------------------------------------------------------------------------------------ problems
@st.composite
def _partition(draw, d):
    """None (one block) or block sizes summing to ``d``."""
    if d == 1 or draw(st.booleans()):
        return None
    cuts = sorted(draw(st.sets(st.integers(1, d - 1), min_size=1, max_size=min(3, d - 1))))
    return list(np.diff([0, *cuts, d]))


@st.composite
def problems(draw, max_dim=8, constructors=CONSTRUCTORS, noise=True, low=1e-2, high=1e2):
    """A problem from one of ``constructors`` of dimension <= ``max_dim`` (so every kind: diagonal, block,
    dense, kron), with a drawn rotation -- ``quadratic``: none, Haar or an angle in [0, 1] (and a drawn block
    partition); ``block_diagonal``/``heterogeneous_blocks``: block, none, global or an angle, with or
    without ``within_blocks``; ``matrix_quadratic``: an m x n parameter (m n <= ``max_dim``), each
    factor's spectrum from :func:`spectra` with its own rotation (none, Haar or an angle), one block or
    one per row -- and, when ``noise``, with or without each noise model
    (:func:`noise_models`)."""
    bad = [c for c in constructors if c not in CONSTRUCTORS]
    if bad:
        raise ValueError(f"constructors: unknown {bad}; expected names from {CONSTRUCTORS}")
    which = draw(st.sampled_from(tuple(constructors)))
    seed = draw(seeds)
    angle = st.floats(0.0, 1.0)
    if which == "matrix_quadratic":
        m = draw(st.integers(1, max(1, max_dim // 2)))
        rot = st.one_of(st.sampled_from(["none", "haar"]), angle)
        a = draw(spectra(m, m, low, high))
        b = draw(spectra(1, max(1, max_dim // m), low, high))
        p = matrix_quadratic(a, b, rotation_A=draw(rot), rotation_B=draw(rot), seed=seed,
                             blocks=draw(st.sampled_from([None, "rows"])))
    elif which == "quadratic":
        lam = draw(spectra(1, max_dim, low, high))
        p = quadratic(lam, rotation=draw(st.one_of(st.sampled_from(["none", "haar"]), angle)), seed=seed,
                      blocks=draw(_partition(lam.size)))
    else:
        rotation = draw(st.one_of(st.sampled_from(["block", "none", "global"]), angle))
        within = draw(st.booleans())
        if which == "block_diagonal":
            size = max(1, min(4, max_dim // 2))
            blocks = draw(block_spectra(max(1, max_dim // size), size, low, high))
            p = block_diagonal(blocks, rotation=rotation, seed=seed, within_blocks=within)
        else:
            B = draw(st.integers(1, max(1, min(4, max_dim // 2))))
            n = draw(st.integers(2 if B == 1 else 1, max(2, max_dim // B)))
            p = heterogeneous_blocks(B, n, draw(angle), draw(st.floats(1.5, 1e4)), rotation=rotation, seed=seed,
                                     within_blocks=within)
    if noise:
        p = p.with_noise(draw(noise_models(p.dim)))
    return p


# ------------------------------------------------------------------------------------ gradient streams
class Stream(NamedTuple):
    """A gradient stream: block ``sizes``, gradients ``G`` (steps, runs, d) -- (steps, runs, M, d) for M
    draws -- and starts ``X0`` (runs, d), at one drawn scale."""

    sizes: list
    G: np.ndarray
    X0: np.ndarray


@st.composite
def gradient_streams(draw, steps=5, draws=1, max_blocks=4, max_block_size=4, runs=(1, 3), sizes=None,
                     zeros=(0.0, 0.2, 0.6), per_coordinate=False, scales=(-100, 100)):
    """A :class:`Stream`: block ``sizes`` (drawn: 1..``max_blocks`` blocks of 1..``max_block_size``, or as
    given), a number of runs in ``runs`` (a (low, high) range or an int), standard normal gradients and
    starts times one scale 10**k, k an integer in ``scales`` (each coordinate its own scale
    10**U(scales) when ``per_coordinate``), and a fraction of exact zeros drawn from ``zeros``."""
    if sizes is None:
        sizes = draw(st.lists(st.integers(1, max_block_size), min_size=1, max_size=max_blocks))
    d = int(sum(sizes))
    R = draw(st.integers(*runs)) if isinstance(runs, tuple) else int(runs)
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 31)))
    shape = (steps, R, d) if draws == 1 else (steps, R, draws, d)
    if per_coordinate:
        scale = 10.0 ** rng.uniform(*scales, d)
    else:
        scale = 10.0 ** draw(st.integers(*scales))
    G = rng.standard_normal(shape) * scale
    G[rng.random(shape) < draw(st.sampled_from(tuple(zeros)))] = 0.0
    X0 = rng.standard_normal((R, d)) * scale
    return Stream(list(sizes), G, X0)


# ---------------------------------------------------------------------------------- hyperparameters
def hyper_values(h):
    """Valid values of one declared hyperparameter (a :class:`simopt.optim.Hyper`): see
    :func:`simopt.testing.hyper.valid_range`."""
    r = valid_range(h)
    if r.kind in ("bool", "choice"):
        return st.sampled_from(r.options)
    if r.kind == "int":
        return st.integers(int(r.low), int(r.high))
    ends = [e for e, closed in ((r.low, r.low_closed), (r.high, r.high_closed)) if closed and np.isfinite(e)]
    if r.log:
        inner = st.floats(-8.0, 1.0).map(lambda u: r.low + 10.0 ** u).filter(
            lambda v: v > r.low or (r.low_closed and v == r.low))
    else:
        inner = st.floats(r.low, r.high, exclude_min=not r.low_closed, exclude_max=not r.high_closed)
    return st.one_of(st.sampled_from(ends), inner) if ends else inner


@st.composite
def hyperparameters(draw, rule, **fixed):
    """A dict of valid values for every hyperparameter ``rule`` (a ``RuleDef`` or ``Wrapper``) declares,
    ``fixed`` ones as given; a draw that its ``check`` rejects (a constraint between values) is drawn
    again, a few times, then rejected."""
    if not isinstance(rule, (RuleDef, Wrapper)):
        raise TypeError(f"rule: expected a simopt.optim.RuleDef or Wrapper, got {type(rule).__name__}")
    for _ in range(10):
        values = {k: fixed[k] if k in fixed else draw(hyper_values(h)) for k, h in rule.hyper.items()}
        try:
            rule.validate(values)
        except ValueError:
            continue
        return values
    assume(False)


@st.composite
def learning_rates(draw, low=1e-4, high=1.0, schedules=True):
    """A learning rate: a float in [``low``, ``high``], or (when ``schedules``) a schedule of
    :mod:`simopt.schedules` with that peak rate (constant, step, inverse_sqrt, cosine, array of 200
    rates)."""
    lr = draw(st.floats(low, high))
    which = draw(st.sampled_from(("float", "constant", "step", "inverse_sqrt", "cosine", "array")
                                 if schedules else ("float",)))
    if which == "float":
        return lr
    if which == "constant":
        return _schedules.constant(lr)
    if which == "step":
        return _schedules.step(lr, draw(st.integers(1, 20)), draw(st.floats(0.1, 0.9)))
    if which == "inverse_sqrt":
        return _schedules.inverse_sqrt(lr, draw(st.floats(1.0, 100.0)))
    if which == "cosine":
        return _schedules.cosine(lr, draw(st.floats(0.0, 1.0)) * lr, draw(st.one_of(st.none(), st.integers(1, 100))))
    rng = np.random.default_rng(draw(seeds))
    return _schedules.array(lr * rng.uniform(0.1, 1.0, 200))


@st.composite
def optimizers(draw, rules=None, lr=None, weight_decay=True, wrappers=True, max_draws=None):
    """An optimizer of one of ``rules`` (``RuleDef``s; default every built-in rule,
    :func:`simopt.testing.hyper.builtin_rules`) with drawn hyperparameters (:func:`hyperparameters`), a
    learning rate (``lr``: a strategy, default :func:`learning_rates`), a weight decay in [0, 0.1] (or 0)
    when the rule takes one and ``weight_decay``, and, when ``wrappers``, sometimes a built-in wrapper
    (``clipped``, ``cautious``) with its own drawn hyperparameters.  ``max_draws`` caps a rule's gradient
    draws per step (e.g. majority vote's workers) to match a stream's."""
    pool = builtin_rules() if rules is None else tuple(rules)
    if not pool or not all(isinstance(r, RuleDef) for r in pool):
        raise TypeError("rules: expected a non-empty sequence of simopt.optim.RuleDef")
    rule = draw(st.sampled_from(pool))
    fixed = {}
    if max_draws is not None and isinstance(rule.draws, str):
        fixed[rule.draws] = draw(st.integers(rule.hyper[rule.draws].minimum or 1, max_draws))
    values = draw(hyperparameters(rule, **fixed))
    rate = draw(lr if lr is not None else learning_rates()) if rule.has_lr else None
    wd = 0.0
    if weight_decay and rule.decay is not None and "weight_decay" not in rule.hyper:
        wd = draw(st.one_of(st.just(0.0), st.floats(0.0, 0.1)))
    opt = Optimizer(rule, rate, values, weight_decay=wd)
    if wrappers and draw(st.booleans()):
        w = draw(st.sampled_from(builtin_wrappers()))
        opt = opt.wrapped(w, **draw(hyperparameters(w)))
    return opt
