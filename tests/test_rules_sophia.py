"""Sophia (Liu et al. 2023, Alg. 3): compiled == NumPy reference, parity with pytorch_optimizer.SophiaH
fed the same gradients and Hutchinson vectors, and the mathematics of the rule: the clip bounds every
coordinate's step, the Hutchinson estimate is exact on an axis-aligned H, and with the exact diagonal and
no clip active Sophia is diagonally preconditioned momentum (Newton on an axis-aligned quadratic,
invariant under a diagonal rescaling of the coordinates)."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import simopt
from simopt import noise, optim, spectra
from simopt.testing import compiled_steps, reference_steps
from test_optim_kernels import _assert_close, _problem, gradient_streams


def _hutchinson(p, steps, runs, seed, scale=1.0):
    """u * (H u), u Rademacher: the probe the engine draws, here from a test-owned stream."""
    u = np.random.default_rng(seed).choice([-1.0, 1.0], size=(steps, runs, p.dim))
    return scale * u * (u @ p.hessian())


@given(gradient_streams(steps=6), st.data())
def test_compiled_step_equals_reference(stream, data):
    sizes, G, X0 = stream
    p = _problem(sizes)
    f = lambda lo, hi: data.draw(st.floats(lo, hi))  # noqa: E731
    scale = 10.0 ** data.draw(st.integers(-100, 100))
    Hut = _hutchinson(p, G.shape[0], G.shape[1], data.draw(st.integers(0, 2 ** 31)), scale)
    lr = f(1e-4, 1.0)
    for opt in (optim.sophia(lr, beta1=f(0.0, 0.99), beta2=f(0.0, 0.999), gamma=f(1e-3, 10.0),
                             eps=data.draw(st.sampled_from([0.0, 1e-15, 1e-12, 1e-3])),
                             k=data.draw(st.integers(1, 4)), estimator=data.draw(st.sampled_from(
                                 ["hutchinson", "exact"])), weight_decay=f(0.0, 0.1)),
                optim.sophia(lr, eps=0.0, k=1)):
        a = compiled_steps(opt, p, G, X0, hutchinson=Hut)
        _assert_close(a, reference_steps(opt, p, G, X0, hutchinson=Hut))
        assert np.all(np.isfinite(a))
        if not opt.weight_decay:
            # clip(., 1): no coordinate moves by more than lr in one step (up to the rounding of x)
            assert np.all(np.abs(np.diff(a, axis=0)) <= lr * (1 + 1e-12) + 1e-15 * np.abs(a[:-1]))


def test_zero_gradients_and_zero_eps_do_not_move_or_give_nan():
    p = _problem([3, 2])
    G = np.zeros((4, 2, p.dim))
    Hut = -np.ones((4, 2, p.dim))          # a negative estimate: the denominator max(gamma h, 0) is 0
    for est in ("hutchinson", "exact"):
        x = compiled_steps(optim.sophia(0.1, eps=0.0, estimator=est), p, G, np.ones(p.dim), hutchinson=Hut)
        assert np.array_equal(x, np.ones_like(x))
    G[1, :, 0] = -3.0                      # m != 0 over h <= 0 -> the clipped step +lr
    x = compiled_steps(optim.sophia(0.1, eps=0.0), p, G, np.zeros(p.dim), hutchinson=Hut)
    assert x[2, 0, 0] == pytest.approx(0.1) and np.all(x[2, :, 1:] == 0.0)


def test_bad_hyperparameters_are_rejected():
    for kw, name in (({"beta1": 1.0}, "beta1"), ({"gamma": 0.0}, "gamma"), ({"k": 0}, "k"),
                     ({"k": 2.5}, "k"), ({"estimator": "gnb"}, "estimator"), ({"eps": -1.0}, "eps")):
        with pytest.raises((ValueError, TypeError), match=name):
            optim.sophia(0.1, **kw)


# ---- parity: pytorch_optimizer.SophiaH, the first version's parametrisation -------------------------
def _torch_sophia(G, Hhat, x0, lr, beta1, beta2, gamma, eps, k, weight_decay):
    """pytorch_optimizer.SophiaH on a float64 parameter, the Hessian estimate supplied on refresh steps:
    clip(m / max(h, eps'), rho) * lr' with lr' = lr/gamma, rho = gamma, eps' = eps/gamma (module doc)."""
    torch = pytest.importorskip("torch")
    po = pytest.importorskip("pytorch_optimizer")
    out = []
    for r in range(G.shape[1]):
        w = torch.nn.Parameter(torch.tensor(x0[r], dtype=torch.float64))
        opt = po.SophiaH([w], lr=lr / gamma, betas=(beta1, beta2), p=gamma, eps=eps / gamma,
                         update_period=k, weight_decay=weight_decay * gamma, weight_decouple=True)
        xs = [w.detach().numpy().copy()]
        for t in range(G.shape[0]):
            w.grad = torch.tensor(G[t, r], dtype=torch.float64)
            hess = [torch.tensor(Hhat[t, r], dtype=torch.float64)] if t % k == 0 else None
            opt.step(hessian=hess)
            xs.append(w.detach().numpy().copy())
        out.append(np.stack(xs))
    return np.stack(out, axis=1)


@pytest.mark.parametrize("estimator", ["hutchinson", "exact"])
@pytest.mark.parametrize("gamma,wd", [(0.01, 0.0), (2.0 ** -7, 0.1)])
def test_parity_with_pytorch_optimizer_sophiah_on_the_same_stream(estimator, gamma, wd):
    p = simopt.quadratic(spectra.logspace(6, 1.0, 50.0), rotation="haar", seed=2, xstar=np.zeros(6))
    rng = np.random.default_rng(7)
    steps, runs = 50, 2
    G = rng.standard_normal((steps, runs, p.dim)) * 0.1
    X0 = rng.standard_normal((runs, p.dim))
    Hut = _hutchinson(p, steps, runs, seed=3)
    Hhat = Hut if estimator == "hutchinson" else np.broadcast_to(np.diag(p.hessian()), Hut.shape)
    kw = dict(beta1=0.965, beta2=0.99, gamma=gamma, eps=1e-12, k=4)
    ours = compiled_steps(optim.sophia(0.05, estimator=estimator, weight_decay=wd, **kw), p, G, X0,
                          hutchinson=Hut)
    theirs = _torch_sophia(G, Hhat, X0, 0.05, weight_decay=wd, **kw)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)
    assert np.abs(np.diff(ours, axis=0)).max() > 1e-3          # the runs move


def test_end_to_end_run_equals_pytorch_optimizer_with_the_exact_diagonal():
    """simopt.run (x* = 0, so x - x* = x) against SophiaH driven by the true gradient H x and diag(H)."""
    torch = pytest.importorskip("torch")
    pytest.importorskip("pytorch_optimizer")
    p = simopt.quadratic(spectra.logspace(8, 1.0, 100.0), rotation="haar", seed=4, xstar=np.zeros(8))
    res = simopt.run(p, optim.sophia(0.02, estimator="exact", k=3), 50, record=("x",))
    H = torch.tensor(p.hessian())
    w = torch.nn.Parameter(torch.tensor(p.x0))
    import pytorch_optimizer as po
    opt = po.SophiaH([w], lr=0.02 / 0.01, betas=(0.965, 0.99), p=0.01, eps=1e-12 / 0.01, update_period=3)
    hd = torch.diagonal(H).clone()
    for t in range(50):
        w.grad = H @ w.detach()
        opt.step(hessian=[hd] if t % 3 == 0 else None)
        np.testing.assert_allclose(res.records["x"][0, t + 1], w.detach().numpy(), rtol=1e-12, atol=1e-12)
    assert res.loss[0, -1] < 0.5 * res.loss[0, 0]


# ---- the mathematics ----------------------------------------------------------------------------------
def test_hutchinson_estimate_is_exact_on_an_axis_aligned_hessian():
    """u * (H u) = u^2 diag(H) = diag(H) when H is diagonal: Sophia-H and Sophia with the exact diagonal
    take bit-identical steps there (the engine's own probes and noise), and differ once H is rotated."""
    lam = spectra.logspace(12, 1.0, 1e3)
    for rotation, same in (("none", True), (0.5, False)):
        p = simopt.quadratic(lam, rotation=rotation, noise=noise.gaussian(0.05), seed=1)
        a = simopt.run(p, optim.sophia(1e-2, k=2), 60, runs=3, seed=5, record=("x",))
        b = simopt.run(p, optim.sophia(1e-2, k=2, estimator="exact"), 60, runs=3, seed=5, record=("x",))
        assert np.array_equal(a.records["x"], b.records["x"]) == same


def test_newton_step_solves_an_axis_aligned_quadratic_with_the_exact_diagonal():
    """beta1 = 0, k = 1, lr = gamma (1 - beta2): the first step is x - g / diag(H) (h_1 = (1-beta2) diag(H),
    no clip while |x_i| <= gamma (1 - beta2)) -- Newton's step, exact on a diagonal H, not on a rotated one."""
    lam = spectra.logspace(10, 1.0, 1e4)
    x0 = np.random.default_rng(0).uniform(-0.2, 0.2, 10)
    opt = optim.sophia(0.5 * 0.5, beta1=0.0, beta2=0.5, gamma=0.5, k=1, estimator="exact")
    p = simopt.quadratic(lam, x0=x0, xstar=np.zeros(10), seed=0)
    r = simopt.run(p, opt, 1)
    assert r.loss[0, 1] <= 1e-28 * r.loss[0, 0]
    q = simopt.quadratic(lam, rotation="haar", x0=x0, xstar=np.zeros(10), seed=0)
    assert simopt.run(q, opt, 1).loss[0, 1] > 1e-3 * q.f0


def test_exact_sophia_without_clipping_is_invariant_under_diagonal_rescaling():
    """y = D x turns H into D^-1 H D^-1, diag(H) into diag(H)/D^2 and g into D^-1 g, so the step
    -lr m/(gamma h) becomes D times the old one: the trajectories map exactly (noise rescaled too).  A
    clip that is active breaks it -- and Adam, whose step does not scale with D, fails it."""
    lam = spectra.logspace(8, 1.0, 100.0)
    D = 2.0 ** np.arange(-3, 5)                       # powers of 2: the rescaling itself is exact
    x0 = np.random.default_rng(1).standard_normal(8)
    p = simopt.quadratic(lam, x0=x0, xstar=np.zeros(8), noise=noise.gaussian(0.01 * np.ones(8)), seed=0)
    q = simopt.quadratic(lam / D ** 2, x0=D * x0, xstar=np.zeros(8), noise=noise.gaussian(0.01 / D), seed=0)

    def dev(opt):
        a = simopt.run(p, opt, 80, runs=2, seed=3, record=("x",)).records["x"]
        b = simopt.run(q, opt, 80, runs=2, seed=3, record=("x",)).records["x"]
        return np.max(np.abs(b - D * a)) / np.max(np.abs(b))

    assert dev(optim.sophia(10.0, gamma=1e4, k=5, estimator="exact")) < 1e-13        # clip never active
    assert dev(optim.sophia(1e-2, estimator="exact")) > 1e-3                          # clip active
    assert dev(optim.adam(1e-2)) > 1e-3


# ---- optax.contrib.sophia deviates from Algorithm 3 in two documented ways ----------------------------
def _sophia_numpy(G, hd, x0, lr, beta1, beta2, gamma, eps, k, bias_correct, lagged):
    """Algorithm 3 with the exact diagonal; ``bias_correct`` divides m by 1 - beta1^t and ``lagged`` refreshes
    h after the step instead of before it -- the two changes ``optax.contrib.sophia`` makes."""
    x, m, h = x0.copy(), np.zeros_like(x0), np.zeros_like(x0)
    out = [x.copy()]
    for t, g in enumerate(G, start=1):
        m = beta1 * m + (1 - beta1) * g
        refresh = (t - 1) % k == 0
        if refresh and not lagged:
            h = beta2 * h + (1 - beta2) * hd
        mh = m / (1 - beta1 ** t) if bias_correct else m
        x = x - lr * np.clip(mh / np.maximum(gamma * h, eps), -1.0, 1.0)
        if refresh and lagged:
            h = beta2 * h + (1 - beta2) * hd
        out.append(x.copy())
    return np.stack(out)


def test_optax_sophia_bias_corrects_and_lags_the_refresh():
    jax = pytest.importorskip("jax")
    optax = pytest.importorskip("optax")
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    p = simopt.quadratic(spectra.logspace(6, 1.0, 50.0), rotation="haar", seed=2, xstar=np.zeros(6))
    hd = np.diag(p.hessian())
    rng = np.random.default_rng(8)
    G = rng.standard_normal((50, 6)) * 0.01
    x0 = rng.standard_normal(6)
    kw = dict(beta1=0.965, beta2=0.99, gamma=0.01, eps=1e-8, k=4)

    exact = optax.GradientTransformationExtraArgs(lambda params: optax.EmptyState(),
                                                  lambda u, s, params=None, **kw_: (jnp.asarray(hd), s))
    tx = optax.contrib.sophia(0.05, b1=kw["beta1"], b2=kw["beta2"], eps=kw["eps"], weight_decay=0.0,
                              gamma=kw["gamma"], update_interval=kw["k"], hessian_diagonal_fn=exact)
    x = jnp.asarray(x0)
    state = tx.init(x)
    theirs = [x0.copy()]
    for g in G:
        u, state = tx.update(jnp.asarray(g), state, x)
        x = optax.apply_updates(x, u)
        theirs.append(np.asarray(x))
    theirs = np.stack(theirs)
    ours = compiled_steps(optim.sophia(0.05, estimator="exact", **kw), p, G[:, None], x0[None])[:, 0]
    np.testing.assert_allclose(ours, _sophia_numpy(G, hd, x0, 0.05, bias_correct=False, lagged=False, **kw),
                               rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(theirs, _sophia_numpy(G, hd, x0, 0.05, bias_correct=True, lagged=True, **kw),
                               rtol=1e-12, atol=1e-12)
    assert np.max(np.abs(ours - theirs)) > 1e-2


def test_the_rescaling_invariance_holds_for_a_rotated_hessian_too():
    """The same statement on a dense H (NumPy reference step, noise-free): the rule sees the problem only
    through g and diag(H), so the rescaled run is given diag(D^-1 H D^-1) = diag(H)/D^2."""
    lam = spectra.logspace(6, 1.0, 30.0)
    p = simopt.quadratic(lam, rotation="haar", xstar=np.zeros(6), seed=5)
    D = 2.0 ** np.arange(-2, 4)
    H = p.hessian()
    Ht = H / D[:, None] / D[None, :]
    pt = simopt.quadratic(np.diag(Ht).copy(), xstar=np.zeros(6))         # carries diag(H~) to the rule
    opt = optim.sophia(10.0, gamma=1e4, k=3, estimator="exact")
    x, y = p.x0[None].copy(), (D * p.x0)[None].copy()
    sx, sy = opt.init_state(1, p), opt.init_state(1, pt)
    for t in range(1, 61):
        opt.reference_step(x, (x @ H)[:, None], sx, t, 10.0, p)
        opt.reference_step(y, (y @ Ht)[:, None], sy, t, 10.0, pt)
    np.testing.assert_allclose(y, D * x, rtol=1e-12, atol=1e-14)
    assert np.linalg.norm(x - p.x0) > 0.1                                   # it moved
