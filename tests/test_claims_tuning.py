"""Tuning: the persistent criterion in tune_lr and the sweeps, edge statuses, with_hyper, and the
declared TuningProtocol (automatic refinement, serialisation, disjoint tuning / evaluation units)."""
import json
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import simopt
from simopt import claims, noise, optim, spectra
from simopt.claims.protocol import Runner, tune_method
from simopt.tuning import with_hyper

LRS = [0.01, 0.03, 0.1, 0.3, 1.0]


def noisy_problem():
    # f = 1/2 |x - x*|^2: lr = 1 jumps to the optimum in one step and then sits on a noise floor
    # above eps = 1e-3 (it dips below it now and then); small lrs converge below the floor
    return simopt.quadratic([1.0, 1.0], noise=noise.gaussian(0.06), seed=0, x0=[1.0, 1.0])


def test_persistent_tuning_does_not_pick_an_lr_that_only_dips_below_eps():
    p = noisy_problem()
    first = simopt.tune_lr(p, optim.sgd(1.0), LRS, 500, runs=8, seed=1, eps=1e-3, keep_all=True)
    pers = simopt.tune_lr(p, optim.sgd(1.0), LRS, 500, runs=8, seed=1, eps=1e-3, persistent=True)
    dip = first.best_lr
    res = first.results[dip]
    T1 = np.median(res.iterations_to(1e-3))
    Tp = np.median(res.iterations_to(1e-3, persistent=True))
    assert dip == 1.0 and T1 <= 5 and Tp > 50 * T1         # first-hit picks the dip ...
    assert pers.best_lr != dip and pers.status == "ok"       # ... persistent does not
    assert pers.scores[list(pers.lrs).index(pers.best_lr)] < Tp
    # under the same protocol machinery, too
    proto = claims.TuningProtocol(criterion="persistent", eps=1e-3, lr_range=(0.01, 1.0), tune_runs=8)
    t = tune_method(Runner(), p, "SGD", optim.sgd(1.0), proto, 500)
    assert t.lr < 0.5 and t.status == "ok"
    assert tune_method(Runner(), p, "SGD", optim.sgd(1.0), proto.replace(criterion="first_hit"),
                       500).lr >= 0.5


def test_a_best_lr_on_the_grid_edge_is_never_ok():
    p = simopt.quadratic(spectra.linear(5, 0.1, 1.0), seed=0)
    t = simopt.tune_lr(p, optim.sgd(1.0), [0.01, 0.03, 0.1], 100, runs=1)
    assert t.best_lr == 0.1 and t.edge == "high" and t.status == "edge"
    t = simopt.tune_lr(p, optim.sgd(1.0), [1.8, 2.5, 3.0], 100, runs=1)
    assert t.edge == "low" and t.status == "edge"
    t = simopt.tune_lr(p, optim.sgd(1.0), [1.0], 100, runs=1)
    assert t.edge == "single" and t.status == "edge"
    assert simopt.tune_lr(p, optim.sgd(1.0), [1.0, 1.8, 2.5], 100, runs=1).status == "ok"


def test_tune_lr_help_states_its_criterion():
    doc = simopt.tune_lr.__doc__
    assert "criterion above" not in doc
    for words in ("final relative loss", "persistent", "first-hit", "ties go to the smaller lr"):
        assert words in doc


@pytest.mark.parametrize("call,arg", [
    (lambda p: simopt.tune_lr("not a problem", optim.sgd(1.0), LRS, 10), "problem"),
    (lambda p: simopt.tune_lr(p, "sgd", LRS, 10), "optimizer"),
    (lambda p: simopt.tune_lr(p, optim.gd_oracle(), LRS, 10), "optimizer"),
    (lambda p: simopt.tune_lr(p, optim.sgd(1.0), LRS, 10, persistent="yes", eps=1e-3), "persistent"),
    (lambda p: simopt.tune_lr(p, optim.sgd(1.0), LRS, 10, keep_all=1), "keep_all"),
])
def test_tune_lr_names_bad_arguments(call, arg):
    with pytest.raises(TypeError, match=arg):
        call(simopt.quadratic([1.0, 2.0], seed=0))


