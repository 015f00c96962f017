"""check_rule: a correct rule passes every section, and each section catches the fault it is there for --
a reference that disagrees with the compiled step, a NaN at the edges, a rule whose numbers depend on how
its runs are split, a hyperparameter check that lets bad values through, a card that is not the
expected one.  The report reads as a table and assert_ok raises with it."""
import pathlib
import sys

import numpy as np
import pytest

from simopt import optim
from simopt.optim import Hyper, numpy_rule, rule
from simopt.testing import check_rule

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "examples"))
import user_rules  # noqa: E402


def _step(x, g, m, lr, beta):
    for i in range(x.shape[0]):
        m[i] = beta * m[i] + (1.0 - beta) * g[i]
        x[i] -= lr * m[i]


def _reference(x, g, m, lr, beta):
    m[...] = beta * m + (1.0 - beta) * g
    x -= lr * m


def _wrong_reference(x, g, m, lr, beta):
    m[...] = beta * m + (1.0 - beta) * g
    x -= lr * m * (1.0 + 1e-9)                  # a slip far below what a run would show


EMA_SGD = rule(_step, name="ema_sgd", hyper={"beta": Hyper(0.5, "[0, 1)")}, state={"m": "d"},
               reference=_reference)
WRONG = rule(_step, name="wrong_ema_sgd", hyper={"beta": Hyper(0.5, "[0, 1)")}, state={"m": "d"},
             reference=_wrong_reference)


def _normalised(x, g, lr):
    n = 0.0
    for i in range(x.shape[0]):
        n += g[i] * g[i]
    for i in range(x.shape[0]):
        x[i] -= lr * g[i] / np.sqrt(n)          # 0/0 when the gradient is exactly zero


NAN_AT_ZERO = rule(_normalised, name="nan_at_zero")


def _by_batch(x, g, lr):
    x -= lr * g * x.shape[0]                    # depends on how many runs share the call


BATCH_DEPENDENT = numpy_rule(_by_batch, name="batch_dependent")
SIGNS = ("permutation", "sign_flip", "translation", "gradient_scaling")


def test_a_user_rule_passes_every_check_across_processes():
    report = check_rule(user_rules.lion(0.05), expect=SIGNS)
    report.assert_ok()
    det = [c for c in report.checks if c.section == "determinism"]
    assert [c.ok for c in det] == [True, True] and "subprocesses" in det[1].detail
    assert report.card.holds == SIGNS


def test_a_builtin_rule_passes_with_both_steps_compared():
    report = check_rule(optim.adam(0.05), threads=False,
                        expect=("permutation", "sign_flip", "translation", "gradient_scaling"))
    report.assert_ok()
    steps = [c for c in report.checks if c.section == "compiled == reference"]
    assert len(steps) == 5 and all(c.ok for c in steps)          # as given + 4 drawn hyperparameter sets
    bad = [c for c in report.checks if c.section == "bad hyperparameters"]
    assert {c.what.split()[0] for c in bad} == {"beta1", "beta2", "eps", "v0", "lr", "weight_decay"}


def test_a_reference_that_disagrees_with_the_compiled_step_fails_by_name():
    assert check_rule(EMA_SGD, threads=False, card=False).ok
    report = check_rule(WRONG, threads=False, card=False)
    failed = report.failures
    assert failed and {c.section for c in failed} == {"compiled == reference"}
    assert "FAILED" in report.table() and "1e-12" in report.table()
    with pytest.raises(AssertionError, match="compiled == reference"):
        report.assert_ok()


def test_a_nan_from_zero_gradients_is_caught():
    report = check_rule(NAN_AT_ZERO, threads=False, card=False)
    [edge] = [c for c in report.checks if c.section == "edge cases"]
    assert edge.ok is False and "all-zero" in edge.detail


def test_a_rule_that_depends_on_the_batch_is_not_deterministic_across_run_splits():
    report = check_rule(BATCH_DEPENDENT(0.01), threads=False, card=False)
    [split] = [c for c in report.checks if c.what.startswith("runs split")]
    assert split.ok is False


def test_a_rule_defined_here_checks_threads_in_process():
    @rule(hyper={"beta": 0.9}, state={"m": "d"})
    def local_momentum(x, g, m, lr, beta):
        for i in range(x.shape[0]):
            m[i] = beta * m[i] + g[i]
            x[i] -= lr * m[i]

    report = check_rule(local_momentum(0.01), card=False)
    [threads] = [c for c in report.checks if c.what == "thread counts"]
    assert threads.ok and "numba.set_num_threads" in threads.detail


def test_bad_values_a_rule_lets_through_are_reported(monkeypatch):
    h = EMA_SGD.hyper["beta"]
    monkeypatch.setattr(h, "check", lambda value, name: value)        # a check that accepts anything
    report = check_rule(EMA_SGD, threads=False, card=False)
    [beta] = [c for c in report.checks if c.section == "bad hyperparameters" and c.what.startswith("beta")]
    assert beta.ok is False and "accepted" in beta.detail


def test_an_unexpected_card_fails_the_transformations_that_differ():
    report = check_rule(optim.sgd(0.05), threads=False, expect=SIGNS)
    failed = {c.what for c in report.failures}
    assert failed == {"rotation", "block rotation", "two-sided rotation", "gradient scaling"}
    with pytest.raises(ValueError, match="expect"):
        check_rule(optim.sgd(0.05), threads=False, expect=("shear",))


def test_a_matrix_rule_is_checked_on_a_matrix_problem_of_the_shape_given():
    report = check_rule(optim.muon(0.05), threads=False, hyper_samples=1, shape=(2, 3),
                        expect=("matrix_rotation", "translation"))
    report.assert_ok()
    steps = [c for c in report.checks if c.section == "compiled == reference"]
    assert len(steps) == 2 and all(c.ok for c in steps)
    assert report.card["matrix_rotation"].deviation <= 1e-10 and report.card["rotation"].deviation >= 1e-1
    with pytest.raises(ValueError, match="shape"):
        check_rule(optim.muon(0.05), threads=False, shape=(1, 1))


def test_a_rule_that_diverges_on_the_card_is_a_failure_naming_lr():
    report = check_rule(optim.sgd(3.0), threads=False)
    [card] = [c for c in report.checks if c.section == "invariance card"]
    assert card.ok is False and "lr" in card.detail and report.card is None


def test_check_rule_refuses_what_is_not_a_rule():
    with pytest.raises(TypeError, match="rule_or_optimizer"):
        check_rule("adam")
    with pytest.raises(ValueError, match="lr"):
        check_rule(EMA_SGD, lr=-1.0)
