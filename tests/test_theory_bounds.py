"""Per-step guarantees and iteration bounds (theory_notes.md §2 A–E, §3 H), checked on the engine's
trajectories through ``simopt.theory.check`` — including that a wrong step is reported."""
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import simopt
from simopt.theory import bounds as B
from simopt.theory import check
from simopt.theory import metrics as M

from test_theory_metrics import random_block_problem

DETERMINISTIC = ["gd", "gd_opt", "gd_lg", "sign", "adam"]


# ------------------------------------------------------------------------------------ formulas
@settings(max_examples=50, deadline=None)
@given(st.floats(0.0, 0.999999), st.floats(1e-9, 0.99))
def test_iterations_for_contraction_is_the_first_sufficient_count(q, eps):
    T = B.iterations_for_contraction(q, eps)
    if q == 0.0:
        assert T == 1
        return
    assert q**T <= eps * (1 + 1e-9)
    assert T == 1 or q ** (T - 1) > eps * (1 - 1e-9)


def test_iterations_for_contraction_edge_cases():
    assert B.iterations_for_contraction(1.0, 0.5) == math.inf
    assert B.iterations_for_contraction(2.25, 0.5) == math.inf
    with pytest.raises(ValueError, match="eps"):
        B.iterations_for_contraction(0.5, 1.0)
    with pytest.raises(ValueError, match="q"):
        B.iterations_for_contraction(-0.1, 0.5)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**31 - 1), st.floats(0.0, 4.0))
def test_gd_rates_closed_forms(seed, lk):
    p = random_block_problem(seed, log10_kappa=lk)
    k = p.condition_number
    assert B.gd_rate(p, 1.0 / p.L) == pytest.approx(1 - 1 / k, rel=1e-12, abs=1e-15)
    assert B.gd_rate(p, B.gd_step_size(p, "2/(L+mu)")) == pytest.approx((k - 1) / (k + 1),
                                                                         rel=1e-12, abs=1e-15)
    assert B.gd_rate(p, 2.5 / p.L) == pytest.approx(1.5)
    assert B.gd_fixed_step_bound(p, 2.5 / p.L, 0.1).T_bound == math.inf
    # the adam rate at the optimal step is (kt - 1)/(kt + 1)
    kt = M.adam_preconditioned_condition_number(p)
    assert B.adam_rate(p, B.adam_optimal_lr(p)) == pytest.approx((kt - 1) / (kt + 1), rel=1e-9,
                                                                  abs=1e-12)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**31 - 1), st.floats(0.0, 4.0), st.sampled_from(["block", "none"]))
def test_one_exact_step_of_each_rule_meets_its_bound(seed, lk, rotation):
    """Pure NumPy: from random points, one step of each oracle rule satisfies §2A–C, E."""
    p = random_block_problem(seed, log10_kappa=lk, rotation=rotation)
    rng = np.random.default_rng(seed)
    X = p.xstar + rng.standard_normal((8, p.dim))
    f, G = p.loss(X), p.grad(X)
    tol = 1e-11 * f
    # A
    for eta in (1.0 / p.L, B.gd_step_size(p, "2/(L+mu)")):
        assert np.all(p.loss(X - eta * G) <= B.gd_rate(p, eta) ** 2 * f + tol)
    # B: the (Q) decrease and the contraction it implies
    LG = M.gradient_weighted_smoothness(p, X)
    nxt = p.loss(X - G / LG[:, None])
    assert np.all(nxt <= B.gd_lg_next_loss(p, X) + tol)
    assert np.all(B.gd_lg_next_loss(p, X) <= B.gd_lg_contraction(p, X) * f + tol)
    # C
    eta = np.abs(G).sum(1) / M.linf_smoothness(p)
    nxt = p.loss(X - eta[:, None] * np.sign(G))
    assert np.all(nxt <= B.sign_next_loss(p, X) + tol)
    assert np.all(B.sign_next_loss(p, X) <= B.sign_contraction(p) * f + tol)
    # E: x <- x - eta D^-1 g with D = |g0| fixed
    D = np.abs(p.grad(p.x0))
    eta = B.adam_optimal_lr(p)
    q = B.adam_rate(p, eta) ** 2
    nxt = p.loss(X - eta * G / D)
    assert np.all(nxt <= q * f + tol)


