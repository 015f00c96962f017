"""batch_size_gap: the statistics mean what the claims say, and the quick reproduction's claims are
stated with intervals, variants and a control, each paper claim coming out as declared."""
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from simopt import claims
from simopt.paper_repro import batch_size_gap as mod
from _repro_checks import assert_as_declared, check_report, run_quick


@given(st.floats(0.5, 0.9999), st.integers(0, 6), st.integers(0, 6))
def test_halflife_beta2_keeps_the_half_life_in_samples(beta2_ref, kb, kref):
    """beta2(B) = beta2(B0)^(B/B0): the half-life B ln(1/2) / ln beta2(B), in samples, is that of B0."""
    B, B0 = 2 ** kb, 2 ** kref
    b2 = mod.halflife_beta2(B, beta2_ref, B0)
    assert 0.0 < b2 < 1.0
    assert math.isclose(B * math.log(0.5) / math.log(b2), B0 * math.log(0.5) / math.log(beta2_ref),
                        rel_tol=1e-9)


def _exact(values):
    return claims.Sample.exact(np.asarray(values, dtype=float)[None, :])


def test_gap_spearman_is_one_for_a_gap_growing_with_B_and_minus_one_for_a_shrinking_one():
    batches = (1, 4, 16, 64)
    rng = np.random.default_rng(0)
    adam = {f"Adam B={b}": _exact(rng.uniform(1.0, 2.0, 9)) for b in batches}
    for sign in (1.0, -1.0):
        # SGDM's loss = Adam's times 10^(sign k): the gap is sign * k at the k-th batch size
        s = {f"SGDM B={b}": _exact(adam[f"Adam B={b}"].lo[0] * 10.0 ** (sign * k))
             for k, b in enumerate(batches)}
        iv = claims.bootstrap_interval({**s, **adam}, mod.gap_spearman(batches), seed=0)
        assert iv.low == iv.high == pytest.approx(sign)


def test_curve_spread_is_zero_for_equal_curves_and_the_largest_log_ratio_otherwise():
    batches = (1, 4, 16)
    rng = np.random.default_rng(1)
    base = {k: rng.uniform(0.1, 1.0, 7) for k in range(1, mod.CHECKPOINTS + 1)}
    same = {mod.curve_arm(b, k): _exact(v) for b in batches for k, v in base.items()}
    iv = claims.bootstrap_interval(same, mod.curve_spread(batches), seed=0)
    assert iv.low == iv.high == 0.0
    moved = dict(same)
    moved[mod.curve_arm(16, 3)] = _exact(base[3] * 1.5)      # one checkpoint of one B 50% higher
    iv = claims.bootstrap_interval(moved, mod.curve_spread(batches), seed=0)
    assert iv.value == pytest.approx(math.log10(1.5))


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    return run_quick(mod, tmp_path_factory)


@pytest.mark.slow
def test_quick_report_structure(quick):
    doc = quick[1]
    gap = check_report(mod, *quick, kinds=("paper",))["gap_grows_with_batch"]
    for c in doc["claims"]:
        assert "finer grid (1/16 decade)" in c["variants"] and "sampled-data noise" in c["variants"]
    assert {"momentum tuned jointly", "tuned by persistent T", "isotropic noise"} <= set(gap["variants"])
    assert gap["control"]["name"] == "condition number 1" and gap["control"]["as_expected"]
    # every arm was tuned on units disjoint from the evaluation units, with the steps the budget gives
    for arm, info in gap["details"]["arms"].items():
        B = int(arm.split("B=")[1])
        assert info["steps"] == mod.SIZES[True]["samples"] // B
        assert info["lr"] is not None and info["status"] in ("ok", "edge", "unrefined")


@pytest.mark.slow
@pytest.mark.parametrize("claim_id", list(mod.EXPECTED))
def test_quick_claim_as_declared(quick, claim_id):
    assert_as_declared(quick[1], claim_id)
