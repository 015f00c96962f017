"""The rule protocol: users' rules (compiled and NumPy-only) take the same path as built-in ones, are
cached across processes, and every way a rule can be wrong is an error, never a silent no-op."""
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import simopt
from simopt import noise, optim, spectra
from simopt.optim import Hyper, Optimizer, numpy_rule, rule

EXAMPLES = os.path.join(os.path.dirname(__file__), os.pardir, "examples")
sys.path.insert(0, os.path.abspath(EXAMPLES))
import user_rules  # noqa: E402


def _problem(rotation="haar", nz=noise.gaussian(0.1)):
    return simopt.quadratic(spectra.logspace(20, 1.0, 100.0), rotation=rotation, noise=nz, seed=3)


def test_user_rule_compiled_equals_its_numpy_prototype():
    p = _problem()
    a = simopt.run(p, user_rules.lion(3e-2, beta1=0.95), 200, runs=5, seed=1, record=("x",))
    b = simopt.run(p, user_rules.lion_numpy(3e-2, beta1=0.95), 200, runs=5, seed=1, record=("x",))
    assert a.meta["engine"] == "compiled" and b.meta["engine"] == "numpy"
    np.testing.assert_allclose(a.records["x"], b.records["x"], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(a.loss, b.loss, rtol=1e-12)
    assert a.loss[:, -1].max() < 1e-2 * a.loss[:, 0].min()   # it optimises


def test_user_rule_works_with_tune_lr_and_make():
    p = _problem()
    t = simopt.tune_lr(p, user_rules.lion(1.0), 10.0 ** np.arange(-4, 0), 100, runs=2)
    assert t.best_lr is not None
    o = optim.make("user_rules:lion", lr=1e-3, beta2=0.9)
    assert o.hyperparams() == {"beta1": 0.9, "beta2": 0.9}
    assert optim.from_description(o.describe()) == o
    assert o.describe()["name"] == "user_rules:lion"


_WARM = textwrap.dedent("""
    import sys, time, json
    sys.path.insert(0, sys.argv[1])
    import numpy as np, simopt
    from simopt._kernels import codegen
    import user_rules
    p = simopt.quadratic(np.linspace(1, 10, 16), noise=simopt.noise.gaussian(0.1), seed=0)
    opt = user_rules.lion(1e-3)
    before = codegen.will_compile(opt)
    t = time.perf_counter()
    r = simopt.run(p, opt, 50, runs=3, seed=2)
    mod = codegen.rule_module(opt)
    print(json.dumps({"will_compile": before, "seconds": time.perf_counter() - t,
                      "cache_hits": int(mod.step_c.cache_hits), "loss": r.loss[:, -1].tolist()}))
""")


def test_user_rule_loads_from_the_cache_in_a_second_process(tmp_path):
    import json
    env = dict(os.environ, SIMOPT_CACHE_DIR=str(tmp_path / "cache"))
    env.pop("NUMBA_CACHE_DIR", None)
    out = []
    for _ in range(2):
        r = subprocess.run([sys.executable, "-c", _WARM, os.path.abspath(EXAMPLES)], env=env,
                           capture_output=True, text=True, check=True)
        out.append((json.loads(r.stdout.strip().splitlines()[-1]), r.stderr))
    (cold, cold_err), (warm, warm_err) = out
    assert cold["will_compile"] and "compiling" in cold_err
    assert not warm["will_compile"] and warm["cache_hits"] == 1 and "compiling" not in warm_err
    assert warm["loss"] == cold["loss"]
    print(f"first call: cold {cold['seconds']:.2f} s, warm {warm['seconds']:.2f} s")


def test_an_optimizer_without_steps_is_a_type_error_naming_what_is_missing():
    with pytest.raises(TypeError, match="compiled step or a NumPy step"):
        optim.RuleDef("nothing")

    class Old(Optimizer):          # the obvious attempt of the 0.1 API: a subclass with a NumPy method
        def __init__(self, lr):
            self.lr = lr

        def reference_step(self, X, G, state, t, lr, blocks):
            return X - lr * np.sign(G)

    with pytest.raises(TypeError, match="neither a compiled step nor a NumPy step"):
        simopt.run(_problem(), Old(0.1), 5)


def test_rule_declaration_errors_name_the_problem():
    with pytest.raises(TypeError, match="'velocity'"):
        rule(lambda x, g, velocity, lr: None, name="r1")
    with pytest.raises(ValueError, match="twice"):
        rule(lambda x, g, m, lr: None, name="r2", state={"m": "d"}, hyper={"m": 0.1})
    with pytest.raises(ValueError, match="size"):
        rule(lambda x, g, m, lr: None, name="r3", state={"m": "dd"})
    lion = user_rules.lion
    with pytest.raises(TypeError, match="unknown hyperparameter"):
        lion(0.1, beta3=0.5)
    with pytest.raises(TypeError, match="lr"):
        lion()
    bounded = rule(lambda x, g, lr, beta: None, name="r4", hyper={"beta": Hyper(0.5, "[0, 1)")})
    with pytest.raises(ValueError, match="beta"):
        bounded(0.1, beta=1.0)


def test_a_rule_numba_cannot_compile_is_a_type_error_at_run():
    def bad(x, g, lr):
        x -= lr * g
        print({"a": object()})      # objects are outside Numba's nopython subset
    r = rule(bad, name="bad_rule")
    with pytest.raises(TypeError, match="nopython"):
        simopt.run(_problem(), r(0.1), 3)


def test_decoupled_weight_decay_acts_on_x_and_the_loss_is_the_problems():
    """AdamW: x <- x - lr*wd*x, then the Adam step (torch.optim.AdamW); the engine integrates x - x*."""
    p = _problem(nz=None)
    lr, wd = 1e-2, 0.1
    res = simopt.run(p, optim.adamw(lr, weight_decay=wd), 30, record=("x",))
    x = p.x0.copy()
    m = np.zeros(p.dim)
    v = np.zeros(p.dim)
    for t in range(1, 31):
        g = p.grad(x)
        x = x - lr * wd * x
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        x = x - lr / (1 - 0.9 ** t) * m / (np.sqrt(v) / np.sqrt(1 - 0.999 ** t) + 1e-8)
        np.testing.assert_allclose(res.records["x"][0, t], x, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(res.loss[0, -1], p.loss(x), rtol=1e-9)
    with pytest.raises(ValueError, match="weight_decay"):
        optim.gd_oracle().with_hyper(weight_decay=0.1)


# --- the engine capabilities rules can ask for, each compiled == NumPy ------------------------------
@rule(hyper={"beta": 0.9}, state={"z": "d"}, point=lambda y, x, z, beta: _avg(y, x, z, beta))
def averaged(x, g, z, t, lr, beta):
    """A toy gradient-point rule: gradient at y = (1-beta) z + beta x; z <- z - lr g; x <- (x + z)/2."""
    if t == 1:
        for i in range(x.shape[0]):
            z[i] = x[i]
    for i in range(x.shape[0]):
        z[i] -= lr * g[i]
        x[i] = 0.5 * (x[i] + z[i])


def _avg(y, x, z, beta):
    y[...] = (1.0 - beta) * z + beta * x


def test_gradient_point_rules_compiled_and_numpy_agree():
    from numba import njit
    global _avg
    pure = _avg
    _avg = njit(pure)
    try:
        point = lambda y, x, z, beta: pure(y, x, z, beta)  # noqa: E731
        np_rule = numpy_rule(name="averaged_np", hyper={"beta": 0.9}, state={"z": "d"}, point=point)(
            lambda x, g, z, t, lr, beta: _averaged_np(x, g, z, t, lr, beta))
        p = _problem()
        a = simopt.run(p, averaged(0.01), 60, runs=3, seed=4, record=("x",))
        b = simopt.run(p, np_rule(0.01), 60, runs=3, seed=4, record=("x",))
        np.testing.assert_allclose(a.records["x"], b.records["x"], rtol=1e-12, atol=1e-13)
    finally:
        _avg = pure


def _averaged_np(x, g, z, t, lr, beta):
    if t == 1:
        z[...] = x
    z -= lr * g
    x[...] = 0.5 * (x + z)


@rule(hyper={"voters": Hyper(3, kind="int", minimum=1)}, draws="voters")
def vote(x, grads, lr):
    for i in range(x.shape[0]):
        s = 0.0
        for m in range(grads.shape[0]):
            s += np.sign(grads[m, i])
        x[i] -= lr * np.sign(s)


@numpy_rule(hyper={"voters": Hyper(3, kind="int", minimum=1)}, draws="voters")
def vote_np(x, grads, lr):
    x -= lr * np.sign(np.sign(grads).sum(axis=1))


def test_several_draws_per_step_compiled_and_numpy_agree():
    p = _problem(rotation="none")
    a = simopt.run(p, vote(1e-3, voters=5), 80, runs=4, seed=2, record=("x",))
    b = simopt.run(p, vote_np(1e-3, voters=5), 80, runs=4, seed=2, record=("x",))
    np.testing.assert_array_equal(a.records["x"], b.records["x"])
    one = simopt.run(p, vote(1e-3, voters=1), 80, runs=4, seed=2, record=("x",))
    sign = simopt.run(p, optim.sign(1e-3), 80, runs=4, seed=2, record=("x",))
    np.testing.assert_array_equal(one.records["x"], sign.records["x"])   # M = 1 draws the same noise


@rule(state={"h": "d"})
def hutch_precond(x, g, h, t, lr, hutchinson, hdiag):
    for i in range(x.shape[0]):
        h[i] = (h[i] * (t - 1) + hutchinson[i]) / t
        x[i] -= lr * g[i] / max(abs(h[i]), 1e-3 * hdiag[i])


@numpy_rule(state={"h": "d"})
def hutch_precond_np(x, g, h, t, lr, hutchinson, hdiag):
    h[...] = (h * (t - 1) + hutchinson) / t
    x -= lr * g / np.maximum(np.abs(h), 1e-3 * hdiag)


def test_hutchinson_probe_compiled_and_numpy_agree_and_is_unbiased():
    p = simopt.block_diagonal([spectra.linear(4, 1, 3), spectra.linear(4, 5, 9)], rotation="block", seed=1)
    a = simopt.run(p, hutch_precond(0.05), 40, runs=3, seed=5, record=("x",))
    b = simopt.run(p, hutch_precond_np(0.05), 40, runs=3, seed=5, record=("x",))
    np.testing.assert_allclose(a.records["x"], b.records["x"], rtol=1e-12, atol=1e-13)
    # the probe does not shift the gradient-noise stream: the same seed, the same noise as SGD sees
    q = p.with_noise(noise.gaussian(0.3))
    s1 = simopt.run(q, optim.sgd(0.01), 10, runs=2, seed=9, record=("x",))
    s2 = simopt.run(q, optim.sgd(0.01), 10, runs=2, seed=9, record=("x",))
    assert np.array_equal(s1.records["x"], s2.records["x"])


def test_weight_decay_after_the_step_and_proximal():
    """decay="after": x <- x - lr*u, then x <- x - lr*wd*x; "proximal": x <- (x - lr*u)/(1 + lr*wd)."""
    p = _problem(nz=None)
    lr, wd = 0.01, 0.3
    for decay in ("after", "proximal"):
        r = rule(_plain_sgd, name=f"sgd_{decay}", decay=decay)
        res = simopt.run(p, r(lr, weight_decay=wd), 20, record=("x",))
        x = p.x0.copy()
        for t in range(20):
            x = x - lr * p.grad(x)
            x = x - lr * wd * x if decay == "after" else x / (1 + lr * wd)
            np.testing.assert_allclose(res.records["x"][0, t + 1], x, rtol=1e-10, atol=1e-12)


def _plain_sgd(x, g, lr):
    for i in range(x.shape[0]):
        x[i] -= lr * g[i]


def test_a_probe_the_hyperparameters_do_not_use_is_not_drawn():
    assert optim.sophia(1e-3, estimator="hutchinson").needs_hutchinson
    assert not optim.sophia(1e-3, estimator="exact").needs_hutchinson
