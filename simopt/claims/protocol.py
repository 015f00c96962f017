"""``TuningProtocol``: how each method of a claim is tuned, on which units, and which units are
kept apart for evaluating it.

**Criterion** (``simopt.tuning``, theory_notes.md §5): ``"persistent"`` (median persistent T(eps):
"when has it converged"), ``"first_hit"`` (median first-hit T(eps): "how soon can it get there"),
``"final"`` (median final metric) or ``"ert"`` (expected running time to the first hit), with the
target ``eps`` on ``metric`` (``"loss"`` or ``"grad_norm"``), relative to its initial value unless
``relative=False``.  Smaller is better; ties are broken by the median final metric, then by the
smaller lr.  One more, for protocols only: ``"persistent_ert"``, the expected running time with the
persistent reading (total steps spent -- the persistent T of a unit that settles below the target,
the whole budget or the divergence step of one that does not -- over the number that settle;
:meth:`simopt.Result.ert` with ``persistent=True``, pooled over the tuning units).  A median
criterion tolerates up to half the tuning units failing, so for a rule whose T(eps) falls with the
lr right up to an edge where it stops converging -- constant-step sign descent, whose loss floor
grows with the lr, or Adam, whose late loss spikes grow with it -- it picks an lr at that edge, and a
large share of fresh evaluation units then never settle; the ERT charges every failure the whole
budget and picks an lr the tuning units converge at reliably.

**Grid.**  The lr is searched on a log10 grid from ``lr_range`` (per method: ``lr_ranges``) with
``points_per_decade`` points per decade, then refined automatically, one round at a time:

1. if the best lr is at an end of what has been tried, one more decade is added beyond that end
   (at the starting resolution);
2. else, if a neighbour of the best lr is more than ``resolution`` decades away (default 1/8), the
   midpoints (in log10) between the best lr and its two neighbours are added;
3. else the search is done (status ``"ok"``).

After ``max_rounds`` rounds the search stops: a best lr still on an end is reported as ``"edge"``
(never ``"ok"``), an interior one not yet at the resolution as ``"unrefined"``.  When every run at
every lr diverged, rounds extend the grid downwards (``"all_diverged"`` if that never helps); when no
lr has a finite score the pick falls back on the median final metric (``"no_finite_score"``).
Optionally other hyperparameters are tuned jointly with the lr: ``hyper={"HB": {"momentum": [0.5,
0.9]}}`` tunes method ``"HB"``'s momentum, the key ``"*"`` every method that has the hyperparameter;
the product of the listed values is searched, each with its own lr search, and the best pair kept
(rules rebuilt with :func:`simopt.tuning.with_hyper`).

**Units.**  An evaluation unit is a (problem draw, run) pair: a problem family given as a callable
``seed -> problem`` is drawn anew per draw seed; a run's noise stream is that of its run index
(``simopt.run(..., seed, first_run)``), and with ``starts="gaussian"`` so is its start
``x0 = x* + z``, z ~ N(0, I) (otherwise every run starts from the problem's ``x0``; noise-free runs
from one start are then identical).  The protocol gives the tuning units run indices
``0 .. tune_draws * tune_runs - 1`` (draw i owns a block of ``tune_runs``) and the evaluation units
the next ``eval_draws * eval_runs`` indices, and for a family the problem seeds ``seed + i`` (tuning
draw i) and ``seed + tune_draws + j`` (evaluation draw j).  So **no evaluation unit shares a noise
stream, a start, or (for a family) a problem draw with a tuning unit**: the tuned lr is chosen on
one set of units and the claim measured on fresh ones, and selection bias does not inflate the
result.  A fixed problem has a single draw (the draw counts apply to families).

A protocol is a frozen value: ``to_dict``/``from_dict`` (JSON) put it into reports, and
:meth:`TuningProtocol.sweep_settings` gives the matching fields of a sweep spec.
"""
from __future__ import annotations

import itertools
import json
import math
from dataclasses import asdict, dataclass, field, fields, replace

import numpy as np

from .._validate import check_bool, check_int, check_positive_scalar
from ..tuning import CRITERIA as TUNING_CRITERIA
from ..tuning import NEEDS_EPS, criterion_score, with_hyper

