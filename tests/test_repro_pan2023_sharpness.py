"""pan2023_sharpness (version 3): the quick reproduction states every claim on the claims machinery
(persistent-T tuning, final-loss and first-hit tuning as variants, the rotated-H control), each paper
claim comes out as its report declares, and the construction is what its docstring says (Pan & Li
2023; seed_math.md §3)."""
import math

import numpy as np
import pytest

import simopt
from simopt import claims, optim
from simopt.claims.protocol import Runner
from simopt.paper_repro import _common
from simopt.paper_repro import pan2023_sharpness as pan
from _repro_checks import run_quick

IDS = ["clipping lowers SGD's update sharpness", "clipping lowers Adam's update sharpness",
       "clipped SGD converges faster than SGD", "clipped Adam converges faster than Adam"]
VARIANTS = {"tuned by final loss", "first-hit T", "finer grid (1/16 decade)", "noise-free"}


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    return run_quick(pan, tmp_path_factory)


@pytest.mark.slow
def test_quick_report_states_every_claim_with_protocol_variants_and_rotated_control(quick):
    code, doc, out = quick
    assert doc["mode"] == "quick" and doc["settings"]["version"] == 3
    assert [c["id"] for c in doc["claims"]] == IDS and all(c["kind"] == "paper" for c in doc["claims"])
    assert code == (0 if doc["paper_as_declared"] else 1)
    assert (out / f"{pan.NAME}.png").stat().st_size > 0 and (out / f"{pan.NAME}.pdf").stat().st_size > 0
    for c in doc["claims"]:
        p = c["protocol"]
        assert (p["criterion"], p["eps"], p["metric"]) == ("persistent", pan.EPS, "loss")
        want = VARIANTS | ({"final-loss reading"} if "converges" in c["id"] else set())
        assert set(c["variants"]) == want
        assert c["variants"]["tuned by final loss"]["protocol"]["criterion"] == "final"
        assert c["control"]["name"] == pan.ROTATED
        u = c["provenance"]["units"]
        tune = {r for a, b in u["tuning"]["run_ranges"] for r in range(a, b)}
        ev = {r for a, b in u["evaluation"]["run_ranges"] for r in range(a, b)}
        assert tune and ev and not tune & ev


@pytest.mark.slow
@pytest.mark.parametrize("claim_id", IDS)
def test_quick_paper_claim_is_as_declared(quick, claim_id):
    _, doc, _ = quick
    c = {c["id"]: c for c in doc["claims"]}[claim_id]
    assert c["expected_status"] == pan.EXPECTED_QUICK.get(claim_id, pan.EXPECTED[claim_id])
    assert c["as_declared"], f"{claim_id}: {c['overall']} (declared {c['expected_status']}), control {c['control']}"


@pytest.mark.slow
def test_quick_report_numbers_are_the_claims_measurements(quick):
    _, doc, _ = quick
    num = doc["numbers"]
    by_id = {c["id"]: c for c in doc["claims"]}
    for base, clip in pan.PAIRS:
        r = by_id[f"clipping lowers {base}'s update sharpness"]
        assert num[f"sharpness_ratio_{base}"]["primary"] == pytest.approx(10 ** r["value"])
        assert num[f"sharpness_ratio_{base}"][pan.ROTATED] == pytest.approx(10 ** r["control"]["value"])
        s = by_id[f"{clip} converges faster than {base}"]
        for label in (base, clip):
            m = num["methods"][label]["persistent (primary)"]
            assert m["lr"] == s["details"]["methods"][label]["tuning"]["lr"] > 0
    # every sharpness of a quadratic lies in [lambda_min, lambda_max]: log10 of a ratio of two of them
    # is bounded by log10(kappa)
    for base, _ in pan.PAIRS:
        r = by_id[f"clipping lowers {base}'s update sharpness"]
        assert abs(r["value"]) <= math.log10(num["kappa"]) + 1e-9


def test_problem_concentrates_curvature_in_few_coordinates_and_the_control_rotates_it():
    p = pan.make_problem(100, seed=3)
    lam = p.diag
    assert p.kind == "diagonal" and p.noise is not None
    k = int(round(pan.FRAC_SHARP * lam.size))
    top = np.sort(lam)[-k:]
    rest = np.sort(lam)[:-k]
    assert top.min() / rest.max() >= 100.0          # "100-1000x larger"
    assert top.max() / rest.min() <= 1000.0
    assert top.sum() / lam.sum() > 0.9              # they carry most of the curvature
    assert pan.make_problem(100, seed=3, noisy=False).noise is None
    np.testing.assert_array_equal(pan.make_problem(100, seed=3).diag, lam)   # seeded
    rot = pan.make_problem(100, seed=3, rotation="haar")
    H = rot.hessian()
    np.testing.assert_allclose(np.linalg.eigvalsh(H), np.sort(lam), rtol=1e-9)   # the same spectrum ...
    # ... but the sharp directions are no longer coordinates: no diagonal entry carries a sharp eigenvalue
    assert np.diag(H).max() < top.min() / 2


def test_sharpness_measure_ignores_the_final_record_and_lies_in_the_spectrum():
    p = pan.make_problem(20, seed=0, noisy=False)
    res = simopt.run(p, optim.sgd(1e-3), 5, runs=2, record=("sharpness",))
    s = res.records["sharpness"]
    assert np.isnan(s[:, -1]).all()
    np.testing.assert_allclose(pan.sharpness(res), np.median(s[:, :-1], axis=1))
    assert np.all((pan.sharpness(res) >= p.diag.min()) & (pan.sharpness(res) <= p.diag.max()))


def test_evaluated_returns_the_runs_the_claim_measured():
    """``_common.evaluated`` hands back the evaluation runs of a checked claim (no new runs): its
    statistic recomputed from them is the claim's value."""
    p = pan.make_problem(12, seed=1)
    prot = claims.TuningProtocol(criterion="persistent", eps=1e-3, lr_range=(1e-3, 1e-1), tune_runs=2,
                                 eval_runs=4, starts="gaussian")
    c = claims.Claim("t", "toy", family=p, methods={"SGD": optim.sgd(1.0), "clipped SGD": pan.make_methods()["clipped SGD"]},
                     statistic=claims.log_ratio_of_medians("clipped SGD", "SGD"), at_most=0.0, steps=200,
                     measure=pan.sharpness, record=("sharpness",), protocol=prot,
                     variants=[claims.variants.first_hit()])
    runner = Runner()
    r = c.check(runner=runner)
    calls = runner.calls
    vals = {}
    for label in c.methods:
        (res,) = _common.evaluated(runner, c, r, label)
        assert res.runs == 4 and "sharpness" in res.records
        vals[label] = np.median(pan.sharpness(res))
    assert runner.calls == calls                               # served from the claim's own runs
    assert math.log10(vals["clipped SGD"] / vals["SGD"]) == pytest.approx(r.value, rel=1e-12)
    (fh,) = _common.evaluated(runner, c, r, "SGD", "first-hit T")
    assert runner.calls == calls
    assert fh.meta["optimizer"]["lr"] == pytest.approx(r.variants["first-hit T"]["methods"]["SGD"]["tuning"]["lr"])
