"""SGD's exact expected loss under sampled-data gradient noise (``simopt.theory.sampled``): the engine's
Monte Carlo mean lies within its standard error of the recursion for Gaussian features (diagonal, block
and dense problems), one-hot coordinates and a finite dataset, and a batch size one off or the
constant-covariance NQM prediction is rejected; the closed-form limit is the recursion's limit and its
stability condition the spectral radius of the recursion; the gap to gradient descent is O(1/B), SGD never
beats it in expectation (Jensen), the label noise enters linearly in sigma^2, and a one-hot dataset with
zero-mean residuals per class has exactly the coordinate model's curve."""
import math

import numpy as np
import pytest
from hypothesis import given, strategies as st

import simopt
from simopt import noise, optim, schedules, spectra, theory
from simopt.theory import expectations, sampled

STEPS, EVERY, RUNS = 40, 5, 4000


def _problems():
    g = noise.sampled_gaussian(2, 0.5)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 4)) * np.array([1.0, 0.7, 0.5, 1.2])
    y = X @ rng.standard_normal(4) + 0.5 * rng.standard_normal(40)
    lam = spectra.logspace(5, 0.2, 2.0)
    return {
        "gaussian_diagonal": (simopt.gaussian_features(lam, "none", label_noise=0.5, batch_size=2, seed=1),
                              0.25),
        "gaussian_dense": (simopt.gaussian_features(lam, "haar", label_noise=0.5, batch_size=2, seed=1), 0.25),
        "gaussian_block": (simopt.block_diagonal([lam[:2], lam[2:]], rotation="block", noise=g, seed=1), 0.25),
        "coordinates": (simopt.zipf_bigram(8, batch_size=2, label_noise=0.5), 1.0),
        "dataset": (simopt.least_squares(X, y, batch_size=3, x0=np.ones(4)), 0.2),
    }


PROBLEMS = _problems()


def _monte_carlo(p, lr, seed=3):
    res = simopt.run(p, optim.sgd(lr), STEPS, runs=RUNS, seed=seed, record_every=EVERY)
    assert not res.diverged.any()
    return res.steps, res.loss.mean(0), res.loss.std(0, ddof=1) / math.sqrt(RUNS)


def _max_z(mc, se, curve):
    return float(np.abs((mc - curve)[1:] / se[1:]).max())     # step 0 is deterministic


@pytest.mark.parametrize("name", sorted(PROBLEMS))
def test_exact_expected_loss_matches_the_engine_within_its_standard_error(name):
    p, lr = PROBLEMS[name]
    steps, mc, se = _monte_carlo(p, lr)
    rec, curve = theory.sgd_expected_loss_sampled(p, lr, STEPS, record_every=EVERY)
    np.testing.assert_array_equal(rec, steps)
    assert curve[0] == pytest.approx(p.f0, rel=1e-12)
    assert _max_z(mc, se, curve) < 4.5
    assert curve[-1] < 0.1 * curve[0]                          # a run that learns, not a flat curve
    desc = p.noise.describe()
    desc["batch_size"] += 1
    wrong = p.with_noise(getattr(noise, desc.pop("name"))(**desc))
    assert _max_z(mc, se, theory.sgd_expected_loss_sampled(wrong, lr, STEPS, record_every=EVERY)[1]) > 8.0


@pytest.mark.parametrize("name", ["gaussian_dense", "coordinates"])
def test_constant_covariance_nqm_prediction_is_rejected(name):
    """The NQM replaces the state-dependent covariance by its value at the minimiser (sigma^2 H / B for
    Gaussian features): far from x* the multiplicative part of the noise dominates, and the engine sees
    it."""
    p, lr = PROBLEMS[name]
    _, mc, se = _monte_carlo(p, lr)
    nqm = expectations.sgd_expected_loss(p.with_noise(None), lr, STEPS,
                                         cov=p.noise.covariance(p, p.xstar), record_every=EVERY)[1]
    assert _max_z(mc, se, nqm) > 8.0


def test_per_step_learning_rates_match_the_engine():
    p, lr = PROBLEMS["gaussian_dense"]
    opt = optim.sgd(schedules.cosine(lr, final_lr=0.02))
    res = simopt.run(p, opt, STEPS, runs=RUNS, seed=8, record_every=EVERY)
    _, curve = theory.sgd_expected_loss_sampled(p, opt.lr_values(STEPS), STEPS, record_every=EVERY)
    se = res.loss.std(0, ddof=1) / math.sqrt(RUNS)
    assert _max_z(res.loss.mean(0), se, curve) < 4.5


