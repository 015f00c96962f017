"""Fuzzing the engine side of the public API the same way as ``test_fuzz_api.py`` does the problem side:
``simopt.run``, the ``Result`` methods, ``tune_lr`` and the constructor of every built-in update rule.
Every argument replaced by nonsense is either a valid value of that argument or refused with a
``ValueError``/``TypeError`` naming it -- never another exception, never accepted silently.

The rule entries are generated from each rule's own declarations (``RuleDef.hyper``: kind and valid
interval), so a new rule is fuzzed without editing this file.
"""
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import simopt
from simopt import optim
from simopt.optim.rule import _parse_interval

from test_fuzz_api import KINDS, VALUES, _int, _real, _valid, choice

PN = simopt.quadratic([0.5, 1.0, 2.0, 4.0], rotation=0.5, seed=1, noise=simopt.noise.gaussian(0.1))
RES = simopt.run(PN, optim.sgd(0.1), 20, runs=3, seed=0, record_every=2)


def _hyper_kind(h):
    """The validity predicate of one declared hyperparameter."""
    if h.kind == "bool":
        return KINDS["bool"]
    if h.kind == "int":
        lo = h.minimum if h.minimum is not None else -math.inf
        return lambda v: _int(v) and v >= lo
    if h.kind == "choice":
        return choice(*h.options)
    if h.interval is None:
        return _real
    lo, lo_c, hi, hi_c = _parse_interval(h.interval)
    return lambda v: _real(v) and (v >= lo if lo_c else v > lo) and (v <= hi if hi_c else v < hi)


def _a_valid_value(param, rule_hyper):
    """A valid value for a constructor argument without a default, from the rule's declaration."""
    import inspect
    if param.name == "lr":
        return 0.1
    h = rule_hyper.get(param.name)
    if h is None or h.kind == "int":
        return max(1, h.minimum or 1) + 2 if h is not None else 1
    if h.kind == "choice":
        return h.options[0]
    if h.kind == "bool":
        return False
    lo, lo_c, hi, hi_c = _parse_interval(h.interval) if h.interval else (0.0, True, 1.0, True)
    return (lo + hi) / 2 if math.isfinite(hi) else lo + 1.0


def _rule_entries():
    import inspect
    out = []
    for name, ctor in sorted(optim.REGISTRY.items()):
        if name in optim._WRAPPERS:
            continue
        sig = optim.signature(ctor)
        required = [p for p in sig.parameters.values() if p.default is inspect.Parameter.empty]
        probe_hyper = {}
        for mod_rule in (getattr(__import__(ctor.__module__, fromlist=["x"]), a) for a in
                         dir(__import__(ctor.__module__, fromlist=["x"]))):
            if isinstance(mod_rule, optim.RuleDef):
                probe_hyper.update(mod_rule.hyper)
        opt = ctor(**{p.name: _a_valid_value(p, probe_hyper) for p in required})
        valid = {k: v for k, v in opt.hyperparams().items() if k in sig.parameters}
        kinds = {k: _hyper_kind(opt.rule.hyper[k]) for k in valid if k in opt.rule.hyper}
        if opt.has_lr:
            valid["lr"] = 0.1
            kinds["lr"] = "pos_real"
        if opt.rule.decay is not None and "weight_decay" not in opt.rule.hyper \
                and "weight_decay" in sig.parameters:
            valid["weight_decay"] = 0.0
            kinds["weight_decay"] = "nonneg_real"
        # cross-hyperparameter constraints (e.g. Nesterov needs momentum) make some single values
        # invalid only together with others: skip those arguments here, the rule's own tests cover them
        for k in getattr(ctor, "_fuzz_skip", ()):
            kinds.pop(k, None)
        out.append(pytest.param(ctor, kinds, valid, id=f"optim.{name}"))
    return out


def _is_optimizer(v):
    return isinstance(v, optim.Optimizer)


