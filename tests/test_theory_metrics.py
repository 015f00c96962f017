"""simopt.theory.metrics against brute force and the identities of theory_notes.md §0–§1."""
import itertools

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import simopt
from simopt.theory import bounds as B
from simopt.theory import metrics as M

SETTINGS = settings(max_examples=25, deadline=None)


def random_block_problem(seed, max_blocks=4, max_size=4, log10_kappa=3.0, rotation="block"):
    """Random block sizes, log-uniform spectra spanning [1, κ] (κ = 10**log10_kappa), random x0/x*."""
    rng = np.random.default_rng(seed)
    nb = int(rng.integers(1, max_blocks + 1))
    sizes = rng.integers(1, max_size + 1, size=nb)
    d = int(sizes.sum())
    if d == 1:
        sizes[0] += 1
        d = 2
    e = rng.uniform(0.0, 1.0, size=d)
    e[rng.permutation(d)[:2]] = [0.0, 1.0]
    lam = 10.0 ** (log10_kappa * e)
    spectra = np.split(lam, np.cumsum(sizes)[:-1])
    return simopt.block_diagonal(spectra, rotation=rotation, seed=int(seed))


problems = st.builds(random_block_problem, st.integers(0, 2**31 - 1),
                     log10_kappa=st.floats(0.0, 4.0),
                     rotation=st.sampled_from(["block", "none", "global"]))


# ------------------------------------------------------------------------------------ (Q) and sharpness
@SETTINGS
@given(problems, st.integers(0, 2**31 - 1), st.floats(-3.0, 3.0))
def test_one_step_identity_Q(p, seed, log_eta):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((3, p.dim))
    U = rng.standard_normal((3, p.dim))
    eta = 10.0 ** log_eta / p.L
    lhs = p.loss(X - eta * U)
    rhs = B.one_step_loss(p, X, U, eta)
    scale = p.loss(X) + eta * np.abs(p.grad(X) * U).sum(1) + eta**2 * p.L * (U * U).sum(1)
    assert np.all(np.abs(lhs - rhs) <= 1e-11 * scale)


@SETTINGS
@given(problems, st.integers(0, 2**31 - 1))
def test_directional_sharpness_batched_and_bounded(p, seed):
    rng = np.random.default_rng(seed)
    U = rng.standard_normal((2, 5, p.dim))
    S = M.directional_sharpness(p, U)
    assert S.shape == (2, 5)
    H = p.hessian()
    for i, j in itertools.product(range(2), range(5)):
        u = U[i, j]
        assert S[i, j] == pytest.approx(u @ H @ u / (u @ u), rel=1e-12)
    assert np.all(S >= p.mu * (1 - 1e-12)) and np.all(S <= p.L * (1 + 1e-12))
    lam, Q = p.eigh()
    np.testing.assert_allclose(M.directional_sharpness(p, Q.T), lam, rtol=1e-10)
    assert np.isnan(M.directional_sharpness(p, np.zeros(p.dim)))


@SETTINGS
@given(problems, st.integers(0, 2**31 - 1))
def test_best_step_is_the_line_minimum(p, seed):
    rng = np.random.default_rng(seed)
    x, u = rng.standard_normal(p.dim), rng.standard_normal(p.dim)
    eta = M.best_step(p, x, u)
    fbest = p.loss(x - eta * u)
    assert fbest == pytest.approx(p.loss(x) - M.best_decrease(p, x, u),
                                  rel=1e-9, abs=1e-12 * p.loss(x))
    for t in (0.9, 1.1):
        assert p.loss(x - t * eta * u) >= fbest - 1e-12 * p.loss(x)


def test_update_sharpness_of_a_gd_trajectory_is_gradient_sharpness():
    p = random_block_problem(3, log10_kappa=2.0)
    eta = 1.0 / p.L
    X = [p.x0]
    for _ in range(5):
        X.append(X[-1] - eta * p.grad(X[-1]))
    X = np.array(X)
    S = M.update_sharpness(p, X)
    np.testing.assert_allclose(S, M.directional_sharpness(p, p.grad(X[:-1])), rtol=1e-10)
    S2 = M.update_sharpness(p, np.stack([X, X]))
    assert S2.shape == (2, 5)
    with pytest.raises(ValueError):
        M.update_sharpness(p, X[:1])


