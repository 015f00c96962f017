r"""The cautious mask (Liang et al. 2024, "Cautious Optimizers: Improving Training with One Line of Code",
arXiv 2411.16085, Alg. 1-2, C-AdamW), a wrapper around any rule: the wrapped rule proposes the step
:math:`x_{t+1} = x_t - u_t`; coordinates where the update disagrees with the current gradient are
dropped and the rest are scaled up so the step keeps its size on average:

.. math::
    \phi_t = \mathbb 1[u_t \odot g_t > 0],\qquad
    x_{t+1} = x_t - \frac{d}{\sum_i \phi_{t,i} + \epsilon}\,\phi_t \odot u_t

(d the dimension, :math:`\epsilon` = ``mask_eps``).  Every kept coordinate moves against its gradient,
so the masked step is a descent direction: :math:`\langle x_t - x_{t+1}, g_t\rangle \ge 0`.
``mask_eps=1`` is the paper's C-AdamW (Alg. 2, :math:`d/(\|\phi_t\|_0 + 1)`), the official
``c_lion.py`` and the first ``c_adamw.py`` of kyleliang919/C-Optim, and ``pytorch_optimizer``'s
``cautious=True``; the current official ``c_adamw.py`` divides by ``max(mean(phi), 1e-3)``, which is
``mask_eps=0`` whenever at least 0.1% of the coordinates are kept.  With ``mask_eps=0`` and no
coordinate kept the step is 0 (0/0 := 0).

:math:`u_t` is the wrapped rule's own update: simopt's decoupled ``weight_decay`` is applied before it
(and a proximal one after it) and is not masked, as in C-AdamW, where the decay precedes the masked Adam
step.  :math:`g_t` is the gradient the rule received (clipped, if also wrapped by
:func:`simopt.optim.clipped` inside).

Invariances (claims the invariance-card tests check): the mask is coordinate-wise and its scale a
symmetric function, so the wrapper keeps the permutation and sign-flip equivariance of the rule inside
and breaks rotation equivariance even around a rotation-equivariant rule (SGD with momentum).  Around a
rule whose update always agrees in sign with the gradient (SGD without momentum, sign descent) every
coordinate with a non-zero gradient is kept, and with ``mask_eps=0`` and no zero gradient the wrapper
changes nothing.
"""
import numpy as np

from ..rule import Hyper, Optimizer, Wrapper

__all__ = ["cautious"]
WRAPPERS = ("cautious",)


def step(x, xprev, g, mask_eps):
    n = x.shape[0]
    kept = 0.0
    for i in range(n):
        if (xprev[i] - x[i]) * g[i] > 0.0:
            kept += 1.0
    den = kept + mask_eps
    scale = n / den if den > 0.0 else 0.0
    for i in range(n):
        u = xprev[i] - x[i]
        x[i] = xprev[i] - scale * u if u * g[i] > 0.0 else xprev[i]


def reference(x, xprev, g, mask_eps):
    u = xprev - x                                    # the wrapped rule's update, x_{t+1} = x_t - u
    phi = u * g > 0.0
    den = phi.sum(axis=1, keepdims=True) + mask_eps
    scale = np.divide(x.shape[1], den, out=np.zeros_like(den), where=den > 0.0)
    x[...] = np.where(phi, xprev - scale * u, xprev)


CAUTIOUS = Wrapper("cautious", "update", step=step, reference=reference,
                   hyper={"mask_eps": Hyper(interval=">= 0")})


def cautious(base_optimizer, mask_eps=1.0) -> Optimizer:
    if not isinstance(base_optimizer, Optimizer):
        raise TypeError(f"base_optimizer: expected a simopt.optim optimizer, got "
                        f"{type(base_optimizer).__name__}")
    return base_optimizer.wrapped(CAUTIOUS, mask_eps=mask_eps)


cautious.__doc__ = __doc__
