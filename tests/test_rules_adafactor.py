"""Adafactor (Shazeer & Stern 2018).  On vectors: compiled == NumPy reference, the sign-descent limit, the
update-clipping bound, the step relative to the absolute parameter (no translation invariance), and
parity with pytorch-optimizer and optax (optax's float32 beta2 schedule shown).  On matrices (the
factored second moment of Alg. 4): compiled == reference == a transcription of Alg. 4, exactness on
rank-one second moments, row/column permutation equivariance (and its loss under a general permutation),
the unfactored step on 1 x n and n x 1 parameters, parity with optax's factored RMS, pytorch-optimizer and
torch.optim.Adafactor (its epsilon_1 placement measured), and a converging run on a matrix quadratic."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import simopt
from simopt import optim
from simopt.testing import compiled_steps, reference_steps
from simopt.optim.rules.adafactor import factored_second_moment
from _parity import edge_streams, optax_iterates, rel_err, stream, torch_iterates, torch_on_problem
from test_optim_kernels import _assert_close, _problem, gradient_streams
from test_rules_matrix import _shape_problem, matrix_streams


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
        "clip_threshold": 1.0, "relative_step": True, "scale_parameter": True, "factored": True}
    with pytest.raises(ValueError, match="clip_threshold"):
        optim.adafactor(clip_threshold=0.0)
    with pytest.raises(ValueError, match="decay_rate"):
        optim.adafactor(decay_rate=-0.8)
    with pytest.raises(TypeError, match="relative_step"):
        optim.adafactor(relative_step="yes")
    with pytest.raises(TypeError, match="factored"):
        optim.adafactor(factored=1.0)
    with pytest.raises(ValueError, match="eps1"):
        optim.adafactor(factored=False, eps1=-1e-30)


# ------------------------------------------------------------------- the factored mode (matrices)
@given(matrix_streams(), st.data())
def test_factored_compiled_step_equals_reference(stream_, data):
    shape, G, X0 = stream_
    p = _shape_problem(shape)

    def f(lo, hi):
        return data.draw(st.floats(lo, hi))

    for opt in (optim.adafactor(),
                optim.adafactor(f(0.1, 10.0), beta1=f(0.0, 0.99), decay_rate=f(0.0, 1.0),
                                eps1=data.draw(st.sampled_from([0.0, 1e-30, 1e-3])), eps2=f(0.0, 1e-2),
                                clip_threshold=f(0.1, 10.0), weight_decay=f(0.0, 0.5)),
                optim.adafactor(f(1e-4, 1.0), eps1=0.0, relative_step=False, scale_parameter=False)):
        a = compiled_steps(opt, p, G, X0)
        assert np.all(np.isfinite(a)), opt
        _assert_close(a, reference_steps(opt, p, G, X0))


def transcription_alg4(G, W0, eps1=1e-30, eps2=1e-3, d=1.0, c=0.8):
    """Shazeer & Stern 2018, Algorithm 4 ("Adafactor for weight matrices") line by line, for one m x n
    parameter (the paper's X is n x m; R is over rows, C over columns as here), with the proposed
    hyperparameters of Sec. 9 as defaults and rho_t = min(1e-2, 1/sqrt t)."""
    m, n = W0.shape
    X, R, C = W0.copy(), np.zeros(m), np.zeros(n)
    out = [X.copy()]
    for t, Gt in enumerate(G, start=1):
        beta2 = 1.0 - t ** (-c)
        rho = min(1e-2, 1.0 / np.sqrt(t))
        R = beta2 * R + (1 - beta2) * (Gt ** 2 + eps1 * np.ones((m, n))) @ np.ones(n)
        C = beta2 * C + (1 - beta2) * np.ones(m) @ (Gt ** 2 + eps1 * np.ones((m, n)))
        V = np.outer(R, C) / (np.ones(m) @ R)
        U = Gt / np.sqrt(V)
        U_hat = U / max(1.0, np.sqrt(np.mean(U ** 2)) / d)
        alpha = max(eps2, np.sqrt(np.mean(X ** 2))) * rho
        X = X - alpha * U_hat
        out.append(X.copy())
    return np.stack(out)


@pytest.mark.parametrize("shape", [(3, 4), (5, 2), (2, 2)])
@pytest.mark.parametrize("eps1, d", [(1e-30, 1.0), (1e-3, 1.0), (1e-30, 0.5)])
def test_factored_mode_equals_a_transcription_of_algorithm_4(shape, eps1, d):
    rng = np.random.default_rng(sum(shape))
    G = rng.standard_normal((50,) + shape) * np.linspace(0.2, 3.0, shape[1])
    G[rng.random(G.shape) < 0.1] = 0.0
    W0 = rng.standard_normal(shape)
    ours = compiled_steps(optim.adafactor(eps1=eps1, clip_threshold=d), _shape_problem(shape),
                          G.reshape(50, 1, -1), W0.reshape(1, -1))[:, 0]
    assert rel_err(ours, transcription_alg4(G, W0, eps1=eps1, d=d).reshape(51, -1)) <= 1e-12


@given(st.integers(2, 5), st.integers(2, 5), st.integers(0, 2 ** 31), st.sampled_from([0.0, 0.3]),
       st.integers(-100, 100), st.floats(0.0, 1.0))
def test_factored_second_moment_is_exact_when_the_squared_gradients_are_rank_one(m, n, seed, zeros, e,
                                                                                  decay_rate):
    """G_t^2 = c_t a b^T for every t makes the unfactored V_t = (sum_s w_s c_s) a b^T rank one, and the
    factored V_hat = (V 1)(1^T V) / (1^T V 1) then equals V: with eps1 = 0 the two modes take the same
    steps (to rounding), whatever the signs of G and the weights c_t (exact zeros included)."""
    rng = np.random.default_rng(seed)
    a, b = rng.uniform(0.1, 3.0, m), rng.uniform(0.1, 3.0, n)
    c = rng.uniform(0.0, 2.0, 12) * (rng.random(12) >= zeros)
    signs = rng.choice([-1.0, 1.0], (12, 2, m, n))
    G = 10.0 ** e * signs * np.sqrt(c[:, None, None, None] * np.outer(a, b))
    X0 = 10.0 ** e * rng.standard_normal((2, m * n))
    p = _shape_problem((m, n))
    G = G.reshape(12, 2, m * n)
    for beta1 in (0.0, 0.9):
        fact = compiled_steps(optim.adafactor(eps1=0.0, beta1=beta1, decay_rate=decay_rate), p, G, X0)
        full = compiled_steps(optim.adafactor(eps1=0.0, beta1=beta1, decay_rate=decay_rate, factored=False),
                              p, G, X0)
        _assert_close(fact, full)
    V = np.outer(a, b)
    np.testing.assert_allclose(factored_second_moment(V.sum(1), V.sum(0)), V, rtol=1e-13)


def test_factored_and_unfactored_modes_differ_on_a_second_moment_of_higher_rank():
    """The converse: a generic G^2 is not rank one, and the factored steps are not the unfactored ones."""
    rng = np.random.default_rng(4)
    G, X0 = rng.standard_normal((10, 1, 12)), rng.standard_normal(12)
    p = _shape_problem((3, 4))
    fact = compiled_steps(optim.adafactor(), p, G, X0)
    full = compiled_steps(optim.adafactor(factored=False), p, G, X0)
    assert rel_err(fact - X0, full - X0) > 0.05


def test_factored_mode_is_equivariant_under_row_and_column_permutations_only():
    """W -> P W Q with permutations (and sign flips) P, Q maps R, C to their permutations, so the steps are
    permuted (RMS(W), RMS(U) are symmetric); a permutation of all m n entries mixes rows and columns and
    changes the steps -- as it does not for the unfactored mode, which is coordinate-wise."""
    m, n = 3, 4
    rng = np.random.default_rng(11)
    G, X0 = rng.standard_normal((20, 1, m, n)), rng.standard_normal((1, m, n))
    P, Q = rng.permutation(m), rng.permutation(n)
    sr, sc = rng.choice([-1.0, 1.0], m), rng.choice([-1.0, 1.0], n)
    p = _shape_problem((m, n))

    def rowcol(A):
        return (A[..., P, :][..., Q] * sr[:, None] * sc[None, :]).reshape(A.shape[:-2] + (m * n,))

    for opt in (optim.adafactor(), optim.adafactor(beta1=0.9, eps1=0.0)):
        base = compiled_steps(opt, p, G.reshape(20, 1, -1), X0.reshape(1, -1))
        moved = compiled_steps(opt, p, rowcol(G), rowcol(X0))
        assert rel_err(moved, rowcol(base.reshape(21, 1, m, n))) <= 1e-13
    perm = rng.permutation(m * n)
    for factored, equivariant in ((True, False), (False, True)):
        opt = optim.adafactor(factored=factored)
        base = compiled_steps(opt, p, G.reshape(20, 1, -1), X0.reshape(1, -1))
        moved = compiled_steps(opt, p, G.reshape(20, 1, -1)[..., perm], X0.reshape(1, -1)[..., perm])
        err = rel_err(moved - moved[0], base[..., perm] - base[0][..., perm])
        assert (err <= 1e-13) if equivariant else (err > 1e-3), (factored, err)


@pytest.mark.parametrize("shape", [(1, 6), (6, 1)])
def test_a_row_or_column_parameter_takes_the_vector_step_bit_for_bit(shape):
    """A 1 x n or n x 1 matrix is a vector: the rule takes the unfactored step there, exactly the steps it
    takes on the vector problem (for which factored=True and factored=False are the same rule).  It loses
    nothing: for m = 1 the factored estimate R C / (1^T R) = C is the unfactored second moment."""
    rng = np.random.default_rng(2)
    G, X0 = rng.standard_normal((30, 2, 6)), rng.standard_normal((2, 6))
    G[rng.random(G.shape) < 0.2] = 0.0
    vec = _axis(6)
    for kw in ({}, {"beta1": 0.9, "eps1": 0.0, "weight_decay": 0.1}):
        want = compiled_steps(optim.adafactor(**kw), vec, G, X0)
        assert np.array_equal(compiled_steps(optim.adafactor(**kw), _shape_problem(shape), G, X0), want)
        assert np.array_equal(compiled_steps(optim.adafactor(factored=False, **kw), vec, G, X0), want)
    C = rng.uniform(0.0, 2.0, 6)
    np.testing.assert_allclose(factored_second_moment(np.array([C.sum()]), C)[0], C, rtol=1e-15)


def test_zero_gradients_and_extreme_scales_on_a_matrix_give_no_nan():
    p = _shape_problem((3, 4))
    for G, X0 in edge_streams(d=12):
        for opt in (optim.adafactor(), optim.adafactor(eps1=0.0, beta1=0.9),
                    optim.adafactor(0.1, eps1=0.0, relative_step=False, scale_parameter=False)):
            a = compiled_steps(opt, p, G, X0)
            assert np.all(np.isfinite(a)), opt
            _assert_close(a, reference_steps(opt, p, G, X0))
            if not np.any(G):
                np.testing.assert_array_equal(a[-1], X0)


def _ours_matrix(opt, G, W0):
    steps, m, n = G.shape
    return compiled_steps(opt, _shape_problem((m, n)), G.reshape(steps, 1, -1), W0.reshape(1, -1))[:, 0]


def _matrix_stream(shape=(3, 4), steps=50, seed=0, scale=1.0):
    rng = np.random.default_rng(seed)
    G = rng.standard_normal((steps,) + shape) * np.linspace(0.3, 3.0, shape[1]) * scale
    return G, rng.standard_normal(shape)


@pytest.mark.parametrize("shape", [(3, 4), (5, 2)])
def test_parity_with_optax_factored_rms_on_a_matrix(shape):
    """optax's transformations chained as optax.adafactor chains them (factoring from dimension 2 on,
    beta2_t in float64), on a matrix with exact zeros: optax adds epsilon_1 to G^2 before the row and
    column means, as the paper, and equals the factored mode to 1e-12."""
    optax = pytest.importorskip("optax")
    G, W0 = _matrix_stream(shape, seed=3)
    G[np.random.default_rng(1).random(G.shape) < 0.1] = 0.0
    tx = optax.chain(optax.scale_by_factored_rms(min_dim_size_to_factor=2,
                                                 decay_rate_fn=lambda i, c: 1.0 - (i + 1.0) ** (-c)),
                     optax.clip_by_block_rms(1.0),
                     optax.scale_by_learning_rate(_optax_relative_step(), flip_sign=False),
                     optax.scale_by_param_block_rms(1e-3), optax.ema(0.9, debias=False), optax.scale(-1.0))
    theirs = optax_iterates(tx, G, W0).reshape(51, -1)
    assert rel_err(_ours_matrix(optim.adafactor(beta1=0.9), G, W0), theirs) <= 1e-12


@pytest.mark.parametrize("beta1", [0.0, 0.9])
def test_parity_with_pytorch_optimizer_on_a_matrix(beta1):
    """pytorch_optimizer.AdaFactor factors every 2-d parameter with epsilon_1 added to G^2 as the paper
    (row and column means), momentum in float64 and its beta2_t cap above 1 - t^-0.8: the factored mode
    to 1e-12, exact zeros in the stream included."""
    torch = pytest.importorskip("torch")
    po = pytest.importorskip("pytorch_optimizer")
    G, W0 = _matrix_stream((4, 3), seed=8)
    G[np.random.default_rng(2).random(G.shape) < 0.1] = 0.0
    theirs = torch_iterates(lambda ps: po.AdaFactor(ps, lr=None, betas=(beta1 or None, 1.0 - 1e-12),
                                                    momentum_dtype=torch.float64, foreach=False), G, W0)
    assert rel_err(_ours_matrix(optim.adafactor(beta1=beta1), G, W0), theirs.reshape(51, -1)) <= 1e-12


def _torch_adafactor(eps1):
    torch = pytest.importorskip("torch")
    return lambda ps: torch.optim.Adafactor(ps, lr=1e-2, eps=(eps1, 1e-3), foreach=False)


@pytest.mark.parametrize("eps1", [0.0, 1e-30])
def test_parity_with_torch_adafactor_on_a_matrix(eps1):
    """torch.optim.Adafactor on a 2-d parameter factors the second moment (row and column *means* of G^2:
    R C / (1^T R) is the same), with lr = 1e-2 its cap of rho_t and the same update clipping.  It puts
    epsilon_1 elsewhere -- V_hat = R C / max(mean R, eps1), U = G / max(sqrt(V_hat), eps1) -- which is
    the paper's at eps1 = 0 and indistinguishable from it at eps1 = 1e-30 on gradients of order 1 (a
    stream without exact zeros, where torch at eps1 = 0 would divide 0 by 0)."""
    G, W0 = _matrix_stream(seed=5)
    theirs = torch_iterates(_torch_adafactor(eps1), G, W0).reshape(51, -1)
    assert rel_err(_ours_matrix(optim.adafactor(eps1=eps1), G, W0), theirs) <= 1e-12


def test_torch_adafactor_epsilon_differs_from_the_paper_on_tiny_gradients():
    """At the paper's eps1 = 1e-30 with gradients of order 1e-15 (G^2 ~ eps1) the two conventions part:
    the paper's R, C include eps1 per entry (u ~ G / sqrt(G^2 + eps1), smaller), torch's do not (u ~
    G / |G|).  The transcription of Alg. 4 sides with simopt; torch's steps are measured larger."""
    G, W0 = _matrix_stream(seed=6, scale=1e-15)
    ours = _ours_matrix(optim.adafactor(), G, W0)
    assert rel_err(ours, transcription_alg4(G, W0).reshape(51, -1)) <= 1e-12
    theirs = torch_iterates(_torch_adafactor(1e-30), G, W0).reshape(51, -1)
    step_ours, step_theirs = np.abs(ours[1:] - ours[:-1]).sum(), np.abs(theirs[1:] - theirs[:-1]).sum()
    assert step_theirs > 1.2 * step_ours
    assert rel_err(ours, theirs) > 1e-4


