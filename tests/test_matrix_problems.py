"""Matrix quadratics f(W) = 1/2 <W - W*, A (W - W*) B> (simopt.matrix_quadratic): gradients and HVPs
against finite differences and the dense Kronecker Hessian, eigh from the factors against a numerical one,
runs equal to those of the flattened vector problem with H = A (x) B (noise-free and with the same noise),
determinism across thread counts and run splits, descriptions, validation and the theory functions."""
import json
import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import simopt
from simopt import noise, optim, problems, spectra, theory
from simopt.problems import Quadratic

eig = st.floats(0.05, 20.0)
rotations = st.one_of(st.sampled_from(["none", "haar"]), st.floats(0.0, 1.0))


@st.composite
def matrix_problems(draw, max_side=4):
    m, n = draw(st.integers(1, max_side)), draw(st.integers(1, max_side))
    return simopt.matrix_quadratic(draw(st.lists(eig, min_size=m, max_size=m)),
                                   draw(st.lists(eig, min_size=n, max_size=n)),
                                   rotation_A=draw(rotations), rotation_B=draw(rotations),
                                   seed=draw(st.integers(0, 2 ** 31)),
                                   blocks=draw(st.sampled_from([None, "rows"])))


@dataclass(frozen=True, eq=False)
class _FixedFactor(noise.Noise):
    """Gaussian noise xi = F z with a given factor F (the vector twin of a matrix problem's S_A Z S_B)."""
    F: np.ndarray = None

    def factor(self, problem):
        return "matrix", self.F


def vector_twin(p, noise_model=None):
    """The flattened problem as a dense vector quadratic with H = Q diag(a_i b_j) Q^T, Q = Q_A (x) Q_B."""
    lam, Q = p.eigh()
    return Quadratic(kind="dense", sizes=p.block_sizes, lam=lam, rot=Q, x0=p.x0, xstar=p.xstar,
                     noise=noise_model, seed=p.seed, description={"constructor": "quadratic", "args": {}})


def kron_noise_twin(p, scale):
    """The vector noise whose draws equal hessian_aligned(scale) on the matrix problem for the same z:
    vec(S_A Z S_B) = (S_A (x) S_B^T) vec(Z)."""
    _, (SA, SB) = p.noise_factor_sqrt_hessian(scale)
    return _FixedFactor(distribution="normal", F=np.kron(SA, SB.T))


# ----------------------------------------------------------------------------- the quadratic
@given(matrix_problems(), st.integers(0, 2 ** 31))
def test_gradient_and_hvp_equal_the_dense_kronecker_hessian_and_finite_differences(p, seed):
    m, n = p.matrix_shape
    A, B = p.kron_factors
    H = p.hessian()
    np.testing.assert_allclose(H, np.kron(A, B), rtol=0, atol=0)
    np.testing.assert_array_equal(H, H.T)
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((3, p.dim))
    E = X - p.xstar
    np.testing.assert_allclose(p.grad(X), E @ H, rtol=1e-12, atol=1e-12 * np.abs(E @ H).max())
    np.testing.assert_allclose(p.hvp(X), X @ H, rtol=1e-12, atol=1e-12 * np.abs(X @ H).max())
    np.testing.assert_allclose(p.loss(X), 0.5 * np.einsum("ri,ij,rj->r", E, H, E), rtol=1e-12)
    # matrix-shaped points: A (W - W*) B, returned in the shape given
    W = X.reshape(3, m, n)
    Ws = p.xstar.reshape(m, n)
    np.testing.assert_allclose(p.grad(W), A @ (W - Ws) @ B, rtol=1e-12, atol=1e-12 * np.abs(E @ H).max())
    np.testing.assert_allclose(p.grad(W[0]), p.grad(X[0]).reshape(m, n), rtol=0, atol=0)
    assert p.hvp(W[1]).shape == (m, n)
    assert np.isscalar(p.loss(W[0])) if m > 1 else p.loss(W[0]).shape == (1,)   # 1 x n: one run of (1, d)
    # central differences of the loss (exact for a quadratic up to rounding)
    h = 1e-4
    fd = np.array([(p.loss(X[0] + h * e) - p.loss(X[0] - h * e)) / (2 * h) for e in np.eye(p.dim)])
    np.testing.assert_allclose(fd, p.grad(X[0]), rtol=1e-6, atol=1e-6 * max(1.0, np.abs(fd).max()))
    g0 = p.grad(X[0])
    fd_h = np.stack([(p.grad(X[0] + h * e) - g0) / h for e in np.eye(p.dim)])
    np.testing.assert_allclose(fd_h, H, rtol=1e-6, atol=1e-6 * np.abs(H).max())