def test_with_hyper_rebuilds_the_same_rule():
    p = simopt.quadratic(spectra.logspace(6, 0.01, 1.0), noise=noise.gaussian(0.01), seed=2)
    pairs = [
        (with_hyper(optim.sgd(0.1), momentum=0.9), optim.sgd(0.1, momentum=0.9)),
        (with_hyper(optim.adam(0.01, beta1=0.5), beta2=0.99), optim.adam(0.01, beta1=0.5, beta2=0.99)),
        (with_hyper(optim.clipped(optim.sgd(0.1), 0.2), fraction=0.4, momentum=0.5),
         optim.clipped(optim.sgd(0.1, momentum=0.5), 0.4)),
        (with_hyper(optim.sgd(simopt.schedules.cosine(0.1)), momentum=0.5),
         optim.sgd(simopt.schedules.cosine(0.1), momentum=0.5)),
        (with_hyper(optim.gd_oracle("1/L"), scale=0.5), optim.gd_oracle("1/L", scale=0.5)),
    ]
    for got, want in pairs:
        assert got.describe() == want.describe()
        a, b = simopt.run(p, got, 30, runs=2, seed=4), simopt.run(p, want, 30, runs=2, seed=4)
        assert np.array_equal(a.loss, b.loss)
    with pytest.raises(ValueError, match="hyper"):
        with_hyper(optim.sgd(0.1), beta2=0.9)
    with pytest.raises(TypeError, match="optimizer"):
        with_hyper("sgd", momentum=0.9)


# ---- the declared protocol ------------------------------------------------------------------------
def gd_problem():
    return simopt.quadratic(spectra.linear(6, 0.05, 1.0), seed=0)   # best constant step 2/(L+mu)


def test_refinement_ends_interior_at_the_declared_resolution_and_scores_are_the_engines():
    p = gd_problem()
    proto = claims.TuningProtocol(criterion="persistent", eps=1e-6, lr_range=(0.01, 1.0), tune_runs=1)
    t = tune_method(Runner(), p, "GD", optim.sgd(1.0), proto, 400)
    tried = sorted(h["lr"] for h in t.history)
    assert t.status == "ok" and t.step_decades <= 0.125 + 1e-12
    assert tried[0] < t.lr < tried[-1]
    # the lr grew beyond the declared range (the optimum ~ 2/(L+mu) = 1.9 lies above it)
    assert t.lr > 1.0 and t.rounds >= 2
    # neighbours within 1/8 decade on both sides, and no tried lr scores better
    logs = np.log10(tried)
    k = tried.index(t.lr)
    assert logs[k] - logs[k - 1] <= 0.125 + 1e-9 and logs[k + 1] - logs[k] <= 0.125 + 1e-9
    assert all(h["score"] >= t.score for h in t.history)
    for h in t.history[:3]:   # every score is the engine's median persistent T at that lr
        r = simopt.run(p, optim.sgd(h["lr"]), 400, runs=1, first_run=0)
        assert h["score"] == np.median(r.iterations_to(1e-6, persistent=True))


def test_a_best_value_on_the_edge_after_the_cap_is_edge():
    p = gd_problem()
    proto = claims.TuningProtocol(criterion="persistent", eps=1e-6, lr_range=(1e-3, 1e-2),
                                  max_rounds=1, tune_runs=1)
    t = tune_method(Runner(), p, "GD", optim.sgd(1.0), proto, 400)
    assert t.status == "edge" and t.edge == "high" and t.rounds == 1 and math.isfinite(t.score)
    # no lr reaches eps within the budget: no finite score; the pick falls back on the final loss
    # (here the largest lr tried) and says so
    t = tune_method(Runner(), p, "GD", optim.sgd(1.0), proto.replace(max_rounds=0), 50)
    assert t.status == "no_finite_score" and t.lr == max(h["lr"] for h in t.history)
    proto = proto.replace(criterion="final", eps=None)
    t = tune_method(Runner(), p, "GD", optim.sgd(1.0), proto, 400)
    assert t.status == "edge" and t.edge == "high" and t.rounds == 1


