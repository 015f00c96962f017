"""Properties of the quadratic problems (simopt.problems); theory_notes.md §0–§1."""
import itertools
import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simopt import noise, problems, spectra
from simopt.problems import block_diagonal, heterogeneous_blocks, quadratic

SET = settings(max_examples=30, deadline=None)
seeds = st.integers(0, 2**32 - 1)
angles = st.floats(0.0, 1.0)
eig = st.floats(1e-2, 1e2)


@st.composite
def small_problems(draw, max_dim=8):
    """A random problem of any constructor / rotation / kind with dimension <= max_dim."""
    seed = draw(seeds)
    which = draw(st.sampled_from(["quadratic", "block_diagonal", "heterogeneous_blocks"]))
    if which == "quadratic":
        d = draw(st.integers(1, max_dim))
        lam = draw(st.lists(eig, min_size=d, max_size=d))
        rot = draw(st.one_of(st.sampled_from(["none", "haar"]), angles))
        return quadratic(lam, rotation=rot, seed=seed)
    if which == "block_diagonal":
        sizes = draw(st.lists(st.integers(1, 3), min_size=1, max_size=3))
        blocks = [draw(st.lists(eig, min_size=n, max_size=n)) for n in sizes]
        rot = draw(st.one_of(st.sampled_from(["block", "none", "global"]), angles))
        return block_diagonal(blocks, rotation=rot, seed=seed)
    B = draw(st.integers(1, 3))
    n = draw(st.integers(2 if B == 1 else 1, max_dim // B))
    rot = draw(st.one_of(st.sampled_from(["block", "none", "global"]), angles))
    return heterogeneous_blocks(B, n, draw(angles), draw(st.floats(1.5, 1e4)), rotation=rot,
                                seed=seed)


def _points(p, seed, runs):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((runs, p.dim)) * rng.uniform(0.1, 10)


# ----------------------------------------------------------------------------- structure
@SET
@given(small_problems())
def test_structure_contract(p):
    d = p.dim
    assert p.kind in ("diagonal", "block", "dense")
    assert sum(p.block_sizes) == d and p.n_blocks == len(p.blocks) == len(p.block_sizes)
    assert p.block_starts.dtype == np.int64 and p.block_starts.shape == (p.n_blocks + 1,)
    assert [(s.start, s.stop) for s in p.blocks] == list(zip(p.block_starts[:-1],
                                                             p.block_starts[1:]))
    H = p.hessian()
    assert H.shape == (d, d) and H.dtype == np.float64
    np.testing.assert_array_equal(H, H.T)  # symmetrized exactly
    if p.kind == "diagonal":
        assert p.block_matrices is None and p.diag.shape == (d,)
        np.testing.assert_array_equal(H, np.diag(p.diag))
    elif p.kind == "block":
        assert p.diag is None
        for s, hb in zip(p.blocks, p.block_matrices):
            assert hb.flags.c_contiguous and hb.dtype == np.float64
            np.testing.assert_array_equal(H[s, s], hb)
        mask = np.zeros((d, d), dtype=bool)
        for s in p.blocks:
            mask[s, s] = True
        assert np.all(H[~mask] == 0.0)
    else:
        assert p.diag is None and p.block_matrices is None
    vals, Q = p.eigh()
    assert np.all(np.diff(vals) >= 0)
    np.testing.assert_allclose(Q.T @ Q, np.eye(d), rtol=0, atol=1e-12)
    np.testing.assert_allclose((Q * vals) @ Q.T, H, rtol=0, atol=1e-12 * p.L)
    # the numerically computed spectrum is the requested one
    np.testing.assert_allclose(np.linalg.eigvalsh(H), p.eigvals, rtol=0, atol=1e-11 * p.L)
    for s, be in zip(p.blocks, p.block_eigvals):
        np.testing.assert_allclose(np.linalg.eigvalsh(H[s, s]), be, rtol=0, atol=1e-11 * p.L)
    assert p.condition_number == pytest.approx(p.L / p.mu)
    for arr in (p.x0, p.xstar, H, vals, Q):
        assert not arr.flags.writeable
    assert p.f0 == pytest.approx(p.loss(p.x0), rel=1e-15)


@SET
@given(st.lists(eig, min_size=1, max_size=8), seeds, angles)
def test_rotated_problems_have_the_requested_spectrum(lam, seed, theta):
    for rot in ("haar", theta):
        p = quadratic(lam, rotation=rot, seed=seed)
        np.testing.assert_allclose(np.linalg.eigvalsh(p.hessian()), np.sort(lam), rtol=0,
                                   atol=1e-12 * max(lam))


@SET
@given(st.lists(st.lists(eig, min_size=1, max_size=4), min_size=1, max_size=4), seeds)
def test_block_problems_have_the_requested_block_spectra(blocks, seed):
    p = block_diagonal(blocks, rotation="block", seed=seed)
    assert p.kind == "block" and p.block_sizes == tuple(len(b) for b in blocks)
    H = p.hessian()
    L = max(max(b) for b in blocks)
    for s, b, be, lb, kb in zip(p.blocks, blocks, p.block_eigvals, p.block_L,
                                p.block_condition_numbers):
        np.testing.assert_allclose(np.linalg.eigvalsh(H[s, s]), np.sort(b), rtol=0,
                                   atol=1e-12 * L)
        np.testing.assert_array_equal(be, np.sort(b))
        assert lb == max(b) and kb == pytest.approx(max(b) / min(b), rel=1e-14)


def test_kinds_and_rotation_options():
    lam = spectra.logspace(6, 1.0, 100.0)
    bl = [lam[:3], lam[3:]]
    assert quadratic(lam).kind == "diagonal"
    assert quadratic(lam, rotation=0.0).kind == "diagonal"
    assert quadratic(lam, rotation="haar").kind == "dense"
    assert quadratic(lam, rotation=0.3).kind == "dense"
    np.testing.assert_array_equal(quadratic(lam).diag, lam)  # given order kept
    assert block_diagonal(bl).kind == "block"
    assert block_diagonal(bl, rotation="none").kind == "diagonal"
    assert block_diagonal(bl, rotation=0.0).kind == "diagonal"
    for rot in ("global", 0.5, 1.0):
        p = block_diagonal(bl, rotation=rot)
        assert p.kind == "dense" and p.block_sizes == (3, 3)  # the partition is kept
    assert quadratic(lam, blocks=[2, 4]).block_sizes == (2, 4)
    assert quadratic(lam).block_sizes == (6,)


@SET
@given(st.lists(eig, min_size=1, max_size=8), seeds)
def test_full_angle_equals_haar_and_zero_angle_equals_axis_aligned(lam, seed):
    # same rotation stream: θ = 1 is the Haar draw (a column sign flip does not change H)
    np.testing.assert_allclose(quadratic(lam, 1.0, seed=seed).hessian(),
                               quadratic(lam, "haar", seed=seed).hessian(), rtol=0,
                               atol=1e-12 * max(lam))
    np.testing.assert_array_equal(quadratic(lam, 0.0, seed=seed).hessian(),
                                  quadratic(lam, "none", seed=seed).hessian())


# ----------------------------------------------------------------------------- heterogeneous
@SET
@given(st.integers(1, 6), st.integers(1, 6), angles, st.floats(1.01, 1e8),
       st.one_of(st.none(), angles), st.sampled_from(["block", "none", "global"]), seeds)
def test_heterogeneous_blocks_hits_global_condition_number(B, n, h, kappa, w, rot, seed):
    if B * n == 1:
        with pytest.raises(ValueError, match="block_size"):
            heterogeneous_blocks(B, n, h, kappa, block_width=w)
        return
    p = heterogeneous_blocks(B, n, h, kappa, rotation=rot, seed=seed, block_width=w)
    assert p.dim == B * n and p.block_sizes == (n,) * B
    assert p.condition_number == pytest.approx(kappa, rel=1e-10)
    assert p.mu == pytest.approx(1.0, rel=1e-12) and p.L == pytest.approx(kappa, rel=1e-12)
    if B * n <= 12:  # and the matrix really has it (eigvalsh's error on μ = 1 is ~ eps·κ)
        ev = np.linalg.eigvalsh(p.hessian())
        assert ev[-1] / ev[0] == pytest.approx(kappa, rel=1e-10 + 1e-13 * kappa)


@SET
@given(st.integers(1, 5), st.integers(2, 6), st.floats(1.5, 1e6), seeds)
def test_heterogeneity_zero_gives_identical_block_spectra(B, n, kappa, seed):
    p = heterogeneous_blocks(B, n, 0.0, kappa, seed=seed)
    for be in p.block_eigvals[1:]:
        np.testing.assert_array_equal(be, p.block_eigvals[0])
    np.testing.assert_allclose(p.block_condition_numbers, kappa, rtol=1e-12)


@SET
@given(st.integers(2, 5), st.integers(2, 6), st.floats(1.5, 1e6), seeds)
def test_heterogeneity_one_gives_separated_bands(B, n, kappa, seed):
    p = heterogeneous_blocks(B, n, 1.0, kappa, seed=seed)
    w = 1.0 / (4 * B)
    np.testing.assert_allclose(p.block_condition_numbers, kappa ** w, rtol=1e-10)
    for lo, hi in zip(p.block_eigvals[:-1], p.block_eigvals[1:]):
        assert lo[-1] < hi[0]  # bands are disjoint and ordered
    assert p.condition_number == pytest.approx(kappa, rel=1e-10)


def test_heterogeneity_is_monotone_in_block_conditioning():
    ks = [heterogeneous_blocks(4, 8, h).block_condition_numbers.max() for h in
          np.linspace(0, 1, 6)]
    assert all(a > b for a, b in zip(ks[:-1], ks[1:]))
    assert ks[0] == pytest.approx(5000.0) and ks[-1] == pytest.approx(5000.0 ** (1 / 16))


def test_heterogeneous_special_cases():
    one = heterogeneous_blocks(1, 5, 1.0, 100.0)  # the block is the whole spectrum
    np.testing.assert_allclose(one.eigvals, spectra.logspace(5, 1.0, 100.0), rtol=1e-14)
    singles = heterogeneous_blocks(4, 1, 0.3, 1000.0)  # one eigenvalue per block
    np.testing.assert_allclose(singles.eigvals, spectra.logspace(4, 1.0, 1000.0), rtol=1e-14)
    np.testing.assert_array_equal(singles.block_condition_numbers, 1.0)


def test_redistributed_heterogeneous_spectrum_is_homogeneous():
    het = heterogeneous_blocks(4, 6, 1.0)
    hom = block_diagonal(spectra.redistribute(het.block_eigvals))
    np.testing.assert_array_equal(hom.eigvals, het.eigvals)
    assert hom.block_condition_numbers.min() > 100 * het.block_condition_numbers.max()


# ----------------------------------------------------------------------------- loss and grad
@SET
@given(small_problems(), seeds, st.floats(-3.0, 3.0))
def test_one_step_identity(p, seed, eta):
    # (Q): f(x − ηu) = f(x) − η gᵀu + ½ η² uᵀHu  (theory_notes.md §0), batched over rows
    rng = np.random.default_rng(seed)
    X = _points(p, seed, 4)
    U = rng.standard_normal((4, p.dim))
    f, g = p.loss(X), p.grad(X)
    gu = np.einsum("ij,ij->i", g, U)
    uhu = np.einsum("ij,ij->i", U, p.hvp(U))
    lhs = p.loss(X - eta * U)
    rhs = f - eta * gu + 0.5 * eta ** 2 * uhu
    scale = np.abs(f) + np.abs(eta * gu) + np.abs(0.5 * eta ** 2 * uhu)
    assert np.all(np.abs(lhs - rhs) <= 1e-10 * scale)


@SET
@given(small_problems(), seeds)
def test_grad_is_the_gradient_of_loss(p, seed):
    x = _points(p, seed, 1)[0]
    g = p.grad(x)
    h = 1e-3 * (1 + np.abs(x).max())
    E = np.eye(p.dim) * h
    # central differences are exact for a quadratic up to rounding
    fd = (p.loss(x + E) - p.loss(x - E)) / (2 * h)
    np.testing.assert_allclose(fd, g, rtol=0, atol=1e-7 * (np.abs(g).max() + p.L))
    np.testing.assert_allclose(g, p.hessian() @ (x - p.xstar), rtol=0,
                               atol=1e-12 * p.L * (1 + np.abs(x - p.xstar).sum()))
    assert p.loss(p.xstar) == 0.0 and np.all(p.grad(p.xstar) == 0.0)


@SET
@given(small_problems(), seeds)
def test_batch_equals_rowwise(p, seed):
    X = _points(p, seed, 3)
    fb, gb = p.loss(X), p.grad(X)
    assert fb.shape == (3,) and gb.shape == (3, p.dim)
    for r in range(3):
        e1 = np.abs(X[r] - p.xstar).sum()  # BLAS may sum in another order for a batch
        assert isinstance(p.loss(X[r]), float)
        assert fb[r] == pytest.approx(p.loss(X[r]), rel=1e-13, abs=1e-13 * p.L * e1 ** 2)
        np.testing.assert_allclose(gb[r], p.grad(X[r]), rtol=1e-13, atol=1e-13 * p.L * e1)


# ----------------------------------------------------------------------------- ℓ∞ constants
@settings(max_examples=30, deadline=None)
@given(small_problems(max_dim=10))
def test_linf_smoothness_bounds_every_sign_vector(p):
    H = p.hessian()
    S = np.array(list(itertools.product((-1.0, 1.0), repeat=p.dim)))
    worst = np.einsum("ij,jk,ik->i", S, H, S).max()
    assert p.linf_smoothness >= worst * (1 - 1e-12)
    assert p.linf_smoothness <= p.dim * p.L * (1 + 1e-12)
    if p.kind in ("diagonal", "block"):  # U_∞ = P·L_P = Σ_b d_b L_b
        assert p.linf_smoothness == pytest.approx(np.dot(p.block_sizes, p.block_L), rel=1e-14)
    else:
        assert p.linf_smoothness == pytest.approx(min(np.abs(H).sum(), p.dim * p.L), rel=1e-14)


@SET
@given(small_problems(), seeds)
def test_linf_strong_convexity_attained_at_a_vertex(p, seed):
    Hinv = np.linalg.inv(p.hessian())
    mu_inf = p.linf_strong_convexity
    i = int(np.argmax(np.diag(Hinv)))
    e = np.zeros(p.dim)
    e[i] = 1.0
    assert e @ Hinv @ e == pytest.approx(1.0 / mu_inf, rel=1e-9)  # attained at the vertex e_i
    G = np.random.default_rng(seed).standard_normal((20, p.dim))
    quad = np.einsum("ij,jk,ik->i", G, Hinv, G)
    assert np.all(quad <= np.abs(G).sum(1) ** 2 / mu_inf * (1 + 1e-9))  # ½gᵀH⁻¹g <= ‖g‖₁²/(2μ_∞)
    assert p.mu * (1 - 1e-9) <= mu_inf  # μ_∞ >= μ since (H⁻¹)_ii <= 1/μ


# ----------------------------------------------------------------------------- noise
@SET
@given(small_problems(), st.floats(1e-3, 10.0))
def test_sqrt_hessian_factor(p, scale):
    kind, A = p.noise_factor_sqrt_hessian(scale)
    assert kind == {"diagonal": "scale", "block": "blocks", "dense": "matrix"}[p.kind]
    if kind == "scale":
        C = np.diag(A * A)
    elif kind == "blocks":
        import scipy.linalg
        C = scipy.linalg.block_diag(*[a @ a.T for a in A])
    else:
        C = A @ A.T
    np.testing.assert_allclose(C, scale ** 2 * p.hessian(), rtol=0, atol=1e-12 * scale ** 2 * p.L)
    np.testing.assert_allclose(noise.hessian_aligned(scale).covariance(p.with_noise(None)),
                               scale ** 2 * p.hessian(), rtol=0, atol=1e-12 * scale ** 2 * p.L)


def test_noise_vector_scale_checked_at_construction():
    lam = np.arange(1.0, 5.0)
    with pytest.raises(ValueError, match="scale"):
        quadratic(lam, noise=noise.gaussian(np.ones(3)))
    with pytest.raises(ValueError, match="scale"):
        heterogeneous_blocks(2, 2, 0.5, noise=noise.student_t(np.ones(5), 3.0))
    p = quadratic(lam, noise=noise.gaussian(np.ones(4)))
    with pytest.raises(ValueError, match="scale"):
        p.with_noise(noise.gaussian(np.ones(2)))
    with pytest.raises(TypeError, match="noise"):
        quadratic(lam, noise="gaussian")


# ----------------------------------------------------------------------------- seeding & copies
def test_seeding_streams_are_separate():
    lam = spectra.logspace(5, 1.0, 10.0)
    a = quadratic(lam, "haar", seed=7)
    b = quadratic(lam, "haar", seed=7)
    for name in ("x0", "xstar"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    np.testing.assert_array_equal(a.hessian(), b.hessian())
    c = quadratic(lam, "haar", seed=7, x0=np.zeros(5))  # passing x0 shifts nothing else
    np.testing.assert_array_equal(c.xstar, a.xstar)
    np.testing.assert_array_equal(c.hessian(), a.hessian())
    e = quadratic(lam, "none", seed=7)  # the rotation stream is not shared with x0/x*
    np.testing.assert_array_equal(e.x0, a.x0)
    np.testing.assert_array_equal(e.xstar, a.xstar)
    assert not np.array_equal(a.x0, a.xstar)
    assert not np.array_equal(quadratic(lam, "haar", seed=8).hessian(), a.hessian())
    x0, xs = np.random.default_rng(np.random.SeedSequence(7).spawn(3)[1]).standard_normal(5), \
        np.random.default_rng(np.random.SeedSequence(7).spawn(3)[2]).standard_normal(5)
    np.testing.assert_array_equal(a.x0, x0)
    np.testing.assert_array_equal(a.xstar, xs)


def test_with_x0_and_with_noise_copy():
    p = heterogeneous_blocks(3, 3, 0.5, seed=1)
    q = p.with_x0(np.ones(9))
    np.testing.assert_array_equal(q.x0, np.ones(9))
    assert q.f0 == pytest.approx(p.loss(np.ones(9))) and p.f0 == pytest.approx(p.loss(p.x0))
    assert not np.array_equal(p.x0, q.x0)
    r = p.with_noise(noise.hessian_aligned(0.5))
    assert r.noise is not None and p.noise is None
    assert r.describe()["args"]["noise"] == {"name": "hessian_aligned", "scale": 0.5}
    assert q.describe()["args"]["x0"] == [1.0] * 9 and p.describe()["args"]["x0"] is None
    with pytest.raises(ValueError, match="x0"):
        p.with_x0(np.ones(8))
    with pytest.raises(ValueError, match="x0"):
        p.with_x0([np.nan] * 9)
    with pytest.raises(ValueError):
        p.x0[0] = 1.0  # read-only


@pytest.mark.parametrize("make", [
    lambda: quadratic([1.0, 2.0, 4.0], rotation=0.4, seed=3, blocks=[1, 2],
                      noise=noise.gaussian([1.0, 2.0, 3.0])),
    lambda: quadratic([1.0, 2.0], x0=[1.0, 2.0], xstar=[0.5, 0.5]),
    lambda: block_diagonal([[1.0, 3.0], [2.0]], rotation="global", seed=2,
                           noise=noise.student_t(0.5, 4.0)),
    lambda: heterogeneous_blocks(3, 2, 0.7, 100.0, rotation="block", seed=5, block_width=0.1,
                                 noise=noise.hessian_aligned(0.3)),
])
def test_describe_is_json_and_rebuilds(make):
    p = make()
    desc = json.loads(json.dumps(p.describe()))
    assert desc["kind"] == p.kind and desc["dim"] == p.dim
    q = problems.from_description(desc)
    np.testing.assert_array_equal(q.hessian(), p.hessian())
    np.testing.assert_array_equal(q.x0, p.x0)
    np.testing.assert_array_equal(q.xstar, p.xstar)
    assert repr(q.noise) == repr(p.noise)
    assert q.describe() == p.describe()


# ----------------------------------------------------------------------------- bad input
P = quadratic([1.0, 2.0, 3.0], rotation="haar")


@pytest.mark.parametrize("call, name, exc", [
    (lambda: quadratic([1.0, -2.0]), "eigvals", ValueError),
    (lambda: quadratic([1.0, 0.0]), "eigvals", ValueError),
    (lambda: quadratic([1.0, np.nan]), "eigvals", ValueError),
    (lambda: quadratic([[1.0, 2.0]]), "eigvals", ValueError),
    (lambda: quadratic([]), "eigvals", ValueError),
    (lambda: quadratic("abc"), "eigvals", TypeError),
    (lambda: quadratic([1.0, 2.0], rotation=1.5), "rotation", ValueError),
    (lambda: quadratic([1.0, 2.0], rotation=-0.1), "rotation", ValueError),
    (lambda: quadratic([1.0, 2.0], rotation="block"), "rotation", ValueError),
    (lambda: quadratic([1.0, 2.0], rotation="spin"), "rotation", ValueError),
    (lambda: quadratic([1.0, 2.0], rotation=True), "rotation", TypeError),
    (lambda: quadratic([1.0, 2.0], rotation=None), "rotation", TypeError),
    (lambda: quadratic([1.0, 2.0], seed=-1), "seed", ValueError),
    (lambda: quadratic([1.0, 2.0], seed=1.5), "seed", TypeError),
    (lambda: quadratic([1.0, 2.0], seed=False), "seed", TypeError),
    (lambda: quadratic([1.0, 2.0], x0=[1.0]), "x0", ValueError),
    (lambda: quadratic([1.0, 2.0], x0=[1.0, np.inf]), "x0", ValueError),
    (lambda: quadratic([1.0, 2.0], xstar=[[1.0, 2.0]]), "xstar", ValueError),
    (lambda: quadratic([1.0, 2.0], blocks=[1, 2]), "blocks", ValueError),
    (lambda: quadratic([1.0, 2.0], blocks=[2, 0]), "blocks", ValueError),
    (lambda: block_diagonal([[1.0], [0.0]]), "block_eigvals", ValueError),
    (lambda: block_diagonal([]), "block_eigvals", ValueError),
    (lambda: block_diagonal([[1.0]], rotation="spin"), "rotation", ValueError),
    (lambda: block_diagonal([[1.0]], rotation=2), "rotation", ValueError),
    (lambda: heterogeneous_blocks(0, 3, 0.5), "n_blocks", ValueError),
    (lambda: heterogeneous_blocks(2.0, 3, 0.5), "n_blocks", TypeError),
    (lambda: heterogeneous_blocks(2, 0, 0.5), "block_size", ValueError),
    (lambda: heterogeneous_blocks(2, 3, 1.5), "heterogeneity", ValueError),
    (lambda: heterogeneous_blocks(2, 3, True), "heterogeneity", TypeError),
    (lambda: heterogeneous_blocks(2, 3, 0.5, 1.0), "condition_number", ValueError),
    (lambda: heterogeneous_blocks(2, 3, 0.5, np.inf), "condition_number", ValueError),
    (lambda: heterogeneous_blocks(2, 3, 0.5, block_width=-0.1), "block_width", ValueError),
    (lambda: heterogeneous_blocks(2, 3, 0.5, rotation=np.nan), "rotation", ValueError),
    (lambda: P.loss(np.ones(4)), "X", ValueError),
    (lambda: P.loss(np.ones((2, 2, 3))), "X", ValueError),
    (lambda: P.loss(1.0), "X", ValueError),
    (lambda: P.grad(np.ones((2, 4))), "X", ValueError),
    (lambda: P.grad("x"), "X", TypeError),
    (lambda: P.grad(np.ones(3) * 1j), "X", TypeError),
    (lambda: P.noise_factor_sqrt_hessian(0.0), "scale", ValueError),
    (lambda: problems.from_description({"constructor": "cubic"}), "constructor", ValueError),
])
def test_bad_input_names_argument(call, name, exc):
    with pytest.raises(exc, match=name):
        call()


junk = st.one_of(st.none(), st.booleans(), st.text(max_size=3), st.integers(-5, 5),
                 st.floats(allow_nan=True, allow_infinity=True),
                 st.lists(st.floats(allow_nan=True, allow_infinity=True), max_size=4),
                 st.lists(st.lists(st.floats(-2, 2), max_size=2), max_size=2))


@settings(max_examples=30, deadline=None)
@given(st.sampled_from(["quadratic", "block_diagonal", "heterogeneous_blocks"]),
       st.data())
def test_fuzz_only_value_or_type_errors_escape(which, data):
    if which == "quadratic":
        names = ["eigvals", "rotation", "seed", "x0", "xstar", "blocks"]
        base = dict(eigvals=[1.0, 2.0], rotation="haar")
        fn = quadratic
    elif which == "block_diagonal":
        names = ["block_eigvals", "rotation", "seed", "x0", "xstar"]
        base = dict(block_eigvals=[[1.0], [2.0]])
        fn = block_diagonal
    else:
        names = ["n_blocks", "block_size", "heterogeneity", "condition_number", "rotation",
                 "seed", "x0", "xstar", "block_width"]
        base = dict(n_blocks=2, block_size=2, heterogeneity=0.5)
        fn = heterogeneous_blocks
    bad = data.draw(st.lists(st.sampled_from(names), min_size=1, max_size=3, unique=True))
    kwargs = dict(base)
    for k in bad:
        kwargs[k] = data.draw(junk)
    try:
        p = fn(**kwargs)
    except (ValueError, TypeError) as e:
        assert any(k in str(e) for k in names), str(e)
    else:
        assert np.all(np.isfinite(p.hessian())) and math.isfinite(p.f0)


def test_within_blocks_rotation_path_from_block_diagonal_to_fully_rotated():
    """θ = 0 is exactly the block-rotated problem; every θ keeps the spectrum; the path is continuous."""
    import simopt as so
    blk = so.heterogeneous_blocks(3, 4, 1.0, 200.0, rotation="block", seed=5)
    at0 = so.heterogeneous_blocks(3, 4, 1.0, 200.0, rotation=0.0, within_blocks=True, seed=5)
    assert at0.kind == "block"
    np.testing.assert_array_equal(at0.hessian(), blk.hessian())
    prev = blk.hessian()
    for theta in (1e-6, 0.25, 0.5, 1.0):
        p = so.heterogeneous_blocks(3, 4, 1.0, 200.0, rotation=theta, within_blocks=True, seed=5)
        assert p.kind == "dense"
        np.testing.assert_allclose(np.linalg.eigvalsh(p.hessian()), blk.eigvals, rtol=1e-10)
        if theta == 1e-6:
            assert np.abs(p.hessian() - prev).max() < 1e-3
        q = so.problems.from_description(p.describe())
        np.testing.assert_array_equal(q.hessian(), p.hessian())
    with pytest.raises(TypeError, match="within_blocks"):
        so.block_diagonal([[1.0, 2.0]], rotation=0.5, within_blocks="yes")
