"""SOAP with 1-d preconditioning (Vyas et al. 2024): compiled == NumPy reference, equal to a step-by-step
transcription of the official nikhilvyas/SOAP algorithm in float64, equal to pytorch_optimizer.SOAP until
its first (float32) basis refresh, and rotation-equivariant wherever the learned eigenbasis has no ties."""
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import simopt
from simopt import noise, optim, spectra
from simopt.optim.rules import soap as soap_mod
from simopt.testing import compiled_steps, reference_steps
from test_optim_kernels import _assert_close, _problem, gradient_streams


@given(gradient_streams(steps=7), st.data())
def test_compiled_step_equals_reference(stream, data):
    sizes, G, X0 = stream
    p = _problem(sizes)
    f = lambda lo, hi: data.draw(st.floats(lo, hi))  # noqa: E731
    opts = (optim.soap(f(1e-4, 1.0), beta1=f(0.0, 0.99), beta2=f(0.0, 0.99), shampoo_beta=f(0.0, 0.99),
                       eps=data.draw(st.sampled_from([0.0, 1e-12, 1e-8, 1e-3])),
                       precondition_frequency=data.draw(st.integers(1, 4)),
                       correct_bias=data.draw(st.booleans()), weight_decay=f(0.0, 0.1)),
            optim.soap(0.1, precondition_frequency=2, eps=0.0))
    for opt in opts:
        a = compiled_steps(opt, p, G, X0)
        _assert_close(a, reference_steps(opt, p, G, X0))
        assert np.all(np.isfinite(a))
        if not opt.weight_decay:
            assert np.array_equal(a[1], a[0])            # the first step only initialises GG and Q


def official_soap_1d(G, x0, lr, beta1, beta2, shampoo_beta, eps, frequency):
    """The official nikhilvyas/SOAP ``SOAP.step`` for one 1-d parameter with ``precondition_1d=True``,
    ``weight_decay=0``, ``correct_bias=True``, written out in NumPy float64 (the official code takes the
    eigh/QR in float32): m lives in the current basis and is projected back and forth on every step."""
    x = x0.copy()
    d = x.size
    GG = np.zeros((d, d))
    Q = None
    m = np.zeros(d)
    v = np.zeros(d)
    step = 0
    out = [x.copy()]

    def update_preconditioner(g):
        nonlocal GG, Q, m, v
        if Q is not None:
            m = Q @ m                                              # project_back
        GG = GG + (1 - shampoo_beta) * (np.outer(g, g) - GG)      # lerp_
        if Q is None:
            Q = np.flip(np.linalg.eigh(GG + 1e-30 * np.eye(d))[1], axis=1)
        if step > 0 and step % frequency == 0:                      # get_orthogonal_matrix_QR
            est = np.diag(Q.T @ GG @ Q)
            idx = np.argsort(-est, kind="stable")
            v = v[idx]
            Q = np.linalg.qr(GG @ Q[:, idx])[0]
        if step > 0:
            m = Q.T @ m                                            # project

    for t, g in enumerate(G):
        if t == 0:
            update_preconditioner(g)
            out.append(x.copy())
            continue
        gp = Q.T @ g
        step += 1
        m = beta1 * m + (1 - beta1) * gp
        v = beta2 * v + (1 - beta2) * gp ** 2
        den = np.sqrt(v) + eps
        size = lr * math.sqrt(1 - beta2 ** step) / (1 - beta1 ** step)
        x = x - size * (Q @ (m / den))
        update_preconditioner(g)
        out.append(x.copy())
    return np.stack(out)


@pytest.mark.parametrize("d,frequency", [(2, 1), (5, 3), (8, 10)])
def test_equals_a_transcription_of_the_official_algorithm(d, frequency):
    rng = np.random.default_rng(d)
    G = rng.standard_normal((50, 2, d)) * np.linspace(0.2, 3.0, d)
    X0 = rng.standard_normal((2, d))
    p = simopt.quadratic(np.ones(d), xstar=np.zeros(d))
    kw = dict(beta1=0.9, beta2=0.95, shampoo_beta=0.9, eps=1e-8)
    ours = compiled_steps(optim.soap(0.02, precondition_frequency=frequency, **kw), p, G, X0)
    for r in range(2):
        want = official_soap_1d(G[:, r], X0[r], 0.02, frequency=frequency, **kw)
        np.testing.assert_allclose(ours[:, r], want, rtol=1e-12, atol=1e-12)


def test_end_to_end_run_equals_the_official_algorithm_on_its_own_gradients():
    """simopt.run with x* = 0 (x - x* = x): the official step driven by the true gradient H x (d = 2,
    so the rank-1 first statistic has no eigenvalue tie).  Without noise g_2 = g_1 (the first step does
    not move), so g_2's component off the first basis vector is pure rounding, which the second step
    divides by eps: eps = 1e-3 keeps that amplification below the comparison's 1e-12."""
    p = simopt.quadratic([1.0, 20.0], rotation="haar", xstar=np.zeros(2), seed=3)
    res = simopt.run(p, optim.soap(0.05, precondition_frequency=2, eps=1e-3), 50, record=("x",))
    H = p.hessian()
    xs = [p.x0.copy()]
    for t in range(50):        # re-run the transcription on its own trajectory, one more step each time
        g = np.stack([H @ x for x in xs])
        xs = list(official_soap_1d(g, p.x0, 0.05, 0.95, 0.95, 0.95, 1e-3, 2))
    np.testing.assert_allclose(res.records["x"][0], np.stack(xs), rtol=1e-12, atol=1e-12)
    assert res.loss[0, -1] < 0.1 * res.loss[0, 0]


