"""balles2018_methods in quick mode: the six methods of Balles & Hennig 2018 on a noisy quadratic."""
import json

import pytest

from simopt.paper_repro import balles2018_methods as repro

pytestmark = pytest.mark.slow


def test_quick_all_claims_pass(tmp_path):
    code = repro.main(["--quick", "--out", str(tmp_path)])
    with open(tmp_path / f"{repro.NAME}.json") as f:
        doc = json.load(f)
    assert (tmp_path / f"{repro.NAME}.png").stat().st_size > 0
    assert [c["id"] for c in doc["claims"]] == ["variance_adaptation_does_not_lose"]
    # every method was tuned and evaluated in both orientations
    for o in ("axis-aligned", "rotated"):
        for m in repro.METHODS:
            assert doc["numbers"][f"{o}/{m}"]["lr"] > 0
    failed = [(c["id"], c["measured"]) for c in doc["claims"] if not c["passed"]]
    assert not failed, failed
    assert code == 0
