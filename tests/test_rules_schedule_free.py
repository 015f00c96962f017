"""Schedule-free SGD and AdamW (Defazio et al. 2024): compiled == NumPy reference, the Polyak-averaging
limit (beta = 0), rotation equivariance of SF-SGD, the gradient taken at y and the loss at x, and parity
with the official schedulefree package (its reference classes step by step; the y-parameter classes
through eval())."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import simopt
from simopt import noise, optim, spectra
from simopt.testing import compiled_steps, reference_steps
from _parity import edge_streams, rel_err, stream, torch_iterates, torch_on_problem
from test_optim_kernels import _assert_close, _problem, gradient_streams


@given(gradient_streams(steps=7), st.data())
def test_compiled_step_equals_reference(stream_, data):
    sizes, G, X0 = stream_
    p = _problem(sizes)

    def f(lo, hi):
        return data.draw(st.floats(lo, hi))

    w = data.draw(st.integers(0, 4))
    for opt in (optim.schedule_free_sgd(f(1e-3, 1.0), momentum=f(0.0, 1.0), weight_decay=f(0.0, 0.5),
                                        warmup_steps=w, r=f(0.0, 2.0), weight_lr_power=f(0.0, 3.0)),
                optim.schedule_free_adamw(f(1e-4, 0.1), beta1=f(0.0, 1.0), beta2=f(0.0, 0.9999),
                                          eps=f(0.0, 1e-6), weight_decay=f(0.0, 0.5), warmup_steps=w,
                                          decay_at_z=data.draw(st.booleans()))):
        a = compiled_steps(opt, p, G, X0)
        assert np.all(np.isfinite(a))
        _assert_close(a, reference_steps(opt, p, G, X0))


@pytest.mark.parametrize("case", ["zero", "1e-100", "1e100"])
def test_zero_gradients_and_extreme_scales_give_no_nan(case):
    G, X0 = edge_streams()[["zero", "1e-100", "1e100"].index(case)]
    p = _problem([2, 3])
    for opt in [optim.schedule_free_sgd(0.1), optim.schedule_free_adamw(0.01),
                optim.schedule_free_adamw(0.01, eps=0.0, warmup_steps=3)]:
        a = compiled_steps(opt, p, G, X0)
        assert np.all(np.isfinite(a)), opt
        _assert_close(a, reference_steps(opt, p, G, X0))
        if case == "zero":
            np.testing.assert_allclose(a[-1], X0, rtol=1e-15)     # no gradient, no move


@given(gradient_streams(steps=8), st.floats(1e-3, 1.0))
def test_beta_zero_and_uniform_weights_is_polyak_averaging_of_sgd(stream_, lr):
    """y = z: z is plain SGD from x0 and c_{k+1} = 1/(k+1) makes x the running mean of z_1..z_t."""
    sizes, G, X0 = stream_
    p = _problem(sizes)
    X = compiled_steps(optim.schedule_free_sgd(lr, momentum=0.0, weight_lr_power=0.0), p, G, X0)
    Z = X0 - lr * np.cumsum(G, axis=0)                       # G: (steps, runs, d)
    mean = np.cumsum(Z, axis=0) / np.arange(1, G.shape[0] + 1)[:, None, None]
    _assert_close(X[1:], mean)


def test_the_gradient_is_taken_at_y_and_the_loss_reported_at_x():
    """On a noise-free problem, beta = 0 takes every gradient at z, which is then gradient descent: the
    engine's x is the running mean of GD's iterates, and its loss is f at that mean."""
    p = simopt.quadratic(spectra.logspace(10, 1.0, 50.0), rotation="haar", seed=4)
    lr = 1.0 / 50.0
    sf = simopt.run(p, optim.schedule_free_sgd(lr, momentum=0.0, weight_lr_power=0.0), 40, record=("x",))
    gd = simopt.run(p, optim.sgd(lr), 40, record=("x",)).records["x"][0]
    mean = np.cumsum(gd[1:], axis=0) / np.arange(1, 41)[:, None]
    np.testing.assert_allclose(sf.records["x"][0, 1:], mean, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(sf.loss[0, 1:], p.loss(mean), rtol=1e-10)


@given(st.integers(2, 8), st.integers(0, 2 ** 20), st.floats(0.0, 1.0), st.floats(0.05, 1.0))
def test_schedule_free_sgd_commutes_with_rotations(d, seed, beta, lr_frac):
    rng = np.random.default_rng(seed)
    lam = np.sort(rng.uniform(0.5, 20.0, d))
    rot = simopt.quadratic(lam, rotation="haar", seed=seed + 1)
    _, Q = rot.eigh()
    x0 = rng.standard_normal(d)
    axis = simopt.quadratic(lam, seed=seed, x0=x0, xstar=Q.T @ rot.xstar)
    opt = optim.schedule_free_sgd(lr_frac / axis.L, momentum=beta, warmup_steps=3)
    a = simopt.run(axis, opt, 30, record=("x",)).records["x"][0]
    b = simopt.run(rot, opt, 30, x0=Q @ x0, record=("x",)).records["x"][0]
    np.testing.assert_allclose(b, a @ Q.T, atol=1e-9 * (1 + np.abs(a).max()))


def _axis(d=6):
    return simopt.quadratic(np.ones(d), xstar=np.zeros(d), seed=0)


def _ours(opt, G, x0):
    return compiled_steps(opt, _axis(G.shape[1]), G[:, None], x0)[:, 0]


def _state_x(opt, p):
    return opt.state[p]["x"].detach().numpy()


SGD_CASES = [{}, {"momentum": 0.7, "weight_decay": 0.1, "warmup_steps": 5, "r": 1.0, "weight_lr_power": 1.5}]
ADAMW_CASES = [{}, {"weight_decay": 0.1, "warmup_steps": 5, "r": 0.5},
               {"weight_decay": 0.1, "decay_at_z": True, "betas": (0.8, 0.99)}]


@pytest.mark.parametrize("kw", SGD_CASES)
def test_sgd_parity_with_the_official_reference_class(kw):
    sf = pytest.importorskip("schedulefree")
    G, x0 = stream(seed=11)
    theirs = torch_iterates(lambda ps: sf.SGDScheduleFreeReference(ps, lr=0.1, **kw), G, x0, read=_state_x)
    assert rel_err(_ours(optim.schedule_free_sgd(0.1, **kw), G, x0), theirs) <= 1e-12


def _adamw_kw(kw):
    out = dict(kw)
    if "betas" in out:
        out["beta1"], out["beta2"] = out.pop("betas")
    return out


@pytest.mark.parametrize("kw", ADAMW_CASES)
def test_adamw_parity_with_the_official_reference_class(kw):
    sf = pytest.importorskip("schedulefree")

    def make(ps):
        opt = sf.AdamWScheduleFreeReference(ps, lr=1e-2, **kw)
        opt.train()                                   # the reference class starts in eval mode
        return opt

    G, x0 = stream(seed=12, zeros=0.1)
    theirs = torch_iterates(make, G, x0, read=_state_x)
    assert rel_err(_ours(optim.schedule_free_adamw(1e-2, **_adamw_kw(kw)), G, x0), theirs) <= 1e-12


def test_parity_with_the_y_parameter_classes_through_eval():
    """SGDScheduleFree / AdamWScheduleFree store y as the parameter and recover x at eval()."""
    torch = pytest.importorskip("torch")
    sf = pytest.importorskip("schedulefree")
    G, x0 = stream(seed=13)
    for ctor, ours in ((lambda ps: sf.SGDScheduleFree(ps, lr=0.1, weight_decay=0.1, foreach=False),
                        optim.schedule_free_sgd(0.1, weight_decay=0.1)),
                       (lambda ps: sf.AdamWScheduleFree(ps, lr=1e-2, weight_decay=0.1, foreach=False),
                        optim.schedule_free_adamw(1e-2, weight_decay=0.1))):
        p = torch.nn.Parameter(torch.tensor(x0.copy()))
        opt = ctor([p])
        opt.train()
        for g in G:
            p.grad = torch.tensor(g.copy())
            opt.step()
        opt.eval()
        assert rel_err(_ours(ours, G, x0)[-1], p.detach().numpy()) <= 1e-12


def test_run_on_a_quadratic_equals_the_official_reference_classes():
    sf = pytest.importorskip("schedulefree")
    p = simopt.quadratic(spectra.logspace(8, 1.0, 30.0), rotation="haar", xstar=np.zeros(8), seed=2)
    res = simopt.run(p, optim.schedule_free_sgd(0.02, weight_decay=0.05, warmup_steps=10), 50, record=("x",))
    ref = torch_on_problem(lambda ps: sf.SGDScheduleFreeReference(ps, lr=0.02, weight_decay=0.05,
                                                                  warmup_steps=10), p, 50, read=_state_x)
    assert rel_err(res.records["x"][0], ref) <= 1e-12
    np.testing.assert_allclose(res.loss[0], p.loss(ref), rtol=1e-10)     # the loss is f(x), not f(y)

    def make(ps):
        opt = sf.AdamWScheduleFreeReference(ps, lr=0.05)
        opt.train()
        return opt

    res = simopt.run(p, optim.schedule_free_adamw(0.05), 50, record=("x",))
    assert rel_err(res.records["x"][0], torch_on_problem(make, p, 50, read=_state_x)) <= 1e-12


def test_compiled_and_numpy_engines_agree_with_noise():
    """The gradient point goes through both engine paths the same way (noise drawn at y)."""
    from simopt.optim import Optimizer, numpy_rule
    from simopt.optim.rules import schedule_free as mod
    r = mod.SGD
    np_rule = numpy_rule(name="sf_numpy", reference=r.reference, hyper=r.hyper, state=r.state, point=r.point,
                         decay=None)
    p = simopt.quadratic(spectra.logspace(6, 1.0, 10.0), noise=noise.gaussian(0.3), seed=1)
    kw = dict(momentum=0.8, weight_decay=0.1, warmup_steps=4, r=0.0, weight_lr_power=2.0)
    a = simopt.run(p, optim.schedule_free_sgd(0.05, **kw), 30, runs=3, seed=2, record=("x",))
    b = simopt.run(p, Optimizer(np_rule, 0.05, kw), 30, runs=3, seed=2, record=("x",))
    assert b.meta["engine"] == "numpy"
    np.testing.assert_allclose(a.records["x"], b.records["x"], rtol=1e-12, atol=1e-13)


def test_defaults_and_bad_hyperparameters():
    assert optim.schedule_free_sgd().describe() == {
        "name": "schedule_free_sgd", "lr": 1.0, "momentum": 0.9, "weight_decay": 0.0, "warmup_steps": 0,
        "r": 0.0, "weight_lr_power": 2.0}
    a = optim.schedule_free_adamw(weight_decay=0.1)
    assert a.hyperparams()["beta2"] == 0.999 and a.lr.base == 0.0025
    assert optim.from_description(a.describe()) == a
    with pytest.raises(ValueError, match="momentum"):
        optim.schedule_free_sgd(momentum=1.5)
    with pytest.raises(TypeError, match="warmup_steps"):
        optim.schedule_free_sgd(warmup_steps=2.5)
    with pytest.raises(ValueError, match="weight_decay"):
        optim.schedule_free_adamw(weight_decay=-0.1)