@given(matrix_problems())
def test_eigh_from_the_factors_equals_a_numerical_eigendecomposition(p):
    lam, Q = p.eigh()
    H = p.hessian()
    a, b = (f[0] for f in p.factor_eigh())
    np.testing.assert_array_equal(lam, np.sort(np.multiply.outer(a, b).ravel()))
    np.testing.assert_allclose(lam, np.linalg.eigvalsh(H), rtol=1e-12, atol=1e-12 * lam[-1])
    np.testing.assert_allclose(Q.T @ Q, np.eye(p.dim), atol=1e-12)
    np.testing.assert_allclose((Q * lam) @ Q.T, H, atol=1e-12 * lam[-1])
    assert p.L == a.max() * b.max() and p.mu == a.min() * b.min()
    np.testing.assert_allclose(p.condition_number, (a.max() / a.min()) * (b.max() / b.min()), rtol=1e-14)
    # the problem constants equal their dense definitions
    np.testing.assert_allclose(p.linf_smoothness, min(np.abs(H).sum(), p.dim * p.L), rtol=1e-12)
    np.testing.assert_allclose(p.linf_strong_convexity, 1.0 / np.diag(np.linalg.inv(H)).max(), rtol=1e-9)
    for s, ev in zip(p.blocks, p.block_eigvals):
        np.testing.assert_allclose(ev, np.linalg.eigvalsh(H[s, s]), rtol=1e-10, atol=1e-12 * lam[-1])


def test_hessian_aligned_noise_is_S_A_Z_S_B_with_covariance_scale2_H():
    p = simopt.matrix_quadratic([1.0, 3.0, 9.0], [0.5, 2.0], rotation_A="haar", rotation_B=0.4, seed=3)
    kind, (SA, SB) = p.noise_factor_sqrt_hessian(0.3)
    A, B = p.kron_factors
    assert kind == "kron"
    np.testing.assert_allclose(SA @ SA, 0.09 * A, atol=1e-14)
    np.testing.assert_allclose(SB @ SB, B, atol=1e-14)
    np.testing.assert_allclose(noise.hessian_aligned(0.3).covariance(p), 0.09 * p.hessian(), atol=1e-13)
    np.testing.assert_allclose(noise.student_t(0.2, 4.0).covariance(p), 0.08 * np.eye(6))


def test_seeding_matches_the_vector_problems_and_keeps_the_two_rotations_apart():
    a, b = spectra.logspace(3, 1.0, 10.0), spectra.logspace(4, 1.0, 5.0)
    p = simopt.matrix_quadratic(a, b, rotation_A="haar", rotation_B="haar", seed=7)
    q = simopt.quadratic(np.ones(12), seed=7)
    np.testing.assert_array_equal(p.x0, q.x0)
    np.testing.assert_array_equal(p.xstar, q.xstar)
    only_b = simopt.matrix_quadratic(a, b, rotation_A="none", rotation_B="haar", seed=7)
    np.testing.assert_array_equal(only_b.kron_factors[1], p.kron_factors[1])
    np.testing.assert_array_equal(only_b.kron_factors[0], np.diag(a))
    full = simopt.matrix_quadratic(a, b, rotation_A=1.0, rotation_B="haar", seed=7)
    np.testing.assert_allclose(full.kron_factors[0], p.kron_factors[0], atol=1e-12)
    again = simopt.matrix_quadratic(a, b, rotation_A="haar", rotation_B="haar", seed=7)
    np.testing.assert_array_equal(again.hessian(), p.hessian())


