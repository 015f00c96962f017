"""What the rotation reproductions share (xie2025_linf, zhang_maes2025_rotation,
das2024_preconditioning): one rule measured on several problems under a claims protocol, and
statistics across those problems.

A claim across problems (rotation angles, rotation types, a (d, κ) grid) compares one rule with
itself on different problems, so each problem is an *arm*: the rule is tuned on the protocol's
tuning units of that problem (:func:`simopt.claims.tune_method`) and measured on its evaluation
units (disjoint run indices, hence disjoint starts x0 = x* + z and noise streams).  Every arm uses
the same run indices, so the arms are paired by unit and :func:`simopt.claims.from_samples`
bootstraps them jointly.  The measure is T(eps) (persistent or first hit; a censored run is the
bound [budget, inf], a diverged one inf) or the final relative loss.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import scipy.stats

from simopt import claims
from simopt.claims.protocol import Runner
from simopt.tuning import final_values

__all__ = ["Setting", "measure_arms", "spearman_of_medians", "max_abs_log_ratio", "slope_of_medians",
           "summary"]


@dataclass(frozen=True)
class Setting:
    """How one rule is measured: the rule, its protocol, the budget and the measured quantity
    (``"T"`` read as ``reading``, or ``"final"``)."""
    optimizer: object
    protocol: claims.TuningProtocol
    steps: int
    measure: str = "T"
    reading: str = "persistent"
    record_every: int = 1

    def replace(self, **kw) -> "Setting":
        return replace(self, **kw)

    def first_hit(self) -> "Setting":
        p = self.protocol
        return self.replace(reading="first_hit",
                            protocol=p.replace(criterion="first_hit") if p.criterion == "persistent" else p)

    def finer_grid(self, resolution=1.0 / 16) -> "Setting":
        return self.replace(protocol=self.protocol.replace(resolution=resolution))

    def final(self) -> "Setting":
        return self.replace(measure="final", protocol=self.protocol.replace(criterion="final"))

    def describe(self) -> dict:
        return {"optimizer": self.optimizer.describe(), "protocol": self.protocol.to_dict(),
                "steps": self.steps, "measure": self.measure, "reading": self.reading,
                "record_every": self.record_every}


def measure_arms(problems: dict, setting: Setting, runner: Runner | None = None, label="rule"):
    """``({arm: Sample}, {arm: info})``: the rule of ``setting`` tuned and measured on each problem
    (module docstring).  ``info`` has the tuned lr, the tuning status, the median and the number of
    censored (or diverged) evaluation runs."""
    runner = Runner() if runner is None else runner
    p = setting.protocol
    units = p.evaluation_units(True)
    samples, info = {}, {}
    for arm, prob in problems.items():
        t = claims.tune_method(runner, prob, label, setting.optimizer, p, setting.steps,
                               setting.record_every)
        (res,) = runner.run(prob, t.optimizer, units, setting.steps, setting.record_every, p.starts,
                            p.seed)
        if setting.measure == "T":
            T = res.iterations_to(p.eps, p.metric, p.relative,
                                  persistent=setting.reading == "persistent")
            s = claims.Sample.censored(T[None, :], setting.steps, res.diverged[None, :])
        else:
            s = claims.Sample.exact(final_values(res, p.metric, p.relative)[None, :])
        samples[arm] = s
        info[arm] = {"lr": t.lr, "status": t.status, "edge": t.edge,
                     "median": float(np.median(s.lo)), "censored": s.n_censored,
                     "diverged": int(res.diverged.sum()), "runs": int(res.runs)}
    return samples, info


def _medians(v, arms):
    return np.stack([np.median(v[a], axis=-1) for a in arms], axis=-1)     # (B, K)


def _spearman_rows(x, M):
    """Spearman correlation of the fixed vector x with each row of M (NaN where a row is constant)."""
    rx = scipy.stats.rankdata(x)
    rM = scipy.stats.rankdata(M, axis=-1)
    rx = rx - rx.mean()
    rM = rM - rM.mean(axis=-1, keepdims=True)
    den = np.sqrt((rx * rx).sum() * (rM * rM).sum(axis=-1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, (rM @ rx) / np.where(den > 0, den, 1.0), np.nan)


def spearman_of_medians(arms, x, name="x") -> claims.Statistic:
    """Spearman rank correlation between the fixed values ``x`` (one per arm) and the arms' median
    measured values.  Not monotone in the values, so a censored run counts at its lower bound (the
    budget) in the lower end of the interval and at inf in the upper end: both completions are
    inside the interval's span."""
    arms, x = list(arms), np.asarray(x, dtype=np.float64)
    return claims.Statistic(f"Spearman({name}, median {{m}}) over {len(arms)} arms",
                            lambda v: _spearman_rows(x, _medians(v, arms)), tuple(arms))


