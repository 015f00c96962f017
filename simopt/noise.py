"""Gradient-noise models: how the engine makes a stochastic gradient from the true one.

Two families, both with a ``batch_size`` knob (``simopt.run(samples=...)`` turns a sample budget into
``samples // (batch_size * draws)`` steps through it):

- *additive, state-independent* (``gaussian``, ``correlated_gaussian``, ``hessian_aligned``,
  ``student_t``): ``g~ = grad f(x) + xi`` with ``xi = A z / sqrt(B)``, ``z`` i.i.d. standard draws
  (Gaussian or Student-t) and ``A`` a per-coordinate scale vector or a matrix.  That is the
  constant-covariance setting of the noisy quadratic model (Zhang et al. 2019, "Which algorithmic choices
  matter at which batch sizes?"; seed_math.md §5: per-example covariance C, a batch of B gives C / B) and
  of the exact SGD moments of theory_notes.md §3F, so ``covariance(problem)`` is exact.  The engine draws
  ``z`` per run from its own stream and applies ``A`` itself (``factor``).
- *sampled data, state-dependent* (``sampled_gaussian``, ``sampled_coordinates``, ``dataset``): the
  problem is a least-squares loss ``f(w) = 1/2 E (a.w - y)^2`` and ``g~`` is the mean over a minibatch of
  B samples of the per-sample gradients ``a (a.e - r)`` at the error ``e = x - x*`` (``r = y - a.x*``,
  the residual of the sample at the minimiser), drawn per step: features ``a ~ N(0, H)`` streamed,
  one-hot features with frequencies ``diag(H) / tr(H)`` (the linear bigram model of Kunstner & Bach
  2025, arXiv 2505.19227), or the rows of a finite dataset.  ``E g~ = H e`` (unbiased) but the noise
  covariance depends on ``x``: ``covariance(problem, x)`` gives it exactly, and ``sample_gradient`` is
  the NumPy reference of the compiled sampler (the same draws from the same ``simopt.streams.Stream``).
  ``simopt.theory.sgd_expected_loss_sampled`` gives SGD's exact expected loss under them.

The true gradient ``H e`` is what a run records, whatever the noise.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ._blas import one_thread
from ._validate import (as_float_array, check_int, check_nonneg_scalar, check_positive_scalar, check_problem,
                        check_scale, check_size)

__all__ = ["Noise", "gaussian", "correlated_gaussian", "hessian_aligned", "student_t", "sampled_gaussian",
           "sampled_coordinates", "dataset"]


def _check_batch_size(batch_size) -> int:
    return check_int(batch_size, "batch_size", minimum=1)


@dataclass(frozen=True, eq=False)
class Noise:
    """Base class.  Subclasses define the base distribution and the factor ``A`` (additive models) or
    the sampler (sampled-data models)."""

    #: "normal" or "t": the distribution of the i.i.d. base draws ``z``
    distribution: str = "normal"
    #: samples one stochastic gradient averages (additive models: the covariance is divided by it)
    batch_size: int = 1

    #: True for sampled-data models, whose covariance depends on the iterate
    state_dependent: ClassVar[bool] = False

    def draw(self, rng: np.random.Generator, out: np.ndarray) -> None:
        """Fill ``out`` with i.i.d. base draws ``z`` (standard normal or standard Student-t)."""
        if self.distribution == "normal":
            rng.standard_normal(out=out)
        else:  # pragma: no cover - overridden
            raise NotImplementedError

    def factor(self, problem) -> tuple[str, object]:
        """How the engine makes the noise: additive models give ``("scale", s)`` with ``xi = s * z``,
        ``("matrix", A)`` with ``xi = A @ z``, ``("blocks", (A_1, ..., A_B))`` with ``xi_b = A_b @ z_b``
        per block or, on a matrix problem, ``("kron", (S_A, S_B))`` with ``xi = vec(S_A Z S_B)`` for
        ``z = vec(Z)`` (row-major), i.e. ``xi = (S_A ⊗ S_Bᵀ) z`` (the batch size already applied);
        sampled-data models give their sampler (``"sampled_gaussian"``, ``"coordinates"`` or
        ``"dataset"``, see ``simopt._kernels.tiles``)."""
        raise NotImplementedError

    def describe(self) -> dict:
        """JSON-able description; ``simopt.noise.<name>(**rest)`` rebuilds the model (``batch_size`` is
        listed when it is not 1)."""
        out = {"name": getattr(self, "_name", type(self).__name__)}
        for k, v in self.__dict__.items():
            if k == "distribution" or (k == "batch_size" and v == 1 and not self.state_dependent):
                continue
            out[k] = v.tolist() if isinstance(v, np.ndarray) else v
        return out

    def base_variance(self) -> float:
        """Variance of one base draw ``z_i`` (1 for the normal; df/(df-2) for Student-t)."""
        return 1.0

    def covariance(self, problem, x=None) -> np.ndarray:
        """Exact covariance ``Cov[xi] = Var(z_i) * A A^T / B`` as a dense (d, d) array (``A`` the model's
        factor for batch size 1).  Additive noise does not depend on the iterate, so ``x`` is ignored."""
        kind, a = self.factor(check_problem(problem))
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

    def _per_batch(self) -> float:
        """The factor's scaling ``1 / sqrt(B)`` for an additive model (covariance / B)."""
        return 1.0 / math.sqrt(self.batch_size)

    def _batch_repr(self) -> str:
        return "" if self.batch_size == 1 else f", batch_size={self.batch_size}"


