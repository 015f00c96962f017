"""What the Balles & Hennig (2018) reproductions ``balles2018_fig2`` and ``balles2018_methods`` share:
the gradient-noise models of a stochastic quadratic at a common level, the protocol settings a claim
is measured under (primary and variants), tuning and evaluating rules cell by cell on disjoint units,
worst-case statistics over cells, and claims decided from their bootstrap intervals.

**Noise at level c** (seed_math.md §4).  Every model has the same total power at the start,
E‖ξ‖² = c²·tr(H²) = c²·E‖∇f(x₀)‖² for x₀ = x* + z, z ~ N(0, I), and differs in how the power is spread
over the eigendirections (σᵢ² is the variance along eigenvector i, λᵢ its eigenvalue):

* ``"H^2"``: Cov ξ = c² H² (σᵢ = c λᵢ) -- Balles's own stochastic quadratic (DeepOBS
  ``testproblems/_quadratic.py``: per-example loss ½(θ − x)ᵀQ(θ − x), x ~ N(0, 0.6² I), minibatches of
  B, so Cov = 0.36 Q²/B, i.e. c² = 0.36/B);
* ``"isotropic"``: Cov ξ = s² I with s = c·(tr(H²)/d)^½;
* ``"H-aligned"``: Cov ξ = s² H with s = c·(tr(H²)/tr(H))^½ (the NQM's noise, seed_math.md §5).

**Cells and units.**  A cell is one problem (a fixed quadratic at a noise level).  In each cell every
rule's lr is tuned by :func:`simopt.claims.protocol.tune_method` on the protocol's tuning runs and
measured on its evaluation runs -- other run indices, so other noise streams and other starts
x₀ = x* + z (``starts="gaussian"``): no evaluation unit was seen by the tuning.  All rules and cells use
the same run indices, so a unit is "run r" everywhere and the bootstrap resamples the units of all the
arms of a claim jointly (paired).  The measured value of a unit is its final relative loss
f(x_T)/f(x₀), floored at :data:`FLOOR` (below it a run counts as solved; ratios of smaller numbers
carry no meaning), +inf for a diverged run.

**Settings.**  A :class:`Setting` is one row of a claim's table: the primary protocol or a variant
(another tuning criterion, a finer lr grid, the mean instead of the median over runs, another noise
model).  The persistent / first-hit T(eps) criteria tune to a target eps per cell fixed by a rule
declared in advance (:func:`target_eps`): twice the smaller of the claimed rules' median final
relative losses under the final-loss tuning of the same noise model, on the tuning runs -- the level
the better rule converges to, so the variant asks whether choosing each lr by when it gets (and
stays) near that level, instead of by where it ends, changes the verdict.  A rule that never gets
there at any lr is tuned by its median final loss (the protocol's fallback; its search status is
``"no_finite_score"`` in the tuning table).  (A target at the worse rule's level would tune the better
rule to stop being better: its fastest lr to that level ends near that level.)

**Statistics over cells.**  A claim that holds "in every cell" is decided on its worst cell: the
largest (or smallest) of the per-cell log10 ratios, or the largest absolute one for "roughly equal".
The bootstrap interval of the worst cell is a simultaneous statement about all of them.
"""
from __future__ import annotations

import math
import zlib
from dataclasses import dataclass

import numpy as np

from simopt import noise as nz
from simopt.claims import ClaimResult, Sample, Statistic, TuningProtocol, bootstrap_interval
from simopt.claims.protocol import Runner, tune_method
from simopt.claims.verdicts import check_status, overall_status, side_text, verdict
from simopt.tuning import final_values

FLOOR = 1e-12
#: the tuning criteria that need a target eps
T_CRITERIA = ("persistent", "first_hit")
#: the T(eps) criteria tune to this multiple of the best claimed rule's median final relative loss
EPS_FACTOR = 2.0
AGGREGATES = {"median": np.median, "mean": np.mean}


