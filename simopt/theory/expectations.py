"""Exact expectations for stochastic methods on a quadratic (theory_notes.md §3F–G, §4).

The stochastic gradient is g̃ = g + ξ with E ξ = 0 and a *constant* covariance Cov ξ = C (the additive
models of ``simopt.noise``; ``noise.covariance(problem)`` gives C exactly; sampled-data noise, whose
covariance depends on the iterate, has its own exact SGD moments in :mod:`simopt.theory.sampled`).  Everything here is a closed form or
an exact finite linear recursion — no sampling — so the engine's Monte Carlo mean can be held to it
within its standard error.
"""
from __future__ import annotations

import math

import numpy as np
from scipy.special import erf

from .._validate import (as_float_array, check_int, check_interval, check_nonneg_scalar,
                         check_positive_scalar, takes_problem)

__all__ = [
    "noise_covariance", "sgd_expected_loss", "sgd_stationary_loss", "momentum_expected_loss",
    "ssd_expected_next_loss", "variance_adaptation_factor", "sign_variance_factor",
    "adam_implicit_factor", "scaled_gradient_mse", "sign_mse", "sign_agreement_probability",
]


# ------------------------------------------------------------------------------------------------
@takes_problem
def noise_covariance(problem, cov=None) -> np.ndarray:
    """The constant gradient-noise covariance C as a dense ``(d, d)`` array: ``cov`` if given (an array,
    or a ``simopt.noise`` model), else ``problem.noise.covariance(problem)``, else zeros (no noise)."""
    d = problem.dim
    if cov is None:
        cov = problem.noise
        if cov is None:
            return np.zeros((d, d))
    _refuse_state_dependent(cov)
    if hasattr(cov, "covariance"):
        C = np.asarray(cov.covariance(problem), dtype=np.float64)
    else:
        C = as_float_array(cov, "cov")
        if C.ndim == 1:
            if C.shape != (d,):
                raise ValueError(f"cov: expected a (d,) vector of variances or a (d, d) matrix with "
                                 f"d = {d}, got shape {C.shape}")
            C = np.diag(C)
    if C.shape != (d, d):
        raise ValueError(f"cov: expected shape ({d}, {d}), got {C.shape}")
    if not np.all(np.isfinite(C)):
        raise ValueError("cov: the noise covariance is not finite (e.g. Student-t with df <= 2)")
    if not np.allclose(C, C.T, rtol=1e-12, atol=0.0):
        raise ValueError("cov: expected a symmetric matrix")
    return C


def _refuse_state_dependent(model):
    if getattr(model, "state_dependent", False):
        raise ValueError(f"noise: {model!r} is sampled-data noise, whose covariance depends on the "
                         f"iterate (noise.covariance(problem, x)); these results need a constant "
                         f"covariance -- SGD's exact moments under it are "
                         f"simopt.theory.sgd_expected_loss_sampled")


def _noise_variances_diagonal(problem, cov):
    """diag(C) without forming C, for a diagonal problem (its eigenbasis is the coordinate basis):
    O(d) or O(d^2) instead of the O(d^3) rotation, so NQM-sized problems (d = 1e4) stay cheap."""
    model = problem.noise if cov is None else cov
    if model is None:
        return np.zeros(problem.dim)
    _refuse_state_dependent(model)
    how, a = model.factor(problem)
    v = model.base_variance()
    if how == "scale":
        c = v * np.asarray(a) ** 2
    elif how == "matrix":
        c = v * np.sum(np.asarray(a) ** 2, axis=1)
    else:
        c = v * np.concatenate([np.sum(np.asarray(b) ** 2, axis=1) for b in a])
    if not np.all(np.isfinite(c)):
        raise ValueError("cov: the noise covariance is not finite (e.g. Student-t with df <= 2)")
    return c


