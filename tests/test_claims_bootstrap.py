"""Bootstrap intervals: nominal coverage on cases with a known answer (exact SGD / heavy-ball
expectations), censoring and divergence as bounds (never NaN), pairing, determinism; verdicts and
overall statuses."""
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import simopt
from simopt import claims, noise, optim, spectra, theory
from simopt.claims import Sample, bootstrap_interval


def _coverage(samples_by_rep, statistic, truth, confidence=0.95, n_boot=1000):
    hits = 0
    for k, samples in enumerate(samples_by_rep):
        iv = bootstrap_interval(samples, statistic, confidence=confidence, n_boot=n_boot, seed=k)
        hits += iv.low <= truth <= iv.high
    return hits / len(samples_by_rep)


@pytest.mark.slow
def test_interval_covers_the_exact_expected_loss_at_its_nominal_rate():
    """E f(x_T) of SGD is known exactly (theory.sgd_expected_loss); 200 independent repetitions of
    32 runs each: the 95% interval of the mean final loss should contain it about 95% of the time
    (binomial sd 1.5%), and a paired ratio of means of SGD and heavy ball (same noise per run) the
    exact ratio of their expectations."""
    p = simopt.quadratic(spectra.linear(16, 0.2, 1.0), noise=noise.gaussian(0.1), seed=0)
    reps, n, T = 200, 32, 60
    e_sgd = theory.sgd_expected_loss(p, 0.2, T)[1][-1]
    e_hb = theory.momentum_expected_loss(p, 0.1, 0.5, T)[1][-1]
    a = simopt.run(p, optim.sgd(0.2), T, runs=reps * n, seed=3, record_every=T).loss[:, -1]
    b = simopt.run(p, optim.sgd(0.1, momentum=0.5), T, runs=reps * n, seed=3, record_every=T).loss[:, -1]
    a, b = a.reshape(reps, n), b.reshape(reps, n)
    cov_mean = _coverage([{"SGD": a[k]} for k in range(reps)], claims.mean("SGD"), e_sgd)
    cov_ratio = _coverage([{"SGD": a[k], "HB": b[k]} for k in range(reps)],
                          claims.log_ratio_of_means("SGD", "HB"), math.log10(e_sgd / e_hb))
    assert 0.89 <= cov_mean <= 0.99, cov_mean
    assert 0.89 <= cov_ratio <= 0.99, cov_ratio
    # a 60% interval covers about 60% of the time: the nominal level is the one asked for
    cov60 = _coverage([{"SGD": a[k]} for k in range(reps)], claims.mean("SGD"), e_sgd, confidence=0.6)
    assert 0.48 <= cov60 <= 0.72, cov60


def test_pairing_uses_the_shared_noise():
    """Two rules on the same noise streams: the paired interval of their ratio is narrower than the
    unpaired one (the common noise cancels), and both contain the point estimate."""
    p = simopt.quadratic(spectra.linear(4, 0.5, 1.0), noise=noise.gaussian(0.1), seed=0)
    a = simopt.run(p, optim.sgd(0.1), 20, runs=64, seed=0, record_every=20).loss[:, -1]
    b = simopt.run(p, optim.sgd(0.11), 20, runs=64, seed=0, record_every=20).loss[:, -1]
    stat = claims.log_ratio_of_medians("a", "b")
    paired = bootstrap_interval({"a": a, "b": b}, stat)
    unpaired = bootstrap_interval({"a": a, "b": b}, stat, paired=False)
    assert paired.high - paired.low < 0.5 * (unpaired.high - unpaired.low)
    for iv in (paired, unpaired):
        assert iv.low <= iv.value <= iv.high


def test_the_same_seed_gives_the_same_interval():
    x = np.random.default_rng(0).exponential(size=(3, 10))
    i1 = bootstrap_interval({"a": x}, claims.median("a"), seed=4)
    i2 = bootstrap_interval({"a": x.copy()}, claims.median("a"), seed=4)
    assert (i1.low, i1.high) == (i2.low, i2.high)
    assert bootstrap_interval({"a": x}, claims.median("a"), seed=5) != i1