__all__ = ["TuningProtocol", "Units", "Runner", "TunedMethod", "tune_method", "CRITERIA",
           "protocol_score"]

#: the criteria a protocol tunes by: those of ``simopt.tuning``, and the persistent ERT
CRITERIA = TUNING_CRITERIA + ("persistent_ert",)

_METRICS = ("loss", "grad_norm")
_STARTS = ("problem", "gaussian")
_START_TAG = 0x78307374   # salt of the start stream: never equal to a noise stream's SeedSequence


def check_protocol_criterion(criterion, eps) -> str:
    """``criterion`` as one of :data:`CRITERIA` (``ValueError`` naming the argument otherwise, or
    when it needs ``eps`` and none is given)."""
    if not isinstance(criterion, str) or criterion not in CRITERIA:
        raise ValueError(f"criterion: expected one of {list(CRITERIA)}, got {criterion!r}")
    if (criterion in NEEDS_EPS or criterion == "persistent_ert") and eps is None:
        raise ValueError(f"criterion: {criterion!r} needs eps (the target of T(eps))")
    return criterion


def protocol_score(results, criterion, eps=None, metric="loss", relative=True) -> float:
    """A candidate's score over its runs (one or several :class:`simopt.Result` s, pooled):
    :func:`simopt.tuning.criterion_score`, and for ``"persistent_ert"`` the pooled persistent ERT
    (module docstring); ``inf`` when no run settles."""
    criterion = check_protocol_criterion(criterion, eps)
    if criterion != "persistent_ert":
        return criterion_score(results, criterion, eps, metric, relative)
    spent = sum(float(r.steps_spent(eps, metric, relative, persistent=True).sum()) for r in results)
    settled = sum(int(np.isfinite(r.iterations_to(eps, metric, relative, persistent=True)).sum())
                  for r in results)
    return spent / settled if settled else math.inf


def _check_range(r, name):
    if isinstance(r, (str, bytes)) or not hasattr(r, "__len__") or len(r) != 2:
        raise TypeError(f"{name}: expected a pair (low, high) of learning rates, got {r!r}")
    lo, hi = (check_positive_scalar(v, name) for v in r)
    if not lo <= hi:
        raise ValueError(f"{name}: expected low <= high, got ({lo}, {hi})")
    return (lo, hi)


def _check_values(label, k, vals):
    if not isinstance(k, str):
        raise TypeError(f"hyper[{label!r}]: expected hyperparameter names as strings, got {k!r}")
    if k == "lr":
        raise ValueError(f"hyper[{label!r}]: the lr is always tuned (lr_range); list other "
                         f"hyperparameters")
    if isinstance(vals, (str, bytes)) or not hasattr(vals, "__iter__"):
        raise TypeError(f"hyper[{label!r}][{k!r}]: expected a list of values, got {vals!r}")
    vals = tuple(v.item() if isinstance(v, np.generic) else v for v in vals)
    if not vals:
        raise ValueError(f"hyper[{label!r}][{k!r}]: expected at least one value")
    for v in vals:
        if isinstance(v, bool) or not isinstance(v, (int, float, str)):
            raise TypeError(f"hyper[{label!r}][{k!r}]: expected numbers or strings, got {v!r}")
    return vals


def _check_hyper(h):
    if not isinstance(h, dict):
        raise TypeError(f"hyper: expected a dict method label (or '*') -> {{name: values}}, got "
                        f"{type(h).__name__}")
    out = {}
    for label, d in h.items():
        if not isinstance(label, str):
            raise TypeError(f"hyper: expected method labels (or '*') as keys, got {label!r}")
        if not isinstance(d, dict):
            raise TypeError(f"hyper[{label!r}]: expected a dict name -> list of values, got "
                            f"{type(d).__name__}")
        out[label] = {k: _check_values(label, k, v) for k, v in d.items()}
    return out