def _eig_setup(problem, x0, cov):
    x0 = problem.x0 if x0 is None else as_float_array(x0, "x0", shape=(problem.dim,))
    err = np.asarray(x0, dtype=np.float64) - problem.xstar
    if problem.kind == "diagonal" and (cov is None or hasattr(cov, "factor")):
        return np.asarray(problem.diag, dtype=np.float64), err, _noise_variances_diagonal(problem, cov)
    lam, Q = problem.eigh()
    lam = np.asarray(lam, dtype=np.float64)
    e0 = Q.T @ err
    C = noise_covariance(problem, cov)
    c = np.einsum("ij,ik,kj->j", Q, C, Q)          # diag(Qᵀ C Q)
    return lam, e0, c


def _lr_sequence(lr, steps):
    """A constant float, or a per-step array η_0..η_{steps−1}."""
    if np.ndim(lr) == 0:
        return check_positive_scalar(lr, "lr"), None
    a = as_float_array(lr, "lr", ndim=1)
    if a.shape[0] < steps:
        raise ValueError(f"lr: expected at least steps = {steps} per-step rates, got {a.shape[0]}")
    if np.any(a < 0):
        raise ValueError("lr: expected non-negative per-step rates")
    return None, a[:steps]


def _record_steps(steps, record_every):
    steps = check_int(steps, "steps", minimum=0)
    record_every = check_int(record_every, "record_every", minimum=1)
    rec = np.arange(0, steps + 1, record_every, dtype=np.int64)
    if rec[-1] != steps:
        rec = np.append(rec, steps)
    return steps, rec


# ------------------------------------------------------------------------------------------------
@takes_problem
def sgd_expected_loss(problem, lr, steps, cov=None, x0=None, record_every: int = 1):
    """Exact E f(x_t) for SGD x_{t+1} = x_t − η_t (g_t + ξ_t) with constant noise covariance C
    (theory_notes §3F; the noisy quadratic model of Zhang et al. 2019, seed_math.md §5, for C ∝ H).

    In H's eigenbasis (H = QΛQᵀ, e = Qᵀ(x − x*), c_i = (QᵀCQ)_ii), with m_i(t) = E e_i(t)²:

        m_i(t+1) = (1 − η_tλ_i)² m_i(t) + η_t² c_i,      E f(x_t) = ½ Σ_i λ_i m_i(t).

    Exact for any constant C, co-diagonal with H or not: e_i(t) is a linear function of the i-th
    eigen-coordinate of the noise only, so only the diagonal of QᵀCQ enters.  For a constant η this is
    evaluated in closed form, m_i(t) = m_i* + (1 − ηλ_i)^{2t}(m_i(0) − m_i*), m_i* = η c_i/(λ_i(2 − ηλ_i))
    (the limit form is used only when (1 − ηλ_i)² ≠ 1); a per-step array of rates uses the recursion.

    ``lr``: float or array of ≥ ``steps`` per-step rates; ``cov``: covariance (array or noise model),
    default the problem's noise; ``x0`` default ``problem.x0``.  Returns ``(rec_steps, expected_loss)``
    at steps 0, record_every, 2·record_every, …, and always ``steps``.
    """
    lam, e0, c = _eig_setup(problem, x0, cov)
    steps, rec = _record_steps(steps, record_every)
    eta, etas = _lr_sequence(lr, steps)
    m0 = e0 * e0
    if etas is None:
        a = (1.0 - eta * lam) ** 2
        t = rec[:, None].astype(np.float64)
        pw = a[None, :] ** t
        # Σ_{s<t} a^s computed stably: (1 − a^t)/(1 − a) when a ≠ 1, t when a == 1
        with np.errstate(divide="ignore", invalid="ignore"):
            geo = np.where(a[None, :] != 1.0, (1.0 - pw) / (1.0 - a[None, :]), t)
        m = pw * m0[None, :] + eta * eta * c[None, :] * geo
        return rec, 0.5 * (m @ lam)
    out = np.empty(rec.shape[0])
    m = m0.copy()
    k = 0
    for t in range(steps + 1):
        if k < rec.shape[0] and rec[k] == t:
            out[k] = 0.5 * (lam @ m)
            k += 1
        if t < steps:
            m = (1.0 - etas[t] * lam) ** 2 * m + etas[t] ** 2 * c
    return rec, out