def test_description_round_trip_and_variants():
    p = simopt.matrix_quadratic([1.0, 4.0], [1.0, 2.0, 3.0], rotation_A=0.3, rotation_B="haar",
                                noise=noise.hessian_aligned(0.2), seed=5, blocks="rows",
                                xstar=np.arange(6.0).reshape(2, 3))
    desc = p.describe()
    assert desc["kind"] == "kron" and desc["dim"] == 6 and desc["constructor"] == "matrix_quadratic"
    q = problems.from_description(json.loads(json.dumps(desc)))
    assert isinstance(q, simopt.MatrixQuadratic) and q.matrix_shape == (2, 3)
    np.testing.assert_array_equal(q.hessian(), p.hessian())
    np.testing.assert_array_equal(q.x0, p.x0)
    np.testing.assert_array_equal(q.xstar, np.arange(6.0))
    assert q.block_sizes == (3, 3) and q.noise.describe() == p.noise.describe()
    assert p.rotation == (0.3, "haar")
    r = p.with_x0(np.ones((2, 3))).with_noise(noise.gaussian(0.1))
    np.testing.assert_array_equal(r.x0, np.ones(6))
    assert r.f0 == p.loss(np.ones(6)) and problems.from_description(r.describe()).noise.scale == 0.1
    assert isinstance(r, simopt.MatrixQuadratic) and r.kind == "kron"


@pytest.mark.parametrize("kwargs,name", [
    ({"A_eigvals": [1.0, -1.0]}, "A_eigvals"), ({"B_eigvals": [[1.0]]}, "B_eigvals"),
    ({"rotation_A": "global"}, "rotation_A"), ({"rotation_B": 1.5}, "rotation_B"),
    ({"rotation_B": True}, "rotation_B"), ({"x0": np.ones((3, 2))}, "x0"), ({"xstar": np.ones(5)}, "xstar"),
    ({"blocks": "columns"}, "blocks"), ({"blocks": [4, 3]}, "blocks"), ({"seed": -1}, "seed"),
    ({"noise": "gaussian"}, "noise"), ({"noise": noise.gaussian(np.ones(5))}, "noise scale"),
    ({"A_eigvals": [1e200, 1.0], "B_eigvals": [1e200, 1.0, 1.0]}, "A_eigvals"),
    ({"A_eigvals": [1e-200, 1.0], "B_eigvals": [1e-200, 1.0, 1.0]}, "A_eigvals"),
])
def test_bad_arguments_are_named(kwargs, name):
    args = {"A_eigvals": [1.0, 2.0], "B_eigvals": [1.0, 2.0, 3.0], **kwargs}
    with pytest.raises((ValueError, TypeError), match=name):
        simopt.matrix_quadratic(**args)
    p = simopt.matrix_quadratic([1.0, 2.0], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="X"):
        p.grad(np.ones((3, 2)))
    with pytest.raises(ValueError, match="x0"):
        p.with_x0(np.ones((4, 6)))


# ----------------------------------------------------------------------------- the engine
def _problem(noise_model=None, seed=2):
    a, b = spectra.logspace(3, 1.0, 30.0), spectra.logspace(4, 0.5, 4.0)
    return simopt.matrix_quadratic(a, b, rotation_A="haar", rotation_B=0.7, noise=noise_model, seed=seed)