ENTRIES = [
    pytest.param(simopt.run, {
        "problem": "problem", "optimizer": _is_optimizer, "steps": lambda v: _int(v) and 1 <= v <= 10 ** 6,
        "runs": lambda v: _int(v) and 1 <= v <= 10 ** 4, "seed": "nonneg_int", "record_every": "pos_int",
        "first_run": "nonneg_int", "divergence_threshold": "pos_real", "progress": "bool",
        "x0": "opt_point"},
        dict(problem=PN, optimizer=optim.adam(0.01), steps=5, runs=2, seed=0, record_every=1, first_run=0,
             divergence_threshold=1e12, progress=False, x0=None), id="engine.run"),
    pytest.param(simopt.tune_lr, {
        "problem": "problem", "optimizer": lambda v: _is_optimizer(v) and v.has_lr,
        "lrs": "pos_array", "steps": lambda v: _int(v) and 1 <= v <= 10 ** 5,
        "runs": lambda v: _int(v) and 1 <= v <= 1000, "seed": "nonneg_int",
        "eps": "opt_pos_real", "record_every": "pos_int", "keep_all": "bool",
        "refine": lambda v: _int(v) and 0 <= v <= 3, "persistent": "bool"},
        dict(problem=PN, optimizer=optim.sgd(1.0), lrs=[0.01, 0.1], steps=5, runs=2, seed=0, eps=None,
             record_every=1, keep_all=False, refine=0, persistent=False), id="tuning.tune_lr"),
    pytest.param(RES.iterations_to, {"eps": "pos_real", "metric": choice("loss", "grad_norm"),
                                     "relative": "bool", "persistent": "bool"},
                 dict(eps=0.1, metric="loss", relative=True, persistent=False), id="Result.iterations_to"),
    pytest.param(RES.ert, {"eps": "pos_real", "metric": choice("loss", "grad_norm"), "relative": "bool",
                           "persistent": "bool"},
                 dict(eps=0.1, metric="loss", relative=True, persistent=False), id="Result.ert"),
    pytest.param(RES.final, {"metric": choice("loss", "grad_norm"), "relative": "bool"},
                 dict(metric="loss", relative=False), id="Result.final"),
    pytest.param(RES.summary, {"eps": "opt_pos_real", "metric": choice("loss", "grad_norm"),
                               "relative": "bool", "persistent": "bool"},
                 dict(eps=None, metric="loss", relative=True, persistent=False), id="Result.summary"),
    *_rule_entries(),
]


@pytest.mark.parametrize("fn, kinds, valid", ENTRIES)
def test_the_valid_call_works(fn, kinds, valid):
    fn(**valid)
    assert all(_valid(k, valid[a]) for a, k in kinds.items() if a in valid), "entry is inconsistent"


@pytest.mark.parametrize("fn, kinds, valid", ENTRIES)
@settings(max_examples=30, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(data=st.data())
def test_bad_arguments_raise_a_named_value_or_type_error(fn, kinds, valid, data):
    arg = data.draw(st.sampled_from(sorted(kinds)), label="argument")
    value = data.draw(VALUES, label="value")
    ok = _valid(kinds[arg], value)
    if not ok and arg in ("steps", "runs", "refine") and _int(value) and value > 0:
        # large but valid sizes: the call would only be slow, not wrong -- not fuzzed
        return
    try:
        fn(**dict(valid, **{arg: value}))
    except (ValueError, TypeError) as e:
        if not ok:
            assert arg.lower() in str(e).lower(), f"{getattr(fn, '__name__', fn)}({arg}={value!r}): {e}"
        return
    assert ok, f"{getattr(fn, '__name__', fn)}({arg}={value!r}) accepted nonsense"


def test_absurd_sizes_are_a_named_error_before_memory_runs_out():
    for kw, name in ((dict(runs=10 ** 12), "runs"), (dict(steps=10 ** 13, record_every=1), "steps")):
        args = dict(dict(steps=5, runs=2), **kw)
        with pytest.raises(ValueError, match=name):
            simopt.run(PN, optim.adam(0.01), **args)
    big = np.ones(4)
    assert np.isfinite(simopt.run(PN, optim.adam(0.01), 3, x0=big).loss).all()