@dataclass(frozen=True, eq=False)
class _Gaussian(Noise):
    _name = "gaussian"
    scale: float | np.ndarray = 1.0

    def factor(self, problem):
        s = np.asarray(self.scale, dtype=np.float64)
        if s.ndim == 0:
            return "scale", np.full(problem.dim, float(s) * self._per_batch())
        if s.shape != (problem.dim,):
            raise ValueError(
                f"noise scale: expected a scalar or a vector of length {problem.dim} "
                f"(the problem's dimension), got shape {s.shape}")
        return "scale", s * self._per_batch()

    def __repr__(self):
        s = np.asarray(self.scale)
        return f"gaussian(scale={float(s) if s.ndim == 0 else 'vector[%d]' % s.size}{self._batch_repr()})"


@dataclass(frozen=True, eq=False)
class _HessianAligned(Noise):
    _name = "hessian_aligned"
    scale: float = 1.0

    def factor(self, problem):
        # Any A with A A^T = H works; the problem provides its symmetric square root factor.
        return problem.noise_factor_sqrt_hessian(self.scale * self._per_batch())

    def __repr__(self):
        return f"hessian_aligned(scale={self.scale}{self._batch_repr()})"


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
                f"df={self.df}{self._batch_repr()})")


def gaussian(scale=1.0, batch_size=1) -> Noise:
    """Isotropic or per-coordinate Gaussian noise: ``xi ~ N(0, diag(scale**2) / batch_size)``.

    ``scale`` is the standard deviation of one sample's noise: a positive scalar, or a vector of length
    ``dim`` (checked when the noise meets a problem); ``batch_size`` (int >= 1) averages that many
    independent samples, dividing the covariance by it (the NQM's batch, seed_math.md §5).  Balles &
    Hennig (2018) use this model on their stochastic quadratics (seed_math.md §4, Fig. 2).
    """
    return _Gaussian(distribution="normal", scale=check_scale(scale, "scale"),
                     batch_size=_check_batch_size(batch_size))


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
        return "matrix", Q * (np.sqrt(np.maximum(lam, 0.0)) * self._per_batch())

    def __repr__(self):
        return (f"correlated_gaussian(cov=matrix[{self.cov.shape[0]}x{self.cov.shape[1]}]"
                f"{self._batch_repr()})")


