"""paper_repro/_cells.py: claims that combine several problem families, measured per cell with the
claims machinery and decided by paired bootstrap over units shared by every cell."""
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import simopt
from simopt import claims, optim
from simopt.paper_repro import _cells


def _arms_values(draw, arms, n):
    out = {}
    for a in arms:
        T = np.array(draw(st.lists(st.floats(1.0, 1e4), min_size=n, max_size=n)))
        cens = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)))
        out[a] = (np.where(cens, np.inf, T), cens)
    return out


@st.composite
def censored_case(draw, arms):
    n = draw(st.integers(3, 9))
    budget = 1e4
    vals = _arms_values(draw, arms, n)
    samples = {a: claims.Sample.censored(np.where(c, np.inf, T)[None, :], budget)
               for a, (T, c) in vals.items()}
    # a completion: each censored unit takes some value >= the budget
    comp = {a: np.where(c, budget * (1 + np.array(draw(st.lists(st.floats(0.0, 100.0), min_size=n,
                                                                 max_size=n)))), T)[None, :]
            for a, (T, c) in vals.items()}
    return samples, comp


def _point_bounds(stat, samples):
    point = {a: (s.lo, s.hi) for a, s in samples.items()}
    lo, hi = stat.bounds(point)
    return float(lo[0]), float(hi[0])


COMB = _cells.combination("c", [(0.5, "a", "b"), (-1.0, "c", "d"), (2.0, "e", "b")])
MARGIN = _cells.margin_over("m", ("a", "b"), [("c", "d"), ("e", "f")])


@given(censored_case(["a", "b", "c", "d", "e"]))
def test_combination_bounds_contain_every_completion_of_censored_values(case):
    """The declared monotonicity is right: whatever the censored T's true values, the statistic of
    the completed data lies between the smallest and largest possible statistic."""
    samples, comp = case
    lo, hi = _point_bounds(COMB, samples)
    v = float(COMB.fn(comp)[0])
    assert lo - 1e-9 <= v <= hi + 1e-9


@given(censored_case(["a", "b", "c", "d", "e", "f"]))
def test_margin_bounds_contain_every_completion_of_censored_values(case):
    samples, comp = case
    lo, hi = _point_bounds(MARGIN, samples)
    v = float(MARGIN.fn(comp)[0])
    assert v <= 0.0
    assert lo - 1e-9 <= v <= hi + 1e-9


def test_combination_and_margin_compute_what_they_say():
    rng = np.random.default_rng(0)
    v = {k: rng.uniform(1, 100, size=(1, 7)) for k in "abcdef"}
    lr = {k: np.log10(np.median(v[k])) for k in v}
    want = 0.5 * (lr["a"] - lr["b"]) - (lr["c"] - lr["d"]) + 2 * (lr["e"] - lr["b"])
    assert COMB.fn(v)[0] == pytest.approx(want)
    r = {"ab": lr["a"] - lr["b"], "cd": lr["c"] - lr["d"], "ef": lr["e"] - lr["f"]}
    assert MARGIN.fn(v)[0] == pytest.approx(min(0.0, r["ab"] - max(r["cd"], r["ef"])))
    with pytest.raises(ValueError, match="both signs"):
        _cells.combination("x", [(1.0, "a", "b"), (1.0, "b", "c")])
    with pytest.raises(ValueError, match="terms"):
        _cells.combination("x", [(0.0, "a", "b")])
    with pytest.raises(ValueError, match="distinct"):
        _cells.margin_over("x", ("a", "b"), [("b", "c")])


def _family(h):
    def draw(seed):
        return simopt.heterogeneous_blocks(2, 3, h, condition_number=50.0, seed=seed)
    return draw


PROT = claims.TuningProtocol(criterion="persistent_ert", eps=1e-3, lr_range=(1e-3, 1.0),
                             tune_draws=2, tune_runs=2, eval_draws=3, eval_runs=2, starts="gaussian")


