"""Fuzzing the public API of the problem-side modules: every argument of every function, replaced by
nonsense, is either accepted because it *is* a valid value of that argument, or refused with a
``ValueError``/``TypeError`` whose message names the argument -- never another exception (no
AttributeError, IndexError, MemoryError, UnicodeDecodeError, RecursionError...), never accepted
silently.  ``sweep.parse``/``sweep.load`` get the same treatment on mutated specs and bytes.

Each entry of ``ENTRIES`` is one function: a valid call and the *kind* of each argument; a kind
says which values are valid (``KINDS``).  The engine-side API (``simopt.run``, ``Result``,
``tune_lr``, ``simopt.optim``, and ``theory.check`` / ``theory.along`` which run the engine) is
not here yet: it is added as further entries.
"""
import math
import numbers

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import simopt
from simopt import noise, rotations, schedules, spectra, sweep
from simopt.theory import bounds, expectations, metrics, sampled

D = 4
PB = simopt.heterogeneous_blocks(2, 2, 0.5, condition_number=10.0, seed=0)  # block kind, d = 4
PN = simopt.quadratic([0.5, 1.0, 2.0, 4.0], rotation=0.5, seed=1, noise=noise.gaussian(0.1))
X1 = np.linspace(-1.0, 1.0, D)
XB = np.stack([X1, 2 * X1])
PS = simopt.gaussian_features([0.5, 1.0, 2.0, 4.0], "haar", label_noise=0.3, batch_size=2, seed=1)
XD = np.vstack([np.eye(D), np.eye(D)[::-1] + 0.5])     # a (8, 4) dataset of full column rank


def _int(v):
    return isinstance(v, (numbers.Integral, np.integer)) and not isinstance(v, (bool, np.bool_))


def _real(v):
    return (isinstance(v, (numbers.Real, np.floating, np.integer))
            and not isinstance(v, (bool, np.bool_)) and math.isfinite(float(v)))


def _array(v, ndim=None):
    """A non-empty array of finite reals given as a list/tuple/ndarray (no strings, booleans)."""
    if not isinstance(v, (list, tuple, np.ndarray)):
        return None
    try:
        a = np.asarray(v)
    except (ValueError, TypeError):
        return None
    if a.dtype.kind not in "iuf" or a.size == 0 or not np.all(np.isfinite(a)):
        return None
    if ndim is not None and a.ndim != ndim:
        return None
    return a


def _point(v, d=D):
    a = _array(v)
    return a is not None and ((a.ndim == 1 and a.shape[0] == d) or (a.ndim == 2 and a.shape[1] == d))


#: kind -> predicate "v is a valid value of an argument of this kind"
KINDS = {
    "pos_int": lambda v: _int(v) and v >= 1,
    "nonneg_int": lambda v: _int(v) and v >= 0,
    "pos_real": lambda v: _real(v) and v > 0,
    "nonneg_real": lambda v: _real(v) and v >= 0,
    "unit": lambda v: _real(v) and 0 <= v <= 1,
    "open_unit": lambda v: _real(v) and 0 < v < 1,
    "pos_array": lambda v: (a := _array(v, 1)) is not None and bool(np.all(a > 0)),
    "point": _point,
    "opt_point": lambda v: v is None or _point(v),
    "point1": lambda v: (a := _array(v, 1)) is not None and a.shape == (D,),
    "opt_point1": lambda v: v is None or ((a := _array(v, 1)) is not None and a.shape == (D,)),
    "rng": lambda v: (_int(v) and v >= 0) or isinstance(v, (np.random.Generator,
                                                             np.random.SeedSequence)),
    "problem": lambda v: isinstance(v, simopt.Quadratic),
    "bool": lambda v: isinstance(v, (bool, np.bool_)),
    "sizes": lambda v: isinstance(v, (list, tuple)) and len(v) > 0 and all(
        _int(s) and s >= 1 for s in v),
    "opt_pos_int": lambda v: v is None or (_int(v) and v >= 1),
    "opt_pos_real": lambda v: v is None or (_real(v) and v > 0),
    "noise_scale": lambda v: (_real(v) and v > 0) or ((a := _array(v, 1)) is not None
                                                      and bool(np.all(a >= 0))),
    "any_real": _real,
}


