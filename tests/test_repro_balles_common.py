"""paper_repro/_balles.py: the noise models of the Balles & Hennig reproductions, the T(eps) target
rule, and the worst-cell statistics their claims are decided on."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import simopt
from simopt import spectra
from simopt.claims import Sample, bootstrap_interval
from simopt.paper_repro import _balles as B


@pytest.mark.parametrize("rotation", ["none", "haar"])
@pytest.mark.parametrize("c", [0.1, 1.0])
def test_noise_models_share_the_total_power_of_the_start_gradient(rotation, c):
    """Every model has tr(Cov) = c^2 tr(H^2) = c^2 E||grad f(x*+z)||^2, z ~ N(0, I); the DeepOBS
    model is c^2 H^2 itself, the H-aligned one is proportional to H, the isotropic one to I."""
    p = simopt.quadratic(spectra.logspace(12, 1.0, 1e3), rotation=rotation, seed=3)
    H = p.hessian()
    power = c ** 2 * np.trace(H @ H)
    covs = {n: make(p, c).covariance(p) for n, (make, _) in B.NOISE_MODELS.items()}
    for n, C in covs.items():
        assert np.trace(C) == pytest.approx(power, rel=1e-10), n
    assert np.allclose(covs["H^2"], c ** 2 * H @ H, atol=1e-9 * power)
    k = np.trace(covs["H-aligned"]) / np.trace(H)
    assert np.allclose(covs["H-aligned"], k * H, atol=1e-9 * power)
    assert np.allclose(covs["isotropic"], np.eye(12) * power / 12, atol=1e-9 * power)


def test_squared_hessian_noise_gives_every_eigendirection_the_same_relative_noise():
    """Under c^2 H^2 the start gradient's component along eigenvector i (std lambda_i) and the noise's
    (std c lambda_i) have ratio c in every direction (the DeepOBS stochastic quadratic)."""
    p = simopt.quadratic(spectra.logspace(10, 1.0, 1e4), rotation="haar", seed=1)
    lam, Q = p.eigh()
    C = B.squared_hessian_noise(p, 0.3).covariance(p)
    sigma = np.sqrt(np.diag(Q.T @ C @ Q))
    assert np.allclose(sigma / lam, 0.3, rtol=1e-8)


def test_target_eps_is_twice_the_better_level_and_never_below_the_floor():
    assert B.target_eps([3e-3, 4e-4]) == pytest.approx(8e-4)
    assert B.target_eps([0.0, 1e-2]) == pytest.approx(2 * B.FLOOR)
    assert B.target_eps([np.inf, 1e-2]) == pytest.approx(2e-2)


def _samples(data, n_arms):
    return {f"a{k}": Sample.exact(np.exp(np.asarray(data[k]))) for k in range(n_arms)}


@given(st.integers(2, 4), st.lists(st.lists(st.floats(-5, 5), min_size=8, max_size=8), min_size=7,
                                   max_size=7))
def test_worst_cell_interval_dominates_every_cell_interval(n_pairs, rows):
    """The bootstrap resamples the units of all arms jointly, so in every resample the max over
    cells is >= each cell's ratio r (and the max of |r| >= r and >= -r): the worst-cell interval lies
    above every cell's (both ends), the min-over-cells interval below."""
    data = np.array(rows).T[: 2 * n_pairs]                  # (arms, units): 7 units
    samples = _samples(data, 2 * n_pairs)
    pairs = [(f"a{2 * k}", f"a{2 * k + 1}") for k in range(n_pairs)]
    cells = B.cell_intervals(samples, pairs, "median", seed=5)
    hi = bootstrap_interval(samples, B.worst_log_ratio(pairs, "median", "max"), seed=5)
    lo = bootstrap_interval(samples, B.worst_log_ratio(pairs, "median", "min"), seed=5)
    ab = bootstrap_interval(samples, B.worst_abs_log_ratio(pairs, "median"), seed=5)
    tol = 1e-12
    for v, a, b in cells:
        assert hi.low >= a - tol and hi.high >= b - tol and hi.value >= v - tol
        assert lo.low <= a + tol and lo.high <= b + tol and lo.value <= v + tol
        assert ab.high >= max(b, -a) - tol and ab.low >= max(a, -b) - tol
        assert ab.value >= abs(v) - tol


def test_worst_log_ratio_of_one_pair_is_the_log_ratio_of_medians():
    rng = np.random.default_rng(0)
    x, y = rng.lognormal(size=(1, 9)), rng.lognormal(size=(1, 9))
    s = {"x": Sample.exact(x), "y": Sample.exact(y)}
    from simopt.claims import log_ratio_of_medians
    a = bootstrap_interval(s, B.worst_log_ratio([("x", "y")]), seed=1)
    b = bootstrap_interval(s, log_ratio_of_medians("x", "y"), seed=1)
    assert (a.low, a.high, a.value) == pytest.approx((b.low, b.high, b.value))


def test_bad_settings_and_pairs_are_refused():
    with pytest.raises(ValueError, match="noise"):
        B.Setting("x", "y", noise="pink")
    with pytest.raises(ValueError, match="criterion"):
        B.Setting("x", "y", criterion="ert")
    with pytest.raises(ValueError, match="aggregate"):
        B.Setting("x", "y", aggregate="mode")
    with pytest.raises(ValueError, match="pairs"):
        B.worst_log_ratio([("a", "a")])


def test_standard_settings_cover_the_declared_variants():
    names = [s.name for s in B.standard_settings("H^2")]
    assert names == ["primary", "tuned by persistent T", "tuned by first-hit T", "finer grid (1/16 decade)",
                     "mean over runs", "isotropic noise", "H-aligned noise"]
    setts = B.standard_settings("H^2")
    # the aggregate variant reuses the primary's runs; the T-criterion ones take their target from it
    assert setts[4].runs_key == setts[0].runs_key
    assert setts[1].reference_key == setts[0].runs_key
