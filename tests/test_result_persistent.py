"""First-hit vs persistent T(eps) on constructed results: a dip below eps that comes back counts for
the first but not the second; properties of both readings; flags validated."""
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import simopt
from simopt import Result
from simopt.tuning import criterion_score, pick_best


def make_result(loss, steps=None, diverged=None):
    loss = np.atleast_2d(np.asarray(loss, dtype=float))
    runs, n = loss.shape
    steps = np.arange(n) * 10 if steps is None else np.asarray(steps)
    div = np.zeros(runs, dtype=bool) if diverged is None else np.asarray(diverged, dtype=bool)
    dstep = np.where(div, steps[-1] // 2, -1)
    loss = np.where(div[:, None] & (steps[None, :] >= dstep[:, None]), np.inf, loss)
    z = np.zeros((runs, 2))
    return Result(steps=steps, loss=loss, grad_norm=np.sqrt(loss), x=z, x0=z, f0=loss[:, 0].copy(),
                  diverged=div, diverged_step=dstep)


# run 0 dips below 1e-3 at step 20 and comes back; run 1 gets there at 30 and stays
DIP = [1.0, 0.1, 1e-4, 0.05, 0.2, 0.3]
STAY = [1.0, 0.1, 0.01, 1e-4, 1e-5, 1e-6]


def test_a_dip_that_comes_back_has_a_finite_first_hit_and_an_infinite_persistent_T():
    r = make_result([DIP, STAY])
    np.testing.assert_array_equal(r.iterations_to(1e-3), [20.0, 30.0])
    np.testing.assert_array_equal(r.iterations_to(1e-3, persistent=True), [np.inf, 30.0])
    # a later return below the target: the persistent T is later than the first hit, not inf
    r2 = make_result([[1.0, 1e-4, 0.5, 1e-4, 1e-5, 1e-5]])
    assert r2.iterations_to(1e-3)[0] == 10.0 and r2.iterations_to(1e-3, persistent=True)[0] == 30.0


def test_tuning_by_the_persistent_criterion_does_not_pick_the_dip():
    dip, stay = make_result([DIP] * 3), make_result([STAY] * 3)
    lrs = [1.0, 0.5]                          # the dipping rule is the larger lr
    first = [criterion_score(r, "first_hit", 1e-3) for r in (dip, stay)]
    pers = [criterion_score(r, "persistent", 1e-3) for r in (dip, stay)]
    assert lrs[pick_best(lrs, first)] == 1.0  # first-hit rewards the transient dip ...
    assert lrs[pick_best(lrs, pers)] == 0.5   # ... the persistent criterion does not
    assert math.isinf(pers[0])


def test_ert_and_summary_follow_the_reading():
    r = make_result([DIP, STAY, STAY])
    assert r.ert(1e-3) == pytest.approx((20 + 30 + 30) / 3)
    # the dipping run is a failure under the persistent reading: it spent the whole budget (50)
    assert r.ert(1e-3, persistent=True) == pytest.approx((50 + 30 + 30) / 2)
    s = r.summary(1e-3, persistent=True)
    assert s["persistent"] is True and s["reached"] == 2 and s["T_median"] == 30.0
    s0 = r.summary(1e-3)
    assert s0["persistent"] is False and s0["reached"] == 3


def test_diverged_and_censored_runs_are_inf_in_both_readings():
    r = make_result([STAY, [1.0, 0.5, 0.4, 0.3, 0.2, 0.1]], diverged=[True, False])
    for pers in (False, True):
        assert np.all(np.isinf(r.iterations_to(1e-3, persistent=pers)))
    np.testing.assert_array_equal(r.steps_spent(1e-3), [25.0, 50.0])   # divergence step, budget


@pytest.mark.parametrize("kw", [dict(relative="no"), dict(persistent=1), dict(persistent="yes"),
                                dict(relative=None)])
def test_flag_arguments_must_be_booleans(kw):
    r = make_result([STAY])
    with pytest.raises(TypeError, match=next(iter(kw))):
        r.iterations_to(1e-3, **kw)
    with pytest.raises(TypeError, match=next(iter(kw))):
        r.ert(1e-3, **kw)
    with pytest.raises(TypeError, match=next(iter(kw))):
        r.summary(1e-3, **kw)


def test_bad_eps_and_metric_are_named():
    r = make_result([STAY])
    with pytest.raises(ValueError, match="eps"):
        r.iterations_to(0.0, persistent=True)
    with pytest.raises(ValueError, match="metric"):
        r.iterations_to(1e-3, metric="bogus", persistent=True)


curves = st.lists(st.lists(st.floats(1e-8, 10.0), min_size=2, max_size=12), min_size=1, max_size=5)


@given(curves, st.floats(1e-6, 1.0), st.booleans())
def test_persistent_T_is_the_first_record_of_the_final_run_below_target(rows, eps, relative):
    n = min(len(x) for x in rows)
    r = make_result([x[:n] for x in rows])
    first = r.iterations_to(eps, relative=relative)
    pers = r.iterations_to(eps, relative=relative, persistent=True)
    target = eps * r.loss[:, :1] if relative else eps
    hit = r.loss <= target
    for i in range(r.runs):
        # persistent >= first hit, finite exactly when the last record is below the target
        assert pers[i] >= first[i]
        assert math.isfinite(pers[i]) == bool(hit[i, -1])
        if math.isfinite(pers[i]):
            k = int(np.searchsorted(r.steps, pers[i]))
            assert hit[i, k:].all() and (k == 0 or not hit[i, k - 1])


@given(curves, st.floats(1e-6, 1.0), st.lists(st.floats(1e-9, 10.0), min_size=1, max_size=4))
def test_a_longer_budget_never_moves_the_persistent_T_earlier(rows, eps, tail):
    """Persistence is only vouched for within the budget: continuing the run can move the persistent
    T later (or make it inf), never earlier; a run censored at the short budget can only settle
    after it."""
    n = min(len(x) for x in rows)
    short = np.array([x[:n] for x in rows])
    longer = np.concatenate([short, np.tile(tail, (short.shape[0], 1))], axis=1)
    a = make_result(short).iterations_to(eps, persistent=True)
    b = make_result(longer).iterations_to(eps, persistent=True)
    last_short = 10.0 * (n - 1)
    assert np.all(b >= np.where(np.isfinite(a), a, last_short + 10.0))


def test_engine_results_agree_with_a_direct_scan():
    p = simopt.quadratic([1.0, 1.0], noise=simopt.noise.gaussian(0.06), seed=0, x0=[1.0, 1.0])
    res = simopt.run(p, simopt.optim.sgd(1.0), 200, runs=4, seed=1)
    rel = res.loss / res.loss[:, :1]
    for i, T in enumerate(res.iterations_to(1e-3, persistent=True)):
        below = rel[i] <= 1e-3
        expect = next((k for k in range(below.size) if below[k:].all()), None)
        assert (T == np.inf) if expect is None else (T == res.steps[expect])
