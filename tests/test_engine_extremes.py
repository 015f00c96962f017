"""Every run is finite or flagged diverged, at every scale a problem can be built at -- eigenvalues and
distances from the subnormal range to the overflow edge -- for gradient, sign and adaptive rules, with and
without noise; what cannot run is refused at construction with a named error."""
import numpy as np
import pytest

import simopt
from simopt import noise, optim

SCALES = [1e-300, 1e-150, 1e-30, 1.0, 1e30, 1e100, 1e150]


def _problem(lam_scale, x_scale, noisy):
    lam = lam_scale * np.array([1.0, 3.0, 10.0, 30.0])
    x0 = x_scale * np.array([1.0, -2.0, 0.5, 1.5])
    nz = noise.gaussian(0.1 * x_scale * lam_scale) if noisy else None
    return simopt.quadratic(lam, x0=x0, xstar=np.zeros(4), noise=nz, seed=0)


@pytest.mark.parametrize("lam_scale", SCALES)
@pytest.mark.parametrize("x_scale", [1e-150, 1.0, 1e100])
@pytest.mark.parametrize("noisy", [False, True])
def test_runs_are_finite_or_flagged_at_every_scale(lam_scale, x_scale, noisy):
    try:
        p = _problem(lam_scale, x_scale, noisy)
    except ValueError as e:           # not representable: refused with a named argument
        assert any(k in str(e) for k in ("eigvals", "x0", "xstar", "scale")), str(e)
        return
    L = p.L
    rules = [optim.sgd(1.0 / L), optim.sgd(3.0 / L), optim.sgd(0.5 / L, momentum=0.9),
             optim.sign(1e-2 * x_scale), optim.adam(1e-2 * x_scale), optim.adam(1e-2 * x_scale, eps=0.0),
             optim.adam(1e-2 * x_scale, beta1=0.0, beta2=1.0, eps=0.0, v0="first_grad"),
             optim.rmsprop(1e-2 * x_scale, eps=0.0), optim.adagrad(1e-2 * x_scale, eps=0.0),
             optim.gd_oracle("1/L"), optim.sign_oracle()]
    for opt in rules:
        try:
            res = simopt.run(p, opt, 30, runs=2, seed=1, record=("x",))
        except ValueError as e:       # a rule constant that does not exist at this scale: named
            assert "lr" in str(e) or "optimizer" in str(e) or "hyperparameters" in str(e), str(e)
            continue
        assert not np.isnan(res.loss).any() and not np.isnan(res.grad_norm).any(), opt
        for r in range(res.runs):
            ok = res.steps < (res.diverged_step[r] if res.diverged[r] else np.inf)
            assert np.all(np.isfinite(res.loss[r, ok])) and np.all(np.isfinite(res.grad_norm[r, ok])), opt
            assert np.all(np.isfinite(res.records["x"][r, ok])), opt
            assert np.all(np.isinf(res.loss[r, ~ok])), opt
