"""pan2023_sharpness: the quick reproduction holds every claim, and its construction is what its
docstring says (Pan & Li 2023; seed_math.md §3)."""
import json
import math

import numpy as np
import pytest

import simopt
from paper_repro import pan2023_sharpness as pan


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    out = tmp_path_factory.mktemp("pan2023")
    code = pan.main(["--quick", "--out", str(out)])
    with open(out / f"{pan.NAME}.json") as f:
        doc = json.load(f)
    return code, doc, out


@pytest.mark.slow
def test_quick_run_passes_every_claim(quick):
    code, doc, out = quick
    assert doc["mode"] == "quick"
    assert len(doc["claims"]) == 3
    failed = [c["id"] for c in doc["claims"] if not c["passed"]]
    assert not failed, failed
    assert code == 0 and doc["passed"]
    assert (out / f"{pan.NAME}.png").stat().st_size > 0 and (out / f"{pan.NAME}.pdf").stat().st_size > 0


@pytest.mark.slow
def test_quick_report_numbers_are_consistent(quick):
    _, doc, _ = quick
    num = doc["numbers"]
    for exp in (num["main"], num["noise_free"]):
        assert set(exp) == {"SGD", "clipped SGD", "Adam", "clipped Adam"}
        for e in exp.values():
            lr = float(e["lr"])
            assert lr > 0 and math.isfinite(lr)
            # every sharpness of a quadratic lies in [lambda_min, lambda_max]
            assert num["lambda_min"] * (1 - 1e-9) <= e["sharpness_median"] <= num["lambda_max"] * (1 + 1e-9)
    r = num["sharpness_ratio_SGD"]
    assert r == pytest.approx(num["main"]["clipped SGD"]["sharpness_median"]
                              / num["main"]["SGD"]["sharpness_median"])


def test_problem_concentrates_curvature_in_few_coordinates():
    p = pan.make_problem(100, seed=3)
    lam = p.diag
    assert p.kind == "diagonal" and p.noise is not None
    k = int(round(pan.FRAC_SHARP * lam.size))
    top = np.sort(lam)[-k:]
    rest = np.sort(lam)[:-k]
    assert top.min() / rest.max() >= 100.0          # "100-1000x larger"
    assert top.max() / rest.min() <= 1000.0
    assert top.sum() / lam.sum() > 0.9              # they carry most of the curvature
    assert pan.make_problem(100, seed=3, noisy=False).noise is None
    np.testing.assert_array_equal(pan.make_problem(100, seed=3).diag, lam)   # seeded


def test_median_sharpness_ignores_the_final_record():
    p = pan.make_problem(20, seed=0, noisy=False)
    res = simopt.run(p, simopt.optim.sgd(1e-3), 5, runs=2, record=("sharpness",))
    s = res.records["sharpness"]
    assert np.isnan(s[:, -1]).all()
    assert pan.median_sharpness(res) == pytest.approx(np.median(s[:, :-1]))