def choice(*names):
    return lambda v: isinstance(v, str) and v in names


def E(fn, kinds: dict, **valid):
    """An entry: ``fn(**valid)`` is a valid call; ``kinds[arg]`` is a KINDS name or a predicate."""
    return pytest.param(fn, kinds, valid, id=f"{fn.__module__.split('.')[-1]}.{fn.__name__}")


ENTRIES = [
    # spectra
    E(spectra.linear, {"d": "pos_int", "low": "pos_real", "high": "pos_real"}, d=4, low=0.1, high=1.0),
    E(spectra.logspace, {"d": "pos_int", "low": "pos_real", "high": "pos_real"}, d=4, low=0.1,
      high=1.0),
    E(spectra.power_law, {"d": "pos_int", "alpha": "nonneg_real", "top": "pos_real"}, d=4, alpha=1.0,
      top=1.0),
    E(spectra.two_cluster, {"d": "pos_int", "frac_high": "unit", "low": "pos_real", "high": "pos_real",
                            "rng": "rng", "spread": "nonneg_real"},
      d=4, frac_high=0.5, low=0.1, high=1.0, rng=0, spread=0.1),
    E(spectra.deep_learning_like, {"d": "pos_int", "rng": "rng"}, d=8, rng=0),
    # rotations
    E(rotations.identity, {"d": "pos_int"}, d=3),
    E(rotations.haar, {"d": "pos_int", "rng": "rng"}, d=3, rng=0),
    E(rotations.partial, {"d": "pos_int", "theta": "unit", "rng": "rng"}, d=3, theta=0.5, rng=0),
    E(rotations.block, {"sizes": "sizes", "rng": "rng"}, sizes=[2, 1], rng=0),
    E(rotations.haar_blocks, {"sizes": "sizes", "rng": "rng"}, sizes=[2, 1], rng=0),
    # problems
    E(simopt.quadratic, {"eigvals": "pos_array", "rotation": lambda v: v in ("none", "haar") or (
        _real(v) and 0 <= v <= 1), "seed": "nonneg_int", "x0": "opt_point1", "xstar": "opt_point1"},
      eigvals=[0.5, 1.0, 2.0, 4.0], rotation="haar", seed=0, x0=None, xstar=None),
    E(simopt.heterogeneous_blocks, {"n_blocks": "pos_int", "block_size": "pos_int",
                                    "heterogeneity": "unit", "condition_number": "pos_real",
                                    "seed": "nonneg_int", "within_blocks": "bool"},
      n_blocks=2, block_size=2, heterogeneity=0.5, condition_number=10.0, seed=0,
      within_blocks=False),
    E(simopt.block_diagonal, {"rotation": lambda v: v in ("block", "none", "global", "haar") or (
        _real(v) and 0 <= v <= 1), "seed": "nonneg_int", "within_blocks": "bool"},
      block_eigvals=[[1.0, 2.0], [3.0]], rotation="block", seed=0, within_blocks=False),
    E(PN.loss, {"X": "point"}, X=XB),
    E(PN.grad, {"X": "point"}, X=XB),
    E(PN.hvp, {"U": "point"}, U=XB),
    E(PN.with_x0, {"x0": "point1"}, x0=X1),
    # noise
    E(noise.gaussian, {"scale": "noise_scale", "batch_size": "pos_int"}, scale=0.1, batch_size=1),
    E(noise.hessian_aligned, {"scale": "pos_real", "batch_size": "pos_int"}, scale=0.1, batch_size=1),
    E(noise.student_t, {"scale": "noise_scale", "df": "pos_real", "batch_size": "pos_int"}, scale=0.1,
      df=3.0, batch_size=1),
    *[E(f, {"batch_size": "pos_int", "label_noise": "nonneg_real"}, batch_size=2, label_noise=0.1)
      for f in (noise.sampled_gaussian, noise.sampled_coordinates)],
    E(PS.noise.covariance, {"problem": "problem", "x": "point1"}, problem=PS, x=X1),
    # data problems
    E(simopt.least_squares, {"y": lambda v: (a := _array(v, 1)) is not None and a.shape == (2 * D,),
                             "batch_size": "pos_int", "x0": "opt_point1"},
      X=XD, y=np.arange(2.0 * D), batch_size=1, x0=None),
    E(simopt.gaussian_features, {"cov_eigvals": "pos_array", "label_noise": "nonneg_real",
                                 "batch_size": "pos_int", "seed": "nonneg_int",
                                 "n_samples": lambda v: v is None or (_int(v) and v >= D)},
      cov_eigvals=[0.5, 1.0, 2.0, 4.0], n_samples=None, label_noise=0.1, batch_size=1, seed=0),
    E(simopt.zipf_bigram, {"d": "pos_int", "alpha": "nonneg_real", "batch_size": "pos_int",
                           "label_noise": "nonneg_real"}, d=D, alpha=1.0, batch_size=1, label_noise=0.0),
    # schedules
    E(schedules.constant, {"lr": "pos_real"}, lr=0.1),
    E(schedules.step, {"lr": "pos_real", "step_size": "pos_int", "gamma": "pos_real"}, lr=0.1,
      step_size=10, gamma=0.5),
    E(schedules.inverse_sqrt, {"lr": "pos_real", "offset": "pos_real"}, lr=0.1, offset=1.0),
    E(schedules.cosine, {"lr": "pos_real", "final_lr": "nonneg_real", "total": "opt_pos_int"},
      lr=0.1, final_lr=0.0, total=None),
    E(schedules.array, {"rates": "pos_array"}, rates=[0.1, 0.05]),
    # theory: bounds
    E(bounds.one_step_loss, {"problem": "problem", "X": "point", "U": "point",
                             "lr": lambda v: _real(v) or _array(v) is not None},
      problem=PN, X=XB, U=XB, lr=0.1),
    E(bounds.iterations_for_contraction, {"q": lambda v: _real(v) and v >= 0 or v == math.inf,
                                          "eps": "open_unit"}, q=0.5, eps=1e-3),
    E(bounds.gd_step_size, {"problem": "problem", "rule": choice("1/L", "2/(L+mu)"),
                            "scale": "pos_real"}, problem=PN, rule="1/L", scale=1.0),
    E(bounds.gd_rate, {"problem": "problem", "lr": "pos_real"}, problem=PN, lr=0.1),
    E(bounds.gd_fixed_step_bound, {"problem": "problem", "lr": "pos_real", "eps": "open_unit"},
      problem=PN, lr=0.1, eps=1e-3),
    E(bounds.gd_lg_next_loss, {"problem": "problem", "X": "point"}, problem=PB, X=XB),
    E(bounds.gd_lg_contraction, {"problem": "problem", "X": "point"}, problem=PB, X=XB),
    E(bounds.gd_lg_bound, {"problem": "problem", "eps": "open_unit"}, problem=PB, eps=1e-3),
    E(bounds.sign_next_loss, {"problem": "problem", "X": "point"}, problem=PB, X=XB),
    E(bounds.sign_contraction, {"problem": "problem"}, problem=PB),
    E(bounds.sign_bound, {"problem": "problem", "eps": "open_unit"}, problem=PB, eps=1e-3),
    E(bounds.adam_rate, {"problem": "problem", "lr": "pos_real", "x0": "opt_point1",
                         "eps": "nonneg_real"}, problem=PB, lr=0.1, x0=None, eps=0.0),
    E(bounds.adam_optimal_lr, {"problem": "problem", "x0": "opt_point1", "eps": "nonneg_real"},
      problem=PB, x0=None, eps=0.0),
    E(bounds.adam_bound, {"problem": "problem", "lr": "pos_real", "eps": "open_unit",
                          "x0": "opt_point1", "adam_eps": "nonneg_real"},
      problem=PB, lr=0.1, eps=1e-3, x0=None, adam_eps=0.0),
    E(bounds.sgd_noise_level, {"problem": "problem"}, problem=PN),
    E(bounds.sgd_noise_bound, {"problem": "problem", "lr": "pos_real", "eps": "open_unit",
                               "f0": "opt_pos_real"}, problem=PN, lr=0.1, eps=1e-3, f0=None),
    E(bounds.sgd_noise_curve, {"problem": "problem", "lr": "pos_real", "steps": "nonneg_int",
                               "f0": "opt_pos_real"}, problem=PN, lr=0.1, steps=5, f0=None),
    # theory: metrics
    *[E(getattr(metrics, n), {"problem": "problem", "X": "point"}, problem=PB, X=XB)
      for n in ("update_sharpness", "block_grad_norms", "grad_heterogeneity", "grad_norm_cv",
                "gradient_weighted_smoothness", "decrease_ratio_sign_vs_gd", "trajectory_metrics")],
    *[E(getattr(metrics, n), {"problem": "problem", "U": "point"}, problem=PB, U=XB)
      for n in ("hess_apply", "directional_sharpness")],
    *[E(getattr(metrics, n), {"problem": "problem", "X": "point", "U": "point"}, problem=PB, X=XB,
        U=XB) for n in ("best_step", "best_decrease")],
    *[E(getattr(metrics, n), {"problem": "problem"}, problem=PB)
      for n in ("parameter_weighted_smoothness", "linf_smoothness", "linf_strong_convexity",
                "condition_numbers")],
    E(metrics.gradient_density, {"G": lambda v: (a := _array(v)) is not None and a.ndim >= 1}, G=XB),
    *[E(getattr(metrics, n), {"problem": "problem", "x0": "opt_point1", "eps": "nonneg_real"},
        problem=PB, x0=None, eps=0.0)
      for n in ("adam_preconditioned_eigvals", "adam_preconditioned_condition_number")],
    E(metrics.block_spectrum_js, {"bandwidth": "pos_real", "grid_points": "pos_int"},
      spectra=[[1.0, 2.0], [3.0, 4.0]], bandwidth=0.15, grid_points=64),
    # theory: expectations
    E(expectations.noise_covariance, {"problem": "problem"}, problem=PN),
    E(expectations.sgd_expected_loss, {"problem": "problem", "lr": "pos_real", "steps": "nonneg_int",
                                       "x0": "opt_point1", "record_every": "pos_int"},
      problem=PN, lr=0.1, steps=5, x0=None, record_every=1),
    E(expectations.sgd_stationary_loss, {"problem": "problem", "lr": "pos_real"}, problem=PN, lr=0.1),
    E(sampled.sgd_expected_loss_sampled, {"problem": "problem", "lr": "pos_real", "steps": "nonneg_int",
                                          "x0": "opt_point1", "record_every": "pos_int"},
      problem=PS, lr=0.1, steps=5, x0=None, record_every=1),
    E(sampled.sgd_stationary_loss_sampled, {"problem": "problem", "lr": "pos_real"}, problem=PS, lr=0.1),
    E(expectations.momentum_expected_loss, {"problem": "problem", "lr": "pos_real",
                                            "steps": "nonneg_int", "x0": "opt_point1",
                                            "nesterov": "bool", "record_every": "pos_int"},
      problem=PN, lr=0.1, momentum=0.5, steps=5, x0=None, nesterov=False, record_every=1),
    E(expectations.ssd_expected_next_loss, {"problem": "problem", "X": "point", "lr": "nonneg_real"},
      problem=PN, X=XB, lr=0.1),
    *[E(getattr(expectations, n), {"eta": lambda v: _real(v) and v >= 0 or (
        (a := _array(v)) is not None and bool(np.all(a >= 0)))}, eta=0.5)
      for n in ("variance_adaptation_factor", "sign_variance_factor", "adam_implicit_factor",
                "sign_agreement_probability")],
]

