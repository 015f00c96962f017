"""torch.optim and optax optimizers on simopt problems (simopt.optim.from_torch / from_optax): the same
numbers as simopt's own rules to rounding, the same noise, recording and divergence handling, per-run
state, tuning and sweeps; and every way an optimizer cannot run on the engine is an error."""
import os
import pickle
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import simopt
from simopt import noise, optim, schedules, spectra
from simopt.testing import reference_steps

HELPERS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "helpers")
EXAMPLES = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "examples")
STEPS = 50          # beyond ~50 steps constant-lr Adam on a quadratic is chaotic and amplifies rounding


def _torch():
    return pytest.importorskip("torch")


def _optax():
    pytest.importorskip("jax")
    return pytest.importorskip("optax")


def _problem(nz=noise.gaussian(0.1), xstar=None, d=12, rotation="haar"):
    return simopt.quadratic(spectra.logspace(d, 1.0, 100.0), rotation=rotation, noise=nz, seed=3,
                            xstar=xstar)


def _errors(res, problem):
    """Recorded iterates in error coordinates x - x*, (runs, records, d)."""
    return res.records["x"] - problem.xstar


def _assert_same_iterates(a, b, rtol=1e-12):
    """||a_t - b_t|| <= rtol ||b_t|| at every recorded step of every run."""
    num = np.linalg.norm(a - b, axis=-1)
    den = np.linalg.norm(b, axis=-1)
    worst = float(np.max(num / den))
    assert np.all(np.isfinite(a)) and worst <= rtol, f"max relative distance {worst:.3g} > {rtol:g}"


def _parity(adapter_opt, simopt_opt, problem, runs=3, seed=1, steps=STEPS):
    a = simopt.run(problem, adapter_opt, steps, runs=runs, seed=seed, record=("x",))
    b = simopt.run(problem, simopt_opt, steps, runs=runs, seed=seed, record=("x",))
    assert a.meta["engine"] == "numpy" and b.meta["engine"] == "compiled"
    _assert_same_iterates(_errors(a, problem), _errors(b, problem))
    np.testing.assert_allclose(a.loss, b.loss, rtol=1e-10)
    return a, b


NOISES = [pytest.param(noise.gaussian(0.1), id="noisy"), pytest.param(None, id="noise-free")]


# --------------------------------------------------------------------------------------------- parity
@pytest.mark.parametrize("nz", NOISES)
def test_torch_adam_equals_simopt_adam(nz):
    torch = _torch()
    p = _problem(nz)
    rule = optim.from_torch(torch.optim.Adam)
    a, _ = _parity(rule(1e-2, beta2=0.99), optim.adam(1e-2, beta2=0.99), p)
    assert a.loss[:, -1].max() < 0.5 * a.loss[:, 0].min()          # it optimises
    sched = schedules.cosine(3e-2, final_lr=1e-3)                   # lr written into param_groups per step
    _parity(rule(sched, eps=1e-6), optim.adam(sched, eps=1e-6), p)


@pytest.mark.parametrize("nz", NOISES)
@pytest.mark.parametrize("kw", [dict(momentum=0.9), dict(momentum=0.9, dampening=0.5),
                                dict(momentum=0.8, nesterov=True)], ids=["heavy-ball", "damped", "nesterov"])
def test_torch_sgd_with_momentum_equals_simopt_sgd(nz, kw):
    torch = _torch()
    _parity(optim.from_torch(torch.optim.SGD)(2e-3, **kw), optim.sgd(2e-3, **kw), _problem(nz))


