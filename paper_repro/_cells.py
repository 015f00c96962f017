"""Claims over several problem settings ("cells"), measured and decided on simopt's claims machinery.

A :class:`simopt.claims.Claim` compares methods on one problem family.  A reproduction that sweeps a
setting (block heterogeneity h, a rotation angle θ) states claims that combine families: "the
GD/sign gap at h = 1 is 3x the one at h = 0", "the advantage at (h = 1, θ = 0) is within 0.15
decades of the largest on the grid".  Such claims are measured and decided here:

1. each cell is a ``Claim`` -- its family, methods, budget and :class:`simopt.claims.TuningProtocol`;
   its own statistic is the per-cell quantity a figure shows (e.g. log10(median T_num / median
   T_den)), with its interval;
2. :func:`measure` assesses every cell under the primary protocol and under each protocol variant
   (``variant(cell).assess(runner)``: every method tuned on the protocol's tuning units, measured
   on its evaluation units) and keeps the per-unit values under arm names ``"method@cell"``
   (:func:`arm`);
3. a statistic over those arms -- :func:`combination` (a linear combination of per-cell log10
   ratios of medians), :func:`margin_over` (a cell's value against the largest of other cells), or
   any :class:`simopt.claims.Statistic` -- is decided by :func:`decide`
   (:func:`simopt.claims.from_samples`: percentile bootstrap, PASS / FAIL / INCONCLUSIVE per
   protocol, overall status), with an optional negative control on other arms (:func:`control`).

**Pairing.**  Every cell of a measurement uses the same protocol, hence the same evaluation units:
the same run indices (noise streams and, with ``starts="gaussian"``, start offsets x0 - x*) and
the same problem seeds.  simopt's constructors draw a problem's rotations and x* from its seed
alone, so evaluation unit k is the same draw in every cell, and the bootstrap resamples units
jointly across methods *and* cells (paired): common random numbers, as in a paired comparison of two
methods.
"""
from __future__ import annotations

import math
import zlib
from dataclasses import dataclass, field

import numpy as np

from simopt import claims
from simopt.claims.protocol import Runner
from simopt.claims.verdicts import verdict

__all__ = ["arm", "Measurement", "measure", "combination", "margin_over", "decide", "control",
           "interval_of", "NOT_ESTABLISHED", "plot_claims"]


def arm(method: str, cell: str) -> str:
    """The arm name of ``method``'s values on ``cell``."""
    return f"{method}@{cell}"


@dataclass
class Measurement:
    """What :func:`measure` found, per protocol (``"primary"`` and each variant's name).

    ``samples[p]``: arm -> :class:`simopt.claims.Sample`; ``cell_intervals[p][cell]``: the cell
    claim's statistic with its interval (``Interval.to_dict()``); ``tuning[p][cell][method]``: the
    tuned lr, its status (``"ok"``, ``"edge"``, ...), grid step at the optimum and rounds;
    ``evaluation[p][cell][method]``: median final metric, medians of both readings of T, counts of
    censored and diverged units; ``descriptions[p]``: the variant's description; ``criteria[p]``
    the criterion text of the first cell's claim under that protocol."""
    samples: dict = field(default_factory=dict)
    cell_intervals: dict = field(default_factory=dict)
    tuning: dict = field(default_factory=dict)
    evaluation: dict = field(default_factory=dict)
    descriptions: dict = field(default_factory=dict)
    criteria: dict = field(default_factory=dict)
    engine_calls: int = 0

    def protocols(self) -> list:
        return list(self.samples)

    def variant_samples(self, names=None, rename=None) -> dict:
        """``{variant: (samples, description)}`` for :func:`decide` (every variant, or ``names``);
        ``rename`` maps an arm name of the claim's statistic to the arm whose values it takes."""
        names = [p for p in self.samples if p != "primary"] if names is None else list(names)
        return {n: (self.renamed(n, rename), self.descriptions.get(n, "")) for n in names}

    def renamed(self, protocol="primary", rename=None) -> dict:
        """The samples of ``protocol`` with ``rename`` (statistic arm -> measured arm) applied."""
        s = dict(self.samples[protocol])
        for new, old in (rename or {}).items():
            s[new] = self.samples[protocol][old]
        return s

    def summary(self) -> dict:
        """The JSON-able part: tuning and evaluation per protocol, cell intervals, descriptions."""
        return {"tuning": self.tuning, "evaluation": self.evaluation,
                "cell_intervals": self.cell_intervals, "descriptions": self.descriptions,
                "criteria": self.criteria, "engine_calls": self.engine_calls}