NONSENSE = [None, "x", "1", b"1", True, False, 0, -1, 0.0, -0.5, 0.5, 1, 2, 1.5, 10 ** 15,
            math.inf, -math.inf, math.nan, 1e300, 5e-324, [], [1.0], [[1.0, 2.0]], [-1.0, 1.0],
            ["a"], [True, False], {"a": 1}, object(), 1j, np.array(2.0), np.float64(0.3),
            np.int64(2), (1, 2), X1, XB, -X1, np.zeros((0, D)), np.full(D, np.nan), [1, "2", 3, 4],
            np.random.default_rng(0), PB, "none", "haar", "block", "1/L", [2, 2], [0, 1]]
VALUES = st.one_of(st.sampled_from(NONSENSE), st.floats(), st.integers(-5, 300),
                   st.text(max_size=3), st.lists(st.floats(), max_size=5),
                   st.lists(st.integers(-3, 3), min_size=1, max_size=5))


def _valid(kind, v):
    pred = KINDS[kind] if isinstance(kind, str) else kind
    try:
        return bool(pred(v))
    except Exception:  # noqa: BLE001 - a predicate that cannot even look at v: not valid
        return False


@pytest.mark.parametrize("fn, kinds, valid", ENTRIES)
def test_the_valid_call_works(fn, kinds, valid):
    fn(**valid)
    assert all(_valid(k, valid[a]) for a, k in kinds.items() if a in valid), "entry is inconsistent"