@pytest.mark.parametrize("nz", NOISES)
def test_torch_adamw_equals_simopt_adamw(nz):
    """torch's AdamW decays its parameter, x - x*: it is AdamW on a problem with x* = 0; with x* != 0
    simopt's weight_decay (on the absolute x) is AdamW and torch's own decay is not."""
    torch = _torch()
    rule = optim.from_torch(torch.optim.AdamW)
    assert rule.hyper["torch_weight_decay"].default == 0.01       # torch's default, kept
    p0 = _problem(nz, xstar=np.zeros(12))
    _parity(rule(1e-2, torch_weight_decay=0.1), optim.adamw(1e-2, weight_decay=0.1), p0)
    p = _problem(nz)
    assert np.linalg.norm(p.xstar) > 1.0
    _parity(rule(1e-2, torch_weight_decay=0.0, weight_decay=0.1), optim.adamw(1e-2, weight_decay=0.1), p)
    own = simopt.run(p, rule(1e-2, torch_weight_decay=0.1), STEPS, runs=3, seed=1, record=("x",))
    ref = simopt.run(p, optim.adamw(1e-2, weight_decay=0.1), STEPS, runs=3, seed=1, record=("x",))
    gap = np.linalg.norm(_errors(own, p)[:, -1] - _errors(ref, p)[:, -1], axis=-1)
    assert np.all(gap > 1e-3 * np.linalg.norm(_errors(ref, p)[:, -1], axis=-1))


@pytest.mark.parametrize("nz", NOISES)
def test_optax_adam_and_scale_by_adam_equal_simopt_adam(nz):
    optax = _optax()
    p = _problem(nz)
    full = optim.from_optax(optax.adam)                 # learning_rate injected at every step
    direction = optim.from_optax(optax.scale_by_adam)   # lr-free: the step is -lr * update
    assert set(full.hyper) == {"b1", "b2", "eps", "eps_root", "nesterov"}
    _parity(full(1e-2, b2=0.99), optim.adam(1e-2, beta2=0.99), p)
    _parity(direction(1e-2, b2=0.99), optim.adam(1e-2, beta2=0.99), p)
    sched = schedules.cosine(3e-2, final_lr=1e-3)
    _parity(full(sched, eps=1e-6), optim.adam(sched, eps=1e-6), p)
    _parity(optim.from_optax(optax.scale_by_adam(b2=0.99))(1e-2), optim.adam(1e-2, beta2=0.99), p)


def test_optax_sgd_through_a_users_factory_and_adamw_equal_simopts():
    """optax.sgd's momentum defaults to None (not a hyperparameter); a two-line factory makes it one.
    optax.adamw decays its parameter x - x*: AdamW on a problem with x* = 0."""
    optax = _optax()

    def sgd(learning_rate, momentum=0.9, nesterov=False):
        return optax.sgd(learning_rate, momentum, nesterov)
    rule = optim.from_optax(sgd)
    assert set(rule.hyper) == {"momentum", "nesterov"}
    p = _problem()
    _parity(rule(2e-3), optim.sgd(2e-3, momentum=0.9), p)
    _parity(rule(2e-3, momentum=0.8, nesterov=True), optim.sgd(2e-3, momentum=0.8, nesterov=True), p)
    adamw = optim.from_optax(optax.adamw)
    assert adamw.hyper["optax_weight_decay"].default == 1e-4
    _parity(adamw(1e-2, optax_weight_decay=0.1), optim.adamw(1e-2, weight_decay=0.1),
            _problem(xstar=np.zeros(12)))


@st.composite
def _gradient_streams(draw, steps=12, runs=2, d=5):
    """Gaussian gradients at per-coordinate scales 10^-100..10^100, with exact zeros and one coordinate
    that never gets a gradient."""
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    G = rng.standard_normal((steps, runs, d)) * 10.0 ** rng.uniform(-100, 100, (1, 1, d))
    G[rng.random(G.shape) < 0.3] = 0.0
    G[:, :, 0] = 0.0
    return G


@given(G=_gradient_streams(), beta1=st.floats(0.0, 0.99), beta2=st.floats(0.5, 0.9999),
       eps=st.floats(1e-12, 1e-3), lr=st.floats(1e-4, 1.0))
