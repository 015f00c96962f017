"""Full-matrix AdaGrad (Duchi et al. 2011) and Shampoo on a vector (Gupta et al. 2018): compiled == NumPy
reference, each equals a literal transcription of its formula (matrix square root and linear solve), Shampoo
equals pytorch_optimizer.Shampoo on a 1-d parameter, both coincide exactly at eps = 0, full-matrix AdaGrad
is diagonal AdaGrad when every G_t is diagonal, and both are rotation-equivariant (diagonal AdaGrad is not)."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import simopt
from simopt import noise, optim, spectra
from simopt.testing import compiled_steps, reference_steps
from test_optim_kernels import _assert_close, _problem, gradient_streams


@given(gradient_streams(steps=6), st.sampled_from([0.0, 1e-10, 1e-3, 1.0]), st.floats(1e-4, 1.0))
def test_compiled_step_equals_reference(stream, eps, lr):
    sizes, G, X0 = stream
    p = _problem(sizes)
    for opt in (optim.full_matrix_adagrad(lr, eps=eps), optim.shampoo_vector(lr, eps=eps),
                optim.shampoo_vector(lr, weight_decay=0.05)):
        a = compiled_steps(opt, p, G, X0)
        _assert_close(a, reference_steps(opt, p, G, X0))
        assert np.all(np.isfinite(a))


def _psd_sqrt(A):
    w, V = np.linalg.eigh(A)
    return (V * np.sqrt(np.clip(w, 0.0, None))) @ V.T


def _transcription(G, x0, lr, eps, form):
    """The formulas as written: (eps I + G_t^{1/2})^{-1} g_t (Duchi) or (eps I + G_t)^{-1/2} g_t (Gupta),
    through a matrix square root and a linear solve."""
    x = x0.copy()
    S = np.zeros((x.size, x.size))
    out = [x.copy()]
    for g in G:
        S += np.outer(g, g)
        P = eps * np.eye(x.size) + _psd_sqrt(S) if form == "adagrad" else _psd_sqrt(eps * np.eye(x.size) + S)
        x = x - lr * np.linalg.solve(P, g)
        out.append(x.copy())
    return np.stack(out)


def _stream(steps=50, d=6, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((steps, 1, d)), rng.standard_normal((1, d))


@pytest.mark.parametrize("form,eps", [("adagrad", 0.1), ("adagrad", 1.0), ("shampoo", 0.1), ("shampoo", 1e-6)])
def test_equals_a_transcription_of_the_formula(form, eps):
    G, X0 = _stream()
    p = simopt.quadratic(np.ones(6), xstar=np.zeros(6))
    opt = (optim.full_matrix_adagrad if form == "adagrad" else optim.shampoo_vector)(0.1, eps=eps)
    np.testing.assert_allclose(compiled_steps(opt, p, G, X0)[:, 0], _transcription(G[:, 0], X0[0], 0.1, eps, form),
                               rtol=1e-11, atol=1e-12)


def test_shampoo_equals_pytorch_optimizer_shampoo_on_a_vector():
    torch = pytest.importorskip("torch")
    po = pytest.importorskip("pytorch_optimizer")
    G, X0 = _stream(seed=3)
    p = simopt.quadratic(np.ones(6), xstar=np.zeros(6))
    for eps in (1e-6, 1e-2):
        ours = compiled_steps(optim.shampoo_vector(0.05, eps=eps), p, G, X0)[:, 0]
        w = torch.nn.Parameter(torch.tensor(X0[0]))
        opt = po.Shampoo([w], lr=0.05, momentum=0.0, matrix_eps=eps, preconditioning_compute_steps=1)
        theirs = [w.detach().numpy().copy()]
        for g in G[:, 0]:
            w.grad = torch.tensor(g)
            opt.step()
            theirs.append(w.detach().numpy().copy())
        np.testing.assert_allclose(ours, np.stack(theirs), rtol=1e-12, atol=1e-12)


def test_end_to_end_shampoo_run_equals_pytorch_optimizer():
    torch = pytest.importorskip("torch")
    po = pytest.importorskip("pytorch_optimizer")
    p = simopt.quadratic(spectra.logspace(6, 1.0, 30.0), rotation="haar", seed=1, xstar=np.zeros(6))
    res = simopt.run(p, optim.shampoo_vector(0.3, eps=1e-2), 50, record=("x",))
    H = torch.tensor(p.hessian())
    w = torch.nn.Parameter(torch.tensor(p.x0))
    opt = po.Shampoo([w], lr=0.3, momentum=0.0, matrix_eps=1e-2)
    for t in range(50):
        w.grad = H @ w.detach()
        opt.step()
        np.testing.assert_allclose(res.records["x"][0, t + 1], w.detach().numpy(), rtol=1e-12, atol=1e-12)
    assert res.loss[0, -1] < 1e-2 * res.loss[0, 0]


def test_the_two_rules_coincide_at_zero_eps_and_differ_otherwise():
    p = simopt.quadratic(spectra.logspace(10, 1.0, 100.0), rotation="haar", noise=noise.gaussian(0.1), seed=2)
    run = lambda o: simopt.run(p, o, 60, runs=2, seed=4, record=("x",)).records["x"]  # noqa: E731
    np.testing.assert_array_equal(run(optim.full_matrix_adagrad(0.1, eps=0.0)), run(optim.shampoo_vector(0.1, eps=0.0)))
    a, b = run(optim.full_matrix_adagrad(0.1, eps=0.5)), run(optim.shampoo_vector(0.1, eps=0.5))
    assert np.max(np.abs(a - b)) > 1e-3


def test_diagonal_statistics_reduce_full_matrix_adagrad_to_adagrad():
    """Gradients that each touch one coordinate keep G_t diagonal: the rule is then torch's Adagrad."""
    rng = np.random.default_rng(5)
    steps, runs, d = 40, 3, 5
    G = np.zeros((steps, runs, d))
    hit = rng.integers(0, d, size=(steps, runs))
    G[np.arange(steps)[:, None], np.arange(runs)[None, :], hit] = rng.uniform(0.5, 2.0, (steps, runs))
    p = simopt.quadratic(np.ones(d), xstar=np.zeros(d))
    X0 = rng.standard_normal((runs, d))
    np.testing.assert_allclose(compiled_steps(optim.full_matrix_adagrad(0.1, eps=1e-3), p, G, X0),
                               compiled_steps(optim.adagrad(0.1, eps=1e-3), p, G, X0), rtol=1e-13, atol=1e-14)


