"""Claims share a runner and record extra quantities: claims checked with one ``Runner`` make each
run they have in common once and decide exactly as when checked alone; ``record=`` hands the
evaluation runs' engine records to a callable measure."""
import math

import numpy as np
import pytest

import simopt
from simopt import claims, optim
from simopt.claims.protocol import Runner


def problem():
    return simopt.quadratic(simopt.spectra.logspace(10, 1e-2, 1.0), rotation="haar", seed=3,
                            noise=simopt.noise.gaussian(1e-3))


PROT = claims.TuningProtocol(criterion="persistent", eps=1e-2, lr_range=(0.1, 3.0), tune_runs=2,
                             eval_runs=4, starts="gaussian")


def claim(cid, p, arms, **kw):
    a, b = arms
    rules = {"GD": optim.sgd(1.0), "HB": optim.sgd(1.0, momentum=0.9), "Adam": optim.adam(1.0)}
    return claims.Claim(cid, "toy", family=p, methods={a: rules[a], b: rules[b]},
                        statistic=claims.log_ratio_of_medians(a, b), at_least=0.0, steps=300, protocol=PROT,
                        variants=[claims.variants.first_hit()], **kw)


def test_claims_sharing_a_runner_run_common_runs_once_and_decide_as_alone():
    p = problem()
    c1, c2 = claim("a", p, ("GD", "HB")), claim("b", p, ("GD", "Adam"))
    alone = [c1.check(), c2.check()]
    runner = Runner()
    shared = [c1.check(runner=runner), c2.check(runner=runner)]
    for x, y in zip(alone, shared):
        assert (x.verdict, x.interval, x.overall) == (y.verdict, y.interval, y.overall)
        assert x.details["methods"]["GD"]["tuning"]["lr"] == y.details["methods"]["GD"]["tuning"]["lr"]
    # GD is tuned and evaluated once for both claims: the second claim runs only Adam
    assert shared[1].provenance["engine_calls"] < alone[1].provenance["engine_calls"]
    assert runner.calls == sum(r.provenance["engine_calls"] for r in shared)
    with pytest.raises(TypeError, match="runner"):
        c1.check(runner="shared")


def test_a_callable_measure_reads_the_records_the_claim_asks_for():
    p = problem()

    def sharpness(res):
        """median update sharpness over the steps"""
        return np.nanmedian(res.records["sharpness"][:, :-1], axis=1)

    c = claim("s", p, ("GD", "HB"), measure=sharpness, record=("sharpness",))
    r = c.check()
    lam = p.eigvals
    # the measured statistic is a log ratio of two sharpnesses, each within [lambda_min, lambda_max]
    assert r.value is not None and abs(r.value) <= math.log10(lam[-1] / lam[0]) + 1e-12
    # without the record the measure has nothing to read
    with pytest.raises(KeyError):
        c.replace(record=()).check()
    with pytest.raises(ValueError, match="record"):
        c.replace(record=("curvature",))
    with pytest.raises(TypeError, match="record"):
        c.replace(record=3)
