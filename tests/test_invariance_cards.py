"""The invariance card: every built-in rule declares one, its measurement on runs of the rule equals the
declaration, the known mathematics comes out (SGD rotation-equivariant to rounding, Adam not by a clear
margin, blockwise Adam under block rotations only, SOAP-1D under rotations, sign-based rules under signed
permutations, Muon, Shampoo and SOAP's 2-d form under W -> U W V^T and nothing entrywise), the tolerance
sits orders of magnitude from both rounding and failure, and the README's table is the declarations'. The
transformations build the problem they define."""
import functools
import pathlib
import re
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import simopt
from simopt import noise, optim
from simopt.testing import (TOLERANCE, TRANSFORMATIONS, card_table, declared_cards, draw_change,
                            invariance_card, transformed)
from simopt.testing import strategies as sst

ROOT = pathlib.Path(__file__).resolve().parents[1]
CARDS = {c.label: c for c in declared_cards()}
sys.path.insert(0, str(ROOT / "examples"))
import user_rules  # noqa: E402


@functools.cache
def measured(label):
    return CARDS[label].measure()


def test_every_builtin_rule_and_wrapper_declares_a_card():
    assert {c.rule for c in CARDS.values()} == set(optim.REGISTRY)
    for c in CARDS.values():                   # each label names the constructor its optimizer comes from
        opt = c.make()
        outer = opt.wrappers[0][0].name if opt.wrappers else opt.rule.name
        assert outer == {"adamw": "adam"}.get(c.rule, c.rule), c.label


@pytest.mark.parametrize("label", sorted(CARDS))
def test_measured_card_equals_the_declared_one(label):
    card, declared = measured(label), CARDS[label]
    assert card.holds == declared.holds, f"declared to hold: {declared.holds}\n{card.table()}"


def test_the_tolerance_separates_rounding_from_failure_by_orders_of_magnitude():
    holds = [e.deviation for lab in CARDS for e in measured(lab).entries.values() if e.holds]
    fails = [e.deviation for lab in CARDS for e in measured(lab).entries.values() if not e.holds]
    assert max(holds) <= TOLERANCE / 10 and min(fails) >= 100 * TOLERANCE
    assert np.median(holds) < 1e-14            # most invariances hold to rounding, bit for bit or nearly


def test_known_mathematics():
    dev = {lab: {n: e.deviation for n, e in measured(lab).entries.items()} for lab in CARDS}
    assert dev["sgd"]["rotation"] <= 1e-12 and dev["sgd"]["block_rotation"] <= 1e-12
    assert dev["adam"]["rotation"] >= 1e-1                  # a clear margin, not rounding
    assert dev["adam"]["permutation"] <= 1e-12 and dev["adam"]["sign_flip"] <= 1e-12
    assert dev["blockwise_adam"]["block_rotation"] <= 1e-12 and dev["blockwise_adam"]["rotation"] >= 1e-1
    assert dev["soap"]["rotation"] <= 1e-8                  # up to eigenvector signs, at d = 2
    for sign_based in ("sign", "signum", "lion", "majority_vote"):
        assert dev[sign_based]["permutation"] == 0.0 and dev[sign_based]["sign_flip"] == 0.0
        assert dev[sign_based]["gradient_scaling"] == 0.0 and dev[sign_based]["rotation"] >= 1e-1
    # under the reparametrisation x -> Dx only Newton-type preconditioning maps trajectories
    assert {lab for lab, c in CARDS.items() if "diagonal_rescaling" in c.holds} == {"diag_precond"}
    assert dev["diag_precond"]["diagonal_rescaling"] <= 1e-12
    # the decoupled decay acts on the absolute iterate: AdamW is Adam but for translations
    assert set(CARDS["adam"].holds) - set(CARDS["adamw"].holds) == {"translation"}
    # matrix-aware rules: equivariant under W -> U W V^T, not under a global rotation of vec(W)
    for lab in ("muon", "shampoo", "one_sided_shampoo", "soap(2-d)"):
        assert CARDS[lab].shape is not None
        assert dev[lab]["matrix_rotation"] <= 1e-8 and dev[lab]["rotation"] >= 1e-1
        assert dev[lab]["permutation"] >= 1e-2 and dev[lab]["sign_flip"] >= 1e-2
    # a vector rule sees U kron V as one more orthogonal map of vec(W)
    for lab, c in CARDS.items():
        if c.shape is None:
            assert ("matrix_rotation" in c.holds) == ("rotation" in c.holds), lab


