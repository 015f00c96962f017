"""Every update rule's compiled step equals its plain-NumPy reference (the paper's formula) to 1e-12,
over generated shapes, hyperparameters and gradients -- including exact zeros and tiny/huge scales."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import simopt
from simopt import optim
from simopt.optim.rules import clipped as clip_mod
from simopt.optim.rules.svag import rho
from simopt.testing import compiled_steps, reference_steps


@st.composite
def gradient_streams(draw, steps=5):
    sizes = draw(st.lists(st.integers(1, 4), min_size=1, max_size=4))
    d = int(sum(sizes))
    runs = draw(st.integers(1, 3))
    seed = draw(st.integers(0, 2 ** 31))
    scale = 10.0 ** draw(st.integers(-100, 100))
    rng = np.random.default_rng(seed)
    G = rng.standard_normal((steps, runs, d)) * scale
    zero_mask = rng.random((steps, runs, d)) < draw(st.sampled_from([0.0, 0.2, 0.6]))
    G[zero_mask] = 0.0
    X0 = rng.standard_normal((runs, d)) * scale
    return sizes, G, X0


def _problem(sizes, seed=1):
    rng = np.random.default_rng(len(sizes) * 7 + sum(sizes))
    blocks = [np.sort(rng.uniform(0.5, 50.0, s)) for s in sizes]
    return simopt.block_diagonal(blocks, rotation="block", seed=seed)


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


def _assert_close(a, b):
    scale = np.max(np.abs(b[np.isfinite(b)]), initial=1.0)
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12 * scale, equal_nan=True)


@given(gradient_streams(), st.data())
def test_compiled_step_equals_reference_for_every_rule(stream, data):
    sizes, G, X0 = stream
    p = _problem(sizes)

    def f(lo, hi):
        return data.draw(st.floats(lo, hi))

    for opt in _rules(f):
        _assert_close(compiled_steps(opt, p, G, X0), reference_steps(opt, p, G, X0))


@given(gradient_streams(), st.floats(0.1, 3.0), st.sampled_from(["1/L", "2/(L+mu)", "1/L_G"]))
def test_oracle_steps_equal_reference(stream, scale, rule):
    sizes, G, X0 = stream
    p = _problem(sizes)
    for opt in (optim.gd_oracle(rule, scale=scale), optim.sign_oracle(scale=scale)):
        _assert_close(compiled_steps(opt, p, G, X0), reference_steps(opt, p, G, X0))


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