@dataclass(frozen=True)
class Units:
    """A set of units: ``runs`` runs on each draw, draw k using run indices
    ``first_runs[k] .. first_runs[k] + runs - 1`` of noise seed ``noise_seed`` and problem seed
    ``draw_seeds[k]`` (``None`` for a fixed problem)."""
    role: str
    draw_seeds: tuple
    first_runs: tuple
    runs: int
    noise_seed: int

    @property
    def n_units(self) -> int:
        return len(self.draw_seeds) * self.runs

    def run_indices(self) -> list:
        return [f + r for f in self.first_runs for r in range(self.runs)]

    def pairs(self) -> set:
        """The (problem seed, run index) of every unit."""
        return {(s, f + r) for s, f in zip(self.draw_seeds, self.first_runs) for r in range(self.runs)}

    def to_dict(self) -> dict:
        return {"role": self.role, "draw_seeds": list(self.draw_seeds),
                "run_ranges": [[f, f + self.runs] for f in self.first_runs],
                "noise_seed": self.noise_seed}


@dataclass(frozen=True)
class TuningProtocol:
    """A declared tuning protocol (see the module docstring for every field's meaning)."""
    criterion: str = "persistent"
    eps: float | None = 1e-4
    metric: str = "loss"
    relative: bool = True
    lr_range: tuple = (1e-4, 1.0)
    lr_ranges: dict = field(default_factory=dict)
    points_per_decade: int = 2
    resolution: float = 0.125
    max_rounds: int = 8
    hyper: dict = field(default_factory=dict)
    tune_draws: int = 1
    tune_runs: int = 8
    eval_draws: int = 1
    eval_runs: int = 16
    starts: str = "problem"
    seed: int = 0

    def __post_init__(self):
        s = object.__setattr__
        eps = None if self.eps is None else check_positive_scalar(self.eps, "eps")
        s(self, "eps", eps)
        s(self, "criterion", check_protocol_criterion(self.criterion, eps))
        if not isinstance(self.metric, str) or self.metric not in _METRICS:
            raise ValueError(f"metric: expected one of {_METRICS}, got {self.metric!r}")
        s(self, "relative", check_bool(self.relative, "relative"))
        s(self, "lr_range", _check_range(self.lr_range, "lr_range"))
        if not isinstance(self.lr_ranges, dict):
            raise TypeError(f"lr_ranges: expected a dict method -> (low, high), got "
                            f"{type(self.lr_ranges).__name__}")
        s(self, "lr_ranges", {str(k): _check_range(v, f"lr_ranges[{k!r}]")
                              for k, v in self.lr_ranges.items()})
        s(self, "points_per_decade", check_int(self.points_per_decade, "points_per_decade", 1))
        res = check_positive_scalar(self.resolution, "resolution")
        if res > 1.0 / self.points_per_decade:
            raise ValueError(f"resolution: expected at most the starting step "
                             f"1/points_per_decade = {1.0 / self.points_per_decade:g} decades, got {res:g}")
        s(self, "resolution", res)
        s(self, "max_rounds", check_int(self.max_rounds, "max_rounds", 0))
        s(self, "hyper", _check_hyper(self.hyper))
        for name in ("tune_draws", "tune_runs", "eval_draws", "eval_runs"):
            s(self, name, check_int(getattr(self, name), name, 1))
        if not isinstance(self.starts, str) or self.starts not in _STARTS:
            raise ValueError(f"starts: expected one of {_STARTS}, got {self.starts!r}")
        s(self, "seed", check_int(self.seed, "seed", 0))

    # ---- serialisation --------------------------------------------------------------------
    def to_dict(self) -> dict:
        """JSON-able fields (``from_dict`` inverts it exactly)."""
        d = asdict(self)
        d["lr_range"] = list(self.lr_range)
        d["lr_ranges"] = {k: list(v) for k, v in self.lr_ranges.items()}
        d["hyper"] = {m: {k: list(v) for k, v in h.items()} for m, h in self.hyper.items()}
        return d

    @classmethod
    def from_dict(cls, d) -> "TuningProtocol":
        if not isinstance(d, dict):
            raise TypeError(f"d: expected a dict (TuningProtocol.to_dict), got {type(d).__name__}")
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise ValueError(f"d: unknown protocol field(s) {unknown}; expected names among {sorted(names)}")
        kw = dict(d)
        if "lr_range" in kw and isinstance(kw["lr_range"], list):
            kw["lr_range"] = tuple(kw["lr_range"])
        if "lr_ranges" in kw and isinstance(kw["lr_ranges"], dict):
            kw["lr_ranges"] = {k: tuple(v) for k, v in kw["lr_ranges"].items()}
        return cls(**kw)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "TuningProtocol":
        return cls.from_dict(json.loads(text))

    def replace(self, **changes) -> "TuningProtocol":
        """A copy with some fields changed (validated again)."""
        return replace(self, **changes)

    def sweep_settings(self) -> dict:
        """The fields of a sweep spec (``simopt.sweep``) that tune the same way: ``criterion``,
        ``eps``, ``eps_metric``.  A sweep tunes on its fixed lr grid (no automatic refinement)
        and by relative targets only."""
        if not self.relative:
            raise ValueError("relative: a sweep's T(eps) is relative to the initial value; this "
                             "protocol uses an absolute target")
        if self.criterion == "final":
            if self.metric != "loss":
                raise ValueError("metric: a sweep's final-value criterion is the relative loss")
            return {"criterion": "median"}
        if self.criterion == "persistent_ert":
            raise ValueError("criterion: a sweep has no persistent ERT criterion (it tunes by "
                             "'median', 'persistent' or 'ert')")
        crit = {"first_hit": "median", "persistent": "persistent", "ert": "ert"}[self.criterion]
        return {"criterion": crit, "eps": self.eps, "eps_metric": self.metric}

    # ---- text -----------------------------------------------------------------------------
    def target_text(self) -> str:
        if self.eps is None:
            return ""
        return f"eps={self.eps:g} on {'the relative ' if self.relative else ''}{self.metric}"

    def criterion_text(self) -> str:
        what = {"persistent": "median persistent T(eps)", "first_hit": "median first-hit T(eps)",
                "final": f"median final {'relative ' if self.relative else ''}{self.metric}",
                "ert": "ERT to eps (first hit)",
                "persistent_ert": "ERT to eps (persistent T)"}[self.criterion]
        tgt = self.target_text()
        return what + (f", {tgt}" if tgt and self.criterion != "final" else "")

    def describe(self) -> str:
        lo, hi = self.lr_range
        extra = "; jointly with " + ", ".join(
            f"{k} in {list(v)} ({'every method' if m == '*' else m})"
            for m, h in self.hyper.items() for k, v in h.items()) if self.hyper else ""
        return (f"lr tuned by the {self.criterion_text()} on a log grid {lo:g}..{hi:g} "
                f"({self.points_per_decade}/decade, refined to <= {self.resolution:g} decade around "
                f"the optimum, at most {self.max_rounds} rounds){extra}; tuning units "
                f"{self.tune_draws} draw(s) x {self.tune_runs} run(s), evaluation on "
                f"{self.eval_draws} other draw(s) x {self.eval_runs} other run(s)")

    # ---- units ----------------------------------------------------------------------------
    def tuning_units(self, fixed_problem: bool = False) -> Units:
        """The units tuning runs on (module docstring)."""
        n = 1 if fixed_problem else self.tune_draws
        seeds = (None,) * n if fixed_problem else tuple(self.seed + i for i in range(n))
        return Units("tuning", seeds, tuple(i * self.tune_runs for i in range(n)),
                     self.tune_runs, self.seed)

    def evaluation_units(self, fixed_problem: bool = False) -> Units:
        """The units a claim is measured on, disjoint from :meth:`tuning_units`."""
        nt = 1 if fixed_problem else self.tune_draws
        n = 1 if fixed_problem else self.eval_draws
        base = nt * self.tune_runs
        seeds = (None,) * n if fixed_problem else tuple(self.seed + nt + j for j in range(n))
        return Units("evaluation", seeds, tuple(base + j * self.eval_runs for j in range(n)),
                     self.eval_runs, self.seed)

    def lr_range_for(self, label) -> tuple:
        return self.lr_ranges.get(str(label), self.lr_range)

    def hyper_for(self, label, optimizer) -> dict:
        """The hyperparameters tuned jointly with the lr for method ``label`` (those it has)."""
        own = optimizer.hyperparams()
        grid = {k: v for k, v in self.hyper.get("*", {}).items() if k in own}
        specific = self.hyper.get(str(label), {})
        unknown = sorted(set(specific) - set(own))
        if unknown:
            raise ValueError(f"hyper[{label!r}]: {optimizer.name} has no hyperparameter(s) {unknown}; "
                             f"it has {sorted(own)}")
        grid.update(specific)
        return grid


