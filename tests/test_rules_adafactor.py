"""Adafactor on vectors (Shazeer & Stern 2018, Alg. 4): compiled == NumPy reference, the sign-descent
limit, the update-clipping bound, the step relative to the absolute parameter (no translation
invariance), and parity with pytorch-optimizer and optax (optax's float32 beta2 schedule shown)."""
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

    for opt in (optim.adafactor(),
                optim.adafactor(f(0.1, 10.0), beta1=f(0.0, 0.99), decay_rate=f(0.0, 1.0), eps1=f(0.0, 1e-20),
                                eps2=f(0.0, 1e-2), clip_threshold=f(0.1, 10.0), weight_decay=f(0.0, 0.5)),
                optim.adafactor(f(1e-4, 1.0), eps1=0.0, relative_step=False, scale_parameter=False)):
        a = compiled_steps(opt, p, G, X0)
        assert np.all(np.isfinite(a))
        _assert_close(a, reference_steps(opt, p, G, X0))


@pytest.mark.parametrize("case", ["zero", "1e-100", "1e100"])
def test_zero_gradients_and_extreme_scales_give_no_nan(case):
    G, X0 = edge_streams()[["zero", "1e-100", "1e100"].index(case)]
    p = _problem([2, 3])
    for opt in [optim.adafactor(), optim.adafactor(eps1=0.0, beta1=0.9),
                optim.adafactor(0.1, eps1=0.0, relative_step=False, scale_parameter=False)]:
        a = compiled_steps(opt, p, G, X0)
        assert np.all(np.isfinite(a)), opt
        _assert_close(a, reference_steps(opt, p, G, X0))
        if case == "zero":
            np.testing.assert_array_equal(a[-1], X0)     # no gradient, no move


@given(gradient_streams(steps=8), st.floats(1e-3, 1.0))
def test_no_averaging_no_scaling_is_sign_descent(stream_, lr):
    """decay_rate = 0 makes beta2_t = 0, so with eps1 = 0: u = g/sqrt(g^2) = sign(g) exactly, RMS(u) <= 1 is
    never clipped, and the absolute step lr gives x <- x - lr sign(g)."""
    sizes, G, X0 = stream_
    p = _problem(sizes)
    opt = optim.adafactor(lr, decay_rate=0.0, eps1=0.0, relative_step=False, scale_parameter=False)
    np.testing.assert_array_equal(compiled_steps(opt, p, G, X0), compiled_steps(optim.sign(lr), p, G, X0))


@given(gradient_streams(steps=8), st.floats(0.3, 3.0), st.floats(0.0, 1.0))
def test_every_step_is_clipped_to_the_relative_step(stream_, threshold, decay_rate):
    """RMS(x_{t+1} - x_t) <= d rho_t max(eps2, RMS(X_t)) (beta1 = 0): update clipping, then the relative
    step."""
    sizes, G, X0 = stream_
    p = _problem(sizes)
    X = compiled_steps(optim.adafactor(clip_threshold=threshold, decay_rate=decay_rate), p, G, X0)
    rms = lambda a: np.sqrt(np.mean(a * a, axis=-1))           # noqa: E731
    for t in range(1, G.shape[0] + 1):
        bound = threshold * min(1e-2, t ** -0.5) * np.maximum(1e-3, rms(X[t - 1] + p.xstar))
        assert np.all(rms(X[t] - X[t - 1]) <= bound * (1 + 1e-12) + 1e-15 * rms(X[t - 1]))


def test_the_step_is_relative_to_the_absolute_parameter():
    """The same error coordinates and gradients, x* moved: the trajectory changes with scale_parameter
    (RMS of x + x*), not without it."""
    rng = np.random.default_rng(7)
    G, x0 = rng.standard_normal((20, 1, 5)), rng.standard_normal(5)
    near = simopt.quadratic(np.ones(5), xstar=np.zeros(5), seed=0)
    far = simopt.quadratic(np.ones(5), xstar=np.full(5, 30.0), seed=0)
    rel = optim.adafactor()
    assert rel_err(compiled_steps(rel, far, G, x0) - x0, compiled_steps(rel, near, G, x0) - x0) > 1.0
    plain = optim.adafactor(scale_parameter=False)
    np.testing.assert_array_equal(compiled_steps(plain, far, G, x0), compiled_steps(plain, near, G, x0))


def _axis(d=6):
    return simopt.quadratic(np.ones(d), xstar=np.zeros(d), seed=0)