def test_torch_adam_equals_simopt_adam_on_any_gradient_stream(G, beta1, beta2, eps, lr):
    """The same gradients (exact zeros, scales 1e-100..1e100) give the same iterates."""
    torch = _torch()
    p = _problem(None, d=5)
    x0 = np.linspace(-1.0, 1.0, 5)
    a = reference_steps(optim.from_torch(torch.optim.Adam)(lr, beta1=beta1, beta2=beta2, eps=eps), p, G, x0)
    b = reference_steps(optim.adam(lr, beta1=beta1, beta2=beta2, eps=eps), p, G, x0)
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=0.0)


# --------------------------------------------------------------------------------------------- third party
def test_a_third_party_torch_optimizer_runs_unchanged():
    """pytorch_optimizer's AdaBelief: it optimises, is deterministic across calls and run splits, and its
    runs are independent (one instance per run)."""
    _torch()
    po = pytest.importorskip("pytorch_optimizer")
    rule = optim.from_torch(po.AdaBelief)
    assert {"beta1", "beta2", "eps", "torch_weight_decay", "rectify", "n_sma_threshold"} <= set(rule.hyper)
    assert rule.hyper["n_sma_threshold"].kind == "int"
    p = _problem()
    opt = rule(3e-2)
    a = simopt.run(p, opt, 200, runs=6, seed=4, record_every=10)
    assert a.loss[:, -1].max() < 1e-2 * a.loss[:, 0].min()
    again = simopt.run(p, opt, 200, runs=6, seed=4, record_every=10)
    assert np.array_equal(a.loss, again.loss) and np.array_equal(a.x, again.x)
    tail = simopt.run(p, opt, 200, runs=4, seed=4, record_every=10, first_run=2)
    assert np.array_equal(tail.x, a.x[2:]) and np.array_equal(tail.loss, a.loss[2:])
    one = simopt.run(p, opt, 200, runs=1, seed=4, record_every=10)
    assert np.array_equal(one.x[0], a.x[0])


def test_per_optimizer_statistics_stay_per_run():
    """Prodigy estimates one step size d per optimizer from its own run's gradients: with one instance
    per run, a run's trajectory does not depend on which other runs share the batch."""
    _torch()
    prodigyopt = pytest.importorskip("prodigyopt")
    p = _problem()
    opt = optim.from_torch(prodigyopt.Prodigy)(1.0)
    x0 = np.random.default_rng(0).standard_normal((5, 12))
    all5 = simopt.run(p, opt, 60, runs=5, seed=2, x0=x0)
    first = simopt.run(p, opt, 60, runs=1, seed=2, x0=x0[:1])
    assert np.array_equal(first.x[0], all5.x[0])
    assert all5.loss[:, -1].max() < all5.loss[:, 0].min()


def test_lion_pytorch_equals_a_users_compiled_lion():
    """lucidrains' lion-pytorch and the ~10-line Lion of examples/user_rules.py (Chen et al. 2023,
    Alg. 2) give the same iterates: a third-party optimizer checked against a user's rule."""
    _torch()
    lion_pytorch = pytest.importorskip("lion_pytorch")
    sys.path.insert(0, os.path.abspath(EXAMPLES))
    try:
        import user_rules
    finally:
        sys.path.remove(os.path.abspath(EXAMPLES))
    rule = optim.from_torch(lion_pytorch.Lion)
    assert {"beta1", "beta2"} <= set(rule.hyper)
    _parity(rule(3e-3, beta1=0.95), user_rules.lion(3e-3, beta1=0.95), _problem(), steps=100)


def test_a_schedule_free_optimizer_runs_in_train_mode():
    _torch()
    schedulefree = pytest.importorskip("schedulefree")
    res = simopt.run(_problem(), optim.from_torch(schedulefree.SGDScheduleFree)(0.01), 200, runs=2)
    assert res.loss[:, -1].max() < 1e-2 * res.loss[:, 0].min()


