"""Properties of the orthogonal matrices (simopt.rotations)."""
import numpy as np
import pytest
import scipy.linalg
from hypothesis import given, settings
from hypothesis import strategies as st

from simopt import rotations

SET = settings(max_examples=30, deadline=None)
dims = st.integers(1, 24)
seeds = st.integers(0, 2**32 - 1)
thetas = st.floats(0.0, 1.0)
TOL = 1e-12


def _orth_err(r):
    return np.abs(r.T @ r - np.eye(r.shape[0])).max()


def _so(q):
    q = q.copy()
    if np.linalg.det(q) < 0:
        q[:, 0] = -q[:, 0]
    return q


def test_identity():
    np.testing.assert_array_equal(rotations.identity(4), np.eye(4))


@SET
@given(dims, seeds)
def test_haar_orthogonal_and_seeded(d, seed):
    q = rotations.haar(d, seed)
    assert q.shape == (d, d) and q.dtype == np.float64 and q.flags.c_contiguous
    assert _orth_err(q) < TOL
    np.testing.assert_array_equal(q, rotations.haar(d, np.random.default_rng(seed)))
    np.testing.assert_array_equal(q, rotations.haar(d, np.random.SeedSequence(seed)))


def test_haar_first_column_is_uniform_on_sphere():
    # Q e_1 is uniform on the sphere: E[Q_11] = 0 and E[Q_11^2] = 1/d.  Without the sign fix the
    # QR convention makes Q_11 = -|Z_11|/‖Z_1‖ < 0 always, so the mean test fails.
    d, n = 3, 4000
    rng = np.random.default_rng(12345)
    q11 = np.array([rotations.haar(d, rng)[0, 0] for _ in range(n)])
    se = np.sqrt(1.0 / d / n)
    assert abs(q11.mean()) < 5 * se
    assert abs((q11 ** 2).mean() - 1.0 / d) < 0.02


@SET
@given(dims, seeds)
def test_partial_theta_zero_is_exactly_identity(d, seed):
    np.testing.assert_array_equal(rotations.partial(d, 0.0, seed), np.eye(d))
    np.testing.assert_array_equal(rotations.partial(d, 0, seed), np.eye(d))


@SET
@given(dims, seeds)
def test_partial_theta_one_is_the_haar_draw(d, seed):
    # θ = 1 is the Haar draw of the same rng, moved into SO(d) (first column negated if det < 0)
    np.testing.assert_array_equal(rotations.partial(d, 1.0, seed), _so(rotations.haar(d, seed)))


@SET
@given(dims, seeds, thetas)
def test_partial_is_an_orthogonal_rotation_on_the_geodesic(d, seed, theta):
    r = rotations.partial(d, theta, seed)
    assert r.flags.c_contiguous and _orth_err(r) < TOL
    assert np.linalg.det(r) == pytest.approx(1.0, abs=1e-10)
    a = rotations.principal_log(_so(rotations.haar(d, seed)))
    np.testing.assert_allclose(r, scipy.linalg.expm(theta * a), rtol=0, atol=1e-11)


@SET
@given(st.integers(2, 16), seeds, thetas, thetas)
def test_partial_one_parameter_group_and_continuity(d, seed, a, b):
    # R(a) R(b) = R(a + b) (a one-parameter subgroup); ‖R(a) − R(b)‖₂ <= π |a − b|
    ra, rb = rotations.partial(d, a, seed), rotations.partial(d, b, seed)
    if a + b <= 1.0:
        np.testing.assert_allclose(ra @ rb, rotations.partial(d, a + b, seed), rtol=0, atol=1e-11)
    assert np.linalg.norm(ra - rb, 2) <= np.pi * abs(a - b) + 1e-11


@SET
@given(dims, seeds)
def test_principal_log_is_skew_and_principal(d, seed):
    q = _so(rotations.haar(d, seed))
    a = rotations.principal_log(q)
    np.testing.assert_array_equal(a, -a.T)
    np.testing.assert_allclose(scipy.linalg.expm(a), q, rtol=0, atol=1e-11)
    ev = np.linalg.eigvals(a)
    assert np.all(np.abs(ev.real) < 1e-10) and np.all(np.abs(ev.imag) <= np.pi + 1e-10)


@pytest.mark.parametrize("d", [2, 4, 5])
def test_principal_log_of_half_turns(d):
    # eigenvalue -1 (twice): the log rotates the pair of directions by π
    q = np.eye(d)
    q[:4, :4] = -np.eye(min(d, 4))
    a = rotations.principal_log(q)
    np.testing.assert_allclose(scipy.linalg.expm(a), q, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(a, -a.T)


def test_principal_log_rejects_non_rotations():
    with pytest.raises(ValueError, match="q"):
        rotations.principal_log(np.diag([-1.0, 1.0]))  # a reflection
    with pytest.raises(ValueError, match="q"):
        rotations.principal_log(np.array([[1.0, 0.5], [0.0, 1.0]]))
    with pytest.raises(ValueError, match="q"):
        rotations.principal_log(np.ones((2, 3)))


@SET
@given(st.lists(st.integers(1, 6), min_size=1, max_size=5), seeds)
def test_block_rotation_keeps_blocks(sizes, seed):
    r = rotations.block(sizes, seed)
    d = sum(sizes)
    assert r.shape == (d, d) and _orth_err(r) < TOL
    parts = rotations.haar_blocks(sizes, seed)
    starts = np.concatenate([[0], np.cumsum(sizes)])
    mask = np.zeros((d, d), dtype=bool)
    for b, (lo, hi) in enumerate(zip(starts[:-1], starts[1:])):
        np.testing.assert_array_equal(r[lo:hi, lo:hi], parts[b])
        assert _orth_err(parts[b]) < TOL
        mask[lo:hi, lo:hi] = True
    assert np.all(r[~mask] == 0.0)
    # the blocks are independent draws in block order from one stream
    gen = np.random.default_rng(seed)
    for n, part in zip(sizes, parts):
        np.testing.assert_array_equal(part, rotations.haar(n, gen))


@pytest.mark.parametrize("call, name, exc", [
    (lambda: rotations.identity(0), "d", ValueError),
    (lambda: rotations.haar(2.5, 0), "d", TypeError),
    (lambda: rotations.haar(3, -1), "rng", ValueError),
    (lambda: rotations.haar(3, True), "rng", TypeError),
    (lambda: rotations.partial(3, 1.5, 0), "theta", ValueError),
    (lambda: rotations.partial(3, -0.1, 0), "theta", ValueError),
    (lambda: rotations.partial(3, float("nan"), 0), "theta", ValueError),
    (lambda: rotations.partial(3, True, 0), "theta", TypeError),
    (lambda: rotations.partial(3, "half", 0), "theta", TypeError),
    (lambda: rotations.block([], 0), "sizes", ValueError),
    (lambda: rotations.block([2, 0], 0), "sizes", ValueError),
    (lambda: rotations.block([2, 1.5], 0), "sizes", TypeError),
    (lambda: rotations.block(3, 0), "sizes", TypeError),
])
def test_bad_input_names_argument(call, name, exc):
    with pytest.raises(exc, match=name):
        call()
