"""zhang_maes2025_rotation: the quick reproduction's claims are stated with intervals and variants, and each paper claim
comes out as declared."""
import json
import math

import pytest

from simopt.paper_repro import zhang_maes2025_rotation as mod


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    out = tmp_path_factory.mktemp("zhang_maes2025_rotation")
    code = mod.main(["--quick", "--out", str(out)])
    with open(out / f"{mod.NAME}.json") as f:
        doc = json.load(f)
    return code, doc, out


@pytest.mark.slow
def test_quick_report_structure(quick):
    code, doc, out = quick
    assert doc["mode"] == "quick"
    assert [c["id"] for c in doc["claims"]] == list(mod.EXPECTED)
    assert code == (0 if doc["paper_as_declared"] else 1)
    assert (out / f"{mod.NAME}.png").stat().st_size > 0 and (out / f"{mod.NAME}.pdf").stat().st_size > 0
    for c in doc["claims"]:
        assert c["kind"] in ("paper", "identity")
        assert c["interval"] is not None and len(c["interval"]) == 2
        lo, hi = (float(x) for x in c["interval"])
        assert lo <= hi and not (math.isnan(lo) or math.isnan(hi))
        assert c["variants"], f"{c['id']} has no protocol variants"
        assert "first-hit T" in c["variants"]
        assert c["protocol"]["protocol"]["tune_runs"] >= 1


@pytest.mark.slow
@pytest.mark.parametrize("claim_id", list(mod.EXPECTED))
def test_quick_claim_as_declared(quick, claim_id):
    _, doc, _ = quick
    c = {c["id"]: c for c in doc["claims"]}[claim_id]
    assert c["overall"] == c["expected_status"], (
        f"{claim_id}: {c['verdict']} {c['interval']} overall {c['overall']}, declared "
        f"{c['expected_status']}; variants { {k: v['verdict'] for k, v in c['variants'].items()} }")
