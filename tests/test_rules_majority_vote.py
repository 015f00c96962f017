"""signSGD with majority vote (Bernstein et al. 2019): compiled == NumPy reference over M draws, M = 1 is
signSGD bit for bit, and the probability that the vote has the wrong sign falls with M exactly as the
binomial law of M independent worker signs says."""
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import simopt
from simopt import noise, optim, spectra
from simopt.testing import compiled_steps, reference_steps
from test_optim_kernels import _assert_close, _problem


@given(st.lists(st.integers(1, 4), min_size=1, max_size=3), st.integers(1, 6), st.integers(1, 3),
       st.integers(0, 2 ** 31), st.integers(-100, 100), st.sampled_from([0.0, 0.3, 0.7]))
def test_compiled_step_equals_reference(sizes, workers, runs, seed, log_scale, zeros):
    p = _problem(sizes)
    rng = np.random.default_rng(seed)
    G = rng.standard_normal((5, runs, workers, p.dim)) * 10.0 ** log_scale
    G[rng.random(G.shape) < zeros] = 0.0
    X0 = rng.standard_normal((runs, p.dim))
    opt = optim.majority_vote(0.1, workers=workers, weight_decay=0.01)
    a = compiled_steps(opt, p, G, X0)
    _assert_close(a, reference_steps(opt, p, G, X0))
    votes = np.sign(np.sign(G).sum(axis=2))                   # the step is -lr * sign(vote) (+ decay)
    plain = compiled_steps(optim.majority_vote(0.1, workers=workers), p, G, X0)
    np.testing.assert_allclose(np.diff(plain, axis=0), -0.1 * votes, rtol=0, atol=1e-14 * np.abs(X0).max())


def test_one_worker_is_signsgd_bit_for_bit():
    p = simopt.quadratic(spectra.logspace(16, 1.0, 100.0), rotation="haar", noise=noise.gaussian(0.3), seed=2)
    a = simopt.run(p, optim.majority_vote(1e-2, workers=1), 100, runs=5, seed=7, record=("x",))
    b = simopt.run(p, optim.sign(1e-2), 100, runs=5, seed=7, record=("x",))
    np.testing.assert_array_equal(a.records["x"], b.records["x"])
    c = simopt.run(p, optim.majority_vote(1e-2, workers=3), 100, runs=5, seed=7, record=("x",))
    assert not np.array_equal(a.records["x"], c.records["x"])


def _binomial(M, p):
    """(P[vote wrong], P[tie]) for M independent signs, each wrong with probability p."""
    pmf = [math.comb(M, j) * p ** j * (1 - p) ** (M - j) for j in range(M + 1)]
    wrong = sum(pmf[j] for j in range(M + 1) if 2 * j > M)
    return wrong, (pmf[M // 2] if M % 2 == 0 else 0.0)


def test_wrong_vote_probability_falls_with_workers_as_the_binomial_law():
    """One step from a point where every coordinate's gradient is mu = 0.5 sigma (H = I): each worker's
    sign is wrong with p = Phi(-0.5); the vote is -lr (right), +lr (wrong) or 0 (a tie of an even M)."""
    d, runs, mu, sigma, lr = 50, 400, 0.5, 1.0, 1e-3
    p = simopt.quadratic(np.ones(d), x0=np.full(d, mu), xstar=np.zeros(d), noise=noise.gaussian(sigma))
    pw = 0.5 * math.erfc(mu / sigma / math.sqrt(2.0))
    n = runs * d
    seen = []
    for M in (1, 2, 3, 5, 9):
        r = simopt.run(p, optim.majority_vote(lr, workers=M), 1, runs=runs, seed=11, record=("x",))
        step = (r.records["x"][:, 1] - r.records["x"][:, 0]) / lr
        wrong, tie = np.mean(step > 0.5), np.mean(np.abs(step) < 0.5)
        exact_wrong, exact_tie = _binomial(M, pw)
        for got, want in ((wrong, exact_wrong), (tie, exact_tie)):
            assert abs(got - want) <= 4.0 * math.sqrt(max(want * (1 - want), 1e-12) / n) + 1e-12
        if M % 2:
            seen.append(wrong)
        assert np.all(np.isin(np.round(step, 9), [-1.0, 0.0, 1.0]))
    assert all(a > b for a, b in zip(seen, seen[1:]))       # odd M: measured, strictly falling


def test_workers_must_be_a_positive_integer():
    with pytest.raises(ValueError, match="workers"):
        optim.majority_vote(0.1, workers=0)
    with pytest.raises(TypeError, match="workers"):
        optim.majority_vote(0.1, workers=2.0)
    with pytest.raises(ValueError, match="workers"):
        optim.make("majority_vote", lr=0.1)
