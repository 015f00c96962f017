"""The cautious mask (Liang et al. 2024) around any rule: compiled == NumPy reference, every masked step a
descent direction, no change around SGD at mask_eps = 0, C-AdamW as the paper writes it, rotation
equivariance lost, parity with pytorch-optimizer's cautious Lion, and make/describe round trips."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import simopt
from simopt import optim
from simopt.testing import compiled_steps, reference_steps
from _parity import edge_streams, rel_err, stream, torch_iterates, torch_on_problem
from test_optim_kernels import _assert_close, _problem, gradient_streams


def _bases(f):
    lr = f(1e-4, 1.0)
    return [optim.adamw(lr, beta1=f(0.0, 0.99), weight_decay=f(0.0, 0.3)), optim.lion(lr, beta1=f(0.0, 0.99)),
            optim.sgd(lr, momentum=f(0.0, 0.99)), optim.adan(lr, weight_decay=f(0.0, 0.3)),
            optim.clipped(optim.adam(lr), f(0.0, 0.9))]


@given(gradient_streams(steps=6), st.data())
def test_compiled_step_equals_reference(stream_, data):
    sizes, G, X0 = stream_
    p = _problem(sizes)

    def f(lo, hi):
        return data.draw(st.floats(lo, hi))

    for base in _bases(f):
        opt = optim.cautious(base, mask_eps=f(0.0, 2.0))
        a = compiled_steps(opt, p, G, X0)
        assert np.all(np.isfinite(a))
        _assert_close(a, reference_steps(opt, p, G, X0))


@pytest.mark.parametrize("case", ["zero", "1e-100", "1e100"])
def test_zero_gradients_and_extreme_scales_give_no_nan(case):
    G, X0 = edge_streams()[["zero", "1e-100", "1e100"].index(case)]
    p = _problem([2, 3])
    for opt in [optim.cautious(optim.adam(0.1, eps=0.0)), optim.cautious(optim.lion(0.1), mask_eps=0.0)]:
        a = compiled_steps(opt, p, G, X0)
        assert np.all(np.isfinite(a)), opt
        _assert_close(a, reference_steps(opt, p, G, X0))
        if case == "zero":
            np.testing.assert_array_equal(a[-1], X0)     # no gradient, no move


@given(gradient_streams(steps=8), st.data())
def test_every_masked_step_moves_against_the_gradient(stream_, data):
    """phi = 1[u g > 0] keeps only coordinates that descend: (x_t - x_{t+1}) g_t >= 0 coordinate-wise."""
    sizes, G, X0 = stream_
    p = _problem(sizes)
    for base in _bases(lambda lo, hi: data.draw(st.floats(lo, hi))):
        base = base.with_hyper(weight_decay=0.0) if base.weight_decay else base
        X = compiled_steps(optim.cautious(base), p, G, X0)
        assert np.all((X[:-1] - X[1:]) * G >= 0.0)


@given(gradient_streams(steps=8), st.floats(1e-3, 1.0))
def test_around_sgd_without_zero_gradients_the_mask_keeps_everything(stream_, lr):
    sizes, G, X0 = stream_
    G = np.where(G == 0.0, np.abs(G).max() or 1.0, G)     # no zero gradient, at the stream's scale
    p = _problem(sizes)
    _assert_close(compiled_steps(optim.cautious(optim.sgd(lr), mask_eps=0.0), p, G, X0),
                  compiled_steps(optim.sgd(lr), p, G, X0))


def test_c_adamw_as_the_paper_writes_it():
    """Alg. 2 of Liang et al.: decoupled decay, the Adam update u, then phi u d / (sum phi + 1)."""
    p = simopt.quadratic(simopt.spectra.logspace(6, 1.0, 20.0), rotation="haar", seed=3)
    lr, wd, (b1, b2, eps) = 3e-2, 0.1, (0.9, 0.999, 1e-8)
    res = simopt.run(p, optim.cautious(optim.adamw(lr, weight_decay=wd)), 40, record=("x",))
    x, m, v = p.x0.copy(), np.zeros(6), np.zeros(6)
    for t in range(1, 41):
        g = p.grad(x)
        x = x - lr * wd * x
        m, v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g
        u = lr * (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + eps)
        phi = (u * g > 0).astype(float)
        x = x - phi * u * 6 / (phi.sum() + 1.0)
        np.testing.assert_allclose(res.records["x"][0, t], x, rtol=1e-10, atol=1e-12)


def test_the_mask_breaks_rotation_equivariance():
    """SGD with momentum commutes with rotations; its cautious form does not (the mask is per coordinate)."""
    rng = np.random.default_rng(5)
    lam = np.sort(rng.uniform(0.5, 20.0, 6))
    rot = simopt.quadratic(lam, rotation="haar", seed=6)
    _, Q = rot.eigh()
    x0 = rng.standard_normal(6)
    axis = simopt.quadratic(lam, seed=5, x0=x0, xstar=Q.T @ rot.xstar)
    for opt, equivariant in ((optim.sgd(0.02, momentum=0.9), True),
                             (optim.cautious(optim.sgd(0.02, momentum=0.9)), False)):
        a = simopt.run(axis, opt, 60, record=("x",)).records["x"][0]
        b = simopt.run(rot, opt, 60, x0=Q @ x0, record=("x",)).records["x"][0]
        assert (rel_err(b, a @ Q.T) < 1e-10) == equivariant


def _axis(d=6):
    return simopt.quadratic(np.ones(d), xstar=np.zeros(d), seed=0)


@pytest.mark.parametrize("wd", [0.0, 0.2])
def test_parity_with_pytorch_optimizer_cautious_lion(wd):
    po = pytest.importorskip("pytorch_optimizer")
    G, x0 = stream(seed=14)
    ours = compiled_steps(optim.cautious(optim.lion(1e-2, weight_decay=wd)), _axis(), G[:, None], x0)[:, 0]
    theirs = torch_iterates(lambda ps: po.Lion(ps, lr=1e-2, weight_decay=wd, cautious=True, foreach=False),
                            G, x0)
    assert rel_err(ours, theirs) <= 1e-12


def test_run_on_a_quadratic_equals_pytorch_optimizer_cautious_lion():
    po = pytest.importorskip("pytorch_optimizer")
    p = simopt.quadratic(simopt.spectra.logspace(8, 1.0, 30.0), rotation="haar", xstar=np.zeros(8), seed=2)
    res = simopt.run(p, optim.cautious(optim.lion(3e-3)), 50, record=("x",))
    ref = torch_on_problem(lambda ps: po.Lion(ps, lr=3e-3, cautious=True, foreach=False), p, 50)
    assert rel_err(res.records["x"][0], ref) <= 1e-12


def test_make_describe_and_bad_arguments():
    o = optim.cautious(optim.adamw(1e-3), mask_eps=0.5)
    assert o.describe() == {"name": "cautious", "mask_eps": 0.5, "base": optim.adamw(1e-3).describe()}
    assert optim.from_description(o.describe()) == o
    assert optim.make("cautious", base="lion", lr=1e-3, beta2=0.98) == \
        optim.cautious(optim.lion(1e-3, beta2=0.98))
    assert optim.make("clipped", base="adam", fraction=0.5, lr=1e-3) == optim.clipped(optim.adam(1e-3), 0.5)
    assert o.with_hyper(mask_eps=0.0).wrappers[0][1] == {"mask_eps": 0.0}
    with pytest.raises(ValueError, match="base"):
        optim.make("cautious", lr=1e-3)
    with pytest.raises(ValueError, match="mask_eps"):
        optim.cautious(optim.sgd(0.1), mask_eps=-1.0)
    with pytest.raises(TypeError, match="base_optimizer"):
        optim.cautious("adam")


def test_a_sweep_spec_names_the_wrapper_like_clipped():
    from simopt.sweep import SpecError, parse
    spec = {"steps": 10, "runs": 1, "seeds": [0],
            "problems": [{"type": "quadratic",
                          "eigvals": {"spectrum": "logspace", "d": 4, "low": 0.1, "high": 1.0}}],
            "optimizers": [{"name": "cautious", "base": "adamw", "lr": [1e-2],
                            "grid": {"mask_eps": [0.0, 1.0]}},
                           {"name": "cautious", "base": "lion", "lr": [1e-3], "beta2": 0.98}]}
    s = parse(spec)
    assert sorted({c.optimizer_label for c in s.cells}) == ["cautious-adamw(mask_eps=0)",
                                                             "cautious-adamw(mask_eps=1)", "cautious-lion"]
    from simopt.sweep.spec import build_optimizer
    built = [build_optimizer(c.payload["optimizer"]) for c in s.cells]
    assert optim.cautious(optim.lion(1e-3, beta2=0.98)) in built
    with pytest.raises(SpecError, match="base"):
        parse({**spec, "optimizers": [{"name": "cautious", "lr": [1e-2]}]})
