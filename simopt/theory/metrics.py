"""The papers' quantities on a quadratic, exactly (theory_notes.md §1, §2D, §2E).

Every point-dependent metric accepts one point ``x`` of shape ``(d,)`` or a batch of shape
``(..., d)`` (e.g. ``(runs, d)`` or ``(runs, steps, d)`` of recorded iterates) and returns an array of
the batch shape (or ``(..., n_blocks)`` for per-block quantities).  Problem-level constants that the
problem already provides (``L``, ``mu``, ``block_L``, ``linf_smoothness`` = U_∞,
``linf_strong_convexity`` = μ_∞, condition numbers) are read from it, never recomputed differently.

Notation: f(x) = ½(x − x*)ᵀH(x − x*), g = ∇f(x) = H(x − x*), blocks b = 1..B of sizes d_b, P = Σ d_b,
L_b = λ_max(H_bb).

Paper mechanisms (seed_math.md):
- directional sharpness: Pan & Li (2023), sharpness of the optimizer's update ⟨v, ∇²f v⟩/‖v‖²;
- gradient heterogeneity: Tomihari & Sato (2025), "disparity of gradient norms across blocks".  Their
  exact Def. 4.4–4.6 and the constants of their Thm 4.7/4.9 are NOT available [NF]; simopt reports the
  block norms G_b, h_G = max G_b / min G_b and the coefficient of variation, and the weighted block
  smoothness constants L_G(x), L_P that appear in the bounds proved in theory_notes.md §2B–D;
- block-spectrum heterogeneity and the preconditioned condition number κ̃: Zhang et al. (2024),
  "Why Transformers Need Adam: A Hessian Perspective" (the paper's exact JS estimator is [NF]);
- ℓ∞ geometry: ‖H‖_{1,1} = Σ_ij |H_ij| and its blockwise version, the constants of Xie, Mohamadi &
  Li (2025), "Adam Exploits ℓ∞-geometry of Loss Landscape via Coordinate-wise Adaptivity", and the
  block coupling strength ‖H − blockdiag(H)‖_F / ‖H‖_F.
"""
from __future__ import annotations

import itertools
import math

import numpy as np

from .._validate import (as_float_array, check_int, check_nonneg_scalar, check_positive_scalar,
                         takes_problem)

__all__ = [
    "hess_apply", "directional_sharpness", "update_sharpness", "best_step", "best_decrease",
    "block_grad_norms", "grad_heterogeneity", "grad_norm_cv", "gradient_weighted_smoothness",
    "parameter_weighted_smoothness", "gradient_density", "linf_smoothness", "linf_strong_convexity",
    "condition_numbers", "decrease_ratio_sign_vs_gd", "adam_preconditioned_eigvals",
    "adam_preconditioned_condition_number", "block_spectrum_js", "trajectory_metrics",
    "along", "JS_BANDWIDTH", "JS_GRID_POINTS", "hessian_l11", "hessian_block_l11",
    "blockwise_smoothness", "block_coupling",
]

#: Gaussian kernel bandwidth of the block-spectrum JS estimator, as a fraction of the global spread
#: ln λ_max − ln λ_min of all blocks' eigenvalues.
JS_BANDWIDTH = 0.15
#: Number of points of the common log grid of the block-spectrum JS estimator.
JS_GRID_POINTS = 2048


# ------------------------------------------------------------------------------------------------
# helpers
def _points(problem, X, name="x"):
    """``X`` as a float64 array whose last axis has length ``problem.dim``."""
    a = as_float_array(X, name)
    if a.ndim == 0 or a.shape[-1] != problem.dim:
        raise ValueError(f"{name}: expected last axis of length {problem.dim} (the problem's "
                         f"dimension), got shape {a.shape}")
    return a


@takes_problem
def hess_apply(problem, U) -> np.ndarray:
    """``H u`` for ``u`` of shape ``(..., d)``, using the problem's structure (diagonal, per block,
    Kronecker ``vec(A U B)`` for a matrix problem, or dense) so that no cancellation across blocks
    enters."""
    U = _points(problem, U, "u")
    if problem.kind == "diagonal":
        return U * problem.diag
    if problem.kind == "kron":
        return problem.hvp(U.reshape(-1, problem.dim)).reshape(U.shape)
    if problem.kind == "block":
        out = np.empty_like(U)
        for sl, Hb in zip(problem.blocks, problem.block_matrices):
            out[..., sl] = U[..., sl] @ Hb.T
        return out
    return U @ problem.hessian().T


