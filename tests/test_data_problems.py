"""Least-squares problems from data (``simopt.least_squares``, ``gaussian_features``, ``zipf_bigram``):
the minimiser and the loss against ``numpy.linalg.lstsq`` and the data's own objective (``loss = f - f*``
exactly), one-hot data as a diagonal problem, Gaussian features whose empirical moments and fitted
weights lie within their standard errors of the population ones, the Zipf frequencies, descriptions that
rebuild the same problem, and named errors for data that has no unique minimiser."""
import json
import math

import numpy as np
import pytest
from hypothesis import given, strategies as st

import simopt
from simopt import noise, optim
from simopt.problems import from_description


@st.composite
def datasets(draw):
    d = draw(st.integers(1, 5))
    n = draw(st.integers(d + 1, 3 * d + 6))
    seed = draw(st.integers(0, 2**31 - 1))
    scale = draw(st.floats(1e-3, 1e3))
    rng = np.random.default_rng(seed)
    X = scale * rng.standard_normal((n, d)) * rng.uniform(0.2, 2.0, size=d)
    y = rng.standard_normal(n) * draw(st.floats(0.0, 10.0)) + X @ rng.standard_normal(d)
    return X, y, rng.standard_normal((3, d))


@given(datasets())
def test_minimiser_and_loss_against_lstsq_and_the_data_objective(data):
    X, y, W = data
    N = X.shape[0]
    p = simopt.least_squares(X, y, batch_size=2)
    assert isinstance(p, simopt.Quadratic) and p.n_samples == N
    assert p.kind == ("diagonal" if X.shape[1] == 1 else "dense")
    ref, *_ = np.linalg.lstsq(X, y, rcond=None)
    np.testing.assert_allclose(p.xstar, ref, rtol=1e-8, atol=1e-10 * np.abs(ref).max())
    np.testing.assert_allclose(p.hessian(), X.T @ X / N, rtol=1e-10, atol=1e-12 * np.abs(X.T @ X / N).max())
    direct = 0.5 * np.mean((W @ X.T - y) ** 2, axis=1)
    np.testing.assert_allclose(p.objective(W), direct, rtol=1e-12)
    assert p.f_star == pytest.approx(0.5 * np.mean((X @ ref - y) ** 2), rel=1e-7, abs=1e-12 * direct.max())
    # f - f* is exactly 1/2 e^T H e: the cross term vanishes at the minimiser
    np.testing.assert_allclose(p.loss(W) + p.f_star, direct, rtol=1e-8)
    np.testing.assert_allclose(p.grad(W), (W @ X.T - y) @ X / N, rtol=1e-7,
                               atol=1e-9 * np.abs((W @ X.T - y) @ X / N).max())


def test_one_hot_data_is_a_diagonal_problem_of_class_frequencies_and_means():
    rng = np.random.default_rng(1)
    tokens = np.concatenate([np.arange(4), rng.integers(0, 4, size=46)])
    y = rng.standard_normal(50) + tokens
    p = simopt.least_squares(np.eye(4)[tokens], y, batch_size=5)
    assert p.kind == "diagonal"
    np.testing.assert_allclose(p.diag, np.bincount(tokens) / 50, rtol=1e-15)
    means = np.array([y[tokens == k].mean() for k in range(4)])
    np.testing.assert_allclose(p.xstar, means, rtol=1e-12)
    within = sum(((y[tokens == k] - means[k]) ** 2).sum() for k in range(4)) / (2 * 50)
    assert p.f_star == pytest.approx(within, rel=1e-12)
    assert np.array_equal(p.x0, np.zeros(4))
    # the coordinate sampler on the same frequencies is a legal model of this problem too
    p.with_noise(noise.sampled_coordinates(5))


