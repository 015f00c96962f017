"""Bad input gets a ValueError/TypeError naming the argument; nothing else ever escapes."""
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import simopt
from simopt import noise, optim, schedules

BAD_SCALARS = [0.0, -1.0, math.nan, math.inf, -math.inf, "0.1", None, True, [0.1, "x"], 1e400, -1e-300]


@pytest.mark.parametrize("bad", BAD_SCALARS)
@pytest.mark.parametrize("ctor,arg", [
    (lambda v: optim.sgd(v), "lr"), (lambda v: optim.adam(v), "lr"), (lambda v: optim.sign(v), "lr"),
    (lambda v: optim.signum(v), "lr"), (lambda v: optim.svag(v), "lr"), (lambda v: optim.msvag(v), "lr"),
    (lambda v: optim.rmsprop(v), "lr"), (lambda v: optim.adagrad(v), "lr"),
    (lambda v: optim.normalized_gd(v), "lr"), (lambda v: optim.block_normalized(v), "lr"),
    (lambda v: optim.blockwise_adam(v), "lr"), (lambda v: schedules.cosine(v), "lr"),
    (lambda v: noise.hessian_aligned(v), "scale"), (lambda v: noise.gaussian(v), "scale"),
    (lambda v: optim.sign_oracle(v), "scale"),
])
def test_positive_arguments_are_checked(ctor, arg, bad):
    with pytest.raises((ValueError, TypeError), match=arg):
        ctor(bad)


@pytest.mark.parametrize("kwargs,arg", [
    (dict(beta1=1.0), "beta1"), (dict(beta1=-0.1), "beta1"), (dict(beta2=1.0), "beta2"),
    (dict(beta2=1.5, v0="first_grad"), "beta2"), (dict(eps=-1e-8), "eps"), (dict(v0="ones"), "v0"),
    (dict(beta1=math.nan), "beta1"),
])
def test_adam_hyperparameters_are_checked(kwargs, arg):
    with pytest.raises((ValueError, TypeError), match=arg):
        optim.adam(0.1, **kwargs)


@pytest.mark.parametrize("call,arg", [
    (lambda: optim.sgd(0.1, momentum=1.0), "momentum"), (lambda: optim.sgd(0.1, nesterov=True), "nesterov"),
    (lambda: optim.sgd(0.1, nesterov=1), "nesterov"), (lambda: optim.signum(0.1, beta=1.0), "beta"),
    (lambda: optim.svag(0.1, beta=0.0), "beta"), (lambda: optim.rmsprop(0.1, alpha=1.0), "alpha"),
    (lambda: optim.clipped(optim.sgd(0.1), -0.1), "fraction"),
    (lambda: optim.clipped(optim.sgd(0.1), 1.0), "fraction"),
    (lambda: optim.clipped("adam", 0.1), "base_optimizer"),
    (lambda: optim.gd_oracle("1/mu"), "rule"), (lambda: noise.student_t(1.0, df=0.0), "df"),
    (lambda: noise.gaussian([1.0, -1.0]), "scale"), (lambda: schedules.step(0.1, 0), "step_size"),
    (lambda: schedules.array([0.1, 0.0]), "rates"), (lambda: optim.make("adamx", lr=0.1), "name"),
    (lambda: optim.make("adam", lr=0.1, momentum=0.9), "momentum"),
])
def test_other_arguments_are_checked(call, arg):
    with pytest.raises((ValueError, TypeError), match=arg):
        call()


@pytest.fixture(scope="module")
def small_problem():
    return simopt.quadratic(simopt.spectra.linear(4, 1.0, 2.0), seed=0)


@pytest.mark.parametrize("kwargs,arg", [
    (dict(steps=0), "steps"), (dict(steps=2.5), "steps"), (dict(runs=0), "runs"), (dict(seed=-1), "seed"),
    (dict(record_every=0), "record_every"), (dict(record=("loss2",)), "record"),
    (dict(x0=np.zeros(3)), "x0"), (dict(x0=np.full(4, np.nan)), "x0"), (dict(x0="abc"), "x0"),
    (dict(divergence_threshold=-1.0), "divergence_threshold"), (dict(first_run=-2), "first_run"),
])
def test_run_arguments_are_checked(small_problem, kwargs, arg):
    args = dict(steps=5)
    args.update(kwargs)
    with pytest.raises((ValueError, TypeError), match=arg):
        simopt.run(small_problem, optim.sgd(0.1), **args)


def test_run_rejects_wrong_objects(small_problem):
    with pytest.raises(TypeError, match="problem"):
        simopt.run("quadratic", optim.sgd(0.1), 5)
    with pytest.raises(TypeError, match="optimizer"):
        simopt.run(small_problem, "sgd", 5)
    with pytest.raises(ValueError, match="lr"):
        simopt.run(small_problem, optim.sgd(schedules.array([0.1, 0.1])), 5)


_junk = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.floats(allow_nan=True, allow_infinity=True),
                  st.text(max_size=3), st.lists(st.floats(-2, 2), max_size=3))


@given(st.sampled_from(sorted(k for k in optim.REGISTRY if k != "clipped")),
       st.dictionaries(st.sampled_from(["lr", "momentum", "beta", "beta1", "beta2", "eps", "alpha", "scale",
                                        "rule", "nesterov", "dampening", "v0"]), _junk, max_size=3))
def test_fuzz_optimizer_constructors_raise_only_clear_errors(name, kwargs):
    try:
        optim.make(name, **kwargs)
    except (ValueError, TypeError) as e:
        assert str(e)


@given(st.dictionaries(st.sampled_from(["eigvals", "rotation", "seed", "x0", "xstar", "noise", "blocks"]),
                       _junk, max_size=4))
def test_fuzz_problem_constructor_raises_only_clear_errors(kwargs):
    kwargs.setdefault("eigvals", [1.0, 2.0])
    try:
        simopt.quadratic(**kwargs)
    except (ValueError, TypeError) as e:
        assert str(e)


@given(st.dictionaries(st.sampled_from(["steps", "runs", "seed", "record_every", "record", "x0",
                                        "first_run", "divergence_threshold"]), _junk, max_size=3))
def test_fuzz_run_raises_only_clear_errors(small_problem, kwargs):
    kwargs.setdefault("steps", 3)
    try:
        simopt.run(small_problem, optim.sgd(0.1), **kwargs)
    except (ValueError, TypeError) as e:
        assert str(e)