# ---- noise models ------------------------------------------------------------------------------
def squared_hessian_noise(problem, c):
    """Cov ξ = c² H² (Balles's DeepOBS stochastic quadratic; module docstring)."""
    H = problem.hessian()
    return nz.correlated_gaussian(c ** 2 * (H @ H))


def isotropic_noise(problem, c):
    """Cov ξ = c² tr(H²)/d · I: the total power of :func:`squared_hessian_noise`, spread evenly."""
    lam = problem.eigvals
    return nz.gaussian(c * math.sqrt(float(np.sum(lam ** 2)) / lam.size))


def hessian_aligned_noise(problem, c):
    """Cov ξ = c² tr(H²)/tr(H) · H: the total power of :func:`squared_hessian_noise`, ∝ H (NQM)."""
    lam = problem.eigvals
    return nz.hessian_aligned(c * math.sqrt(float(np.sum(lam ** 2) / np.sum(lam))))


#: name -> (constructor (problem, c) -> noise, description)
NOISE_MODELS = {
    "H^2": (squared_hessian_noise,
            "Cov = c^2 H^2 (Balles's DeepOBS stochastic quadratic: minibatched data, Cov = 0.36 H^2/B)"),
    "isotropic": (isotropic_noise, "Cov = c^2 tr(H^2)/d I (isotropic, same E||xi||^2)"),
    "H-aligned": (hessian_aligned_noise, "Cov = c^2 tr(H^2)/tr(H) H (NQM-style, same E||xi||^2)"),
}


# ---- settings ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Setting:
    """One row of a claim's table: how the lrs are tuned, on which noise model, and how the
    evaluation runs of a cell are aggregated."""
    name: str
    description: str
    noise: str = "H^2"
    criterion: str = "final"
    resolution: float = 0.125
    aggregate: str = "median"

    def __post_init__(self):
        if self.noise not in NOISE_MODELS:
            raise ValueError(f"noise: expected one of {list(NOISE_MODELS)}, got {self.noise!r}")
        if self.criterion not in ("final",) + T_CRITERIA:
            raise ValueError(f"criterion: expected 'final', 'persistent' or 'first_hit', got "
                             f"{self.criterion!r}")
        if self.aggregate not in AGGREGATES:
            raise ValueError(f"aggregate: expected one of {list(AGGREGATES)}, got {self.aggregate!r}")

    @property
    def runs_key(self) -> tuple:
        """Settings with the same key share their tuning and evaluation runs."""
        return (self.noise, self.criterion, self.resolution)

    @property
    def reference_key(self) -> tuple:
        """The final-loss setting whose tuning fixes this one's target eps."""
        return (self.noise, "final", self.resolution)

    def to_dict(self) -> dict:
        return {"name": self.name, "description": self.description, "noise": self.noise,
                "tuning_criterion": self.criterion, "resolution_decades": self.resolution,
                "aggregate": self.aggregate}


def standard_settings(primary_noise="H^2") -> list:
    """The primary protocol (median final relative loss; lr tuned by it on a grid refined to
    1/8 decade) and its variants: tuned by the persistent or the first-hit T(eps), a 1/16-decade
    grid, the mean over runs, and the other noise models."""
    out = [Setting("primary", f"{primary_noise} noise; lr tuned by the median final relative loss; "
                              f"median over runs", noise=primary_noise),
           Setting("tuned by persistent T", "lr tuned by the median persistent T(eps) (reach eps and "
                                            "stay below it), eps per cell by the declared rule",
                   noise=primary_noise, criterion="persistent"),
           Setting("tuned by first-hit T", "lr tuned by the median first-hit T(eps), eps per cell by "
                                           "the declared rule", noise=primary_noise, criterion="first_hit"),
           Setting("finer grid (1/16 decade)", "lr refined to <= 1/16 decade around each optimum",
                   noise=primary_noise, resolution=1.0 / 16),
           Setting("mean over runs", "the mean over evaluation runs instead of the median (the "
                                     "curves' mean +-1 std convention)", noise=primary_noise,
                   aggregate="mean")]
    out += [Setting(f"{n} noise", NOISE_MODELS[n][1], noise=n) for n in NOISE_MODELS if n != primary_noise]
    return out


