"""The engine against a plain-NumPy loop over the reference update rules, and its contract:
determinism, divergence handling, records, iteration counts."""
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from scipy.linalg import block_diag

import simopt
from simopt import noise, optim, spectra
from simopt import streams as rng


def _problems():
    lam = spectra.logspace(12, 1.0, 50.0)
    blocks = [spectra.linear(4, 1.0, 3.0), spectra.linear(5, 10.0, 40.0), spectra.linear(3, 0.5, 0.9)]
    return {
        "diagonal": simopt.quadratic(lam, rotation="none", seed=3),
        "dense": simopt.quadratic(lam, rotation="haar", seed=4),
        "block": simopt.block_diagonal(blocks, rotation="block", seed=5),
    }


def _noise_models(d):
    return {
        "none": None,
        "gaussian_vec": noise.gaussian(np.linspace(0.1, 1.0, d)),
        "hessian": noise.hessian_aligned(0.3),
        "student": noise.student_t(0.2, df=4.0),
        "correlated": noise.correlated_gaussian(_random_cov(d)),
    }


def _random_cov(d):
    A = np.random.default_rng(d).standard_normal((d, d)) / np.sqrt(d)
    return A @ A.T


def reference_run(problem, opt, steps, runs, seed):
    """The engine's job written plainly: x_{t+1} = reference_step(x_t, grad(x_t) + xi_t), with the noise
    z of run r drawn from its stream (seed, r) in the engine's order (steps x draws x d)."""
    d, M = problem.dim, opt.draws()
    X = np.broadcast_to(problem.x0, (runs, d)).copy()
    state = opt.init_state(runs, problem)
    lrs = opt.lr_values(steps)
    xi = np.zeros((runs, steps, M, d))
    if problem.noise is not None:
        how, a = problem.noise.factor(problem)
        A = {"scale": lambda a: np.diag(a), "matrix": lambda a: a, "blocks": lambda a: block_diag(*a)}[how](a)
        for r in range(runs):
            if problem.noise.distribution == "t":
                z = rng.student_t(seed, r, (steps * M, d), problem.noise.df)
            else:
                z = rng.normals(seed, r, (steps * M, d))
            xi[r] = (z @ A.T).reshape(steps, M, d)
    traj = [X.copy()]
    for t in range(steps):
        G = problem.grad(X)[:, None, :] + xi[:, t]
        E = X - problem.xstar
        opt.reference_step(E, G, state, t + 1, lrs[t], problem)
        X = E + problem.xstar
        traj.append(X.copy())
    return np.stack(traj, axis=1)


RULES = {
    "sgd_momentum": optim.sgd(0.01, momentum=0.9),
    "adam": optim.adam(0.05),
    "msvag": optim.msvag(0.05),
    "clipped_adam": optim.clipped(optim.adam(0.05), 0.25),
    "blockwise_adam": optim.blockwise_adam(0.05),
    "sign_oracle": optim.sign_oracle(),
    "rmsprop_cosine": optim.rmsprop(simopt.schedules.cosine(0.01)),
}


@pytest.mark.parametrize("kind", ["diagonal", "dense", "block"])
@pytest.mark.parametrize("noise_name", ["none", "gaussian_vec", "hessian", "student", "correlated"])
def test_engine_matches_numpy_reference_loop(kind, noise_name):
    base = _problems()[kind]
    p = base.with_noise(_noise_models(base.dim)[noise_name])
    steps, runs, seed = 25, 3, 11
    for name, opt in RULES.items():
        res = simopt.run(p, opt, steps, runs=runs, seed=seed, record=("x",))
        ref = reference_run(p, opt, steps, runs, seed)
        np.testing.assert_allclose(res.records["x"], ref, rtol=1e-9, atol=1e-11, err_msg=name)
        np.testing.assert_allclose(res.loss, p.loss(ref.reshape(-1, p.dim)).reshape(runs, -1),
                                   rtol=1e-8, atol=1e-14, err_msg=name)


def test_noise_covariances_are_exact():
    for kind, p in _problems().items():
        d = p.dim
        C = _random_cov(d)
        np.testing.assert_allclose(noise.correlated_gaussian(C).covariance(p), C, atol=1e-12)
        np.testing.assert_allclose(noise.hessian_aligned(0.3).covariance(p), 0.09 * p.hessian(), atol=1e-12)
        np.testing.assert_allclose(noise.student_t(0.2, 4.0).covariance(p), 0.04 * 2.0 * np.eye(d))
    with pytest.raises(ValueError, match="cov"):
        noise.correlated_gaussian(-np.eye(3))
    with pytest.raises(ValueError, match="cov"):
        simopt.quadratic([1.0, 2.0], noise=noise.correlated_gaussian(np.eye(3)))


