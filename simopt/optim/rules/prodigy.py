r"""Prodigy (Mishchenko & Defazio 2023, "Prodigy: An Expeditiously Adaptive Parameter-Free Learner",
arXiv 2306.06101, the Adam version of its algorithm), exactly as the official ``prodigyopt.Prodigy``
(version 1.1.2) computes it for one parameter tensor.  Adam whose moments are of :math:`d_k g_k` and
whose step is scaled by a distance estimate :math:`d_k` learned from the run; with
:math:`\eta'_k = d_k\,\eta_k\,b_k` (:math:`b_k = \sqrt{1-\beta_2^{k+1}}/(1-\beta_1^{k+1})` with
``use_bias_correction``, else 1) and :math:`x_0` the starting point, step k = 0, 1, ... does

.. math::
    m_{k+1} = \beta_1 m_k + d_k(1-\beta_1) g_k,\qquad v_{k+1} = \beta_2 v_k + d_k^2(1-\beta_2) g_k^2

    s_{k+1} = \beta_3 s_k + \tfrac{d_k}{d_0}\eta'_k\, g_k,\qquad
    r_{k+1} = \beta_3 r_k + \tfrac{d_k}{d_0}\eta'_k\,\langle g_k, x_0 - x_k\rangle

    \hat d_{k+1} = c\, r_{k+1}/\|s_{k+1}\|_1,\quad
    d_{\max} \leftarrow \max(d_{\max}, \hat d_{k+1}),\quad
    d_{k+1} = \min\big(d_{\max},\ \gamma\, d'_k\big),\quad
    d'_k = \max(d_k, \hat d_{k+1})\ \text{if}\ d_k = d_0\ \text{else}\ d_k

    x_{k+1} = x_k - \eta'_k\,\lambda\,X_k - \eta'_k\,\frac{m_{k+1}}{\sqrt{v_{k+1}} + d_{k+1}\epsilon}

with :math:`d_{\max} = d_0` at the start, c = ``d_coef``, :math:`\gamma` = ``growth_rate``,
:math:`\beta_3 = \sqrt{\beta_2}` by default, :math:`X_k` the absolute iterate (only the weight decay
needs it: :math:`x_0 - x_k` is the same in simopt's coordinates, measured from x*, so the rule binds
``xstar`` for the decay alone).  As the official code: with ``safeguard_warmup`` the s-update uses
:math:`\tfrac{d_k}{d_0} d_k` instead of :math:`\tfrac{d_k}{d_0}\eta'_k`; with ``beta1 = 0`` the step is
:math:`\eta'_k d_{k+1} g_k/(\sqrt{v_{k+1}} + d_{k+1}\epsilon)`; while :math:`\|s\|_1 = 0` (every gradient
so far exactly 0) the step stops after the moment updates -- no estimate, no move, and the step count k
of the bias correction does not advance.  Defaults as the official code: ``lr=1``, ``betas=(0.9,
0.999)``, :math:`\beta_3 = \sqrt{\beta_2}`, ``eps=1e-8``, ``d0=1e-6``, ``d_coef=1``, ``growth_rate=inf``,
``use_bias_correction=False``, ``safeguard_warmup=False``.  A hyperparameter must be finite, so
``growth_rate=inf`` is stored as the largest float (the bound :math:`\gamma d'_k` is then never the
minimum); ``beta3=None`` is stored as :math:`\sqrt{\beta_2}` when the optimizer is made (``with_hyper(
beta2=...)`` keeps it).  A coordinate with :math:`\sqrt{v} + d\epsilon = 0` (``eps=0``, gradient exactly 0
so far, so m = 0) is not moved (0/0 := 0).

Weight decay is the official decoupled form (``decouple=True``): :math:`x \leftarrow x - \lambda\eta'_k
X_k`, scaled by :math:`d_k`, which the engine's ``weight_decay`` (scaled by :math:`\eta` only) is not; the
rule therefore applies it itself (``decay=None``; the hyperparameter is this rule's ``weight_decay``).
The official ``decouple=False`` (an L2 term in the gradient) is not offered.

Limits: with ``d_coef`` so small that :math:`\hat d < d_0` throughout, :math:`d_k = d_0` and Prodigy is
Adam at learning rate :math:`d_0\eta` (with ``use_bias_correction`` and ``eps=0`` exactly
:func:`simopt.optim.adam`).  On a deterministic convex problem :math:`\langle g_k, x_0 - x_k\rangle \le
\langle g_k, x_0 - x^*\rangle`, so :math:`\hat d \le \|x_0 - x^*\|_\infty` (Hoelder with the
:math:`\ell_1` norm of s): the estimate never exceeds :math:`\max(d_0, \|x_0 - x^*\|_\infty)`
(with ``d_coef = 1``).

Invariances (claims the invariance-card tests check): equivariant under permutations and sign flips of
the coordinates (coordinate-wise moments; :math:`\|s\|_1` and :math:`\langle g, x_0 - x\rangle` are
invariant under them), not under rotations (the :math:`\ell_1` norm); invariant to translations (without
weight decay).
"""
import math
import sys

import numpy as np

from ..rule import Hyper, Optimizer, RuleDef

__all__ = ["prodigy"]