def _cell(h, protocol=PROT):
    return claims.Claim(f"cell h={h}", "GD vs sign", family=_family(h),
                        methods={"GD": optim.sgd(1.0), "sign": optim.sign(1.0)},
                        statistic=claims.log_ratio_of_medians("GD", "sign"), at_least=0.0,
                        steps=600, protocol=protocol)


@pytest.fixture(scope="module")
def measured():
    cells = {"h=0": _cell(0.0), "h=1": _cell(1.0)}
    return cells, _cells.measure(cells, [claims.variants.first_hit()])


def test_measure_keeps_each_cells_units_and_matches_the_cells_own_assessment(measured):
    cells, m = measured
    assert m.protocols() == ["primary", "first-hit T"]
    assert set(m.samples["primary"]) == {"GD@h=0", "sign@h=0", "GD@h=1", "sign@h=1"}
    for s in m.samples["primary"].values():
        assert s.shape == (3, 2)             # evaluation draws x runs
    for label, c in cells.items():
        a = c.assess()
        # the same tuning and evaluation, hence the same per-unit values and interval
        assert m.cell_intervals["primary"][label] == a.interval.to_dict()
        for meth, s in a.samples.items():
            np.testing.assert_array_equal(s.lo, m.samples["primary"][_cells.arm(meth, label)].lo)
        assert m.tuning["primary"][label]["GD"]["lr"] == a.methods["GD"]["tuning"]["lr"]
        # the assessment's samples are what its interval was computed from
        med = {k: np.median(v.lo) for k, v in a.samples.items()}
        assert a.interval.value == pytest.approx(math.log10(med["GD"] / med["sign"]))
    # a variant's cells are the variant applied to each cell claim
    assert m.tuning["first-hit T"]["h=1"]["sign"]["lr"] == claims.variants.first_hit()(
        cells["h=1"]).assess().methods["sign"]["tuning"]["lr"]


def test_measure_refuses_cells_with_different_units():
    other = _cell(1.0, PROT.replace(eval_runs=3))
    with pytest.raises(ValueError, match="same evaluation units"):
        _cells.measure({"a": _cell(0.0), "b": other})


def test_decide_with_variants_and_a_control(measured):
    _, m = measured
    stat = _cells.combination("r(1) - r(0)", [(1.0, "GD@h=1", "sign@h=1"), (-1.0, "GD@h=0", "sign@h=0")])
    ctrl_stat = _cells.combination("r(0) - r(0)'", [(1.0, "GD@h=0", "sign@h=0")])
    iv = _cells.interval_of(m.samples["primary"], stat, 0)
    low = iv.low - 1.0 if math.isfinite(iv.low) else -10.0     # a threshold the claim clears
    r = _cells.decide("x", "gap grows", m.samples["primary"], stat, at_least=low,
                      variants=m.variant_samples(),
                      control=_cells.control("same", "nothing removed", m.samples["primary"],
                                             ctrl_stat, expected="FAIL", at_least=1e6))
    assert r.verdict == "PASS" and set(r.variants) == {"first-hit T"}
    assert r.control["verdict"] == "FAIL" and r.control["as_expected"] and r.control_ok
    again = _cells.decide("x", "gap grows", m.samples["primary"], stat, at_least=low)
    assert again.interval == r.interval                       # seeded by the claim's id
    wrong = _cells.decide("x", "gap grows", m.samples["primary"], stat, at_least=low,
                          control=_cells.control("same", "nothing removed", m.samples["primary"],
                                                 ctrl_stat, expected="PASS", at_least=1e6))
    assert wrong.control["verdict"] == "FAIL" and not wrong.control["as_expected"]
    assert wrong.verdict == "PASS" and not wrong.as_declared and wrong.status == "FAIL"
    renamed = m.renamed("primary", {"GD@h=1": "GD@h=0"})
    assert renamed["GD@h=1"] is m.samples["primary"]["GD@h=0"]