def test_pytorch_optimizer_soap_agrees_until_its_float32_basis_refresh():
    """pytorch_optimizer.SOAP(precondition_1d=True) is the same algorithm, but its QR step is in float32 (as
    the official code's): equal to 1e-12 until the first refresh, then apart by float32 rounding.  The
    stream starts with a zero gradient, so the first basis is the coordinate one in every LAPACK."""
    torch = pytest.importorskip("torch")
    po = pytest.importorskip("pytorch_optimizer")
    d, f = 5, 6
    rng = np.random.default_rng(1)
    G = rng.standard_normal((50, d))
    G[0] = 0.0
    x0 = rng.standard_normal(d)
    p = simopt.quadratic(np.ones(d), xstar=np.zeros(d))
    ours = compiled_steps(optim.soap(0.01, precondition_frequency=f), p, G[:, None], x0[None])[:, 0]
    w = torch.nn.Parameter(torch.tensor(x0))
    opt = po.SOAP([w], lr=0.01, betas=(0.95, 0.95), weight_decay=0.0, precondition_frequency=f,
                  precondition_1d=True, eps=1e-8)
    theirs = [x0.copy()]
    for g in G:
        w.grad = torch.tensor(g)
        opt.step()
        theirs.append(w.detach().numpy().copy())
    theirs = np.stack(theirs)
    # the preconditioner update of step f + 1 takes the first QR step; step f + 2 is the first to use it
    np.testing.assert_allclose(ours[:f + 2], theirs[:f + 2], rtol=1e-12, atol=1e-12)
    later = np.max(np.abs(ours - theirs)) / np.max(np.abs(ours))
    assert 1e-11 < later < 1e-4, later


def _state_pair(d, rng):
    """A mid-run SOAP state with distinct eigenvalues and its image under a random rotation R."""
    A = rng.standard_normal((d, d))
    GG = A @ A.T + np.diag(np.linspace(0.1, 1.0, d))
    Q = np.flip(np.linalg.eigh(GG)[1], axis=1)
    R = np.linalg.qr(rng.standard_normal((d, d)))[0]
    m, v = rng.standard_normal(d), rng.uniform(0.1, 1.0, d)
    return R, (GG, R @ GG @ R.T), (Q, R @ Q), (m, m), (v, v)


def test_rotation_equivariance_from_a_state_without_eigenvalue_ties():
    """x -> R x, H -> R H R^T, GG -> R GG R^T, Q -> R Q (moments unchanged, they live in the basis): the
    trajectories map onto each other under SOAP's step, including its QR refreshes; Adam's do not."""
    d, steps = 6, 40
    rng = np.random.default_rng(0)
    R, GGs, Qs, ms, vs = _state_pair(d, rng)
    lam = spectra.logspace(d, 1.0, 50.0)
    H = np.diag(lam)
    Hs = (H, R @ H @ R.T)
    x = np.stack([rng.standard_normal(d), np.zeros(d)])
    x[1] = R @ x[0]
    GG, Q, m, v = (np.stack(a).copy() for a in (GGs, Qs, ms, vs))
    xi = rng.standard_normal((steps, d)) * 0.1
    for t in range(2, steps + 2):      # t >= 2: past the initial eigendecomposition
        g = np.stack([Hs[0] @ x[0] + xi[t - 2], Hs[1] @ x[1] + R @ xi[t - 2]])
        soap_mod.reference(x, g, GG, Q, m, v, t, 0.01, 0.9, 0.95, 0.95, 1e-8, 3, True)
    np.testing.assert_allclose(x[1], R @ x[0], rtol=1e-10, atol=1e-12)
    assert np.max(np.abs(x[0])) > 0.1


@pytest.mark.parametrize("rotation_of", ["soap", "adam"])
def test_rotation_equivariance_of_runs_in_two_dimensions(rotation_of):
    """d = 2: the rank-1 first statistic has distinct eigenvalues, so whole engine runs are equivariant
    (eps = 1e-3 for the reason given in the end-to-end test above)."""
    lam = np.array([1.0, 30.0])
    rot = simopt.quadratic(lam, rotation="haar", xstar=np.zeros(2), seed=5)
    _, R = rot.eigh()
    flat = simopt.quadratic(lam, x0=R.T @ rot.x0, xstar=np.zeros(2), seed=5)
    opt = optim.soap(0.05, precondition_frequency=3, eps=1e-3) if rotation_of == "soap" else optim.adam(0.05)
    a = simopt.run(rot, opt, 80, record=("x",)).records["x"][0]
    b = simopt.run(flat, opt, 80, record=("x",)).records["x"][0]
    dev = np.max(np.abs(a - b @ R.T)) / np.max(np.abs(a))
    assert dev < 1e-10 if rotation_of == "soap" else dev > 1e-2, dev


def test_bad_hyperparameters_are_rejected():
    for kw, name in (({"precondition_frequency": 0}, "precondition_frequency"), ({"beta2": 1.0}, "beta2"),
                     ({"shampoo_beta": -0.1}, "shampoo_beta"), ({"correct_bias": 1}, "correct_bias")):
        with pytest.raises((ValueError, TypeError), match=name):
            optim.soap(0.1, **kw)
    assert optim.soap(0.1, beta2=0.9).hyperparams()["shampoo_beta"] == 0.9