@takes_problem
def sgd_stationary_loss(problem, lr, cov=None) -> float:
    """lim_t E f(x_t) = ½ Σ_i λ_i m_i* = ½ Σ_i η c_i / (2 − ηλ_i) for constant η < 2/L (theory_notes §3F);
    ``inf`` when η ≥ 2/L and the noise excites an unstable direction."""
    eta = check_positive_scalar(lr, "lr")
    lam, _, c = _eig_setup(problem, None, cov)
    den = 2.0 - eta * lam
    if np.any((den <= 0) & (c > 0)):
        return math.inf
    return float(0.5 * np.sum(np.where(c > 0, eta * c / np.where(den > 0, den, 1.0), 0.0)))


# ------------------------------------------------------------------------------------------------
@takes_problem
def momentum_expected_loss(problem, lr, momentum, steps, cov=None, x0=None, dampening: float = 0.0,
                           nesterov: bool = False, record_every: int = 1):
    """Exact E f(x_t) for torch.optim.SGD with momentum (heavy ball) and constant noise covariance C
    (theory_notes §3F; the NQM momentum analysis of Zhang et al. 2019, seed_math.md §5).

    torch's rule (δ = dampening), with g̃_t = g_t + ξ_t:

        b_0 = g̃_0;   b_t = μ b_{t−1} + (1 − δ) g̃_t  (t ≥ 1);
        x_{t+1} = x_t − η b_t                 (plain),   x_{t+1} = x_t − η (g̃_t + μ b_t)  (nesterov).

    The first step sets the buffer to the raw gradient (no μ·b term, no dampening).  The NQM notebook's
    3×3 recursion (seed_math.md §5) is written for the stationary heavy-ball form and does not model this
    first step, so simopt uses the following exact recursion instead.  Write b_t = β_t b_{t−1} + w_t g̃_t
    with (β_0, w_0) = (0, 1) and (β_t, w_t) = (μ, 1 − δ) for t ≥ 1, and the direction
    d_t = s g̃_t + r b_t with (s, r) = (0, 1) plain, (1, μ) nesterov.  In H's eigenbasis, per direction i
    (eigenvalue λ, noise variance c = (QᵀCQ)_ii, noise coordinate ζ_t), the state z_t = (e_t, b_{t−1})
    (b_{−1} = 0) evolves as

        e_{t+1} = (1 − η(s + r w_t)λ) e_t − η r β_t b_{t−1} − η (s + r w_t) ζ_t,
        b_t     = w_t λ e_t + β_t b_{t−1} + w_t ζ_t,

    i.e. z_{t+1} = M_t z_t + n_t ζ_t with ζ_t independent of z_t, so the second moments
    S_t = E z_t z_tᵀ (three numbers per direction) obey the exact linear recursion
    S_{t+1} = M_t S_t M_tᵀ + c n_t n_tᵀ, with S_0 = diag(e_0², 0), and E f(x_t) = ½ Σ_i λ_i (S_t)_{00,i}.
    Exact for any constant C (only diag(QᵀCQ) enters, as for SGD).  Costs O(steps·d).

    Returns ``(rec_steps, expected_loss)`` as :func:`sgd_expected_loss`.
    """
    eta = check_positive_scalar(lr, "lr")
    mu = check_interval(momentum, "momentum", 0.0, 1.0)
    damp = check_interval(dampening, "dampening", 0.0, 1.0, high_closed=True)
    if not isinstance(nesterov, (bool, np.bool_)):
        raise TypeError(f"nesterov: expected True or False, got {nesterov!r}")
    lam, e0, c = _eig_setup(problem, x0, cov)
    steps, rec = _record_steps(steps, record_every)
    # state second moments per direction: A = E e², Bm = E b², X = E e·b   (b = b_{t-1})
    A = e0 * e0
    Bm = np.zeros_like(A)
    X = np.zeros_like(A)
    out = np.empty(rec.shape[0])
    k = 0
    for t in range(steps + 1):
        if k < rec.shape[0] and rec[k] == t:
            out[k] = 0.5 * (lam @ A)
            k += 1
        if t == steps:
            break
        # b_t = mb * b_{t-1} + w * (λ e_t + ζ)       (buffer update)
        # e_{t+1} = e_t − η * (s * (λ e_t + ζ) + r * b_t)   with (s, r) = (1, μ) nesterov, (0, 1) plain
        if t == 0:
            mb, w = 0.0, 1.0
        else:
            mb, w = mu, 1.0 - damp
        s, r = (1.0, mu) if nesterov else (0.0, 1.0)
        # e_{t+1} = (1 − η(s + r w) λ) e_t − η r mb b_{t−1} − η (s + r w) ζ
        # b_t     = w λ e_t + mb b_{t−1} + w ζ
        a11 = 1.0 - eta * (s + r * w) * lam
        a12 = -eta * r * mb
        n1 = -eta * (s + r * w)
        a21 = w * lam
        a22 = mb
        n2 = w
        A_new = a11 * a11 * A + 2.0 * a11 * a12 * X + a12 * a12 * Bm + n1 * n1 * c
        B_new = a21 * a21 * A + 2.0 * a21 * a22 * X + a22 * a22 * Bm + n2 * n2 * c
        X_new = a11 * a21 * A + (a11 * a22 + a12 * a21) * X + a12 * a22 * Bm + n1 * n2 * c
        A, Bm, X = A_new, B_new, X_new
    return rec, out