def _grad(problem, X):
    X = _points(problem, X)
    return hess_apply(problem, X - problem.xstar)


def _block_sq_norms(problem, G):
    """Σ_{i∈b} G_i² for each block: shape ``(..., n_blocks)``."""
    starts = np.asarray(problem.block_starts[:-1], dtype=np.intp)
    return np.add.reduceat(G * G, starts, axis=-1)


# ------------------------------------------------------------------------------------------------
# sharpness (Pan & Li 2023; theory_notes §1)
@takes_problem
def directional_sharpness(problem, U) -> np.ndarray:
    """Directional sharpness S(u) = uᵀHu / ‖u‖² (Pan & Li 2023; theory_notes §1).

    ``U``: one direction ``(d,)`` or a batch ``(..., d)``.  A zero direction gives NaN (undefined).
    """
    U = _points(problem, U, "u")
    num = np.einsum("...i,...i->...", U, hess_apply(problem, U))
    den = np.einsum("...i,...i->...", U, U)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


@takes_problem
def update_sharpness(problem, X) -> np.ndarray:
    """Sharpness of the updates actually taken along trajectories (Pan & Li 2023, the quantity their
    ``compute_sharpness`` measures): for iterates ``X[..., t, :]`` the update is
    u_t = x_{t+1} − x_t and the result is S(u_t), shape ``(..., T)`` for ``X`` of shape ``(..., T+1, d)``.
    Works for any optimizer: it only needs the recorded iterates (``simopt.run(record=("x",))``).
    Steps where the iterate did not move give NaN.
    """
    X = _points(problem, X)
    if X.ndim < 2 or X.shape[-2] < 2:
        raise ValueError(f"x: expected iterates of shape (..., T+1, d) with T >= 1, got {X.shape}")
    return directional_sharpness(problem, np.diff(X, axis=-2))


@takes_problem
def best_step(problem, X, U) -> np.ndarray:
    """Exact line-search step along ``u`` from ``x``: η* = gᵀu / uᵀHu (theory_notes §1, from (Q))."""
    G = _grad(problem, X)
    U = _points(problem, U, "u")
    return np.einsum("...i,...i->...", G, U) / np.einsum("...i,...i->...", U, hess_apply(problem, U))


@takes_problem
def best_decrease(problem, X, U) -> np.ndarray:
    """Largest decrease of f along ``u``: (gᵀu)² / (2 uᵀHu) (theory_notes §1, from (Q))."""
    G = _grad(problem, X)
    U = _points(problem, U, "u")
    gu = np.einsum("...i,...i->...", G, U)
    return gu * gu / (2.0 * np.einsum("...i,...i->...", U, hess_apply(problem, U)))


# ------------------------------------------------------------------------------------------------
# gradient heterogeneity (Tomihari & Sato 2025 mechanism; exact definitions [NF]; theory_notes §1)
@takes_problem
def block_grad_norms(problem, X) -> np.ndarray:
    """Block gradient norms G_b = ‖g_b‖₂, shape ``(..., n_blocks)`` (theory_notes §1)."""
    return np.sqrt(_block_sq_norms(problem, _grad(problem, X)))


