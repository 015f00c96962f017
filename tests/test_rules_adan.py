"""Adan (Xie et al. 2022, official sail-sg semantics): compiled == NumPy reference, the Adam limit at
beta2 = 0, invariance to positive per-coordinate gradient scales at eps = 0, parity with
pytorch-optimizer (which follows the official code), and optax's (1 - beta2) weighting of the
gradient-difference term shown to be a different method."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import simopt
from simopt import optim
from simopt.testing import compiled_steps, reference_steps
from _parity import edge_streams, optax_iterates, rel_err, stream, torch_iterates, torch_on_problem
from test_optim_kernels import _assert_close, _problem, gradient_streams


@given(gradient_streams(steps=6), st.data())
def test_compiled_step_equals_reference(stream_, data):
    sizes, G, X0 = stream_
    p = _problem(sizes)

    def f(lo, hi):
        return data.draw(st.floats(lo, hi))

    for opt in (optim.adan(f(1e-4, 1.0), beta1=f(0.0, 0.99), beta2=f(0.0, 0.99), beta3=f(0.0, 0.999),
                           eps=f(1e-12, 1e-3)),
                optim.adan(f(1e-4, 1.0), eps=0.0, weight_decay=f(0.0, 0.5))):
        a = compiled_steps(opt, p, G, X0)
        assert np.all(np.isfinite(a))
        _assert_close(a, reference_steps(opt, p, G, X0))


@pytest.mark.parametrize("case", ["zero", "1e-100", "1e100"])
def test_zero_gradients_and_extreme_scales_give_no_nan(case):
    G, X0 = edge_streams()[["zero", "1e-100", "1e100"].index(case)]
    p = _problem([2, 3])
    for opt in [optim.adan(0.1), optim.adan(0.1, eps=0.0)]:
        a = compiled_steps(opt, p, G, X0)
        assert np.all(np.isfinite(a)), opt
        _assert_close(a, reference_steps(opt, p, G, X0))
        if case == "zero":
            np.testing.assert_array_equal(a[-1], X0)     # no gradient, no move


@given(gradient_streams(steps=8), st.floats(0.0, 0.99), st.floats(0.0, 0.999), st.floats(0.0, 1e-3))
def test_beta2_zero_is_adam(stream_, beta1, beta3, eps):
    """beta2 = 0 weights the difference term by 0 in the step and in n_t: Adam with (beta1, beta3)."""
    sizes, G, X0 = stream_
    p = _problem(sizes)
    a = compiled_steps(optim.adan(0.05, beta1=beta1, beta2=0.0, beta3=beta3, eps=eps), p, G, X0)
    b = compiled_steps(optim.adam(0.05, beta1=beta1, beta2=beta3, eps=eps), p, G, X0)
    _assert_close(a, b)


@given(gradient_streams(steps=8), st.integers(0, 2 ** 20))
def test_eps_zero_steps_ignore_positive_per_coordinate_gradient_scales(stream_, seed):
    sizes, G, X0 = stream_
    p = _problem(sizes)
    D = 2.0 ** np.random.default_rng(seed).integers(-30, 30, p.dim)   # exact: powers of two
    opt = optim.adan(0.05, eps=0.0)
    np.testing.assert_array_equal(compiled_steps(opt, p, G, X0), compiled_steps(opt, p, G * D, X0))


def _axis(d=6):
    return simopt.quadratic(np.ones(d), xstar=np.zeros(d), seed=0)


def _ours(opt, G, x0):
    return compiled_steps(opt, _axis(G.shape[1]), G[:, None], x0)[:, 0]


@pytest.mark.parametrize("wd", [0.0, 0.2])
def test_parity_with_pytorch_optimizer(wd):
    """pytorch_optimizer.Adan computes the official sail-sg update (difference term weighted by beta2,
    no difference at the first step, bias corrections, proximal decay by default)."""
    po = pytest.importorskip("pytorch_optimizer")
    G, x0 = stream(seed=5, zeros=0.1)
    ours = _ours(optim.adan(1e-2, beta1=0.9, beta2=0.8, beta3=0.95, weight_decay=wd), G, x0)
    theirs = torch_iterates(lambda ps: po.Adan(ps, lr=1e-2, betas=(0.9, 0.8, 0.95), weight_decay=wd,
                                               foreach=False), G, x0)
    assert rel_err(ours, theirs) <= 1e-12


def test_optax_weights_the_difference_term_by_one_minus_beta2():
    """optax.adan uses 1 - beta2 where the paper and the official code use beta2: the trajectories part
    (by far more than rounding), and agree when every gradient difference is 0 (a constant gradient).
    (optax's ``eps_root``, 1e-8 under the square root by default, is set to 0: Adan has none.)"""
    optax = pytest.importorskip("optax")
    G, x0 = stream(seed=6)
    ours = _ours(optim.adan(1e-2), G, x0)
    assert rel_err(ours, optax_iterates(optax.adan(1e-2, eps_root=0.0), G, x0)) > 1e-3
    C = np.repeat(G[:1], 50, axis=0)
    theirs = optax_iterates(optax.adan(1e-2, eps_root=0.0), C, x0)
    assert rel_err(_ours(optim.adan(1e-2), C, x0), theirs) <= 1e-12


def test_run_on_a_quadratic_equals_pytorch_optimizer():
    po = pytest.importorskip("pytorch_optimizer")
    p = simopt.quadratic(simopt.spectra.logspace(8, 1.0, 30.0), rotation="haar", xstar=np.zeros(8), seed=2)
    res = simopt.run(p, optim.adan(2e-2, weight_decay=0.1), 50, record=("x",))
    ref = torch_on_problem(lambda ps: po.Adan(ps, lr=2e-2, weight_decay=0.1, foreach=False), p, 50)
    assert rel_err(res.records["x"][0], ref) <= 1e-12


def test_defaults_and_bad_hyperparameters():
    assert optim.adan().hyperparams() == {"beta1": 0.98, "beta2": 0.92, "beta3": 0.99, "eps": 1e-8}
    assert optim.adan().rule.decay == "proximal"
    with pytest.raises(ValueError, match="beta3"):
        optim.adan(1e-3, beta3=1.0)
    with pytest.raises(ValueError, match="eps"):
        optim.adan(1e-3, eps=-1e-8)
