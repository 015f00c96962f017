r"""Lion (Chen et al. 2023, "Symbolic Discovery of Optimization Algorithms", arXiv 2302.06675, Alg. 2;
checked against the official ``lion/lion_pytorch.py`` of google/automl):

.. math::
    c_t = \beta_1 m_{t-1} + (1-\beta_1) g_t,\qquad
    x_{t+1} = x_t - \eta_t\,\big(\mathrm{sign}(c_t) + \lambda x_t\big),\qquad
    m_t = \beta_2 m_{t-1} + (1-\beta_2) g_t

with :math:`m_0 = 0` and sign(0) = 0.  Defaults as the official code: ``lr=1e-4``, ``beta1=0.9``,
``beta2=0.99``, ``weight_decay=0``.  The paper's decay :math:`-\eta\lambda x_t` is decoupled and acts on
the absolute iterate before the sign step -- exactly simopt's ``weight_decay`` (``decay="decoupled"``,
applied by the engine), as the official ``p.mul_(1 - lr * wd)`` before the update.

Limits: ``beta1 = beta2 = beta`` is signum / M-SSD (:func:`simopt.optim.signum`) -- the interpolation
:math:`c_t` is then the new momentum itself -- and ``beta1 = 0`` is sign descent (:func:`simopt.optim.sign`).

Invariances (claims the invariance-card tests check): coordinate-wise, so equivariant under
permutations and sign flips of the coordinates, not under rotations; the step is unchanged when the
gradients are rescaled by any positive diagonal matrix (the sign of a positive combination); invariant
to translations (without weight decay).
"""
import numpy as np

from ..rule import Hyper, RuleDef

__all__ = ["lion"]


def step(x, g, m, lr, beta1, beta2):
    for i in range(x.shape[0]):
        c = beta1 * m[i] + (1.0 - beta1) * g[i]
        x[i] -= lr * np.sign(c)
        m[i] = beta2 * m[i] + (1.0 - beta2) * g[i]


def reference(x, g, m, lr, beta1, beta2):
    c = beta1 * m + (1.0 - beta1) * g            # the interpolation the sign is taken of
    x -= lr * np.sign(c)
    m[...] = beta2 * m + (1.0 - beta2) * g      # the momentum, with its own (slower) rate


RULE = RuleDef("lion", step=step, reference=reference, state={"m": "d"},
               hyper={"beta1": Hyper(interval="[0, 1)"), "beta2": Hyper(interval="[0, 1)")})


def lion(lr=1e-4, beta1=0.9, beta2=0.99, weight_decay=0.0):
    return RULE(lr, beta1=beta1, beta2=beta2, weight_decay=weight_decay)


lion.__doc__ = __doc__