# ------------------------------------------------------------------------------------------------
def _sigma_arg(problem, sigma):
    d = problem.dim
    if sigma is None:
        nz = problem.noise
        if nz is None:
            raise ValueError("sigma: the problem has no noise; pass sigma (per-coordinate std)")
        _refuse_state_dependent(nz)
        if getattr(nz, "distribution", "normal") != "normal":
            raise ValueError("sigma: the SSD expectation needs Gaussian noise; the problem's noise is "
                             f"{nz!r}")
        kind, a = nz.factor(problem)
        if kind != "scale":
            raise ValueError("sigma: the SSD expectation needs independent coordinates "
                             f"(a diagonal noise covariance); the problem's noise {nz!r} is "
                             "correlated across coordinates")
        return np.sqrt(nz.base_variance()) * np.asarray(a, dtype=np.float64)
    if np.ndim(sigma) == 0:
        return np.full(d, check_nonneg_scalar(sigma, "sigma"))
    s = as_float_array(sigma, "sigma", shape=(d,))
    if np.any(s < 0):
        raise ValueError("sigma: expected non-negative standard deviations")
    return s


@takes_problem
def ssd_expected_next_loss(problem, X, lr, sigma=None) -> np.ndarray:
    """Exact E[f(x⁺) | x] for one step of stochastic sign descent x⁺ = x − η sign(g + ξ) with
    independent Gaussian noise ξ_i ~ N(0, σ_i²) (Balles & Hennig 2018's SSD; theory_notes §3G).

    With m_i = E sign(g_i + ξ_i) = erf(g_i / (√2 σ_i)) and, by independence, E s_i s_j = m_i m_j (i ≠ j),
    E s_i² = 1 (s_i = ±1 a.s. when σ_i > 0; s_i² = sign(g_i)² when σ_i = 0):

        E f(x⁺) = f(x) − η gᵀm + ½ η² (mᵀHm + Σ_i H_ii (E s_i² − m_i²)).

    For an axis-aligned (diagonal) H and σ > 0 this is theory_notes §3G exactly:
    f(x) − η Σ_i g_i erf(g_i/(√2σ_i)) + ½η² Σ_i H_ii.  ``X``: ``(d,)`` or ``(..., d)``; ``sigma``:
    scalar or ``(d,)`` std (default: from the problem's Gaussian per-coordinate noise).
    """
    eta = check_nonneg_scalar(lr, "lr")
    s = _sigma_arg(problem, sigma)
    from .metrics import _points, hess_apply
    X = _points(problem, X, "X")
    E = X - problem.xstar
    G = hess_apply(problem, E)
    f = 0.5 * np.einsum("...i,...i->...", E, G)
    with np.errstate(divide="ignore", invalid="ignore"):
        m = np.where(s > 0, erf(G / (math.sqrt(2.0) * np.where(s > 0, s, 1.0))), np.sign(G))
    es2 = np.where(s > 0, 1.0, np.sign(G) ** 2)
    Hm = hess_apply(problem, m)
    hdiag = np.diag(problem.hessian()) if problem.kind != "diagonal" else problem.diag
    quad = np.einsum("...i,...i->...", m, Hm) + ((es2 - m * m) * hdiag).sum(axis=-1)
    return f - eta * np.einsum("...i,...i->...", G, m) + 0.5 * eta * eta * quad


