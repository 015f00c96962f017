"""Diagonal-preconditioned GD, x <- x - lr diag(H)^-p g: compiled == NumPy reference, p = 0 is SGD bit for
bit, p = 1 with lr = 1 is Newton's step on an axis-aligned quadratic (x* in one step) but not on a rotated
one, and p = 1 is invariant under a diagonal rescaling of the coordinates while p = 1/2 is not."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import simopt
from simopt import noise, optim, spectra
from simopt.testing import compiled_steps, reference_steps
from test_optim_kernels import _assert_close, _problem, gradient_streams


@given(gradient_streams(), st.floats(0.0, 2.0), st.floats(1e-4, 1.0))
def test_compiled_step_equals_reference(stream, power, lr):
    sizes, G, X0 = stream
    p = _problem(sizes)
    for opt in (optim.diag_precond(lr, power=power), optim.diag_precond(lr, power=power, weight_decay=0.05)):
        _assert_close(compiled_steps(opt, p, G, X0), reference_steps(opt, p, G, X0))


def test_power_zero_is_sgd():
    p = simopt.quadratic(spectra.logspace(10, 1.0, 50.0), rotation="haar", noise=noise.gaussian(0.1), seed=1)
    a = simopt.run(p, optim.diag_precond(0.01, power=0.0), 50, runs=3, seed=2, record=("x",))
    b = simopt.run(p, optim.sgd(0.01), 50, runs=3, seed=2, record=("x",))
    np.testing.assert_array_equal(a.records["x"], b.records["x"])


def test_gn_inverse_reaches_the_minimiser_in_one_step_on_an_axis_aligned_quadratic():
    lam = spectra.logspace(20, 1e-3, 1e3)
    p = simopt.quadratic(lam, seed=3)
    r = simopt.run(p, optim.diag_precond(1.0, power=1.0), 1)
    assert r.loss[0, 1] <= 1e-28 * r.loss[0, 0]
    q = simopt.quadratic(lam, rotation="haar", seed=3)
    assert simopt.run(q, optim.diag_precond(1.0, power=1.0), 1).loss[0, 1] > 1e-3 * q.f0
    h = simopt.run(p, optim.diag_precond(1.0, power=0.5), 1)              # GN^-1/2: not Newton
    assert h.loss[0, 1] > 1e-3 * p.f0


def test_gn_inverse_is_invariant_under_diagonal_rescaling_and_gn_inverse_sqrt_is_not():
    lam = spectra.logspace(8, 1.0, 100.0)
    D = 2.0 ** np.arange(-3, 5)
    x0 = np.random.default_rng(1).standard_normal(8)
    p = simopt.quadratic(lam, x0=x0, xstar=np.zeros(8), noise=noise.gaussian(0.05 * np.ones(8)), seed=0)
    q = simopt.quadratic(lam / D ** 2, x0=D * x0, xstar=np.zeros(8), noise=noise.gaussian(0.05 / D), seed=0)

    def dev(power, lr):
        a = simopt.run(p, optim.diag_precond(lr, power=power), 40, runs=2, seed=3, record=("x",)).records["x"]
        b = simopt.run(q, optim.diag_precond(lr, power=power), 40, runs=2, seed=3, record=("x",)).records["x"]
        return np.max(np.abs(b - D * a)) / np.max(np.abs(b))

    assert dev(1.0, 0.5) < 1e-13
    assert dev(0.5, 0.05) > 1e-2


def test_power_must_be_nonnegative():
    with pytest.raises(ValueError, match="power"):
        optim.diag_precond(0.1, power=-1.0)


def test_a_preconditioner_that_overflows_is_a_clear_error():
    p = simopt.quadratic([1e-300, 1.0], seed=0)
    with pytest.raises(ValueError, match="non-finite"):
        simopt.run(p, optim.diag_precond(0.1, power=2.0), 3)
