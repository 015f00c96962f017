"""``check_rule``: everything simopt holds its own rules to, run on any rule.

``check_rule(rule_or_optimizer)`` returns a :class:`RuleReport` of five sections:

1. **compiled == reference** -- when the rule has both steps: the compiled step (as the run loop calls it)
   and the NumPy step fed the same gradients (:func:`simopt.testing.compiled_steps` /
   :func:`~simopt.testing.reference_steps`) agree to ``rtol`` = 1e-12 relative (each iterate, or relative
   to the stream's largest finite iterate near 0; NaN = NaN), on Gaussian streams at scales 1, 1e-100 and
   1e100 with 30% exact zeros and on all-zero gradients, for the optimizer as given and for
   ``hyper_samples`` more draws of its hyperparameters within their declared ranges
   (:mod:`simopt.testing.hyper`), with random Hutchinson probes for a rule that takes them -- on a
   vector problem (a 1 x d parameter) and, with ``shape=(m, n)``, also on an m x n matrix problem (for a
   rule that reads ``rows, cols``);
2. **edge cases** -- the optimizer as given produces no NaN from finite inputs on the edge streams
   (:func:`simopt.testing.edge_streams`);
3. **determinism** -- :func:`simopt.run` gives bit-identical iterates for runs split across calls at a
   point that is not a multiple of the tile (``first_run``), and in subprocesses with
   ``NUMBA_NUM_THREADS=1`` and ``=2`` (the rule must be importable there: a rule defined in ``__main__``
   falls back to switching Numba's thread count in this process, and the report says so);
4. **bad hyperparameters** -- every value outside a declared kind or interval
   (:func:`simopt.testing.hyper.invalid_values`), a non-positive or non-finite learning rate and a
   negative (or unsupported) weight decay raise ``TypeError``/``ValueError`` naming the argument;
5. **invariance card** -- :func:`simopt.testing.invariance_card` (on the matrix problem of ``shape``
   when given); with ``expect`` (the names of the transformations that should hold) each is compared
   with the measurement.

``report.ok`` is False when any check failed; ``report.table()`` is a readable table and
``report.assert_ok()`` raises an ``AssertionError`` carrying it (for pytest)::

    from simopt.testing import check_rule
    check_rule(user_rules.lion(0.05), expect=("permutation", "sign_flip", "translation")).assert_ok()
"""
from __future__ import annotations

import os
import pickle
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field

import numpy as np

from .. import noise as _noise
from ..engine import run
from ..optim.rule import Optimizer, RuleDef
from ..problems import quadratic
from ..spectra import logspace
from .._validate import check_int, check_positive_scalar
from .card import TOLERANCE, Card, card_problems, invariance_card
from .hyper import invalid_values, sample_valid
from .steps import compiled_steps, edge_streams, reference_steps, stream_problem
from .transforms import TRANSFORMATIONS

__all__ = ["check_rule", "RuleReport", "Check"]

RTOL = 1e-12


@dataclass(frozen=True)
class Check:
    """One line of a report: ``section``, ``what`` was checked, ``ok`` (True, False, or None for a check
    that was skipped or is only reported) and a ``detail``."""

    section: str
    what: str
    ok: bool | None
    detail: str = ""


@dataclass
class RuleReport:
    """The outcome of :func:`check_rule`: its ``checks`` and the measured ``card``."""

    rule: str
    checks: list = field(default_factory=list)
    card: Card | None = None

    @property
    def ok(self) -> bool:
        return all(c.ok is not False for c in self.checks)

    @property
    def failures(self) -> list:
        return [c for c in self.checks if c.ok is False]

    def table(self) -> str:
        """The checks as an aligned text table (then the card, if measured)."""
        rows = [("section", "check", "result", "detail")]
        rows += [(c.section, c.what, {True: "ok", False: "FAILED", None: "-"}[c.ok], c.detail)
                 for c in self.checks]
        w = [max(len(r[i]) for r in rows) for i in range(3)]
        head = f"check_rule({self.rule}): " + ("all checks passed" if self.ok else
                                              f"{len(self.failures)} check(s) FAILED")
        lines = [head] + ["  " + "  ".join(r[i].ljust(w[i]) for i in range(3)) + "  " + r[3] for r in rows]
        if self.card is not None:
            lines += ["", self.card.table()]
        return "\n".join(line.rstrip() for line in lines)

    def __str__(self):
        return self.table()

    def assert_ok(self):
        """Raise ``AssertionError`` with :meth:`table` if a check failed."""
        if not self.ok:
            raise AssertionError("\n" + self.table())


