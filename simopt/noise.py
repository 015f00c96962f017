"""Gradient-noise models: the stochastic gradient is ``g~ = grad f(x) + xi``.

Every model here is *additive and state-independent*: ``xi = A z`` where ``z`` is a vector of
i.i.d. standard draws (Gaussian or Student-t) and ``A`` is either a per-coordinate scale vector or
a matrix.  That is exactly the constant-covariance setting of the noisy quadratic model
(Zhang et al. 2019, "Which algorithmic choices matter at which batch sizes?", NQM; seed_math.md §5)
and of the exact SGD moments in theory_notes.md §3F, so ``covariance(problem)`` is exact and the
theory module can compare the engine's Monte Carlo mean against closed forms.

The engine draws ``z`` from one NumPy ``Generator`` per run (``draw``) and applies ``A``
itself (``factor``), so that drawing — most of the cost of a noisy run — happens in bulk.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ._blas import one_thread
from ._validate import as_float_array, check_positive_scalar, check_scale

__all__ = ["Noise", "gaussian", "correlated_gaussian", "hessian_aligned", "student_t"]


@dataclass(frozen=True, eq=False)
class Noise:
    """Base class.  Subclasses define the base distribution and the factor ``A``."""

    #: "normal" or "t": the distribution of the i.i.d. base draws ``z``
    distribution: str = "normal"

    def draw(self, rng: np.random.Generator, out: np.ndarray) -> None:
        """Fill ``out`` with i.i.d. base draws ``z`` (standard normal or standard Student-t)."""
        if self.distribution == "normal":
            rng.standard_normal(out=out)
        else:  # pragma: no cover - overridden
            raise NotImplementedError

    def factor(self, problem) -> tuple[str, np.ndarray]:
        """How ``xi`` is made from ``z``: ``("scale", s)`` with ``xi = s * z``; ``("matrix", A)`` with
        ``xi = A @ z``; ``("blocks", (A_1, ..., A_B))`` with ``xi_b = A_b @ z_b`` per block; or, on a
        matrix problem, ``("kron", (S_A, S_B))`` with ``xi = vec(S_A Z S_B)`` for ``z = vec(Z)``
        (row-major), i.e. ``xi = (S_A ⊗ S_Bᵀ) z``."""
        raise NotImplementedError

    def describe(self) -> dict:
        """JSON-able description; ``simopt.noise.<name>(**rest)`` rebuilds the model."""
        out = {"name": getattr(self, "_name", type(self).__name__)}
        for k, v in self.__dict__.items():
            if k != "distribution":
                out[k] = v.tolist() if isinstance(v, np.ndarray) else v
        return out

    def base_variance(self) -> float:
        """Variance of one base draw ``z_i`` (1 for the normal; df/(df-2) for Student-t)."""
        return 1.0

    def covariance(self, problem) -> np.ndarray:
        """Exact covariance ``Cov[xi] = Var(z_i) * A A^T`` as a dense (d, d) array."""
        kind, a = self.factor(problem)
        v = self.base_variance()
        if kind == "scale":
            return np.diag(v * a * a)
        if kind == "blocks":
            from scipy.linalg import block_diag
            a = block_diag(*a)
        with one_thread():
            if kind == "kron":      # Cov vec(S_A Z S_B) = (S_A S_Aᵀ) ⊗ (S_Bᵀ S_B)
                sa, sb = a
                return v * np.kron(sa @ sa.T, sb.T @ sb)
            return v * (a @ a.T)


@dataclass(frozen=True, eq=False)
class _Gaussian(Noise):
    _name = "gaussian"
    scale: float | np.ndarray = 1.0

    def factor(self, problem):
        s = np.asarray(self.scale, dtype=np.float64)
        if s.ndim == 0:
            return "scale", np.full(problem.dim, float(s))
        if s.shape != (problem.dim,):
            raise ValueError(
                f"noise scale: expected a scalar or a vector of length {problem.dim} "
                f"(the problem's dimension), got shape {s.shape}")
        return "scale", s.copy()

    def __repr__(self):
        s = np.asarray(self.scale)
        return f"gaussian(scale={float(s) if s.ndim == 0 else 'vector[%d]' % s.size})"


@dataclass(frozen=True, eq=False)
class _HessianAligned(Noise):
    _name = "hessian_aligned"
    scale: float = 1.0

    def factor(self, problem):
        # Any A with A A^T = H works; the problem provides its symmetric square root factor.
        return problem.noise_factor_sqrt_hessian(self.scale)

    def __repr__(self):
        return f"hessian_aligned(scale={self.scale})"


@dataclass(frozen=True, eq=False)
class _StudentT(Noise):
    _name = "student_t"
    scale: float | np.ndarray = 1.0
    df: float = 3.0

    def draw(self, rng, out):
        out[...] = rng.standard_t(self.df, size=out.shape)

    def factor(self, problem):
        return _Gaussian.factor(self, problem)

    def base_variance(self):
        return self.df / (self.df - 2.0) if self.df > 2.0 else math.inf

    def __repr__(self):
        s = np.asarray(self.scale)
        return (f"student_t(scale={float(s) if s.ndim == 0 else 'vector[%d]' % s.size}, "
                f"df={self.df})")


def gaussian(scale=1.0) -> Noise:
    """Isotropic or per-coordinate Gaussian noise: ``xi ~ N(0, diag(scale**2))``.

    ``scale`` is a standard deviation: a positive scalar, or a vector of length ``dim`` (checked when
    the noise meets a problem).  Balles & Hennig (2018) use this model on their stochastic quadratics
    (seed_math.md §4, Fig. 2).
    """
    return _Gaussian(distribution="normal", scale=check_scale(scale, "scale"))


@dataclass(frozen=True, eq=False)
class _CorrelatedGaussian(Noise):
    _name = "correlated_gaussian"
    cov: np.ndarray = None

    def factor(self, problem):
        if self.cov.shape != (problem.dim, problem.dim):
            raise ValueError(f"cov: expected a ({problem.dim}, {problem.dim}) matrix (the problem's "
                             f"dimension), got shape {self.cov.shape}")
        with one_thread():  # eigh's rounding depends on the BLAS thread count (simopt._blas)
            lam, Q = np.linalg.eigh(self.cov)
        return "matrix", Q * np.sqrt(np.maximum(lam, 0.0))

    def __repr__(self):
        return f"correlated_gaussian(cov=matrix[{self.cov.shape[0]}x{self.cov.shape[1]}])"


def correlated_gaussian(cov) -> Noise:
    """Gaussian noise with any constant covariance ``cov`` (symmetric positive semi-definite, (d, d)):
    ``xi = A z`` with ``A = Q diag(sqrt(lambda)) `` from ``cov = Q diag(lambda) Q^T``.

    Not aligned with H in general: the case where the exact SGD moments of theory_notes.md §3F still
    hold (only the diagonal of ``Q_H^T C Q_H`` enters) but no per-coordinate model applies."""
    c = as_float_array(cov, "cov", ndim=2)
    if c.shape[0] != c.shape[1]:
        raise ValueError(f"cov: expected a square matrix, got shape {c.shape}")
    if not np.allclose(c, c.T, rtol=1e-10, atol=1e-12 * np.abs(c).max()):
        raise ValueError("cov: expected a symmetric matrix")
    with one_thread():
        lam_min = np.linalg.eigvalsh(c)[0]
    if lam_min < -1e-10 * max(1.0, np.abs(c).max()):
        raise ValueError(f"cov: expected a positive semi-definite matrix, smallest eigenvalue {lam_min:.3g}")
    c = (c + c.T) / 2
    c.setflags(write=False)
    return _CorrelatedGaussian(distribution="normal", cov=c)


def hessian_aligned(scale=1.0) -> Noise:
    """Noise with covariance ``scale**2 * H`` (the noisy quadratic model, NQM).

    In the NQM (Zhang et al. 2019; seed_math.md §5) the per-example gradient covariance equals H, so a
    batch of size B gives ``Cov = H / B``: use ``scale = 1 / sqrt(B)``.  Drawn as ``xi = scale * H^{1/2} z``.
    """
    return _HessianAligned(distribution="normal", scale=check_positive_scalar(scale, "scale"))


def student_t(scale=1.0, df=3.0) -> Noise:
    """Heavy-tailed noise: ``xi_i = scale_i * t_df`` with i.i.d. standard Student-t draws.

    ``Var(xi_i) = scale_i**2 * df / (df - 2)`` for ``df > 2`` (infinite for ``df <= 2``, allowed: that
    is the heavy-tail regime of interest).  ``df`` must be positive.
    """
    df = check_positive_scalar(df, "df")
    return _StudentT(distribution="t", scale=check_scale(scale, "scale"), df=df)
