"""The phase diagram's rule-family x rotation-type table in quick mode: each rule tuned per column on
units disjoint from the evaluation units, the invariance predictions decided with paired bootstrap
intervals, variants and the equivariant control."""
import json
import os

import numpy as np
import pytest

from simopt import claims
from simopt.paper_repro import phase_diagram_families as mod
from _repro_checks import run_quick

CLAIM_IDS = [s[0] for s in mod.claim_specs()]
VARIANTS = ["first-hit T", "finer grid (1/16 decade)"]


def test_protocol_keeps_tuning_and_evaluation_units_apart_and_grids_fine():
    for quick in (True, False):
        cfg = mod._sizes(quick)
        p = mod.protocol(cfg, seed=5)
        tune, ev = p.tuning_units(), p.evaluation_units()
        assert not set(tune.draw_seeds) & set(ev.draw_seeds)
        assert p.resolution <= 1 / 8 and p.criterion == "persistent_ert"
        assert p.lr_ranges["gd"][1] < 2 / mod.KAPPA
        assert p.lr_ranges["sgd+m"][1] < 2 * (1 + 0.9) / mod.KAPPA
        cells = mod.cell_claims(cfg, seed=5)
        assert list(cells) == list(mod.COLUMNS)
        assert len({frozenset(c.protocol.evaluation_units().pairs()) for c in cells.values()}) == 1
        arms = {f"{m}@{c}" for c in cells for m in mod.RULES}
        for _, _, _, rule, a, b, _, _ in mod.claim_specs():
            assert set(mod.difference(rule, a, b).arms) <= arms


def test_columns_are_rotations_of_one_base_draw():
    """Every column of a seed has the base's spectrum, x* and start rotated together (the loss at
    the start and the distance to x* are the same), so the columns are paired by unit."""
    cfg = mod._sizes(True)
    probs = {c: mod.family(cfg, c)(11) for c in mod.COLUMNS}
    ref = probs["eigenbasis"]
    for c, p in probs.items():
        assert np.allclose(np.sort(np.linalg.eigvalsh(p.hessian())), np.sort(ref.eigvals))
        assert np.isclose(p.loss(p.x0), ref.loss(ref.x0), rtol=1e-10)
        assert np.isclose(np.linalg.norm(p.x0 - p.xstar), np.linalg.norm(ref.x0 - ref.xstar))
    H = probs["within-block"].hessian()
    s = cfg["block_size"]
    off = H.copy()
    for b in range(cfg["n_blocks"]):
        off[b * s:(b + 1) * s, b * s:(b + 1) * s] = 0
    assert np.abs(off).max() < 1e-12 < np.abs(probs["global"].hessian() - np.diag(
        np.diag(probs["global"].hessian()))).max()


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    return run_quick(mod, tmp_path_factory)


@pytest.mark.slow
def test_quick_report_is_complete(quick):
    code, doc, out = quick
    assert doc["mode"] == "quick"
    assert [c["id"] for c in doc["claims"]] == CLAIM_IDS
    for ext in ("png", "pdf"):
        assert (out / f"{mod.NAME}.{ext}").stat().st_size > 0
    kinds = {s[0]: s[1] for s in mod.claim_specs()}
    controlled = {s[0] for s in mod.claim_specs() if s[7]}
    for c in doc["claims"]:
        assert c["kind"] == kinds[c["id"]]
        assert c["verdict"] in claims.VERDICTS and c["overall"] in claims.STATUSES
        assert list(c["variants"]) == VARIANTS
        if c["id"] in controlled:
            assert c["control"]["expected"] == ["FAIL", "INCONCLUSIVE"]
        else:
            assert c["control"] is None
    n = doc["numbers"]
    M = np.array(n["log10_ratio_to_gd"], dtype=float)
    assert M.shape == (len(mod.RULES) - 1, len(mod.COLUMNS))
    lo, hi = (np.array(n[k], dtype=float) for k in ("log10_ratio_ci_low", "log10_ratio_ci_high"))
    assert np.all(lo <= M + 1e-12) and np.all(M <= hi + 1e-12)
    # the rotation-equivariant rules see the same problem in every column, rotated: the same T
    for rule in ("sgd+m", "nsgd_momentum"):
        row = M[n["rules"].index(rule)]
        assert np.ptp(row) < 1e-12
    for col, methods in n["measurement"]["tuning"]["primary"].items():
        for m, t in methods.items():
            assert t["status"] == "ok" and t["step_decades"] <= 1 / 8 + 1e-9, (col, m, t)


@pytest.mark.slow
def test_quick_claims_come_out_as_declared(quick):
    code, doc, _ = quick
    off = [(c["id"], c["overall"], c["expected_status"]) for c in doc["claims"]
           if not c["as_declared"]]
    assert code == 0 and not off, f"not as declared: {off}"
    for c in doc["claims"]:
        assert c["expected_status"] == mod.expected(c["id"], "quick")


def test_the_committed_full_size_report_is_as_declared():
    path = os.path.join(os.path.dirname(__file__), "..", "figures", f"{mod.NAME}.json")
    if not os.path.exists(path):
        pytest.skip("no committed full-size report")
    doc = json.loads(open(path).read())
    assert doc["mode"] == "full" and doc["paper_as_declared"]
    assert [c["id"] for c in doc["claims"]] == CLAIM_IDS
    for c in doc["claims"]:
        assert c["as_declared"] and c["expected_status"] == mod.expected(c["id"], "full")
        assert list(c["variants"]) == VARIANTS
