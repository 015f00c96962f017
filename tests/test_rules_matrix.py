"""Rules that see the matrix shape -- Muon (NS5 and exact polar), two- and one-sided Shampoo, SOAP's 2-d
form: compiled == NumPy reference, NS5 against the reference coefficients and the exact polar factor,
parity with transcriptions of the reference algorithms and with pytorch_optimizer where its semantics
match, the exact reductions on 1 x d and d x 1 parameters, and rotation equivariance under W -> U W V^T."""
import math

import numpy as np
import pytest
import scipy.linalg
from hypothesis import given
from hypothesis import strategies as st

import simopt
from simopt import optim, spectra
from simopt.optim.rules import muon as muon_mod
from simopt.testing import compiled_steps, reference_steps
from _parity import edge_streams, rel_err
from test_optim_kernels import _assert_close


@st.composite
def matrix_streams(draw, steps=6):
    m, n = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    runs = draw(st.integers(1, 3))
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 31)))
    scale = 10.0 ** draw(st.integers(-100, 100))
    G = rng.standard_normal((steps, runs, m * n)) * scale
    G[rng.random(G.shape) < draw(st.sampled_from([0.0, 0.2, 0.6]))] = 0.0
    return (m, n), G, rng.standard_normal((runs, m * n)) * scale


def _shape_problem(shape):
    return simopt.matrix_quadratic(np.ones(shape[0]), np.ones(shape[1]), xstar=np.zeros(shape[0] * shape[1]))


def _rules(f, data):
    return [
        optim.muon(f(1e-4, 1.0), momentum=f(0.0, 0.99), nesterov=data.draw(st.booleans()),
                   ns_steps=data.draw(st.integers(1, 6)), weight_decay=f(0.0, 0.1)),
        optim.muon(f(1e-4, 1.0), momentum=f(0.0, 0.99), nesterov=data.draw(st.booleans()), polar="exact"),
        optim.shampoo(f(1e-4, 1.0), eps=data.draw(st.sampled_from([0.0, 1e-12, 1e-6, 1.0]))),
        optim.one_sided_shampoo(f(1e-4, 1.0), eps=data.draw(st.sampled_from([0.0, 1e-12, 1e-6, 1.0])),
                                weight_decay=f(0.0, 0.1)),
        optim.soap(f(1e-4, 1.0), beta1=f(0.0, 0.99), beta2=f(0.0, 0.99), shampoo_beta=f(0.0, 0.99),
                   eps=data.draw(st.sampled_from([0.0, 1e-8, 1e-3])),
                   precondition_frequency=data.draw(st.integers(1, 3)), correct_bias=data.draw(st.booleans())),
    ]


@given(matrix_streams(), st.data())
def test_compiled_step_equals_reference(stream, data):
    shape, G, X0 = stream
    p = _shape_problem(shape)
    for opt in _rules(lambda lo, hi: data.draw(st.floats(lo, hi)), data):
        a = compiled_steps(opt, p, G, X0)
        _assert_close(a, reference_steps(opt, p, G, X0))
        assert np.all(np.isfinite(a)), opt.name


@pytest.mark.parametrize("shape", [(3, 4), (4, 2), (1, 5)])
def test_edge_streams_give_finite_iterates_and_no_move_without_a_gradient(shape):
    p = _shape_problem(shape)
    for G, X0 in edge_streams(d=p.dim):
        for opt in (optim.muon(0.1), optim.muon(0.1, polar="exact"), optim.shampoo(0.1, eps=0.0),
                    optim.one_sided_shampoo(0.1, eps=0.0), optim.soap(0.1, eps=0.0)):
            a = compiled_steps(opt, p, G, X0)
            _assert_close(a, reference_steps(opt, p, G, X0))
            assert np.all(np.isfinite(a)), opt.name
            if not np.any(G):
                assert np.array_equal(a, np.broadcast_to(X0, a.shape)), opt.name


