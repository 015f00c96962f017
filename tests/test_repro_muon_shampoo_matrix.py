"""muon_shampoo_matrix: the quick reproduction's claims are stated with intervals, variants and controls,
each paper claim comes out as declared, and the exact-polar NDS identity holds in the measured runs."""

import numpy as np
import pytest

import simopt
from simopt import optim
from simopt.paper_repro import muon_shampoo_matrix as mod
from _repro_checks import assert_as_declared, check_report, run_quick


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    return run_quick(mod, tmp_path_factory)


@pytest.mark.slow
def test_quick_report_structure(quick):
    doc = quick[1]
    ids = check_report(mod, *quick, kinds=("paper",))
    for c in doc["claims"]:
        assert len(c["variants"]) >= 3, f"{c['id']} has too few protocol variants"
        assert c["protocol"]["protocol"]["tune_runs"] >= 1 and c["protocol"]["steps"] >= 1
    for cid in ("ns5_fewer_steps", "one_sided_beats_full_adagrad"):
        assert "first-hit T" in ids[cid]["variants"] and "finer grid (1/16 decade)" in ids[cid]["variants"]
    for cid in ("muon_nds_below_gd", "muon_lower_loss_strong"):
        ctrl = ids[cid]["control"]
        assert ctrl is not None and ctrl["as_expected"], f"{cid}: control {ctrl}"


@pytest.mark.slow
@pytest.mark.parametrize("claim_id", list(mod.EXPECTED))
def test_quick_claim_as_declared(quick, claim_id):
    assert_as_declared(quick[1], claim_id)


@pytest.mark.slow
def test_quick_nds_matches_the_exact_polar_identity(quick):
    """With B = I and a full-rank gradient the exact polar factor P has P P^T = I, so its NDS is
    mean(a) / L at every step: the measured ratio's Muon side must sit there (NS5 near it)."""
    _, doc, _ = quick
    for h, row in doc["numbers"]["nds_by_h"].items():
        assert row["mean_curvature_over_L"] == pytest.approx((float(h) + 1) / (2 * float(h)))
        assert row["muon"] == pytest.approx(row["mean_curvature_over_L"], rel=0.25)


def test_exact_polar_nds_is_the_mean_curvature():
    """The identity the NDS claim rests on, on one noisy run: every update of exact-polar Muon on
    A = diag(groups(h)), B = I has u^T H u / ||u||^2 = mean(a)."""
    h = 16.0
    prob = mod.wang_problem(h, noisy=True)
    res = simopt.run(prob, mod.muon(polar="exact", lr=0.05), steps=20, runs=3, record=("sharpness",))
    s = res.records["sharpness"][:, :-1]
    assert np.allclose(s, mod.groups(h).mean(), rtol=1e-9)
    gd = simopt.run(prob, optim.sgd(0.05), steps=20, runs=3, record=("sharpness",))
    assert np.all(gd.records["sharpness"][:, 0] > s[:, 0])