def _tuning_row(t: dict) -> dict:
    return {k: t[k] for k in ("lr", "status", "edge", "step_decades", "rounds")}


def _evaluation_row(e: dict) -> dict:
    keys = ("final_median", "T_persistent_median", "T_first_hit_median", "T_persistent_reached",
            "T_first_hit_reached", "censored", "diverged")
    return {k: e[k] for k in keys if k in e}


def measure(cells: dict, variants=(), progress=None) -> Measurement:
    """Assess every cell claim (``{cell label: Claim}``) under its own protocol and every variant
    in ``variants`` (:class:`simopt.claims.Variant`).  All cells must have the same evaluation
    units (the pairing of the module docstring).  ``progress(text)`` is called per cell."""
    if not cells:
        raise ValueError("cells: expected at least one cell claim")
    units = {label: c.protocol.evaluation_units().pairs() for label, c in cells.items()}
    first = next(iter(units.values()))
    bad = [label for label, u in units.items() if u != first]
    if bad:
        raise ValueError(f"cells: expected the same evaluation units in every cell (paired); "
                         f"{bad} differ from {next(iter(cells))!r}")
    out = Measurement()
    protocols = [("primary", None)] + [(v.name, v) for v in variants]
    for name, v in protocols:
        out.samples[name], out.cell_intervals[name] = {}, {}
        out.tuning[name], out.evaluation[name] = {}, {}
        out.descriptions[name] = "" if v is None else v.description
    for label, cell in cells.items():
        runner = Runner()            # one cache per cell: variants reuse the runs they share
        for name, v in protocols:
            c = cell if v is None else v(cell)
            a = c.assess(runner)
            for m, s in a.samples.items():
                out.samples[name][arm(m, label)] = s
            out.cell_intervals[name][label] = a.interval.to_dict()
            out.tuning[name][label] = {m: _tuning_row(d["tuning"]) for m, d in a.methods.items()}
            out.evaluation[name][label] = {m: _evaluation_row(d["evaluation"])
                                           for m, d in a.methods.items()}
            out.criteria.setdefault(name, a.criterion)
        out.engine_calls += runner.calls
        if progress is not None:
            progress(label)
    return out


def _median(x):
    return np.median(x, axis=-1)


def _log_ratio(v, num, den):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log10(_median(v[num])) - np.log10(_median(v[den]))


def combination(name: str, terms) -> claims.Statistic:
    """Σ_k c_k · log10(median[num_k] / median[den_k]) over ``terms`` = ``[(c_k, num_k, den_k),
    ...]`` (arm names).  Non-decreasing in num_k and non-increasing in den_k where c_k > 0 (the
    reverse where c_k < 0), as censoring bounds require; an arm may not enter with both signs."""
    terms = [(float(c), n, d) for c, n, d in terms]
    if not terms or any(c == 0 or not math.isfinite(c) for c, _, _ in terms):
        raise ValueError("terms: expected (non-zero coefficient, numerator arm, denominator arm) "
                         "triples")
    up, down = [], []
    for c, n, d in terms:
        (up if c > 0 else down).append(n)
        (down if c > 0 else up).append(d)
    clash = sorted(set(up) & set(down))
    if clash:
        raise ValueError(f"terms: arm(s) {clash} enter with both signs; the statistic would not "
                         f"be monotone in them")

    def fn(v):
        return sum(c * _log_ratio(v, n, d) for c, n, d in terms)

    return claims.Statistic(name, fn, tuple(dict.fromkeys(up)), tuple(dict.fromkeys(down)), True)


