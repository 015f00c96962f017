"""Sampled-data gradient noise (minibatch least squares: Gaussian features, one-hot coordinates, rows of a
dataset) and the batch-size knob of the additive models.

The engine's gradients equal the NumPy reference sampler fed by the same ``simopt.streams.Stream`` (so
the draws are the documented ones); their mean is H e and their covariance the exact
``covariance(problem, x)`` (Monte Carlo within its standard error, and a wrong batch size is rejected);
the covariance formulas agree with exact enumeration over all minibatches; the batch size divides every
additive model's covariance by B; ``run(samples=N)`` runs N // (B x draws) steps; runs are bit-identical
across thread counts, run splits and a rebuild from the description; bad input is a named error."""
import itertools
import json

import numba
import numpy as np
import pytest
from hypothesis import given, strategies as st

import simopt
from simopt import noise, optim, streams
from simopt.problems import from_description

LAM = [0.5, 1.0, 2.0, 4.0]


def _dataset_problem(batch_size=3, seed=2):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((30, 4)) * np.array([1.0, 0.8, 0.6, 1.3])
    y = X @ rng.standard_normal(4) + 0.5 * rng.standard_normal(30)
    return simopt.least_squares(X, y, batch_size=batch_size, x0=rng.standard_normal(4))


def _sampled_problems(label_noise=0.7):
    g = noise.sampled_gaussian(3, label_noise)
    return {
        "gaussian_diagonal": simopt.quadratic(LAM, noise=g, seed=1),
        "gaussian_block": simopt.block_diagonal([LAM[:2], LAM[2:]], rotation="block", noise=g, seed=1),
        "gaussian_dense": simopt.quadratic(LAM, rotation="haar", noise=g, seed=1),
        "coordinates": simopt.quadratic(LAM, noise=noise.sampled_coordinates(3, label_noise), seed=1),
        "dataset": _dataset_problem(),
    }


PROBLEMS = _sampled_problems()


def _one_step_gradients(p, runs, seed=5):
    """The stochastic gradient each run draws at x0: one SGD step with lr = 1 gives x1 = x0 - g."""
    res = simopt.run(p, optim.sgd(1.0), 1, runs=runs, seed=seed)
    assert not res.diverged.any()
    return p.x0 - res.x


def _max_z(G, mean, cov):
    """The largest |z| of the sample mean of G against ``mean`` and of the sample covariance (about the
    exact mean) against ``cov``, each entry against its own standard error."""
    R = G.shape[0]
    D = G - mean
    z = [D.mean(0) / (D.std(0, ddof=1) / np.sqrt(R))]
    iu = np.triu_indices(G.shape[1])
    P = (D[:, :, None] * D[:, None, :])[:, iu[0], iu[1]]
    z.append((P.mean(0) - cov[iu]) / (P.std(0, ddof=1) / np.sqrt(R)))
    return float(np.abs(np.concatenate(z)).max())


# ----------------------------------------------------------------------- the draws are the documented ones
@pytest.mark.parametrize("label_noise", [0.0, 0.7])
@pytest.mark.parametrize("name", sorted(PROBLEMS))
def test_engine_gradients_equal_the_numpy_reference_sampler(name, label_noise):
    p = _sampled_problems(label_noise)[name]
    seed, first, runs, steps, lr = 11, 5, 3, 6, 0.05
    res = simopt.run(p, optim.sgd(lr), steps, runs=runs, seed=seed, first_run=first, record=("x",))
    for r in range(runs):
        s = streams.Stream(seed, first + r)
        x = np.array(p.x0)
        for t in range(steps):
            x = x - lr * p.noise.sample_gradient(p, x, s)
            np.testing.assert_allclose(res.records["x"][r, t + 1], x, rtol=1e-12, atol=1e-13)