# ----------------------------------------------------------------------- properties of the recursion
def _recursion_matrix(p, lr):
    """The explicit matrix A and vector c of s' = A s + c (Gaussian: in H's eigenbasis)."""
    B, s2 = p.noise.batch_size, p.noise.label_noise ** 2
    if p.noise.describe()["name"] == "sampled_gaussian":
        lam = np.asarray(p.eigvals)
        A = np.diag((1 - lr * lam) ** 2 + lr ** 2 * lam ** 2 / B) + lr ** 2 / B * np.outer(lam, lam)
        return lam, A, lr ** 2 * s2 * lam / B
    h = np.asarray(p.diag)
    A = np.diag((1 - lr * h) ** 2 + lr ** 2 * h * (h.sum() - h) / B)
    return h, A, lr ** 2 * h.sum() * s2 * h / B


@given(st.integers(0, 2**31 - 1), st.integers(1, 16), st.floats(0.05, 2.5), st.booleans())
def test_stationary_loss_solves_the_recursion_and_is_inf_exactly_when_it_is_unstable(seed, B, scale, coords):
    rng = np.random.default_rng(seed)
    h = rng.uniform(0.05, 1.0, size=6)
    nz = noise.sampled_coordinates(B, 0.3) if coords else noise.sampled_gaussian(B, 0.3)
    p = simopt.quadratic(h, noise=nz, seed=seed % 1000)
    lr = scale / h.max()
    lam, A, c = _recursion_matrix(p, lr)
    rho = float(np.abs(np.linalg.eigvals(A)).max())
    limit = sampled.sgd_stationary_loss_sampled(p, lr)
    if rho >= 1.0:
        assert limit == math.inf
        return
    assert limit == pytest.approx(0.5 * lam @ np.linalg.solve(np.eye(6) - A, c), rel=1e-9)
    if rho < 0.99:
        _, curve = sampled.sgd_expected_loss_sampled(p, lr, 5000, record_every=5000)
        assert curve[-1] == pytest.approx(limit, rel=1e-6)


@given(st.integers(0, 2**31 - 1), st.integers(1, 8), st.floats(0.05, 1.5), st.sampled_from(["none", "haar"]))
def test_sgd_never_beats_gd_in_expectation_and_infinite_batches_are_gd(seed, B, scale, rotation):
    """E x_t follows gradient descent exactly (the gradient is unbiased), so E f(x_t) >= f(E x_t) = the GD
    loss (Jensen); as B -> infinity the noise vanishes and SGD's expected loss is GD's."""
    rng = np.random.default_rng(seed)
    lam = rng.uniform(0.1, 2.0, size=5)
    p = simopt.gaussian_features(lam, rotation, label_noise=0.2, batch_size=B, seed=seed % 1000)
    lr = scale / lam.max()
    _, gd = expectations.sgd_expected_loss(p.with_noise(None), lr, 30)
    _, sgd = sampled.sgd_expected_loss_sampled(p, lr, 30)
    assert np.all(sgd >= gd * (1 - 1e-12))

    def gap(batch):
        q = simopt.gaussian_features(lam, rotation, label_noise=0.2, batch_size=batch, seed=seed % 1000)
        return sampled.sgd_expected_loss_sampled(q, lr, 30)[1] - gd

    # every noise term carries a factor 1/B: the gap to GD is (1/B) x (a curve of its own) + O(1/B^2)
    g5, g6 = gap(10**5), gap(10**6)
    assert g6[1:].min() > 0 and abs(g6[0]) < 1e-12 * gd[0]
    np.testing.assert_allclose(g5, 10 * g6, rtol=1e-3, atol=1e-12 * gd[0])


@given(st.integers(0, 2**31 - 1), st.floats(0.0, 3.0), st.booleans())
def test_label_noise_enters_linearly_in_sigma_squared(seed, sigma, coords):
    rng = np.random.default_rng(seed)
    h = rng.uniform(0.1, 1.0, size=5)

    def curve(s):
        nz = noise.sampled_coordinates(3, s) if coords else noise.sampled_gaussian(3, s)
        return sampled.sgd_expected_loss_sampled(simopt.quadratic(h, noise=nz, seed=1), 0.5, 25)[1]

    np.testing.assert_allclose(curve(sigma), curve(0.0) + sigma ** 2 * (curve(1.0) - curve(0.0)),
                               rtol=1e-9, atol=1e-14)


