"""Every update rule's Numba kernel equals its plain-NumPy reference (the paper's formula) to 1e-12,
over generated shapes, hyperparameters and gradients — including exact zeros and tiny/huge scales."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import simopt
from simopt import optim
from simopt._kernels.updates import clip_into, clip_threshold, update_row


def _blocks_from_sizes(sizes):
    starts = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    return starts, [slice(int(a), int(b)) for a, b in zip(starts[:-1], starts[1:])]


@st.composite
def gradient_streams(draw, max_d=12, steps=5):
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


def _rules(draw_float):
    lr = draw_float(1e-4, 1.0)
    return [
        optim.sgd(lr),
        optim.sgd(lr, momentum=draw_float(0.0, 0.99), dampening=draw_float(0.0, 1.0)),
        optim.sgd(lr, momentum=draw_float(0.01, 0.99), nesterov=True),
        optim.sign(lr),
        optim.signum(lr, beta=draw_float(0.0, 0.99)),
        optim.svag(lr, beta=draw_float(0.05, 0.99)),
        optim.msvag(lr, beta=draw_float(0.05, 0.99)),
        optim.adam(lr, beta1=draw_float(0.0, 0.99), beta2=draw_float(0.0, 0.999), eps=draw_float(1e-12, 1e-3)),
        optim.adam(lr, beta1=0.0, beta2=1.0, eps=draw_float(1e-12, 1e-3), v0="first_grad"),
        optim.rmsprop(lr, alpha=draw_float(0.0, 0.999), eps=draw_float(1e-12, 1e-3)),
        optim.adagrad(lr, eps=draw_float(1e-12, 1e-3)),
        optim.normalized_gd(lr, momentum=draw_float(0.0, 0.9)),
        optim.block_normalized(lr, momentum=draw_float(0.0, 0.9)),
        optim.blockwise_adam(lr, beta1=draw_float(0.0, 0.99), beta2=draw_float(0.0, 0.999),
                             eps=draw_float(1e-12, 1e-3)),
        optim.clipped(optim.sgd(lr, momentum=draw_float(0.0, 0.9)), draw_float(0.0, 0.9)),
        optim.clipped(optim.adam(lr), draw_float(0.0, 0.9)),
    ]


def _run_kernel(opt, sizes, G, X0, problem=None):
    blk, _ = _blocks_from_sizes(sizes)
    steps, runs, d = G.shape
    hp = opt.kernel_params(problem)
    lrs = opt.lr_values(steps)
    X = X0.copy()
    S = np.zeros((runs, max(1, opt.state_size(d, len(sizes)))))
    out = []
    work, gc = np.empty(d), np.empty(d)
    for t in range(steps):
        for r in range(runs):
            g = G[t, r].copy()
            if opt.clip_fraction > 0:
                clip_into(g, clip_threshold(g, opt.clip_fraction, work), gc)
            else:
                gc[:] = g
            update_row(opt.code, X[r], g, gc.copy(), S[r], t + 1, lrs[t], hp, blk)
        out.append(X.copy())
    return out


def _run_reference(opt, sizes, G, X0, problem=None):
    _, blocks = _blocks_from_sizes(sizes)
    steps, runs, d = G.shape
    lrs = opt.lr_values(steps)
    state = opt.init_state(runs, d, blocks)
    X = X0.copy()
    out = []
    for t in range(steps):
        X = opt.reference_step(X, G[t], state, t + 1, lrs[t], blocks, problem=problem)
        out.append(X.copy())
    return out


def _assert_close(a, b):
    for xa, xb in zip(a, b):
        scale = np.max(np.abs(xb[np.isfinite(xb)]), initial=1.0)
        np.testing.assert_allclose(xa, xb, rtol=1e-12, atol=1e-12 * scale, equal_nan=True)


@given(gradient_streams(), st.data())
def test_kernel_equals_reference_for_every_rule(stream, data):
    sizes, G, X0 = stream

    def f(lo, hi):
        return data.draw(st.floats(lo, hi))

    for opt in _rules(f):
        _assert_close(_run_kernel(opt, sizes, G, X0), _run_reference(opt, sizes, G, X0))


@given(gradient_streams(), st.floats(0.1, 3.0), st.sampled_from(["1/L", "2/(L+mu)", "1/L_G"]))
def test_oracle_kernels_equal_reference(stream, scale, rule):
    sizes, G, X0 = stream
    d = int(sum(sizes))
    rng = np.random.default_rng(len(sizes) * 7 + d)
    blocks = [np.sort(rng.uniform(0.5, 50.0, s)) for s in sizes]
    p = simopt.block_diagonal(blocks, rotation="block", seed=1)
    for opt in (optim.gd_oracle(rule, scale=scale), optim.sign_oracle(scale=scale)):
        _assert_close(_run_kernel(opt, sizes, G, X0, p), _run_reference(opt, sizes, G, X0, p))


@given(gradient_streams(steps=1), st.floats(0.0, 0.99))
def test_clip_kernel_equals_reference(stream, fraction):
    _, G, _ = stream
    work, out = np.empty(G.shape[2]), np.empty(G.shape[2])
    for g in G[0]:
        clip_into(g, clip_threshold(g, fraction, work), out)
        np.testing.assert_array_equal(out, optim.clip_reference(g[None], fraction)[0])


def test_sign_of_zero_is_zero():
    X = np.zeros((1, 3))
    opt = optim.sign(0.5)
    x = X[0].copy()
    update_row(opt.code, x, np.array([0.0, 2.0, -3.0]), np.zeros(3), np.zeros(1), 1, 0.5,
               opt.kernel_params(None), np.array([0, 3]))
    assert list(x) == [0.0, -0.5, 0.5]


@pytest.mark.parametrize("t", [1, 2, 5, 50])
def test_svag_rho_matches_closed_form(t):
    beta = 0.9
    # rho_t = sum of squared normalized EMA weights (seed_math.md §4, [D])
    w = (1 - beta) * beta ** (t - np.arange(1, t + 1)) / (1 - beta ** t)
    assert optim.SVAG.rho(beta, t) == pytest.approx(min(np.sum(w ** 2), 0.9999), rel=1e-12)
