"""In-memory learning-rate tuning: run one rule over an lr grid and keep the best.

The criterion is the one the sweeps use (``simopt.sweep.tune``): the median over runs of the final
relative loss f(x_T)/f(x_0), or of T(eps) when ``eps`` is given (theory_notes.md §5); a diverged run
scores +inf, so divergence is never averaged away.  Smallest score wins, ties go to the smaller lr;
when no lr has a finite score there is no pick (``best_lr is None``).  ``edge`` says whether the best
lr sits at an end of the grid (the optimum may lie outside it).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ._validate import as_float_array
from .engine import run
from .result import Result


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


def run_score(res: Result, eps=None, metric="loss") -> float:
    """The criterion for one lr: median over runs of final relative loss, or of T(eps)."""
    if eps is None:
        v = np.where(res.diverged, np.inf, res.final("loss", relative=True))
        v = np.where(np.isnan(v), np.inf, v)
    else:
        v = res.iterations_to(eps, metric=metric)
    return float(np.median(v))


@dataclass
class Tuned:
    """Outcome of :func:`tune_lr`.  ``result`` is the run at the best lr (``None`` without a pick)."""
    best_lr: float | None
    result: Result | None
    lrs: np.ndarray
    scores: np.ndarray
    n_diverged: np.ndarray
    edge: str | None                # "low", "high", "single" or None
    results: dict = field(default_factory=dict, repr=False)   # lr -> Result (if keep_all)

    @property
    def status(self) -> str:
        if self.best_lr is not None:
            return "ok"
        return "all_diverged" if np.all(self.n_diverged == self.result_runs) else "no_finite_score"

    result_runs: int = 0


def tune_lr(problem, optimizer, lrs, steps, runs=8, seed=0, eps=None, metric="loss",
            record_every=1, record=(), keep_all=False, **run_kwargs) -> Tuned:
    """Run ``optimizer.with_lr(lr)`` for every ``lr`` in ``lrs`` (same seed, so the same noise) and pick
    the best by the criterion above.  Extra keyword arguments go to :func:`simopt.run`."""
    lrs = np.sort(as_float_array(lrs, "lrs", ndim=1, positive=True))
    scores, ndiv, results = [], [], {}
    for lr in lrs:
        res = run(problem, optimizer.with_lr(float(lr)), steps, runs=runs, seed=seed,
                  record_every=record_every, record=record, **run_kwargs)
        scores.append(run_score(res, eps, metric))
        ndiv.append(int(res.diverged.sum()))
        results[float(lr)] = res
    scores = np.asarray(scores)
    i = pick_best(list(lrs), list(scores))
    edge = None
    if i is not None:
        edge = "single" if lrs.size == 1 else ("low" if i == 0 else ("high" if i == lrs.size - 1 else None))
    best = None if i is None else float(lrs[i])
    return Tuned(best_lr=best, result=None if best is None else results[best], lrs=lrs, scores=scores,
                 n_diverged=np.asarray(ndiv), edge=edge, results=results if keep_all else {},
                 result_runs=runs)