@given(st.lists(st.integers(1, 5), min_size=2, max_size=5), st.integers(1, 4), st.floats(0.0, 1.5),
       st.integers(0, 2**31 - 1))
def test_one_hot_dataset_with_zero_mean_class_residuals_is_the_coordinate_model(counts, B, sigma, seed):
    """Rows u_k with count n_k and labels x*_k +- sigma (each class balanced): the dataset recursion (d x d,
    O(N d^2)) and the coordinate recursion (per coordinate) are independent implementations of the same
    expectation, h_k = n_k / N."""
    rng = np.random.default_rng(seed)
    d = len(counts)
    target = rng.standard_normal(d)
    rows, labels = [], []
    for k, n in enumerate(counts):
        for sign in (1.0, -1.0):
            rows += [np.eye(d)[k]] * n
            labels += [target[k] + sign * sigma] * n
    x0 = rng.standard_normal(d)
    data = simopt.least_squares(np.array(rows), np.array(labels), batch_size=B, x0=x0)
    assert data.kind == "diagonal"
    coords = simopt.quadratic(data.diag, noise=noise.sampled_coordinates(B, sigma), x0=x0, xstar=target)
    np.testing.assert_allclose(sampled.sgd_expected_loss_sampled(data, 0.7, 20)[1],
                               sampled.sgd_expected_loss_sampled(coords, 0.7, 20)[1], rtol=1e-9, atol=1e-14)


def test_coordinate_stability_limit_is_the_closed_form_step():
    p = simopt.zipf_bigram(16, batch_size=4, label_noise=0.1)
    h = np.asarray(p.diag)
    crit = float(np.min(2.0 / (h * (1 - 1 / 4) + h.sum() / 4)))
    assert math.isfinite(sampled.sgd_stationary_loss_sampled(p, 0.999 * crit))
    assert sampled.sgd_stationary_loss_sampled(p, 1.001 * crit) == math.inf
    _, curve = sampled.sgd_expected_loss_sampled(p, 1.5 * crit, 3000, record_every=1000)
    assert curve[-1] > 1e6 * curve[0]


def test_divergent_second_moments_give_inf_not_nan():
    p, _ = PROBLEMS["gaussian_dense"]
    _, curve = sampled.sgd_expected_loss_sampled(p, 10.0, 2000, record_every=500)
    assert curve[-1] == math.inf and not np.isnan(curve).any()


def test_named_errors():
    plain = simopt.quadratic([1.0, 2.0], noise=noise.gaussian(0.1), seed=0)
    with pytest.raises(ValueError, match="problem: expected a problem with sampled-data noise"):
        sampled.sgd_expected_loss_sampled(plain, 0.1, 5)
    with pytest.raises(ValueError, match="problem: expected a problem with sampled-data noise"):
        sampled.sgd_stationary_loss_sampled(plain.with_noise(None), 0.1)
    with pytest.raises(TypeError, match="problem"):
        sampled.sgd_expected_loss_sampled("p", 0.1, 5)
    p, _ = PROBLEMS["gaussian_dense"]
    for bad, err in ((-0.1, ValueError), (math.nan, ValueError), ("a", TypeError)):
        with pytest.raises(err, match="lr"):
            sampled.sgd_expected_loss_sampled(p, bad, 5)
    with pytest.raises(ValueError, match="lr: expected at least steps"):
        sampled.sgd_expected_loss_sampled(p, np.full(3, 0.1), 5)
    with pytest.raises(ValueError, match="steps"):
        sampled.sgd_expected_loss_sampled(p, 0.1, -1)
    with pytest.raises(ValueError, match="x0"):
        sampled.sgd_expected_loss_sampled(p, 0.1, 5, x0=np.zeros(3))
    with pytest.raises(ValueError, match="stationary loss of a finite dataset"):
        sampled.sgd_stationary_loss_sampled(PROBLEMS["dataset"][0], 0.1)
    for f in (lambda: expectations.sgd_expected_loss(p, 0.1, 5), lambda: expectations.noise_covariance(p),
              lambda: theory.bounds.sgd_noise_level(p), lambda: expectations.sgd_stationary_loss(p, 0.1),
              lambda: expectations.ssd_expected_next_loss(p, p.x0, 0.1)):
        with pytest.raises(ValueError, match="noise: .*sampled-data noise.*sgd_expected_loss_sampled"):
            f()