def test_runs_split_equals_one_call():
    for kind, base in _problems().items():
        p = base.with_noise(noise.hessian_aligned(0.5) if kind != "diagonal" else noise.gaussian(0.5))
        opt = optim.adam(0.02)
        full = simopt.run(p, opt, 40, runs=64, seed=7, record_every=5)
        # split at a point that is not a multiple of the engine's tile, to move runs within tiles
        a = simopt.run(p, opt, 40, runs=29, seed=7, record_every=5)
        b = simopt.run(p, opt, 40, runs=35, seed=7, record_every=5, first_run=29)
        for field in ("loss", "grad_norm", "x"):
            joined = np.concatenate([getattr(a, field), getattr(b, field)])
            assert np.array_equal(joined, getattr(full, field)), (kind, field)


_THREAD_SCRIPT = textwrap.dedent("""
    import sys, numpy as np, simopt
    from simopt import noise, optim, spectra
    lam = spectra.logspace(30, 1.0, 100.0)
    probs = [simopt.quadratic(lam, rotation="haar", noise=noise.hessian_aligned(0.3), seed=1),
             simopt.block_diagonal([lam[:10], lam[10:]], rotation="block", noise=noise.gaussian(0.2), seed=2),
             simopt.quadratic(lam, noise=noise.student_t(0.1, 3.0), seed=3)]
    out = {}
    for i, p in enumerate(probs):
        r = simopt.run(p, optim.msvag(0.05), 60, runs=20, seed=5, record_every=3, record=("sharpness",))
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


def test_divergence_is_flagged_and_isolated():
    lam = spectra.linear(6, 1.0, 10.0)
    p = simopt.quadratic(lam, seed=0)
    lr = 3.0 / p.L          # unstable on eigenvalues > 2/lr = L/1.5
    X0 = np.tile(p.xstar, (4, 1))
    X0[0, :3] += 1.0        # error only on small eigenvalues: stable
    X0[1, :2] -= 2.0        # stable
    X0[2, -1] += 1.0        # on the top eigenvalue: diverges
    X0[3] += 0.5            # diverges
    res = simopt.run(p, optim.sgd(lr), 400, runs=4, x0=X0, record_every=10)
    assert list(res.diverged) == [False, False, True, True]
    assert np.all(res.diverged_step[2:] > 0) and np.all(res.diverged_step[:2] == -1)
    assert not np.isnan(res.loss).any()
    for r in (2, 3):
        after = res.steps >= res.diverged_step[r]
        assert np.all(np.isinf(res.loss[r, after])) and np.all(np.isfinite(res.loss[r, ~after]))
    assert np.all(np.isinf(res.iterations_to(1e-3)[2:]))
    alone = simopt.run(p, optim.sgd(lr), 400, runs=2, x0=X0[:2], record_every=10)
    assert np.array_equal(alone.loss, res.loss[:2]) and np.array_equal(alone.x, res.x[:2])


@pytest.mark.parametrize("kind", ["diagonal", "dense"])
def test_records_and_divergence_do_not_depend_on_the_record_interval(kind):
    """What a step records is computed only where it is recorded (the diagonal loop skips the
    gradient-norm reduction elsewhere): the iterates, the records at the steps both intervals share and
    the step each run diverges at are the same bits for record_every = 1 and 7; the divergence check
    still fires at the first bad step, recorded or not."""
    lam = spectra.linear(6, 1.0, 10.0)
    p = simopt.quadratic(lam, rotation="none" if kind == "diagonal" else "haar", seed=0)
    X0 = np.tile(p.xstar, (3, 1)) + np.array([[1e-3], [1.0], [1e150]]) * np.ones(6)
    runs = [simopt.run(p, optim.sgd(3.5 / p.L), 80, runs=3, x0=X0, record_every=e) for e in (1, 7)]
    every, sparse = runs
    assert every.diverged.tolist() == [True, True, True]   # the last from a loss that overflows at once
    assert np.array_equal(every.diverged_step, sparse.diverged_step)
    assert np.array_equal(every.x, sparse.x)
    shared = np.isin(every.steps, sparse.steps)
    assert np.array_equal(every.loss[:, shared], sparse.loss, equal_nan=True)
    assert np.array_equal(every.grad_norm[:, shared], sparse.grad_norm, equal_nan=True)
    assert np.all(every.diverged_step % 7 != 0)  # the runs diverge between records of the sparse run


def test_zero_over_zero_in_adaptive_rules_is_zero_not_divergence():
    """eps = 0 and a gradient coordinate that is exactly 0: m = v = 0 there, the update is 0/0 := 0."""
    p = simopt.quadratic(spectra.linear(4, 1.0, 2.0), seed=0)
    x0 = p.xstar.copy()
    x0[0] += 1.0            # zero gradient on coordinates 1..3
    for opt in (optim.adam(0.1, eps=0.0), optim.rmsprop(0.1, eps=0.0), optim.adagrad(0.1, eps=0.0),
                optim.adam(0.1, beta1=0.0, beta2=1.0, eps=0.0, v0="first_grad")):
        res = simopt.run(p, opt, 5, x0=x0, record=("x",))
        assert not res.diverged[0] and np.all(np.isfinite(res.loss))
        assert np.array_equal(res.records["x"][0, :, 1:], np.broadcast_to(x0[1:], (6, 3)))


def test_a_nan_update_is_reported_as_divergence_not_nan():
    bad = optim.numpy_rule(lambda x, g, lr: x.__isub__(np.nan * g), name="nan_rule")
    p = simopt.quadratic(spectra.linear(4, 1.0, 2.0), seed=0)
    res = simopt.run(p, bad(0.1), 5)
    assert res.diverged[0] and res.diverged_step[0] == 1
    assert not np.isnan(res.loss).any()


def test_records_agree_with_problem_quantities():
    p = _problems()["block"].with_noise(noise.gaussian(0.1))
    res = simopt.run(p, optim.adam(0.05), 12, runs=3, seed=1,
                     record=("x", "sharpness", "block_grad_norms"))
    X = res.records["x"]
    np.testing.assert_allclose(res.loss, p.loss(X.reshape(-1, p.dim)).reshape(3, -1), rtol=1e-10)
    G = p.grad(X.reshape(-1, p.dim)).reshape(X.shape)
    bgn = np.stack([np.linalg.norm(G[..., s], axis=-1) for s in p.blocks], axis=-1)
    np.testing.assert_allclose(res.records["block_grad_norms"], bgn, rtol=1e-10)
    np.testing.assert_allclose(res.grad_norm, np.linalg.norm(G, axis=-1), rtol=1e-10)
    U = np.diff(X, axis=1)
    H = p.hessian()
    sharp = np.einsum("rtd,de,rte->rt", U, H, U) / np.einsum("rtd,rtd->rt", U, U)
    np.testing.assert_allclose(res.records["sharpness"][:, :-1], sharp, rtol=1e-9)
    assert np.all(np.isnan(res.records["sharpness"][:, -1]))
    assert p.L >= np.nanmax(res.records["sharpness"]) and np.nanmin(res.records["sharpness"]) >= p.mu


def test_iterations_to_and_ert():
    p = simopt.quadratic(spectra.linear(5, 1.0, 4.0), seed=2)
    res = simopt.run(p, optim.sgd(1.0 / p.L), 50, runs=2, record_every=1)
    T = res.iterations_to(1e-4)
    rel = res.loss[0] / res.loss[0, 0]
    assert T[0] == np.argmax(rel <= 1e-4) and rel[int(T[0]) - 1] > 1e-4
    assert np.all(np.isinf(res.iterations_to(1e-300)))
    assert res.ert(1e-300) == np.inf and res.ert(1e-4) == pytest.approx(T[0])
    Tg = res.iterations_to(1e-2, metric="grad_norm")
    assert np.isfinite(Tg[0])
    with pytest.raises(ValueError, match="metric"):
        res.iterations_to(1e-2, metric="bogus")
    with pytest.raises(ValueError, match="eps"):
        res.iterations_to(-1.0)


def test_record_steps_always_include_last():
    p = simopt.quadratic(spectra.linear(3, 1.0, 2.0), seed=0)
    res = simopt.run(p, optim.sgd(0.1), 23, record_every=5)
    assert list(res.steps) == [0, 5, 10, 15, 20, 23]
    json.dumps(res.meta)


def test_tune_lr_picks_the_brute_force_best_and_refines_between_neighbours():
    p = simopt.quadratic(spectra.logspace(8, 1.0, 100.0), noise=noise.gaussian(0.05), seed=1)
    grid = 10.0 ** np.arange(-4.0, 0.5, 0.5)
    tuned = simopt.tune_lr(p, optim.sgd(1.0), grid, 100, runs=4, seed=3, record_every=100, refine=2)
    scores = {}
    for lr in tuned.lrs:
        r = simopt.run(p, optim.sgd(float(lr)), 100, runs=4, seed=3, record_every=100)
        scores[float(lr)] = np.median(np.where(r.diverged, np.inf, r.loss[:, -1] / r.loss[:, 0]))
    best = min(scores, key=lambda k: (scores[k], k))
    assert tuned.best_lr == best
    on_grid = [x for x in tuned.lrs if np.isclose(np.log10(x) * 2, round(np.log10(x) * 2))]
    assert len(tuned.lrs) == len(grid) + 2   # 5 log-spaced points from neighbour to neighbour: 2 are new
    assert len(on_grid) >= len(grid)
    assert tuned.edge is None and tuned.status == "ok"
    # a grid where everything diverges gives no pick, explicitly
    bad = simopt.tune_lr(p, optim.sgd(1.0), [10.0, 100.0], 50, runs=2)
    assert bad.best_lr is None and bad.result is None and bad.status == "all_diverged"