def _ours(opt, G, x0):
    return compiled_steps(opt, _axis(G.shape[1]), G[:, None], x0)[:, 0]


@pytest.mark.parametrize("beta1", [0.0, 0.9])
def test_parity_with_pytorch_optimizer(beta1):
    """pytorch_optimizer.AdaFactor on a vector (unfactored), relative step, parameter scale, momentum in
    float64 (its default is bfloat16) and its beta2_t cap above 1 - t^-0.8 for these 50 steps."""
    torch = pytest.importorskip("torch")
    po = pytest.importorskip("pytorch_optimizer")
    G, x0 = stream(seed=8, zeros=0.1)
    theirs = torch_iterates(lambda ps: po.AdaFactor(ps, lr=None, betas=(beta1 or None, 1.0 - 1e-12),
                                                    momentum_dtype=torch.float64, foreach=False), G, x0)
    assert rel_err(_ours(optim.adafactor(beta1=beta1), G, x0), theirs) <= 1e-12


def test_parity_with_torch_adafactor_at_eps1_zero():
    """torch.optim.Adafactor: lr = 1e-2 is its cap of rho_t; max(v, eps1) instead of g^2 + eps1 is the same
    at eps1 = 0 (a stream without exact zeros, where torch would divide 0 by 0)."""
    torch = pytest.importorskip("torch")
    G, x0 = stream(seed=15)
    theirs = torch_iterates(lambda ps: torch.optim.Adafactor(ps, lr=1e-2, eps=(0.0, 1e-3), foreach=False),
                            G, x0)
    assert rel_err(_ours(optim.adafactor(eps1=0.0), G, x0), theirs) <= 1e-12


def _optax_relative_step():
    import jax.numpy as jnp
    return lambda count: jnp.minimum(1e-2, 1.0 / jnp.sqrt(count + 1.0))


def test_parity_with_optax_parts_and_optax_adafactor_float32_schedule():
    """optax's own transformations chained as optax.adafactor chains them, with beta2_t in float64, equal
    simopt's Adafactor to 1e-12; optax.adafactor itself evaluates beta2_t = 1 - t^-0.8 in float32, which
    moves the iterates by about 1e-9 relative."""
    optax = pytest.importorskip("optax")
    G, x0 = stream(seed=9)
    ours = _ours(optim.adafactor(beta1=0.9), G, x0)
    tx = optax.chain(optax.scale_by_factored_rms(decay_rate_fn=lambda i, c: 1.0 - (i + 1.0) ** (-c)),
                     optax.clip_by_block_rms(1.0), optax.scale_by_learning_rate(_optax_relative_step(),
                                                                                flip_sign=False),
                     optax.scale_by_param_block_rms(1e-3), optax.ema(0.9, debias=False), optax.scale(-1.0))
    assert rel_err(ours, optax_iterates(tx, G, x0)) <= 1e-12
    import jax.numpy as jnp
    full = optax_iterates(optax.adafactor(_optax_relative_step(), momentum=0.9, dtype_momentum=jnp.float64),
                          G, x0)
    assert 1e-11 < rel_err(ours, full) < 1e-6


def test_run_on_a_quadratic_equals_pytorch_optimizer():
    torch = pytest.importorskip("torch")
    po = pytest.importorskip("pytorch_optimizer")
    p = simopt.quadratic(simopt.spectra.logspace(8, 1.0, 30.0), rotation="haar", xstar=np.zeros(8), seed=2)
    res = simopt.run(p, optim.adafactor(), 50, record=("x",))
    ref = torch_on_problem(lambda ps: po.AdaFactor(ps, lr=None, betas=(None, 1.0 - 1e-12),
                                                   momentum_dtype=torch.float64, foreach=False), p, 50)
    assert rel_err(res.records["x"][0], ref) <= 1e-12


def test_defaults_and_bad_hyperparameters():
    assert optim.adafactor().describe() == {
        "name": "adafactor", "lr": 1.0, "beta1": 0.0, "decay_rate": 0.8, "eps1": 1e-30, "eps2": 1e-3,
        "clip_threshold": 1.0, "relative_step": True, "scale_parameter": True}
    with pytest.raises(ValueError, match="clip_threshold"):
        optim.adafactor(clip_threshold=0.0)
    with pytest.raises(ValueError, match="decay_rate"):
        optim.adafactor(decay_rate=-0.8)
    with pytest.raises(TypeError, match="relative_step"):
        optim.adafactor(relative_step="yes")
