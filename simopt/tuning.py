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

from ._validate import as_float_array, check_int
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
            record_every=1, record=(), keep_all=False, refine=0, **run_kwargs) -> Tuned:
    """Run ``optimizer.with_lr(lr)`` for every ``lr`` in ``lrs`` (same seed, so the same noise) and pick
    the best by the criterion above.  ``refine=k > 0`` then also tries ``2k + 1`` log-spaced rates between
    the best grid point's two neighbours and picks the best of all (``edge`` still refers to the grid).
    Extra keyword arguments go to :func:`simopt.run`."""
    grid = np.sort(as_float_array(lrs, "lrs", ndim=1, positive=True))
    refine = check_int(refine, "refine", minimum=0)
    results, scores, ndiv = {}, {}, {}

    def evaluate(lr_values):
        for lr in map(float, lr_values):
            if lr in results:
                continue
            res = run(problem, optimizer.with_lr(lr), steps, runs=runs, seed=seed,
                      record_every=record_every, record=record, **run_kwargs)
            results[lr], scores[lr], ndiv[lr] = res, run_score(res, eps, metric), int(res.diverged.sum())

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
                 results=results if keep_all else {}, result_runs=runs)