def test_block_diagonal_required_for_gd_lg():
    p = random_block_problem(5, rotation="global")
    with pytest.raises(ValueError, match="block-diagonal"):
        B.gd_lg_bound(p, 0.1)
    with pytest.raises(ValueError, match="block-diagonal"):
        check(p, "gd_lg", eps=0.1)


# ------------------------------------------------------------------------------------ the engine
@settings(max_examples=20, deadline=None)
@given(st.integers(0, 2**31 - 1), st.floats(0.0, 4.0), st.sampled_from(["block", "none"]),
       st.sampled_from([0.3, 1e-2, 1e-4]))
def test_engine_trajectories_meet_every_per_step_guarantee(seed, lk, rotation, eps):
    """Random block sizes, spectra spanning κ up to 1e4, random x0: every per-step guarantee of
    A, B, C and E holds at every step up to 1e-12 relative rounding, and T(ε) ≤ T_bound(ε)."""
    p = random_block_problem(seed, max_blocks=4, max_size=5, log10_kappa=lk, rotation=rotation)
    X0 = p.xstar + np.random.default_rng(seed).standard_normal((2, p.dim))
    for method in DETERMINISTIC:
        rep = check(p, method, eps=eps, runs=2, x0=X0)
        assert rep.all_held, rep.table()
        assert np.all(rep.worst_violation <= 1e-12)
        assert np.all(np.isfinite(rep.T_measured)), rep.table()   # reached eps: nothing open
        assert np.all(rep.T_measured <= rep.T_bound), rep.table()
        assert np.all(rep.within_bound)
        assert not np.any(rep.diverged)


def test_wrong_step_is_reported_as_a_violation():
    p = random_block_problem(2, log10_kappa=2.0)
    rep = check(p, "gd", eps=1e-3, runs=2, optimizer=simopt.optim.sgd(2.5 / p.L))
    assert not rep.all_held
    assert np.all(rep.worst_violation > 1e-3)
    assert "VIOLATION" in rep.table()
    # a too-long sign step and a too-long Adam step are caught as well
    rep = check(p, "sign", eps=1e-3, runs=1, optimizer=simopt.optim.sign_oracle(scale=2.5))
    assert not rep.all_held
    eta = 2.5 * B.adam_optimal_lr(p)
    rep = check(p, "adam", eps=1e-3, runs=1,
                optimizer=simopt.optim.adam(eta, beta1=0.0, beta2=1.0, eps=0.0, v0="first_grad"))
    assert not rep.all_held
    # ... while the right rules pass on the same problem
    for method in DETERMINISTIC:
        assert check(p, method, eps=1e-3, runs=1).all_held


def test_momentum_run_against_the_gd_claim():
    """A stateful rule (heavy ball) is run whole, not in chunks; with a large momentum it breaks the
    monotone §2A contraction."""
    p = random_block_problem(4, log10_kappa=2.0)
    rep = check(p, "gd", eps=1e-3, runs=1, optimizer=simopt.optim.sgd(1.0 / p.L, momentum=0.9))
    assert not rep.all_held
    assert np.isfinite(rep.T_measured[0])


def test_report_fields_and_table():
    p = simopt.heterogeneous_blocks(3, 4, 1.0, condition_number=100.0, seed=1)
    rep = check(p, "gd_lg", eps=1e-3, runs=3,
                x0=p.xstar + np.random.default_rng(0).standard_normal((3, p.dim)))
    assert rep.T_measured.shape == rep.T_bound.shape == rep.ratio.shape == (3,)
    np.testing.assert_allclose(rep.ratio, rep.T_measured / rep.T_bound)
    assert np.all(rep.realized_contraction <= rep.contraction)
    assert np.all(rep.steps_checked == rep.T_measured)
    txt = rep.table()
    assert "theory_notes §2B" in txt and "every per-step guarantee held" in txt
    assert len(txt.splitlines()) >= 3 + 3


