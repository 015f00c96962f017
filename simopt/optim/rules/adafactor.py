r"""Adafactor for vectors (Shazeer & Stern 2018, "Adafactor: Adaptive Learning Rates with Sublinear
Memory Cost", arXiv 1804.04235: its algorithm for weight vectors -- the unfactored second moment, the only
form a vector has -- with the update clipping of Sec. 6, the increasing decay of Sec. 7.1 and the
relative step size of Sec. 8), and an optional first moment:

.. math::
    \hat\beta_{2t} = 1 - t^{-c},\quad
    v_t = \hat\beta_{2t} v_{t-1} + (1-\hat\beta_{2t})(g_t^2 + \epsilon_1),\quad
    u_t = g_t/\sqrt{v_t},\quad \hat u_t = u_t / \max\big(1, \mathrm{RMS}(u_t)/d\big)

    \alpha_t = \eta_t\,\rho_t\,\max\big(\epsilon_2, \mathrm{RMS}(X_t)\big),\qquad
    \rho_t = \min(10^{-2}, 1/\sqrt t),\qquad
    m_t = \beta_1 m_{t-1} + (1-\beta_1)\alpha_t\hat u_t,\qquad x_{t+1} = x_t - m_t

with :math:`\mathrm{RMS}(a) = \sqrt{\mathrm{mean}(a^2)}`, :math:`X_t = x_t + x^*` the *absolute*
parameter (the step is relative to the parameter's scale, so the rule binds ``xstar``), and
:math:`m_0 = 0`; :math:`\hat\beta_{21} = 0`, so :math:`v_1 = g_1^2 + \epsilon_1`.  Defaults are the
paper's: c = ``decay_rate`` = 0.8, :math:`\epsilon_1` = 1e-30, :math:`\epsilon_2` = 1e-3, d =
``clip_threshold`` = 1, no first moment (``beta1=0``, the paper's proposal; with :math:`\beta_1 > 0`
the average is of the scaled updates, without bias correction, as in the Tensor2Tensor code the paper
points to and in optax and pytorch-optimizer).

How simopt's ``lr`` fits: the paper has no learning rate besides :math:`\rho_t`; here ``lr`` multiplies
it, so ``lr=1`` (the default) is the paper and ``tune_lr`` tunes a multiplier of the relative step.
``relative_step=False`` drops :math:`\rho_t` (the step is ``lr`` times the parameter scale) and
``scale_parameter=False`` drops :math:`\max(\epsilon_2, \mathrm{RMS}(X_t))` (both False: Adafactor's
normalised, clipped RMSprop step with an absolute ``lr``).  A coordinate with :math:`v = 0`
(:math:`\epsilon_1 = 0` and a gradient exactly 0 so far) gets :math:`u = 0` (0/0 := 0).  Weight decay is
simopt's decoupled ``weight_decay`` (the paper has none), applied by the engine before the step, so
:math:`\mathrm{RMS}(X_t)` is that of the decayed iterate.

Other implementations, on vectors: ``torch.optim.Adafactor`` takes its ``lr`` as the cap of
:math:`\rho_t = \min(\mathrm{lr}, 1/\sqrt t)` (1e-2 is the paper) and divides by
:math:`\sqrt{\max(v_t, \epsilon_1)}` where the paper adds :math:`\epsilon_1` to :math:`g^2`: the same at
:math:`\epsilon_1 = 0`; ``pytorch_optimizer.AdaFactor`` computes the same as this rule once its
momentum is float64 (``momentum_dtype``; bfloat16 by default) and its :math:`\hat\beta_{2t}` cap
(``betas[1]``, 0.999 by default) is above :math:`1 - t^{-c}`; ``optax.adafactor`` computes the same but
evaluates :math:`\hat\beta_{2t}` in float32 (``_decay_rate_pow``), a relative error of about 1e-8 in the
second moment in float64, and needs the relative step passed as its ``learning_rate`` schedule.

Invariances (claims the invariance-card tests check): coordinate-wise apart from the two RMS, which are
symmetric functions, so equivariant under permutations and sign flips of the coordinates, not under
rotations; with :math:`\epsilon_1 = 0` the step is unchanged when the gradients are rescaled by any
positive diagonal matrix; *not* invariant to translations when ``scale_parameter=True`` (the step scales
with RMS of the absolute parameter), invariant otherwise (without weight decay).
"""
import math

import numpy as np

from ..rule import Hyper, RuleDef

__all__ = ["adafactor"]


def step(x, g, v, m, t, lr, xstar, beta1, decay_rate, eps1, eps2, clip_threshold, relative_step,
         scale_parameter):
    n = x.shape[0]
    beta2t = 1.0 - t ** (-decay_rate)
    alpha = lr
    if relative_step:
        alpha *= min(1e-2, 1.0 / math.sqrt(t))
    if scale_parameter:
        sx = 0.0
        for i in range(n):
            xi = x[i] + xstar[i]
            sx += xi * xi
        alpha *= max(eps2, math.sqrt(sx / n))
    su = 0.0                                            # sum of u^2 = g^2 / v (no square root)
    for i in range(n):
        vi = beta2t * v[i] + (1.0 - beta2t) * (g[i] * g[i] + eps1)
        v[i] = vi
        su += (g[i] * g[i]) / vi if vi > 0.0 else 0.0
    clip = max(1.0, math.sqrt(su / n) / clip_threshold)
    for i in range(n):
        u = g[i] / math.sqrt(v[i]) if v[i] > 0.0 else 0.0
        mi = beta1 * m[i] + (1.0 - beta1) * (alpha * (u / clip))
        m[i] = mi
        x[i] -= mi


def _rms(a):
    return np.sqrt(np.mean(a * a, axis=-1, keepdims=True))


def reference(x, g, v, m, t, lr, xstar, beta1, decay_rate, eps1, eps2, clip_threshold, relative_step,
              scale_parameter):
    beta2t = 1.0 - t ** (-decay_rate)
    v[...] = beta2t * v + (1.0 - beta2t) * (g * g + eps1)
    with np.errstate(divide="ignore", invalid="ignore"):
        u = np.where(v > 0.0, g / np.sqrt(v), 0.0)
    u_hat = u / np.maximum(1.0, _rms(u) / clip_threshold)          # update clipping, RMS(u) <= d
    alpha = lr * (min(1e-2, 1.0 / math.sqrt(t)) if relative_step else 1.0)
    if scale_parameter:
        alpha = alpha * np.maximum(eps2, _rms(x + xstar))         # relative to the absolute parameter
    m[...] = beta1 * m + (1.0 - beta1) * (alpha * u_hat)
    x -= m


RULE = RuleDef("adafactor", step=step, reference=reference, state={"v": "d", "m": "d"},
               hyper={"beta1": Hyper(interval="[0, 1)"), "decay_rate": Hyper(interval=">= 0"),
                      "eps1": Hyper(interval=">= 0"), "eps2": Hyper(interval=">= 0"),
                      "clip_threshold": Hyper(interval="> 0"), "relative_step": Hyper(kind="bool"),
                      "scale_parameter": Hyper(kind="bool")})


def adafactor(lr=1.0, beta1=0.0, decay_rate=0.8, eps1=1e-30, eps2=1e-3, clip_threshold=1.0,
              relative_step=True, scale_parameter=True, weight_decay=0.0):
    return RULE(lr, beta1=beta1, decay_rate=decay_rate, eps1=eps1, eps2=eps2, clip_threshold=clip_threshold,
                relative_step=relative_step, scale_parameter=scale_parameter, weight_decay=weight_decay)


adafactor.__doc__ = __doc__
