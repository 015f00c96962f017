"""Normalized SGD with momentum (Cutkosky & Mehta 2020): compiled == NumPy reference, every step has length
exactly lr (the normalization comes after the momentum), beta = 0 is normalized GD, beta > 0 is not
simopt's normalized_gd with momentum (which normalizes before), and the rule is rotation-equivariant."""
import numpy as np
from hypothesis import given
from hypothesis import strategies as st

import simopt
from simopt import noise, optim, spectra
from simopt.testing import compiled_steps, reference_steps
from test_optim_kernels import _assert_close, _problem, gradient_streams


@given(gradient_streams(), st.floats(0.0, 0.99), st.floats(1e-4, 1.0))
def test_compiled_step_equals_reference_and_every_step_has_length_lr(stream, beta, lr):
    sizes, G, X0 = stream
    p = _problem(sizes)
    opt = optim.nsgd_momentum(lr, beta=beta)
    a = compiled_steps(opt, p, G, X0)
    _assert_close(a, reference_steps(opt, p, G, X0))
    wd = optim.nsgd_momentum(lr, beta=beta, weight_decay=0.1)
    _assert_close(compiled_steps(wd, p, G, X0), reference_steps(wd, p, G, X0))
    m = np.zeros_like(X0)
    for t in range(G.shape[0]):                 # |x_{t+1} - x_t| = lr while m_t != 0, else 0
        m = beta * m + (1 - beta) * G[t]
        moved = np.linalg.norm(a[t + 1] - a[t], axis=1)
        # the step is exactly lr (up to the rounding of x, whose size is the scale of X0)
        tol = 1e-12 * lr + 1e-15 * np.linalg.norm(a[t], axis=1) * np.sqrt(p.dim)
        assert np.all(np.abs(moved - np.where(np.any(m != 0, axis=1), lr, 0.0)) <= tol)


def _problems(rotation):
    lam = spectra.logspace(12, 1.0, 100.0)
    return simopt.quadratic(lam, rotation=rotation, xstar=np.zeros(12), seed=4)


def test_beta_zero_is_normalized_gd_and_beta_positive_differs_from_normalizing_first():
    p = _problems("haar").with_noise(noise.gaussian(0.2))
    a = simopt.run(p, optim.nsgd_momentum(0.01, beta=0.0), 60, runs=2, seed=1, record=("x",)).records["x"]
    b = simopt.run(p, optim.normalized_gd(0.01), 60, runs=2, seed=1, record=("x",)).records["x"]
    np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-13)
    c = simopt.run(p, optim.nsgd_momentum(0.01, beta=0.9), 60, runs=2, seed=1, record=("x",)).records["x"]
    e = simopt.run(p, optim.normalized_gd(0.01, momentum=0.9), 60, runs=2, seed=1, record=("x",)).records["x"]
    assert np.max(np.abs(c - e)) > 1e-2


def test_rotation_equivariance():
    """Run on R diag(lam) R^T from R y0 = R times the run on diag(lam) from y0 (noise-free)."""
    rot, flat = _problems("haar"), _problems("none")
    _, R = rot.eigh()                                       # H = R diag(lam) R^T, lam ascending
    flat = flat.with_x0(R.T @ rot.x0)
    opt = optim.nsgd_momentum(0.05, beta=0.9)
    a = simopt.run(rot, opt, 80, record=("x",)).records["x"][0]
    b = simopt.run(flat, opt, 80, record=("x",)).records["x"][0]
    np.testing.assert_allclose(a, b @ R.T, rtol=1e-10, atol=1e-12)
    adam_a = simopt.run(rot, optim.adam(0.05), 80, record=("x",)).records["x"][0]
    adam_b = simopt.run(flat, optim.adam(0.05), 80, record=("x",)).records["x"][0]
    assert np.max(np.abs(adam_a - adam_b @ R.T)) > 1e-2


def test_tiny_and_huge_momenta_still_give_unit_steps():
    """|m| ~ 1e-157 (its square is subnormal) or 1e+200 (its square overflows): the step stays exactly lr."""
    p = simopt.quadratic([1.0, 2.0, 3.0], xstar=np.zeros(3))
    for scale in (1e-157, 1e-300, 1e200):
        G = np.array([[[3.0, -4.0, 0.0]]]) * scale
        x = compiled_steps(optim.nsgd_momentum(0.5, beta=0.5), p, G, np.zeros(3))
        np.testing.assert_allclose(x[1, 0], [-0.3, 0.4, 0.0], rtol=1e-15, atol=0)
        np.testing.assert_allclose(reference_steps(optim.nsgd_momentum(0.5, beta=0.5), p, G, np.zeros(3)), x,
                                   rtol=1e-15, atol=0)