# ------------------------------------------------------------------------------------------- helpers
def _valid_values(definition, rng, base=None):
    """Hyperparameter values of ``definition``: ``base`` where given, else defaults, else drawn; redrawn
    until its ``check`` accepts them."""
    from ..optim.rule import _REQUIRED
    for attempt in range(50):
        vals = {}
        for k, h in definition.hyper.items():
            if base is not None and attempt == 0:
                vals[k] = base[k]
            elif base is None and attempt == 0 and h.default is not _REQUIRED and h.default is not None:
                vals[k] = h.default
            else:
                vals[k] = sample_valid(h, rng)
        try:
            return definition.validate(vals)
        except ValueError:
            continue
    raise ValueError(f"{definition.name}: no valid hyperparameters found in 50 draws (its check rejects "
                     f"every draw from the declared ranges)")


def _as_optimizer(rule_or_optimizer, lr):
    if isinstance(rule_or_optimizer, Optimizer):
        return rule_or_optimizer
    if isinstance(rule_or_optimizer, RuleDef):
        r = rule_or_optimizer
        vals = _valid_values(r, np.random.default_rng(0))
        return Optimizer(r, lr if r.has_lr else None, vals)
    raise TypeError(f"rule_or_optimizer: expected a simopt.optim RuleDef or optimizer, got "
                    f"{type(rule_or_optimizer).__name__}")


def _variants(opt, n, rng):
    """The optimizer and ``n`` more with every component's hyperparameters drawn afresh."""
    out = [opt]
    for _ in range(n):
        wrappers = tuple((w, _valid_values(w, rng)) for w, _ in opt.wrappers)
        rule_vals = _valid_values(opt.rule, rng)
        out.append(Optimizer(opt.rule, opt.lr, {}, weight_decay=opt.weight_decay, wrappers=wrappers,
                             _values=rule_vals))
    return out


def _streams(d, runs, steps, M, rng):
    shape = (steps, runs, M, d)
    out = []
    for scale in (1.0, 1e-100, 1e100):
        G = rng.standard_normal(shape)
        G[rng.random(shape) < 0.3] = 0.0
        out.append((f"scale {scale:g}", G * scale, rng.standard_normal((runs, d)) * scale))
    out.append(("all-zero gradients", np.zeros(shape), rng.standard_normal((runs, d))))
    return out


def _probe(opt, problem, G, rng):
    args = opt.rule.step_args if opt.compiled else opt.rule.reference_args
    if "hutchinson" not in args:
        return None
    u = rng.choice([-1.0, 1.0], size=(G.shape[0], G.shape[1], problem.dim))
    return u * (u @ problem.hessian())


def _closeness(a, b):
    """max |a - b| / (scale + |b|) with NaN = NaN (<= rtol exactly when :func:`assert_close` passes)."""
    scale = np.max(np.abs(b[np.isfinite(b)]), initial=1.0)
    both_nan = np.isnan(a) & np.isnan(b)
    with np.errstate(invalid="ignore", over="ignore"):
        diff = np.where(both_nan | (a == b), 0.0, np.abs(a - b))
        r = diff / (scale + np.abs(b))
    r = np.where(np.isnan(r), np.inf, r)
    return float(np.max(r, initial=0.0))


def _describe(opt):
    vals = [f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v!r}" for k, v in opt.hyperparams().items()]
    for w, wv in opt.wrappers:
        vals += [f"{w.name}.{k}={v:.3g}" if isinstance(v, float) else f"{w.name}.{k}={v!r}" for k, v in wv.items()]
    return ", ".join(vals) or "no hyperparameters"


# -------------------------------------------------------------------------------------------- checks
def _step_problems(shape):
    """[(label, problem)]: the vector problem the steps are fed on, and the matrix problem of ``shape``."""
    out = [("", stream_problem([2, 3]))]
    if shape is not None:
        out.append((f"{shape[0]} x {shape[1]} matrix, ", card_problems(shape=shape)[0][1]))
    return out


