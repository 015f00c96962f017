"""The Tomihari & Sato (2025) reproduction in quick mode, on the claims machinery: the GD/sign gap and
GD's own slowdown with tuned constant steps (the theory's oracle rules as a variant), the §2D
prediction's rank correlation, and the by-construction checks kept apart as identity checks."""
import json
import os

import numpy as np
import pytest

from simopt import claims
from simopt.paper_repro import tomihari2025_heterogeneity as mod
from _repro_checks import quick_main

PAPER = ["ii_gap_grows", "ii_gd_degrades", "iii_prediction_rank"]
IDENTITY = ["i_fig1_correlation", "ii_within_bounds"]
TUNED_VARIANTS = ["first-hit T", "finer grid (1/16 decade)", "eps x10", "eps /10", "budget x3",
                  "tuned by median T", "oracle steps"]
RANK_VARIANTS = ["eps x10", "eps /10", "sign-path prediction", "tuned steps",
                 "tuned steps, first-hit T", "tuned steps, finer grid"]


def test_the_rank_statistic_is_spearman_of_medians_and_undefined_with_censoring():
    rng = np.random.default_rng(0)
    n = 5
    pred = {f"p{k}": rng.uniform(0, 1, (1, 6)) for k in range(n)}
    num = {f"n{k}": rng.uniform(10, 100, (1, 6)) for k in range(n)}
    den = {f"d{k}": rng.uniform(10, 100, (1, 6)) for k in range(n)}
    stat = mod.spearman_of_medians("rho", list(pred), [(f"n{k}", f"d{k}") for k in range(n)])
    from scipy.stats import spearmanr
    want = spearmanr([np.median(pred[f"p{k}"]) for k in range(n)],
                     [np.median(num[f"n{k}"]) / np.median(den[f"d{k}"]) for k in range(n)])[0]
    v = {**pred, **num, **den}
    assert stat.fn(v)[0] == pytest.approx(want)
    # one censored unit (inf, above every reached T) of six: the median, hence rho, is exact
    big = dict(v, n2=v["n2"].copy())
    i = int(np.argmax(big["n2"][0]))
    big["n2"][0, i] = np.inf
    assert stat.fn(big)[0] == pytest.approx(want)
    # three of six: the median itself is censored, rho is undefined
    big["n2"][0, np.argsort(v["n2"][0])[-3:]] = np.inf
    assert np.isnan(stat.fn(big)[0])
    s = claims.Sample.censored(np.array([[3.0, np.inf]]), 10.0)
    np.testing.assert_array_equal(mod.undefined_if_censored(s).lo, [[3.0, np.inf]])


def test_protocol_units_are_disjoint_and_the_same_at_every_h():
    for quick in (True, False):
        cfg = mod._sizes(quick)
        p = mod.protocol(cfg, seed=2)
        assert not set(p.tuning_units().draw_seeds) & set(p.evaluation_units().draw_seeds)
        assert not set(p.tuning_units().run_indices()) & set(p.evaluation_units().run_indices())
        assert p.resolution <= 1 / 8 and p.lr_ranges["GD"][1] < 2 / mod.KAPPA
        cells = {**mod.cell_claims(cfg, 2), **mod.cell_claims(cfg, 2, rotation="haar", hs=[0.0, 1.0])}
        assert len({frozenset(c.protocol.evaluation_units().pairs()) for c in cells.values()}) == 1


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    out = tmp_path_factory.mktemp("tomihari_quick")
    code = quick_main(mod, out)
    return code, json.loads((out / f"{mod.NAME}.json").read_text()), out


@pytest.mark.slow
def test_quick_report_structure(quick):
    code, doc, out = quick
    assert doc["mode"] == "quick" and code == (0 if doc["paper_as_declared"] else 1)
    by = {c["id"]: c for c in doc["claims"]}
    assert list(by) == PAPER + IDENTITY
    assert [by[i]["kind"] for i in PAPER] == ["paper"] * 3
    assert [by[i]["kind"] for i in IDENTITY] == ["identity"] * 2
    assert list(by["ii_gap_grows"]["variants"]) == TUNED_VARIANTS
    assert list(by["ii_gd_degrades"]["variants"]) == TUNED_VARIANTS
    assert list(by["iii_prediction_rank"]["variants"]) == RANK_VARIANTS
    assert by["ii_gap_grows"]["control"]["name"] == "Haar-rotated"
    for ext in ("png", "pdf"):
        assert (out / f"{mod.NAME}.{ext}").stat().st_size > 0
    n = doc["numbers"]
    hs = mod._sizes(True)["hs"]
    # how tight the bounds are: T / T_bound per method and h, median within the range, all <= 1
    for m, d in n["bound_tightness"]["T_over_T_bound"].items():
        lo, med, hi = (np.array(d[k]) for k in ("min", "median", "max"))
        assert lo.shape == (len(hs),) and np.all(lo <= med) and np.all(med <= hi) and np.all(hi <= 1)
    # the heterogeneity knob moves the block spectra apart: JS distance 0 at h = 0, increasing
    js = np.array(n["block_spectrum_js"])
    assert js[0] == pytest.approx(0.0, abs=1e-12) and np.all(np.diff(js) > 0)
    # the by-construction checks hold
    assert by["i_fig1_correlation"]["verdict"] == "PASS" and by["ii_within_bounds"]["passed"]


@pytest.mark.slow
def test_quick_paper_claims_come_out_as_declared(quick):
    code, doc, _ = quick
    off = [(c["id"], c["overall"], c["expected_status"]) for c in doc["claims"]
           if c["kind"] == "paper" and not c["as_declared"]]
    assert code == 0 and not off, f"not as declared: {off}"
    for c in doc["claims"]:
        if c["kind"] == "paper":
            assert c["expected_status"] == mod.expected(c["id"], "quick")


def test_the_committed_full_size_report_is_as_declared():
    path = os.path.join(os.path.dirname(__file__), "..", "figures", f"{mod.NAME}.json")
    if not os.path.exists(path):
        pytest.skip("no committed full-size report")
    doc = json.loads(open(path).read())
    assert doc["mode"] == "full" and doc["paper_as_declared"]
    by = {c["id"]: c for c in doc["claims"]}
    assert list(by) == PAPER + IDENTITY
    for i in PAPER:
        assert by[i]["as_declared"] and by[i]["expected_status"] == mod.expected(i, "full")
        assert list(by[i]["variants"]) == (RANK_VARIANTS if i == "iii_prediction_rank"
                                           else TUNED_VARIANTS)
    assert all(by[i]["as_declared"] for i in IDENTITY)
    assert by["ii_gap_grows"]["control"]["as_expected"]
    for d in doc["numbers"]["bound_tightness"]["T_over_T_bound"].values():
        assert len(d["median"]) == len(mod._sizes(False)["hs"]) and max(d["max"]) <= 1.0
