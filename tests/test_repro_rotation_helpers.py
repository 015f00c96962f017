"""paper_repro._rotation: the statistics across problems compute what their docstrings say, and
decide() combines variants with their own statistics as from_samples would."""
import math

import numpy as np
import pytest

from simopt import claims
from simopt.paper_repro import _rotation as R
from simopt.paper_repro.das2024_preconditioning import flip_statistic


def _vals(meds, n=5):
    """Arms whose every unit equals the given median (so every resample has that median)."""
    return {a: claims.Sample.exact(np.full((1, n), m)) for a, m in meds.items()}


def test_spearman_of_medians_perfect_reversed_and_constant():
    arms = ["a", "b", "c", "d"]
    s = _vals({"a": 1.0, "b": 2.0, "c": 5.0, "d": 9.0})
    up = claims.bootstrap_interval(s, R.spearman_of_medians(arms, [1, 2, 3, 4]), n_boot=50)
    down = claims.bootstrap_interval(s, R.spearman_of_medians(arms, [4, 3, 2, 1]), n_boot=50)
    assert (up.low, up.high) == (1.0, 1.0) and (down.low, down.high) == (-1.0, -1.0)
    flat = claims.bootstrap_interval(_vals(dict.fromkeys(arms, 3.0)), R.spearman_of_medians(arms, [1, 2, 3, 4]),
                                     n_boot=50)
    assert (flat.low, flat.high) == (-math.inf, math.inf)       # undefined, never NaN
    ties = claims.bootstrap_interval(s, R.spearman_of_medians(arms, [1, 1, 1, 2]), n_boot=50)
    assert ties.high == pytest.approx(0.7745966692, rel=1e-9)    # three tied values cap it below 0.8


def test_max_abs_log_ratio_and_slope():
    s = _vals({"r": 100.0, "x": 125.0, "y": 40.0})
    iv = claims.bootstrap_interval(s, R.max_abs_log_ratio(["r", "x", "y"], "r"), n_boot=50)
    assert iv.low == pytest.approx(math.log10(2.5))
    # median = 10**(2 x + 1) on x = 0, 1, 2: slope 2 with no offset, 1 with offset x
    t = _vals({"p": 10.0, "q": 1e3, "u": 1e5})
    st = R.slope_of_medians(["p", "q", "u"], [0, 1, 2], [0, 0, 0])
    assert claims.bootstrap_interval(t, st, n_boot=50).low == pytest.approx(2.0)
    st1 = R.slope_of_medians(["p", "q", "u"], [0, 1, 2], [0, 1, 2])
    assert claims.bootstrap_interval(t, st1, n_boot=50).high == pytest.approx(1.0)


def test_flip_statistic_interpolates_the_crossing():
    th = (0.0, 0.5, 1.0)
    # log10 ratio Adam/GD: -1 at 0, -0.5 at 0.5 (still faster), +0.5 at 1 -> crossing at 0.75
    meds = {"GD@0": 100.0, "Adam@0": 10.0, "GD@0.5": 100.0, "Adam@0.5": 10 ** 1.5,
            "GD@1": 100.0, "Adam@1": 10 ** 2.5}
    iv = claims.bootstrap_interval(_vals(meds), flip_statistic(th), n_boot=50)
    assert iv.low == pytest.approx(0.75) and iv.high == pytest.approx(0.75)
    never = {k: (1.0 if k.startswith("Adam") else 100.0) for k in meds}
    assert claims.bootstrap_interval(_vals(never), flip_statistic(th), n_boot=50).low == math.inf


def test_decide_uses_each_variants_statistic():
    arms = ["a", "b", "c"]
    s = _vals({"a": 1.0, "b": 2.0, "c": 3.0})
    r = R.decide("c", "increasing", s, R.spearman_of_medians(arms, [1, 2, 3]), at_least=0.8,
                 variants={"reversed x": (R.spearman_of_medians(arms, [3, 2, 1]), s, "x reversed")},
                 kind="paper", expected="FRAGILE")
    assert r.verdict == "PASS" and r.variants["reversed x"]["verdict"] == "FAIL"
    assert r.overall == "FRAGILE" and r.as_declared and r.flips == ["reversed x"]