# ---- running cells -----------------------------------------------------------------------------
def target_eps(scores) -> float:
    """The T(eps) criteria's target in a cell: ``EPS_FACTOR`` x the smallest of the claimed rules'
    median final relative losses on the tuning runs under final-loss tuning (at least FLOOR)."""
    return EPS_FACTOR * max(FLOOR, min(float(s) for s in scores))


class Experiment:
    """Rules tuned and evaluated cell by cell under several settings (module docstring).

    ``cells``: key (tuple of names) -> (noise-free problem, noise level c); ``methods``: label ->
    rule; ``lr_range(label, problem)``: the starting lr range of a rule (``grid_text`` says what
    it is, for the claims' text); ``claimed``: the labels whose final losses fix the T(eps) target."""

    def __init__(self, cells, methods, lr_range, *, steps, tune_runs, eval_runs, record_every, seed,
                 grid_text, claimed=None):
        self.cells, self.methods, self.lr_range = dict(cells), dict(methods), lr_range
        self.steps, self.record_every = int(steps), int(record_every)
        self.tune_runs, self.eval_runs, self.seed = int(tune_runs), int(eval_runs), int(seed)
        self.claimed = tuple(claimed or self.methods)
        self.grid_text = str(grid_text)
        self.runner = Runner()
        self._problems = {}
        self.tuned, self.results, self.samples, self.protocols, self.eps = {}, {}, {}, {}, {}

    def problem(self, cell, noise):
        """The cell's problem under a noise model (the noise-free one is shared by all models, so
        its runs are made once)."""
        base, c = self.cells[cell]
        if c == 0:
            return base
        key = (cell, noise)
        if key not in self._problems:
            self._problems[key] = base.with_noise(NOISE_MODELS[noise][0](base, c))
        return self._problems[key]

    def protocol(self, cell, criterion, resolution, eps=None) -> TuningProtocol:
        base, _ = self.cells[cell]
        return TuningProtocol(
            criterion=criterion, eps=eps, metric="loss", relative=True,
            lr_ranges={m: self.lr_range(m, base) for m in self.methods}, points_per_decade=2,
            resolution=resolution, tune_draws=1, tune_runs=self.tune_runs, eval_draws=1,
            eval_runs=self.eval_runs, starts="gaussian", seed=self.seed)

    def run(self, settings):
        """Tune and evaluate every rule in every cell under each distinct setting; final-loss
        settings first, since they fix the T(eps) targets."""
        keys = []
        for s in sorted(settings, key=lambda s: s.criterion != "final"):
            for k in ([s.reference_key] if s.criterion in T_CRITERIA else []) + [s.runs_key]:
                if k not in keys:
                    keys.append(k)
        for key in keys:
            if any(k[0] == key for k in self.samples):
                continue
            noise, criterion, resolution = key
            for cell in self.cells:
                eps = None
                if criterion in T_CRITERIA:
                    ref = (noise, "final", resolution)
                    eps = target_eps(self.tuned[(ref, cell, m)].score for m in self.claimed)
                    self.eps[(key, cell)] = eps
                prot = self.protocol(cell, criterion, resolution, eps)
                self.protocols[(key, cell)] = prot
                p = self.problem(cell, noise)
                units = prot.evaluation_units(fixed_problem=True)
                for m, rule in self.methods.items():
                    t = tune_method(self.runner, p, m, rule, prot, self.steps, self.record_every)
                    (res,) = self.runner.run(p, t.optimizer, units, self.steps, self.record_every,
                                             prot.starts, prot.seed)
                    self.tuned[(key, cell, m)] = t
                    self.results[(key, cell, m)] = res
                    self.samples[(key, cell, m)] = Sample.exact(
                        np.maximum(final_values(res, "loss", relative=True), FLOOR)[None, :])

    # ---- what a claim reads ------------------------------------------------------------------
    def arms(self, setting, cells, methods=None) -> dict:
        """``{arm: Sample}`` of the cells' rules under ``setting``, arm = :func:`arm`."""
        methods = self.methods if methods is None else methods
        return {arm(c, m): self.samples[(setting.runs_key, c, m)] for c in cells for m in methods}

    def tuning_table(self, settings) -> dict:
        """Per setting, cell and rule: the tuned lr, its search status and the T(eps) target."""
        out = {}
        for s in settings:
            if s.runs_key in {x.runs_key for x in settings[:settings.index(s)]}:
                continue
            rows = {}
            for cell in self.cells:
                rows[cell_name(cell)] = {
                    m: {"lr": t.lr, "status": t.status, "edge": t.edge, "score": t.score,
                        "lrs_tried": len(t.history), "step_decades": t.step_decades,
                        "eps": self.eps.get((s.runs_key, cell))}
                    for m in self.methods for t in [self.tuned[(s.runs_key, cell, m)]]}
            out[s.name] = rows
        return out

    def final_table(self, settings) -> dict:
        """Per setting, cell and rule: median and mean of the floored final relative losses of the
        evaluation runs, and how many diverged."""
        out = {}
        for s in settings:
            if s.runs_key in {x.runs_key for x in settings[:settings.index(s)]}:
                continue
            out[s.name] = {cell_name(c): {
                m: {"median": float(np.median(v)), "mean": float(np.mean(v)),
                    "diverged": int(self.results[(s.runs_key, c, m)].diverged.sum())}
                for m in self.methods for v in [self.samples[(s.runs_key, c, m)].lo]}
                for c in self.cells}
        return out

    def units(self) -> dict:
        prot = next(iter(self.protocols.values()))
        return {"tuning": prot.tuning_units(True).to_dict(),
                "evaluation": prot.evaluation_units(True).to_dict()}