def test_gd_vs_sign_predicted_advantage_is_the_trajectory_mean():
    p = simopt.heterogeneous_blocks(3, 3, 0.8, condition_number=50.0, seed=2)
    rep = check(p, "gd_vs_sign", eps=1e-2, runs=2,
                x0=p.xstar + np.random.default_rng(1).standard_normal((2, p.dim)))
    assert rep.all_held
    np.testing.assert_allclose(rep.measured_advantage, rep.T_measured / rep.T_sign)
    # recompute the GD-path mean of psi*L_G/L_P independently from the engine's iterates
    res = simopt.run(p, simopt.optim.gd_oracle(rule="1/L_G"), int(rep.T_measured.max()), runs=2,
                     record=("x",), x0=p.xstar + np.random.default_rng(1).standard_normal((2, p.dim)))
    for r in range(2):
        T = int(rep.T_measured[r])
        Xr = res.records["x"][r, :T]
        G = p.grad(Xr)
        want = np.mean(M.gradient_density(G) * M.gradient_weighted_smoothness(p, Xr)
                       / M.parameter_weighted_smoothness(p))
        assert rep.predicted_advantage[r] == pytest.approx(want, rel=1e-9)
    assert "T_GD/T_sign" in rep.table()


def test_advantage_rank_correlation():
    from simopt.theory.check import advantage_rank_correlation
    assert advantage_rank_correlation([1, 2, 3, 4], [10, 20, 30, 45]) == pytest.approx(1.0)
    assert advantage_rank_correlation([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    assert math.isnan(advantage_rank_correlation([1, 2], [1, 2]))
    assert math.isnan(advantage_rank_correlation([1, 2, 3, np.inf], [1, 2, np.inf, 4]))
    with pytest.raises(ValueError):
        advantage_rank_correlation([1, 2, 3], [1, 2])


# ------------------------------------------------------------------------------------ §3H
def test_sgd_noise_bound_holds_in_expectation_and_fails_for_a_wrong_claim():
    p = simopt.heterogeneous_blocks(2, 3, 0.5, condition_number=20.0, seed=4,
                                    noise=simopt.noise.gaussian(0.05))
    rep = check(p, "sgd", eps=0.05, runs=400, seed=1)
    assert rep.all_held, rep.table()
    assert math.isfinite(rep.T_bound[0])
    # the contraction claimed for eta = 1/L fails for SGD run with a 50x smaller step
    bad = check(p, "sgd", eps=0.05, runs=400, seed=1, steps=200,
                optimizer=simopt.optim.sgd(0.02 / p.L))
    assert not bad.all_held, bad.table()
    with pytest.raises(ValueError, match="noise"):
        check(p.with_noise(None), "sgd", eps=0.1, runs=4)
    with pytest.raises(ValueError, match="1/L"):
        check(p, "sgd", eps=0.1, runs=4, lr=1.5 / p.L)


def test_sgd_noise_curve_is_above_the_exact_expectation():
    from simopt.theory.expectations import sgd_expected_loss
    p = simopt.heterogeneous_blocks(2, 3, 0.5, condition_number=20.0, seed=4,
                                    noise=simopt.noise.hessian_aligned(0.2))
    eta = 0.7 / p.L
    t, exact = sgd_expected_loss(p, eta, 300)
    env = B.sgd_noise_curve(p, eta, 300)
    assert np.all(exact <= env * (1 + 1e-12))


def test_check_argument_errors():
    p = random_block_problem(1)
    with pytest.raises(ValueError, match="method"):
        check(p, "newton")
    with pytest.raises(ValueError, match="eps"):
        check(p, "gd", eps=0.0)
    with pytest.raises(ValueError, match="x0"):
        check(p, "gd", runs=2, x0=np.zeros((3, p.dim)))
    with pytest.raises(ValueError, match="lr"):
        check(p, "gd_lg", lr=0.1)