# ------------------------------------------------------------------------------------------------
# Balles & Hennig 2018, Lemma 1 and Fig. 3 (theory_notes §4)
def _rel_var(eta):
    a = as_float_array(eta, "eta", finite=False)
    if not np.all(np.isfinite(a)) or np.any(a < 0):
        raise ValueError("eta: expected finite relative standard deviations eta = sigma/|p| >= 0")
    return a


def variance_adaptation_factor(eta):
    """Optimal scaling of a stochastic gradient, 1/(1 + η²), η = σ/|p| (Balles & Hennig 2018, Lemma 1a;
    theory_notes §4): argmin_γ E(γ p̂ − p)²."""
    a = _rel_var(eta)
    return 1.0 / (1.0 + a * a)


def sign_variance_factor(eta):
    """Optimal scaling of a stochastic sign for Gaussian p̂, 2ρ − 1 = erf(1/(√2 η)) (Balles & Hennig 2018,
    Lemma 1b and Fig. 3; theory_notes §4).  η = 0 gives 1."""
    a = _rel_var(eta)
    with np.errstate(divide="ignore"):
        return erf(1.0 / (math.sqrt(2.0) * a))


def adam_implicit_factor(eta):
    """Adam's implicit variance-adaptation factor (1 + η²)^{-1/2} ≈ erf(1/(√2η)) (Balles & Hennig 2018,
    Fig. 3: m/√v = sign(m)·(1 + η̂²)^{-1/2}; theory_notes §4)."""
    a = _rel_var(eta)
    return 1.0 / np.sqrt(1.0 + a * a)


def scaled_gradient_mse(gamma, p, sigma):
    """E(γ p̂ − p)² = (γ − 1)² p² + γ² σ² for E p̂ = p, Var p̂ = σ² (expanding the square; theory_notes.md §4)."""
    g = np.asarray(gamma, dtype=np.float64)
    return (g - 1.0) ** 2 * np.asarray(p, dtype=np.float64) ** 2 + g * g * np.asarray(sigma) ** 2


def sign_mse(gamma, rho):
    """E(γ sign(p̂) − sign(p))² = γ² − 2γ(2ρ − 1) + 1 for p ≠ 0 and p̂ ≠ 0 a.s., ρ = P[sign p̂ = sign p]
    (expanding the square; theory_notes.md §4).  Minimised at γ = 2ρ − 1."""
    g = np.asarray(gamma, dtype=np.float64)
    r = np.asarray(rho, dtype=np.float64)
    return g * g - 2.0 * g * (2.0 * r - 1.0) + 1.0


def sign_agreement_probability(eta):
    """ρ = P[sign p̂ = sign p] for Gaussian p̂ ~ N(p, σ²), η = σ/|p|: ρ = Φ(1/η) = ½(1 + erf(1/(√2η)))."""
    return 0.5 * (1.0 + sign_variance_factor(eta))