# ------------------------------------------------------------------------------------------------
def family_problem(family, seed):
    """The problem of draw ``seed``: ``family`` itself if it is a problem, else ``family(seed)``."""
    from ..problems import Quadratic
    if isinstance(family, Quadratic):
        return family
    p = family(seed)
    if not isinstance(p, Quadratic):
        raise TypeError(f"family: expected a simopt problem or a callable seed -> problem; "
                        f"family({seed}) returned {type(p).__name__}")
    return p


def is_fixed(family) -> bool:
    from ..problems import Quadratic
    if isinstance(family, Quadratic):
        return True
    if callable(family):
        return False
    raise TypeError(f"family: expected a simopt problem or a callable seed -> problem, got "
                    f"{type(family).__name__}")


def start_points(problem, run_indices, seed) -> np.ndarray:
    """``x* + z`` per run, z ~ N(0, I) from the run's own start stream (seed, run index)."""
    out = np.empty((len(run_indices), problem.dim))
    for k, r in enumerate(run_indices):
        rng = np.random.default_rng(np.random.SeedSequence((seed, int(r), _START_TAG)))
        out[k] = problem.xstar + rng.standard_normal(problem.dim)
    return out


class Runner:
    """Runs rules on units through :func:`simopt.run`, each (family, draw, rule, units, budget)
    once: the tuning of a variant that changes nothing about a run reuses it, and so do claims
    checked with the same runner (``Claim.check(runner=...)``)."""

    def __init__(self, progress=None):
        self._problems = {}
        self._results = {}
        self._families = []      # keep the families alive: their ids key the caches
        self.calls = 0
        self.progress = progress

    def problem(self, family, draw_seed):
        key = (id(family), draw_seed)
        if key not in self._problems:
            self._families.append(family)
            self._problems[key] = family_problem(family, draw_seed)
        return self._problems[key]

    def run(self, family, optimizer, units: Units, steps, record_every=1, starts="problem",
            start_seed=0, record=()) -> list:
        """One :class:`simopt.Result` per draw of ``units`` (``record``: the engine's extra
        per-record quantities, e.g. ``("sharpness",)``)."""
        from ..engine import run
        out = []
        desc = json.dumps(optimizer.describe(), sort_keys=True, default=str)
        record = tuple(record)
        for seed, first in zip(units.draw_seeds, units.first_runs):
            key = (id(family), seed, desc, first, units.runs, units.noise_seed, steps, record_every,
                   starts, start_seed, record)
            if key not in self._results:
                p = self.problem(family, seed)
                x0 = None
                if starts == "gaussian":
                    x0 = start_points(p, range(first, first + units.runs), start_seed)
                self._results[key] = run(p, optimizer, steps, runs=units.runs, seed=units.noise_seed,
                                         first_run=first, record_every=record_every, x0=x0,
                                         record=record)
                self.calls += 1
                if self.progress is not None:
                    self.progress.update(1)
            out.append(self._results[key])
        return out