def max_abs_log_ratio(arms, reference) -> claims.Statistic:
    """max over ``arms`` of |log10(median[arm] / median[reference])|: how far the arms' medians
    stray from the reference arm's (0 when all are equal)."""
    arms = [a for a in arms if a != reference]

    def fn(v):
        ref = np.log10(np.median(v[reference], axis=-1))
        return np.max(np.abs(np.stack([np.log10(np.median(v[a], axis=-1)) - ref for a in arms],
                                      axis=-1)), axis=-1)
    return claims.Statistic(f"max_arm |log10(median {{m}}[arm] / median {{m}}[{reference}])|", fn,
                            tuple([reference] + arms))


def slope_of_medians(arms, x, y_offset, name="x") -> claims.Statistic:
    """OLS slope of log10(median[arm]) − y_offset[arm] against x[arm] (fixed per arm)."""
    arms = list(arms)
    x = np.asarray(x, dtype=np.float64)
    off = np.asarray(y_offset, dtype=np.float64)
    xc = x - x.mean()

    def fn(v):
        y = np.log10(_medians(v, arms)) - off
        yc = y - y.mean(axis=-1, keepdims=True)
        return (yc @ xc) / (xc @ xc)
    return claims.Statistic(f"OLS slope of log10(median {{m}}) on {name} over {len(arms)} arms", fn,
                            tuple(arms))


def summary(info: dict) -> dict:
    """Per arm: tuned lr, status, median, censored runs (for the report's numbers)."""
    return {str(a): dict(v) for a, v in info.items()}


def decide(id, statement, samples, statistic, *, variants=None, at_least=None, at_most=None,
           kind="paper", mode="full", expected=None, reason="", details=None, protocol=None,
           seed=0, symbol="T", units="evaluation starts") -> claims.ClaimResult:
    """:func:`simopt.claims.from_samples` where each variant may carry its own statistic (a
    variant on other problems has other fixed values, e.g. its own ‖H‖_{1,1} per arm):
    ``variants`` maps name -> ``(statistic, samples, description)``.  Verdicts, intervals and the
    overall status are those of ``from_samples``."""
    from simopt.claims.verdicts import overall_status
    from simopt.claims.verdicts import side_text
    n = next(iter(samples.values())).lo.size
    crit = (f"{statistic.describe(symbol)} {side_text(at_least, at_most)}; 95% paired bootstrap CI "
            f"over {n} {units} (each arm tuned on disjoint tuning units) entirely on the claimed "
            f"side = PASS, entirely on the other = FAIL")
    common = dict(at_least=at_least, at_most=at_most, kind=kind, mode=mode, seed=seed, criterion=crit)
    rows = {}
    for name, (st, vs, desc) in (variants or {}).items():
        r = claims.from_samples(f"{id}/{name}", statement, vs, st, **common)
        rows[name] = {"description": desc, "verdict": r.verdict, "value": r.value,
                      "interval": list(r.interval), "criterion": r.criterion}
    prim = claims.from_samples(id, statement, samples, statistic, expected=expected or
                               ("ROBUST" if rows else "HOLDS"), reason=reason, details=details,
                               **common)
    overall, flips = overall_status(prim.verdict, {n: r["verdict"] for n, r in rows.items()})
    prim.variants, prim.overall, prim.flips, prim.protocol = rows, overall, flips, protocol
    return prim