@pytest.mark.parametrize("ctor", [optim.full_matrix_adagrad, optim.shampoo_vector])
def test_rotation_equivariance(ctor):
    """On R diag(lam) R^T from R y0 the iterates are R times those on diag(lam) from y0; AdaGrad's are not."""
    lam = spectra.logspace(8, 1.0, 100.0)
    rot = simopt.quadratic(lam, rotation="haar", xstar=np.zeros(8), seed=6)
    _, R = rot.eigh()
    flat = simopt.quadratic(lam, x0=R.T @ rot.x0, xstar=np.zeros(8), seed=6)
    for opt, holds in ((ctor(0.3, eps=1e-3), True), (optim.adagrad(0.3, eps=1e-3), False)):
        a = simopt.run(rot, opt, 60, record=("x",)).records["x"][0]
        b = simopt.run(flat, opt, 60, record=("x",)).records["x"][0]
        dev = np.max(np.abs(a - b @ R.T)) / np.max(np.abs(a))
        assert (dev < 1e-10) if holds else (dev > 1e-2), dev


def test_zero_gradients_give_no_step_and_bad_eps_is_rejected():
    p = _problem([2, 3])
    x = compiled_steps(optim.full_matrix_adagrad(0.1, eps=0.0), p, np.zeros((3, 2, 5)), np.ones(5))
    assert np.array_equal(x, np.ones_like(x))
    for ctor in (optim.full_matrix_adagrad, optim.shampoo_vector):
        with pytest.raises(ValueError, match="eps"):
            ctor(0.1, eps=-1e-3)