@takes_problem
def grad_heterogeneity(problem, X) -> np.ndarray:
    """h_G = max_b G_b / min_b G_b (theory_notes §1; Tomihari & Sato's "disparity of gradient norms
    across blocks" — their exact Def. 4.4 is [NF], this is simopt's fixed choice).  ``inf`` when some
    block gradient is exactly zero and another is not; NaN at x = x*."""
    G = block_grad_norms(problem, X)
    mx, mn = G.max(axis=-1), G.min(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return mx / mn


@takes_problem
def grad_norm_cv(problem, X) -> np.ndarray:
    """Coefficient of variation std_b(G_b) / mean_b(G_b) of the block gradient norms (population std;
    theory_notes §1).  0 when every block has the same gradient norm; NaN at x = x*."""
    G = block_grad_norms(problem, X)
    with np.errstate(invalid="ignore", divide="ignore"):
        return G.std(axis=-1) / G.mean(axis=-1)


@takes_problem
def gradient_weighted_smoothness(problem, X) -> np.ndarray:
    """L_G(x) = Σ_b L_b ‖g_b‖² / ‖g‖² (theory_notes §1, §2B), with L_b = ``problem.block_L``.

    For block-diagonal H, gᵀHg ≤ L_G(x)‖g‖² and μ ≤ L_G ≤ L.  NaN at x = x* (g = 0).
    The weighted Hessian complexity of a gradient method in the sense of Tomihari & Sato (2025); their
    exact Def. 4.5 and Thm 4.7 constants are [NF].
    """
    sq = _block_sq_norms(problem, _grad(problem, X))
    tot = sq.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (sq @ np.asarray(problem.block_L, dtype=np.float64)) / tot


@takes_problem
def parameter_weighted_smoothness(problem) -> float:
    """L_P = Σ_b d_b L_b / P (theory_notes §1, §2C–D): the same weighting for a sign method."""
    sizes = np.asarray(problem.block_sizes, dtype=np.float64)
    return float(sizes @ np.asarray(problem.block_L, dtype=np.float64) / problem.dim)


def gradient_density(G) -> np.ndarray:
    """Gradient density ψ(g) = ‖g‖₁² / (P ‖g‖₂²) ∈ [1/P, 1] (theory_notes §1) for ``g`` of shape
    ``(..., P)``: 1 for a gradient with equal magnitudes, 1/P for a one-hot gradient; NaN for g = 0."""
    G = as_float_array(G, "G")
    if G.ndim == 0:
        raise ValueError("G: expected gradients of shape (..., P), got a scalar")
    l1 = np.abs(G).sum(axis=-1)
    l2sq = np.einsum("...i,...i->...", G, G)
    with np.errstate(invalid="ignore", divide="ignore"):
        return l1 * l1 / (G.shape[-1] * l2sq)


@takes_problem
def linf_smoothness(problem) -> float:
    """U_∞ ≥ max_{s∈{±1}^P} sᵀHs (theory_notes §1): read from ``problem.linf_smoothness``
    (P·L_P for block-diagonal H, min(Σ|H_ij|, P·L) otherwise)."""
    return float(problem.linf_smoothness)


@takes_problem
def linf_strong_convexity(problem) -> float:
    """μ_∞ = 1 / max_i (H⁻¹)_ii (theory_notes §1, §2C): read from ``problem.linf_strong_convexity``.
    f(x) = ½gᵀH⁻¹g ≤ ‖g‖₁² / (2 μ_∞), with equality at the vertex the proof names: g ∝ e_i for
    i = argmax_i (H⁻¹)_ii, i.e. x − x* = t·H⁻¹e_i."""
    return float(problem.linf_strong_convexity)


@takes_problem
def condition_numbers(problem) -> dict:
    """Global κ = L/μ and per-block κ_b = λ_max(H_bb)/λ_min(H_bb), from the problem."""
    return {"global": float(problem.condition_number),
            "blocks": np.asarray(problem.block_condition_numbers, dtype=np.float64).copy()}


@takes_problem
def decrease_ratio_sign_vs_gd(problem, X) -> np.ndarray:
    """Ratio of the guaranteed one-step decreases of sign descent (theory_notes.md §2C) and gradient-weighted GD (§2B)
    at x (theory_notes §2D):

        [‖g‖₁² / (2 U_∞)] / [‖g‖² / (2 L_G(x))] = ψ(g) · P · L_G(x) / U_∞,

    which equals ψ(g)·L_G(x)/L_P for block-diagonal H (where U_∞ = P·L_P).  > 1 means the sign method
    is guaranteed more progress.  A prediction about Tomihari & Sato's mechanism, not their theorem
    (their Thm 4.7 constants are [NF]).
    """
    G = _grad(problem, X)
    psi = gradient_density(G)
    return psi * problem.dim * gradient_weighted_smoothness(problem, X) / linf_smoothness(problem)


# ------------------------------------------------------------------------------------------------
# Adam with beta1 = 0, beta2 = 1 (Zhang et al. 2024, thesis Thm 3.2; theory_notes §2E)
@takes_problem
def adam_preconditioned_eigvals(problem, x0=None, eps: float = 0.0) -> np.ndarray:
    """Eigenvalues (ascending) of H̃ = D^{-1/2} H D^{-1/2}, D = diag(|g₀| + ε), g₀ = ∇f(x₀)
    (theory_notes §2E).  Adam with β1 = 0, β2 = 1 and v₀ = g₀∘g₀ is GD preconditioned by D⁻¹, i.e. GD on
    H̃ in the coordinates y = D^{1/2}x (Zhang et al. 2024; their constant r is [D]/[NF]).

    ``x0``: ``(d,)`` or ``(..., d)`` (default ``problem.x0``); returns ``(d,)`` or ``(..., d)``.
    Raises ``ValueError`` when a diagonal entry of D is 0 (g₀ has a zero coordinate and ε = 0).
    """
    eps = check_nonneg_scalar(eps, "eps")
    X0 = problem.x0 if x0 is None else _points(problem, x0, "x0")
    G0 = _grad(problem, X0)
    Dd = np.abs(G0) + eps
    if np.any(Dd <= 0):
        raise ValueError("x0: the initial gradient has a zero coordinate and eps = 0, so "
                         "D = diag(|g0| + eps) is singular; pass eps > 0")
    r = 1.0 / np.sqrt(Dd)
    if problem.kind == "diagonal":
        return np.sort(problem.diag * r * r, axis=-1)
    if problem.kind == "block":
        parts = []
        for sl, Hb in zip(problem.blocks, problem.block_matrices):
            rb = r[..., sl]
            parts.append(np.linalg.eigvalsh(rb[..., :, None] * Hb * rb[..., None, :]))
        return np.sort(np.concatenate(parts, axis=-1), axis=-1)
    H = problem.hessian()
    return np.linalg.eigvalsh(r[..., :, None] * H * r[..., None, :])


@takes_problem
def adam_preconditioned_condition_number(problem, x0=None, eps: float = 0.0) -> np.ndarray:
    """κ̃ = κ(D^{-1/2} H D^{-1/2}), D = diag(|g₀| + ε) (theory_notes §2E; Zhang et al. 2024).

    GD on H̃ — hence Adam(β1=0, β2=1, v₀ = g₀²) — contracts f by ρ̃(η)² per step with
    ρ̃(η) = max_i |1 − ηλ_i(H̃)|, optimal (κ̃−1)/(κ̃+1).  Zhang et al.'s claim that the rate is governed by
    max_l κ_l rather than κ becomes the measurable statement κ̃ ≪ κ on block-heterogeneous problems.
    Scalar for one x₀, array of the batch shape otherwise.
    """
    ev = adam_preconditioned_eigvals(problem, x0, eps)
    k = ev[..., -1] / ev[..., 0]
    return float(k) if np.ndim(k) == 0 else k


# ------------------------------------------------------------------------------------------------
# block-spectrum Jensen–Shannon distance (Zhang et al. 2024 mechanism; estimator [NF], fixed here)
def _spectra_arg(spectra):
    if hasattr(spectra, "block_eigvals"):
        spectra = spectra.block_eigvals
    if isinstance(spectra, np.ndarray) and spectra.ndim == 1:
        raise TypeError("spectra: expected a problem or a sequence of per-block eigenvalue arrays, "
                        "got one 1-d array")
    out = [as_float_array(s, f"spectra[{i}]", ndim=1, positive=True) for i, s in enumerate(spectra)]
    if len(out) == 0:
        raise ValueError("spectra: expected at least one block")
    return out


def block_spectral_densities(spectra, bandwidth: float = JS_BANDWIDTH,
                             grid_points: int = JS_GRID_POINTS):
    """The densities used by :func:`block_spectrum_js`: returns ``(grid, dens)`` with ``grid`` the
    common grid in t = ln λ and ``dens`` of shape ``(n_blocks, grid_points)``, each row a probability
    vector (sums to 1): the average over the block's eigenvalues of a Gaussian bump centred at ln λ_j
    with standard deviation ``bandwidth``·(ln λ_max − ln λ_min) (global extremes over all blocks; 1 if
    every eigenvalue is equal), evaluated on a grid spanning the log-eigenvalues ± 6 bandwidths."""
    spectra = _spectra_arg(spectra)
    frac = check_positive_scalar(bandwidth, "bandwidth")
    n = check_int(grid_points, "grid_points", minimum=16)
    logs = [np.log(np.sort(s)) for s in spectra]   # a spectrum is a multiset: order-free
    lo = min(l.min() for l in logs)
    hi = max(l.max() for l in logs)
    h = frac * (hi - lo) if hi > lo else 1.0
    grid = np.linspace(lo - 6.0 * h, hi + 6.0 * h, n)
    dens = np.empty((len(logs), n))
    for b, l in enumerate(logs):
        z = (grid[:, None] - l[None, :]) / h
        p = np.exp(-0.5 * z * z).mean(axis=1)
        dens[b] = p / p.sum()
    return grid, dens


def _js_distance(p, q):
    """sqrt(½ KL(p‖m) + ½ KL(q‖m)), m = (p+q)/2, natural log; p/m written 2p/(p+q) so that tiny
    (subnormal) masses cannot underflow m to 0."""
    s = p + q
    with np.errstate(divide="ignore", invalid="ignore"):
        kp = np.where(p > 0, p * np.log(2.0 * p / s), 0.0).sum()
        kq = np.where(q > 0, q * np.log(2.0 * q / s), 0.0).sum()
    return math.sqrt(max(0.5 * (kp + kq), 0.0))


def block_spectrum_js(spectra, bandwidth: float = JS_BANDWIDTH,
                      grid_points: int = JS_GRID_POINTS) -> float:
    """Block-spectrum heterogeneity: the Jensen–Shannon distance between the spectral densities of the
    Hessian's diagonal blocks, averaged over all pairs of blocks (Zhang et al. 2024, their "JS⁰";
    theory_notes §1).  The paper's exact estimator (log base, square root, histogram vs kernel,
    bandwidth) is [NF]; simopt's estimator is fixed as follows:

    1. the exact eigenvalues of each diagonal block H_bb (``problem.block_eigvals``; or pass a
       sequence of positive eigenvalue arrays);
    2. each block's density is a Gaussian kernel estimate in t = ln λ on one common grid of
       ``JS_GRID_POINTS`` = 2048 equally spaced points covering every block's log-eigenvalues ± 6
       bandwidths, normalised to a probability vector.  The bandwidth is ``JS_BANDWIDTH`` = 0.15 times
       the global log-spread ln(λ_max/λ_min) over all blocks: wide enough that a block's few discrete
       eigenvalues form a smooth density (a bandwidth far below the eigenvalue spacing makes "combs"
       whose overlap jumps erratically as spectra shift), and relative, so the value depends only on
       the relative arrangement of the block spectra;
    3. JS distance with natural logarithms: JS(p, q) = sqrt(½ KL(p‖m) + ½ KL(q‖m)), m = (p+q)/2,
       so 0 ≤ JS ≤ sqrt(ln 2) ≈ 0.8326;
    4. the mean over the B(B−1)/2 pairs.

    Invariant to rescaling H (or raising it to a power).  Exactly 0 when all blocks have identical
    spectra; grows as the blocks' spectra separate (e.g. along ``heterogeneous_blocks``'
    heterogeneity).  A problem with one block has no pairs: 0.0.
    """
    _, dens = block_spectral_densities(spectra, bandwidth, grid_points)
    B = dens.shape[0]
    if B < 2:
        return 0.0
    vals = [_js_distance(dens[i], dens[j]) for i, j in itertools.combinations(range(B), 2)]
    return float(np.mean(vals))


# ------------------------------------------------------------------------------------------------
# ℓ∞ geometry (Xie, Mohamadi & Li 2025) and block coupling
def _partition(problem, blocks):
    """Block boundaries [0, s_1, ..., d]: the problem's partition, or ``blocks`` (sizes summing to d)."""
    if blocks is None:
        return [int(b) for b in problem.block_starts]
    from ..rotations import _check_sizes
    sizes = _check_sizes(blocks, "blocks")
    if sum(sizes) != problem.dim:
        raise ValueError(f"blocks: expected block sizes summing to the dimension {problem.dim}, got "
                         f"sizes summing to {sum(sizes)}")
    return [0] + [int(v) for v in np.cumsum(sizes)]


def _diag_blocks(problem, bounds):
    """The diagonal blocks H_bb of the partition ``bounds`` (exact, from the problem's structure)."""
    if problem.kind == "diagonal":
        d = problem.diag
        return [np.diag(d[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]
    if problem.kind == "block" and bounds == [int(b) for b in problem.block_starts]:
        return list(problem.block_matrices)
    H = problem.hessian()
    return [H[a:b, a:b] for a, b in zip(bounds[:-1], bounds[1:])]


@takes_problem
def hessian_l11(problem) -> float:
    """‖H‖_{1,1} = Σ_ij |H_ij|: the ℓ∞-smoothness constant of a quadratic in Xie, Mohamadi & Li
    (2025), whose Adam(β1 = 0) rate is governed by it (|sᵀHt| <= ‖H‖_{1,1} ‖s‖∞ ‖t‖∞).
    tr H <= ‖H‖_{1,1} <= min(d ‖H‖_F, d^{3/2} λ_max) (Cauchy–Schwarz), with tr H exactly when H is
    diagonal: the axis-aligned eigenbasis is the smallest value over all rotations.  Not rotation
    invariant -- the geometry Adam sees and SGD does not."""
    if problem.kind == "diagonal":
        return float(np.abs(problem.diag).sum())
    if problem.kind == "block":
        return float(sum(np.abs(h).sum() for h in problem.block_matrices))
    return float(np.abs(problem.hessian()).sum())


@takes_problem
def hessian_block_l11(problem, blocks=None) -> float:
    """Σ_b ‖H_bb‖_{1,1}: the (1,1)-norm of the block-diagonal part of H (partition ``blocks``, default
    the problem's).  Equals :func:`hessian_l11` when H is block-diagonal in the partition."""
    bounds = _partition(problem, blocks)
    return float(sum(np.abs(h).sum() for h in _diag_blocks(problem, bounds)))


@takes_problem
def blockwise_smoothness(problem, blocks=None) -> float:
    """Σ_{b,b'} sqrt(d_b d_b') ‖H_{bb'}‖₂ over the partition ``blocks`` (default the problem's;
    ‖·‖₂ = spectral norm of the block H_{bb'}): the blockwise ℓ∞-smoothness constant that Xie,
    Mohamadi & Li (2025) give for blockwise Adam (one second moment per block, v_b from
    ‖g_b‖²/d_b, as :func:`simopt.optim.blockwise_adam`), for a quadratic, in the norm
    ‖x‖_Φ = max_b ‖x_b‖₂/sqrt(d_b) (the exact equation number is [NF] here: the definition is
    as recalled from their blockwise section, not re-read).  Two ends of the family:

    - blocks of size 1 (Adam): Σ_ij |H_ij| = :func:`hessian_l11`;
    - one block (AdaSGD, one adaptive scalar): d·λ_max(H), rotation invariant.

    Invariant under block-diagonal rotations diag(R_1, …, R_B) of the same partition (each block
    H_{bb'} → R_b H_{bb'} R_{b'}ᵀ keeps its spectral norm): blockwise Adam's geometry, which
    within-block rotations leave unchanged."""
    bounds = _partition(problem, blocks)
    sizes = np.diff(bounds).astype(np.float64)
    if np.all(sizes == 1):
        return hessian_l11(problem)
    if problem.kind == "diagonal":
        d = problem.diag
        return float(sum(sizes[b] * np.abs(d[a:e]).max()
                         for b, (a, e) in enumerate(zip(bounds[:-1], bounds[1:]))))
    if problem.kind == "block" and bounds == [int(b) for b in problem.block_starts]:
        return float(np.dot(sizes, problem.block_L))
    H = problem.hessian()
    total = 0.0
    with np.errstate(all="ignore"):
        for i, (a, b) in enumerate(zip(bounds[:-1], bounds[1:])):
            for j, (c, e) in enumerate(zip(bounds[:-1], bounds[1:])):
                blk = H[a:b, c:e]
                nrm = float(np.abs(blk).max()) if blk.size == 1 else float(np.linalg.norm(blk, 2))
                total += math.sqrt(sizes[i] * sizes[j]) * nrm
    return float(total)


@takes_problem
def block_coupling(problem, blocks=None) -> float:
    """Block coupling strength c = ‖H − blockdiag(H)‖_F / ‖H‖_F ∈ [0, 1) over the partition
    ``blocks`` (default the problem's): the share (in Frobenius norm) of the Hessian outside its
    diagonal blocks.  0 exactly for a block-diagonal H; invariant under block-diagonal rotations of
    the same partition (they keep every block's Frobenius norm).  simopt's definition, after the off-diagonal / diagonal block
    magnitude ratio of Dong et al. (2025, arXiv 2505.02809; their exact normalisation is [NF]):
    c² = r²/(1 + r²) with r = ‖off-diagonal blocks‖_F / ‖diagonal blocks‖_F."""
    bounds = _partition(problem, blocks)
    if problem.kind == "diagonal" or (problem.kind == "block"
                                      and bounds == [int(b) for b in problem.block_starts]):
        return 0.0
    H = problem.hessian()
    tot = float(np.sum(H * H))
    diag = sum(float(np.sum(h * h)) for h in _diag_blocks(problem, bounds))
    return float(math.sqrt(max(tot - diag, 0.0) / tot))


# ------------------------------------------------------------------------------------------------
@takes_problem
def trajectory_metrics(problem, X) -> dict:
    """All point-dependent theory_notes.md §1 metrics along recorded iterates ``X`` of shape ``(..., d)`` (e.g. the
    ``records["x"]`` of ``simopt.run(..., record=("x",))``, shape ``(runs, n_rec, d)``).

    Returns a dict of arrays of the batch shape: ``loss``, ``grad_norm``, ``grad_l1``,
    ``block_grad_norms`` (batch + (n_blocks,)), ``grad_heterogeneity`` (h_G), ``grad_norm_cv``,
    ``L_G``, ``grad_density`` (ψ), ``decrease_ratio_sign_vs_gd`` (§2D), and, when ``X`` has a step axis
    (ndim ≥ 2), ``update_sharpness`` of shape batch[:-1] + (n_rec − 1,).  This is the "record any metric
    along a trajectory" path: the engine records iterates, the metrics are exact functions of them.
    """
    X = _points(problem, X)
    E = X - problem.xstar
    G = hess_apply(problem, E)
    sq = _block_sq_norms(problem, G)
    tot = sq.sum(axis=-1)
    l1 = np.abs(G).sum(axis=-1)
    bl = np.asarray(problem.block_L, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        Bn = np.sqrt(sq)
        LG = sq @ bl / tot
        psi = l1 * l1 / (problem.dim * tot)
        out = {
            "loss": 0.5 * np.einsum("...i,...i->...", E, G),
            "grad_norm": np.sqrt(tot),
            "grad_l1": l1,
            "block_grad_norms": Bn,
            "grad_heterogeneity": Bn.max(axis=-1) / Bn.min(axis=-1),
            "grad_norm_cv": Bn.std(axis=-1) / Bn.mean(axis=-1),
            "L_G": LG,
            "grad_density": psi,
            "decrease_ratio_sign_vs_gd": psi * problem.dim * LG / linf_smoothness(problem),
        }
    if X.ndim >= 2 and X.shape[-2] >= 2:
        out["update_sharpness"] = update_sharpness(problem, X)
    return out


@takes_problem
def along(problem, optimizer, steps, runs: int = 1, seed: int = 0, record_every: int = 1, x0=None):
    """Run ``simopt.run`` recording the iterates and return every theory_notes.md §1 metric along the trajectories:
    the dict of :func:`trajectory_metrics` on ``records["x"]`` (arrays of shape ``(runs, n_rec)``, or
    ``(runs, n_rec, n_blocks)`` for ``block_grad_norms``) plus ``steps`` (the recorded step indices)
    and ``sharpness``, the engine's own directional sharpness of the update taken at each record
    (Pan & Li 2023; NaN at the last record).  ``update_sharpness`` is the sharpness of the displacement
    between consecutive records — the update itself when ``record_every == 1``.
    """
    import simopt
    res = simopt.run(problem, optimizer, steps, runs=runs, seed=seed, record_every=record_every,
                     record=("x", "sharpness"), x0=x0)
    out = trajectory_metrics(problem, res.records["x"])
    out["steps"] = res.steps
    out["sharpness"] = res.records["sharpness"]
    return out