def test_gradient_descent_on_the_data_reaches_lstsq_and_records_f_minus_f_star():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((40, 3))
    y = rng.standard_normal(40)
    p = simopt.least_squares(X, y)
    gd = simopt.run(p.with_noise(None), optim.sgd(1.0 / p.L), 400)
    np.testing.assert_allclose(gd.x[0], np.linalg.lstsq(X, y, rcond=None)[0], rtol=1e-9)
    res = simopt.run(p, optim.sgd(0.1), 30, runs=4, seed=1)
    np.testing.assert_allclose(res.loss[:, -1], p.objective(res.x) - p.f_star, rtol=1e-9, atol=1e-14)


@pytest.mark.parametrize("X, match", [
    (np.ones((2, 3)), r"X: X\^T X / N is singular \(rank 1 < d = 3"),
    (np.array([[1.0, 2.0], [2.0, 4.0], [3.0, 6.0]]), r"X: X\^T X / N is singular"),
    (np.eye(3)[[0, 0, 2, 2]], r"X: column 1 is zero"),
])
def test_data_without_a_unique_minimiser_is_a_named_error(X, match):
    with pytest.raises(ValueError, match=match):
        simopt.least_squares(X, np.ones(X.shape[0]))


@pytest.mark.parametrize("kwargs, err, match", [
    ({"X": np.ones(3)}, ValueError, "X: expected a 2-d array"),
    ({"X": [[1.0, math.nan], [0.0, 1.0]]}, ValueError, "X: expected finite"),
    ({"X": [["a", "b"]]}, TypeError, "X"),
    ({"y": np.ones(5)}, ValueError, r"y: expected one label per row of X \(4\)"),
    ({"y": np.ones((4, 1))}, ValueError, "y: expected a 1-d array"),
    ({"batch_size": 0}, ValueError, "batch_size"),
    ({"batch_size": 2.0}, TypeError, "batch_size"),
    ({"x0": np.zeros(3)}, ValueError, "x0: expected shape"),
    ({"blocks": [1, 3]}, ValueError, "blocks: expected block sizes summing to the dimension 2"),
])
def test_bad_least_squares_input_is_a_named_error(kwargs, err, match):
    args = dict(X=np.eye(2)[[0, 1, 1, 0]] + [[0.0, 0.5]] * 4, y=np.arange(4.0))
    args.update(kwargs)
    with pytest.raises(err, match=match):
        simopt.least_squares(**args)


# ----------------------------------------------------------------------- Gaussian features
@pytest.mark.parametrize("rotation", ["none", "haar", 0.4])
def test_streaming_gaussian_features_is_the_population_quadratic(rotation):
    lam = [0.3, 1.0, 2.5]
    p = simopt.gaussian_features(lam, rotation, label_noise=0.4, batch_size=8, seed=6)
    q = simopt.quadratic(lam, rotation=rotation, seed=6)
    assert p.n_samples is None and p.features is None and p.kind == q.kind
    assert np.array_equal(p.hessian(), q.hessian()) and np.array_equal(p.xstar, q.xstar)
    assert np.array_equal(p.x0, q.x0)
    assert p.f_star == pytest.approx(0.08) and p.objective(p.xstar) == pytest.approx(0.08)
    assert p.noise.describe() == {"name": "sampled_gaussian", "batch_size": 8, "label_noise": 0.4}


@pytest.mark.parametrize("rotation", ["none", "haar"])
def test_finite_gaussian_features_have_the_population_moments_within_their_standard_errors(rotation):
    lam, N, sigma = np.array([0.3, 1.0, 2.5]), 20_000, 0.5
    p = simopt.gaussian_features(lam, rotation, n_samples=N, label_noise=sigma, seed=6)
    pop = simopt.gaussian_features(lam, rotation, label_noise=sigma, seed=6)
    assert p.n_samples == N and p.kind == "dense" and np.array_equal(p.x0, pop.x0)
    S = pop.hessian()
    se = np.sqrt((np.outer(np.diag(S), np.diag(S)) + S * S) / N)     # Var(a_i a_j) = S_ii S_jj + S_ij^2
    assert np.abs((p.hessian() - S) / se).max() < 4.5
    # least squares on y = X w* + sigma eps: x* - w* ~ N(0, sigma^2 (X^T X)^-1), ||r||^2 ~ sigma^2 chi2(N - d)
    cov = sigma ** 2 * np.linalg.inv(p.features.T @ p.features)
    assert np.abs((p.xstar - pop.xstar) / np.sqrt(np.diag(cov))).max() < 4.5
    dof = N - 3
    assert abs(2 * N * p.f_star / sigma ** 2 - dof) < 4.5 * math.sqrt(2 * dof)
    assert p.noise.describe()["name"] == "dataset"