def test_all_diverged_extends_downwards_and_is_reported_when_it_never_helps():
    p = gd_problem()
    proto = claims.TuningProtocol(criterion="final", eps=None, lr_range=(10.0, 100.0), max_rounds=0,
                                  tune_runs=1)
    assert tune_method(Runner(), p, "GD", optim.sgd(1.0), proto, 50).status == "all_diverged"
    t = tune_method(Runner(), p, "GD", optim.sgd(1.0), proto.replace(max_rounds=8), 50)
    assert t.status in ("ok", "edge", "unrefined") and t.lr < 2.0


def test_a_second_hyperparameter_is_tuned_jointly():
    p = simopt.quadratic(spectra.logspace(6, 1e-3, 1.0), seed=1)
    proto = claims.TuningProtocol(criterion="persistent", eps=1e-4, lr_range=(0.1, 3.0), tune_runs=1,
                                  hyper={"HB": {"momentum": [0.0, 0.9]}})
    t = tune_method(Runner(), p, "HB", optim.sgd(1.0), proto, 3000)
    assert t.hyper == {"momentum": 0.9} and t.optimizer.hyperparams()["momentum"] == 0.9
    assert {h["momentum"] for h in t.history} == {0.0, 0.9}
    # the key "*" applies to every method that has the hyperparameter; others ignore it
    star = proto.replace(hyper={"*": {"momentum": [0.0, 0.5]}})
    assert star.hyper_for("Adam", optim.adam(1.0)) == {}
    assert star.hyper_for("GD", optim.sgd(1.0)) == {"momentum": (0.0, 0.5)}
    with pytest.raises(ValueError, match="hyper"):
        proto.replace(hyper={"HB": {"beta2": [0.9]}}).hyper_for("HB", optim.sgd(1.0))


def test_protocol_round_trips_through_json_and_checks_its_fields():
    p = claims.TuningProtocol(criterion="ert", eps=1e-3, metric="grad_norm", relative=False,
                              lr_range=(1e-3, 0.1), lr_ranges={"Adam": (1e-4, 1e-1)},
                              points_per_decade=4, resolution=1 / 16, hyper={"*": {"beta2": [0.99, 0.999]}},
                              tune_draws=2, tune_runs=3, eval_draws=4, eval_runs=5, starts="gaussian",
                              seed=7)
    q = claims.TuningProtocol.from_json(json.dumps(p.to_dict()))
    assert q == p and q.to_dict() == p.to_dict()
    for kw, arg in [(dict(criterion="median"), "criterion"), (dict(criterion="persistent", eps=None), "criterion"),
                    (dict(eps=-1.0), "eps"), (dict(metric="x"), "metric"), (dict(relative="yes"), "relative"),
                    (dict(lr_range=(1.0, 0.1)), "lr_range"), (dict(lr_range=0.1), "lr_range"),
                    (dict(resolution=0.75), "resolution"), (dict(hyper={"*": {"lr": [1.0]}}), "hyper"),
                    (dict(tune_runs=0), "tune_runs"), (dict(starts="zero"), "starts"),
                    (dict(seed=-1), "seed"), (dict(max_rounds=1.5), "max_rounds")]:
        with pytest.raises((TypeError, ValueError), match=arg):
            claims.TuningProtocol(**kw)
    with pytest.raises(ValueError, match="unknown"):
        claims.TuningProtocol.from_dict({"criterion": "final", "grid": [1, 2]})
    assert claims.TuningProtocol(criterion="persistent", eps=1e-4).sweep_settings() == \
        {"criterion": "persistent", "eps": 1e-4, "eps_metric": "loss"}
    with pytest.raises(ValueError, match="relative"):
        p.sweep_settings()
    text = p.describe()
    for words in ("ERT", "4/decade", "0.0625 decade", "2 draw(s) x 3 run(s)", "4 other draw(s) x 5"):
        assert words in text, (words, text)


@given(st.integers(1, 4), st.integers(1, 9), st.integers(1, 4), st.integers(1, 9),
       st.integers(0, 10 ** 6), st.booleans())