# ----------------------------------------------------------------------------- Muon
def reference_ns5(G, steps=5):
    """KellerJordan/Muon ``zeropower_via_newtonschulz5`` in float64 (the reference casts to bfloat16)."""
    a, b, c = (3.4445, -4.7750, 2.0315)
    X = G.copy()
    if G.shape[-2] > G.shape[-1]:
        X = X.T
    X = X / (np.linalg.norm(X) + 1e-7)
    for _ in range(steps):
        A = X @ X.T
        B = b * A + c * A @ A
        X = a * X + B @ X
    if G.shape[-2] > G.shape[-1]:
        X = X.T
    return X


def reference_muon(G, W0, lr, beta=0.95, nesterov=True):
    """KellerJordan/Muon ``SingleDeviceMuon.step`` (``muon_update``, weight_decay = 0) in float64."""
    W, buf = W0.copy(), np.zeros_like(W0)
    out = [W.copy()]
    for g in G:
        buf = buf + (1 - beta) * (g - buf)                           # momentum.lerp_(grad, 1 - beta)
        update = g + beta * (buf - g) if nesterov else buf           # grad.lerp_(momentum, beta)
        update = reference_ns5(update) * max(1, g.shape[-2] / g.shape[-1]) ** 0.5
        W = W - lr * update
        out.append(W.copy())
    return np.stack(out)


@pytest.mark.parametrize("shape", [(3, 5), (6, 2), (4, 4), (1, 7)])
def test_ns5_and_muon_equal_the_reference_in_float64(shape):
    rng = np.random.default_rng(sum(shape))
    U = rng.standard_normal((3,) + shape)
    np.testing.assert_allclose(muon_mod.newton_schulz(U), np.stack([reference_ns5(u) for u in U]),
                               rtol=1e-12, atol=1e-13)
    for u in U:
        np.testing.assert_allclose(muon_mod._newton_schulz(np.ascontiguousarray(u), 5), reference_ns5(u),
                                   rtol=1e-12, atol=1e-13)
    G = rng.standard_normal((50,) + shape) * np.linspace(0.5, 2.0, shape[1])
    W0 = rng.standard_normal(shape)
    p = _shape_problem(shape)
    for nesterov in (True, False):
        ours = compiled_steps(optim.muon(0.02, nesterov=nesterov), p, G.reshape(50, 1, -1), W0.reshape(1, -1))
        want = reference_muon(G, W0, 0.02, nesterov=nesterov).reshape(51, -1)
        assert rel_err(ours[:, 0], want) <= 1e-12


def _p5(s, steps=5):
    a, b, c = muon_mod.NS_COEFFICIENTS
    for _ in range(steps):
        s = a * s + b * s ** 3 + c * s ** 5
    return s