def test_reference_sampler_reads_the_label_noise_after_the_features():
    """With label noise the Gaussian sampler reads B*d feature normals, then B label normals: the next
    draw of the stream is the same as after a reference gradient."""
    p = PROBLEMS["gaussian_diagonal"]
    s = streams.Stream(3, 0)
    p.noise.sample_gradient(p, p.x0, s)
    direct = streams.normals(3, 0, 3 * 4 + 3 + 1)
    assert s.normals(1)[0] == direct[-1]


# ----------------------------------------------------------------------- mean H e and the exact covariance
@pytest.mark.parametrize("name", sorted(PROBLEMS))
def test_monte_carlo_mean_is_the_true_gradient_and_covariance_is_exact(name):
    p = PROBLEMS[name]
    G = _one_step_gradients(p, 20_000)
    C = p.noise.covariance(p, p.x0)
    B = p.noise.batch_size
    assert _max_z(G, p.grad(p.x0), C) < 4.5
    assert _max_z(G, p.grad(p.x0), C * B / (B + 1)) > 10.0     # the test sees a batch size one off


def test_covariance_is_state_dependent_and_grows_with_the_error():
    p = PROBLEMS["gaussian_dense"]
    near = p.noise.covariance(p, p.xstar + 0.01 * (p.x0 - p.xstar))
    far = p.noise.covariance(p, p.x0)
    at_min = p.noise.covariance(p, p.xstar)
    np.testing.assert_allclose(at_min, 0.7 ** 2 * p.hessian() / 3, rtol=1e-12)   # the NQM's H / B
    assert np.trace(at_min) < np.trace(near) < np.trace(far) and np.trace(far) > 2 * np.trace(at_min)


def _enumerated_covariance(per_sample, probs, B):
    """Exact covariance of the mean of B i.i.d. per-sample gradients, by enumerating all B-tuples."""
    d = per_sample.shape[1]
    mean = np.zeros(d)
    second = np.zeros((d, d))
    for idx in itertools.product(range(len(probs)), repeat=B):
        w = np.prod(probs[list(idx)])
        g = per_sample[list(idx)].mean(axis=0)
        mean += w * g
        second += w * np.outer(g, g)
    return mean, second - np.outer(mean, mean)


@given(st.integers(0, 2**31 - 1), st.integers(1, 3))
def test_coordinate_covariance_equals_enumeration_over_minibatches(seed, B):
    rng = np.random.default_rng(seed)
    h = rng.uniform(0.1, 3.0, size=4)
    p = simopt.quadratic(h, noise=noise.sampled_coordinates(B), seed=seed % 100)
    e = rng.standard_normal(4)
    S = h.sum()
    per_sample = S * np.diag(e)                 # coordinate k: S e_k u_k (no label noise)
    mean, cov = _enumerated_covariance(per_sample, h / S, B)
    np.testing.assert_allclose(mean, h * e, rtol=1e-12)
    np.testing.assert_allclose(p.noise.covariance(p, p.xstar + e), cov, rtol=1e-10, atol=1e-12)


