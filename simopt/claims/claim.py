"""``Claim``: a statement about update rules on a problem family, decided under a declared protocol.

Checking a claim (:meth:`Claim.check`) does, for the primary protocol, each variant and the
control:

1. tune every method on the protocol's tuning units (:func:`simopt.claims.protocol.tune_method`);
2. run each tuned method on the evaluation units (fresh run indices and, for a family, fresh problem
   draws; the same units for every method, so the comparison is paired);
3. measure each unit -- T(eps) (persistent or first-hit, censored at the budget), the final metric,
   or a function of the :class:`simopt.Result` -- and bootstrap the statistic
   (:mod:`simopt.claims.bootstrap`);
4. decide PASS / FAIL / INCONCLUSIVE from the interval, then the overall status from the variants
   (:mod:`simopt.claims.verdicts`).

:func:`from_samples` decides a claim from unit values measured elsewhere (a Monte Carlo check of a
closed form, for instance), with the same bootstrap and verdicts.
"""
from __future__ import annotations

import math
import time
import zlib
from dataclasses import dataclass, field, replace

import numpy as np

from .._validate import check_bool, check_int, check_interval
from ..tuning import final_values
from .bootstrap import Sample, Statistic, bootstrap_interval
from .outcome import KINDS, ClaimResult
from .protocol import Runner, TunedMethod, TuningProtocol, is_fixed, tune_method
from .variants import Control, Variant
from .verdicts import check_status, check_threshold, overall_status, side_text, verdict

__all__ = ["Claim", "from_samples", "Assessment"]

_MODES = ("quick", "full")
_READINGS = ("persistent", "first_hit")


def _check_expected(expected, default):
    if expected is None:
        return {m: default for m in _MODES}
    if isinstance(expected, str):
        return {m: check_status(expected) for m in _MODES}
    if isinstance(expected, dict):
        bad = sorted(set(expected) - set(_MODES))
        if bad:
            raise ValueError(f"expected: modes must be among {_MODES}, got {bad}")
        return {m: check_status(expected.get(m, default), f"expected[{m!r}]") for m in _MODES}
    raise TypeError(f"expected: expected a status or a dict mode -> status, got {type(expected).__name__}")


def _check_mode(mode):
    if mode not in _MODES:
        raise ValueError(f"mode: expected one of {_MODES}, got {mode!r}")
    return mode


@dataclass
class Assessment:
    """One protocol's measurement of a claim: interval, verdict and what each method did.

    ``samples`` maps each method's label to its per-unit values (a :class:`Sample` of shape
    (evaluation draws, runs)), so that statistics combining several claims' measurements -- e.g.
    the same pair of methods on several problem families sharing the protocol's units -- can be
    bootstrapped from them (:func:`simopt.claims.bootstrap_interval`, :func:`from_samples`)."""
    verdict: str
    interval: object           # bootstrap.Interval
    criterion: str
    protocol: dict
    methods: dict
    units: dict
    samples: dict = field(default_factory=dict, repr=False)

    def row(self) -> dict:
        iv = self.interval
        return {"verdict": self.verdict, "value": iv.value, "interval": [iv.low, iv.high],
                "value_bounds": [iv.value_low, iv.value_high]}