def test_ns5_maps_singular_values_by_the_quintic_and_keeps_the_polar_factors_vectors():
    """NS5(U) = P p5(s) Q^T for U = P S Q^T, s = S / (|U|_F + 1e-7) <= 1 (p5: the quintic applied 5 times), so
    NS5 and the exact polar factor P Q^T share their singular vectors and differ by max |p5(s) - 1|.  On
    s in [1e-2, 1], p5 lies in [0.682, 1.134] (on [1e-3, 1]: [0.471, 1.202]) -- the reference's
    "S' ~ Uniform(0.5, 1.5)"; singular values below ~3e-3 of the normalised matrix stay small."""
    rng = np.random.default_rng(0)
    grid = _p5(np.linspace(1e-2, 1.0, 100001))
    assert 0.6818 < grid.min() < 0.6819 and 1.1343 < grid.max() < 1.1344
    lo, hi, worst = np.inf, 0.0, 0.0
    for k in range(200):
        m, n = rng.integers(1, 17, size=2)
        U = rng.standard_normal((m, n)) * 10.0 ** rng.uniform(-3, 3)
        P, S, Qt = np.linalg.svd(U, full_matrices=False)
        s0 = S / (np.linalg.norm(U) + 1e-7)
        O = muon_mod.newton_schulz(U)
        np.testing.assert_allclose(O, (P * _p5(s0)) @ Qt, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(np.sort(np.linalg.svd(O, compute_uv=False)), np.sort(np.abs(_p5(s0))),
                                   atol=1e-12)
        keep = s0 >= 1e-2
        lo, hi = min(lo, _p5(s0[keep]).min()), max(hi, _p5(s0[keep]).max())
        if keep.all():
            polar = muon_mod.polar_factor(U[None])[0]
            worst = max(worst, np.linalg.norm(O - polar, 2))
    assert grid.min() - 1e-9 <= lo and hi <= grid.max() + 1e-9, (lo, hi)
    assert worst <= max(1.0 - grid.min(), grid.max() - 1.0) + 1e-9, worst
    exact = muon_mod.polar_factor(rng.standard_normal((4, 3, 5)))
    np.testing.assert_allclose(exact @ np.swapaxes(exact, 1, 2), np.broadcast_to(np.eye(3), (4, 3, 3)),
                               atol=1e-13)


def test_muon_on_a_vector_is_normalised_momentum():
    """1 x d: exact-polar Muon without Nesterov is nsgd_momentum (Cutkosky & Mehta) exactly; with NS5 every
    step is parallel to the (Nesterov) momentum with length lr * p5(|U| / (|U| + 1e-7))."""
    d = 7
    rng = np.random.default_rng(1)
    G = rng.standard_normal((40, 2, d))
    X0 = rng.standard_normal((2, d))
    p = simopt.quadratic(np.ones(d), xstar=np.zeros(d))
    a = compiled_steps(optim.muon(0.05, momentum=0.9, nesterov=False, polar="exact"), p, G, X0)
    b = compiled_steps(optim.nsgd_momentum(0.05, beta=0.9), p, G, X0)
    _assert_close(a, b)
    x = compiled_steps(optim.muon(0.05, momentum=0.9), p, G, X0)
    B = np.zeros((2, d))
    for t in range(40):
        B = 0.9 * B + 0.1 * G[t]
        U = 0.1 * G[t] + 0.9 * B
        n = np.linalg.norm(U, axis=1, keepdims=True)
        np.testing.assert_allclose(x[t] - x[t + 1], 0.05 * _p5(n / (n + 1e-7)) * U / n, rtol=1e-12, atol=1e-15)


def test_pytorch_optimizer_muon_differs_from_the_reference_by_precision_and_normalisation():
    """pytorch_optimizer.Muon runs NS5 in bfloat16 and divides by max(|U|_F, 1e-7) instead of
    |U|_F + 1e-7: not parity to 1e-12 with the reference.  Forced to float64 it agrees up to that
    normalisation (a relative ~1e-7 per step); in bfloat16 it is a few 1e-3 away."""
    torch = pytest.importorskip("torch")
    po = pytest.importorskip("pytorch_optimizer")
    base = pytest.importorskip("pytorch_optimizer.optimizer.muon.base")     # the 4.x layout
    from _parity import torch_iterates
    shape = (4, 6)
    rng = np.random.default_rng(2)
    G = rng.standard_normal((50,) + shape)
    W0 = rng.standard_normal(shape)
    want = reference_muon(G, W0, 0.02)

    def make(params):
        return po.Muon([{"params": params, "use_muon": True}], lr=0.02, momentum=0.95, nesterov=True)

    bf16 = rel_err(torch_iterates(make, G, W0), want)
    original = base.zero_power_via_newton_schulz_5
    try:
        base.zero_power_via_newton_schulz_5 = lambda g, **kw: original(g, **{**kw, "dtype": torch.float64})
        f64 = rel_err(torch_iterates(make, G, W0), want)
    finally:
        base.zero_power_via_newton_schulz_5 = original
    assert 1e-10 < f64 < 1e-5, f64
    assert bf16 > 1e-4, bf16


def test_end_to_end_muon_run_equals_the_reference_on_its_own_gradients():
    p = simopt.matrix_quadratic(spectra.logspace(4, 1.0, 20.0), spectra.logspace(3, 1.0, 5.0),
                                rotation_A="haar", rotation_B="haar", xstar=np.zeros(12), seed=3)
    res = simopt.run(p, optim.muon(0.05), 50, record=("x",))
    A, B = p.kron_factors
    W, buf = p.x0.reshape(4, 3), np.zeros((4, 3))
    for t in range(50):
        g = A @ W @ B
        buf = buf + 0.05 * (g - buf)
        W = W - 0.05 * reference_ns5(g + 0.95 * (buf - g)) * math.sqrt(4 / 3)
        assert rel_err(res.records["x"][0, t + 1], W.ravel()) <= 1e-12
    assert res.loss[0, -1] < 0.2 * res.loss[0, 0]


# ----------------------------------------------------------------------------- Shampoo
def transcription_shampoo(G, W0, lr, eps, two_sided):
    """Gupta et al. Alg. 1 (L_0 = eps I, R_0 = eps I, W -= lr L^-1/4 G R^-1/4) or its one-sided form
    (W -= lr L^-1/2 G), through scipy's fractional matrix power."""
    m, n = W0.shape
    W, L, R = W0.copy(), eps * np.eye(m), eps * np.eye(n)
    out = [W.copy()]
    for g in G:
        L, R = L + g @ g.T, R + g.T @ g
        if two_sided:
            power = scipy.linalg.fractional_matrix_power
            step = power(L, -0.25) @ g @ power(R, -0.25)
        else:
            step = scipy.linalg.fractional_matrix_power(L, -0.5) @ g
        W = W - lr * np.real(step)
        out.append(W.copy())
    return np.stack(out)


@pytest.mark.parametrize("two_sided", [True, False])
@pytest.mark.parametrize("eps", [1e-2, 1.0])
def test_shampoo_equals_a_transcription_of_the_formula(two_sided, eps):
    shape = (4, 3)
    rng = np.random.default_rng(4)
    G = rng.standard_normal((30,) + shape)
    W0 = rng.standard_normal(shape)
    opt = (optim.shampoo if two_sided else optim.one_sided_shampoo)(0.1, eps=eps)
    ours = compiled_steps(opt, _shape_problem(shape), G.reshape(30, 1, -1), W0.reshape(1, -1))[:, 0]
    assert rel_err(ours, transcription_shampoo(G, W0, 0.1, eps, two_sided).reshape(31, -1)) <= 1e-10


def test_shampoo_equals_pytorch_optimizer_shampoo_on_a_matrix():
    pytest.importorskip("torch")
    po = pytest.importorskip("pytorch_optimizer")
    from _parity import torch_iterates
    for shape, eps in (((4, 3), 1e-6), ((2, 5), 1e-2), ((3, 3), 1.0)):
        rng = np.random.default_rng(shape[1])
        G = rng.standard_normal((50,) + shape)
        W0 = rng.standard_normal(shape)
        ours = compiled_steps(optim.shampoo(0.05, eps=eps), _shape_problem(shape), G.reshape(50, 1, -1),
                              W0.reshape(1, -1))[:, 0]
        theirs = torch_iterates(lambda ps: po.Shampoo(ps, lr=0.05, momentum=0.0, matrix_eps=eps), G, W0)
        assert rel_err(ours, theirs.reshape(51, -1)) <= 1e-12, shape


def test_end_to_end_shampoo_run_equals_pytorch_optimizer():
    torch = pytest.importorskip("torch")
    po = pytest.importorskip("pytorch_optimizer")
    p = simopt.matrix_quadratic(spectra.logspace(3, 1.0, 30.0), spectra.logspace(4, 1.0, 3.0),
                                rotation_A="haar", rotation_B="haar", xstar=np.zeros(12), seed=1)
    res = simopt.run(p, optim.shampoo(0.3, eps=1e-2), 50, record=("x",))
    A, B = (torch.tensor(f) for f in p.kron_factors)
    w = torch.nn.Parameter(torch.tensor(p.x0.reshape(3, 4)))
    opt = po.Shampoo([w], lr=0.3, momentum=0.0, matrix_eps=1e-2)
    for t in range(50):
        w.grad = A @ w.detach() @ B
        opt.step()
        assert rel_err(res.records["x"][0, t + 1], w.detach().numpy().ravel()) <= 1e-12
    assert res.loss[0, -1] < 0.05 * res.loss[0, 0]


def test_one_sided_shampoo_is_adagrad_norm_on_a_row_and_full_matrix_shampoo_on_a_column():
    d = 6
    rng = np.random.default_rng(5)
    G = rng.standard_normal((30, 2, d))
    X0 = rng.standard_normal((2, d))
    row = compiled_steps(optim.one_sided_shampoo(0.1, eps=1e-3), simopt.quadratic(np.ones(d)), G, X0)
    acc = 1e-3 + np.cumsum(np.sum(G * G, axis=2), axis=0)
    want = X0 - 0.1 * np.cumsum(G / np.sqrt(acc)[..., None], axis=0)
    _assert_close(row[1:], want)
    col = compiled_steps(optim.one_sided_shampoo(0.1, eps=1e-3), _shape_problem((d, 1)), G, X0)
    vec = compiled_steps(optim.shampoo_vector(0.1, eps=1e-3), simopt.quadratic(np.ones(d)), G, X0)
    assert rel_err(col, vec) <= 1e-12


# ----------------------------------------------------------------------------- SOAP, 2-d form
def official_soap_2d(G, W0, lr, beta1, beta2, shampoo_beta, eps, frequency):
    """The official nikhilvyas/SOAP ``SOAP.step`` on one 2-d parameter (weight_decay = 0, no merge_dims,
    correct_bias), written out in float64: L = lerp(L, G G^T), R = lerp(R, G^T G); the first step only
    initialises; M lives in the Q_L^T . Q_R basis and is projected back and forth around each update."""
    W = W0.copy()
    L, R = np.zeros((W.shape[0],) * 2), np.zeros((W.shape[1],) * 2)
    Qs, M, V, step = None, np.zeros_like(W), np.zeros_like(W), 0
    out = [W.copy()]

    def project(X, back=False):
        QL, QR = Qs
        return QL @ X @ QR.T if back else QL.T @ X @ QR

    def update_preconditioner(g):
        nonlocal L, R, Qs, M, V
        if Qs is not None:
            M = project(M, back=True)
        L = L + (1 - shampoo_beta) * (g @ g.T - L)
        R = R + (1 - shampoo_beta) * (g.T @ g - R)
        if Qs is None:
            Qs = [np.flip(np.linalg.eigh(S + 1e-30 * np.eye(S.shape[0]))[1], axis=1) for S in (L, R)]
        if step > 0 and step % frequency == 0:
            new = []
            for axis, (S, Q) in enumerate(zip((L, R), Qs)):
                idx = np.argsort(-np.diag(Q.T @ S @ Q), kind="stable")
                V = np.take(V, idx, axis=axis)
                new.append(np.linalg.qr(S @ Q[:, idx])[0])
            Qs = new
        if step > 0:
            M = project(M)

    for t, g in enumerate(G):
        if t == 0:
            update_preconditioner(g)
            out.append(W.copy())
            continue
        gp = project(g)
        step += 1
        M = beta1 * M + (1 - beta1) * gp
        V = beta2 * V + (1 - beta2) * gp ** 2
        size = lr * math.sqrt(1 - beta2 ** step) / (1 - beta1 ** step)
        W = W - size * project(M / (np.sqrt(V) + eps), back=True)
        update_preconditioner(g)
        out.append(W.copy())
    return np.stack(out)


@pytest.mark.parametrize("shape,frequency", [((2, 3), 1), ((4, 2), 3), ((3, 3), 10)])
def test_soap_2d_equals_a_transcription_of_the_official_algorithm(shape, frequency):
    """The stream starts with a zero gradient (the first statistics are 0 + 1e-30 I: the coordinate basis in
    every LAPACK, no rank-1 eigenvector ties)."""
    rng = np.random.default_rng(sum(shape))
    G = rng.standard_normal((50,) + shape) * np.linspace(0.3, 2.0, shape[1])
    G[0] = 0.0
    W0 = rng.standard_normal(shape)
    kw = dict(beta1=0.9, beta2=0.95, shampoo_beta=0.9, eps=1e-8)
    ours = compiled_steps(optim.soap(0.02, precondition_frequency=frequency, **kw), _shape_problem(shape),
                          G.reshape(50, 1, -1), W0.reshape(1, -1))[:, 0]
    want = official_soap_2d(G, W0, 0.02, frequency=frequency, **kw).reshape(51, -1)
    assert rel_err(ours, want) <= 1e-12


def test_pytorch_optimizer_soap_2d_agrees_until_its_float32_basis_refresh():
    pytest.importorskip("torch")
    po = pytest.importorskip("pytorch_optimizer")
    from _parity import torch_iterates
    shape, f = (3, 4), 5
    rng = np.random.default_rng(1)
    G = rng.standard_normal((40,) + shape)
    G[0] = 0.0
    W0 = rng.standard_normal(shape)
    ours = compiled_steps(optim.soap(0.01, precondition_frequency=f), _shape_problem(shape),
                          G.reshape(40, 1, -1), W0.reshape(1, -1))[:, 0]
    theirs = torch_iterates(lambda ps: po.SOAP(ps, lr=0.01, betas=(0.95, 0.95), weight_decay=0.0,
                                                precondition_frequency=f, eps=1e-8), G, W0).reshape(41, -1)
    assert rel_err(ours[:f + 2], theirs[:f + 2]) <= 1e-12
    assert 1e-11 < rel_err(ours, theirs) < 1e-4


# ----------------------------------------------------------------------------- equivariance
@pytest.mark.parametrize("name", ["muon", "muon_exact", "shampoo", "one_sided_shampoo", "adam"])
def test_rotation_equivariance_under_W_to_U_W_V(name):
    """On A' = U A U^T, B' = V B V^T from U W0 V^T the iterates are U W_t V^T (U = Q_A, V = Q_B the
    factors' eigenbases; noise-free runs): Muon and Shampoo have this invariance, Adam does not."""
    a, b = spectra.logspace(4, 1.0, 40.0), spectra.logspace(3, 1.0, 8.0)
    rot = simopt.matrix_quadratic(a, b, rotation_A="haar", rotation_B="haar", xstar=np.zeros(12), seed=6)
    (_, U), (_, V) = rot.factor_eigh()
    flat = simopt.matrix_quadratic(a, b, xstar=np.zeros(12), x0=U.T @ rot.x0.reshape(4, 3) @ V, seed=6)
    opt = {"muon": optim.muon(0.02), "muon_exact": optim.muon(0.02, polar="exact"),
           "shampoo": optim.shampoo(0.1, eps=1e-3), "one_sided_shampoo": optim.one_sided_shampoo(0.1, eps=1e-3),
           "adam": optim.adam(0.02)}[name]
    x = simopt.run(rot, opt, 60, record=("x",)).records["x"][0].reshape(-1, 4, 3)
    y = simopt.run(flat, opt, 60, record=("x",)).records["x"][0].reshape(-1, 4, 3)
    dev = np.max(np.abs(x - U @ y @ V.T)) / np.max(np.abs(x))
    assert (dev > 1e-2) if name == "adam" else (dev < 1e-10), dev


def test_bad_hyperparameters_are_rejected():
    for ctor, kw, name in ((optim.muon, {"ns_steps": 0}, "ns_steps"), (optim.muon, {"momentum": 1.0}, "momentum"),
                           (optim.muon, {"polar": "svd"}, "polar"), (optim.muon, {"nesterov": 1}, "nesterov"),
                           (optim.shampoo, {"eps": -1.0}, "eps"), (optim.one_sided_shampoo, {"eps": -1.0}, "eps")):
        with pytest.raises((ValueError, TypeError), match=name):
            ctor(0.1, **kw)
    assert optim.make("muon", lr=0.1, polar="exact").hyperparams()["polar"] == "exact"
    assert optim.from_description(optim.shampoo(0.1).describe()) == optim.shampoo(0.1)