def correlated_gaussian(cov, batch_size=1) -> Noise:
    """Gaussian noise with any constant covariance ``cov / batch_size`` (``cov`` symmetric positive
    semi-definite, (d, d), one sample's covariance): ``xi = A z / sqrt(batch_size)`` with
    ``A = Q diag(sqrt(lambda))`` from ``cov = Q diag(lambda) Q^T``.

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
    return _CorrelatedGaussian(distribution="normal", cov=c, batch_size=_check_batch_size(batch_size))


def hessian_aligned(scale=1.0, batch_size=1) -> Noise:
    """Noise with covariance ``scale**2 * H / batch_size`` (the noisy quadratic model, NQM).

    In the NQM (Zhang et al. 2019; seed_math.md §5) the per-example gradient covariance equals H, so a
    batch of size B gives ``Cov = H / B``: ``hessian_aligned(batch_size=B)`` (the same as ``scale =
    1 / sqrt(B)``, but the batch also counts samples for ``simopt.run(samples=...)``).  Drawn as
    ``xi = scale * H^{1/2} z / sqrt(B)``.
    """
    return _HessianAligned(distribution="normal", scale=check_positive_scalar(scale, "scale"),
                           batch_size=_check_batch_size(batch_size))


def student_t(scale=1.0, df=3.0, batch_size=1) -> Noise:
    """Heavy-tailed noise: ``xi_i = scale_i * t_df / sqrt(batch_size)`` with i.i.d. standard Student-t
    draws.

    ``Var(xi_i) = scale_i**2 * df / ((df - 2) * batch_size)`` for ``df > 2`` (infinite for ``df <= 2``,
    allowed: that is the heavy-tail regime of interest).  ``df`` must be positive.  ``batch_size``
    divides the covariance as in the NQM (seed_math.md §5); the draw stays one Student-t vector (the
    mean of B Student-t samples is not Student-t), so it is the covariance, not the tail, that scales.
    """
    df = check_positive_scalar(df, "df")
    return _StudentT(distribution="t", scale=check_scale(scale, "scale"), df=df,
                     batch_size=_check_batch_size(batch_size))


# ------------------------------------------------------------------------------------ sampled data
@dataclass(frozen=True, eq=False)
class _Sampled(Noise):
    """Minibatch least-squares gradients ``(1/B) sum_b a_b (a_b.e - r_b)``, drawn per step."""

    state_dependent: ClassVar[bool] = True

    def base_variance(self):
        raise TypeError(f"noise: {self!r} is sampled-data noise, not an additive draw with a base "
                        f"variance; its covariance depends on the iterate: covariance(problem, x)")

    def _error(self, problem, x) -> np.ndarray:
        if x is None:
            raise TypeError(f"x: the covariance of sampled-data noise ({self!r}) depends on the "
                            f"iterate; pass the point x, shape ({problem.dim},)")
        return as_float_array(x, "x", shape=(problem.dim,)) - problem.xstar

    def covariance(self, problem, x=None) -> np.ndarray:
        """Exact ``Cov[g~ | x]`` of the minibatch gradient at the point ``x`` (shape (d,)), a dense (d, d)
        array; see the model's constructor for the formula."""
        e = self._error(check_problem(problem), x)
        with one_thread():
            return self._covariance_at(problem, e)

    def sample_gradient(self, problem, x, stream) -> np.ndarray:
        """One minibatch gradient at the point ``x`` drawn from ``stream`` (a ``simopt.streams.Stream``)
        in the engine's order (``simopt._kernels.tiles.sampled_gradient``): the NumPy reference of the
        compiled sampler, which gives the same gradients from the same stream up to rounding."""
        from .streams import Stream
        check_problem(problem)
        if not isinstance(stream, Stream):
            raise TypeError(f"stream: expected a simopt.streams.Stream, got {type(stream).__name__}")
        e = as_float_array(x, "x", shape=(problem.dim,)) - problem.xstar
        with one_thread():
            return self._sample_at(self.factor(problem)[1], e, stream)


@dataclass(frozen=True, eq=False)
class _SampledGaussian(_Sampled):
    _name = "sampled_gaussian"
    label_noise: float = 0.0

    def factor(self, problem):
        kind, F = problem.noise_factor_sqrt_hessian(1.0)
        if kind == "blocks":
            from scipy.linalg import block_diag
            kind, F = "matrix", np.ascontiguousarray(block_diag(*F))
        elif kind not in ("scale", "matrix"):
            raise ValueError(f"noise: sampled_gaussian needs a diagonal, block or dense problem "
                             f"(features F z with F F^T = H), got a {problem.kind!r} problem")
        check_size(self.batch_size * problem.dim, "batch_size",
                   f"a minibatch of {self.batch_size} features of dimension {problem.dim}")
        return "sampled_gaussian", (kind, F, self.batch_size, float(self.label_noise))

    def _covariance_at(self, problem, e):
        H = problem.hessian()
        g = H @ e
        s2 = self.label_noise ** 2
        return (np.outer(g, g) + (float(e @ g) + s2) * H) / self.batch_size

    def _sample_at(self, fac, e, stream):
        fkind, F, B, sigma = fac
        Z = stream.normals((B, e.size))
        A = Z * F if fkind == "scale" else Z @ F.T
        eps = stream.normals(B) if sigma > 0.0 else np.zeros(B)
        res = A @ e - sigma * eps
        return (res @ A) / B

    def __repr__(self):
        return f"sampled_gaussian(batch_size={self.batch_size}, label_noise={self.label_noise})"