def cell_name(cell) -> str:
    return "/".join(cell)


def arm(cell, method) -> str:
    return f"{cell_name(cell)}/{method}"


# ---- statistics over cells ---------------------------------------------------------------------
def _log_ratios(v, pairs, how):
    agg = AGGREGATES[how]
    return np.stack([np.log10(agg(v[a], axis=-1)) - np.log10(agg(v[b], axis=-1)) for a, b in pairs])


def _check_pairs(pairs):
    pairs = [tuple(p) for p in pairs]
    arms = [a for p in pairs for a in p]
    if not pairs or len(set(arms)) != len(arms):
        raise ValueError(f"pairs: expected (numerator, denominator) pairs of distinct arms, got {pairs}")
    return pairs


def worst_log_ratio(pairs, how="median", worst="max", label="a / b") -> Statistic:
    """The largest (``worst="max"``) or smallest (``"min"``) over ``pairs`` of
    log10(agg[num] / agg[den]), agg the median or mean over units: non-decreasing in the numerators'
    values and non-increasing in the denominators'.  ``label`` names the ratio in the text."""
    pairs = _check_pairs(pairs)
    red = {"max": np.max, "min": np.min}[worst]
    return Statistic(f"{worst} over {len(pairs)} cell(s) of log10({how} {{m}} ratio {label})",
                     lambda v: red(_log_ratios(v, pairs, how), axis=0),
                     tuple(a for a, _ in pairs), tuple(b for _, b in pairs), True)


def worst_abs_log_ratio(pairs, how="median", label="a / b") -> Statistic:
    """The largest over ``pairs`` of |log10(agg[num] / agg[den])|.  Not monotone in the arms, so
    only for exact unit values (final losses; :func:`decide` checks that none is censored)."""
    pairs = _check_pairs(pairs)
    return Statistic(f"max over {len(pairs)} cell(s) of |log10({how} {{m}} ratio {label})|",
                     lambda v: np.max(np.abs(_log_ratios(v, pairs, how)), axis=0),
                     tuple(a for a, _ in pairs), tuple(b for _, b in pairs), True)


