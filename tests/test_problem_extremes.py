"""The numerical extremes of problem construction: what cannot run is rejected when the problem is
built, with an error naming the argument; what is accepted gives finite oracles and bounds."""
import math

import numpy as np
import pytest

import simopt
from simopt import theory


def test_subnormal_eigenvalues_are_rejected_naming_the_argument():
    with pytest.raises(ValueError, match=r"^eigvals: .*smallest normal"):
        simopt.quadratic([5e-324, 1.0])
    with pytest.raises(ValueError, match=r"^block_eigvals: .*smallest normal"):
        simopt.block_diagonal([[1.0], [1e-310]])


def test_smallest_normal_eigenvalue_gives_finite_steps():
    p = simopt.quadratic([np.finfo(np.float64).tiny, 1.0])
    assert math.isfinite(1.0 / p.mu) and math.isfinite(theory.gd_step_size(p))


@pytest.mark.parametrize("top", [1e155, 1e200, 1e300])
def test_eigenvalues_whose_gradient_norm_overflows_are_rejected(top):
    with pytest.raises(ValueError, match=r"^eigvals: .*overflows"):
        simopt.quadratic(simopt.spectra.logspace(10, top / 100, top), seed=0)


def test_largest_accepted_scale_runs_finite():
    p = simopt.quadratic(simopt.spectra.logspace(10, 1e148, 1e150), seed=0)
    g = p.grad(p.x0)
    assert math.isfinite(float(g @ g))
    r = simopt.run(p, simopt.optim.sgd(0.5 / p.L), 20, runs=2)
    assert not r.diverged.any() and np.all(np.isfinite(r.loss))


def test_huge_but_valid_lr_gives_an_infinite_bound():
    p = simopt.quadratic([0.1, 1.0])
    b = theory.gd_fixed_step_bound(p, 1e300, 1e-3)
    assert b.T_bound == math.inf and b.contraction == math.inf
    assert theory.iterations_for_contraction(math.inf, 0.5) == math.inf
    assert theory.iterations_for_contraction(1.0 - 1e-17, 1e-3) == math.inf  # q rounds to 1


def test_absurd_sizes_are_named_value_errors_not_memory_errors():
    for call, name in ((lambda: simopt.spectra.logspace(10 ** 12, 0.1, 1.0), "d"),
                       (lambda: simopt.rotations.haar(10 ** 6, 0), "d"),
                       (lambda: simopt.heterogeneous_blocks(10 ** 6, 10 ** 6, 0.5), "n_blocks"),
                       (lambda: simopt.quadratic(np.ones(200_000) + 1.0, rotation="haar"),
                        "eigvals")):
        with pytest.raises(ValueError, match=rf"^{name}.*too large"):
            call()
