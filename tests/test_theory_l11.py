"""||H||_{1,1}, its blockwise versions and the block coupling (simopt.theory.metrics) against brute
force and the invariances that define them; simopt.rotated against its definition f'(x) = f(S^T x)."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import simopt
from simopt import optim
from simopt import theory as T

SETTINGS = settings(max_examples=25, deadline=None)


def base_problem(seed, rotation="none"):
    rng = np.random.default_rng(seed)
    sizes = [int(s) for s in rng.integers(1, 5, size=int(rng.integers(1, 4)))]
    if sum(sizes) < 2:
        sizes.append(1)
    spectra = [10.0 ** rng.uniform(0, 3, size=n) for n in sizes]
    return simopt.block_diagonal(spectra, rotation=rotation, seed=int(seed))


bases = st.builds(base_problem, st.integers(0, 2**31 - 1), st.sampled_from(["none", "block", "global", 0.4]))
rotations = st.sampled_from(["eigenbasis", "block", "global", 0.0, 0.5, 1.0])


def brute_blockwise(H, sizes):
    b = np.concatenate([[0], np.cumsum(sizes)])
    return sum(np.sqrt(sizes[i] * sizes[j]) * np.linalg.norm(H[b[i]:b[i + 1], b[j]:b[j + 1]], 2)
               for i in range(len(sizes)) for j in range(len(sizes)))


@SETTINGS
@given(bases)
def test_metrics_equal_brute_force_on_the_dense_hessian(p):
    H = p.hessian()
    sizes = list(p.block_sizes)
    b = np.concatenate([[0], np.cumsum(sizes)])
    assert T.hessian_l11(p) == pytest.approx(np.abs(H).sum(), rel=1e-12)
    diag = sum(np.abs(H[b[i]:b[i + 1], b[i]:b[i + 1]]).sum() for i in range(len(sizes)))
    assert T.hessian_block_l11(p) == pytest.approx(diag, rel=1e-12)
    assert T.blockwise_smoothness(p) == pytest.approx(brute_blockwise(H, sizes), rel=1e-10)
    off = H.copy()
    for i in range(len(sizes)):
        off[b[i]:b[i + 1], b[i]:b[i + 1]] = 0.0
    assert T.block_coupling(p) == pytest.approx(np.linalg.norm(off) / np.linalg.norm(H), rel=1e-10, abs=1e-12)


@SETTINGS
@given(bases)
def test_blockwise_smoothness_ends_and_bounds(p):
    d = p.dim
    # blocks of size 1: Adam's constant ||H||_{1,1};  one block: AdaSGD's d * lambda_max
    assert T.blockwise_smoothness(p, blocks=[1] * d) == pytest.approx(T.hessian_l11(p), rel=1e-12)
    assert T.blockwise_smoothness(p, blocks=[d]) == pytest.approx(d * p.L, rel=1e-10)
    # tr H <= ||H||_{1,1} <= min(d ||H||_F, d^1.5 lambda_max)
    H = p.hessian()
    l11 = T.hessian_l11(p)
    assert np.trace(H) * (1 - 1e-12) <= l11 <= min(d * np.linalg.norm(H), d ** 1.5 * p.L) * (1 + 1e-12)
    assert 0.0 <= T.block_coupling(p) < 1.0


@SETTINGS
@given(bases, st.integers(0, 2**31 - 1))
def test_within_block_rotation_keeps_the_blockwise_quantities(p, seed):
    q = simopt.rotated(p, "block", seed=seed)
    assert T.blockwise_smoothness(q) == pytest.approx(T.blockwise_smoothness(p), rel=1e-9)
    assert T.block_coupling(q) == pytest.approx(T.block_coupling(p), rel=1e-9, abs=1e-12)
    np.testing.assert_allclose(np.concatenate(q.block_eigvals), np.concatenate(p.block_eigvals),
                               rtol=1e-9, atol=1e-9 * p.L)


def test_l11_is_smallest_in_the_eigenbasis_and_grows_under_haar():
    p = simopt.quadratic(np.logspace(0, 3, 32), rotation="none", seed=0)
    assert T.hessian_l11(p) == pytest.approx(p.eigvals.sum())
    for seed in range(5):
        q = simopt.rotated(p, "global", seed=seed)
        assert T.hessian_l11(q) > 2 * T.hessian_l11(p)
        assert T.hessian_l11(simopt.rotated(q, "eigenbasis")) == pytest.approx(p.eigvals.sum(), rel=1e-12)


def test_metric_arguments_are_checked():
    p = simopt.quadratic([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="blocks"):
        T.blockwise_smoothness(p, blocks=[1, 1])
    with pytest.raises(TypeError, match="problem"):
        T.hessian_l11(np.eye(3))


# ------------------------------------------------------------------------------------ simopt.rotated
@SETTINGS
@given(bases, rotations, st.integers(0, 2**31 - 1))
def test_rotated_is_the_base_in_rotated_coordinates(p, rotation, seed):
    q = simopt.rotated(p, rotation, seed=seed)
    # f'(x) = f(S^T x) with S orthogonal: same spectrum, same f0, loss matches at rotated points
    np.testing.assert_allclose(q.eigvals, p.eigvals, rtol=1e-12)
    assert q.f0 == pytest.approx(p.f0, rel=1e-9, abs=1e-12 * p.L)
    Hq, Hp = q.hessian(), p.hessian()
    # S from the minimizers and starts is not unique; check H' = S H S^T through the eigenvalues of
    # each side and ||x0 - x*|| (an isometry), and the loss of x* + S(x0 - x*)
    assert np.linalg.norm(q.x0 - q.xstar) == pytest.approx(np.linalg.norm(p.x0 - p.xstar), rel=1e-12)
    np.testing.assert_allclose(np.linalg.eigvalsh(Hq), np.linalg.eigvalsh(Hp), rtol=1e-9, atol=1e-9 * p.L)
    assert q.block_sizes == p.block_sizes
    r = simopt.problems.from_description(q.describe())
    np.testing.assert_array_equal(r.hessian(), q.hessian())
    np.testing.assert_array_equal(r.x0, q.x0)
    np.testing.assert_array_equal(r.xstar, q.xstar)


@SETTINGS
@given(bases)
def test_eigenbasis_is_diagonal_and_keeps_block_spectra_of_block_diagonal_bases(p):
    q = simopt.rotated(p, "eigenbasis")
    assert q.kind == "diagonal"
    if p.kind in ("diagonal", "block"):
        for a, b in zip(q.block_eigvals, p.block_eigvals):
            np.testing.assert_allclose(a, b, rtol=1e-12)
        assert T.block_spectrum_js(q) == pytest.approx(T.block_spectrum_js(p), abs=1e-12)


def test_rotation_kinds_and_structure():
    b = simopt.heterogeneous_blocks(3, 4, 1.0, condition_number=100.0, rotation="none", seed=1)
    assert simopt.rotated(b, "block", seed=0).kind == "block"
    assert simopt.rotated(b, "global", seed=0).kind == "dense"
    assert T.block_coupling(simopt.rotated(b, "block", seed=0)) == 0.0
    assert T.block_coupling(simopt.rotated(b, "global", seed=0)) > 0.3
    np.testing.assert_allclose(simopt.rotated(b, 0.0, seed=3).hessian(), b.hessian(), atol=1e-12)
    # theta = 1 is the Haar draw of the same seed on SO(d) (a path end), and seeds give new draws
    a, c = simopt.rotated(b, "global", seed=0), simopt.rotated(b, "global", seed=1)
    assert not np.allclose(a.hessian(), c.hessian())
    np.testing.assert_array_equal(a.hessian(), simopt.rotated(b, "global", seed=0).hessian())


def test_gd_follows_the_rotated_trajectory_and_adam_does_not():
    """GD is rotation equivariant (x'_t = S x_t, so the loss curves coincide); Adam is not."""
    b = simopt.quadratic(np.logspace(0, 2, 12), seed=4)
    q = simopt.rotated(b, "global", seed=7)
    gd = optim.sgd(0.01)
    lb, lq = (simopt.run(p, gd, 200).loss[0] for p in (b, q))
    np.testing.assert_allclose(lq, lb, rtol=1e-9)
    ad = optim.adam(0.01, beta1=0.0)
    la, lr = (simopt.run(p, ad, 200).loss[0] for p in (b, q))
    assert abs(la[-1] / lr[-1] - 1) > 0.05


def test_rotated_keeps_noise_unless_told_and_checks_arguments():
    b = simopt.quadratic([1.0, 2.0, 4.0], noise=simopt.noise.gaussian(0.1), seed=0)
    assert simopt.rotated(b, "global").noise is b.noise
    assert simopt.rotated(b, "global", noise=None).noise is None
    with pytest.raises(ValueError, match="rotation"):
        simopt.rotated(b, "haar")
    with pytest.raises(TypeError, match="base"):
        simopt.rotated(np.eye(3), "global")
    with pytest.raises(ValueError, match="rotation"):
        simopt.rotated(b, 1.5)
    moved = simopt.rotated(b, "block", seed=2).with_x0([0.0, 0.0, 0.0])
    r = simopt.problems.from_description(moved.describe())
    np.testing.assert_array_equal(r.x0, np.zeros(3))