def test_censored_runs_are_bounds_and_never_nan():
    budget = 100.0
    fast = np.array([10.0, 12, 11, 9, 13, 10, 11, 12])
    slow = np.array([80.0, 90, np.inf, np.inf, np.inf, np.inf, np.inf, 95])     # mostly censored
    stat = claims.log_ratio_of_medians("slow", "fast")
    iv = bootstrap_interval({"slow": Sample.censored(slow, budget), "fast": Sample.exact(fast)}, stat)
    # the median of "slow" is censored: the ratio is at least budget/median(fast), not known above
    assert iv.high == math.inf and iv.low >= math.log10(budget / 13.0) - 1e-12
    assert iv.value == pytest.approx(math.log10(budget / np.median(fast)))
    assert iv.value_low == iv.value and iv.value_high == math.inf
    # counted as +inf outright (diverged, not censored) the median is inf: a valid outcome
    div = bootstrap_interval({"slow": Sample.censored(slow, budget, diverged=np.isinf(slow)),
                              "fast": fast}, stat)
    assert div.value == math.inf and div.high == math.inf and not math.isnan(div.low)
    assert div.low >= iv.low      # diverged runs are worse than censored ones can be
    # both medians censored: the ratio cannot be decided -> (-inf, inf), not NaN
    both = bootstrap_interval({"slow": Sample.censored(slow, budget), "fast": Sample.censored(slow, budget)}, stat)
    assert (both.low, both.high) == (-math.inf, math.inf) and both.value is not None
    assert claims.verdict(both.low, both.high, at_least=1.0) == "INCONCLUSIVE"
    with pytest.raises(ValueError, match="NaN"):
        Sample.exact([1.0, math.nan])


@given(st.lists(st.floats(0.5, 1e3), min_size=3, max_size=20), st.floats(1.0, 1e3))
def test_censoring_bounds_contain_every_completion(values, budget):
    """Runs beyond the budget are censored (T in [budget, inf]): the interval contains the plain
    percentile interval of the data completed in any way consistent with that (the true values,
    the budget itself, or ten times it)."""
    T = np.array(values)
    T_obs = np.where(T > budget, np.inf, T)
    ref = np.full(T.size, 5.0)
    stat = claims.log_ratio_of_medians("x", "ref")
    iv = bootstrap_interval({"x": Sample.censored(T_obs, budget), "ref": ref}, stat, n_boot=200)
    for done in (T, np.where(np.isinf(T_obs), budget, T_obs), np.where(np.isinf(T_obs), 10 * budget, T_obs)):
        plain = bootstrap_interval({"x": done, "ref": ref}, stat, n_boot=200)
        assert iv.low <= plain.low and plain.high <= iv.high


def test_verdicts_from_intervals():
    v = claims.verdict
    assert v(1.0, 2.0, at_least=0.5) == "PASS" and v(0.5, 2.0, at_least=0.5) == "PASS"
    assert v(-1.0, 0.4, at_least=0.5) == "FAIL" and v(0.4, 0.6, at_least=0.5) == "INCONCLUSIVE"
    assert v(-math.inf, 0.1, at_most=0.2) == "PASS" and v(0.3, math.inf, at_most=0.2) == "FAIL"
    assert v(-0.1, 0.1, at_least=-0.5, at_most=0.5) == "PASS"
    assert v(0.6, 0.9, at_least=-0.5, at_most=0.5) == "FAIL"
    assert v(0.4, 0.9, at_least=-0.5, at_most=0.5) == "INCONCLUSIVE"
    assert v(-math.inf, math.inf, at_least=0.0) == "INCONCLUSIVE"
    with pytest.raises(ValueError, match="at_least"):
        v(0.0, 1.0)
    with pytest.raises(ValueError, match="at_most"):
        v(0.0, 1.0, at_least=1.0, at_most=0.0)


