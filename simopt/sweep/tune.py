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
* ``criterion="ert"`` (needs ``eps``): the expected running time, total steps spent by all runs
  divided by the number that reached eps (theory_notes §5; ``+inf`` with no success).

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

from ..tuning import pick_best  # the same rule as the in-memory simopt.tune_lr
from .spec import Spec
from .store import DONE, Store

__all__ = ["tune", "TuneResult", "score_cell_values", "pick_best"]


def score_cell_values(result, eps=None, metric="loss") -> np.ndarray:
    """Per-run values a cell contributes to the median criterion: the final relative loss
    f(x_T)/f(x_0) (``eps is None``) or T(eps); ``+inf`` for diverged (and censored) runs."""
    if eps is None:
        r = result.rel_loss()[:, -1].astype(np.float64)
        r = np.where(np.isnan(r), np.inf, r)
        return np.where(result.arrays["diverged"], np.inf, r)
    return result.iterations_to(eps, metric)


def _ert(spent: float, successes: int) -> float:
    return spent / successes if successes else math.inf


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
    return (f"median over {pooled} of T(eps={eps:g}) ({metric}, relative); diverged or censored="
            f"+inf; ties->smaller lr")


def tune(source, *, criterion: str | None = None, eps: float | None = None,
         eps_metric: str | None = None) -> list[TuneResult]:
    """Best lr per group (see the module docstring) for the sweep stored in ``source`` (a directory
    or a :class:`Store`).  ``criterion``, ``eps`` and ``eps_metric`` default to the spec's."""
    store = source if isinstance(source, Store) else Store(source)
    spec: Spec = store.read_spec()
    criterion = criterion or spec.criterion
    eps = spec.eps if eps is None else eps
    metric = eps_metric or spec.eps_metric
    if criterion not in ("median", "ert"):
        raise ValueError(f"criterion: expected 'median' or 'ert', got {criterion!r}")
    if criterion == "ert" and eps is None:
        raise ValueError("criterion: 'ert' needs eps")
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
            if criterion == "median":
                vals = np.concatenate([score_cell_values(r, eps, metric) for r in results])
                score = float(np.median(vals))
            else:
                spent = 0.0
                succ = 0
                for r in results:
                    res = r.to_result()
                    T = res.iterations_to(eps, metric=metric, relative=True)
                    ok = np.isfinite(T)
                    spent += float(np.where(ok, T, np.where(res.diverged, res.diverged_step,
                                                            res.n_steps)).sum())
                    succ += int(ok.sum())
                score = _ert(spent, succ)
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
