"""heavy_tails: the quick reproduction states its claims with intervals, variants and controls,
every paper claim comes out as declared, and the pieces it is built from mean what it says."""
import math

import numpy as np
import pytest

from simopt.claims import Sample, bootstrap_interval
from simopt.paper_repro import heavy_tails as ht
from _repro_checks import run_quick


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    return run_quick(ht, tmp_path_factory)


@pytest.mark.slow
def test_quick_run_is_as_declared(quick):
    code, doc, out = quick
    assert code == 0 and doc["mode"] == "quick" and doc["paper_as_declared"]
    claims = {c["id"]: c for c in doc["claims"]}
    paper = {k for k, c in claims.items() if c["kind"] == "paper"}
    assert paper == set(ht.EXPECTED)
    for cid in paper:
        c = claims[cid]
        assert c["as_declared"] and c["expected_status"] == ht.EXPECTED[cid]["quick"], c
        assert c["variants"] and c["interval"] is not None
    assert claims["sgd_blows_up"]["control"]["as_expected"]
    assert claims["sgd_no_time_average_below_2"]["control"]["as_expected"]
    assert "statistic" in claims["sgd_blows_up"]["variants"]["mean"]      # a ratio of means
    ident = [c for c in doc["claims"] if c["kind"] == "identity"]
    assert len(ident) == 3 and all(c["passed"] for c in ident)
    assert (out / f"{ht.NAME}.png").stat().st_size > 0


@pytest.mark.slow
def test_quick_numbers_order_as_the_mechanisms_say(quick):
    """SGD's median stationary loss rises as df falls; sign descent's stays within a factor 3
    over every df (Cauchy included); the exact stationary expectation is finite only above 2."""
    _, doc, _ = quick
    med = doc["numbers"]["stationary_median"]
    sgd = [float(med["sgd"][f"df={df:g}"]) for df in ht.DFS]
    assert all(a > b for a, b in zip(sgd, sgd[1:])), sgd
    sign = [float(med["sign"][f"df={df:g}"]) for df in ht.DFS]
    assert max(sign) / min(sign) < 3.0
    assert all(math.isfinite(float(v)) for v in doc["numbers"]["sgd_stationary_exact"].values())


def test_unit_variance_noise_has_the_variance_of_df_30_noise_rescaled():
    p, q = ht.problem(2.5, unit_variance=True), ht.problem(2.5)
    assert p.noise.describe()["df"] == q.noise.describe()["df"] == 2.5
    from simopt.theory.expectations import noise_covariance
    np.testing.assert_allclose(np.diag(noise_covariance(p)), 1.0)
    np.testing.assert_allclose(np.diag(noise_covariance(q)), 2.5 / 0.5)


def test_chain_statistic_is_the_smallest_step_and_bounds_censoring():
    chains = [["a", "b", "c"], ["x", "y"]]
    stat, expand = ht.chain_statistic(chains)
    vals = {"a": 100.0, "b": 10.0, "c": 5.0, "x": 8.0, "y": 1.0}
    s = expand({k: np.full(6, v) for k, v in vals.items()})
    iv = bootstrap_interval(s, stat, n_boot=50)
    assert iv.value == pytest.approx(math.log10(2.0))          # b -> c is the smallest step
    # c censored above its value: the step b -> c can only be smaller, so only the lower end opens
    cen = {k: Sample.exact(np.full(6, v)) for k, v in vals.items()}
    cen["c"] = Sample.censored(np.full(6, np.inf), 4.0)
    iv = bootstrap_interval(expand(cen), stat, n_boot=50)
    assert iv.low == -math.inf and iv.high == pytest.approx(math.log10(10.0 / 4.0))