def margin_over(name: str, target, others) -> claims.Statistic:
    """min(0, r(target) − max_k r(others_k)), r = log10(median[num] / median[den]) of a pair
    ``(num, den)`` of arm names: 0 when the target cell's value is the largest, else minus its
    distance below the largest of the others (decades).  Non-decreasing in the target's numerator and
    the others' denominators, non-increasing in the rest."""
    tn, td = target
    others = list(others)
    if not others:
        raise ValueError("others: expected at least one other (num, den) pair")
    arms_up = (tn,) + tuple(d for _, d in others)
    arms_down = (td,) + tuple(n for n, _ in others)
    if set(arms_up) & set(arms_down) or len(set(arms_up + arms_down)) != len(arms_up + arms_down):
        raise ValueError("target/others: expected distinct arms in every pair")

    def fn(v):
        best = np.max(np.stack([_log_ratio(v, n, d) for n, d in others]), axis=0)
        return np.minimum(0.0, _log_ratio(v, tn, td) - best)

    return claims.Statistic(name, fn, arms_up, arms_down, True)


def _seed(claim_id: str) -> int:
    return zlib.crc32(claim_id.encode())


def interval_of(samples: dict, statistic: claims.Statistic, seed: int, n_boot=2000) -> claims.Interval:
    """The paired 95% bootstrap interval of ``statistic`` on ``samples``."""
    return claims.bootstrap_interval(samples, statistic, n_boot=n_boot, seed=seed, paired=True)


#: what a negative control must not show: the effect without its mechanism (PASS); a FAIL (effect
#: decisively absent) or an INCONCLUSIVE (not established) is as expected
NOT_ESTABLISHED = ("FAIL", "INCONCLUSIVE")


def control(name, description, samples, statistic, expected=NOT_ESTABLISHED, at_least=None,
            at_most=None, criterion=""):
    """A negative control decided from its own arms: ``(name, description, samples, statistic,
    expected verdicts, thresholds, criterion text)`` for :func:`decide` (thresholds default to the
    claim's; expected by default FAIL or INCONCLUSIVE, :data:`NOT_ESTABLISHED`)."""
    exp = (expected,) if isinstance(expected, str) else tuple(expected)
    return dict(name=name, description=description, samples=samples, statistic=statistic,
                expected=exp, at_least=at_least, at_most=at_most, criterion=criterion)


def decide(id, statement, samples, statistic, *, at_least=None, at_most=None, kind="paper",
           criterion="", variants=None, control=None, expected=None, reason="", mode="full",
           details=None, n_boot=2000):
    """:func:`simopt.claims.from_samples` on paired samples, seeded by the claim's id, plus the
    negative ``control`` (from :func:`control`) decided with the same thresholds unless it sets its
    own; the control enters the result as :meth:`simopt.claims.Claim.check` records one (the claim
    is as declared only if the control's verdict is among its expected ones)."""
    res = claims.from_samples(id, statement, samples, statistic, at_least=at_least,
                              at_most=at_most, kind=kind, criterion=criterion or None,
                              variants=variants, expected=expected, reason=reason, mode=mode,
                              n_boot=n_boot, seed=_seed(id), paired=True, details=details)
    if control is not None:
        lo = control["at_least"] if control["at_least"] is not None or control["at_most"] is not None \
            else at_least
        hi = control["at_most"] if control["at_least"] is not None or control["at_most"] is not None \
            else at_most
        iv = interval_of(control["samples"], control["statistic"], _seed(id + "/control"), n_boot)
        ver = verdict(iv.low, iv.high, lo, hi)
        res.control = {"name": control["name"], "description": control["description"],
                       "expected": list(control["expected"]), "verdict": ver, "value": iv.value,
                       "interval": [iv.low, iv.high], "value_bounds": [iv.value_low, iv.value_high],
                       "as_expected": ver in control["expected"],
                       "criterion": control["criterion"] or
                       f"{control['statistic'].describe('T')}; thresholds of the claim"}
    return res