@dataclass
class TunedMethod:
    """A method tuned under a protocol: the rule at its chosen hyperparameters and how it got there.

    ``status``: ``"ok"`` | ``"edge"`` | ``"unrefined"`` | ``"no_finite_score"`` | ``"all_diverged"``
    (see :mod:`simopt.claims.protocol`) or ``"fixed"`` (a rule without an lr, not tuned)."""
    label: str
    optimizer: object
    lr: float | None
    hyper: dict
    score: float
    status: str
    edge: str | None
    rounds: int
    step_decades: float | None
    history: list

    def to_dict(self) -> dict:
        return {"label": self.label, "optimizer": self.optimizer.describe(), "lr": self.lr,
                "hyper": self.hyper, "score": self.score, "status": self.status, "edge": self.edge,
                "rounds": self.rounds, "step_decades": self.step_decades, "history": self.history}


def _key(score, tiebreak, loglr):
    return (score, tiebreak, loglr)


def _next_round(xs, i, table, protocol, step0):
    """(status, edge, step, lrs to add) for the tried log10 lrs ``xs`` with the best at ``xs[i]``."""
    ext = protocol.points_per_decade          # one decade per extension
    tol = protocol.resolution * (1 + 1e-9)
    gaps = ([xs[i] - xs[i - 1]] if i > 0 else []) + ([xs[i + 1] - xs[i]] if i + 1 < len(xs) else [])
    step = max(gaps) if gaps else None
    if all(table[x][2] == table[x][3] for x in xs):
        return "all_diverged", None, step, [xs[0] - k * step0 for k in range(1, ext + 1)]
    if i == 0:
        return "edge", "low", step, [xs[0] - k * step0 for k in range(1, ext + 1)]
    if i == len(xs) - 1:
        return "edge", "high", step, [xs[-1] + k * step0 for k in range(1, ext + 1)]
    lo_gap, hi_gap = xs[i] - xs[i - 1], xs[i + 1] - xs[i]
    todo = ([xs[i] - lo_gap / 2] if lo_gap > tol else []) + ([xs[i] + hi_gap / 2] if hi_gap > tol else [])
    return ("unrefined" if todo else "ok"), None, step, todo