@dataclass(frozen=True)
class Claim:
    """A claim: ``statistic`` of the methods' measured values lies on the claimed side of a
    threshold (``at_least``, ``at_most``, or both for a band).

    Parameters
    ----------
    id, statement : str
        A short name and the claim in words (with its source, for a paper's claim).
    family : a simopt problem, or a callable ``seed -> problem``
        The problems the claim is about; a callable is drawn anew per problem seed.
    methods : dict label -> rule from ``simopt.optim``
        The rules compared; their lr is tuned (the lr they carry is ignored), except for rules
        that set their own step and the labels left out of ``tuned``.
    statistic : :class:`simopt.claims.Statistic`
        E.g. ``log_ratio_of_medians("GD", "Adam")``: log10(median T_GD / median T_Adam).
    steps, record_every : int
        Budget and recording stride of every run (tuning and evaluation).
    protocol : :class:`TuningProtocol`
        Tuning criterion, grid, target and the tuning / evaluation units.
    measure : ``"T"`` | ``"final"`` | callable ``Result -> (runs,) array``
        The per-unit quantity: T(eps) of the protocol's target read as ``reading``
        (``"persistent"`` or ``"first_hit"``), censored at the budget; the final metric
        (relative unless the protocol says otherwise; diverged = inf); or a function's values
        (one per run; NaN, e.g. for a diverged run, counts as +inf).
    kind : ``"paper"`` | ``"identity"``
        A claim of a paper, or a check of mathematics or code (only the first count as reproduced).
    variants : sequence of :class:`Variant`;  control : :class:`Control` or None
    expected : status or ``{"quick": status, "full": status}``
        The overall status the claim is declared to have (default ROBUST with variants, HOLDS
        without); ``reason`` says why, for a declared known failure.
    confidence, n_boot, paired
        The bootstrap: confidence level, resamples, pairing of the arms' units.
    record : tuple of names from ``simopt.engine.RECORDABLE``
        Extra per-record quantities the evaluation runs keep (e.g. ``("sharpness",)``), for a
        callable ``measure`` that reads ``Result.records``; tuning runs do not record them.
    """
    id: str
    statement: str
    family: object
    methods: dict
    statistic: Statistic
    steps: int
    at_least: float | None = None
    at_most: float | None = None
    protocol: TuningProtocol = field(default_factory=TuningProtocol)
    measure: object = "T"
    reading: str = "persistent"
    record_every: int = 1
    kind: str = "paper"
    variants: tuple = ()
    control: Control | None = None
    expected: object = None
    reason: str = ""
    tuned: tuple | None = None
    confidence: float = 0.95
    n_boot: int = 2000
    paired: bool = True
    record: tuple = ()

    def __post_init__(self):
        from ..optim.rule import Optimizer
        s = object.__setattr__
        for name in ("id", "statement"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name):
                raise TypeError(f"{name}: expected a non-empty string, got {getattr(self, name)!r}")
        is_fixed(self.family)
        if not isinstance(self.methods, dict) or not self.methods:
            raise TypeError("methods: expected a non-empty dict label -> rule from simopt.optim")
        for k, v in self.methods.items():
            if not isinstance(k, str):
                raise TypeError(f"methods: expected string labels, got {k!r}")
            if not isinstance(v, Optimizer):
                raise TypeError(f"methods[{k!r}]: expected a rule from simopt.optim, got {type(v).__name__}")
        if not isinstance(self.statistic, Statistic):
            raise TypeError(f"statistic: expected a simopt.claims Statistic (e.g. "
                            f"log_ratio_of_medians), got {type(self.statistic).__name__}")
        missing = [a for a in self.statistic.arms if a not in self.methods]
        if missing:
            raise ValueError(f"statistic: arm(s) {missing} are not among the methods {list(self.methods)}")
        s(self, "steps", check_int(self.steps, "steps", 1))
        s(self, "record_every", check_int(self.record_every, "record_every", 1))
        lo, hi = check_threshold(self.at_least, self.at_most)
        s(self, "at_least", lo)
        s(self, "at_most", hi)
        if not isinstance(self.protocol, TuningProtocol):
            raise TypeError(f"protocol: expected a TuningProtocol, got {type(self.protocol).__name__}")
        if not (callable(self.measure) or self.measure in ("T", "final")):
            raise ValueError(f"measure: expected 'T', 'final' or a callable Result -> values, got "
                             f"{self.measure!r}")
        if self.measure == "T" and self.protocol.eps is None:
            raise ValueError("measure: 'T' needs the protocol's eps (the target of T(eps))")
        if self.reading not in _READINGS:
            raise ValueError(f"reading: expected one of {_READINGS}, got {self.reading!r}")
        if self.kind not in KINDS:
            raise ValueError(f"kind: expected one of {KINDS}, got {self.kind!r}")
        s(self, "variants", tuple(self.variants))
        names = []
        for v in self.variants:
            if not isinstance(v, Variant):
                raise TypeError(f"variants: expected Variant objects (simopt.claims.variants), got "
                                f"{type(v).__name__}")
            names.append(v.name)
        if len(set(names)) != len(names) or "primary" in names:
            raise ValueError(f"variants: names must be distinct and not 'primary', got {names}")
        if self.control is not None and not isinstance(self.control, Control):
            raise TypeError(f"control: expected a Control (simopt.claims.variants.control), got "
                            f"{type(self.control).__name__}")
        s(self, "_expected", _check_expected(self.expected, "ROBUST" if self.variants else "HOLDS"))
        if not isinstance(self.reason, str):
            raise TypeError(f"reason: expected a string, got {type(self.reason).__name__}")
        if self.tuned is not None:
            s(self, "tuned", tuple(self.tuned))
            bad = [t for t in self.tuned if t not in self.methods]
            if bad:
                raise ValueError(f"tuned: label(s) {bad} are not among the methods {list(self.methods)}")
        s(self, "confidence", check_interval(self.confidence, "confidence", 0.0, 1.0, low_closed=False))
        s(self, "n_boot", check_int(self.n_boot, "n_boot", 10))
        s(self, "paired", check_bool(self.paired, "paired"))
        s(self, "record", _check_record(self.record))

    def replace(self, **changes) -> "Claim":
        """A copy with some fields changed (validated again)."""
        return replace(self, **changes)

    def expected_status(self, mode="full") -> str:
        return self._expected[_check_mode(mode)]

    # ---- text -------------------------------------------------------------------------------
    def measure_text(self) -> tuple[str, str]:
        """(symbol, definition) of the measured quantity."""
        p = self.protocol
        if self.measure == "T":
            reading = "persistent" if self.reading == "persistent" else "first-hit"
            return "T", f"T = {reading} T({p.target_text()}), censored runs at least the budget {self.steps}"
        if self.measure == "final":
            return "final", (f"final = final {'relative ' if p.relative else ''}{p.metric} after "
                             f"{self.steps} steps (diverged = inf)")
        name = getattr(self.measure, "__name__", "value")
        return name, f"{name} = {(self.measure.__doc__ or name).strip().splitlines()[0]}"

    def criterion_text(self, fixed: bool | None = None) -> str:
        sym, definition = self.measure_text()
        fixed = is_fixed(self.family) if fixed is None else fixed
        u = self.protocol.evaluation_units(fixed)
        draws = len(u.draw_seeds)
        return (f"{self.statistic.describe(sym)} {side_text(self.at_least, self.at_most)}; "
                f"{definition}; each method tuned by the {self.protocol.criterion_text()}; "
                f"{self.confidence:.0%} {'paired ' if self.paired else ''}bootstrap CI over "
                f"{u.n_units} evaluation units ({draws} draw(s) x {u.runs} runs, disjoint from the "
                f"tuning units) entirely on the claimed side = PASS, entirely on the other = FAIL")

    # ---- running ----------------------------------------------------------------------------
    def _sample(self, results) -> Sample:
        p = self.protocol
        if self.measure == "T":
            T = np.stack([r.iterations_to(p.eps, p.metric, p.relative,
                                          persistent=self.reading == "persistent") for r in results])
            div = np.stack([r.diverged for r in results])
            return Sample.censored(T, self.steps, div)
        if self.measure == "final":
            return Sample.exact(np.stack([final_values(r, p.metric, p.relative) for r in results]))
        vals = []
        for r in results:
            v = np.asarray(self.measure(r), dtype=np.float64)
            if v.shape != (r.runs,):
                raise ValueError(f"measure: expected one value per run, shape ({r.runs},), got {v.shape}")
            vals.append(np.where(np.isnan(v), np.inf, v))
        return Sample.exact(np.stack(vals))

    def _summary(self, results) -> dict:
        p = self.protocol
        out = {"diverged": int(sum(int(r.diverged.sum()) for r in results)),
               "final_median": float(np.median(np.concatenate(
                   [final_values(r, p.metric, p.relative) for r in results])))}
        if p.eps is not None:
            for key, pers in (("T_first_hit_median", False), ("T_persistent_median", True)):
                T = np.concatenate([r.iterations_to(p.eps, p.metric, p.relative, persistent=pers)
                                    for r in results])
                out[key] = float(np.median(T))
                out[key.replace("_median", "_reached")] = int(np.isfinite(T).sum())
        return out

    def _bootstrap_seed(self) -> int:
        return int(self.protocol.seed) * 2 ** 32 + zlib.crc32(self.id.encode())

    def assess(self, runner: Runner | None = None) -> Assessment:
        """Tune, evaluate and decide this claim under its own protocol (no variants)."""
        runner = Runner() if runner is None else runner
        fixed = is_fixed(self.family)
        units = self.protocol.evaluation_units(fixed)
        tuned = self.tuned if self.tuned is not None else tuple(self.methods)
        samples, methods = {}, {}
        for label, opt in self.methods.items():
            if label in tuned:
                t = tune_method(runner, self.family, label, opt, self.protocol, self.steps,
                                self.record_every)
            else:
                lr = None if opt.lr is None else opt.describe().get("lr")
                t = TunedMethod(label, opt, lr if isinstance(lr, float) else None, {}, math.nan,
                                "fixed", None, 0, None, [])
            results = runner.run(self.family, t.optimizer, units, self.steps, self.record_every,
                                 self.protocol.starts, self.protocol.seed, self.record)
            samples[label] = self._sample(results)
            methods[label] = {"tuning": t.to_dict(), "evaluation": self._summary(results)}
            methods[label]["evaluation"]["censored"] = samples[label].n_censored
        iv = bootstrap_interval({a: samples[a] for a in self.statistic.arms}, self.statistic,
                       confidence=self.confidence, n_boot=self.n_boot, seed=self._bootstrap_seed(),
                       paired=self.paired)
        return Assessment(verdict=verdict(iv.low, iv.high, self.at_least, self.at_most), interval=iv,
                          criterion=self.criterion_text(fixed), protocol=self.protocol.to_dict(),
                          methods=methods,
                          units={"tuning": self.protocol.tuning_units(fixed).to_dict(),
                                 "evaluation": units.to_dict()},
                          samples=samples)

    def check(self, mode="full", progress=False, runner=None) -> ClaimResult:
        """Check the claim under its primary protocol, every variant and the control; ``mode``
        ("quick" or "full") selects the declared status; ``progress=True`` shows a tqdm bar of
        engine calls.  ``runner``: a :class:`~simopt.claims.protocol.Runner` shared by several
        claims, so that a run they have in common (same family object, rule, units and budget)
        is made once; by default the claim has its own."""
        mode = _check_mode(mode)
        progress = check_bool(progress, "progress")
        if runner is not None and not isinstance(runner, Runner):
            raise TypeError(f"runner: expected a simopt.claims.protocol.Runner or None, got "
                            f"{type(runner).__name__}")
        bar = None
        if progress:
            from tqdm.auto import tqdm
            bar = tqdm(desc=f"claim {self.id} (engine calls)", unit="call")
        t0 = time.perf_counter()
        runner = Runner() if runner is None else runner
        calls0, saved = runner.calls, runner.progress
        if bar is not None:
            runner.progress = bar
        try:
            primary = self.assess(runner)
            var = {v.name: (v, v(self).assess(runner)) for v in self.variants}
            ctrl = None
            if self.control is not None:
                ca = self.control(self).assess(runner)
                ctrl = {"name": self.control.name, "description": self.control.description,
                        "expected": list(self.control.expected), **ca.row(),
                        "as_expected": ca.verdict in self.control.expected,
                        "criterion": ca.criterion, "methods": ca.methods}
        finally:
            runner.progress = saved
            if bar is not None:
                bar.close()
        overall, flips = overall_status(primary.verdict, {n: a.verdict for n, (_, a) in var.items()})
        iv = primary.interval
        return ClaimResult(
            id=self.id, statement=self.statement, kind=self.kind, criterion=primary.criterion,
            verdict=primary.verdict, value=iv.value, interval=(iv.low, iv.high), overall=overall,
            expected=self.expected_status(mode), reason=self.reason,
            variants={n: {"description": v.description, **a.row(), "criterion": a.criterion,
                          "protocol": a.protocol, "methods": a.methods}
                      for n, (v, a) in var.items()},
            flips=flips, control=ctrl, protocol=primary.protocol,
            details={"methods": primary.methods, "interval": iv.to_dict(),
                     "statistic": self.statistic.to_dict()},
            provenance={"units": primary.units, "engine_calls": runner.calls - calls0,
                        "wall_seconds": round(time.perf_counter() - t0, 3)},
            mode=mode)

    def assert_holds(self, mode="full", robust=False) -> ClaimResult:
        """Check the claim and raise ``AssertionError`` (with its table) unless it holds
        (:meth:`ClaimResult.assert_holds`)."""
        return self.check(mode).assert_holds(robust=robust)