def test_overall_status_from_the_primary_and_the_variants():
    o = claims.overall_status
    assert o("PASS", {}) == ("HOLDS", [])
    assert o("PASS", {"a": "PASS", "b": "PASS"}) == ("ROBUST", [])
    assert o("PASS", {"a": "PASS", "b": "FAIL"}) == ("FRAGILE", ["b"])
    assert o("PASS", {"a": "INCONCLUSIVE"}) == ("FRAGILE", ["a"])
    assert o("FAIL", {"a": "INCONCLUSIVE", "b": "FAIL"}) == ("FAILS", [])
    assert o("FAIL", {"a": "PASS"}) == ("FRAGILE", ["a"])
    assert o("FAIL", {}) == ("FAILS", [])
    assert o("INCONCLUSIVE", {"a": "PASS"}) == ("INCONCLUSIVE", [])
    with pytest.raises(ValueError, match="primary"):
        o("OK", {})


def test_units_on_the_same_problem_draw_are_resampled_together():
    """Runs on one problem draw share that draw: with a large between-draw effect the two-stage
    bootstrap (draws, then runs within them) is much wider than treating all runs as independent."""
    rng = np.random.default_rng(1)
    x = np.arange(4.0)[:, None] + 0.01 * rng.standard_normal((4, 8))     # (draws, runs)
    clustered = bootstrap_interval({"a": x}, claims.mean("a"))
    flat = bootstrap_interval({"a": x.reshape(1, -1)}, claims.mean("a"))
    assert clustered.high - clustered.low > 2 * (flat.high - flat.low)
    assert clustered.n_units == flat.n_units == 32


@given(st.floats(-2.0, 2.0), st.floats(1e-3, 1e3), st.integers(2, 6))
def test_log_slope_of_medians_recovers_a_power_law_exponent(b, c, n_arms):
    """T = c d^b exactly at every d: the slope is b whatever the constant c, and the interval is
    the point b (every resample sees the same medians)."""
    ds = [2.0 ** (3 + 2 * k) for k in range(n_arms)]
    xs = {f"d={d:g}": d for d in ds}
    stat = claims.log_slope_of_medians(xs)
    samples = {a: np.full((3, 2), c * d ** b) for a, d in xs.items()}
    iv = bootstrap_interval(samples, stat, n_boot=50)
    assert iv.value == pytest.approx(b, abs=1e-9)
    assert iv.low == pytest.approx(b, abs=1e-9) and iv.high == pytest.approx(b, abs=1e-9)


def test_log_slope_of_medians_is_the_least_squares_fit_and_bounds_censoring():
    """Noisy medians: the slope equals numpy's least-squares fit of log10 median vs log10 d; a
    censored arm above the mean log d can only raise the upper bound (and below it, lower the
    lower bound), so the interval contains the completed data's interval."""
    rng = np.random.default_rng(0)
    ds = [16.0, 64.0, 256.0, 1024.0]
    xs = {f"d={d:g}": d for d in ds}
    T = {a: (d ** 0.5) * np.exp(0.1 * rng.standard_normal((6, 1))) for a, d in xs.items()}
    stat = claims.log_slope_of_medians(xs)
    fit = np.polyfit(np.log10(ds), [np.log10(np.median(T[a])) for a in xs], 1)[0]
    assert bootstrap_interval(T, stat, n_boot=100).value == pytest.approx(fit, rel=1e-12)
    for arm in ("d=16", "d=1024"):
        budget = float(np.median(T[arm]))
        cens = dict(T)
        cens[arm] = Sample.censored(np.where(T[arm] > budget, np.inf, T[arm]), budget)
        iv = bootstrap_interval(cens, stat, n_boot=200)
        done = bootstrap_interval(T, stat, n_boot=200)
        assert iv.low <= done.low and done.high <= iv.high
        assert (iv.high == math.inf) == (arm == "d=1024") and (iv.low == -math.inf) == (arm == "d=16")
    with pytest.raises(ValueError, match="two arms"):
        claims.log_slope_of_medians({"a": 1.0})
    with pytest.raises(ValueError, match="distinct"):
        claims.log_slope_of_medians({"a": 4.0, "b": 4.0})
    with pytest.raises(ValueError, match=r"xs\['b'\]"):
        claims.log_slope_of_medians({"a": 4.0, "b": -1.0})