def test_optax_runs_are_independent_and_split_invariant():
    """A per-run norm (global-norm clipping) under jax.vmap: each run is its own function application,
    so a run does not change with the batch it is in, nor with the batch size."""
    optax = _optax()

    def clipped_adam(learning_rate, max_norm=1.0):
        return optax.chain(optax.clip_by_global_norm(max_norm), optax.adam(learning_rate))
    rule = optim.from_optax(clipped_adam)
    assert set(rule.hyper) == {"max_norm"}
    p = _problem()
    x0 = np.random.default_rng(1).standard_normal((16, 12)) * np.geomspace(0.1, 10.0, 16)[:, None]
    opt = rule(3e-2, max_norm=0.5)
    full = simopt.run(p, opt, 60, runs=16, seed=5, x0=x0)
    part = simopt.run(p, opt, 60, runs=8, seed=5, x0=x0[8:], first_run=8)
    assert np.array_equal(part.x, full.x[8:]) and np.array_equal(part.loss, full.loss[8:])
    assert np.array_equal(full.x, simopt.run(p, opt, 60, runs=16, seed=5, x0=x0).x)
    assert np.all(full.loss[:, -1] < full.loss[:, 0])


# --------------------------------------------------------------------------------------------- engine
@optim.numpy_rule(state={"prev": "d"})
def _previous_gradient_step(x, g, prev, t, lr):
    """x <- x - lr (g_t - g_{t-1} / 2) (g_0 := 0): a rule whose state is the last gradient it was given."""
    x -= lr * (g - 0.5 * prev if t > 1 else g)
    prev[...] = g


def test_a_library_state_that_keeps_the_gradient_it_was_given_is_not_overwritten():
    """A training loop hands an optimizer a new gradient every step, so an optimizer may keep the tensor
    it got (here without a copy); the engine reuses its gradient buffer, so an adapter must not hand
    that buffer over.  A user's own torch.optim.Optimizer subclass and optax GradientTransformation that
    do so equal the NumPy rule."""
    torch = _torch()

    class PreviousGradient(torch.optim.Optimizer):
        def __init__(self, params, lr=1e-3):
            super().__init__(params, dict(lr=lr))

        @torch.no_grad()
        def step(self, closure=None):
            for group in self.param_groups:
                for p in group["params"]:
                    prev = self.state[p].get("prev")
                    p.add_(p.grad if prev is None else p.grad - 0.5 * prev, alpha=-group["lr"])
                    self.state[p]["prev"] = p.grad          # kept, not cloned
    p = _problem()
    ref = simopt.run(p, _previous_gradient_step(1e-2), 30, runs=3, seed=2, record=("x",))
    mine = simopt.run(p, optim.from_torch(PreviousGradient)(1e-2), 30, runs=3, seed=2, record=("x",))
    _assert_same_iterates(_errors(mine, p), _errors(ref, p))
    optax = _optax()
    import jax.numpy as jnp

    def previous_gradient():
        def init(params):
            return jnp.zeros_like(params), jnp.zeros((), jnp.int32)

        def update(g, state, params=None):
            prev, count = state
            return jnp.where(count > 0, g - 0.5 * prev, g), (g, count + 1)   # g kept in the state as is
        return optax.GradientTransformation(init, update)
    mine = simopt.run(p, optim.from_optax(previous_gradient)(1e-2), 30, runs=3, seed=2, record=("x",))
    _assert_same_iterates(_errors(mine, p), _errors(ref, p))


def test_divergence_is_reported_as_for_a_builtin_rule():
    torch = _torch()
    p = _problem(noise.gaussian(0.1))
    a = simopt.run(p, optim.from_torch(torch.optim.SGD)(5.0, momentum=0.9), 100, runs=3)
    b = simopt.run(p, optim.sgd(5.0, momentum=0.9), 100, runs=3)
    assert a.diverged.all() and np.array_equal(a.diverged_step, b.diverged_step)
    assert not np.isnan(a.loss).any() and np.all(np.isfinite(a.x))


