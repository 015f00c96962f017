r"""Sophia (Liu, Li, Hall, Liang & Ma 2023, arXiv 2305.14342, Algorithm 3): momentum preconditioned by
an EMA of a Hessian-diagonal estimate that is refreshed every k steps, with a per-coordinate clip.

.. math::
    m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t,\qquad
    h_t = \begin{cases}\beta_2 h_{t-k} + (1-\beta_2)\,\hat h_t & (t-1) \bmod k = 0\\
                       h_{t-1} & \text{otherwise}\end{cases}

    x_{t+1} = x_t - \eta_t\,\mathrm{clip}\Big(\frac{m_t}{\max(\gamma h_t,\ \epsilon)},\ 1\Big),\qquad
    \mathrm{clip}(z, 1) = \max(-1, \min(1, z))

with :math:`m_0 = h_0 = 0` and the refresh on steps t = 1, k + 1, 2k + 1, ... (the paper's
"t mod k = 1", which for k = 1 means every step).  ``estimator`` chooses :math:`\hat h_t`:

- ``"hutchinson"`` (Sophia-H): :math:`\hat h_t = u \odot (H u)`, u Rademacher, the engine's seeded
  probe from the run's own stream (``hutchinson`` in :mod:`simopt.optim.rule`; E[u ⊙ Hu] = diag(H)
  exactly, and the estimate is exact on an axis-aligned H, so its variance grows with the rotation);
- ``"exact"``: :math:`\hat h_t = \mathrm{diag}(H)` (``hdiag``), the noise-free oracle.

A negative :math:`h` (possible with Hutchinson) gives the denominator :math:`\epsilon`, so that
coordinate takes the clipped step :math:`\pm\eta` (the :math:`\max` of Algorithm 3).  With ``eps = 0``
and :math:`h \le 0` the ratio is :math:`\pm\infty`, clipped to :math:`\mathrm{sign}(m_t)`; 0/0 := 0.

Weight decay is simopt's decoupled ``weight_decay`` (:math:`x \leftarrow x - \eta\lambda x` before the
step), as in Algorithm 3.  Defaults: :math:`\beta = (0.965, 0.99)`, k = 10, :math:`\gamma =
0.01` (as ``optax.contrib.sophia``), :math:`\epsilon = 10^{-12}` (the official early SophiaH code and
``pytorch_optimizer.SophiaH``); weight decay is off by default here (the official code uses 0.1 for
language models; on a quadratic it moves the minimiser).

How other implementations map:

- ``pytorch_optimizer.SophiaH`` writes the first version of the paper,
  :math:`\eta'\,\mathrm{clip}(m/\max(h, \epsilon'), \rho)`; it equals this rule with
  :math:`\eta' = \eta/\gamma`, :math:`\rho = \gamma`, :math:`\epsilon' = \epsilon/\gamma` and weight decay
  :math:`\lambda' = \lambda\gamma` (the parity test feeds it the same Hutchinson vectors).
- The official repository (Liuhong99/Sophia, ``sophia.py``) now ships only SophiaG,
  :math:`\mathrm{sign}(m)\min(|m|/(\rho\,B\,h + 10^{-15}), 1)` with the batch size B: the same rule with
  :math:`\gamma = \rho B` and :math:`\epsilon` added instead of taken as a floor; its early SophiaH
  also bias-corrected m by :math:`1/(1-\beta_1^t)`, which Algorithm 3 does not.
- ``optax.contrib.sophia`` bias-corrects m and refreshes h *after* the step on steps 1, k + 1, ...,
  so its first step uses h = 0 (a clipped sign step) and every refresh takes effect one step later.

Property (``tests/test_rules_sophia.py``): with the exact diagonal and no clip active, Sophia is
momentum preconditioned by :math:`\mathrm{diag}(H)^{-1}` -- invariant under a diagonal rescaling of the
coordinates (any H) and, with :math:`\beta_1 = 0`, :math:`\eta = \gamma(1-\beta_2)`, a Newton step that
solves an axis-aligned quadratic in one step.
"""
import numpy as np

from ..rule import Hyper, RuleDef

__all__ = ["sophia"]

ESTIMATORS = ("hutchinson", "exact")
HUTCHINSON, EXACT = 0, 1


def step(x, g, m, h, t, lr, hutchinson, hdiag, beta1, beta2, gamma, eps, k, estimator):
    refresh = (t - 1) % k == 0
    for i in range(x.shape[0]):
        mi = beta1 * m[i] + (1.0 - beta1) * g[i]
        m[i] = mi
        if refresh:
            est = hdiag[i] if estimator == EXACT else hutchinson[i]
            h[i] = beta2 * h[i] + (1.0 - beta2) * est
        den = max(gamma * h[i], eps)
        if den > 0.0:
            r = mi / den
            if r > 1.0:
                r = 1.0
            elif r < -1.0:
                r = -1.0
        else:
            r = np.sign(mi)
        x[i] -= lr * r


def reference(x, g, m, h, t, lr, hutchinson, hdiag, beta1, beta2, gamma, eps, k, estimator):
    m[...] = beta1 * m + (1.0 - beta1) * g
    if (t - 1) % k == 0:
        h_hat = hdiag if estimator == EXACT else hutchinson
        h[...] = beta2 * h + (1.0 - beta2) * h_hat
    den = np.maximum(gamma * h, eps)
    ratio = np.divide(m, den, out=np.sign(m), where=den > 0.0)      # m/0 = +-inf, clipped to sign(m)
    x -= lr * np.clip(ratio, -1.0, 1.0)


RULE = RuleDef("sophia", step=step, reference=reference, state={"m": "d", "h": "d"},
               hyper={"beta1": Hyper(interval="[0, 1)"), "beta2": Hyper(interval="[0, 1)"),
                      "gamma": Hyper(interval="> 0"), "eps": Hyper(interval=">= 0"),
                      "k": Hyper(kind="int", minimum=1),
                      "estimator": Hyper(kind="choice", options=ESTIMATORS)},
               probe=lambda v: v["estimator"] == ESTIMATORS.index("hutchinson"))


def sophia(lr, beta1=0.965, beta2=0.99, gamma=0.01, eps=1e-12, k=10, estimator="hutchinson",
           weight_decay=0.0):
    return RULE(lr, beta1=beta1, beta2=beta2, gamma=gamma, eps=eps, k=k, estimator=estimator,
                weight_decay=weight_decay)


sophia.__doc__ = __doc__
