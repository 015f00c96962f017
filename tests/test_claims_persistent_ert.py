"""The protocol criterion "persistent_ert": the expected running time with the persistent reading of
T(eps), for rules whose T falls with the lr right up to an edge where they stop converging."""
import math

import numpy as np
import pytest

import simopt
from simopt import claims, optim, spectra
from simopt.claims.protocol import Runner, protocol_score, tune_method


def _runs(problem, lrs, steps=400):
    return [simopt.run(problem, optim.sign(lr), steps, runs=6, seed=1,
                       x0=problem.xstar + np.random.default_rng(k).standard_normal((6, problem.dim)))
            for k, lr in enumerate(lrs)]


def test_persistent_ert_is_the_pooled_ert_of_the_persistent_reading():
    p = simopt.quadratic(spectra.logspace(6, 1e-2, 1.0), rotation="haar", seed=0)
    results = _runs(p, [0.003, 0.03, 0.1])
    eps = 1e-3
    for r in results:
        assert protocol_score([r], "persistent_ert", eps) == pytest.approx(r.ert(eps, persistent=True))
    T = np.concatenate([r.iterations_to(eps, persistent=True) for r in results])
    spent = sum(r.steps_spent(eps, persistent=True).sum() for r in results)
    expected = spent / np.isfinite(T).sum() if np.isfinite(T).any() else math.inf
    assert protocol_score(results, "persistent_ert", eps) == pytest.approx(expected)
    # every failure costs at least the whole budget's worth: never below the median of the settled
    settled = T[np.isfinite(T)]
    assert protocol_score(results, "persistent_ert", eps) >= settled.mean() - 1e-9
    # the other criteria are simopt.tuning's
    assert protocol_score(results, "persistent", eps) == simopt.tuning.criterion_score(
        results, "persistent", eps)


def test_a_cliff_rule_tuned_by_the_persistent_ert_settles_on_more_fresh_units():
    """Constant-step sign descent: T ~ 1/lr until its loss floor (which grows with the lr) reaches
    eps.  The median persistent T accepts an lr at which tuning units never settle; the persistent ERT
    charges each of them the whole budget and picks a smaller lr at which every tuning unit settles,
    and fewer fresh evaluation units fail."""
    p = simopt.quadratic(spectra.logspace(8, 1e-2, 1.0), rotation="haar", seed=0)
    out = {}
    for crit in ("persistent", "persistent_ert"):
        prot = claims.TuningProtocol(criterion=crit, eps=1e-3, lr_range=(1e-3, 1.0),
                                     points_per_decade=4, tune_runs=8, eval_runs=32,
                                     starts="gaussian")
        runner = Runner()
        t = tune_method(runner, p, "sign", optim.sign(1.0), prot, 3000)
        fails = {}
        for role, units in (("tune", prot.tuning_units(True)), ("eval", prot.evaluation_units(True))):
            r = runner.run(p, t.optimizer, units, 3000, starts="gaussian", start_seed=prot.seed)[0]
            fails[role] = int(np.isinf(r.iterations_to(1e-3, persistent=True)).sum())
        out[crit] = (t, fails)
    (t_med, f_med), (t_ert, f_ert) = out["persistent"], out["persistent_ert"]
    assert t_med.status == t_ert.status == "ok"
    assert f_med["tune"] > 0 and f_ert["tune"] == 0
    assert t_ert.lr < t_med.lr
    assert f_ert["eval"] < f_med["eval"]


def test_persistent_ert_in_protocols_variants_and_validation():
    p = claims.TuningProtocol(criterion="persistent_ert", eps=1e-4)
    assert claims.TuningProtocol.from_json(p.to_json()) == p
    assert "ERT to eps (persistent T)" in p.criterion_text() and "persistent T" in p.describe()
    with pytest.raises(ValueError, match="criterion.*needs eps"):
        claims.TuningProtocol(criterion="persistent_ert", eps=None)
    with pytest.raises(ValueError, match="persistent_ert"):
        claims.TuningProtocol(criterion="fastest", eps=1e-4)
    with pytest.raises(ValueError, match="criterion: a sweep has no persistent ERT"):
        p.sweep_settings()
    fam = simopt.quadratic([1.0, 2.0], seed=0)
    c = claims.Claim("c", "GD converges", family=fam, methods={"GD": optim.sgd(1.0)},
                     statistic=claims.median("GD"), at_most=100.0, steps=50, protocol=p)
    fh = claims.variants.first_hit()(c)
    assert fh.protocol.criterion == "ert" and fh.reading == "first_hit"
    back = claims.variants.persistent()(fh)
    assert back.protocol.criterion == "persistent_ert" and back.reading == "persistent"
    assert claims.variants.tuned_by("persistent_ert")(c.replace(
        protocol=p.replace(criterion="final"))).protocol.criterion == "persistent_ert"
    with pytest.raises(ValueError, match="criterion"):
        claims.variants.tuned_by("fastest")