# ---- figure ----------------------------------------------------------------------------------------
VERDICT_COLORS = {"PASS": "#2ca02c", "FAIL": "#d62728", "INCONCLUSIVE": "#7f7f7f"}
#: marker of the k-th variant in :func:`plot_claims`
VARIANT_MARKERS = ("v", "^", "<", ">", "D", "s", "P", "X", "*")


def plot_claims(ax, rows, lim):
    """A forest plot of claims on ``ax``: one row per ``(label, result, part, threshold)`` --
    ``part="claim"`` draws the primary interval (thick, with the point estimate) and every
    variant's (thin, stacked below it, the k-th with marker ``VARIANT_MARKERS[k]`` at its point
    estimate), ``part="control"`` the control's; colours by verdict (:data:`VERDICT_COLORS`), ends
    outside ``lim`` (or infinite) as arrow heads, the threshold as a dashed tick, and the overall
    status (or the control's verdict) under the row's label.  Returns legend handles for the
    variants (``[]`` if none)."""
    from matplotlib.lines import Line2D
    names = []
    y0, y1 = -len(rows) + 0.3, 0.55
    labels = []
    for k, (label, res, part, thr) in enumerate(rows):
        y = -k
        if part == "control":
            c = res.control
            entries = [("control", c["value"], c["interval"], c["verdict"])]
            labels.append(f"{label}\ncontrol {c['verdict']} (expected {' or '.join(c['expected'])})")
        else:
            entries = [("primary", res.value, res.interval, res.verdict)] + [
                (n, v["value"], v["interval"], v["verdict"]) for n, v in res.variants.items()]
            labels.append(f"{label}\n{res.overall}")
            if len(entries) - 1 > len(names):
                names = [n for n, *_ in entries[1:]]
        n_var = max(len(entries) - 1, 1)
        for j, (name, val, iv, ver) in enumerate(entries):
            big = j == 0
            yy = y + 0.16 if big else y + 0.02 - 0.5 * j / n_var
            col = VERDICT_COLORS[ver]
            if iv is not None:
                lo, hi = float(iv[0]), float(iv[1])
                a, b = max(lim[0], lo), min(lim[1], hi)
                if a <= b:
                    ax.plot([a, b], [yy, yy], color=col, lw=2.6 if big else 0.8,
                            solid_capstyle="butt")
                for end, real, mk in ((a, lo, "<"), (b, hi, ">")):
                    if real < lim[0] or real > lim[1]:
                        ax.plot(end, yy, marker=mk, color=col, ms=3.5 if big else 2.5, lw=0)
            if val is not None and np.isfinite(val):
                x = min(max(val, lim[0]), lim[1])
                if big:
                    ax.plot(x, yy, "o", color=col, ms=4.5)
                else:
                    ax.plot(x, yy, VARIANT_MARKERS[(j - 1) % len(VARIANT_MARKERS)], color=col,
                            ms=3.2, mfc="white", mew=0.8)
        ax.plot([thr, thr], [y + 0.35, y - 0.55], color="k", lw=0.9, ls="--")
    ax.set_ylim(y0, y1)
    ax.set_yticks([-k for k in range(len(rows))])
    ax.set_yticklabels(labels, fontsize=6.5)
    ax.set_xlim(*lim)
    ax.grid(axis="y", visible=False)
    return [Line2D([], [], ls="none", marker=VARIANT_MARKERS[k % len(VARIANT_MARKERS)], color="k",
                   mfc="white", ms=4, label=n) for k, n in enumerate(names)]
