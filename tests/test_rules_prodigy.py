"""Prodigy (Mishchenko & Defazio 2023, official prodigyopt): compiled == NumPy reference, the Adam limit
of a frozen estimate, the bound d <= max(d0, ||x0 - x*||_inf) on a convex problem, and parity with the
official prodigyopt.Prodigy."""
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import simopt
from simopt import optim
from simopt.testing import compiled_steps, reference_steps
from _parity import before_divergence, edge_streams, rel_err, stream, torch_iterates, torch_on_problem
from test_optim_kernels import _assert_close, _problem, gradient_streams


@given(gradient_streams(steps=7), st.data())
def test_compiled_step_equals_reference(stream_, data):
    sizes, G, X0 = stream_
    p = _problem(sizes)

    def f(lo, hi):
        return data.draw(st.floats(lo, hi))

    for opt in (optim.prodigy(f(1e-2, 2.0), beta1=f(0.0, 0.99), beta2=f(0.5, 0.999), eps=f(0.0, 1e-6),
                              d0=f(1e-8, 1e-3), d_coef=f(0.1, 2.0), growth_rate=f(1.0, 2.0)),
                optim.prodigy(use_bias_correction=True, safeguard_warmup=True, weight_decay=f(0.0, 0.5)),
                optim.prodigy(f(1e-2, 2.0), beta1=0.0, eps=0.0)):
        # an arbitrary stream can make d, and with the decay x, grow without bound (|x| 1e35 -> 1e211 in
        # six steps): compare the steps before the engine would stop such a run, and up to one after
        a, b = before_divergence(compiled_steps(opt, p, G, X0), reference_steps(opt, p, G, X0))
        assert not np.any(np.isnan(a))
        _assert_close(a, b)


@pytest.mark.parametrize("case", ["zero", "1e-100", "1e100"])
def test_zero_gradients_and_extreme_scales_give_no_nan(case):
    G, X0 = edge_streams()[["zero", "1e-100", "1e100"].index(case)]
    p = _problem([2, 3])
    for opt in [optim.prodigy(), optim.prodigy(eps=0.0, beta1=0.0, use_bias_correction=True)]:
        a = compiled_steps(opt, p, G, X0)
        assert np.all(np.isfinite(a)), opt
        _assert_close(a, reference_steps(opt, p, G, X0))
        if case == "zero":
            np.testing.assert_array_equal(a[-1], X0)     # no gradient, no move


@given(gradient_streams(steps=8), st.floats(1e-2, 1.0), st.floats(0.0, 0.99), st.floats(0.5, 0.999))
def test_a_frozen_estimate_is_adam_at_d0_times_lr(stream_, lr, beta1, beta2):
    """d_coef so small that d_hat < d0 throughout: d = d0, m = d0 m_Adam, v = d0^2 v_Adam, and with the bias
    correction and eps = 0 the step d0 lr b_k m/sqrt(v) is Adam's at lr d0."""
    sizes, G, X0 = stream_
    G = np.where(G == 0.0, 1.0, G)       # every step has a gradient, so no step is skipped (k = t - 1)
    p = _problem(sizes)
    a = compiled_steps(optim.prodigy(lr, beta1=beta1, beta2=beta2, eps=0.0, use_bias_correction=True,
                                     d0=1e-3, d_coef=1e-300), p, G, X0)
    b = compiled_steps(optim.adam(1e-3 * lr, beta1=beta1, beta2=beta2, eps=0.0), p, G, X0)
    _assert_close(a, b)


@given(st.integers(2, 8), st.integers(0, 2 ** 20), st.booleans(), st.floats(0.0, 0.95))
def test_the_estimate_grows_and_never_exceeds_the_distance_to_the_solution(d, seed, bias, beta1):
    """Convexity gives <g_k, x0 - x_k> <= <g_k, x0 - x*>; summed with the weights s and r share,
    r <= <s, x0 - x*> <= ||s||_1 ||x0 - x*||_inf, so d_hat <= ||x0 - x*||_inf (exact gradients,
    d_coef = 1)."""
    rng = np.random.default_rng(seed)
    p = simopt.quadratic(np.sort(rng.uniform(0.5, 20.0, d)), rotation="haar", seed=seed)
    opt = optim.prodigy(beta1=beta1, use_bias_correction=bias)
    state = opt.init_state(1, p)
    X = (p.x0 - p.xstar)[None].copy()
    dist = np.abs(p.x0 - p.xstar).max()
    ds = []
    for t in range(1, 120):
        opt.reference_step(X, p.grad(X + p.xstar)[:, None, :], state, t, 1.0, p)
        ds.append(state[-1]["dk"][0, 0])
    assert np.all(np.diff(ds) >= 0.0)
    assert ds[-1] <= max(1e-6, dist) * (1.0 + 1e-12)
    assert ds[-1] > 1e3 * 1e-6                                    # it did learn a distance


def _axis(d=6):
    return simopt.quadratic(np.ones(d), xstar=np.zeros(d), seed=0)


def _ours(opt, G, x0):
    return compiled_steps(opt, _axis(G.shape[1]), G[:, None], x0)[:, 0]


@pytest.mark.parametrize("kw", [{}, {"weight_decay": 0.1}, {"use_bias_correction": True},
                                {"safeguard_warmup": True}, {"beta1": 0.0}, {"growth_rate": 1.05},
                                {"d0": 1e-3, "d_coef": 0.5, "eps": 1e-6, "beta3": 0.9}])
def test_parity_with_the_official_prodigy(kw):
    prodigyopt = pytest.importorskip("prodigyopt")
    G, x0 = stream(seed=10, zeros=0.1)
    G[0] = 0.0                                # an all-zero first step: the official code skips it
    theirs_kw = {k: v for k, v in kw.items() if k != "beta1"}
    if "beta1" in kw:
        theirs_kw["betas"] = (kw["beta1"], 0.999)
    theirs = torch_iterates(lambda ps: prodigyopt.Prodigy(ps, lr=0.5, **theirs_kw), G, x0)
    assert rel_err(_ours(optim.prodigy(0.5, **kw), G, x0), theirs) <= 1e-12


def test_run_on_a_quadratic_equals_the_official_prodigy():
    prodigyopt = pytest.importorskip("prodigyopt")
    p = simopt.quadratic(simopt.spectra.logspace(8, 1.0, 30.0), rotation="haar", xstar=np.zeros(8), seed=2)
    res = simopt.run(p, optim.prodigy(weight_decay=0.05), 50, record=("x",))
    ref = torch_on_problem(lambda ps: prodigyopt.Prodigy(ps, lr=1.0, weight_decay=0.05), p, 50)
    assert rel_err(res.records["x"][0], ref) <= 1e-12


def test_defaults_round_trip_and_bad_hyperparameters():
    opt = optim.prodigy()
    h = opt.hyperparams()
    assert h["beta3"] == math.sqrt(0.999) and h["d0"] == 1e-6 and h["growth_rate"] > 1e308
    assert optim.from_description(opt.describe()) == opt
    assert optim.prodigy(weight_decay=0.1).weight_decay == 0.0    # the rule's own decay, not the engine's
    with pytest.raises(ValueError, match="d0"):
        optim.prodigy(d0=0.0)
    with pytest.raises(ValueError, match="beta2"):
        optim.prodigy(beta2=1.5)
    with pytest.raises(TypeError, match="beta2"):
        optim.prodigy(beta2="0.9")
    with pytest.raises(ValueError, match="growth_rate"):
        optim.prodigy(growth_rate=-1.0)
