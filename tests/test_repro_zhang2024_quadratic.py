"""zhang2024_quadratic: the quick reproduction states every claim on the claims machinery (declared
protocol, disjoint tuning and evaluation units, intervals, variants, controls), each paper claim comes
out as its report declares, and the pieces do what the docstring says."""
import math

import numpy as np
import pytest

import simopt
from simopt.paper_repro import zhang2024_quadratic as zq
from _repro_checks import run_quick

PAPER_IDS = [f"{c}: {b} {'much worse than' if c in zq.HETERO else 'similar to'} Adam"
             for b in (zq.GD, zq.HB) for c in ("Case 1", "Case 2", "Case 3", "Case 4")]
IDENTITY_IDS = [
    "JS Case 1 > Case 2", "JS Case 3 > Case 4",
    "Case 1: Adam(β1=0,β2=1) rate = κ̃ prediction", "Case 3: Adam(β1=0,β2=1) rate = κ̃ prediction",
    "Adam(β1=0,β2=1) obeys the §2E bound",
]
VARIANTS = {"first-hit T", "finer grid (1/16 decade)", "eps=0.001", "Adam(β1=0, β2=1, v0=g0²)"}


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    return run_quick(zq, tmp_path_factory)


@pytest.mark.slow
def test_quick_report_states_every_claim_with_protocol_interval_variants(quick):
    code, doc, out = quick
    assert doc["mode"] == "quick"
    assert [c["id"] for c in doc["claims"]] == PAPER_IDS + IDENTITY_IDS
    assert [c["kind"] for c in doc["claims"]] == ["paper"] * 8 + ["identity"] * 5
    assert code == (0 if doc["paper_as_declared"] else 1)
    assert (out / f"{zq.NAME}.png").stat().st_size > 0 and (out / f"{zq.NAME}.pdf").stat().st_size > 0
    for c in doc["claims"][:8]:
        p = c["protocol"]
        assert (p["criterion"], p["eps"], p["metric"], p["starts"]) == ("persistent", zq.EPS, "grad_norm", "gaussian")
        assert c["verdict"] in ("PASS", "FAIL", "INCONCLUSIVE") and len(c["interval"]) == 2
        want = VARIANTS | ({"momentum tuned"} if zq.HB in c["id"] else set())
        assert set(c["variants"]) == want
        hetero = c["id"].split(":")[0] in zq.HETERO
        assert (c["control"] is not None) == hetero
        if hetero:    # the control is the homogeneous counterpart, read first-hit
            assert zq.HOMOGENEOUS_OF[c["id"].split(":")[0]] in c["control"]["name"]
        # tuning and evaluation starts never overlap
        u = c["provenance"]["units"]
        tune = {r for a, b in u["tuning"]["run_ranges"] for r in range(a, b)}
        ev = {r for a, b in u["evaluation"]["run_ranges"] for r in range(a, b)}
        assert tune and ev and not tune & ev
        assert len(ev) == zq.SIZES[True]["eval_runs"]


@pytest.mark.slow
@pytest.mark.parametrize("claim_id", PAPER_IDS)
def test_quick_paper_claim_is_as_declared(quick, claim_id):
    """Each paper claim's overall status is the declared one (module EXPECTED / EXPECTED_QUICK)."""
    _, doc, _ = quick
    c = {c["id"]: c for c in doc["claims"]}[claim_id]
    assert c["expected_status"] == zq.EXPECTED_QUICK.get(claim_id, zq.EXPECTED[claim_id])
    assert c["as_declared"], f"{claim_id}: {c['overall']} (declared {c['expected_status']}); {c['criterion']}"


@pytest.mark.slow
def test_quick_identity_checks_hold_and_numbers_are_consistent(quick):
    _, doc, _ = quick
    for c in doc["claims"][8:]:
        assert c["verdict"] == "PASS" and c["as_declared"], c["id"]
    for name, case in doc["numbers"]["cases"].items():
        assert case["kappa"] == pytest.approx(zq.KAPPA, rel=1e-9)          # κ = 5000 for every case
        assert set(case["methods"]) == {zq.GD, zq.HB, zq.ADAM, zq.ADAM_T}
        for label, per in case["methods"].items():
            for pname, m in per.items():
                fin = m["final_rel_grad_norm_median"]
                assert fin == "inf" or float(fin) >= 0.0, (name, label, pname)
        adam, gd = case["methods"][zq.ADAM], case["methods"][zq.GD]
        ratio = case["final_grad_norm_ratio_adam_over_gd"]["first-hit"]
        assert ratio == pytest.approx(float(adam["first-hit"]["final_rel_grad_norm_median"])
                                      / float(gd["first-hit"]["final_rel_grad_norm_median"]))
        # the report's numbers are the claims' own measurements
        claim = {c["id"]: c for c in doc["claims"]}[
            f"{name}: {zq.GD} {'much worse than' if name in zq.HETERO else 'similar to'} Adam"]
        T = claim["details"]["methods"][zq.GD]["evaluation"]["T_persistent_median"]
        assert gd["persistent (primary)"]["T_persistent_median"] == T


