"""In-memory tuning: the criteria a learning rate (or another hyperparameter) is chosen by, and
``tune_lr``, which runs one rule over an lr grid and keeps the best.

Criteria (theory_notes.md §5; the same in ``simopt.sweep.tune`` and ``simopt.claims``), each a number
per candidate, smaller is better:

* ``"final"``: the median over runs of the final metric, relative to its initial value by default
  (f(x_T)/f(x_0)) -- "where is it after the budget";
* ``"first_hit"``: the median over runs of the first-hit T(eps) -- "how soon can it get there";
* ``"persistent"``: the median over runs of the persistent T(eps), the first recorded step after which
  the metric stays <= the target through the end of the budget -- "when has it converged"
  (:meth:`simopt.Result.iterations_to`);
* ``"ert"``: the expected running time to the first hit, total steps spent by all runs divided by
  the number that reached eps (``inf`` with no success).

A diverged run scores ``+inf`` (so does a censored run for the T criteria), so divergence is never
averaged away: a median is finite only if more than half the runs are.  Smallest score wins, ties go
to the smaller lr; when no lr has a finite score there is no pick.

First-hit tuning rewards a transient dip: a rule whose loss touches eps once and comes back (an
overshooting momentum or Adam trajectory, a noise floor above eps) scores as if it had converged.
Persistent tuning does not.  Final-loss tuning at a fixed budget under noise picks the smallest lr
that converges within the budget (the noise floor grows with lr).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ._validate import as_float_array, check_bool, check_int
from .engine import run
from .result import Result

#: the tuning criteria, by name (see the module docstring)
CRITERIA = ("final", "first_hit", "persistent", "ert")
#: criteria that need a target eps
NEEDS_EPS = ("first_hit", "persistent", "ert")


def check_criterion(criterion, eps, name: str = "criterion") -> str:
    """``criterion`` as one of :data:`CRITERIA`; ``ValueError`` naming the argument otherwise, or if
    it needs ``eps`` and none is given."""
    if not isinstance(criterion, str) or criterion not in CRITERIA:
        raise ValueError(f"{name}: expected one of {list(CRITERIA)}, got {criterion!r}")
    if criterion in NEEDS_EPS and eps is None:
        raise ValueError(f"{name}: {criterion!r} needs eps (the target of T(eps))")
    return criterion


def final_values(res: Result, metric="loss", relative=True) -> np.ndarray:
    """Per-run final metric (divided by its initial value with ``relative=True``); ``+inf`` for a
    diverged run, and for a non-finite ratio (``0/0`` counts as ``0``: it started at the optimum)."""
    relative = check_bool(relative, "relative")
    v = res._metric(metric)
    last = v[:, -1].astype(np.float64)
    if relative:
        first = v[:, 0]
        with np.errstate(divide="ignore", invalid="ignore"):
            last = np.where(first > 0, last / np.where(first > 0, first, 1.0),
                            np.where(last > 0, np.inf, 0.0))
    last = np.where(np.isnan(last), np.inf, last)
    return np.where(res.diverged, np.inf, last)


def unit_values(res: Result, criterion: str, eps=None, metric="loss", relative=True) -> np.ndarray:
    """Per-run values the median criteria take (``"final"``, ``"first_hit"``, ``"persistent"``);
    ``+inf`` for diverged (and, for T, censored) runs."""
    check_criterion(criterion, eps)
    if criterion == "final":
        return final_values(res, metric, relative)
    if criterion == "ert":
        raise ValueError("criterion: 'ert' is a pooled ratio, not a per-run value "
                         "(use criterion_score)")
    return res.iterations_to(eps, metric, relative, persistent=criterion == "persistent")


def criterion_score(results, criterion: str, eps=None, metric="loss", relative=True) -> float:
    """The criterion over the runs of one or several :class:`~simopt.Result` s pooled (e.g. the
    seeds or problem draws one candidate was run on): a median over all their runs, or for
    ``"ert"`` the pooled total steps spent divided by the pooled successes."""
    if isinstance(results, Result):
        results = [results]
    check_criterion(criterion, eps)
    if criterion == "ert":
        spent = sum(float(r.steps_spent(eps, metric, relative).sum()) for r in results)
        succ = sum(int(np.isfinite(r.iterations_to(eps, metric, relative)).sum()) for r in results)
        return spent / succ if succ else math.inf
    vals = np.concatenate([unit_values(r, criterion, eps, metric, relative) for r in results])
    return float(np.median(vals))


def pick_best(lrs, scores):
    """Index of the best lr: smallest finite score, ties to the smaller lr; ``None`` if none is finite."""
    best = None
    for i in sorted(range(len(lrs)), key=lambda k: lrs[k]):
        s = scores[i]
        if s is None or not math.isfinite(s):
            continue
        if best is None or s < scores[best]:
            best = i
    return best


def run_score(res: Result, eps=None, metric="loss", persistent=False) -> float:
    """:func:`tune_lr`'s criterion for one lr: the median over runs of the final relative loss
    (``eps=None``), else of the first-hit or (``persistent=True``) persistent T(eps)."""
    persistent = check_bool(persistent, "persistent")
    if eps is None:
        return criterion_score(res, "final", metric="loss")
    return criterion_score(res, "persistent" if persistent else "first_hit", eps, metric)


def with_hyper(optimizer, **hyper):
    """The same rule with some hyperparameters replaced, e.g. ``with_hyper(optim.sgd(0.1),
    momentum=0.9)``, keeping the learning rate (or schedule): :meth:`simopt.optim.Optimizer.with_hyper`.
    A wrapper's own hyperparameters (``fraction`` of ``clipped``) go to the wrapper, every other name to
    the rule inside.  Unknown names raise ``ValueError``."""
    from .optim.rule import Optimizer
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"optimizer: expected a rule from simopt.optim, got {type(optimizer).__name__}")
    return optimizer.with_hyper(**hyper)


def check_problem_and_optimizer(problem, optimizer, *, needs_lr: bool = True):
    """``TypeError`` naming ``problem`` / ``optimizer`` unless they are a simopt problem and a rule
    (with an lr to tune when ``needs_lr``)."""
    from .optim.rule import Optimizer
    from .problems import Quadratic
    if not isinstance(problem, Quadratic):
        raise TypeError(f"problem: expected a simopt problem (simopt.quadratic, ...), got "
                        f"{type(problem).__name__}")
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"optimizer: expected a rule from simopt.optim, got {type(optimizer).__name__}")
    if needs_lr and optimizer.lr is None:
        raise TypeError(f"optimizer: {optimizer.name} sets its own step size; it has no lr to tune")


@dataclass
class Tuned:
    """Outcome of :func:`tune_lr`.  ``result`` is the run at the best lr (``None`` without a pick).

    ``status``: ``"ok"`` (best lr strictly inside the grid), ``"edge"`` (best lr at an end of the
    grid, or a grid of one lr: the optimum may lie outside it; ``edge`` says which end),
    ``"all_diverged"`` or ``"no_finite_score"`` (no pick)."""
    best_lr: float | None
    result: Result | None
    lrs: np.ndarray
    scores: np.ndarray
    n_diverged: np.ndarray
    edge: str | None                # "low", "high", "single" or None
    results: dict = field(default_factory=dict, repr=False)   # lr -> Result (if keep_all)
    result_runs: int = 0
    criterion: str = ""

    @property
    def status(self) -> str:
        if self.best_lr is not None:
            return "edge" if self.edge else "ok"
        return "all_diverged" if np.all(self.n_diverged == self.result_runs) else "no_finite_score"


def tune_lr(problem, optimizer, lrs, steps, runs=8, seed=0, eps=None, metric="loss",
            record_every=1, record=(), keep_all=False, refine=0, persistent=False,
            **run_kwargs) -> Tuned:
    """Run ``optimizer.with_lr(lr)`` for every ``lr`` in ``lrs`` (same seed, so the same noise) and
    keep the one with the smallest score:

    * ``eps=None``: the median over runs of the final relative loss f(x_T)/f(x_0);
    * ``eps`` given: the median over runs of T(eps) on ``metric`` (relative to its initial value),
      the first-hit T ("how soon can it get there") or, with ``persistent=True``, the persistent T
      ("when has it converged": the first recorded step after which the metric stays <= eps times
      its initial value through the end of the budget; see :meth:`simopt.Result.iterations_to`).

    A diverged run scores ``+inf`` (and so does a censored one for T), so the median is finite only
    if more than half the runs are; ties go to the smaller lr; with no finite score there is no pick
    (``best_lr is None``).  ``refine=k > 0`` then also tries ``2k + 1`` log-spaced rates between the
    best grid point's two neighbours and picks the best of all (``edge`` and ``status`` still refer
    to the grid: ``status == "edge"`` when its best point is at an end).  Extra keyword arguments go
    to :func:`simopt.run`.  For a declared protocol with automatic refinement and tuning runs kept
    apart from evaluation runs, see :class:`simopt.TuningProtocol`."""
    check_problem_and_optimizer(problem, optimizer)
    grid = np.sort(as_float_array(lrs, "lrs", ndim=1, positive=True))
    refine = check_int(refine, "refine", minimum=0)
    persistent = check_bool(persistent, "persistent")
    keep_all = check_bool(keep_all, "keep_all")
    criterion = "final" if eps is None else ("persistent" if persistent else "first_hit")
    check_criterion(criterion, eps)
    results, scores, ndiv = {}, {}, {}

    def evaluate(lr_values):
        for lr in map(float, lr_values):
            if lr in results:
                continue
            res = run(problem, optimizer.with_lr(lr), steps, runs=runs, seed=seed,
                      record_every=record_every, record=record, **run_kwargs)
            results[lr] = res
            scores[lr] = run_score(res, eps, metric, persistent)
            ndiv[lr] = int(res.diverged.sum())

    evaluate(grid)
    i = pick_best(list(grid), [scores[float(x)] for x in grid])
    edge = None
    if i is not None:
        n = grid.size
        edge = "single" if n == 1 else ("low" if i == 0 else ("high" if i == n - 1 else None))
        if refine and n > 1:
            evaluate(np.geomspace(grid[max(i - 1, 0)], grid[min(i + 1, n - 1)], 2 * refine + 1))
    tried = np.array(sorted(results))
    all_scores = np.array([scores[x] for x in tried])
    j = pick_best(list(tried), list(all_scores))
    best = None if j is None else float(tried[j])
    return Tuned(best_lr=best, result=None if best is None else results[best], lrs=tried,
                 scores=all_scores, n_diverged=np.array([ndiv[x] for x in tried]), edge=edge,
                 results=results if keep_all else {}, result_runs=runs, criterion=criterion)