def sampled_gaussian(batch_size=1, label_noise=0.0) -> Noise:
    """Streaming least squares with Gaussian features: each of the ``batch_size`` samples of a step is
    ``a = F z`` (``z ~ N(0, I_d)``, ``F F^T = H`` the problem's symmetric square-root factor, so the
    features have covariance H) with label ``y = a.x* + sigma eps`` (``sigma = label_noise``), and the
    stochastic gradient is ``(1/B) sum_b a_b (a_b.e - sigma eps_b)``.

    The problem is then the population loss ``1/2 E (a.x - y)^2 = f(x) + sigma^2 / 2`` and
    ``E g~ = H e``.  By Isserlis' theorem (Isserlis 1918: ``E a_i a_j a_k a_l = H_ij H_kl + H_ik H_jl +
    H_il H_jk``) one sample's gradient has ``E[g g^T] = 2 H e e^T H + (e^T H e) H + sigma^2 H``, so

        Cov[g~ | x] = (1/B) (H e e^T H + (e^T H e) H + sigma^2 H),     e = x - x*:

    the NQM's covariance ``H / B`` (seed_math.md §5) at the minimiser with unit label noise, growing with
    the loss away from it.  This is the streaming model of one-pass SGD on linear regression (e.g.
    Xiao, Marshall, Agarwala & Paquette 2024, arXiv 2411.12135).  Diagonal problems draw features per
    coordinate; block and dense ones through the dense square root (block-diagonal for block problems).
    """
    return _SampledGaussian(batch_size=_check_batch_size(batch_size),
                            label_noise=check_nonneg_scalar(label_noise, "label_noise"))


@dataclass(frozen=True, eq=False)
class _SampledCoordinates(_Sampled):
    _name = "sampled_coordinates"
    label_noise: float = 0.0

    def factor(self, problem):
        if problem.kind != "diagonal":
            raise ValueError(f"noise: sampled_coordinates needs a diagonal problem (one-hot features "
                             f"have a diagonal second-moment matrix), got a {problem.kind!r} problem")
        h = np.asarray(problem.diag, dtype=np.float64)
        total = float(h.sum())
        cdf = np.cumsum(h / total)
        cdf[-1] = 1.0
        return "coordinates", (cdf, total, self.batch_size, float(self.label_noise))

    def _covariance_at(self, problem, e):
        h = np.asarray(problem.diag, dtype=np.float64)
        g = h * e
        return (np.diag(h.sum() * h * (e * e + self.label_noise ** 2)) - np.outer(g, g)) / self.batch_size

    def _sample_at(self, fac, e, stream):
        cdf, total, B, sigma = fac
        u = stream.uniforms(B)
        z = stream.normals(B) if sigma > 0.0 else np.zeros(B)
        k = np.minimum(np.searchsorted(cdf, u, side="right"), cdf.size - 1)
        out = np.zeros(e.size)
        np.add.at(out, k, total * (e[k] - sigma * z))
        return out / B

    def __repr__(self):
        return f"sampled_coordinates(batch_size={self.batch_size}, label_noise={self.label_noise})"


def sampled_coordinates(batch_size=1, label_noise=0.0) -> Noise:
    """One-hot features for a diagonal ``H = diag(h)`` (the linear bigram model of Kunstner & Bach 2025,
    arXiv 2505.19227, with ``h`` the token frequencies): each of the ``batch_size`` samples of a step
    picks a coordinate ``k`` with probability ``p_k = h_k / S`` (``S = sum h``), and its gradient is
    ``S (e_k - sigma eps) u_k`` (``u_k`` the k-th unit vector, ``sigma = label_noise``): the features
    ``a = sqrt(S) u_k`` have second moment ``E a a^T = H``, and for frequencies (``S = 1``) they are the
    one-hot vectors themselves with labels ``y = x*_k + sigma eps``.  ``E g~ = H e``.

    Exact covariance (one sample: ``E g_k^2 = S h_k (e_k^2 + sigma^2)``, distinct coordinates never
    together, so ``E g g^T`` is diagonal):

        Cov[g~ | x] = (1/B) (S diag(h_k (e_k^2 + sigma^2)) - H e e^T H),       e = x - x*,

    a diagonal matrix minus a rank-one term.  The population loss is ``f(x) + S sigma^2 / 2``.  Only for
    diagonal problems (a named error otherwise).
    """
    return _SampledCoordinates(batch_size=_check_batch_size(batch_size),
                               label_noise=check_nonneg_scalar(label_noise, "label_noise"))