def _check_steps(opt, samples, rng, shape):
    sec = "compiled == reference"
    if not opt.compiled or any(c.reference is None for c, _ in opt.components()):
        has = "a compiled step only" if opt.compiled else "a NumPy step only"
        return [Check(sec, "both steps on the same gradients", None, f"skipped: the rule has {has}")]
    out = []
    for v in _variants(opt, samples, rng):
        worst, where = 0.0, "every stream"
        for prefix, p in _step_problems(shape):
            for label, G, X0 in _streams(p.dim, 2, 6, v.draws(), rng):
                hut = _probe(v, p, G, rng)
                a = compiled_steps(v, p, G, X0, hutchinson=hut)
                b = reference_steps(v, p, G, X0, hutchinson=hut)
                dev = _closeness(a, b)
                if dev > worst:
                    worst, where = dev, f"at {prefix}{label}"
        out.append(Check(sec, _describe(v), worst <= RTOL,
                         f"max deviation {worst:.1e} {where} (tolerance {RTOL:g} relative)"))
    return out


def _check_edges(opt, shape):
    sec = "edge cases"
    steps_fn = compiled_steps if opt.compiled else reference_steps
    bad = []
    for prefix, p in _step_problems(shape):
        for (G, X0), label in zip(edge_streams(p.dim, draws=opt.draws()), ("all-zero", "1e-100", "1e100")):
            hut = _probe(opt, p, G, np.random.default_rng(1))
            with np.errstate(all="ignore"):
                X = steps_fn(opt, p, G, X0, hutchinson=hut)
            if np.isnan(X).any():
                bad.append(prefix + label)
    return [Check(sec, "no NaN from finite gradients (zeros, scales 1e-100 and 1e100)", not bad,
                  f"NaN on the {', '.join(bad)} stream(s)" if bad else "finite or +-inf only")]


_CHILD = """
import pickle, sys
import numpy as np
import simopt
with open(sys.argv[1], "rb") as f:
    problem, opt, kw = pickle.load(f)
np.save(sys.argv[2], simopt.run(problem, opt, **kw).records["x"])
"""


def _determinism_problem():
    lam = logspace(8, 1.0, 20.0)
    return quadratic(lam, rotation="haar", noise=_noise.gaussian(0.1), seed=3, blocks=[3, 5])


def _in_subprocesses(problem, opt, kw):
    """Records of ``run(problem, opt, **kw)`` in child processes with 1 and 2 Numba threads."""
    blob = pickle.dumps((problem, opt, kw))
    paths = [p for p in sys.path if p] + [os.getcwd()]
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "job.pkl")
        with open(src, "wb") as f:
            f.write(blob)
        for n in (1, 2):
            dst = os.path.join(tmp, f"x{n}.npy")
            env = dict(os.environ, NUMBA_NUM_THREADS=str(n), PYTHONPATH=os.pathsep.join(paths))
            r = subprocess.run([sys.executable, "-c", _CHILD, src, dst], env=env, capture_output=True,
                               text=True, timeout=900)
            if r.returncode != 0:
                tail = (r.stderr.strip().splitlines() or ["(no output)"])[-1]
                raise RuntimeError(f"the child with NUMBA_NUM_THREADS={n} failed: {tail}")
            out.append(np.load(dst))
    return out


def _in_process_threads(problem, opt, kw):
    import numba
    before = numba.get_num_threads()
    out = []
    try:
        for n in (1, min(2, numba.config.NUMBA_NUM_THREADS)):
            numba.set_num_threads(n)
            out.append(run(problem, opt, **kw).records["x"])
    finally:
        numba.set_num_threads(before)
    return out


def _check_determinism(opt, threads):
    sec = "determinism"
    p = _determinism_problem()
    kw = dict(steps=25, runs=11, seed=4, record=("x",))
    ref = run(p, opt, **kw).records["x"]
    a = run(p, opt, **{**kw, "runs": 5}).records["x"]
    b = run(p, opt, **{**kw, "runs": 6, "first_run": 5}).records["x"]
    out = [Check(sec, "runs split across calls (first_run = 5 of 11)",
                 bool(np.array_equal(np.concatenate([a, b]), ref, equal_nan=True)), "bit-identical iterates")]
    if not threads:
        return out + [Check(sec, "thread counts", None, "skipped (threads=False)")]
    how = "subprocesses with NUMBA_NUM_THREADS=1 and 2"
    try:
        pickle.dumps(opt)
    except (TypeError, pickle.PicklingError, AttributeError) as e:
        how, xs = f"this process, numba.set_num_threads(1) and (2): the rule cannot go to a subprocess ({e})", \
            _in_process_threads(p, opt, kw)
    else:
        try:
            xs = _in_subprocesses(p, opt, kw)
        except RuntimeError as e:
            return out + [Check(sec, "thread counts", False, str(e))]
    same = all(np.array_equal(x, ref, equal_nan=True) for x in xs)
    return out + [Check(sec, "thread counts", same, f"{'bit-identical' if same else 'DIFFERENT'} iterates in {how}")]