@pytest.mark.parametrize("fn, kinds, valid", ENTRIES)
@settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_bad_arguments_raise_a_named_value_or_type_error(fn, kinds, valid, data):
    arg = data.draw(st.sampled_from(sorted(kinds)), label="argument")
    value = data.draw(VALUES, label="value")
    kwargs = dict(valid, **{arg: value})
    ok = _valid(kinds[arg], value)
    try:
        fn(**kwargs)
    except (ValueError, TypeError) as e:
        if not ok:
            assert arg.lower() in str(e).lower(), f"{fn.__name__}({arg}={value!r}): {e}"
        return
    assert ok, f"{fn.__name__}({arg}={value!r}) accepted nonsense"


# -------------------------------------------------------------------------------------------------
# sweep specs: mutated dicts for sweep.parse, mutated bytes for sweep.load

BASE_SPEC = {
    "steps": 20, "runs": 2, "seeds": [0, 1], "record_every": 5, "eps": 0.01,
    "divergence_threshold": 1e12,
    "problems": [
        {"type": "quadratic", "eigvals": {"spectrum": "logspace", "d": 4, "low": 0.1, "high": 1.0},
         "rotation": 0.5, "noise": {"type": "gaussian", "scale": 0.1}},
        {"type": "heterogeneous_blocks", "n_blocks": 2, "block_size": 2, "condition_number": 10.0,
         "noise": {"type": "student_t", "scale": 0.1, "df": 3.0},
         "grid": {"heterogeneity": [0.0, 1.0]}},
        {"type": "block_diagonal", "block_eigvals": [[1.0, 2.0], [3.0]], "x0": [1.0, 1.0, 1.0]},
    ],
    "optimizers": [{"name": "sgd", "lr": [0.1, 0.2], "momentum": 0.5},
                   {"name": "adam", "lr": 0.01, "beta1": 0.9,
                    "schedule": {"type": "step", "step_size": 5, "gamma": 0.5}}],
}