@pytest.mark.parametrize("which", ["none", "gaussian", "hessian_aligned", "student_t"])
def test_runs_equal_those_of_the_flattened_vector_problem(which):
    """The engine's A E B gradient and S_A Z S_B noise against the dense vector problem with H = A (x) B
    (GEMM on the dense H) fed the same draws: the same SGD and Adam trajectories to ~1e-10."""
    base = _problem()
    models = {"none": (None, None), "gaussian": (noise.gaussian(0.3),) * 2,
              "hessian_aligned": (noise.hessian_aligned(0.3), kron_noise_twin(base, 0.3)),
              "student_t": (noise.student_t(0.2, 5.0),) * 2}
    mine, theirs = models[which]
    p, v = base.with_noise(mine), vector_twin(base, theirs)
    for opt in (optim.sgd(0.02, momentum=0.9), optim.adam(0.03)):
        a = simopt.run(p, opt, 60, runs=3, seed=4, record=("x",))
        b = simopt.run(v, opt, 60, runs=3, seed=4, record=("x",))
        np.testing.assert_allclose(a.records["x"], b.records["x"], rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(a.loss, b.loss, rtol=1e-10, atol=1e-12)
        assert not a.diverged.any()


def test_run_split_invariance_and_divergence_reporting():
    p = _problem(noise.hessian_aligned(0.5))
    for opt in (optim.adam(0.02), optim.muon(0.05), optim.shampoo(0.1)):
        full = simopt.run(p, opt, 30, runs=19, seed=7, record=("x",))
        a = simopt.run(p, opt, 30, runs=11, seed=7, record=("x",))
        b = simopt.run(p, opt, 30, runs=8, seed=7, first_run=11, record=("x",))
        assert np.array_equal(np.concatenate([a.records["x"], b.records["x"]]), full.records["x"]), opt.name
        assert np.array_equal(np.concatenate([a.loss, b.loss]), full.loss)
    res = simopt.run(p, optim.sgd(3.0 / p.L), 200, runs=2)
    assert res.diverged.all() and np.all(np.isfinite(res.x))


_THREAD_SCRIPT = textwrap.dedent("""
    import sys, numpy as np, simopt
    from simopt import noise, optim, spectra
    p = simopt.matrix_quadratic(spectra.logspace(5, 1.0, 30.0), spectra.logspace(6, 0.5, 4.0),
                                rotation_A="haar", rotation_B=0.7, noise=noise.hessian_aligned(0.3), seed=1)
    out = {}
    for i, opt in enumerate([optim.adam(0.02), optim.muon(0.05), optim.shampoo(0.05), optim.soap(0.02)]):
        r = simopt.run(p, opt, 25, runs=19, seed=5, record_every=3, record=("sharpness",))
        out[f"loss{i}"] = r.loss; out[f"x{i}"] = r.x; out[f"s{i}"] = r.records["sharpness"]
    np.savez(sys.argv[1], **out)
""")


def test_bit_identical_across_thread_counts(tmp_path):
    files = []
    for n in (1, 2):
        f = tmp_path / f"t{n}.npz"
        env = dict(os.environ, NUMBA_NUM_THREADS=str(n))
        subprocess.run([sys.executable, "-c", _THREAD_SCRIPT, str(f)], check=True, env=env)
        files.append(np.load(f))
    for k in files[0].files:
        assert np.array_equal(files[0][k], files[1][k], equal_nan=True), k


# ----------------------------------------------------------------------------- theory
def test_theory_functions_work_on_matrix_problems():
    p = _problem()
    v = vector_twin(p)
    rng = np.random.default_rng(0)
    U = rng.standard_normal((4, p.dim))
    H = p.hessian()
    np.testing.assert_allclose(theory.directional_sharpness(p, U),
                               np.einsum("ri,ij,rj->r", U, H, U) / np.einsum("ri,ri->r", U, U), rtol=1e-12)
    np.testing.assert_allclose(theory.metrics.hess_apply(p, U.reshape(2, 2, -1)),
                               (U @ H).reshape(2, 2, -1), rtol=1e-12, atol=1e-12)
    for lr in (0.5 / p.L, 1.0 / p.L, 2.0 / (p.L + p.mu)):
        mine, twin = theory.gd_fixed_step_bound(p, lr, 1e-4), theory.gd_fixed_step_bound(v, lr, 1e-4)
        assert mine.T_bound == twin.T_bound and mine.contraction == pytest.approx(twin.contraction, rel=1e-12)
    report = theory.check(p, "gd", eps=1e-4, runs=2)
    assert report.all_held and np.all(report.within_bound)
    f = theory.sgd_expected_loss(p.with_noise(noise.hessian_aligned(0.1)), 0.5 / p.L, 50)
    g = theory.sgd_expected_loss(v.with_noise(kron_noise_twin(p, 0.1)), 0.5 / p.L, 50)
    np.testing.assert_allclose(f, g, rtol=1e-10)


_junk = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.floats(allow_nan=True, allow_infinity=True),
                  st.text(max_size=3), st.lists(st.floats(-2, 2), max_size=4),
                  st.lists(st.lists(st.floats(-2, 2), min_size=2, max_size=2), max_size=3))


@given(st.dictionaries(st.sampled_from(["A_eigvals", "B_eigvals", "rotation_A", "rotation_B", "seed", "x0",
                                        "xstar", "noise", "blocks"]), _junk, max_size=4))
def test_fuzz_constructor_raises_only_clear_errors(kwargs):
    kwargs.setdefault("A_eigvals", [1.0, 2.0])
    kwargs.setdefault("B_eigvals", [1.0, 3.0])
    try:
        simopt.matrix_quadratic(**kwargs)
    except (ValueError, TypeError) as e:
        assert str(e)
