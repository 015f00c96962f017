"""Learning-rate tuning: the best lr of each (problem cell, optimizer configuration) from its grid.

A *group* is one problem point and one optimizer point with everything but ``lr`` fixed; its cells
are the lr grid × the seeds.  For each lr the runs of all its seeds are pooled (``seeds × runs``
values, one per run) and scored:

* ``criterion="median"`` (default): the **median over runs** of

  - the final relative loss f(x_T)/f(x_0) when the spec has no ``eps``, or
  - T(eps) (theory_notes §5: first recorded step with f(x_t) <= eps f(x_0), or the gradient norm
    analogue with ``eps_metric="grad_norm"``) when it does;

  a diverged run scores ``+inf`` (and so does a censored run for T(eps)), so divergence is never
  averaged away: the median is finite only if more than half the runs are;
* ``criterion="persistent"`` (needs ``eps``): the median over runs of the *persistent* T(eps), the
  first recorded step after which the metric stays <= eps times its initial value through the end
  of the budget ("when has it converged", where the first-hit T of ``"median"`` asks "how soon can
  it get there" and rewards a run that touches eps and comes back; see
  :meth:`simopt.Result.iterations_to`);
* ``criterion="ert"`` (needs ``eps``): the expected running time, total steps spent by all runs
  divided by the number that reached eps (theory_notes §5; ``+inf`` with no success).

The scores are :func:`simopt.tuning.criterion_score` of the pooled runs, the same numbers
``simopt.tune_lr`` and ``simopt.claims`` compute.

The best lr has the smallest score; **ties go to the smaller lr** (the more conservative step).  If
no lr has a finite score there is **no pick**: ``status`` says why (``"all_diverged"`` when every
run at every lr diverged, else ``"no_finite_score"``).  An lr whose cells are not all done (pending
or failed) is not scored and is listed in ``missing``.  ``edge`` flags a best lr at the end of the
grid (``"low"`` or ``"high"``: the optimum may lie outside it) or a grid of one lr (``"single"``).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np

from ..tuning import criterion_score, pick_best  # the same rules as simopt.tune_lr
from .spec import CRITERIA, Spec
from .store import DONE, Store

__all__ = ["tune", "TuneResult", "score_cell_values", "pick_best", "CRITERIA"]


def _shared_criterion(criterion, eps) -> str:
    """The :data:`simopt.tuning.CRITERIA` name a sweep criterion stands for."""
    if criterion == "median":
        return "final" if eps is None else "first_hit"
    return criterion


def score_cell_values(result, eps=None, metric="loss", persistent=False) -> np.ndarray:
    """Per-run values a cell contributes to the median criteria: the final relative loss
    f(x_T)/f(x_0) (``eps is None``) or the first-hit (``persistent=True``: persistent) T(eps);
    ``+inf`` for diverged (and censored) runs."""
    from ..tuning import unit_values
    crit = "final" if eps is None else ("persistent" if persistent else "first_hit")
    return unit_values(result.to_result(), crit, eps, metric)


@dataclass
class TuneResult:
    """The tuning outcome of one (problem point, optimizer configuration) group."""

    group_key: str
    problem_key: str
    problem_label: str
    optimizer_label: str
    problem: dict
    optimizer: dict                 # without lr
    criterion: str                  # the criterion, in words
    lrs: list                       # the lr grid, ascending
    scores: list                    # per lr; NaN where not scored (missing)
    n_runs: list                    # pooled runs per lr
    n_diverged: list                # diverged runs per lr
    best_lr: float | None
    best_score: float | None
    status: str                     # "ok" | "all_diverged" | "no_finite_score" | "missing" | "no_lr"
    edge: str | None                # "low" | "high" | "single" | None
    missing: list = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)

    def line(self) -> str:
        if self.status == "ok":
            s = f"best lr {self.best_lr:g} (score {self.best_score:.6g})"
            if self.edge == "single":
                s += "  [single lr: nothing tuned]"
            elif self.edge:
                s += f"  [ON THE {self.edge.upper()} EDGE of the grid: widen it]"
        elif self.status == "all_diverged":
            s = "no pick: every run diverged at every lr"
        elif self.status == "no_finite_score":
            s = "no pick: no lr has a finite score (runs diverged or never reached eps)"
        elif self.status == "no_lr":
            s = "no lr to tune (the rule sets its own step)"
        else:
            s = "no pick: no lr has all its cells done"
        if self.missing:
            s += f"  (not scored, cells not done: lr {', '.join(f'{x:g}' for x in self.missing)})"
        return f"{self.problem_label} | {self.optimizer_label}: {s}"


def _criterion_text(criterion, eps, metric, n_seeds, runs):
    pooled = f"{n_seeds} seed(s) x {runs} run(s)"
    if criterion == "ert":
        return f"ERT to eps={eps:g} ({metric}, relative) over {pooled}; smaller is better"
    if eps is None:
        return f"median over {pooled} of final f(x_T)/f(x_0); diverged=+inf; ties->smaller lr"
    which = "persistent T" if criterion == "persistent" else "first-hit T"
    return (f"median over {pooled} of {which}(eps={eps:g}) ({metric}, relative); diverged or "
            f"censored=+inf; ties->smaller lr")


def tune(source, *, criterion: str | None = None, eps: float | None = None,
         eps_metric: str | None = None) -> list[TuneResult]:
    """Best lr per group (see the module docstring) for the sweep stored in ``source`` (a directory
    or a :class:`Store`).  ``criterion``, ``eps`` and ``eps_metric`` default to the spec's."""
    store = source if isinstance(source, Store) else Store(source)
    spec: Spec = store.read_spec()
    criterion = criterion or spec.criterion
    eps = spec.eps if eps is None else eps
    metric = eps_metric or spec.eps_metric
    if criterion not in CRITERIA:
        raise ValueError(f"criterion: expected one of {list(CRITERIA)}, got {criterion!r}")
    if criterion in ("ert", "persistent") and eps is None:
        raise ValueError(f"criterion: {criterion!r} needs eps")
    shared = _shared_criterion(criterion, eps)
    states = store.states(spec.hashes)
    groups: dict[str, list] = {}
    for c in spec.cells:
        groups.setdefault(c.group_key, []).append(c)
    out = []
    for gk, cells in groups.items():
        c0 = cells[0]
        by_lr: dict = {}
        for c in cells:
            by_lr.setdefault(c.lr, []).append(c)
        opt = {k: v for k, v in c0.optimizer.items() if k != "lr"}
        text = _criterion_text(criterion, eps, metric, len(spec.seeds), spec.runs)
        if list(by_lr) == [None]:
            out.append(TuneResult(gk, c0.problem_key, c0.problem_label, c0.optimizer_label,
                                  c0.problem, opt, text, [], [], [], [], None, None, "no_lr", None))
            continue
        lrs = sorted(by_lr)
        scores, n_runs, n_div, missing = [], [], [], []
        for lr in lrs:
            cs = by_lr[lr]
            if any(states[c.hash] != DONE for c in cs):
                missing.append(lr)
                scores.append(math.nan)
                n_runs.append(0)
                n_div.append(0)
                continue
            results = [store.load(c.hash) for c in cs]
            div = int(sum(int(r.arrays["diverged"].sum()) for r in results))
            runs = int(sum(r.arrays["diverged"].size for r in results))
            score = criterion_score([r.to_result() for r in results], shared, eps, metric)
            scores.append(score)
            n_runs.append(runs)
            n_div.append(div)
        b = pick_best(lrs, scores)
        scored = [i for i in range(len(lrs)) if lrs[i] not in missing]
        if b is not None:
            status = "ok"
            best_lr, best_score = lrs[b], scores[b]
            edge = "single" if len(lrs) == 1 else ("low" if b == 0 else
                                                    "high" if b == len(lrs) - 1 else None)
        else:
            best_lr = best_score = edge = None
            if not scored:
                status = "missing"
            elif all(n_div[i] == n_runs[i] for i in scored):
                status = "all_diverged"
            else:
                status = "no_finite_score"
        out.append(TuneResult(gk, c0.problem_key, c0.problem_label, c0.optimizer_label, c0.problem,
                              opt, text, lrs, scores, n_runs, n_div, best_lr, best_score, status,
                              edge, missing))
    return out