def test_torchs_0_over_0_is_a_diverged_run_where_simopt_defines_it_as_0():
    """torch's Adam with eps = 0 divides 0 by 0 in a coordinate whose gradient has been exactly 0 (here
    x0 = x* there, no noise): NaN, which the engine reports as a divergence -- not a crash, not a NaN
    loss.  simopt's adam defines 0/0 := 0 and converges."""
    torch = _torch()
    p = _problem(None, rotation="none")
    x0 = p.x0.copy()
    x0[0] = p.xstar[0]
    a = simopt.run(p, optim.from_torch(torch.optim.Adam)(1e-2, eps=0.0), 20, runs=2, x0=x0)
    b = simopt.run(p, optim.adam(1e-2, eps=0.0), 20, runs=2, x0=x0)
    assert a.diverged.all() and np.all(a.diverged_step == 1) and not np.isnan(a.loss).any()
    assert not b.diverged.any() and np.all(b.loss[:, -1] < b.loss[:, 0])


def test_tune_lr_picks_the_same_lr_as_for_simopts_rule():
    torch = _torch()
    p = simopt.quadratic(np.linspace(1.0, 10.0, 8), noise=None, seed=0)
    lrs = np.geomspace(1e-3, 0.5, 10)
    mine = simopt.tune_lr(p, optim.from_torch(torch.optim.SGD)(1.0), lrs, 40, runs=2)
    ref = simopt.tune_lr(p, optim.sgd(1.0), lrs, 40, runs=2)
    assert mine.status == "ok" and mine.best_lr == ref.best_lr
    assert 0.1 <= mine.best_lr <= 2.0 / 10.0          # near 2 / (L + mu) = 0.18, below 2 / L
    np.testing.assert_allclose(mine.scores, ref.scores, rtol=1e-9)


# --------------------------------------------------------------------------------------------- sweeps
def test_module_level_adapters_in_a_sweep_make_and_pickle(tmp_path, monkeypatch):
    _torch()
    _optax()
    from simopt.sweep import Store, parse, run_sweep
    monkeypatch.syspath_prepend(HELPERS)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([HELPERS, os.environ.get("PYTHONPATH", "")]))
    import adapter_rules

    o = optim.make("adapter_rules:torch_adam", lr=1e-2, beta2=0.99)
    assert o.describe()["name"] == "adapter_rules:torch_adam"
    assert optim.from_description(o.describe()) == o
    assert pickle.loads(pickle.dumps(o)).rule is adapter_rules.torch_adam
    problems = [{"type": "quadratic", "eigvals": {"spectrum": "logspace", "d": 6, "low": 1.0, "high": 10.0},
                 "noise": {"type": "gaussian", "scale": 0.1}}]
    spec = parse({"steps": 20, "runs": 2, "seeds": [0], "record_every": 5, "problems": problems,
                  "optimizers": [{"name": "adapter_rules:torch_adam", "lr": [1e-2], "beta2": 0.99},
                                 {"name": "adapter_rules:optax_adam", "lr": [1e-2], "b2": 0.99},
                                 {"name": "adam", "lr": [1e-2], "beta2": 0.99}]})
    report = run_sweep(spec, tmp_path / "out", workers=1, quiet=True)
    assert report.ok and len(report.computed) == 3
    store = Store(tmp_path / "out")
    loss = {c.optimizer_label: store.load(c.hash).arrays["loss"] for c in spec.cells}
    assert set(loss) == {"adapter_rules:torch_adam", "adapter_rules:optax_adam", "adam"}
    np.testing.assert_allclose(loss["adapter_rules:torch_adam"], loss["adam"], rtol=1e-10)
    np.testing.assert_allclose(loss["adapter_rules:optax_adam"], loss["adam"], rtol=1e-10)
    for name, match in (("adapter_rules:no_such_rule", "has no"), ("adapter_rules:torch", "not a rule"),
                        ("no_such_module:rule", "cannot import")):
        with pytest.raises(ValueError, match=match):
            parse({"steps": 5, "seeds": [0], "problems": problems, "optimizers": [{"name": name, "lr": 0.1}]})
    with pytest.raises(ValueError, match="betaz"):
        parse({"steps": 5, "seeds": [0], "problems": problems,
               "optimizers": [{"name": "adapter_rules:torch_adam", "lr": 0.1, "betaz": 0.5}]})


