"""ADOPT (Taniguchi et al. 2024): compiled == NumPy reference, its properties (no move at the first step,
a step linear in the current gradient, invariance to positive per-coordinate gradient scales at eps = 0),
parity with the official torch-adopt and with optax, and the clipping-count discrepancy of
pytorch-optimizer."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import simopt
from simopt import optim
from simopt.testing import compiled_steps, reference_steps
from _parity import edge_streams, optax_iterates, rel_err, stream, torch_iterates, torch_on_problem
from test_optim_kernels import _assert_close, _problem, gradient_streams

pytestmark = [pytest.mark.filterwarnings("ignore:.*is_compiling.*:UserWarning"),   # torch-adopt on torch 2.x
              pytest.mark.filterwarnings("ignore:Use _accelerator_graph:DeprecationWarning")]


@given(gradient_streams(steps=7), st.data())
def test_compiled_step_equals_reference(stream_, data):
    sizes, G, X0 = stream_
    p = _problem(sizes)

    def f(lo, hi):
        return data.draw(st.floats(lo, hi))

    for opt in (optim.adopt(f(1e-4, 1.0), beta1=f(0.0, 0.99), beta2=f(0.0, 0.9999), eps=f(1e-12, 1e-3)),
                optim.adopt(f(1e-4, 1.0), eps=0.0),                       # 0/0 := 0, g/0 -> the bound
                optim.adopt(f(1e-4, 1.0), eps=f(1e-8, 1e-3), clip=False, weight_decay=f(0.0, 0.5))):
        a = compiled_steps(opt, p, G, X0)
        assert np.all(np.isfinite(a))
        _assert_close(a, reference_steps(opt, p, G, X0))


@pytest.mark.parametrize("case", ["zero", "1e-100", "1e100"])
def test_zero_gradients_and_extreme_scales_give_no_nan(case):
    G, X0 = edge_streams()[["zero", "1e-100", "1e100"].index(case)]
    p = _problem([2, 3])
    for opt in [optim.adopt(0.1), optim.adopt(0.1, eps=0.0), optim.adopt(0.1, clip=False)]:
        a = compiled_steps(opt, p, G, X0)
        assert np.all(np.isfinite(a)), opt
        _assert_close(a, reference_steps(opt, p, G, X0))
        if case == "zero":
            np.testing.assert_array_equal(a[-1], X0)     # no gradient, no move


@given(gradient_streams(steps=6), st.integers(2, 6), st.floats(0.1, 10.0))
def test_first_step_only_initialises_and_the_step_is_linear_in_the_current_gradient(stream_, t, s):
    """v_{t-1} excludes g_t: with beta1 = 0 and no clipping, x_{t+1} - x_t = -lr g_t / max(sqrt v_{t-1}, eps),
    so scaling g_t alone scales the step by the same factor (Adam's step is not linear in g_t)."""
    sizes, G, X0 = stream_
    p = _problem(sizes)
    opt = optim.adopt(0.1, beta1=0.0, clip=False)
    a = compiled_steps(opt, p, G, X0)
    np.testing.assert_array_equal(a[1], a[0])
    H = G.copy()
    H[t - 1] *= s
    b = compiled_steps(opt, p, H, X0)
    np.testing.assert_allclose(b[t] - b[t - 1], s * (a[t] - a[t - 1]), rtol=1e-12,
                               atol=1e-13 * np.abs(a[t - 1]).max())


@given(gradient_streams(steps=8), st.integers(0, 2 ** 20))
def test_eps_zero_steps_ignore_positive_per_coordinate_gradient_scales(stream_, seed):
    """g/sqrt(v) is scale-free per coordinate, and so is the clipping bound where v is still 0."""
    sizes, G, X0 = stream_
    p = _problem(sizes)
    D = 2.0 ** np.random.default_rng(seed).integers(-30, 30, p.dim)   # exact: powers of two
    opt = optim.adopt(0.05, beta2=0.9, eps=0.0)
    np.testing.assert_array_equal(compiled_steps(opt, p, G, X0), compiled_steps(opt, p, G * D, X0))


def _axis(d=6):
    return simopt.quadratic(np.ones(d), xstar=np.zeros(d), seed=0)


def _ours(opt, G, x0):
    return compiled_steps(opt, _axis(G.shape[1]), G[:, None], x0)[:, 0]


@pytest.mark.parametrize("clip", [True, False])
def test_parity_with_the_official_adopt_and_optax(clip):
    adopt = pytest.importorskip("adopt")
    G, x0 = stream(seed=2, zeros=0.1)
    ours = _ours(optim.adopt(1e-2, beta1=0.8, beta2=0.99, clip=clip), G, x0)
    kw = {} if clip else {"clip_lambda": None}
    official = torch_iterates(lambda ps: adopt.ADOPT(ps, lr=1e-2, betas=(0.8, 0.99), foreach=False, **kw),
                              G, x0)
    assert rel_err(ours, official) <= 1e-12
    optax = pytest.importorskip("optax")
    ox = optax_iterates(optax.contrib.adopt(1e-2, b1=0.8, b2=0.99, use_clipping=clip), G, x0)
    assert rel_err(ours, ox) <= 1e-12


def test_pytorch_optimizer_clips_one_step_later():
    """pytorch_optimizer.ADOPT increments its step count before clipping: the t-th call is clipped at
    t^(1/4), not (t-1)^(1/4) as the official code.  Without clipping the two agree."""
    po = pytest.importorskip("pytorch_optimizer")
    G, x0 = stream(seed=3, scale=[1e-3, 1e-3, 1.0, 1.0, 1e3, 1e3])  # large g/sqrt(v): clipping active
    clipped = torch_iterates(lambda ps: po.ADOPT(ps, lr=1e-2, foreach=False), G, x0)
    assert rel_err(_ours(optim.adopt(1e-2), G, x0), clipped) > 1e-4
    unclipped = torch_iterates(lambda ps: po.ADOPT(ps, lr=1e-2, clip_lambda=None, foreach=False), G, x0)
    assert rel_err(_ours(optim.adopt(1e-2, clip=False), G, x0), unclipped) <= 1e-12


def test_weight_decay_is_decoupled_and_also_applied_at_the_first_step():
    """The official decouple=True skips the decay at its moment-initialising first call; simopt's engine
    decays then too, so simopt's run equals the official one started from (1 - lr wd) x0."""
    adopt = pytest.importorskip("adopt")
    G, x0 = stream(seed=4)
    lr, wd = 1e-2, 0.2
    ours = _ours(optim.adopt(lr, weight_decay=wd), G, x0)
    official = torch_iterates(lambda ps: adopt.ADOPT(ps, lr=lr, weight_decay=wd, decouple=True,
                                                     foreach=False),
                              G, (1.0 - lr * wd) * x0)
    assert rel_err(ours[1:], official[1:]) <= 1e-12


def test_run_on_a_quadratic_equals_the_official_adopt():
    adopt = pytest.importorskip("adopt")
    p = simopt.quadratic(simopt.spectra.logspace(8, 1.0, 30.0), rotation="haar", xstar=np.zeros(8), seed=2)
    res = simopt.run(p, optim.adopt(2e-2, beta2=0.99), 50, record=("x",))
    ref = torch_on_problem(lambda ps: adopt.ADOPT(ps, lr=2e-2, betas=(0.9, 0.99), foreach=False), p, 50)
    assert rel_err(res.records["x"][0], ref) <= 1e-12


def test_defaults_and_bad_hyperparameters():
    assert optim.adopt().hyperparams() == {"beta1": 0.9, "beta2": 0.9999, "eps": 1e-6, "clip": True}
    with pytest.raises(ValueError, match="eps"):
        optim.adopt(1e-3, eps=0.0, clip=False)
    with pytest.raises(ValueError, match="beta2"):
        optim.adopt(1e-3, beta2=1.0)
    with pytest.raises(TypeError, match="clip"):
        optim.adopt(1e-3, clip=1)