def test_gaussian_features_named_errors():
    with pytest.raises(ValueError, match="n_samples: expected at least d = 3"):
        simopt.gaussian_features([1.0, 2.0, 3.0], n_samples=2)
    with pytest.raises(ValueError, match="n_samples"):
        simopt.gaussian_features([1.0, 2.0, 3.0], n_samples=0)
    with pytest.raises(ValueError, match="label_noise"):
        simopt.gaussian_features([1.0, 2.0], label_noise=-1.0)
    with pytest.raises(ValueError, match="cov_eigvals"):
        simopt.gaussian_features([1.0, -2.0])
    with pytest.raises(ValueError, match="rotation"):
        simopt.gaussian_features([1.0, 2.0], rotation="block")


# ----------------------------------------------------------------------- Zipf bigram
@pytest.mark.parametrize("alpha", [0.0, 1.0, 1.7])
def test_zipf_bigram_frequencies_and_documented_start(alpha):
    d = 64
    p = simopt.zipf_bigram(d, alpha, batch_size=4, label_noise=0.3)
    k = np.arange(1, d + 1)
    np.testing.assert_allclose(p.diag / p.diag[0], k ** -alpha, rtol=1e-12)
    assert p.diag.sum() == pytest.approx(1.0, rel=1e-14) and p.kind == "diagonal"
    assert np.array_equal(p.x0, np.zeros(d)) and np.array_equal(p.xstar, np.ones(d))
    assert p.f0 == pytest.approx(0.5) and p.f_star == pytest.approx(0.045)
    assert p.condition_number == pytest.approx(d ** alpha)
    assert p.noise.describe() == {"name": "sampled_coordinates", "batch_size": 4, "label_noise": 0.3}


def test_zipf_bigram_named_errors():
    for kwargs, match in (({"d": 0}, "d"), ({"d": 4, "alpha": -1.0}, "alpha"),
                          ({"d": 4, "alpha": 1e4}, "alpha"), ({"d": 4, "batch_size": 0}, "batch_size"),
                          ({"d": 4, "x0": np.zeros(3)}, "x0"), ({"d": 4, "xstar": [1.0]}, "xstar")):
        with pytest.raises(ValueError, match=match):
            simopt.zipf_bigram(**kwargs)


# ----------------------------------------------------------------------- descriptions
def _problems():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((12, 3))
    return [simopt.least_squares(X, rng.standard_normal(12), batch_size=3, blocks=[1, 2]),
            simopt.gaussian_features([0.5, 1.0, 2.0], "haar", label_noise=0.2, batch_size=2, seed=4),
            simopt.gaussian_features([0.5, 1.0, 2.0], 0.3, n_samples=20, label_noise=0.2, seed=4),
            simopt.zipf_bigram(6, 1.2, batch_size=5, label_noise=0.1)]


@pytest.mark.parametrize("p", _problems(), ids=lambda p: p.describe()["constructor"])
def test_descriptions_rebuild_the_same_problem(p):
    for variant in (p, p.with_x0(np.full(3 if p.dim == 3 else 6, 0.5)), p.with_noise(None),
                    p.with_noise(noise.gaussian(0.1, batch_size=4))):
        desc = json.loads(json.dumps(variant.describe()))
        q = from_description(desc)
        assert type(q) is type(variant) and q.describe() == variant.describe()
        assert np.array_equal(q.hessian(), variant.hessian()) and np.array_equal(q.xstar, variant.xstar)
        assert np.array_equal(q.x0, variant.x0) and q.f_star == variant.f_star
        assert (q.noise is None) == (variant.noise is None)
        if q.noise is not None:
            assert q.noise.describe() == variant.noise.describe()
