"""Exact expectations (theory_notes.md §3F–G) and variance-adaptation factors (§4) against Monte
Carlo: the engine's mean loss must lie within 4 standard errors of the closed forms."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from scipy.optimize import minimize_scalar
from scipy.special import erf

import simopt
from simopt.theory import expectations as X


def _problems():
    blk = simopt.heterogeneous_blocks(2, 4, 0.7, condition_number=30.0, rotation="block", seed=3)
    dense = simopt.quadratic(simopt.spectra.logspace(6, 1.0, 20.0), rotation="haar", seed=5)
    return {"block": blk, "dense": dense}


def _noises(p):
    rng = np.random.default_rng(11)
    A = 0.3 * rng.standard_normal((p.dim, p.dim))
    return {"isotropic": simopt.noise.gaussian(0.4),
            "hessian_aligned": simopt.noise.hessian_aligned(0.3),
            "random_full": simopt.noise.correlated_gaussian(A @ A.T)}


def _within(mc, se, exact, z=4.0):
    tol = z * se + 1e-9 * np.abs(exact)
    zs = np.abs(mc - exact) / np.where(se > 0, se, np.inf)
    return np.all(np.abs(mc - exact) <= tol), float(np.nanmax(zs[1:]))


# ------------------------------------------------------------------------------------ closed forms
def test_random_covariance_is_not_aligned_with_H():
    p = _problems()["dense"]
    C = _noises(p)["random_full"].covariance(p)
    lam, Q = p.eigh()
    Ct = Q.T @ C @ Q
    off = np.abs(Ct - np.diag(np.diag(Ct))).max()
    assert off > 0.1 * np.abs(np.diag(Ct)).max()    # genuinely non-co-diagonal noise


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 2**31 - 1), st.floats(0.05, 1.9), st.integers(1, 60))
def test_sgd_closed_form_equals_recursion_and_momentum_zero(seed, lr_scale, steps):
    rng = np.random.default_rng(seed)
    p = simopt.quadratic(np.exp(rng.uniform(0, 4, size=5)), rotation="haar", seed=seed % 1000)
    C = rng.standard_normal((5, 5))
    C = 0.1 * C @ C.T
    eta = lr_scale / p.L
    t, a = X.sgd_expected_loss(p, eta, steps, cov=C, record_every=7)
    t2, b = X.sgd_expected_loss(p, np.full(steps, eta), steps, cov=C, record_every=7)
    t3, c = X.momentum_expected_loss(p, eta, 0.0, steps, cov=C, record_every=7)
    np.testing.assert_array_equal(t, t2)
    np.testing.assert_allclose(a, b, rtol=1e-9)
    np.testing.assert_allclose(a, c, rtol=1e-9)
    assert t[0] == 0 and t[-1] == steps


def test_sgd_stationary_loss_is_the_limit():
    p = _problems()["block"]
    nz = _noises(p)["random_full"]
    eta = 0.7 / p.L
    _, curve = X.sgd_expected_loss(p, eta, 20_000, cov=nz, record_every=20_000)
    assert curve[-1] == pytest.approx(X.sgd_stationary_loss(p, eta, cov=nz), rel=1e-9)
    assert X.sgd_stationary_loss(p, 2.5 / p.L, cov=nz) == np.inf


def _mc_momentum(p, eta, mu, steps, C, runs, rng, nesterov=False, dampening=0.0):
    """Plain NumPy Monte Carlo of torch.optim.SGD with momentum (independent of the engine)."""
    A = np.linalg.cholesky(C + 1e-300 * np.eye(p.dim))
    x = np.broadcast_to(p.x0, (runs, p.dim)).copy()
    out = [p.loss(x).mean()]
    buf = None
    for t in range(steps):
        g = p.grad(x) + rng.standard_normal((runs, p.dim)) @ A.T
        buf = g.copy() if t == 0 else mu * buf + (1 - dampening) * g
        x = x - eta * (g + mu * buf if nesterov else buf)
        out.append(p.loss(x))
    return out


@pytest.mark.parametrize("nesterov,dampening", [(False, 0.0), (True, 0.0), (False, 0.5)])
def test_momentum_recursion_vs_numpy_monte_carlo(nesterov, dampening):
    p = _problems()["dense"]
    rng = np.random.default_rng(0)
    C = np.cov(rng.standard_normal((p.dim, 3 * p.dim))) * 0.2
    eta, mu, steps, runs = 0.3 / p.L, 0.8, 40, 4000
    losses = _mc_momentum(p, eta, mu, steps, C, runs, rng, nesterov, dampening)
    _, exact = X.momentum_expected_loss(p, eta, mu, steps, cov=C, nesterov=nesterov,
                                        dampening=dampening)
    L = np.array(losses[1:])
    ok, zmax = _within(np.r_[losses[0], L.mean(1)], np.r_[0.0, L.std(1, ddof=1) / np.sqrt(runs)],
                       exact)
    assert ok, zmax


# ------------------------------------------------------------------------------------ engine MC
def _engine_vs_exact(p, opt, exact_fn, steps, runs, record_every):
    res = simopt.run(p, opt, steps, runs=runs, seed=123, record_every=record_every)
    t, exact = exact_fn()
    np.testing.assert_array_equal(res.steps, t)
    mc = res.loss.mean(0)
    se = res.loss.std(0, ddof=1) / np.sqrt(runs)
    return _within(mc, se, exact)


@pytest.mark.parametrize("pname", ["block", "dense"])
@pytest.mark.parametrize("nname", ["isotropic", "hessian_aligned", "random_full"])
def test_engine_sgd_mean_loss_matches_exact_expectation(pname, nname):
    p0 = _problems()[pname]
    nz = _noises(p0)[nname]
    p = p0.with_noise(nz)
    eta, steps, runs, every = 0.8 / p.L, 150, 3000, 10
    ok, zmax = _engine_vs_exact(
        p, simopt.optim.sgd(eta),
        lambda: X.sgd_expected_loss(p, eta, steps, record_every=every), steps, runs, every)
    assert ok, f"max |z| = {zmax:.2f}"


@pytest.mark.parametrize("pname", ["block", "dense"])
@pytest.mark.parametrize("nname", ["isotropic", "hessian_aligned", "random_full"])
def test_engine_momentum_mean_loss_matches_exact_expectation(pname, nname):
    p0 = _problems()[pname]
    p = p0.with_noise(_noises(p0)[nname])
    eta, mu, steps, runs, every = 0.2 / p.L, 0.9, 150, 3000, 10
    ok, zmax = _engine_vs_exact(
        p, simopt.optim.sgd(eta, momentum=mu),
        lambda: X.momentum_expected_loss(p, eta, mu, steps, record_every=every), steps, runs, every)
    assert ok, f"max |z| = {zmax:.2f}"


def test_engine_mc_detects_a_wrong_expectation():
    """The 4-SE comparison has power: the SGD formula does not fit a momentum run."""
    p0 = _problems()["block"]
    p = p0.with_noise(simopt.noise.gaussian(0.4))
    eta, mu, steps, runs, every = 0.2 / p.L, 0.9, 150, 3000, 10
    ok, _ = _engine_vs_exact(
        p, simopt.optim.sgd(eta, momentum=mu),
        lambda: X.sgd_expected_loss(p, eta, steps, record_every=every), steps, runs, every)
    assert not ok


# ------------------------------------------------------------------------------------ SSD one step
@pytest.mark.parametrize("rotation", ["none", "haar"])
def test_ssd_one_step_engine_monte_carlo(rotation):
    rng = np.random.default_rng(4)
    lam = np.exp(rng.uniform(0, 3, size=6))
    sigma = rng.uniform(0.2, 3.0, size=6)
    p = simopt.quadratic(lam, rotation=rotation, seed=2, noise=simopt.noise.gaussian(sigma))
    eta, runs = 0.3 / p.L, 40_000
    res = simopt.run(p, simopt.optim.sign(eta), 1, runs=runs, seed=9)
    mc, se = res.loss[:, 1].mean(), res.loss[:, 1].std(ddof=1) / np.sqrt(runs)
    exact = X.ssd_expected_next_loss(p, p.x0, eta)
    assert abs(mc - exact) <= 4 * se, (mc, exact, se)
    # §3G closed form for the axis-aligned case
    if rotation == "none":
        g = p.grad(p.x0)
        f = p.loss(p.x0)
        closed = f - eta * np.sum(g * erf(g / (np.sqrt(2) * sigma))) + 0.5 * eta**2 * lam.sum()
        assert exact == pytest.approx(closed, rel=1e-12)
    # and the expectation is not trivially wide: GD's decrease differs from SSD's by >> 4 SE
    assert abs(exact - p.loss(p.x0)) > 20 * se


def test_ssd_zero_noise_is_deterministic_sign_descent():
    p = simopt.quadratic(np.array([1.0, 4.0, 9.0]), rotation="haar", seed=1)
    x = p.x0
    s = np.sign(p.grad(x))
    assert X.ssd_expected_next_loss(p, x, 0.05, sigma=0.0) == pytest.approx(p.loss(x - 0.05 * s),
                                                                              rel=1e-12)
    with pytest.raises(ValueError, match="sigma"):
        X.ssd_expected_next_loss(p.with_noise(simopt.noise.hessian_aligned(1.0)), x, 0.1)


# ------------------------------------------------------------------------------------ Lemma 1
@pytest.mark.parametrize("eta", [0.05, 0.3, 1.0, 2.5, 8.0])
def test_lemma1_factors_minimise_the_closed_form_mse(eta):
    p, sigma = 1.7, 1.7 * eta
    best = minimize_scalar(lambda g: X.scaled_gradient_mse(g, p, sigma), bounds=(-2, 3),
                           method="bounded", options={"xatol": 1e-10})
    assert best.x == pytest.approx(X.variance_adaptation_factor(eta), abs=1e-7)
    rho = X.sign_agreement_probability(eta)
    best = minimize_scalar(lambda g: X.sign_mse(g, rho), bounds=(-2, 3), method="bounded",
                           options={"xatol": 1e-10})
    assert best.x == pytest.approx(X.sign_variance_factor(eta), abs=1e-7)


def test_lemma1_mse_closed_forms_and_sign_factor_vs_monte_carlo():
    rng = np.random.default_rng(7)
    n = 400_000
    for eta in (0.3, 0.8, 1.5, 4.0):
        p, sigma = -0.9, 0.9 * eta
        ph = p + sigma * rng.standard_normal(n)
        agree = np.sign(ph) * np.sign(p)                  # E = 2ρ − 1, Var = 1 − (2ρ − 1)²
        m = X.sign_variance_factor(eta)
        assert abs(agree.mean() - m) <= 4 * np.sqrt((1 - m * m) / n)
        for gam in (0.3, 1.0):
            v = (gam * ph - p) ** 2
            assert abs(v.mean() - X.scaled_gradient_mse(gam, p, sigma)) <= 4 * v.std() / np.sqrt(n)
            w = (gam * np.sign(ph) - np.sign(p)) ** 2
            rho = X.sign_agreement_probability(eta)
            assert abs(w.mean() - X.sign_mse(gam, rho)) <= 4 * w.std() / np.sqrt(n)


def test_adam_factor_closely_approximates_the_sign_factor():
    eta = np.concatenate([[0.0], np.logspace(-3, 3, 400)])
    a, s = X.adam_implicit_factor(eta), X.sign_variance_factor(eta)
    # Balles & Hennig Fig. 3: "closely approximated" (max gap 0.064, near eta = 1.9)
    assert np.max(np.abs(a - s)) < 0.07
    assert np.all(X.variance_adaptation_factor(eta) <= a + 1e-15)   # (1+η²)^-1 <= (1+η²)^-1/2
    assert a[0] == s[0] == X.variance_adaptation_factor(0.0) == 1.0
    with pytest.raises(ValueError):
        X.sign_variance_factor(-1.0)


def test_diagonal_fast_path_equals_the_dense_computation():
    """For a diagonal problem the exact moments are taken without forming C or rotating: same numbers."""
    lam = np.linspace(0.5, 4.0, 7)
    for model in (simopt.noise.gaussian(np.linspace(0.1, 0.7, 7)), simopt.noise.hessian_aligned(0.3),
                  simopt.noise.correlated_gaussian(np.eye(7) + 0.3)):
        p = simopt.quadratic(lam, noise=model, seed=2)
        fast = simopt.theory.sgd_expected_loss(p, 0.2, 30)
        dense = simopt.theory.sgd_expected_loss(p, 0.2, 30, cov=model.covariance(p))
        for a, b in zip(fast, dense):
            np.testing.assert_allclose(a, b, rtol=1e-12)
