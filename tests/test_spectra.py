"""Properties of the eigenvalue generators (simopt.spectra)."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simopt import spectra

SET = settings(max_examples=30, deadline=None)
dims = st.integers(1, 40)
lows = st.floats(1e-6, 1e3)
ratios = st.floats(1.0, 1e6)
seeds = st.integers(0, 2**32 - 1)


def _is_valid_spectrum(lam, d):
    assert isinstance(lam, np.ndarray) and lam.dtype == np.float64 and lam.shape == (d,)
    assert np.all(np.isfinite(lam)) and np.all(lam > 0)
    assert np.all(np.diff(lam) >= 0), "not ascending"


@SET
@given(dims, lows, ratios)
def test_linear_and_logspace_endpoints_spacing(d, low, ratio):
    high = low * ratio
    for fn in (spectra.linear, spectra.logspace):
        lam = fn(d, low, high)
        _is_valid_spectrum(lam, d)
        assert lam[0] == low
        if d > 1:
            assert lam[-1] == high  # exact end points: exact condition number
    if d > 2:
        lin = spectra.linear(d, low, high)
        np.testing.assert_allclose(np.diff(lin), (high - low) / (d - 1), rtol=1e-9,
                                   atol=1e-12 * high)
        geo = spectra.logspace(d, low, high)
        np.testing.assert_allclose(geo[1:] / geo[:-1], ratio ** (1.0 / (d - 1)), rtol=1e-9)


@SET
@given(dims, st.floats(0.0, 3.0), st.floats(1e-3, 1e3))
def test_power_law_formula(d, alpha, top):
    lam = spectra.power_law(d, alpha, top)
    _is_valid_spectrum(lam, d)
    i = np.arange(1, d + 1, dtype=float)
    np.testing.assert_allclose(lam[::-1], top * i ** (-alpha), rtol=1e-14)
    assert lam[-1] / lam[0] == pytest.approx(d ** alpha, rel=1e-12)


def test_power_law_is_nqm_spectrum():
    lam = spectra.power_law(5, 1.0)
    np.testing.assert_array_equal(lam, [1 / 5, 1 / 4, 1 / 3, 1 / 2, 1.0])


@SET
@given(dims, st.floats(0.0, 1.0), lows, st.floats(10.0, 1e4), st.floats(0.0, 0.5), seeds)
def test_two_cluster_counts_and_spread(d, frac, low, ratio, spread, seed):
    high = low * ratio
    lam = spectra.two_cluster(d, frac, low, high, seed, spread=spread)
    _is_valid_spectrum(lam, d)
    n_high = math.floor(frac * d + 0.5)
    # the clusters are disjoint because high(1 - spread) > low(1 + spread) for ratio >= 10
    in_high = (lam >= high * (1 - spread) * (1 - 1e-12)) & (lam <= high * (1 + spread) * (1 + 1e-12))
    in_low = (lam >= low * (1 - spread) * (1 - 1e-12)) & (lam <= low * (1 + spread) * (1 + 1e-12))
    assert in_high.sum() == n_high and in_low.sum() == d - n_high
    again = spectra.two_cluster(d, frac, low, high, np.random.default_rng(seed), spread=spread)
    np.testing.assert_array_equal(lam, again)  # int seed == Generator(seed): bit-identical


def test_two_cluster_zero_spread_is_two_points():
    lam = spectra.two_cluster(10, 0.3, 1.0, 100.0, 0, spread=0.0)
    np.testing.assert_array_equal(lam, [1.0] * 7 + [100.0] * 3)


@SET
@given(st.integers(1, 200), seeds)
def test_deep_learning_like(d, seed):
    lam = spectra.deep_learning_like(d, seed)
    _is_valid_spectrum(lam, d)
    n_high = math.floor(0.1 * d + 0.5)
    assert np.sum((lam >= 30) & (lam <= 60)) == n_high
    assert np.sum(lam <= 1.0) == d - n_high
    np.testing.assert_array_equal(lam, spectra.deep_learning_like(d, seed))


block_lists = st.lists(st.lists(st.floats(1e-3, 1e3), min_size=1, max_size=6), min_size=1,
                       max_size=5)


@SET
@given(block_lists)
def test_redistribute_preserves_multiset_and_sizes(blocks):
    out = spectra.redistribute(blocks)
    assert [b.size for b in out] == [len(b) for b in blocks]
    np.testing.assert_array_equal(np.sort(np.concatenate(out)), np.sort(np.concatenate(blocks)))
    for b in out:
        assert np.all(np.diff(b) >= 0)
    # dealing depends only on the multiset and the sizes: redistributing twice changes nothing
    again = spectra.redistribute(out)
    for a, b in zip(out, again):
        np.testing.assert_array_equal(a, b)


@SET
@given(st.integers(1, 5), st.integers(1, 6), seeds)
def test_redistribute_equal_sizes_is_round_robin(B, n, seed):
    rng = np.random.default_rng(seed)
    blocks = [np.sort(rng.uniform(0.1, 10, n)) + 10 * b for b in range(B)]  # separated bands
    out = spectra.redistribute(blocks)
    everything = np.sort(np.concatenate(blocks))
    for b in range(B):
        np.testing.assert_array_equal(out[b], everything[b::B])


def test_redistribute_homogenizes_bands():
    bands = [spectra.logspace(4, 10.0 ** k, 10.0 ** k * 1.5) for k in range(4)]
    out = spectra.redistribute(bands)
    kappa = lambda b: b[-1] / b[0]  # noqa: E731
    assert max(kappa(b) for b in bands) < 1.6
    assert min(kappa(b) for b in out) > 100  # every block now spans (almost) the whole range


@pytest.mark.parametrize("call, name, exc", [
    (lambda: spectra.linear(0, 1, 2), "d", ValueError),
    (lambda: spectra.linear(3.0, 1, 2), "d", TypeError),
    (lambda: spectra.linear(True, 1, 2), "d", TypeError),
    (lambda: spectra.linear(3, 0.0, 2), "low", ValueError),
    (lambda: spectra.linear(3, -1.0, 2), "low", ValueError),
    (lambda: spectra.linear(3, 2.0, 1.0), "high", ValueError),
    (lambda: spectra.logspace(3, 1.0, float("nan")), "high", ValueError),
    (lambda: spectra.logspace(3, "1", 2.0), "low", TypeError),
    (lambda: spectra.power_law(3, -1.0), "alpha", ValueError),
    (lambda: spectra.power_law(3, 1.0, top=0.0), "top", ValueError),
    (lambda: spectra.power_law(3, 1.0, top=False), "top", TypeError),
    (lambda: spectra.two_cluster(5, 1.5, 1, 10, 0), "frac_high", ValueError),
    (lambda: spectra.two_cluster(5, 0.5, 1, 10, -1), "rng", ValueError),
    (lambda: spectra.two_cluster(5, 0.5, 1, 10, 0.5), "rng", TypeError),
    (lambda: spectra.two_cluster(5, 0.5, 1, 10, 0, spread=1.0), "spread", ValueError),
    (lambda: spectra.deep_learning_like(-2, 0), "d", ValueError),
    (lambda: spectra.deep_learning_like(5, None), "rng", TypeError),
    (lambda: spectra.redistribute([]), "block_eigvals", ValueError),
    (lambda: spectra.redistribute([[1.0, 2.0], [0.0]]), "block_eigvals[1]", ValueError),
    (lambda: spectra.redistribute([[1.0, np.nan]]), "block_eigvals[0]", ValueError),
    (lambda: spectra.redistribute([[[1.0]]]), "block_eigvals[0]", ValueError),
    (lambda: spectra.redistribute("abc"), "block_eigvals", TypeError),
    (lambda: spectra.redistribute(3.0), "block_eigvals", TypeError),
])
def test_bad_input_names_argument(call, name, exc):
    with pytest.raises(exc, match=name.replace("[", r"\[").replace("]", r"\]")):
        call()