def test_run_on_a_matrix_quadratic_equals_torch_adafactor_and_converges():
    """simopt.run with the exact gradient A (W - W*) B against torch.optim.Adafactor on the 2-d parameter
    fed the same gradient (eps1 = 0; no gradient entry is exactly 0), step by step for 50 steps; over 600
    steps the loss falls by more than five orders of magnitude, without and with a first moment."""
    torch = pytest.importorskip("torch")
    p = simopt.matrix_quadratic(simopt.spectra.logspace(3, 1.0, 10.0), simopt.spectra.logspace(4, 1.0, 10.0),
                                rotation_A="haar", rotation_B="haar", seed=3)
    res = simopt.run(p, optim.adafactor(eps1=0.0), 600, record=("x",))
    A, B = (torch.tensor(f) for f in p.kron_factors)
    Ws = torch.tensor(p.xstar.reshape(3, 4))
    w = torch.nn.Parameter(torch.tensor(p.x0.reshape(3, 4)))
    opt = _torch_adafactor(0.0)([w])
    for t in range(50):
        w.grad = A @ (w.detach() - Ws) @ B
        opt.step()
        assert rel_err(res.records["x"][0, t + 1], w.detach().numpy().ravel()) <= 1e-12
    assert res.loss[0, -1] < 1e-5 * res.loss[0, 0]
    mom = simopt.run(p, optim.adafactor(beta1=0.9), 600)
    assert mom.loss[0, -1] < 1e-5 * mom.loss[0, 0]
