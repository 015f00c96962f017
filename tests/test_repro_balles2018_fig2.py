"""balles2018_fig2 in quick mode: SGD vs SSD on noisy quadratics (Balles & Hennig 2018, Fig. 2)."""
import json

import pytest

from simopt.paper_repro import balles2018_fig2 as repro

pytestmark = pytest.mark.slow

CLAIMS = ("a_well_noisefree_gd_much_better", "b_well_noisy_evened_out", "c_well_orientation_little_effect",
          "d_ill_rotated_roughly_equal", "e_ill_aligned_ssd_clearly_better")
# Finding, not a bug: with isotropic noise scaled to the initial gradient norm, SSD's advantage on the
# axis-aligned ill-conditioned problem disappears once noise is present (log10 SGD/SSD ~ -0.1 at
# c = 0.1 and c = 1), so claim (e) fails.  strict=True: if it starts to hold, this test says so.
KNOWN_FAILING = {"e_ill_aligned_ssd_clearly_better"}


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("balles2018_fig2")
    code = repro.main(["--quick", "--out", str(out)])
    with open(out / f"{repro.NAME}.json") as f:
        doc = json.load(f)
    return code, doc, out


def test_writes_figure_and_report(quick_run):
    code, doc, out = quick_run
    assert (out / f"{repro.NAME}.png").stat().st_size > 0
    assert (out / f"{repro.NAME}.pdf").stat().st_size > 0
    assert doc["mode"] == "quick"
    assert [c["id"] for c in doc["claims"]] == list(CLAIMS)
    assert code == (0 if doc["as_expected"] else 1)
    assert doc["as_expected"], [c for c in doc["claims"] if c["status"] in ("FAIL", "XPASS")]


@pytest.mark.parametrize("claim", [
    pytest.param(c, marks=pytest.mark.xfail(strict=True, reason="finding: see KNOWN_FAILING"))
    if c in KNOWN_FAILING else c for c in CLAIMS])
def test_claim(quick_run, claim):
    _, doc, _ = quick_run
    (c,) = [c for c in doc["claims"] if c["id"] == claim]
    assert c["passed"], f"{claim}: {c['criterion']}; measured {c['measured']}"
