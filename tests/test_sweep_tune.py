"""lr tuning from a stored sweep equals a brute-force loop; edge flags, ties, no-pick cases."""
import math
import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import simopt
from simopt.sweep import Store, parse, run_sweep, tune
from simopt.sweep.tune import pick_best

PROBLEMS = [
    {"type": "quadratic", "eigvals": {"spectrum": "logspace", "d": 8, "low": 0.05, "high": 1.0},
     "rotation": "haar", "noise": {"type": "gaussian", "scale": 0.01}},
    {"type": "heterogeneous_blocks", "n_blocks": 2, "block_size": 4, "heterogeneity": 1.0,
     "condition_number": 50.0, "noise": {"type": "gaussian", "scale": 0.01}},
]
OPTS = [("sgd", {}, [0.01, 0.03, 0.3, 1.0, 1.9, 2.5]), ("adam", {"beta1": 0.5}, [0.003, 0.03, 0.3]),
        ("sign", {}, [0.001, 0.01])]
SEEDS, RUNS, STEPS = [0, 1, 2], 3, 60


def _direct_problem(p):
    """The problems above, built with the public API directly (independently of the sweep code)."""
    if p["type"] == "quadratic":
        return simopt.quadratic(simopt.spectra.logspace(8, 0.05, 1.0), rotation="haar",
                                noise=simopt.noise.gaussian(0.01))
    return simopt.heterogeneous_blocks(2, 4, 1.0, condition_number=50.0,
                                       noise=simopt.noise.gaussian(0.01))


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    out = tmp_path_factory.mktemp("tune")
    spec = {"steps": STEPS, "runs": RUNS, "seeds": SEEDS, "problems": PROBLEMS,
            "optimizers": [{"name": n, "lr": lrs, **kw} for n, kw, lrs in OPTS]}
    rep = run_sweep(spec, out, workers=1, quiet=True)
    assert not rep.failed
    return out


def _brute(criterion, eps):
    """For each (problem, optimizer): run every lr x seed directly; score; best = lexicographic min
    of (score, lr) over finite scores."""
    out = {}
    for pi, p in enumerate(PROBLEMS):
        prob = _direct_problem(p)
        for name, kw, lrs in OPTS:
            scores = {}
            for lr in lrs:
                results = [simopt.run(prob, getattr(simopt.optim, name)(lr, **kw), STEPS, runs=RUNS,
                                      seed=s) for s in SEEDS]
                if criterion == "median":
                    if eps is None:
                        v = [np.where(r.diverged, np.inf, r.loss[:, -1] / r.f0) for r in results]
                    else:
                        v = [r.iterations_to(eps) for r in results]
                    scores[lr] = float(np.median(np.concatenate(v)))
                else:  # ERT pooled over seeds: total steps spent / successes
                    spent = succ = 0
                    for r in results:
                        T = r.iterations_to(eps)
                        spent += np.where(np.isfinite(T), T,
                                          np.where(r.diverged, r.diverged_step, STEPS)).sum()
                        succ += np.isfinite(T).sum()
                    scores[lr] = spent / succ if succ else math.inf
            finite = [(s, lr) for lr, s in scores.items() if math.isfinite(s)]
            out[(pi, name)] = (min(finite)[1] if finite else None, scores)
    return out


@pytest.mark.parametrize("criterion,eps", [("median", None), ("median", 0.05), ("ert", 0.05)])
def test_tuning_equals_brute_force(swept, criterion, eps):
    got = tune(swept, criterion=criterion, eps=eps)
    assert len(got) == len(PROBLEMS) * len(OPTS)
    brute = _brute(criterion, eps)
    pidx = {simopt.sweep.content_hash(parse({"steps": 1, "seeds": [0], "problems": [p],
                                             "optimizers": [{"name": "sgd", "lr": 1.0}]}).cells[0]
                                      .problem): i for i, p in enumerate(PROBLEMS)}
    picked = set()
    for t in got:
        key = (pidx[t.problem_key], t.optimizer["name"])
        best, scores = brute[key]
        assert t.best_lr == best, (key, t.scores, scores)
        assert t.lrs == sorted(scores)
        assert t.scores == [scores[lr] for lr in t.lrs]   # bit-identical scores
        assert t.status == ("ok" if best is not None else t.status)
        picked.add(t.best_lr is not None)
    assert True in picked  # the comparison is not vacuous