# ------------------------------------------------------------------------------------ block metrics
@SETTINGS
@given(problems, st.integers(0, 2**31 - 1))
def test_block_norms_LG_psi_properties(p, seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((4, p.dim))
    G = p.grad(X)
    Gb = M.block_grad_norms(p, X)
    assert Gb.shape == (4, p.n_blocks)
    for b, sl in enumerate(p.blocks):
        np.testing.assert_allclose(Gb[:, b], np.linalg.norm(G[:, sl], axis=1), rtol=1e-12)
    np.testing.assert_allclose(np.sqrt((Gb**2).sum(1)), np.linalg.norm(G, axis=1), rtol=1e-12)
    h = M.grad_heterogeneity(p, X)
    assert np.all(h >= 1.0)
    np.testing.assert_allclose(h, Gb.max(1) / Gb.min(1), rtol=1e-12)
    cv = M.grad_norm_cv(p, X)
    np.testing.assert_allclose(cv, Gb.std(1) / Gb.mean(1), rtol=1e-12)
    LG = M.gradient_weighted_smoothness(p, X)
    assert np.all(LG >= p.block_L.min() * (1 - 1e-12)) and np.all(LG <= p.L * (1 + 1e-12))
    if p.kind in ("block", "diagonal"):   # gᵀHg <= L_G ||g||² for block-diagonal H (§2B)
        gHg = np.einsum("ri,ij,rj->r", G, p.hessian(), G)
        assert np.all(gHg <= LG * (G * G).sum(1) * (1 + 1e-12))
    psi = M.gradient_density(G)
    assert np.all(psi >= 1.0 / p.dim * (1 - 1e-12)) and np.all(psi <= 1.0 + 1e-12)
    LP = M.parameter_weighted_smoothness(p)
    assert LP == pytest.approx(np.dot(p.block_sizes, p.block_L) / p.dim, rel=1e-12)
    ratio = M.decrease_ratio_sign_vs_gd(p, X)
    if p.kind in ("block", "diagonal"):  # U_inf = P L_P, so the §2D ratio is psi L_G / L_P
        np.testing.assert_allclose(ratio, psi * LG / LP, rtol=1e-10)
    tm = M.trajectory_metrics(p, X)
    np.testing.assert_allclose(tm["loss"], p.loss(X), rtol=1e-9)
    np.testing.assert_allclose(tm["L_G"], LG, rtol=1e-12)
    np.testing.assert_allclose(tm["grad_density"], psi, rtol=1e-10)
    np.testing.assert_allclose(tm["decrease_ratio_sign_vs_gd"], ratio, rtol=1e-10)


@pytest.mark.parametrize("opt", [simopt.optim.adam(0.05), simopt.optim.sign(0.01),
                                 simopt.optim.sgd(0.002, momentum=0.9)])
def test_metrics_along_a_trajectory_match_the_engine(opt):
    p = simopt.heterogeneous_blocks(3, 4, 0.7, condition_number=200.0, seed=2)
    m = M.along(p, opt, 30, runs=3, seed=1)
    assert m["loss"].shape == (3, 31) and m["block_grad_norms"].shape == (3, 31, 3)
    res = simopt.run(p, opt, 30, runs=3, seed=1, record=("block_grad_norms",))
    np.testing.assert_allclose(m["loss"], res.loss, rtol=1e-9)
    np.testing.assert_allclose(m["grad_norm"], res.grad_norm, rtol=1e-9)
    np.testing.assert_allclose(m["block_grad_norms"], res.records["block_grad_norms"], rtol=1e-9)
    # the sharpness of the update actually taken: exact S(x_t - x_{t+1}) == the engine's record
    np.testing.assert_allclose(m["update_sharpness"], m["sharpness"][:, :-1], rtol=1e-7)


def test_gradient_density_extremes_and_cv_zero():
    assert M.gradient_density(np.array([3.0, -3.0, 3.0, 3.0])) == pytest.approx(1.0)
    assert M.gradient_density(np.array([0.0, 0.0, -2.0, 0.0])) == pytest.approx(0.25)
    assert np.isnan(M.gradient_density(np.zeros(3)))
    p = simopt.block_diagonal([np.array([1.0, 2.0]), np.array([5.0, 7.0])], rotation="none",
                              xstar=np.zeros(4))
    x = np.array([1.0, 0.0, 0.4, 0.0])   # g = (1, 0, 2, 0): block norms 1 and 2
    np.testing.assert_allclose(M.block_grad_norms(p, x), [1.0, 2.0])
    assert M.grad_heterogeneity(p, x) == pytest.approx(2.0)
    assert M.gradient_weighted_smoothness(p, x) == pytest.approx((2.0 * 1 + 7.0 * 4) / 5)
    y = np.array([1.0, 0.0, 0.2, 0.0])   # g = (1, 0, 1, 0): equal block norms
    assert M.grad_norm_cv(p, y) == pytest.approx(0.0, abs=1e-15)


# ------------------------------------------------------------------------------------ U_inf, mu_inf
@settings(max_examples=15, deadline=None)
@given(st.integers(0, 2**31 - 1), st.sampled_from(["block", "none", "global"]))
def test_U_inf_bounds_every_sign_vector(seed, rotation):
    p = random_block_problem(seed, max_blocks=4, max_size=3, rotation=rotation)
    assert p.dim <= 12
    S = np.array(list(itertools.product([-1.0, 1.0], repeat=p.dim)))
    worst = np.einsum("ki,ij,kj->k", S, p.hessian(), S).max()
    assert M.linf_smoothness(p) >= worst * (1 - 1e-12)
    if p.kind in ("block", "diagonal"):
        assert M.linf_smoothness(p) == pytest.approx(p.dim * M.parameter_weighted_smoothness(p))


@settings(max_examples=10, deadline=None)
@given(st.integers(0, 2**31 - 1), st.sampled_from(["block", "global"]))
def test_mu_inf_is_the_min_ratio_attained_at_the_named_vertex(seed, rotation):
    p = random_block_problem(seed, max_blocks=2, max_size=2, log10_kappa=1.5, rotation=rotation)
    mu_inf = M.linf_strong_convexity(p)
    rng = np.random.default_rng(seed)
    Hinv = np.linalg.inv(p.hessian())
    # random points whose gradients are isotropic Gaussian: x = x* + H^-1 z
    X = p.xstar + rng.standard_normal((200_000, p.dim)) @ Hinv
    G = p.grad(X)
    r = (np.abs(G).sum(1) ** 2 / 2.0) / p.loss(X)       # ||g||_1^2 / (2 f) >= mu_inf everywhere
    assert r.min() >= mu_inf * (1 - 1e-12)
    # ... and is approached: the gap near the vertex is first order in the off-vertex mass, so the
    # best of 2e5 random points gets within ~1% for d <= 3 and ~10% for d = 4
    assert r.min() <= mu_inf * (1.05 if p.dim <= 3 else 1.15)
    i = int(np.argmax(np.diag(Hinv)))
    x = p.xstar + Hinv[:, i]                             # g = e_i: the vertex the proof names
    g = p.grad(x)
    assert (np.abs(g).sum() ** 2 / 2.0) / p.loss(x) == pytest.approx(mu_inf, rel=1e-9)


# ------------------------------------------------------------------------------------ kappa tilde
@SETTINGS
@given(problems, st.integers(0, 2**31 - 1), st.sampled_from([0.0, 1e-3]))
def test_adam_preconditioned_condition_number_matches_dense_construction(p, seed, eps):
    rng = np.random.default_rng(seed)
    X0 = p.xstar + rng.standard_normal((3, p.dim))
    k = M.adam_preconditioned_condition_number(p, X0, eps)
    assert k.shape == (3,)
    for r in range(3):
        D = np.abs(p.grad(X0[r])) + eps
        Ht = p.hessian() / np.sqrt(np.outer(D, D))
        ev = np.linalg.eigvalsh(Ht)
        assert k[r] == pytest.approx(ev[-1] / ev[0], rel=1e-7)
        assert M.adam_preconditioned_condition_number(p, X0[r], eps) == pytest.approx(k[r], rel=1e-12)


def test_adam_preconditioning_diagonal_closed_form_and_zero_gradient():
    lam = np.array([1.0, 10.0, 100.0])
    p = simopt.quadratic(lam, xstar=np.zeros(3), x0=np.array([1.0, -0.5, 0.25]))
    # D = |H x0| = lam * |x0|, H~ = lam / D = 1 / |x0|
    np.testing.assert_allclose(M.adam_preconditioned_eigvals(p), np.sort(1.0 / np.abs(p.x0)))
    assert M.adam_preconditioned_condition_number(p) == pytest.approx(4.0)
    with pytest.raises(ValueError, match="eps"):
        M.adam_preconditioned_eigvals(p, np.array([0.0, 1.0, 1.0]))


# ------------------------------------------------------------------------------------ JS distance
def test_js_zero_for_identical_blocks_and_bounded():
    spec = np.array([1.0, 3.0, 10.0, 40.0])
    assert M.block_spectrum_js([spec, spec.copy(), spec[::-1]]) == 0.0
    p = simopt.heterogeneous_blocks(4, 6, 0.0, condition_number=1000.0)
    assert M.block_spectrum_js(p) == 0.0
    assert M.block_spectrum_js([spec]) == 0.0
    far = M.block_spectrum_js([np.array([1.0, 1.1]), np.array([1e6, 1.1e6])])
    assert 0.8 < far <= np.sqrt(np.log(2.0)) + 1e-12


def test_js_scale_invariant_and_symmetric():
    rng = np.random.default_rng(0)
    a, b, c = (np.exp(rng.uniform(0, 5, size=n)) for n in (5, 7, 3))
    v = M.block_spectrum_js([a, b, c])
    assert M.block_spectrum_js([7.0 * a, 7.0 * b, 7.0 * c]) == pytest.approx(v, rel=1e-9)
    assert M.block_spectrum_js([c, a, b]) == pytest.approx(v, rel=1e-12)
    assert M.block_spectrum_js([a**2, b**2, c**2]) == pytest.approx(v, rel=1e-9)


@pytest.mark.parametrize("n_blocks,block_size,kappa", [(4, 10, 5000.0), (3, 5, 100.0),
                                                       (2, 20, 1e4), (8, 16, 5000.0),
                                                       (4, 3, 5000.0)])
def test_js_grows_with_heterogeneity(n_blocks, block_size, kappa):
    vals = [M.block_spectrum_js(simopt.heterogeneous_blocks(n_blocks, block_size, h,
                                                            condition_number=kappa))
            for h in np.linspace(0.0, 1.0, 11)]
    assert vals[0] == 0.0
    assert np.all(np.diff(vals) > 0), vals


def test_js_input_errors():
    with pytest.raises(ValueError):
        M.block_spectrum_js([np.array([1.0, -2.0]), np.array([1.0])])
    with pytest.raises(TypeError):
        M.block_spectrum_js(np.array([1.0, 2.0]))
    with pytest.raises(ValueError):
        M.block_spectrum_js([np.array([1.0]), np.array([2.0])], bandwidth=0.0)


def test_metric_shape_errors():
    p = random_block_problem(1)
    with pytest.raises(ValueError, match="dimension"):
        M.block_grad_norms(p, np.zeros(p.dim + 1))
    with pytest.raises(TypeError):
        M.directional_sharpness(p, "abc")
    with pytest.raises(ValueError):
        M.directional_sharpness(p, np.full(p.dim, np.nan))
