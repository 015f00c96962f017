"""xie2025_linf: the quick reproduction's claims are stated with intervals and variants (the first-hit reading
among them), and each claim comes out as declared."""
import pytest

from simopt.paper_repro import xie2025_linf as mod
from _repro_checks import assert_as_declared, check_report, run_quick


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    return run_quick(mod, tmp_path_factory)


@pytest.mark.slow
def test_quick_report_structure(quick):
    for c in check_report(mod, *quick).values():
        assert "first-hit T" in c["variants"]


@pytest.mark.slow
@pytest.mark.parametrize("claim_id", list(mod.EXPECTED))
def test_quick_claim_as_declared(quick, claim_id):
    assert_as_declared(quick[1], claim_id)