def _gd_sweep(tmp, lrs, **over):
    spec = {"steps": 100, "runs": 1, "seeds": [0],
            "problems": [{"type": "quadratic", "eigvals": {"spectrum": "linear", "d": 5,
                                                           "low": 0.1, "high": 1.0}}],
            "optimizers": [{"name": "sgd", "lr": lrs}], **over}
    run_sweep(spec, tmp, workers=1, quiet=True)
    (t,) = tune(tmp)
    return t


def test_edge_flags_and_no_pick_cases(tmp_path):
    # deterministic GD, L = 1, mu = 0.1: the best constant step is near 2/(L+mu) = 1.82; > 2 diverges
    t = _gd_sweep(tmp_path / "high", [0.01, 0.03, 0.1])
    assert t.best_lr == 0.1 and t.edge == "high" and t.status == "ok"
    t = _gd_sweep(tmp_path / "mid", [1.0, 1.5, 1.8, 2.5])
    assert t.best_lr == 1.8 and t.edge is None
    assert t.n_diverged == [0, 0, 0, 1] and math.isinf(t.scores[-1])
    t = _gd_sweep(tmp_path / "low", [1.8, 2.5, 3.0])
    assert t.best_lr == 1.8 and t.edge == "low"
    t = _gd_sweep(tmp_path / "single", [1.0])
    assert t.best_lr == 1.0 and t.edge == "single"
    t = _gd_sweep(tmp_path / "div", [5.0, 10.0])
    assert t.best_lr is None and t.status == "all_diverged" and t.edge is None
    assert "every run diverged" in t.line()
    t = _gd_sweep(tmp_path / "never", [0.001, 0.002], eps=1e-30)
    assert t.best_lr is None and t.status == "no_finite_score"


def test_ties_go_to_the_smaller_lr(tmp_path):
    # with records every 50 steps, every lr reaches eps at the first record after 0: a tie
    t = _gd_sweep(tmp_path, [0.9, 1.0, 1.1], eps=0.5, record_every=50)
    assert t.scores == [50.0, 50.0, 50.0]
    assert t.best_lr == 0.9 and t.edge == "low"


def test_lr_with_missing_cells_is_not_scored(tmp_path):
    t = _gd_sweep(tmp_path, [1.0, 1.5, 1.8])
    assert t.best_lr == 1.8
    store = Store(tmp_path)
    gone = [c for c in store.read_spec().cells if c.lr == 1.8][0]
    os.unlink(store.cells_dir / f"{gone.hash}.json")
    (t,) = tune(tmp_path)
    assert t.missing == [1.8] and t.best_lr == 1.5 and math.isnan(t.scores[2])
    assert "not scored" in t.line()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(1e-6, 10.0),
                          st.sampled_from([0.0, 1.0, 2.0, math.inf, math.nan]) | st.floats(0, 5)),
                max_size=8, unique_by=lambda t: t[0]))
def test_pick_best_is_the_lexicographic_minimum(pairs):
    """Property: the pick minimises the score over finite scores, and among equal scores has the
    smallest lr; no pick iff no score is finite."""
    lrs = [lr for lr, _ in pairs]
    scores = [s for _, s in pairs]
    i = pick_best(lrs, scores)
    finite = [(s, lr) for lr, s in pairs if math.isfinite(s)]
    if not finite:
        assert i is None
    else:
        assert (scores[i], lrs[i]) == min(finite)
