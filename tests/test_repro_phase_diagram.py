"""The phase diagram (heterogeneity x rotation angle on the block-rotated path) in quick mode, on the
claims machinery: per cell every method tuned on units disjoint from the evaluation units, claims
C1-C3 of both maps with paired bootstrap intervals, variants and the rotation-axis controls."""
import json
import os

import numpy as np
import pytest

from simopt import claims
from simopt.paper_repro import phase_diagram as mod
from _repro_checks import run_quick

CLAIM_IDS = [cid for p in mod.PAIRS for cid in mod.claim_ids(p["key"])]
VARIANTS = ["first-hit T", "finer grid (1/16 decade)", "eps x10", "eps /10", "budget x3",
            "tuned by median T"]
CONTROLS = {"C2_shrinks_with_rotation": "homogeneous blocks (h=0)",
            "C3_grows_with_heterogeneity": "fully rotated (theta=1)"}


def test_protocols_keep_tuning_and_evaluation_units_apart_and_grids_fine():
    for quick in (True, False):
        cfg = mod._sizes(quick)
        for pair in mod.PAIRS:
            p = mod.protocol(cfg, pair, seed=3)
            tune, ev = p.tuning_units(), p.evaluation_units()
            assert not set(tune.draw_seeds) & set(ev.draw_seeds)
            assert not set(tune.run_indices()) & set(ev.run_indices())
            assert p.resolution <= 1 / 8 and p.criterion == "persistent_ert"
            assert p.lr_ranges.get("gd", (0, 0))[1] < 2 / mod.KAPPA
            assert p.lr_ranges.get("sgd+m", (0, 0))[1] < 2 * (1 + mod.MOMENTUM) / mod.KAPPA
            assert [v.name for v in mod.variants(pair)] == VARIANTS
            # every cell of a map has the same evaluation units: the bootstrap pairs cells
            cells = mod.cell_claims(cfg, pair, seed=3)
            assert len({frozenset(c.protocol.evaluation_units().pairs()) for c in cells.values()}) == 1
            # the statistics use only arms the cells measure
            arms = {f"{m}@{c}" for c in cells for m in (pair["num"], pair["den"])}
            for stat in mod.statistics(cfg, pair).values():
                assert set(stat.arms) <= arms


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    return run_quick(mod, tmp_path_factory)


@pytest.mark.slow
def test_quick_report_is_complete(quick):
    code, doc, out = quick
    assert doc["mode"] == "quick"
    assert code == (0 if doc["paper_as_declared"] else 1)
    assert [c["id"] for c in doc["claims"]] == CLAIM_IDS
    for ext in ("png", "pdf"):
        assert (out / f"{mod.NAME}.{ext}").stat().st_size > 0
    for c in doc["claims"]:
        assert c["kind"] == "paper"
        assert c["verdict"] in claims.VERDICTS and c["overall"] in claims.STATUSES
        assert len(c["interval"]) == 2 and list(c["variants"]) == VARIANTS
        for v in c["variants"].values():
            assert v["verdict"] in claims.VERDICTS and len(v["interval"]) == 2
        name = c["id"].split("[")[0]
        if name in CONTROLS:
            assert c["control"]["name"] == CONTROLS[name]
            assert c["control"]["expected"] == ["FAIL", "INCONCLUSIVE"]
        else:
            assert c["control"] is None
    cfg = mod._sizes(True)
    for pair in mod.PAIRS:
        n = doc["numbers"][pair["key"]]
        assert n["columns"] == [f"theta={t:g}" for t in cfg["thetas"]]
        for proto, d in n.items():
            if not isinstance(d, dict):
                continue
            M = np.array(d["log10_ratio"], dtype=float)
            assert M.shape == (len(cfg["hs"]), len(cfg["thetas"]))
            lo = np.array(d["log10_ratio_ci_low"], dtype=float)
            hi = np.array(d["log10_ratio_ci_high"], dtype=float)
            assert np.all(lo <= M + 1e-12) and np.all(M <= hi + 1e-12)
            step = 1 / 16 if proto == "finer grid (1/16 decade)" else 1 / 8
            for m in (pair["num"], pair["den"]):
                assert d[f"max_grid_step_decades[{m}]"] <= step + 1e-9
                assert "edge" not in d[f"tuning_status_counts[{m}]"]


@pytest.mark.slow
def test_quick_paper_claims_come_out_as_declared(quick):
    code, doc, _ = quick
    off = [(c["id"], c["overall"], c["expected_status"], (c["control"] or {}).get("verdict"))
           for c in doc["claims"] if not c["as_declared"]]
    assert code == 0 and not off, f"not as declared: {off}"
    for c in doc["claims"]:
        assert c["expected_status"] == mod.expected(c["id"], "quick")


def test_the_committed_full_size_report_is_as_declared():
    path = os.path.join(os.path.dirname(__file__), "..", "figures", f"{mod.NAME}.json")
    if not os.path.exists(path):
        pytest.skip("no committed full-size report")
    doc = json.loads(open(path).read())
    if doc["settings"].get("version") != 3:
        pytest.skip(f"the committed report is from version {doc['settings'].get('version')} of "
                    "the figure, not this script's version 3")
    assert doc["mode"] == "full"
    assert [c["id"] for c in doc["claims"]] == CLAIM_IDS
    # the script declares what the committed run found (the report itself records the declaration
    # in force when it ran)
    for c in doc["claims"]:
        assert c["overall"] == mod.expected(c["id"], "full"), c["id"]
        assert list(c["variants"]) == VARIANTS
    # the grids: at most 1/8 decade at every cell's optimum, never on an edge
    for pair in mod.PAIRS:
        d = doc["numbers"][pair["key"]]["primary"]
        for m in (pair["num"], pair["den"]):
            assert d[f"max_grid_step_decades[{m}]"] <= 1 / 8 + 1e-9
            assert "edge" not in d[f"tuning_status_counts[{m}]"]
