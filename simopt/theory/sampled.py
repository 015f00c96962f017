"""Exact expected loss of SGD on least squares with sampled-data gradients (``simopt.noise``:
``sampled_gaussian``, ``sampled_coordinates``, ``dataset``), where the gradient noise depends on the
iterate.

SGD is ``e_{t+1} = e_t - eta_t g_t`` on the error ``e = x - x*``, with ``g_t`` the mean of B per-sample
gradients ``a (a.e_t - r)`` drawn independently of the past, so ``E[g_t | e_t] = H e_t`` and, with
``S_t = E e_t e_t^T`` and ``C(e)`` the model's ``covariance(problem, x)``,

    S_{t+1} = S_t - eta (H S_t + S_t H) + eta^2 (H S_t H + E C(e_t)),      E f(x_t) = 1/2 tr(H S_t):

the constant-covariance recursion of theory_notes.md §3F with the covariance averaged over the iterate.
``C(e)`` is quadratic in ``e`` for every model, so ``E C(e_t)`` is linear in (S_t, E e_t) and the recursion
closes exactly (no sampling, no approximation):

- Gaussian features (``sampled_gaussian``, Isserlis): ``E C = (1/B)(H S H + tr(H S) H + sigma^2 H)``; in
  H's eigenbasis (``H = Q diag(lambda) Q^T``, ``s = diag(Q^T S Q)``) the diagonal closes on itself:

      s_{t+1} = ((1 - eta lambda)^2 + eta^2 lambda^2 / B) s_t + (eta^2 / B) (lambda.s_t) lambda
                + (eta^2 sigma^2 / B) lambda;

- one-hot coordinates (``sampled_coordinates``, ``H = diag(h)``, ``tau = sum h``): ``E C = (1/B)(tau
  diag(h (m + sigma^2)) - H S H)`` with ``m = diag S``, so each coordinate closes on its own:

      m_{t+1} = ((1 - eta h)^2 + eta^2 h (tau - h) / B) m_t + eta^2 tau sigma^2 h / B;

- a finite dataset (``dataset``, rows ``x_i``, residuals ``r_i``): ``E C = (1/B)((1/N) sum_i w_i x_i x_i^T
  - H S H)`` with ``w_i = x_i^T S x_i - 2 r_i x_i.E e + r_i^2``, and ``E e_{t+1} = (I - eta H) E e_t``: a
  d x d recursion, O(N d^2) per step.

Every curve is linear in (s_0, sigma^2): the part from the start (sigma = 0: the noise of sampling the
features alone) plus sigma^2 times the part from the label noise -- the bias-variance split that the
one-hot case makes exact (the question of "Stochastic Gradient Descent on the Linear Bigram Model:
Bias-Variance Scaling and Critical Batch Size", HiLD @ ICML 2026).
"""
from __future__ import annotations

import math

import numpy as np

from .._blas import one_thread
from .._validate import as_float_array, check_int, check_positive_scalar, check_size, takes_problem
from .expectations import _lr_sequence, _record_steps

__all__ = ["sgd_expected_loss_sampled", "sgd_stationary_loss_sampled"]


def _model(problem):
    from .. import noise as nz
    model = problem.noise
    if isinstance(model, (nz._SampledGaussian, nz._SampledCoordinates, nz._Dataset)):
        return model
    raise ValueError(f"problem: expected a problem with sampled-data noise (simopt.noise.sampled_gaussian, "
                     f"sampled_coordinates or a dataset: simopt.least_squares, gaussian_features, "
                     f"zipf_bigram), got noise {model!r}; for additive noise use "
                     f"simopt.theory.sgd_expected_loss")


def _eigen_start(problem, e0):
    """(lambda, s0): H's eigenvalues and the squared eigen-coordinates of the starting error."""
    if problem.kind == "diagonal":
        return np.asarray(problem.diag, dtype=np.float64), e0 * e0
    lam, Q = problem.eigh()
    with one_thread():
        c = Q.T @ e0
    return np.asarray(lam, dtype=np.float64), c * c


def _coefficients(model, lam, eta):
    """``(a, k, c)`` of the diagonal recursion ``s' = a s + k (lambda.s) lambda + c`` at step size ``eta``
    (module docstring): the Gaussian model (``k = eta^2 / B``, ``lam`` H's eigenvalues) or the coordinate
    model (``k = 0``, ``lam = h`` the diagonal)."""
    from .. import noise as nz
    B = model.batch_size
    s2 = model.label_noise ** 2
    if isinstance(model, nz._SampledGaussian):
        a = (1.0 - eta * lam) ** 2 + eta * eta * lam * lam / B
        return a, eta * eta / B, eta * eta * s2 * lam / B
    tau = float(lam.sum())
    a = (1.0 - eta * lam) ** 2 + eta * eta * lam * (tau - lam) / B
    return a, 0.0, eta * eta * tau * s2 * lam / B


