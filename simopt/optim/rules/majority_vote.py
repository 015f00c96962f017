r"""signSGD with majority vote (Bernstein, Zhao, Azizzadenesheli & Anandkumar 2019, "signSGD with Majority
Vote is Communication Efficient and Fault Tolerant", ICLR, arXiv 1810.05291): M workers each send the sign
of their own stochastic gradient, the server takes the sign of the sum,

.. math::  x_{t+1} = x_t - \eta_t\,\mathrm{sign}\Big(\sum_{m=1}^{M} \mathrm{sign}\big(g_t^{(m)}\big)\Big)

with sign(0) = 0 as in the formula, so a tie of an even number of votes leaves that coordinate unchanged.
(The official code, jiaweizzhao/signSGD-with-Majority-Vote, sends signs as single bits, which cannot
encode 0: there a zero gradient or a tie goes out as one of +-1.  With continuous noise and an odd M
neither occurs.)  The M gradients are M independent noise draws at the same iterate, from the run's own
stream (``draws="workers"``): draw 1 is the gradient every other rule sees on that seed, so
``workers=1`` is :func:`simopt.optim.sign` exactly.

If worker m's sign is wrong with probability p (for Gaussian noise of standard deviation
:math:`\sigma` on a coordinate with gradient :math:`\mu`, :math:`p = \Phi(-|\mu|/\sigma)`), the vote is
wrong with probability :math:`\sum_{j > M/2} \binom{M}{j} p^j (1-p)^{M-j}`, which falls with M for
p < 1/2 (the mechanism behind their convergence bound; the tests check this exact binomial form).
"""
import numpy as np

from ..rule import Hyper, RuleDef

__all__ = ["majority_vote"]


def step(x, grads, lr):
    M = grads.shape[0]
    for i in range(x.shape[0]):
        votes = 0.0
        for m in range(M):
            votes += np.sign(grads[m, i])
        x[i] -= lr * np.sign(votes)


def reference(x, grads, lr):
    x -= lr * np.sign(np.sign(grads).sum(axis=1))


RULE = RuleDef("majority_vote", step=step, reference=reference, draws="workers",
               hyper={"workers": Hyper(kind="int", minimum=1)})


def majority_vote(lr, workers, weight_decay=0.0):
    return RULE(lr, workers=workers, weight_decay=weight_decay)


majority_vote.__doc__ = __doc__