@dataclass(frozen=True, eq=False)
class _Dataset(_Sampled):
    _name = "dataset"
    features: np.ndarray = None
    labels: np.ndarray = None

    def __post_init__(self):
        object.__setattr__(self, "_checked", None)

    def describe(self) -> dict:
        return {"name": self._name, "features": self.features.tolist(), "labels": self.labels.tolist(),
                "batch_size": self.batch_size}

    def residuals(self, problem) -> np.ndarray:
        """``r_i = y_i - X_i . x*``: each row's residual at the problem's minimiser."""
        with one_thread():
            return self.labels - self.features @ problem.xstar

    def _check_matches(self, problem, r):
        """The data must be the problem's: ``X^T X / N = H`` and ``X^T r = 0`` (x* minimises the data's
        loss), so the minibatch gradient is an unbiased estimate of ``H e``.  Checked once per problem."""
        H = problem.hessian()
        seen = self._checked
        if seen is not None and seen[0] is H and seen[1] is problem.xstar:
            return
        X = self.features
        N = X.shape[0]
        with one_thread():
            HX = (X.T @ X) / N
            grad0 = (X.T @ r) / N
        scale = max(float(np.abs(H).max()), float(np.abs(HX).max()))
        if not np.abs(HX - H).max() <= 1e-8 * scale:
            raise ValueError("noise: the dataset is not this problem's: X^T X / N differs from the "
                             "problem's Hessian (build the problem with simopt.least_squares(X, y))")
        # |(X^T r)_j| / N <= sqrt(H_jj) rms(r) (Cauchy-Schwarz): the check is relative to that bound
        rms = float(np.linalg.norm(r)) / math.sqrt(N)
        tol = 1e-6 * (scale * float(np.linalg.norm(problem.xstar)) + math.sqrt(scale) * rms)
        if not np.abs(grad0).max() <= tol:
            raise ValueError("noise: the dataset is not this problem's: the problem's x* does not "
                             "minimise its loss (X^T (y - X x*) != 0; build the problem with "
                             "simopt.least_squares(X, y))")
        object.__setattr__(self, "_checked", (H, problem.xstar))

    def factor(self, problem):
        if self.features.shape[1] != problem.dim:
            raise ValueError(f"noise: the dataset has {self.features.shape[1]} features, the problem "
                             f"{problem.dim} coordinates")
        r = self.residuals(problem)
        self._check_matches(problem, r)
        return "dataset", (self.features, r, self.batch_size)

    def _covariance_at(self, problem, e):
        X = self.features
        G = X * (X @ e - self.residuals(problem))[:, None]
        m = G.mean(axis=0)
        return ((G.T @ G) / X.shape[0] - np.outer(m, m)) / self.batch_size

    def _sample_at(self, fac, e, stream):
        X, r, B = fac
        i = (stream.uniforms(B) * X.shape[0]).astype(np.int64)
        return ((X[i] @ e - r[i]) @ X[i]) / B

    def __repr__(self):
        n, d = self.features.shape
        return f"dataset(features=matrix[{n}x{d}], batch_size={self.batch_size})"


def dataset(features, labels, batch_size=1) -> Noise:
    """Minibatches from a finite dataset: each of the ``batch_size`` samples of a step is a row
    ``(X_i, y_i)`` drawn uniformly with replacement from the ``N`` rows, and the stochastic gradient is
    ``(1/B) sum_b X_i (X_i.x - y_i) = (1/B) sum_b X_i (X_i.e - r_i)`` (``r_i = y_i - X_i.x*``).

    For the problem of the same data (``simopt.least_squares(X, y)``, H = X^T X / N, x* its minimiser,
    checked when the noise meets a problem) ``E g~ = H e``, and the samples being i.i.d., the exact
    covariance is the empirical covariance of the N per-sample gradients ``G_i = X_i (X_i.e - r_i)``
    divided by the batch size:

        Cov[g~ | x] = (1/B) ((1/N) sum_i G_i G_i^T - Gbar Gbar^T),     Gbar = (1/N) sum_i G_i = H e.

    ``features``: (N, d) finite; ``labels``: (N,) finite.
    """
    X = as_float_array(features, "features", ndim=2)
    y = as_float_array(labels, "labels", ndim=1)
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"labels: expected one label per row of features ({X.shape[0]}), got {y.shape[0]}")
    X = np.ascontiguousarray(X)
    X.setflags(write=False)
    y.setflags(write=False)
    return _Dataset(features=X, labels=y, batch_size=_check_batch_size(batch_size))