def cell_intervals(samples, pairs, how, seed) -> list:
    """Per pair: (value, low, high) of log10(agg[num] / agg[den]), paired bootstrap."""
    out = []
    for p in pairs:
        iv = bootstrap_interval(samples, worst_log_ratio([p], how), seed=seed)
        out.append((iv.value, iv.low, iv.high))
    return out


# ---- deciding a claim --------------------------------------------------------------------------
@dataclass(frozen=True)
class Control:
    """A negative control of a claim decided from samples: the same statistic on cells where the
    mechanism is absent, with the verdict(s) expected there."""
    name: str
    description: str
    cells: tuple
    expected: tuple = ("FAIL",)


def _row(samples, statistic, at_least, at_most, seed):
    for a in statistic.arms:
        if samples[a].n_censored:
            raise ValueError(f"samples[{a!r}]: censored values; these statistics take final losses")
    iv = bootstrap_interval({a: samples[a] for a in statistic.arms}, statistic, seed=seed)
    return iv, verdict(iv.low, iv.high, at_least, at_most)


def decide(exp: Experiment, settings, *, id, statement, pairs_of, statistic_of, at_least=None,
           at_most=None, cells, expected, reason="", mode="full", kind="paper",
           control=None) -> ClaimResult:
    """Decide a claim on ``cells`` under each setting: ``pairs_of(cells)`` gives the (numerator,
    denominator) arms, ``statistic_of(pairs, aggregate)`` the statistic; the first setting is the
    primary protocol, the others its variants; ``control`` (if any) is checked under the primary.
    ``expected``: a status, or ``{"quick": ..., "full": ...}``."""
    seed = zlib.crc32(id.encode())
    primary, variants = settings[0], settings[1:]
    rows, details = {}, {"settings": {}, "cells": {}}
    pairs = pairs_of(cells)
    for s in settings:
        samples = exp.arms(s, cells)
        iv, ver = _row(samples, statistic_of(pairs, s.aggregate), at_least, at_most, seed)
        rows[s.name] = (s, iv, ver)
        details["settings"][s.name] = s.to_dict()
        details["cells"][s.name] = {f"{a} : {b}": {"value": v, "interval": [lo, hi]} for (a, b), (v, lo, hi)
                                    in zip(pairs, cell_intervals(samples, pairs, s.aggregate, seed))}
    _, piv, pver = rows[primary.name]
    var = {s.name: {"description": s.description, "verdict": v, "value": iv.value,
                    "interval": [iv.low, iv.high], "value_bounds": [iv.value_low, iv.value_high]}
           for s, iv, v in (rows[x.name] for x in variants)}
    overall, flips = overall_status(pver, {n: r["verdict"] for n, r in var.items()})
    stat = statistic_of(pairs, primary.aggregate)
    first = next(iter(cells))
    prot = exp.protocols[(primary.runs_key, first)]
    text = (f"{stat.describe('final loss')} {side_text(at_least, at_most)}; final loss = f(x_T)/f(x_0) "
            f"after {exp.steps} steps, floored at {FLOOR:g}; lr per cell and method tuned by the "
            f"{prot.criterion_text()} on a log grid ({exp.grid_text}; {prot.points_per_decade}/decade refined "
            f"to <= {prot.resolution:g} decade) on {prot.tune_runs} tuning runs, measured on "
            f"{prot.eval_runs} other runs; 95% paired bootstrap CI")
    ctrl = None
    if control is not None:
        cpairs = pairs_of(control.cells)
        civ, cver = _row(exp.arms(primary, control.cells), statistic_of(cpairs, primary.aggregate),
                         at_least, at_most, seed)
        ctrl = {"name": control.name, "description": control.description,
                "expected": list(control.expected), "verdict": cver, "value": civ.value,
                "interval": [civ.low, civ.high], "value_bounds": [civ.value_low, civ.value_high],
                "as_expected": cver in control.expected,
                "cells": [cell_name(c) for c in control.cells]}
    exp_status = expected[mode] if isinstance(expected, dict) else expected
    details.update({"interval": piv.to_dict(), "statistic": stat.to_dict(),
                    "pairs": [list(p) for p in pairs]})
    return ClaimResult(
        id=id, statement=statement, kind=kind, criterion=text, verdict=pver, value=piv.value,
        interval=(piv.low, piv.high), overall=overall, expected=check_status(exp_status), reason=reason,
        variants=var, flips=flips, control=ctrl,
        protocol={cell_name(c): exp.protocols[(primary.runs_key, c)].to_dict() for c in cells},
        details=details, provenance={"units": exp.units(), "engine_calls": exp.runner.calls},
        mode=mode)


