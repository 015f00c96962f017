"""balles2018_fig3 in quick mode: variance-adaptation factors and Lemma 1 by Monte Carlo."""
import json

import pytest

from simopt.paper_repro import balles2018_fig3 as repro

pytestmark = pytest.mark.slow


def test_quick_all_claims_pass(tmp_path):
    code = repro.main(["--quick", "--out", str(tmp_path)])
    with open(tmp_path / f"{repro.NAME}.json") as f:
        doc = json.load(f)
    assert (tmp_path / f"{repro.NAME}.png").stat().st_size > 0
    assert {c["id"] for c in doc["claims"]} == {
        "erf_equals_2rho_minus_1", "lemma1a_optimum", "lemma1b_optimum", "mse_closed_forms",
        "adam_factor_close_to_erf"}
    failed = [(c["id"], c["measured"]) for c in doc["claims"] if not c["passed"]]
    assert not failed, failed
    assert code == 0


def test_same_seed_same_numbers(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    repro.main(["--quick", "--out", str(a)])
    repro.main(["--quick", "--out", str(b)])
    na = json.loads((a / f"{repro.NAME}.json").read_text())["numbers"]
    nb = json.loads((b / f"{repro.NAME}.json").read_text())["numbers"]
    assert na == nb