@takes_problem
def sgd_expected_loss_sampled(problem, lr, steps, x0=None, record_every: int = 1):
    """Exact ``E f(x_t) - f*`` (the loss the engine records) for plain SGD ``x_{t+1} = x_t - eta_t g_t``
    with the problem's sampled-data gradients (module docstring: Gaussian features, one-hot coordinates,
    or a finite dataset).

    ``lr``: float or an array of >= ``steps`` per-step rates; ``x0`` default ``problem.x0``.  Returns
    ``(rec_steps, expected_loss)`` at steps 0, record_every, ..., and always ``steps``, as
    ``simopt.theory.sgd_expected_loss``.  The loss is ``inf`` once the second moments overflow (a step
    size past the stability limit, :func:`sgd_stationary_loss_sampled`).  Costs O(steps d) for the
    Gaussian and coordinate models and O(steps (N d^2 + d^3)) for a dataset.
    """
    model = _model(problem)
    x0 = problem.x0 if x0 is None else as_float_array(x0, "x0", shape=(problem.dim,))
    e0 = np.asarray(x0, dtype=np.float64) - problem.xstar
    steps = check_int(steps, "steps", minimum=0)
    check_size(steps, "steps", f"{steps} per-step rates")
    steps, rec = _record_steps(steps, record_every)
    eta, etas = _lr_sequence(lr, steps)
    rates = np.full(steps, eta) if etas is None else etas
    from .. import noise as nz
    if isinstance(model, nz._Dataset):
        return rec, _dataset_curve(model, problem, e0, rates, rec)
    if isinstance(model, nz._SampledGaussian):
        lam, s = _eigen_start(problem, e0)
    else:
        lam, s = np.asarray(problem.diag, dtype=np.float64), e0 * e0
    out = np.empty(rec.shape[0])
    k = 0
    cache = {}
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(steps + 1):
            if k < rec.shape[0] and rec[k] == t:
                v = 0.5 * float(lam @ s)
                out[k] = v if math.isfinite(v) else math.inf
                k += 1
            if t == steps:
                break
            et = float(rates[t])
            if et not in cache:
                cache = {et: _coefficients(model, lam, et)}
            a, kk, c = cache[et]
            s = a * s + (kk * float(lam @ s)) * lam + c if kk else a * s + c
    return rec, out


def _dataset_curve(model, problem, e0, rates, rec):
    X = model.features
    N = X.shape[0]
    B = model.batch_size
    r = model.residuals(problem)
    with one_thread():
        H = (X.T @ X) / N
    m = e0.copy()
    S = np.outer(e0, e0)
    out = np.empty(rec.shape[0])
    k = 0
    with np.errstate(over="ignore", invalid="ignore"), one_thread():
        for t in range(rates.shape[0] + 1):
            if k < rec.shape[0] and rec[k] == t:
                v = 0.5 * float(np.sum(H * S))
                out[k] = v if math.isfinite(v) else math.inf
                k += 1
            if t == rates.shape[0]:
                break
            eta = float(rates[t])
            HS = H @ S
            w = (np.einsum("ij,jk,ik->i", X, S, X) - 2.0 * r * (X @ m) + r * r) / N
            HSH = HS @ H
            S = (S - eta * (HS + HS.T) + eta * eta * ((1.0 - 1.0 / B) * HSH + (X.T * w) @ X / B))
            S = 0.5 * (S + S.T)
            m = m - eta * (H @ m)
    return out


@takes_problem
def sgd_stationary_loss_sampled(problem, lr) -> float:
    """``lim_t E f(x_t) - f*`` for SGD at a constant step ``eta`` with Gaussian-feature or one-hot
    sampled gradients, or ``inf`` where the second moments grow without bound.

    Gaussian features: the recursion of the module docstring is ``s' = A s + c`` with the symmetric
    ``A = diag(a) + (eta^2 / B) lambda lambda^T``; it converges iff ``I - A`` is positive definite, i.e.
    ``delta = 1 - a > 0`` and ``(eta^2 / B) sum_i lambda_i^2 / delta_i < 1`` (congruence by
    ``diag(delta)^-1/2``), and then by Sherman-Morrison

        lim E f - f* = 1/2 u / (1 - (eta^2 / B) w),     u = sum_i lambda_i c_i / delta_i,  w = sum_i lambda_i^2 / delta_i,

    with ``c = eta^2 sigma^2 lambda / B``.  One-hot coordinates: each coordinate converges iff ``a_k < 1``,
    to ``m_k = c_k / (1 - a_k)``, i.e. ``eta < 2 / (h_k (1 - 1/B) + tau / B)`` for every k.  (A finite dataset's limit is not implemented: a d^2 linear system.)
    """
    from .. import noise as nz
    model = _model(problem)
    if isinstance(model, nz._Dataset):
        raise ValueError("problem: the stationary loss of a finite dataset is not implemented; use "
                         "sgd_expected_loss_sampled with enough steps")
    eta = check_positive_scalar(lr, "lr")
    if isinstance(model, nz._SampledGaussian):
        lam = np.asarray(problem.eigvals, dtype=np.float64)
    else:
        lam = np.asarray(problem.diag, dtype=np.float64)
    a, k, c = _coefficients(model, lam, eta)
    delta = 1.0 - a
    if not np.all(delta > 0.0):
        return math.inf
    u = float(np.sum(lam * c / delta))
    kw = k * float(np.sum(lam * lam / delta))
    if not kw < 1.0:
        return math.inf
    return 0.5 * u / (1.0 - kw)
