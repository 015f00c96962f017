"""simopt.testing's hypothesis strategies draw what they say (every spectrum generator, problem kind,
rotation and noise model; hyperparameters inside each rule's declared ranges) and the hyperparameter
ranges are the declared ones: every drawn value is accepted, every value just outside is refused."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import simopt
from simopt import noise, optim, schedules
from simopt.optim.rule import Optimizer
from simopt.testing import builtin_rules, builtin_wrappers, invalid_values, sample_valid, valid_range
from simopt.testing import strategies as sst

DEFS = builtin_rules() + builtin_wrappers()


def _seen(strategy, key, n=200):
    """The keys of ``n`` examples of ``strategy`` (drawn by hypothesis, reproducibly)."""
    out = set()

    @settings(max_examples=n, database=None, derandomize=True)
    @given(strategy)
    def collect(x):
        out.add(key(x))
    collect()
    return out


def test_spectra_come_from_every_generator_and_are_valid_spectra():
    @given(sst.spectra(max_dim=9))
    def check(lam):
        assert lam.ndim == 1 and 1 <= lam.size <= 9 and lam.dtype == np.float64
        assert np.all(lam > 0) and np.all(np.isfinite(lam)) and np.all(np.diff(lam) >= 0)
    check()
    for g in sst.SPECTRA:     # each generator alone draws a valid spectrum
        lam = _seen(sst.spectra(generators=(g,)), lambda x: bool(np.all(x > 0)), n=5)
        assert lam == {True}


def test_problems_reach_every_kind_constructor_and_noise_model():
    seen = _seen(sst.problems(max_dim=6),
                 lambda p: (p.kind, p.describe()["constructor"], type(p.noise).__name__))
    assert {k for k, _, _ in seen} == {"diagonal", "block", "dense", "kron"}
    assert {c for _, c, _ in seen} == set(sst.CONSTRUCTORS)
    names = {n for _, _, n in seen}
    assert names == {"NoneType", "_Gaussian", "_CorrelatedGaussian", "_HessianAligned", "_StudentT"}


@given(sst.problems(max_dim=6))
def test_a_drawn_problem_is_a_valid_problem_that_runs(p):
    assert 1 <= p.dim <= 6 and p.mu > 0
    H = p.hessian()
    np.testing.assert_allclose(p.grad(p.x0), H @ (p.x0 - p.xstar), rtol=1e-9, atol=1e-9 * np.abs(H).max())
    res = simopt.run(p, optim.sgd(0.5 / p.L), 5, runs=2, seed=1)
    assert np.all(np.isfinite(res.loss)) and not res.diverged.any()


@given(sst.gradient_streams(steps=4, draws=3))
def test_gradient_streams_have_the_shapes_scales_and_zeros_they_promise(s):
    d = sum(s.sizes)
    assert s.G.shape[0] == 4 and s.G.shape[2] == 3 and s.G.shape[3] == d and s.X0.shape == (s.G.shape[1], d)
    nz = np.abs(s.G[s.G != 0])
    if nz.size:
        exponent = np.round(np.log10(np.median(nz)))
        assert -101 <= exponent <= 101
    assert sst.stream_problem(s.sizes).block_sizes == tuple(s.sizes)


def test_gradient_streams_reach_extreme_scales_and_exact_zeros():
    seen = _seen(sst.gradient_streams(), lambda s: (int(np.log10(np.max(np.abs(s.X0)))) // 50,
                                                    bool((s.G == 0).any())))
    assert {scale for scale, _ in seen} >= {-2, 0, 1}     # 1e-100 .. 1e100
    assert {zeros for _, zeros in seen} == {False, True}


@pytest.mark.parametrize("definition", DEFS, ids=lambda r: r.name)
@settings(max_examples=10)
@given(data=st.data())
def test_drawn_hyperparameters_are_accepted_and_inside_their_declared_ranges(definition, data):
    values = data.draw(sst.hyperparameters(definition))
    assert set(values) == set(definition.hyper)
    assert definition.validate(values) == values          # accepted as they are
    for k, h in definition.hyper.items():
        r = valid_range(h)
        if h.bounds is not None:
            lo, lo_closed, hi, hi_closed = h.bounds
            assert (values[k] >= lo if lo_closed else values[k] > lo), (k, values[k])
            assert (values[k] <= hi if hi_closed else values[k] < hi), (k, values[k])
        if r.kind in ("bool", "choice"):
            assert values[k] in r.options


@pytest.mark.parametrize("definition", DEFS, ids=lambda r: r.name)
def test_values_outside_the_declared_ranges_are_refused_by_name(definition):
    rng = np.random.default_rng(0)
    for k, h in definition.hyper.items():
        for _ in range(20):
            h.check(sample_valid(h, rng), k)                 # the numpy sampler stays inside too
        for value, why in invalid_values(h):
            with pytest.raises((TypeError, ValueError), match=k):
                h.check(value, k)


def test_a_range_needs_a_hyper():
    with pytest.raises(TypeError, match="Hyper"):
        valid_range(0.5)
    h = optim.Hyper(0.9)                                   # a user's float without an interval
    assert valid_range(h).low == pytest.approx(0.45) and valid_range(h).high == pytest.approx(1.35)
    bad = [v for v, _ in invalid_values(h)]                # only wrong types and non-finite numbers
    assert bad[:2] == ["0.5", True] and math.isnan(bad[2]) and bad[3] == math.inf and len(bad) == 4
    assert [v for v, _ in invalid_values(optim.Hyper(interval="(0, 1]"))][4:] == [0.0, 1.001]


@settings(max_examples=min(12, settings.default.max_examples))   # each wrapped rule compiles anew
@given(sst.optimizers(max_draws=3))
def test_a_drawn_optimizer_of_any_rule_runs_without_nan(opt):
    """Any built-in rule, any valid hyperparameters, any schedule, possibly wrapped: a run either stays
    finite or is flagged as diverged (its loss +inf from then on), never NaN."""
    assert isinstance(opt, Optimizer)
    p = simopt.quadratic([0.5, 1.0, 2.0, 4.0], rotation="haar", noise=noise.gaussian(0.1), seed=2, blocks=[1, 3])
    res = simopt.run(p, opt, 8, runs=2, seed=3)
    assert not np.isnan(res.loss).any()
    assert np.all(np.isfinite(res.loss[~res.diverged]))


def test_learning_rates_reach_floats_and_every_schedule():
    seen = _seen(sst.learning_rates(), lambda lr: type(lr).__name__, n=100)
    assert seen == {"float", "_Constant", "_Step", "_InverseSqrt", "_Cosine", "_Array"}
    assert all(isinstance(x, (float, schedules.Schedule)) for x in [0.1, schedules.constant(0.1)])
