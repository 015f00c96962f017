r"""Adam, exactly ``torch.optim.Adam`` (Kingma & Ba 2015, Alg. 1; bias-corrected, no amsgrad), and AdamW
(Loshchilov & Hutter 2019, Alg. 2; ``torch.optim.AdamW``: the same step after the decoupled decay
:math:`x \leftarrow x - \eta\lambda x`):

.. math::
    m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t,\quad v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2,\quad
    x_{t+1} = x_t - \frac{\eta_t}{1-\beta_1^t}\,\frac{m_t}{\sqrt{v_t}/\sqrt{1-\beta_2^t} + \epsilon}

with :math:`m_0 = v_0 = 0`; a coordinate with :math:`\sqrt{v_t}/\sqrt{1-\beta_2^t} + \epsilon = 0`
(``eps=0`` and a gradient that has been exactly 0 so far, so :math:`m_t = 0` too) is not moved (0/0 := 0).
``v0="first_grad"`` is the setting of Zhang et al. (2024), Thm 3.2 of the thesis version
(seed_math.md §2): the second moment starts at the first gradient, :math:`v_1 = g_1^2`, and is *not*
bias-corrected; with ``beta1=0, beta2=1, eps=0`` Adam is then gradient descent preconditioned by the fixed
:math:`\mathrm{diag}(|g_1|)^{-1}` (theory_notes.md §2E).  ``beta2 = 1`` is only allowed with
``v0="first_grad"`` (with ``v0="zero"`` the bias correction would divide by zero).
"""
import math

import numpy as np

from ..rule import Hyper, RuleDef

__all__ = ["adam", "adamw"]

ZERO, FIRST_GRAD = 0, 1


def step(x, g, gm, m, v, t, lr, beta1, beta2, eps, v0):
    first = v0 == FIRST_GRAD
    bc2s = 1.0 if first else math.sqrt(1.0 - beta2 ** t)
    c = lr / (1.0 - beta1 ** t)
    for i in range(x.shape[0]):
        mi = beta1 * m[i] + (1.0 - beta1) * gm[i]
        if first and t == 1:
            vi = g[i] * g[i]
        else:
            vi = beta2 * v[i] + (1.0 - beta2) * g[i] * g[i]
        m[i] = mi
        v[i] = vi
        den = math.sqrt(vi) / bc2s + eps
        if den > 0.0:
            x[i] -= c * (mi / den)


def reference(x, g, gm, m, v, t, lr, beta1, beta2, eps, v0):
    first = v0 == FIRST_GRAD
    m[...] = beta1 * m + (1.0 - beta1) * gm          # Pan & Li's AdamClip clips only this input
    v[...] = g * g if (first and t == 1) else beta2 * v + (1.0 - beta2) * g * g
    bc2 = 1.0 if first else 1.0 - beta2 ** t
    den = np.sqrt(v) / math.sqrt(bc2) + eps
    x -= (lr / (1.0 - beta1 ** t)) * np.divide(m, den, out=np.zeros_like(m), where=den > 0.0)


def _check(h):
    if h["beta2"] == 1.0 and h["v0"] != "first_grad":
        raise ValueError("beta2: expected a value in [0, 1) (beta2 = 1 needs v0='first_grad'), got 1.0")


RULE = RuleDef("adam", step=step, reference=reference, state={"m": "d", "v": "d"}, check=_check,
               hyper={"beta1": Hyper(interval="[0, 1)"), "beta2": Hyper(interval="[0, 1]"),
                      "eps": Hyper(interval=">= 0"),
                      "v0": Hyper(kind="choice", options=("zero", "first_grad"))})


def adam(lr, beta1=0.9, beta2=0.999, eps=1e-8, v0="zero", weight_decay=0.0):
    return RULE(lr, beta1=beta1, beta2=beta2, eps=eps, v0=v0, weight_decay=weight_decay)


def adamw(lr, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01):
    """AdamW: :func:`adam` with decoupled weight decay, defaults as ``torch.optim.AdamW``
    (weight_decay = 0.01)."""
    return RULE(lr, beta1=beta1, beta2=beta2, eps=eps, v0="zero", weight_decay=weight_decay)


adam.__doc__ = __doc__


# The invariance card of each constructor (simopt.testing.card, which the tests hold equal to its
# measurement): the transformations that hold (all others fail) and why.
INVARIANCES = {
    "adam": {
        "make": lambda: adam(0.05),
        "holds": ("permutation", "sign_flip", "translation", "gradient_scaling"),
        "why": ("coordinate-wise moments: m/√v follows signed permutations and ignores a positive scale of g "
                "(up to ε)"),
    },
    "adamw": {
        "make": lambda: adamw(0.05),
        "holds": ("permutation", "sign_flip", "gradient_scaling"),
        "why": ("Adam, but the decoupled decay pulls the absolute iterate to 0, not to x*: no translation"),
    },
}