def test_soap_at_d6_depends_on_rounding_through_the_tied_null_space():
    """The reason SOAP's card is measured at d = 2: at d = 6 a translation -- the same run up to the
    rounding of x - x* -- already moves the trajectory far beyond the tolerance."""
    card = invariance_card(optim.soap(0.05), transformations=("translation", "sign_flip"))
    assert card["translation"].deviation > 1e-3


def test_a_numpy_only_user_rule_has_its_compiled_twins_card():
    a = invariance_card(user_rules.lion_numpy(0.05))
    b = invariance_card(user_rules.lion(0.05))
    assert a.holds == b.holds == measured("lion").holds
    for n in TRANSFORMATIONS:
        assert a[n].deviation == pytest.approx(b[n].deviation, rel=1e-6, abs=1e-12)


def test_a_torch_optimizer_through_the_adapter_has_simopts_card():
    torch = pytest.importorskip("torch")
    assert invariance_card(optim.from_torch(torch.optim.Adam)(0.05)).holds == CARDS["adam"].holds


def test_readme_table_is_the_declared_cards():
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"<!-- invariance-cards -->\n(.*?)\n\s*<!-- /invariance-cards -->", readme, re.S)
    assert block, "README: no <!-- invariance-cards --> table"
    lines = [line.strip() for line in block.group(1).splitlines() if line.strip().startswith("|")]
    assert "\n".join(lines) == card_table(), "README's card table is stale: paste simopt.testing.card_table()"


def test_a_card_reports_a_diverging_rule_as_an_error_naming_lr():
    with pytest.raises(ValueError, match="lr"):
        invariance_card(optim.sgd(2.0))
    with pytest.raises(ValueError, match="transformations"):
        invariance_card(optim.sgd(0.05), transformations=("shear",))


# ----------------------------------------------------------------------------------- transformations
@given(sst.problems(max_dim=6), st.sampled_from([n for n in TRANSFORMATIONS if n != "gradient_scaling"]),
       st.integers(0, 2 ** 31))
