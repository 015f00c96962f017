"""Lion (Chen et al. 2023): compiled == NumPy reference, its limits (signum, sign descent), its invariance
to positive per-coordinate gradient scaling, and parity with lion-pytorch and pytorch-optimizer."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import simopt
from simopt import optim
from simopt.testing import compiled_steps, reference_steps
from _parity import edge_streams, rel_err, stream, torch_iterates, torch_on_problem
from test_optim_kernels import _assert_close, _problem, gradient_streams


@given(gradient_streams(steps=6), st.data())
def test_compiled_step_equals_reference(stream_, data):
    sizes, G, X0 = stream_
    p = _problem(sizes)

    def f(lo, hi):
        return data.draw(st.floats(lo, hi))

    for opt in (optim.lion(f(1e-4, 1.0), beta1=f(0.0, 0.99), beta2=f(0.0, 0.999)),
                optim.lion(f(1e-4, 1.0), weight_decay=f(0.0, 0.5))):
        a = compiled_steps(opt, p, G, X0)
        assert np.all(np.isfinite(a))
        _assert_close(a, reference_steps(opt, p, G, X0))


@pytest.mark.parametrize("case", ["zero", "1e-100", "1e100"])
def test_zero_gradients_and_extreme_scales_give_no_nan(case):
    G, X0 = edge_streams()[["zero", "1e-100", "1e100"].index(case)]
    p = _problem([2, 3])
    for opt in [optim.lion(0.1), optim.lion(0.1, beta1=0.0, beta2=0.5)]:
        a = compiled_steps(opt, p, G, X0)
        assert np.all(np.isfinite(a)), opt
        _assert_close(a, reference_steps(opt, p, G, X0))
        if case == "zero":
            np.testing.assert_array_equal(a[-1], X0)     # no gradient, no move


@given(gradient_streams(steps=8), st.floats(0.0, 0.99))
def test_equal_betas_is_signum_and_beta1_zero_is_sign_descent(stream_, beta):
    """c_t = beta m + (1 - beta) g is then the momentum itself (Lion's Alg. 2 with beta1 = beta2)."""
    sizes, G, X0 = stream_
    p = _problem(sizes)
    np.testing.assert_array_equal(compiled_steps(optim.lion(0.1, beta1=beta, beta2=beta), p, G, X0),
                                  compiled_steps(optim.signum(0.1, beta=beta), p, G, X0))
    np.testing.assert_array_equal(compiled_steps(optim.lion(0.1, beta1=0.0, beta2=beta), p, G, X0),
                                  compiled_steps(optim.sign(0.1), p, G, X0))


_BETA = st.one_of(st.just(0.0), st.floats(1e-3, 0.99))     # no beta that underflows beta * m to 0


@given(gradient_streams(steps=8), st.integers(0, 2 ** 20), _BETA, _BETA)
def test_steps_ignore_positive_per_coordinate_gradient_scales(stream_, seed, beta1, beta2):
    """sign(D c) = sign(c) for a positive diagonal D (powers of two, so D c is exact while nothing
    underflows)."""
    sizes, G, X0 = stream_
    p = _problem(sizes)
    D = 2.0 ** np.random.default_rng(seed).integers(-40, 40, p.dim)
    opt = optim.lion(0.1, beta1=beta1, beta2=beta2)
    np.testing.assert_array_equal(compiled_steps(opt, p, G, X0), compiled_steps(opt, p, G * D, X0))


def _axis(d=6):
    return simopt.quadratic(np.ones(d), xstar=np.zeros(d), seed=0)


@pytest.mark.parametrize("wd", [0.0, 0.3])
def test_parity_with_lion_pytorch_and_pytorch_optimizer(wd):
    lion_pytorch = pytest.importorskip("lion_pytorch")
    po = pytest.importorskip("pytorch_optimizer")
    G, x0 = stream(seed=1)
    opt = optim.lion(1e-2, beta1=0.8, beta2=0.95, weight_decay=wd)
    ours = compiled_steps(opt, _axis(), G[:, None], x0)[:, 0]
    a = torch_iterates(lambda ps: lion_pytorch.Lion(ps, lr=1e-2, betas=(0.8, 0.95), weight_decay=wd), G, x0)
    b = torch_iterates(lambda ps: po.Lion(ps, lr=1e-2, betas=(0.8, 0.95), weight_decay=wd, foreach=False),
                       G, x0)
    assert rel_err(ours, a) <= 1e-12
    assert rel_err(ours, b) <= 1e-12


def test_run_on_a_quadratic_equals_lion_pytorch():
    lion_pytorch = pytest.importorskip("lion_pytorch")
    p = simopt.quadratic(simopt.spectra.logspace(8, 1.0, 30.0), rotation="haar", xstar=np.zeros(8), seed=2)
    res = simopt.run(p, optim.lion(3e-3, weight_decay=0.1), 50, record=("x",))
    ref = torch_on_problem(lambda ps: lion_pytorch.Lion(ps, lr=3e-3, weight_decay=0.1), p, 50)
    assert rel_err(res.records["x"][0], ref) <= 1e-12
    np.testing.assert_allclose(res.loss[0], p.loss(ref), rtol=1e-10)


def test_defaults_and_bad_hyperparameters():
    assert optim.lion().describe() == {"name": "lion", "lr": 1e-4, "beta1": 0.9, "beta2": 0.99}
    with pytest.raises(ValueError, match="beta1"):
        optim.lion(1e-3, beta1=1.0)
    with pytest.raises(ValueError, match="beta2"):
        optim.lion(1e-3, beta2=-0.1)
    with pytest.raises(ValueError, match="weight_decay"):
        optim.lion(1e-3, weight_decay=-1.0)
    assert optim.make("lion", lr=1e-3, beta2=0.98) == optim.lion(1e-3, beta2=0.98)