# --------------------------------------------------------------------------------------------- errors
def test_what_cannot_run_on_the_engine_is_an_error_when_the_adapter_is_made():
    torch = _torch()
    for bad in (optim.adam, torch.nn.Linear, torch.optim.Adam([torch.zeros(2)]), "adam"):
        with pytest.raises(TypeError, match="torch.optim.Optimizer subclass"):
            optim.from_torch(bad)
    with pytest.raises(TypeError, match="closure"):
        optim.from_torch(torch.optim.LBFGS)
    with pytest.raises(TypeError, match=r"unknown argument\(s\) \['betaz'\]"):
        optim.from_torch(torch.optim.Adam, betaz=(0.9, 0.99))
    with pytest.raises(ValueError, match="beta"):
        optim.from_torch(torch.optim.Adam, betas=(0.9, 1.5))          # torch's own validation
    rule = optim.from_torch(torch.optim.Adam)
    with pytest.raises(TypeError, match="unknown hyperparameter"):
        rule(1e-3, betas=(0.9, 0.99))
    with pytest.raises(ValueError, match=r"from_torch\(Adam\).*beta"):
        rule(1e-3, beta2=1.5)
    with pytest.raises(TypeError, match="lr"):
        rule()
    assert rule(1e-3).with_hyper(beta2=0.99) == rule(1e-3, beta2=0.99)
    with pytest.raises(ValueError, match="beta"):
        rule(1e-3).with_hyper(beta1=-0.5)
    fixed = optim.from_torch(torch.optim.Adam, lr=1e-2)                # a fixed lr: the rule takes none
    assert not fixed.has_lr and simopt.run(_problem(), fixed(), 5).loss.shape == (1, 6)


def test_closure_optimizers_and_missing_arguments_of_a_zoo_are_errors():
    torch = _torch()
    po = pytest.importorskip("pytorch_optimizer")
    with pytest.raises(TypeError, match="base_optimizer.*no default"):
        optim.from_torch(po.SAM)
    with pytest.raises(TypeError, match="closure"):
        optim.from_torch(po.SAM, base_optimizer=torch.optim.SGD)


def test_optax_errors():
    optax = _optax()
    with pytest.raises(TypeError, match="optax transformation or a factory"):
        optim.from_optax(3.0)
    with pytest.raises(ValueError, match="negative learning rate"):
        optim.from_optax(optax.adam(1e-3))
    with pytest.raises(TypeError, match="already built"):
        optim.from_optax(optax.scale_by_adam(), b1=0.5)
    with pytest.raises(TypeError, match=r"unknown argument\(s\) \['beta1'\]"):
        optim.from_optax(optax.adam, beta1=0.5)
    with pytest.raises(TypeError, match="GradientTransformation"):
        optim.from_optax(lambda learning_rate: learning_rate)
    with pytest.raises(TypeError, match="cannot run with only gradients"):
        optim.from_optax(optax.scale_by_backtracking_linesearch, max_backtracking_steps=5)
    with pytest.raises(TypeError, match="unknown hyperparameter"):
        optim.from_optax(optax.adam)(1e-3, beta1=0.5)


_NO_LIBRARIES = """
import sys
for name in ("torch", "jax", "optax"):
    sys.modules[name] = None            # not installed
import simopt, simopt.optim, simopt.sweep
from simopt.optim import from_optax, from_torch
for f in (from_torch, from_optax):
    try:
        f(object)
    except ImportError as e:
        print(e)
"""


def test_simopt_imports_without_torch_or_jax_and_names_the_extra():
    out = subprocess.run([sys.executable, "-c", _NO_LIBRARIES], capture_output=True, text=True, check=True)
    assert out.stdout.splitlines() == [
        'simopt.optim.from_torch needs PyTorch: pip install "simopt[torch]"',
        'simopt.optim.from_optax needs JAX and optax: pip install "simopt[jax]"']