def _search_lr(score_of, protocol: TuningProtocol, lr_range):
    """The lr search of the module docstring for one hyperparameter setting.  ``score_of(lr)``
    gives ``(score, tiebreak, n_diverged, n_runs)``.  Returns (best log10 lr, table, status, edge,
    rounds, step in decades at the best)."""
    step0 = 1.0 / protocol.points_per_decade
    lo, hi = (math.log10(x) for x in lr_range)
    n = int(math.floor((hi - lo) / step0 + 1e-9))
    table = {}

    def add(xs):
        for x in xs:
            x = round(float(x), 10)
            if x not in table:
                table[x] = score_of(10.0 ** x)

    add([lo + k * step0 for k in range(n + 1)] + ([hi] if hi - (lo + n * step0) > 1e-9 else []))
    rounds = 0
    while True:
        xs = sorted(table)
        i = min(range(len(xs)), key=lambda k: _key(*table[xs[k]][:2], xs[k]))
        status, edge, step, todo = _next_round(xs, i, table, protocol, step0)
        if not todo or rounds >= protocol.max_rounds:
            if status != "all_diverged" and not math.isfinite(table[xs[i]][0]):
                status = "no_finite_score"
            return xs[i], table, status, edge, rounds, step
        add(todo)
        rounds += 1


def tune_method(runner: Runner, family, label, optimizer, protocol: TuningProtocol, steps,
                record_every=1) -> TunedMethod:
    """Tune ``optimizer`` (its lr, and the protocol's other hyperparameters it has) on the
    protocol's tuning units of ``family``; see the module docstring."""
    units = protocol.tuning_units(is_fixed(family))
    if optimizer.lr is None:
        return TunedMethod(label, optimizer, None, {}, math.nan, "fixed", None, 0, None, [])
    grid = protocol.hyper_for(label, optimizer)
    names = list(grid)
    combos = [dict(zip(names, vals)) for vals in itertools.product(*(grid[k] for k in names))]
    history, candidates = [], []
    for hyper in combos:
        base = with_hyper(optimizer, **hyper) if hyper else optimizer

        def score_of(lr, base=base, hyper=hyper):
            results = runner.run(family, base.with_lr(lr), units, steps, record_every,
                                 protocol.starts, protocol.seed)
            score = protocol_score(results, protocol.criterion, protocol.eps, protocol.metric,
                                    protocol.relative)
            tie = criterion_score(results, "final", metric=protocol.metric, relative=protocol.relative)
            ndiv = sum(int(r.diverged.sum()) for r in results)
            nrun = sum(r.runs for r in results)
            history.append({"lr": lr, **hyper, "score": score, "final": tie, "diverged": ndiv,
                            "runs": nrun})
            return score, tie, ndiv, nrun

        best, table, status, edge, rounds, step = _search_lr(score_of, protocol,
                                                             protocol.lr_range_for(label))
        sc, tie = table[best][0], table[best][1]
        candidates.append((_key(sc, tie, best), hyper, base, best, status, edge, rounds, step))
    candidates.sort(key=lambda c: c[0])
    (sc, _, _), hyper, base, best, status, edge, rounds, step = candidates[0]
    lr = float(10.0 ** best)
    return TunedMethod(label, base.with_lr(lr), lr, hyper, float(sc), status, edge,
                       sum(c[6] for c in candidates), step, history)

