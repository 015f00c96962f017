"""Properties of the mathematics of the update rules (not of their implementation)."""
import numpy as np
from hypothesis import given
from hypothesis import strategies as st

import simopt
from simopt import optim, spectra
from simopt.optim.rules.svag import svag_factor
from simopt.testing import compiled_steps


@given(st.integers(2, 10), st.integers(0, 2 ** 20), st.floats(0.0, 0.95), st.booleans(),
       st.floats(0.05, 1.0))
def test_sgd_and_momentum_commute_with_rotations(d, seed, momentum, nesterov, lr_frac):
    """Run on Q diag(l) Q^T from Q x0 equals Q times the run on diag(l) from x0 (x* rotated alike)."""
    rng = np.random.default_rng(seed)
    lam = np.sort(rng.uniform(0.5, 20.0, d))
    axis = simopt.quadratic(lam, seed=seed)
    rot = simopt.quadratic(lam, rotation="haar", seed=seed + 1)
    _, Q = rot.eigh()
    x0 = rng.standard_normal(d)
    axis = simopt.quadratic(lam, seed=seed, x0=x0, xstar=Q.T @ rot.xstar)
    opt = optim.sgd(lr_frac / axis.L, momentum=momentum, nesterov=nesterov and momentum > 0)
    a = simopt.run(axis, opt, 30, record=("x",)).records["x"][0]
    b = simopt.run(rot, opt, 30, x0=Q @ x0, record=("x",)).records["x"][0]
    np.testing.assert_allclose(b, a @ Q.T, atol=1e-9 * (1 + np.abs(a).max()))


@given(st.integers(1, 12), st.integers(0, 2 ** 20), st.integers(-50, 50))
def test_sign_descent_update_is_invariant_to_positive_rescaling(d, seed, logscale):
    rng = np.random.default_rng(seed)
    g = rng.standard_normal(d) * 10.0 ** logscale
    g[rng.random(d) < 0.3] = 0.0
    D = np.exp(rng.uniform(-30, 30, d))
    p = simopt.quadratic(np.ones(d), seed=0)
    for opt in (optim.sign(0.3), optim.signum(0.3, beta=0.0)):
        x1 = compiled_steps(opt, p, g[None, None], np.ones(d))
        x2 = compiled_steps(opt, p, (D * g)[None, None], np.ones(d))
        assert np.array_equal(x1, x2)


@given(st.integers(2, 12), st.integers(0, 2 ** 20))
def test_adam_without_averaging_is_sign_descent(d, seed):
    """beta1 = beta2 = 0, eps = 0: m/sqrt(v) = g/|g| = sign(g) (gradients with no exact zeros)."""
    lam = np.random.default_rng(seed).uniform(1.0, 100.0, d)
    p = simopt.quadratic(lam, rotation="haar", noise=simopt.noise.gaussian(0.5), seed=seed)
    a = simopt.run(p, optim.adam(0.01, beta1=0.0, beta2=0.0, eps=0.0), 40, runs=3, seed=seed)
    s = simopt.run(p, optim.sign(0.01), 40, runs=3, seed=seed)
    np.testing.assert_allclose(a.loss, s.loss, rtol=1e-12)


@given(st.integers(1, 8), st.integers(0, 2 ** 20), st.floats(0.05, 0.99), st.integers(1, 60))
def test_variance_adaptation_factors_lie_in_unit_interval(d, seed, beta, steps):
    rng = np.random.default_rng(seed)
    p = simopt.quadratic(np.ones(d), seed=0)
    for make, momentum in ((optim.svag, False), (optim.msvag, True)):
        opt = make(0.1, beta=beta)
        state = opt.init_state(2, p)
        for t in range(1, steps + 1):
            g = rng.standard_normal((2, 1, d)) * rng.uniform(0, 3) + rng.uniform(-1, 1)
            opt.reference_step(np.zeros((2, d)), g, state, t, 0.1, p)
        gam, _ = svag_factor(state[-1]["m"], state[-1]["v"], steps, beta, momentum)
        assert np.all((gam >= 0) & (gam <= 1))


def test_zhang_adam_is_fixed_diagonal_preconditioning():
    """beta1 = 0, beta2 = 1, v0 = g0^2, eps = 0: x_{t+1} = x_t - eta g_t / |g_0| (theory_notes §2E)."""
    p = simopt.block_diagonal([spectra.linear(3, 1, 2), spectra.linear(3, 50, 60)], rotation="block", seed=2)
    D = np.abs(p.grad(p.x0))
    lr = 0.5 / np.max(np.linalg.eigvalsh(p.hessian() / np.sqrt(np.outer(D, D))))
    res = simopt.run(p, optim.adam(lr, beta1=0.0, beta2=1.0, eps=0.0, v0="first_grad"), 20, record=("x",))
    X = res.records["x"][0]
    x = p.x0.copy()
    for t in range(20):
        x = x - lr * p.grad(x) / D
        np.testing.assert_allclose(X[t + 1], x, rtol=1e-10, atol=1e-12)