def _rejects(make, name):
    """None if ``make()`` raises TypeError/ValueError naming ``name``, else what happened."""
    try:
        make()
    except (TypeError, ValueError) as e:
        return None if name in str(e) else f"{type(e).__name__} not naming {name!r}: {e}"
    except Exception as e:  # noqa: BLE001 - any other exception is a finding
        return f"{type(e).__name__}: {e}"
    return "accepted"


def _check_bad_hyper(opt):
    sec = "bad hyperparameters"
    out = []
    comps = [(opt.rule, opt._values)] + list(opt.wrappers)
    for definition, _ in comps:
        for k, h in definition.hyper.items():
            problems = []
            for value, why in invalid_values(h):
                got = _rejects(lambda: opt.with_hyper(**{k: value}), k)
                if got is not None:
                    problems.append(f"{value!r} ({why}): {got}")
            out.append(Check(sec, f"{k} ({h.kind}{' ' + h.interval if h.interval else ''})", not problems,
                             "; ".join(problems) or f"{len(invalid_values(h))} bad values rejected, naming it"))
    if opt.has_lr:
        problems = [f"{v!r}: {got}" for v in (0.0, -1.0, np.nan, np.inf, "0.1")
                    if (got := _rejects(lambda v=v: opt.with_lr(v), "lr")) is not None]
        out.append(Check(sec, "lr", not problems, "; ".join(problems) or "0, -1, nan, inf, '0.1' rejected"))
    if "weight_decay" not in opt.rule.hyper:
        bad = -0.1 if opt.rule.decay is not None else 0.1
        got = _rejects(lambda: opt.with_hyper(weight_decay=bad), "weight_decay")
        why = "negative" if bad < 0 else "the rule takes no weight decay"
        out.append(Check(sec, "weight_decay", got is None, got or f"{bad} rejected ({why})"))
    return out


def _check_card(opt, expect, dim, shape, tol):
    sec = "invariance card"
    try:
        card = invariance_card(opt, dim=dim, shape=shape, tol=tol)
    except ValueError as e:
        return [Check(sec, "measured", False, str(e))], None
    if expect is None:
        return [Check(sec, TRANSFORMATIONS[n].title, None, f"{'holds' if e.holds else 'fails'} "
                      f"(deviation {e.deviation:.1e})") for n, e in card.entries.items()], card
    expect = set(expect)
    unknown = expect - set(TRANSFORMATIONS)
    if unknown:
        raise ValueError(f"expect: unknown transformation(s) {sorted(unknown)}; expected names from "
                         f"{list(TRANSFORMATIONS)}")
    out = []
    for n, e in card.entries.items():
        want = n in expect
        out.append(Check(sec, TRANSFORMATIONS[n].title, e.holds == want,
                         f"expected to {'hold' if want else 'fail'}, measured {'holds' if e.holds else 'fails'} "
                         f"(deviation {e.deviation:.1e}, tolerance {card.tol:g})"))
    return out, card


def check_rule(rule_or_optimizer, *, lr=0.05, hyper_samples=4, threads=True, card=True, expect=None, dim=6,
               shape=None, tol=TOLERANCE, seed=0) -> RuleReport:
    """Check a rule (a ``RuleDef``, made with ``lr`` and its default or drawn hyperparameters) or an
    optimizer (module docstring); ``expect`` names the transformations its invariance card should hold
    (the rest should fail), ``dim`` and ``tol`` are the card's; ``shape=(m, n)`` checks a rule that reads
    ``rows, cols`` on an m x n matrix problem too and measures its card there.  Returns a
    :class:`RuleReport`."""
    opt = _as_optimizer(rule_or_optimizer, check_positive_scalar(lr, "lr"))
    if shape is not None:
        card_problems(shape=shape)               # a bad shape is an error naming it, before any work
    samples = check_int(hyper_samples, "hyper_samples", minimum=0)
    rng = np.random.default_rng(check_int(seed, "seed", minimum=0))
    report = RuleReport(opt.name)
    report.checks += _check_steps(opt, samples, rng, shape)
    report.checks += _check_edges(opt, shape)
    report.checks += _check_determinism(opt, threads)
    report.checks += _check_bad_hyper(opt)
    if card:
        checks, report.card = _check_card(opt, expect, dim, shape, tol)
        report.checks += checks
    return report