def _check_record(record):
    from ..engine import RECORDABLE
    if isinstance(record, str):
        record = (record,)
    if not isinstance(record, (tuple, list)):
        raise TypeError(f"record: expected a tuple of names from {RECORDABLE}, got {record!r}")
    bad = [r for r in record if not isinstance(r, str) or r not in RECORDABLE]
    if bad:
        raise ValueError(f"record: unknown name(s) {bad}; expected names from {RECORDABLE}")
    return tuple(record)


def from_samples(id, statement, samples, statistic, *, at_least=None, at_most=None, kind="paper",
                 criterion=None, variants=None, expected=None, reason="", mode="full",
                 confidence=0.95, n_boot=2000, seed=0, paired=True, measured=None,
                 details=None) -> ClaimResult:
    """Decide a claim from unit values measured elsewhere: ``samples`` maps arm -> values (or a
    :class:`Sample`), ``variants`` maps a variant's name -> its own samples, ``(samples,
    description)``, or ``(samples, description, statistic)`` for a variant that measures the claimed
    quantity another way (e.g. a mean where the primary takes a median; same thresholds).
    Bootstrap, verdicts and statuses are those of :class:`Claim`."""
    _check_mode(mode)
    lo, hi = check_threshold(at_least, at_most)

    def decide(s, stat=statistic):
        iv = bootstrap_interval(s, stat, confidence=confidence, n_boot=n_boot, seed=seed, paired=paired)
        return iv, verdict(iv.low, iv.high, lo, hi)

    iv, ver = decide(samples)
    rows = {}
    for name, vs in (variants or {}).items():
        desc, vstat = "", statistic
        if isinstance(vs, tuple):
            if len(vs) not in (2, 3):
                raise ValueError(f"variants[{name!r}]: expected samples, (samples, description) or "
                                 f"(samples, description, statistic), got a tuple of {len(vs)}")
            vs, desc, vstat = vs if len(vs) == 3 else (*vs, statistic)
            if not isinstance(vstat, Statistic):
                raise TypeError(f"variants[{name!r}]: expected a simopt.claims Statistic as the third "
                                f"element, got {type(vstat).__name__}")
        viv, vver = decide(vs, vstat)
        rows[name] = {"description": desc, "verdict": vver, "value": viv.value,
                      "interval": [viv.low, viv.high], "value_bounds": [viv.value_low, viv.value_high]}
        if vstat is not statistic:
            rows[name]["statistic"] = vstat.to_dict()
    overall, flips = overall_status(ver, {n: r["verdict"] for n, r in rows.items()})
    exp = _check_expected(expected, "ROBUST" if rows else "HOLDS")[mode]
    text = criterion or (f"{statistic.describe()} {side_text(lo, hi)}; {confidence:.0%} "
                         f"{'paired ' if paired else ''}bootstrap CI over {iv.n_units} units")
    return ClaimResult(id=id, statement=statement, kind=kind, criterion=text, verdict=ver,
                       value=iv.value, interval=(iv.low, iv.high), overall=overall, expected=exp,
                       reason=reason, variants=rows, flips=flips, measured=measured,
                       details={"interval": iv.to_dict(), "statistic": statistic.to_dict(),
                                **(details or {})}, mode=mode)
