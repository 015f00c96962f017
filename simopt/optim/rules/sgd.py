r"""SGD with heavy-ball / Nesterov momentum, exactly ``torch.optim.SGD`` (no weight decay of its own:
simopt's ``weight_decay`` is decoupled, see :mod:`simopt.optim.rule`).

With momentum :math:`\mu` and dampening :math:`\tau` (t = 1, 2, ...):

.. math::  b_1 = g_1,\quad b_t = \mu b_{t-1} + (1-\tau) g_t,\qquad
           d_t = g_t + \mu b_t \text{ (nesterov) else } b_t,\qquad x_{t+1} = x_t - \eta_t d_t

and plain SGD :math:`x_{t+1} = x_t - \eta_t g_t` when :math:`\mu = 0`.  Balles & Hennig (2018) call
the momentum variant M-SGD (seed_math.md §4).
"""
from ..rule import Hyper, RuleDef

__all__ = ["sgd"]


def step(x, g, buf, t, lr, momentum, dampening, nesterov):
    d = x.shape[0]
    if momentum == 0.0:
        for i in range(d):
            x[i] -= lr * g[i]
        return
    for i in range(d):
        b = g[i] if t == 1 else momentum * buf[i] + (1.0 - dampening) * g[i]
        buf[i] = b
        if nesterov:
            x[i] -= lr * (g[i] + momentum * b)
        else:
            x[i] -= lr * b


def reference(x, g, buf, t, lr, momentum, dampening, nesterov):
    if momentum == 0.0:
        x -= lr * g
        return
    buf[...] = g if t == 1 else momentum * buf + (1.0 - dampening) * g
    x -= lr * (g + momentum * buf if nesterov else buf)


def _check(v):
    if v["nesterov"] and (v["momentum"] <= 0.0 or v["dampening"] != 0.0):
        raise ValueError("nesterov: Nesterov momentum requires momentum > 0 and dampening = 0 "
                         "(as in torch.optim.SGD)")


RULE = RuleDef("sgd", step=step, reference=reference, state={"buf": "d"}, check=_check,
               stateless=lambda v: v["momentum"] == 0.0,
               hyper={"momentum": Hyper(interval="[0, 1)"), "dampening": Hyper(interval="[0, 1]"),
                      "nesterov": Hyper(kind="bool")})


def sgd(lr, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0):
    return RULE(lr, momentum=momentum, dampening=dampening, nesterov=nesterov, weight_decay=weight_decay)


sgd.__doc__ = __doc__


# The invariance card of each constructor (simopt.testing.card, which the tests hold equal to its
# measurement): the transformations that hold (all others fail) and why.
INVARIANCES = {
    "sgd": {
        "make": lambda: sgd(0.05),
        "holds": ("rotation", "block_rotation", "matrix_rotation", "permutation", "sign_flip", "translation"),
        "why": ("linear in g: every orthogonal map commutes; under x → Dx the gradient maps by D⁻¹, the "
                "iterates by D"),
    },
}
