"""Rules that call LAPACK inside their step (SOAP, full-matrix AdaGrad, Shampoo), own randomness (Sophia-H's
Hutchinson probes) or several draws per step (majority vote) keep the engine's determinism: bit-identical
results for 1 and 2 threads and for runs split across calls at a point that is not a multiple of the tile."""
import numba
import numpy as np
import pytest

import simopt
from simopt import noise, optim, spectra

RULES = [optim.soap(0.02, precondition_frequency=3), optim.full_matrix_adagrad(0.1),
         optim.shampoo_vector(0.1), optim.sophia(0.01, k=2), optim.majority_vote(0.01, workers=3)]


@pytest.mark.parametrize("opt", RULES, ids=lambda o: o.name)
def test_bit_identical_across_threads_and_run_splits(opt):
    lam = spectra.logspace(12, 1.0, 100.0)
    p = simopt.block_diagonal([lam[:5], lam[5:]], rotation="block", noise=noise.gaussian(0.1), seed=1)
    before = numba.get_num_threads()
    try:
        out = []
        for n in (1, min(2, numba.config.NUMBA_NUM_THREADS)):
            numba.set_num_threads(n)
            out.append(simopt.run(p, opt, 30, runs=19, seed=4, record=("x",)))
    finally:
        numba.set_num_threads(before)
    assert np.array_equal(out[0].records["x"], out[1].records["x"])
    a = simopt.run(p, opt, 30, runs=11, seed=4, record=("x",))
    b = simopt.run(p, opt, 30, runs=8, seed=4, first_run=11, record=("x",))
    assert np.array_equal(np.concatenate([a.records["x"], b.records["x"]]), out[0].records["x"])
    assert not out[0].diverged.any() and np.all(np.isfinite(out[0].loss))