def step(x, g, m, v, s, x0, dk, dmax, num, k, t, lr, xstar, beta1, beta2, beta3, eps, weight_decay,
         use_bias_correction, safeguard_warmup, d0, d_coef, growth_rate):
    n = x.shape[0]
    if t == 1:
        dk[0] = d0
        dmax[0] = d0
        for i in range(n):
            x0[i] = x[i]
    d = dk[0]
    kk = k[0]
    bc = math.sqrt(1.0 - beta2 ** (kk + 1.0)) / (1.0 - beta1 ** (kk + 1.0)) if use_bias_correction else 1.0
    dlr = d * lr * bc
    w = (d / d0) * dlr
    ws = (d / d0) * d if safeguard_warmup else w
    cm = d * (1.0 - beta1)
    cv = d * d * (1.0 - beta2)
    dot = 0.0
    l1 = 0.0
    for i in range(n):
        dot += g[i] * (x0[i] - x[i])
        if beta1 > 0.0:
            m[i] = beta1 * m[i] + cm * g[i]
        v[i] = beta2 * v[i] + cv * g[i] * g[i]
        s[i] = beta3 * s[i] + ws * g[i]
        l1 += abs(s[i])
    if l1 == 0.0:
        return
    r = beta3 * num[0] + w * dot
    d_hat = d_coef * r / l1
    dn = max(d, d_hat) if d == d0 else d
    dm = max(dmax[0], d_hat)
    dn = min(dm, dn * growth_rate)
    dk[0] = dn
    dmax[0] = dm
    num[0] = r
    k[0] = kk + 1.0
    if weight_decay != 0.0:
        for i in range(n):
            x[i] -= weight_decay * dlr * (x[i] + xstar[i])
    c = dlr if beta1 > 0.0 else dlr * dn
    for i in range(n):
        den = math.sqrt(v[i]) + dn * eps
        if den > 0.0:
            x[i] -= c * ((m[i] if beta1 > 0.0 else g[i]) / den)


def reference(x, g, m, v, s, x0, dk, dmax, num, k, t, lr, xstar, beta1, beta2, beta3, eps, weight_decay,
              use_bias_correction, safeguard_warmup, d0, d_coef, growth_rate):
    if t == 1:
        dk[...], dmax[...], x0[...] = d0, d0, x
    d = dk.copy()                                                   # (runs, 1), like every scalar here
    bc = np.sqrt(1.0 - beta2 ** (k + 1.0)) / (1.0 - beta1 ** (k + 1.0)) if use_bias_correction else 1.0
    dlr = d * lr * bc                                               # eta'_k
    w = (d / d0) * dlr                                              # the weight of step k in s and r
    if beta1 > 0.0:
        m[...] = beta1 * m + (d * (1.0 - beta1)) * g
    v[...] = beta2 * v + (d * d * (1.0 - beta2)) * g * g
    s[...] = beta3 * s + ((d / d0) * d if safeguard_warmup else w) * g
    l1 = np.abs(s).sum(axis=1, keepdims=True)
    live = l1 > 0.0                                                 # else: no estimate, no move
    r = beta3 * num + w * np.sum(g * (x0 - x), axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):     # d * inf growth: inf
        d_hat = np.where(live, d_coef * r / l1, 0.0)
        dm = np.maximum(dmax, d_hat)
        dn = np.minimum(dm, np.where(d == d0, np.maximum(d, d_hat), d) * growth_rate)
    dk[...] = np.where(live, dn, d)
    dmax[...] = np.where(live, dm, dmax)
    num[...] = np.where(live, r, num)
    k[...] = np.where(live, k + 1.0, k)
    x -= np.where(live, weight_decay * dlr * (x + xstar), 0.0)
    numer, c = (m, dlr) if beta1 > 0.0 else (g, dlr * dk)
    den = np.sqrt(v) + dk * eps
    with np.errstate(divide="ignore", invalid="ignore"):
        x -= np.where(live & (den > 0.0), c * (numer / den), 0.0)


RULE = RuleDef("prodigy", step=step, reference=reference, decay=None,
               state={"m": "d", "v": "d", "s": "d", "x0": "d", "dk": "1", "dmax": "1", "num": "1", "k": "1"},
               hyper={"beta1": Hyper(interval="[0, 1)"), "beta2": Hyper(interval="[0, 1)"),
                      "beta3": Hyper(interval="[0, 1)"), "eps": Hyper(interval=">= 0"),
                      "weight_decay": Hyper(interval=">= 0"), "use_bias_correction": Hyper(kind="bool"),
                      "safeguard_warmup": Hyper(kind="bool"), "d0": Hyper(interval="> 0"),
                      "d_coef": Hyper(interval="> 0"), "growth_rate": Hyper(interval="> 0")})


def prodigy(lr=1.0, beta1=0.9, beta2=0.999, beta3=None, eps=1e-8, weight_decay=0.0,
            use_bias_correction=False, safeguard_warmup=False, d0=1e-6, d_coef=1.0, growth_rate=math.inf):
    if beta3 is None:
        beta3 = math.sqrt(RULE.hyper["beta2"].check(beta2, "beta2"))
    if isinstance(growth_rate, float) and growth_rate == math.inf:
        growth_rate = sys.float_info.max
    return Optimizer(RULE, lr, dict(beta1=beta1, beta2=beta2, beta3=beta3, eps=eps, weight_decay=weight_decay,
                                    use_bias_correction=use_bias_correction, safeguard_warmup=safeguard_warmup,
                                    d0=d0, d_coef=d_coef, growth_rate=growth_rate))


prodigy.__doc__ = __doc__