def test_tuning_and_evaluation_units_never_overlap(td, tr, ed, er, seed, fixed):
    p = claims.TuningProtocol(tune_draws=td, tune_runs=tr, eval_draws=ed, eval_runs=er, seed=seed)
    tu, ev = p.tuning_units(fixed), p.evaluation_units(fixed)
    assert not tu.pairs() & ev.pairs()
    assert not set(tu.run_indices()) & set(ev.run_indices())      # no shared noise stream or start
    if not fixed:
        assert not set(tu.draw_seeds) & set(ev.draw_seeds)        # no shared problem draw
        assert tu.n_units == td * tr and ev.n_units == ed * er
    assert len(set(ev.run_indices())) == ev.n_units               # every unit its own stream


def test_a_claim_never_runs_a_tuning_candidate_on_an_evaluation_unit(monkeypatch):
    calls = []
    real = simopt.engine.run

    def spy(problem, optimizer, steps, runs=1, seed=0, first_run=0, **kw):
        calls.append((problem.seed, first_run, runs, optimizer.describe()["lr"], optimizer.name))
        return real(problem, optimizer, steps, runs=runs, seed=seed, first_run=first_run, **kw)

    monkeypatch.setattr(simopt.engine, "run", spy)

    def family(seed):
        return simopt.quadratic(spectra.logspace(4, 0.1, 1.0), rotation="haar",
                                noise=noise.gaussian(0.01), seed=seed)

    proto = claims.TuningProtocol(criterion="final", eps=None, lr_range=(0.1, 1.0), tune_draws=2,
                                  tune_runs=3, eval_draws=2, eval_runs=4, seed=5)
    c = claims.Claim("x", "SGD and sign descent", family=family,
                     methods={"SGD": optim.sgd(1.0), "sign": optim.sign(1.0)},
                     statistic=claims.log_ratio_of_means("SGD", "sign"), at_most=0.0, steps=50,
                     measure="final", protocol=proto)
    c.check()
    tu, ev = proto.tuning_units(), proto.evaluation_units()
    on_eval = {}
    for seed, first, runs, lr, name in calls:
        units = {(seed, first + r) for r in range(runs)}
        assert units <= tu.pairs() or units <= ev.pairs()
        if units <= ev.pairs():
            on_eval.setdefault(name, set()).add(lr)
    assert {k: len(v) for k, v in on_eval.items()} == {"sgd": 1, "sign": 1}   # only the tuned lr


# ---- sweeps ---------------------------------------------------------------------------------------
def test_sweep_tunes_and_exports_by_the_persistent_T(tmp_path):
    from simopt.cli import build_parser
    from simopt.sweep import parse, run_sweep, summary_rows, tune
    spec = {"steps": 500, "runs": 8, "seeds": [1], "eps": 1e-3, "criterion": "persistent",
            "problems": [{"type": "quadratic", "eigvals": [1.0, 1.0], "x0": [1.0, 1.0],
                          "noise": {"type": "gaussian", "scale": 0.06}}],
            "optimizers": [{"name": "sgd", "lr": LRS}]}
    assert parse(spec).criterion == "persistent"
    with pytest.raises(ValueError, match="eps"):
        parse({**spec, "eps": None})
    run_sweep(spec, tmp_path, workers=1, quiet=True)
    (t,) = tune(tmp_path)
    (t1,) = tune(tmp_path, criterion="median")
    direct = simopt.tune_lr(noisy_problem(), optim.sgd(1.0), LRS, 500, runs=8, seed=1, eps=1e-3,
                            persistent=True)
    assert t.best_lr == direct.best_lr and t.scores == list(direct.scores)
    assert t1.best_lr == 1.0 and t.best_lr != 1.0 and "persistent" in t.criterion
    rows = summary_rows(tmp_path)
    for r in rows:
        assert r["T_eps_persistent_median"] >= r["T_eps_median"]
    assert any(r["T_eps_persistent_median"] > r["T_eps_median"] for r in rows)
    args = build_parser().parse_args(["sweep", "tune", str(tmp_path), "--criterion", "persistent"])
    assert args.criterion == "persistent"