def flips_text(result) -> str:
    """The variants that keep ``result`` from being ROBUST, each with its verdict, interval and the
    cell (pair) whose interval reaches highest."""
    parts = []
    for name in result.flips:
        v = result.variants[name]
        cells = result.details["cells"][name]
        worst = max(cells, key=lambda k: cells[k]["interval"][1])
        c = cells[worst]
        parts.append(f"{name}: {v['verdict']}, CI [{v['interval'][0]:.3g}, {v['interval'][1]:.3g}]; highest "
                     f"cell {worst} {c['value']:+.3f} [{c['interval'][0]:+.3f}, {c['interval'][1]:+.3f}]")
    return (f"{result.overall} (primary {result.verdict}, CI [{result.interval[0]:.3g}, "
            f"{result.interval[1]:.3g}]); flipped by " + "; ".join(parts) + ".") if parts else ""


# ---- figures -----------------------------------------------------------------------------------
#: marker and colour of each setting in the interval panels
SETTING_STYLE = {"primary": ("o", "k"), "tuned by persistent T": ("v", "tab:blue"),
                 "tuned by first-hit T": ("^", "tab:cyan"), "finer grid (1/16 decade)": ("s", "tab:olive"),
                 "mean over runs": ("D", "tab:purple"), "isotropic noise": ("x", "tab:red"),
                 "H-aligned noise": ("+", "tab:orange"), "H^2 noise": ("P", "tab:green")}


def interval_panel(ax, exp, series, xlabels, seed=0):
    """Log10 ratios with their 95% paired bootstrap CIs, one point per x group and series, offset
    sideways by series.  ``series``: list of (label, marker, colour, setting, pairs), ``pairs`` one
    ((cell, method), (cell, method)) per x group (numerator, denominator)."""
    n = len(series)
    width = 0.7
    for k, (label, mk, col, setting, pairs) in enumerate(series):
        xs = np.arange(len(pairs)) + (k - (n - 1) / 2) * width / n
        arm_pairs = [(arm(*a), arm(*b)) for a, b in pairs]
        cells = sorted({a[0] for a, _ in pairs} | {b[0] for _, b in pairs})
        vals = cell_intervals(exp.arms(setting, cells), arm_pairs, setting.aggregate, seed)
        v = np.array([np.nan if x[0] is None else x[0] for x in vals])
        lo, hi = np.array([x[1] for x in vals]), np.array([x[2] for x in vals])
        ax.errorbar(xs, v, yerr=[v - lo, hi - v], fmt=mk, color=col, ms=3.5 if k == 0 else 3,
                    lw=1.0 if k == 0 else 0.7, capsize=0, label=label)
    ax.set_xticks(np.arange(len(xlabels)))
    ax.set_xticklabels(xlabels, fontsize=6.5)
    ax.set_xlim(-0.6, len(xlabels) - 0.4)


def setting_series(settings, pairs) -> list:
    """:func:`interval_panel` series: one per setting, styled by :data:`SETTING_STYLE`."""
    return [(s.name, *SETTING_STYLE.get(s.name, ("o", "0.5")), s, pairs) for s in settings]