def _leaves(obj, path=()):
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _leaves(v, path + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _leaves(v, path + (i,))
    else:
        yield path, obj


LEAVES = [(p, v) for p, v in _leaves(BASE_SPEC) if isinstance(v, (int, float))
          and not isinstance(v, bool)]


def _set(obj, path, value):
    import copy
    out = copy.deepcopy(obj)
    cur = out
    for k in path[:-1]:
        cur = cur[k]
    cur[path[-1]] = value
    return out


def test_base_spec_is_valid():
    assert len(sweep.parse(BASE_SPEC).cells) > 0


@settings(max_examples=200)
@given(leaf=st.sampled_from(LEAVES),
       value=st.one_of(st.sampled_from(["x", True, None, [], {}, -1, -0.5, 0, math.inf, math.nan,
                                        -1e300, [1, 2]]), st.text(max_size=2),
                       st.floats(max_value=-1e-300), st.integers(max_value=-1)))
def test_mutated_spec_number_is_refused_naming_its_key(leaf, value):
    """Every number of the base spec is positive-only (a size, a scale, a rate, an eigenvalue) or, for
    seeds, momentum, rotation angle and heterogeneity, non-negative: a negative, non-finite, string,
    boolean or missing one must be refused, naming its key."""
    path, old = leaf
    if value == 0 and ("seeds" in path or "heterogeneity" in path
                       or path[-1] in ("momentum", "rotation", "beta1")):
        return  # 0 is a valid seed / momentum / beta1 / rotation angle / heterogeneity (identical blocks)
    if value is None and path == ("eps",):
        return  # eps = None is eps not given (no T(eps) target)
    if path[-1] == "lr" and value == [1, 2]:
        return  # a list of learning rates is a grid
    if "x0" in path and isinstance(value, (int, float)) and not isinstance(value, bool) \
            and math.isfinite(value):
        return  # a starting point may have any finite coordinates
    spec = _set(BASE_SPEC, path, value)
    with pytest.raises(sweep.SpecError) as e:
        sweep.parse(spec)
    named = [k for k in path if isinstance(k, str)][-1]
    assert named in str(e.value), (path, value, str(e.value))


@settings(max_examples=150)
@given(data=st.data())
def test_mutated_spec_files_raise_spec_errors_only(tmp_path_factory, data):
    text = """steps = 20
seeds = [0, 1]
[[problems]]
type = "quadratic"
eigvals = [0.1, 0.5, 1.0]
noise = {type = "gaussian", scale = 0.1}
[[optimizers]]
name = "sgd"
lr = [0.1, 0.3]
""".encode()
    how = data.draw(st.sampled_from(["truncate", "flip", "insert", "garbage", "deep"]))
    if how == "truncate":
        b = text[:data.draw(st.integers(0, len(text) - 1))]
    elif how == "flip":
        i = data.draw(st.integers(0, len(text) - 1))
        b = text[:i] + bytes([data.draw(st.integers(0, 255))]) + text[i + 1:]
    elif how == "insert":
        i = data.draw(st.integers(0, len(text)))
        b = text[:i] + data.draw(st.binary(min_size=1, max_size=8)) + text[i:]
    elif how == "garbage":
        b = data.draw(st.binary(max_size=64))
    else:
        n = data.draw(st.integers(100, 20000))
        b = b"x = " + b"[" * n + b"]" * n
    p = tmp_path_factory.mktemp("spec") / "s.toml"
    p.write_bytes(b)
    try:
        sweep.load(p)
    except sweep.SpecError:
        pass


def test_parse_refuses_deep_and_self_containing_and_non_table_input():
    deep = cur = {}
    for _ in range(5000):
        cur["scale"] = cur = {}
    loop = {"type": "gaussian"}
    loop["scale"] = loop
    for nz in (dict(deep, type="gaussian"), loop):
        d = {"steps": 1, "seeds": [0], "optimizers": [{"name": "sgd", "lr": 0.1}],
             "problems": [{"type": "quadratic", "eigvals": [1.0], "noise": nz}]}
        with pytest.raises(sweep.SpecError, match=r"nested too deeply|problems\[0\].*noise.scale"):
            sweep.parse(d)
    for bad in (None, "steps = 1", 3, [BASE_SPEC]):
        with pytest.raises(sweep.SpecTypeError, match="spec"):
            sweep.parse(bad)
    with pytest.raises(sweep.SpecTypeError, match="path"):
        sweep.load(3)