def test_shaped_spectra_are_separated_and_span_kappa():
    blocks = zq.shaped_block_spectra(12, seed=5)
    assert len(blocks) == zq.N_BLOCKS and all(b.size == 12 for b in blocks)
    for b in blocks:
        assert np.all(np.diff(b) >= 0)
        assert b[-1] / b[0] == pytest.approx(zq.BLOCK_RANGE, rel=1e-12)   # κ_l = 4
    for lo, hi in zip(blocks[:-1], blocks[1:]):
        assert lo[-1] < hi[0]                                                # separated ranges
    allv = np.concatenate(blocks)
    assert allv.min() == pytest.approx(1.0) and allv.max() == pytest.approx(zq.KAPPA)


def test_homogeneous_cases_keep_the_eigenvalues():
    cases = zq.make_cases(6, seed=1)
    for het, hom in (("Case 1", "Case 2"), ("Case 3", "Case 4")):
        a, b = cases[het][0], cases[hom][0]
        np.testing.assert_allclose(np.sort(np.concatenate(a.block_eigvals)),
                                   np.sort(np.concatenate(b.block_eigvals)), rtol=1e-12)
        assert a.kind == b.kind == "block"
        assert b.block_condition_numbers.max() > 10 * a.block_condition_numbers.max()
        assert simopt.theory.block_spectrum_js(a) > simopt.theory.block_spectrum_js(b)
    assert [c[2] for c in cases.values()] == [True, False, True, False]


def test_js_draws_separate_heterogeneous_from_homogeneous_on_every_draw():
    js = zq.js_draws(6, seed=3, n=3)
    assert all(v.shape == (3,) for v in js.values())
    assert np.all(js["Case 1"] > js["Case 2"]) and np.all(js["Case 3"] > js["Case 4"])


def test_claims_tune_on_disjoint_starts_and_control_removes_the_heterogeneity():
    cases = zq.make_cases(4, seed=0)
    claims = zq.make_claims(cases, zq.SIZES[True], seed=0)
    assert [c.id for c in claims] == PAPER_IDS
    c1 = claims[0]
    fixed = True
    t, e = c1.protocol.tuning_units(fixed), c1.protocol.evaluation_units(fixed)
    assert not set(t.run_indices()) & set(e.run_indices())
    ctrl = c1.control(c1)
    assert ctrl.family is cases["Case 2"][0] and ctrl.reading == "first_hit"
    assert ctrl.protocol.criterion == "first_hit" and ctrl.control is c1.control
    assert c1.control.expected == ("FAIL",)


def test_tail_exponent_recovers_an_exact_geometric_rate():
    # GD at eta = 2/(1+3) on eigenvalues {1, 3}: every component is multiplied by -1/2 or 1/2 per
    # step, so f(x_t) = f(x_0) / 4^t exactly and the exponent is ln 4
    p = simopt.quadratic([1.0, 3.0], seed=0)
    res = simopt.run(p, simopt.optim.sgd(0.5), 60)
    meas, t0, t1 = zq.tail_exponent(res)
    assert meas == pytest.approx(math.log(4.0), rel=1e-6)
    assert 0 < t0 < t1 <= 60


def test_bound_excess_is_zero_for_an_exact_contraction_and_positive_for_a_false_rate():
    p = simopt.quadratic([1.0, 3.0], seed=0)
    res = simopt.run(p, simopt.optim.sgd(0.5), 40)        # f_t = f_0 / 4^t: rho = 1/2 exactly
    assert zq.bound_excess(res, 0.5) <= 1e-9
    assert zq.bound_excess(res, 0.4) > 0.1                   # a faster claimed rate is violated


def test_rate_check_matches_the_preconditioned_prediction():
    p = simopt.heterogeneous_blocks(2, 3, 1.0, condition_number=50.0, seed=2)
    X0 = p.xstar + np.random.default_rng(0).standard_normal((2, p.dim))
    out = zq.rate_check(p, X0, max_steps=20000, record_every=1)
    for r in out:
        assert r["bound_excess"] <= zq.BOUND_SLACK and not r["diverged"]
        assert abs(r["rel_err"]) < 0.05
        assert r["predicted"] == pytest.approx(-2 * math.log((r["kappa_tilde"] - 1) / (r["kappa_tilde"] + 1)),
                                               rel=1e-9)
