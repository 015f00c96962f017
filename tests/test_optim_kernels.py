"""Every update rule's compiled step equals its plain-NumPy reference (the paper's formula) to 1e-12,
over generated shapes, hyperparameters and gradients -- including exact zeros and tiny/huge scales.  The
streams and problems are ``simopt.testing``'s; every built-in rule is also drawn with hyperparameters from
its declared ranges (``simopt.testing.strategies.optimizers``), so a new rule module is covered here
without editing this file."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import simopt
from simopt import optim
from simopt.optim.rules import clipped as clip_mod
from simopt.optim.rules.svag import rho
from simopt.testing import assert_close, builtin_rules, compiled_steps, reference_steps, stream_problem
from simopt.testing import strategies as sst
from simopt.testing.strategies import gradient_streams


def _rules(draw_float):
    lr = draw_float(1e-4, 1.0)
    wd = draw_float(0.0, 0.1)
    return [
        optim.sgd(lr),
        optim.sgd(lr, momentum=draw_float(0.0, 0.99), dampening=draw_float(0.0, 1.0)),
        optim.sgd(lr, momentum=draw_float(0.01, 0.99), nesterov=True, weight_decay=wd),
        optim.sign(lr),
        optim.signum(lr, beta=draw_float(0.0, 0.99)),
        optim.svag(lr, beta=draw_float(0.05, 0.99)),
        optim.msvag(lr, beta=draw_float(0.05, 0.99)),
        optim.adam(lr, beta1=draw_float(0.0, 0.99), beta2=draw_float(0.0, 0.999), eps=draw_float(1e-12, 1e-3)),
        optim.adam(lr, beta1=0.0, beta2=1.0, eps=draw_float(0.0, 1e-3), v0="first_grad"),
        optim.adam(lr, eps=0.0),
        optim.adamw(lr, weight_decay=wd),
        optim.rmsprop(lr, alpha=draw_float(0.0, 0.999), eps=draw_float(0.0, 1e-3)),
        optim.adagrad(lr, eps=draw_float(0.0, 1e-3)),
        optim.normalized_gd(lr, momentum=draw_float(0.0, 0.9)),
        optim.block_normalized(lr, momentum=draw_float(0.0, 0.9)),
        optim.blockwise_adam(lr, beta1=draw_float(0.0, 0.99), beta2=draw_float(0.0, 0.999),
                             eps=draw_float(0.0, 1e-3)),
        optim.clipped(optim.sgd(lr, momentum=draw_float(0.0, 0.9)), draw_float(0.0, 0.9)),
        optim.clipped(optim.adam(lr), draw_float(0.0, 0.9)),
    ]


@given(gradient_streams(), st.data())
def test_compiled_step_equals_reference_for_every_rule(stream, data):
    sizes, G, X0 = stream
    p = stream_problem(sizes)

    def f(lo, hi):
        return data.draw(st.floats(lo, hi))

    for opt in _rules(f):
        assert_close(compiled_steps(opt, p, G, X0), reference_steps(opt, p, G, X0))


@pytest.mark.parametrize("rule", builtin_rules(), ids=lambda r: r.name)
@settings(max_examples=max(1, settings.default.max_examples // 3))   # x 27 rules
@given(stream=gradient_streams(), data=st.data())
def test_every_builtin_rule_with_declared_hyperparameters_compiled_equals_reference(rule, stream, data):
    """Each built-in rule with every hyperparameter drawn from its declared kind and interval: the two
    steps agree on the same gradients (M draws for a rule that takes several) and Hutchinson probes."""
    sizes, G, X0 = stream
    p = stream_problem(sizes)
    opt = data.draw(sst.optimizers(rules=[rule], lr=st.floats(1e-4, 1.0), wrappers=False, max_draws=4))
    rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 31)))
    M = opt.draws()
    Gm = G[:, :, None, :] * rng.uniform(0.5, 2.0, (1, 1, M, 1)) if M > 1 else G
    u = rng.choice([-1.0, 1.0], size=G.shape)
    hut = u * (u @ p.hessian())
    assert_close(compiled_steps(opt, p, Gm, X0, hutchinson=hut), reference_steps(opt, p, Gm, X0, hutchinson=hut))


@given(gradient_streams(), st.floats(0.1, 3.0), st.sampled_from(["1/L", "2/(L+mu)", "1/L_G"]))
def test_oracle_steps_equal_reference(stream, scale, rule):
    sizes, G, X0 = stream
    p = stream_problem(sizes)
    for opt in (optim.gd_oracle(rule, scale=scale), optim.sign_oracle(scale=scale)):
        assert_close(compiled_steps(opt, p, G, X0), reference_steps(opt, p, G, X0))


@given(gradient_streams(steps=1), st.floats(0.0, 0.99))
def test_clip_step_equals_reference(stream, fraction):
    _, G, _ = stream
    out = np.empty(G.shape[2])
    for g in G[0]:
        clip_mod.step(out, g, fraction)
        np.testing.assert_array_equal(out, optim.clip_reference(g[None], fraction)[0])


def test_sign_of_zero_is_zero():
    p = simopt.quadratic([1.0, 2.0, 3.0], seed=0)
    x = compiled_steps(optim.sign(0.5), p, np.array([[[0.0, 2.0, -3.0]]]), np.zeros(3))
    assert list(x[1, 0]) == [0.0, -0.5, 0.5]


@pytest.mark.parametrize("t", [1, 2, 5, 50])
def test_svag_rho_matches_closed_form(t):
    beta = 0.9
    # rho_t = sum of squared normalized EMA weights (seed_math.md §4, [D])
    w = (1 - beta) * beta ** (t - np.arange(1, t + 1)) / (1 - beta ** t)
    assert rho(beta, t) == pytest.approx(min(np.sum(w ** 2), 0.9999), rel=1e-12)
