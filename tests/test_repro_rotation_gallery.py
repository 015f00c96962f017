"""xie2025_linf, zhang_maes2025_rotation, das2024_preconditioning: each quick reproduction's claims are
stated with intervals and variants (the first-hit reading among them), and each claim comes out as
declared."""
import pytest

from simopt.paper_repro import das2024_preconditioning, xie2025_linf, zhang_maes2025_rotation
from _repro_checks import assert_as_declared, check_report, run_quick

MODULES = {m.NAME: m for m in (xie2025_linf, zhang_maes2025_rotation, das2024_preconditioning)}
_RUNS = {}


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    """The quick run of a reproduction by name, made once per module."""
    def get(name):
        if name not in _RUNS:
            _RUNS[name] = run_quick(MODULES[name], tmp_path_factory)
        return _RUNS[name]
    return get


@pytest.mark.slow
@pytest.mark.parametrize("name", list(MODULES))
def test_quick_report_structure(quick, name):
    for c in check_report(MODULES[name], *quick(name)).values():
        assert "first-hit T" in c["variants"]


@pytest.mark.slow
@pytest.mark.parametrize("name, claim_id", [(n, c) for n, m in MODULES.items() for c in m.EXPECTED])
def test_quick_claim_as_declared(quick, name, claim_id):
    assert_as_declared(quick(name)[1], claim_id)
