"""Guaranteed per-step contractions and iteration-complexity bounds (theory_notes.md §2A–E, §3H).

All statements are for f(x) = ½(x − x*)ᵀH(x − x*) and follow from the exact one-step identity

    (Q)   f(x − ηu) = f(x) − η gᵀu + ½ η² uᵀHu,

proved in full in theory_notes.md.  Each is the quadratic case of a mechanism a seed paper names:
§2B–D Tomihari & Sato (2025, gradient heterogeneity — their exact Thm 4.7/4.9 constants, Λ_G, Λ_P, ρ_H,
δ_D, are NOT available [NF], so simopt checks the derivations of theory_notes §2 instead), §2E Zhang et
al. (2024, Adam with β1 = 0, β2 = 1; their initialisation constant r is not reproduced, simopt measures
κ̃ directly), §3H the standard SGD bound under bounded noise.

Iteration complexity follows theory_notes §5: T(ε) = first t with f(x_t) ≤ ε f(x_0).  If every step
contracts f by at least the factor q < 1, then f(x_t) ≤ q^t f(x_0) and T(ε) ≤ ⌈ln(1/ε) / (−ln q)⌉.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .._validate import (as_float_array, check_int, check_interval, check_nonneg_scalar,
                         check_positive_scalar, check_size, takes_problem)
from . import metrics as _m

__all__ = [
    "one_step_loss", "iterations_for_contraction", "gd_step_size", "gd_rate", "gd_fixed_step_bound",
    "gd_lg_next_loss", "gd_lg_contraction", "gd_lg_bound", "sign_next_loss", "sign_contraction",
    "sign_bound", "adam_rate", "adam_optimal_lr", "adam_bound", "sgd_noise_level", "sgd_noise_bound",
    "sgd_noise_curve", "Bound",
]


@dataclass(frozen=True)
class Bound:
    """A guaranteed per-step contraction ``q`` (f(x_{t+1}) ≤ q·f(x_t) at every step) and the iteration
    bound ``T_bound`` = ⌈ln(1/ε)/(−ln q)⌉ for ``eps`` (``inf`` when q ≥ 1: no guarantee)."""
    section: str
    contraction: float
    eps: float
    T_bound: float
    note: str = ""


def _check_eps(eps):
    return check_interval(eps, "eps", 0.0, 1.0, low_closed=False, high_closed=False)


def iterations_for_contraction(q, eps) -> float:
    """⌈ln(1/ε) / (−ln q)⌉ for a guaranteed per-step factor q on f (theory_notes §2A, §5).

    q ≥ 1 (no contraction guaranteed, ``q = inf`` included: e.g. ρ(η)² overflowing for a huge η)
    gives ``inf``; q = 0 gives 1.  Returned as float (``inf`` is a possible value).
    """
    eps = _check_eps(eps)
    if isinstance(q, (float, np.floating)) and q == math.inf:
        return math.inf
    q = check_nonneg_scalar(q, "q")
    if q >= 1.0:
        return math.inf
    if q == 0.0:
        return 1.0
    r = math.log(1.0 / eps) / (-math.log(q))
    return float(max(1, math.ceil(r))) if math.isfinite(r) else math.inf


@takes_problem
def one_step_loss(problem, X, U, lr) -> np.ndarray:
    """(Q): f(x − ηu) = f(x) − η gᵀu + ½ η² uᵀHu, exactly (theory_notes §0).  ``X``, ``U``: ``(..., d)``;
    ``lr``: scalar or array broadcastable to the batch shape."""
    X = _m._points(problem, X, "X")
    U = _m._points(problem, U, "U")
    E = X - problem.xstar
    G = _m.hess_apply(problem, E)
    f = 0.5 * np.einsum("...i,...i->...", E, G)
    eta = as_float_array(lr, "lr")
    return (f - eta * np.einsum("...i,...i->...", G, U)
            + 0.5 * eta * eta * np.einsum("...i,...i->...", U, _m.hess_apply(problem, U)))


# ------------------------------------------------------------------------------------------------
# A. GD with a fixed step
@takes_problem
def gd_step_size(problem, rule: str = "1/L", scale: float = 1.0) -> float:
    """The classical fixed steps of theory_notes §2A: ``"1/L"`` → 1/L, ``"2/(L+mu)"`` → 2/(L+μ);
    multiplied by ``scale``."""
    scale = check_positive_scalar(scale, "scale")
    if rule == "1/L":
        return scale / float(problem.L)
    if rule == "2/(L+mu)":
        return scale * 2.0 / (float(problem.L) + float(problem.mu))
    raise ValueError(f"rule: expected '1/L' or '2/(L+mu)', got {rule!r}")


@takes_problem
def gd_rate(problem, lr) -> float:
    """ρ(η) = max_i |1 − ηλ_i| = max(|1 − ημ|, |1 − ηL|): GD multiplies every eigen-component of the
    error by (1 − ηλ_i), so f(x_{t+1}) ≤ ρ(η)² f(x_t) (theory_notes §2A; classical, tight).
    ρ(1/L) = 1 − 1/κ, ρ(2/(L+μ)) = (κ − 1)/(κ + 1)."""
    eta = check_positive_scalar(lr, "lr")
    return max(abs(1.0 - eta * float(problem.mu)), abs(1.0 - eta * float(problem.L)))


@takes_problem
def gd_fixed_step_bound(problem, lr, eps) -> Bound:
    """GD with fixed step η (theory_notes §2A): per-step factor q = ρ(η)², T_GD(ε; η) ≤
    ⌈ln(1/ε)/(−2 ln ρ(η))⌉ (``inf`` when ρ ≥ 1, e.g. η ≥ 2/L)."""
    rho = gd_rate(problem, lr)
    q = rho * rho
    return Bound("2A", q, _check_eps(eps), iterations_for_contraction(q, eps),
                 f"GD, fixed step {float(lr):.6g}: rho = {rho:.6g}")


# ------------------------------------------------------------------------------------------------
# B. GD with eta_t = 1 / L_G(x_t), block-diagonal H
def _require_block_diagonal(problem, what):
    if problem.kind in ("diagonal", "block"):
        return
    H = problem.hessian()
    mask = np.ones(H.shape, dtype=bool)
    for sl in problem.blocks:
        mask[sl, sl] = False
    if np.any(H[mask] != 0.0):
        raise ValueError(f"problem: {what} needs a block-diagonal Hessian (H_bc = 0 for b != c); "
                         "this problem's Hessian couples blocks (e.g. a global rotation)")


@takes_problem
def gd_lg_next_loss(problem, X) -> np.ndarray:
    """Guaranteed value after one step of GD with η_t = 1/L_G(x_t), block-diagonal H
    (theory_notes §2B): f(x_{t+1}) ≤ f(x_t) − ‖g_t‖² / (2 L_G(x_t))."""
    _require_block_diagonal(problem, "the gradient-weighted step bound (theory_notes §2B)")
    tm = _m.trajectory_metrics(problem, X)
    return tm["loss"] - tm["grad_norm"] ** 2 / (2.0 * tm["L_G"])


@takes_problem
def gd_lg_contraction(problem, X) -> np.ndarray:
    """Per-step guaranteed factor of theory_notes.md §2B at x: 1 − μ / L_G(x) (uses ‖g‖² ≥ 2μ f)."""
    _require_block_diagonal(problem, "the gradient-weighted step bound (theory_notes §2B)")
    return 1.0 - float(problem.mu) / _m.gradient_weighted_smoothness(problem, X)


@takes_problem
def gd_lg_bound(problem, eps) -> Bound:
    """A-priori bound for theory_notes.md §2B: L_G ≤ L, so every step contracts by at least 1 − 1/κ and
    T(ε) ≤ ⌈ln(1/ε)/(−ln(1 − 1/κ))⌉.  The realised per-step factors 1 − μ/L_G(x_t) are smaller when the
    gradient's mass avoids the high-curvature blocks (the price of gradient heterogeneity, Tomihari &
    Sato 2025; their Thm 4.7 constants are [NF])."""
    _require_block_diagonal(problem, "the gradient-weighted step bound (theory_notes §2B)")
    q = 1.0 - float(problem.mu) / float(problem.L)
    return Bound("2B", q, _check_eps(eps), iterations_for_contraction(q, eps),
                 "GD, eta_t = 1/L_G(x_t)")


# ------------------------------------------------------------------------------------------------
# C. sign descent with eta_t = ||g_t||_1 / U_inf
@takes_problem
def sign_next_loss(problem, X) -> np.ndarray:
    """Guaranteed value after one step of sign descent with η_t = ‖g_t‖₁/U_∞ (theory_notes §2C):
    f(x_{t+1}) ≤ f(x_t) − ‖g_t‖₁² / (2 U_∞), since sᵀHs ≤ U_∞ for every sign vector s."""
    tm = _m.trajectory_metrics(problem, X)
    return tm["loss"] - tm["grad_l1"] ** 2 / (2.0 * _m.linf_smoothness(problem))


@takes_problem
def sign_contraction(problem) -> float:
    """Per-step factor of theory_notes.md §2C: 1 − μ_∞/U_∞ (uses f ≤ ‖g‖₁²/(2μ_∞))."""
    return 1.0 - _m.linf_strong_convexity(problem) / _m.linf_smoothness(problem)


@takes_problem
def sign_bound(problem, eps) -> Bound:
    """Sign descent with the ℓ∞ step (theory_notes §2C; ℓ∞ steepest descent, the sign-method side of
    Tomihari & Sato 2025 — their Thm 4.7 constants are [NF]): T_sign(ε) ≤ ⌈ln(1/ε)/(−ln(1 − μ_∞/U_∞))⌉."""
    q = sign_contraction(problem)
    return Bound("2C", q, _check_eps(eps), iterations_for_contraction(q, eps),
                 "sign descent, eta_t = ||g_t||_1 / U_inf")


# ------------------------------------------------------------------------------------------------
# E. Adam with beta1 = 0, beta2 = 1, v0 = g0^2
@takes_problem
def adam_rate(problem, lr, x0=None, eps: float = 0.0):
    """ρ̃(η) = max_i |1 − ηλ_i(H̃)|, H̃ = D^{-1/2}HD^{-1/2}, D = diag(|g₀| + ε) (theory_notes §2E;
    Zhang et al. 2024).  Scalar for one x₀, array for a batch ``(..., d)``.  f(x_{t+1}) ≤ ρ̃² f(x_t)."""
    eta = check_positive_scalar(lr, "lr")
    ev = _m.adam_preconditioned_eigvals(problem, x0, eps)
    r = np.maximum(np.abs(1.0 - eta * ev[..., 0]), np.abs(1.0 - eta * ev[..., -1]))
    return float(r) if np.ndim(r) == 0 else r


@takes_problem
def adam_optimal_lr(problem, x0=None, eps: float = 0.0):
    """η = 2/(λ_min(H̃) + λ_max(H̃)), giving ρ̃ = (κ̃ − 1)/(κ̃ + 1) (theory_notes §2E)."""
    ev = _m.adam_preconditioned_eigvals(problem, x0, eps)
    r = 2.0 / (ev[..., 0] + ev[..., -1])
    return float(r) if np.ndim(r) == 0 else r


@takes_problem
def adam_bound(problem, lr, eps, x0=None, adam_eps: float = 0.0) -> Bound:
    """Adam(β1=0, β2=1, v₀=g₀∘g₀) = GD on H̃ (theory_notes §2E; Zhang et al. 2024, thesis Thm 3.2):
    per-step factor ρ̃(η)², T(ε) ≤ ⌈ln(1/ε)/(−2 ln ρ̃(η))⌉.  ``x0``: one point (default ``problem.x0``)."""
    adam_eps = check_nonneg_scalar(adam_eps, "adam_eps")
    rho = adam_rate(problem, lr, x0, adam_eps)
    if np.ndim(rho) != 0:
        raise ValueError("x0: adam_bound takes one starting point; use adam_rate for a batch")
    q = rho * rho
    kt = _m.adam_preconditioned_condition_number(problem, x0, adam_eps)
    return Bound("2E", q, _check_eps(eps), iterations_for_contraction(q, eps),
                 f"Adam beta1=0 beta2=1: kappa~ = {kt:.6g}, kappa = {float(problem.condition_number):.6g}")


# ------------------------------------------------------------------------------------------------
# H. SGD with bounded noise
@takes_problem
def sgd_noise_level(problem, cov=None) -> float:
    """V = tr(HC) for the constant noise covariance C (default the problem's noise; theory_notes §3H)."""
    from .expectations import noise_covariance
    C = noise_covariance(problem, cov)
    return float(np.einsum("ij,ji->", problem.hessian(), C))


@takes_problem
def sgd_noise_curve(problem, lr, steps, f0=None, cov=None):
    """The theory_notes.md §3H envelope E f(x_t) ≤ (1 − ημ)^t f(x_0) + ηV/(2μ), t = 0..steps (η ≤ 1/L required)."""
    eta = check_positive_scalar(lr, "lr")
    if eta > 1.0 / float(problem.L) * (1.0 + 1e-12):
        raise ValueError(f"lr: the theory_notes.md §3H bound needs lr <= 1/L = {1.0 / float(problem.L):.6g}, got {eta}")
    V = sgd_noise_level(problem, cov)
    f0 = float(problem.f0) if f0 is None else check_nonneg_scalar(f0, "f0")
    steps = check_int(steps, "steps", minimum=0)
    check_size(steps + 1, "steps", f"{steps + 1} values")
    t = np.arange(steps + 1, dtype=np.float64)
    mu = float(problem.mu)
    return (1.0 - eta * mu) ** t * f0 + eta * V / (2.0 * mu)


@takes_problem
def sgd_noise_bound(problem, lr, eps, f0=None, cov=None) -> Bound:
    """SGD with η ≤ 1/L and tr(HC) ≤ V (theory_notes §3H): E f(x_{t+1}) ≤ (1 − ημ) E f(x_t) + ½η²V, so
    E f(x_T) ≤ (1 − ημ)^T f(x_0) + ηV/(2μ) and E f(x_T) ≤ ε f(x_0) once
    T ≥ ln(f₀ / (εf₀ − ηV/(2μ))) / (−ln(1 − ημ)); ``inf`` if the noise floor ηV/(2μ) ≥ εf₀."""
    eta = check_positive_scalar(lr, "lr")
    eps = _check_eps(eps)
    if eta > 1.0 / float(problem.L) * (1.0 + 1e-12):
        raise ValueError(f"lr: the theory_notes.md §3H bound needs lr <= 1/L = {1.0 / float(problem.L):.6g}, got {eta}")
    V = sgd_noise_level(problem, cov)
    mu = float(problem.mu)
    f0 = float(problem.f0) if f0 is None else check_positive_scalar(f0, "f0")
    q = 1.0 - eta * mu
    floor = eta * V / (2.0 * mu)
    gap = eps * f0 - floor
    if gap <= 0 or q >= 1.0:
        T = math.inf
    elif q == 0.0:
        T = 1.0
    else:
        T = float(max(1, math.ceil(math.log(f0 / gap) / (-math.log(q)))))
    return Bound("3H", q, eps, T, f"SGD with noise: V = tr(HC) = {V:.6g}, floor = {floor:.6g}")