@given(st.integers(0, 2**31 - 1), st.integers(1, 3))
def test_dataset_covariance_equals_enumeration_over_minibatches(seed, B):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((5, 3))
    y = rng.standard_normal(5)
    p = simopt.least_squares(X, y, batch_size=B)
    x = rng.standard_normal(3)
    per_sample = X * (X @ x - y)[:, None]       # the gradient of 1/2 (X_i x - y_i)^2
    mean, cov = _enumerated_covariance(per_sample, np.full(5, 0.2), B)
    np.testing.assert_allclose(mean, p.grad(x), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(p.noise.covariance(p, x), cov, rtol=1e-9, atol=1e-12)


@given(st.integers(0, 2**31 - 1), st.integers(1, 4), st.floats(0.0, 2.0))
def test_gaussian_covariance_is_rotation_equivariant_and_psd(seed, B, sigma):
    """Rotating the features rotates the gradient: Cov_RHR^T(R e) = R Cov_H(e) R^T (a property of the
    model, here of the Isserlis formula), and every covariance is positive semi-definite."""
    rng = np.random.default_rng(seed)
    lam = rng.uniform(0.2, 3.0, size=4)
    nz = noise.sampled_gaussian(B, sigma)
    flat = simopt.quadratic(lam, noise=nz, xstar=np.zeros(4))
    rot = simopt.quadratic(lam, rotation="haar", noise=nz, seed=seed % 1000, xstar=np.zeros(4))
    _, Q = rot.eigh()
    order = np.argsort(lam, kind="stable")
    R = np.zeros((4, 4))
    R[:, order] = Q                               # rot.hessian() = R diag(lam) R^T in lam's order
    e = rng.standard_normal(4)
    np.testing.assert_allclose(rot.noise.covariance(rot, R @ e), R @ flat.noise.covariance(flat, e) @ R.T,
                               rtol=1e-9, atol=1e-10)
    assert np.linalg.eigvalsh(rot.noise.covariance(rot, R @ e)).min() > -1e-10


# ----------------------------------------------------------------------- the batch-size knob (additive)
def _additive(batch_size):
    rng = np.random.default_rng(4)
    A = rng.standard_normal((4, 4))
    return {"gaussian": noise.gaussian(0.3, batch_size=batch_size),
            "gaussian_vector": noise.gaussian([0.1, 0.2, 0.3, 0.4], batch_size=batch_size),
            "correlated_gaussian": noise.correlated_gaussian(0.1 * A @ A.T, batch_size=batch_size),
            "hessian_aligned": noise.hessian_aligned(0.5, batch_size=batch_size),
            "student_t": noise.student_t(0.3, df=10.0, batch_size=batch_size)}


@pytest.mark.parametrize("name", sorted(_additive(1)))
@pytest.mark.parametrize("kind", ["diagonal", "block", "dense"])
def test_batch_size_divides_every_additive_covariance(name, kind):
    base = {"diagonal": simopt.quadratic(LAM, seed=1),
            "block": simopt.block_diagonal([LAM[:2], LAM[2:]], rotation="block", seed=1),
            "dense": simopt.quadratic(LAM, rotation="haar", seed=1)}[kind]
    B = 4
    p1, pB = base.with_noise(_additive(1)[name]), base.with_noise(_additive(B)[name])
    np.testing.assert_allclose(pB.noise.covariance(pB), p1.noise.covariance(p1) / B, rtol=1e-12,
                               atol=1e-15)
    # the engine divides the same draw by sqrt(B)
    xi1 = _one_step_gradients(p1, 5) - p1.grad(p1.x0)
    xiB = _one_step_gradients(pB, 5) - pB.grad(pB.x0)
    np.testing.assert_allclose(xiB, xi1 / np.sqrt(B), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", sorted(_additive(1)))
def test_batched_additive_noise_has_covariance_over_B_by_monte_carlo(name):
    base = simopt.quadratic(LAM, rotation="haar", seed=1)
    B = 4
    p1, pB = base.with_noise(_additive(1)[name]), base.with_noise(_additive(B)[name])
    G = _one_step_gradients(pB, 20_000)
    assert _max_z(G, pB.grad(pB.x0), p1.noise.covariance(p1) / B) < 4.5
    assert _max_z(G, pB.grad(pB.x0), p1.noise.covariance(p1) / (B - 1)) > 10.0


def test_covariance_of_an_additive_model_ignores_x():
    p = simopt.quadratic(LAM, noise=noise.hessian_aligned(0.5, batch_size=2), seed=1)
    np.testing.assert_array_equal(p.noise.covariance(p, p.x0), p.noise.covariance(p))


# ----------------------------------------------------------------------- sample budgets
@pytest.mark.parametrize("model, budget, draws, steps", [
    (noise.gaussian(0.1, batch_size=4), 103, 1, 25),
    (noise.hessian_aligned(0.1, batch_size=1), 17, 1, 17),
    (noise.sampled_gaussian(3), 100, 1, 33),
    (noise.sampled_coordinates(5), 100, 3, 6),
])
def test_sample_budget_gives_samples_over_batch_and_draws_steps(model, budget, draws, steps):
    p = simopt.quadratic(LAM, noise=model, seed=1)
    opt = optim.sgd(0.05) if draws == 1 else optim.majority_vote(0.01, workers=draws)
    res = simopt.run(p, opt, samples=budget, runs=2)
    assert res.steps[-1] == steps == budget // (model.batch_size * draws)


def test_sample_budget_of_a_dataset_problem_counts_its_batch():
    p = _dataset_problem(batch_size=7)
    assert simopt.run(p, optim.sgd(0.05), samples=50).steps[-1] == 7
    with pytest.raises(ValueError, match="samples"):
        simopt.run(p, optim.sgd(0.05), samples=6)


# ----------------------------------------------------------------------- determinism and rebuilding
@pytest.mark.parametrize("name", ["gaussian_dense", "coordinates", "dataset"])
def test_bit_identical_across_threads_run_splits_and_rebuild(name):
    p = PROBLEMS[name]
    opt = optim.sgd(0.05)
    before = numba.get_num_threads()
    try:
        out = []
        for n in (1, min(2, numba.config.NUMBA_NUM_THREADS)):
            numba.set_num_threads(n)
            out.append(simopt.run(p, opt, 20, runs=19, seed=4, record=("x",)))
    finally:
        numba.set_num_threads(before)
    assert np.array_equal(out[0].records["x"], out[1].records["x"])
    a = simopt.run(p, opt, 20, runs=11, seed=4, record=("x",))
    b = simopt.run(p, opt, 20, runs=8, seed=4, first_run=11, record=("x",))
    assert np.array_equal(np.concatenate([a.records["x"], b.records["x"]]), out[0].records["x"])
    q = from_description(json.loads(json.dumps(p.describe())))
    assert np.array_equal(simopt.run(q, opt, 20, runs=19, seed=4, record=("x",)).records["x"],
                          out[0].records["x"])
    c = simopt.run(p, opt, 20, runs=19, seed=5, record=("x",))
    assert not np.array_equal(c.records["x"], out[0].records["x"])     # the seed matters


@pytest.mark.parametrize("model", [noise.sampled_gaussian(2, 0.3), noise.sampled_coordinates(4),
                                   noise.gaussian(0.2, batch_size=3), noise.student_t(0.2, 4.0, 2),
                                   noise.hessian_aligned(0.5, batch_size=8), noise.gaussian(0.2)],
                         ids=repr)
def test_description_rebuilds_the_model(model):
    desc = json.loads(json.dumps(model.describe()))
    again = getattr(noise, desc.pop("name"))(**desc)
    assert again.describe() == model.describe() and repr(again) == repr(model)
    assert ("batch_size" in model.describe()) == (model.batch_size != 1 or model.state_dependent)


def test_dataset_model_description_rebuilds_it():
    p = _dataset_problem()
    desc = json.loads(json.dumps(p.noise.describe()))
    again = getattr(noise, desc.pop("name"))(**desc)
    assert np.array_equal(again.features, p.noise.features) and again.batch_size == 3
    assert from_description(p.with_noise(p.noise).describe()).noise.describe() == p.noise.describe()


# ----------------------------------------------------------------------- named errors
@pytest.mark.parametrize("factory", [noise.sampled_gaussian, noise.sampled_coordinates,
                                     lambda batch_size: noise.gaussian(0.1, batch_size=batch_size),
                                     lambda batch_size: noise.hessian_aligned(batch_size=batch_size),
                                     lambda batch_size: noise.student_t(batch_size=batch_size)])
@pytest.mark.parametrize("bad, err", [(0, ValueError), (-2, ValueError), (1.5, TypeError),
                                      (True, TypeError), ("4", TypeError), (None, TypeError)])
def test_bad_batch_size_is_a_named_error(factory, bad, err):
    with pytest.raises(err, match="batch_size"):
        factory(batch_size=bad)


@pytest.mark.parametrize("bad, err", [(-0.1, ValueError), (float("nan"), ValueError), ("a", TypeError)])
def test_bad_label_noise_is_a_named_error(bad, err):
    for f in (noise.sampled_gaussian, noise.sampled_coordinates):
        with pytest.raises(err, match="label_noise"):
            f(label_noise=bad)


def test_misuse_of_sampled_models_is_a_named_error():
    dense = simopt.quadratic(LAM, rotation="haar", seed=1)
    with pytest.raises(ValueError, match="noise: sampled_coordinates needs a diagonal problem"):
        dense.with_noise(noise.sampled_coordinates())
    with pytest.raises(ValueError, match="noise: sampled_coordinates needs a diagonal problem"):
        simopt.block_diagonal([LAM[:2], LAM[2:]], noise=noise.sampled_coordinates())
    p = PROBLEMS["gaussian_dense"]
    with pytest.raises(TypeError, match="x: the covariance of sampled-data noise"):
        p.noise.covariance(p)
    with pytest.raises(ValueError, match="x: expected shape"):
        p.noise.covariance(p, np.zeros(3))
    with pytest.raises(TypeError, match="stream"):
        p.noise.sample_gradient(p, p.x0, np.random.default_rng(0))
    with pytest.raises(TypeError, match="base variance"):
        p.noise.base_variance()
    data = PROBLEMS["dataset"].noise
    with pytest.raises(ValueError, match="noise: the dataset is not this problem's"):
        simopt.quadratic(LAM, seed=1).with_noise(data)
    with pytest.raises(ValueError, match="noise: the dataset has 4 features, the problem 3"):
        simopt.quadratic(LAM[:3], seed=1).with_noise(data)
    moved = PROBLEMS["dataset"]
    wrong_xstar = simopt.quadratic(moved.eigvals, seed=1)
    with pytest.raises(ValueError, match="noise: the dataset is not this problem's"):
        wrong_xstar.with_noise(data)
    with pytest.raises(ValueError, match="labels: expected one label per row"):
        noise.dataset(np.ones((3, 2)), np.ones(4))
    with pytest.raises(ValueError, match="features"):
        noise.dataset(np.ones(3), np.ones(3))


def test_sweep_specs_take_sampled_noise_and_a_batch_size_axis():
    from simopt import sweep
    base = {"steps": 10, "runs": 2, "seeds": [0], "eps": 0.01, "optimizers": [{"name": "sgd", "lr": 0.1}]}
    spec = sweep.parse(dict(base, problems=[
        {"type": "quadratic", "eigvals": LAM, "noise": {"type": "sampled_coordinates", "label_noise": 0.1},
         "grid": {"noise.batch_size": [1, 4]}},
        {"type": "quadratic", "eigvals": LAM, "rotation": "haar", "noise": {"type": "hessian_aligned",
                                                                           "batch_size": 8}}]))
    built = [sweep.spec.build_problem(c.problem).noise for c in spec.cells]
    assert sorted(nz.batch_size for nz in built) == [1, 4, 8]
    with pytest.raises(sweep.SpecError, match="sampled_coordinates needs a diagonal problem"):
        sweep.parse(dict(base, problems=[{"type": "heterogeneous_blocks", "n_blocks": 2, "block_size": 2,
                                          "heterogeneity": 0.5, "noise": {"type": "sampled_coordinates"}}]))
    with pytest.raises(sweep.SpecTypeError, match="noise.batch_size: expected an integer"):
        sweep.parse(dict(base, problems=[{"type": "quadratic", "eigvals": LAM,
                                          "noise": {"type": "sampled_gaussian", "batch_size": 1.5}}]))