def test_a_change_of_coordinates_is_the_same_problem_in_new_coordinates(p, name, seed):
    """f'(Tx + c) = f(x), grad f'(Tx + c) = T^-T grad f(x), x*' = T x* + c, Cov' = T^-T Cov T^-1, and
    an orthogonal T keeps the spectrum."""
    if p.dim < 2 and name == "permutation":
        return
    ch = draw_change(name, p, seed)
    q = ch.problem(p)
    T, c, M = ch.matrix, ch.shift, ch.gradient_map
    X = np.random.default_rng(seed).standard_normal((3, p.dim)) + p.xstar
    Y = X @ T.T + c
    scale = p.L * max(1.0, np.abs(X - p.xstar).max()) ** 2
    np.testing.assert_allclose(q.loss(Y), p.loss(X), rtol=1e-9, atol=1e-12 * scale)
    np.testing.assert_allclose(q.grad(Y), p.grad(X) @ M.T, rtol=1e-9, atol=1e-11 * scale)
    np.testing.assert_allclose(q.xstar, T @ p.xstar + c, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(q.x0, T @ p.x0 + c, rtol=1e-12, atol=1e-12)
    if p.noise is not None and p.noise.base_variance() < np.inf:
        C = p.noise.covariance(p)
        np.testing.assert_allclose(q.noise.covariance(q), M @ C @ M.T, rtol=1e-9, atol=1e-12 * np.abs(C).max())
    if ch.orthogonal:
        np.testing.assert_allclose(q.eigvals, p.eigvals, rtol=1e-12)
    assert q.block_sizes == p.block_sizes


def test_transformed_problems_keep_the_fast_kinds_where_they_can():
    p = simopt.quadratic(np.arange(1.0, 7.0), seed=0, blocks=[2, 4])
    for name, kind in (("permutation", "diagonal"), ("sign_flip", "diagonal"), ("block_rotation", "block"),
                       ("rotation", "dense"), ("diagonal_rescaling", "diagonal"), ("translation", "diagonal")):
        q = draw_change(name, p, 0).problem(p)
        assert q.kind == kind, name
    perm = draw_change("permutation", p, 0)
    np.testing.assert_array_equal(perm.problem(p).diag, perm.matrix @ p.diag)      # exactly permuted


def test_a_gradient_scaling_scales_every_gradient_at_the_same_point():
    p = simopt.quadratic(np.arange(1.0, 6.0), noise=noise.gaussian(0.3), seed=1)
    ch = draw_change("gradient_scaling", p, 3)
    q = ch.problem(p)
    S = ch.gradient_map
    X = np.random.default_rng(0).standard_normal((4, 5))
    np.testing.assert_allclose(q.grad(X), p.grad(X) @ S.T, rtol=1e-14)
    np.testing.assert_array_equal(q.xstar, p.xstar)
    np.testing.assert_allclose(q.noise.covariance(q), S @ p.noise.covariance(p) @ S, rtol=1e-14)
    with pytest.raises(ValueError, match="problem"):
        draw_change("gradient_scaling", simopt.quadratic(np.arange(1.0, 4.0), rotation="haar"), 0)


def test_same_seed_same_noise_draws_pushed_forward():
    """A run on the transformed problem sees T^-T times the stochastic gradients of the base run: SGD's
    iterates map exactly for an orthogonal T even with noise (the card's coupling)."""
    p = simopt.quadratic(np.linspace(1.0, 3.0, 5), noise=noise.student_t(0.2, df=4.0), seed=4)
    ch = draw_change("rotation", p, 5)
    q = ch.problem(p)
    a = simopt.run(p, optim.sgd(0.1), 30, runs=3, seed=9, record=("x",)).records["x"] - p.xstar
    b = simopt.run(q, optim.sgd(0.1), 30, runs=3, seed=9, record=("x",)).records["x"] - q.xstar
    np.testing.assert_allclose(b, a @ ch.matrix.T, rtol=1e-10, atol=1e-12)


def test_a_matrix_problem_stays_one_under_w_to_u_w_vt_and_keeps_its_shape_under_every_map():
    p = simopt.matrix_quadratic([1.0, 2.0], [0.5, 1.5, 3.0], rotation_A="haar", seed=3, blocks="rows",
                                noise=noise.hessian_aligned(0.2))
    ch = draw_change("matrix_rotation", p, 1)
    U, V = ch.factors
    q = ch.problem(p)
    assert q.kind == "kron" and q.matrix_shape == (2, 3)
    A, B = p.kron_factors
    np.testing.assert_allclose(q.kron_factors[0], U @ A @ U.T, atol=1e-14)
    np.testing.assert_allclose(q.kron_factors[1], V @ B @ V.T, atol=1e-14)
    W = np.random.default_rng(0).standard_normal((4, 2, 3)) + p.xstar.reshape(2, 3)
    W2 = U @ W @ V.T
    np.testing.assert_allclose(q.loss(W2.reshape(4, 6)), p.loss(W.reshape(4, 6)), rtol=1e-12)
    np.testing.assert_allclose(q.grad(W2), U @ p.grad(W) @ V.T, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(q.noise.covariance(q), ch.matrix @ p.noise.covariance(p) @ ch.matrix.T,
                               atol=1e-13)
    for name in TRANSFORMATIONS:
        if name != "gradient_scaling":
            assert draw_change(name, p, 2).problem(p).matrix_shape == (2, 3), name
    with pytest.raises(ValueError, match="problem"):       # A is rotated: H is not diagonal
        draw_change("gradient_scaling", p, 0)
    flat = simopt.quadratic(np.arange(1.0, 5.0), seed=0)       # a vector problem: 1 x d, U = +-1
    ch = draw_change("matrix_rotation", flat, 4)
    assert ch.factors[0].shape == (1, 1) and abs(ch.factors[0][0, 0]) == 1.0


def test_transformed_takes_any_invertible_matrix():
    p = simopt.block_diagonal([[1.0, 2.0], [3.0, 5.0, 8.0]], seed=2, noise=noise.hessian_aligned(0.1))
    T = np.eye(5) + 0.3 * np.random.default_rng(1).standard_normal((5, 5))
    c = np.arange(5.0)
    q = transformed(p, T, c)
    x = np.random.default_rng(2).standard_normal(5)
    assert q.loss(T @ x + c) == pytest.approx(p.loss(x), rel=1e-10)
    assert q.describe()["args"]["transformation"] == "change"
    with pytest.raises(ValueError, match="matrix"):
        transformed(p, np.zeros((5, 5)))
    with pytest.raises(ValueError, match="matrix"):
        transformed(p, np.eye(4))
    with pytest.raises(TypeError, match="problem"):
        transformed("p", T)
    with pytest.raises(ValueError, match="name"):
        draw_change("shear", p, 0)
