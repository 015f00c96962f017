"""Least-squares problems made from data: ``f(w) = 1/2 E (a.w - y)^2`` over features ``a`` and labels
``y``, as a ``simopt.Quadratic`` whose noise model draws the minibatch gradients.

The loss of any least-squares problem is a quadratic: with ``H = E a a^T`` and ``x*`` its minimiser,

    1/2 E (a.w - y)^2 = 1/2 (w - x*)^T H (w - x*) + f*,      f* = 1/2 E (y - a.x*)^2,

because the cross term ``E (a.e)(y - a.x*) = e^T E a (y - a.x*)`` is the gradient at the minimiser,
zero (the normal equations).  So a data problem is a ``Quadratic`` (``loss`` is ``f - f*``, as the
engine records it) with three more things: ``f_star``, the data's own ``objective`` (``loss + f_star``,
computed from the data for a finite dataset) and a sampled-data noise model (``simopt.noise``) that makes
each step's gradient from a minibatch of ``batch_size`` samples, so the noise depends on the iterate as in
real training.  ``simopt.run(problem, optimizer, samples=N)`` runs ``N // batch_size`` steps.

- :func:`least_squares` -- a finite dataset ``(X, y)``: ``H = X^T X / N``, rows drawn uniformly with
  replacement (``noise.dataset``);
- :func:`gaussian_features` -- features ``a ~ N(0, Sigma)`` with a chosen spectrum and rotation, streamed
  (``noise.sampled_gaussian``) or drawn once as a finite dataset;
- :func:`zipf_bigram` -- one-hot features with Zipf frequencies, the linear bigram model of Kunstner &
  Bach 2025 (arXiv 2505.19227), streamed (``noise.sampled_coordinates``).

``simopt.theory.sgd_expected_loss_sampled`` gives SGD's exact expected loss on all three.
"""
from __future__ import annotations

import numpy as np

from . import noise as _noise
from ._blas import one_thread, single_threaded
from ._validate import as_float_array, check_dim, check_int, check_nonneg_scalar, check_size
from .problems import Quadratic, _check_partition, _description, quadratic

__all__ = ["LeastSquares", "least_squares", "gaussian_features", "zipf_bigram"]


class LeastSquares(Quadratic):
    """A ``Quadratic`` that is the loss of a least-squares problem (module docstring): ``loss(w)`` is
    ``f(w) - f*`` = ``1/2 (w - x*)^T H (w - x*)``; ``objective(w)`` is ``f(w)`` itself.

    ``features``/``labels`` are the dataset ((N, d) and (N,), read-only) of a finite problem and ``None``
    for a streaming one, whose ``f`` is the population loss."""

    def __init__(self, *, f_star, features=None, labels=None, **internals):
        self._f_star = float(f_star)
        self._features = features
        self._labels = labels
        super().__init__(**internals)

    @classmethod
    def _from(cls, problem: Quadratic, f_star: float, description: dict) -> "LeastSquares":
        """The data problem with the internals of an already built ``problem`` (a streaming problem is
        the population quadratic with a sampling noise model) and its own description."""
        new = cls.__new__(cls)
        new.__dict__.update(problem.__dict__)
        new._f_star = float(f_star)
        new._features = None
        new._labels = None
        new._description = description
        return new

    @property
    def f_star(self) -> float:
        """``f* = min_w f(w) = 1/2 E (y - a.x*)^2``: the loss left at the minimiser (label noise, or the
        residuals of a finite dataset)."""
        return self._f_star

    @property
    def features(self):
        """The (N, d) features of a finite dataset, or ``None`` (streaming)."""
        return self._features

    @property
    def labels(self):
        """The (N,) labels of a finite dataset, or ``None`` (streaming)."""
        return self._labels

    @property
    def n_samples(self):
        """N for a finite dataset, ``None`` for a streaming problem."""
        return None if self._features is None else int(self._features.shape[0])

    def objective(self, X):
        """``f(w) = 1/2 E (a.w - y)^2``: for a finite dataset ``1/(2N) ||X w - y||^2`` computed from the
        data; for a streaming problem the population loss ``loss(w) + f_star``.  A float for ``X`` of
        shape (d,), a (runs,) array for (runs, d)."""
        W = self._points(X)
        if self._features is None:
            val = self.loss(W) + self._f_star
            return float(val) if np.ndim(val) == 0 else val
        with one_thread():
            R = W @ self._features.T - self._labels
        val = 0.5 * np.mean(R * R, axis=-1)
        return float(val) if val.ndim == 0 else val

    def __repr__(self):
        n = "streaming" if self._features is None else f"n_samples={self.n_samples}"
        return (f"LeastSquares(kind={self._kind!r}, dim={self._dim}, {n}, "
                f"condition_number={self.condition_number:.6g}, f_star={self._f_star:.6g}, "
                f"noise={self._noise!r})")


def _readonly(a):
    a = np.ascontiguousarray(a, dtype=np.float64)
    a.setflags(write=False)
    return a


def _least_squares(X, y, batch_size, x0, blocks, description) -> LeastSquares:
    N, d = X.shape
    check_size(d * d, "X", f"the {d} x {d} matrix X^T X / N")
    sizes = _check_partition(blocks, d)
    with one_thread():
        H = (X.T @ X) / N
        off = H - np.diag(np.diag(H))
        if not np.any(off):        # orthogonal columns (e.g. one-hot features): H is diagonal
            h = np.diag(H).copy()
            zero = np.flatnonzero(h == 0.0)
            if zero.size:
                raise ValueError(f"X: column {int(zero[0])} is zero, so X^T X / N is singular and the "
                                 f"least-squares solution is not unique (every feature must occur)")
            kind, lam, rot = "diagonal", h, None
            xstar = (X.T @ y) / N / h
        else:
            xstar, _, rank, _ = np.linalg.lstsq(X, y, rcond=None)
            if rank < d:
                raise ValueError(f"X: X^T X / N is singular (rank {rank} < d = {d}; e.g. fewer rows "
                                 f"than columns, or collinear columns), so the least-squares solution is "
                                 f"not unique")
            lam, rot = np.linalg.eigh(H)
            if not lam[0] > 0.0:
                raise ValueError(f"X: X^T X / N is not positive definite (smallest eigenvalue "
                                 f"{lam[0]:.3g}), so the least-squares solution is not unique")
            kind = "dense"
        r = y - X @ xstar
    X = _readonly(X)
    y = _readonly(y)
    x0 = np.zeros(d) if x0 is None else as_float_array(x0, "x0", shape=(d,))
    return LeastSquares(f_star=0.5 * float(r @ r) / N, features=X, labels=y, kind=kind, sizes=sizes, lam=lam,
                        rot=rot, x0=x0, xstar=xstar, noise=_noise.dataset(X, y, batch_size), seed=0,
                        description=description)


@single_threaded
def least_squares(X, y, batch_size=1, x0=None, blocks=None) -> LeastSquares:
    """The finite-dataset problem ``f(w) = 1/(2N) ||X w - y||^2`` with minibatch SGD noise.

    ``H = X^T X / N`` (kind ``"diagonal"`` when it is exactly diagonal, e.g. one-hot features, else
    ``"dense"``; it must be positive definite so that the minimiser is unique, else a ``ValueError``
    naming ``X``), ``x*`` the least-squares solution (``numpy.linalg.lstsq``; ``X^T y / (N h)`` when H is
    diagonal) and ``f_star = 1/(2N) ||X x* - y||^2``, so ``loss(w) = f(w) - f_star =
    1/2 (w - x*)^T H (w - x*)`` (module docstring).  The noise model is ``noise.dataset(X, y,
    batch_size)``: each step averages the gradients of ``batch_size`` rows drawn uniformly with
    replacement; ``problem.with_noise(None)`` gives full-batch gradient descent.

    ``X``: (N, d) finite; ``y``: (N,) finite; ``x0`` defaults to zeros; ``blocks`` a parameter partition as
    in ``simopt.quadratic``.
    """
    X = as_float_array(X, "X", ndim=2)
    y = as_float_array(y, "y", ndim=1)
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"y: expected one label per row of X ({X.shape[0]}), got {y.shape[0]}")
    batch_size = check_int(batch_size, "batch_size", minimum=1)
    desc = _description("least_squares", X=X, y=y, batch_size=batch_size,
                        x0=None if x0 is None else as_float_array(x0, "x0", shape=(X.shape[1],)),
                        blocks=None if blocks is None else list(_check_partition(blocks, X.shape[1])))
    return _least_squares(X, y, batch_size, x0, blocks, desc)


@single_threaded
def gaussian_features(cov_eigvals, rotation="none", n_samples=None, label_noise=0.0, batch_size=1, seed=0,
                      x0=None, xstar=None, blocks=None) -> LeastSquares:
    """Linear regression with Gaussian features ``a ~ N(0, Sigma)``, ``Sigma = R diag(cov_eigvals) R^T``
    (``rotation`` as in ``simopt.quadratic``: ``"none"``, ``"haar"`` or an angle), labels
    ``y = a.w* + label_noise * eps``.

    ``n_samples=None``: streaming (one-pass SGD, fresh samples every step): the problem is the population
    quadratic ``H = Sigma``, ``x* = w*``, ``f_star = label_noise**2 / 2``, with noise
    ``noise.sampled_gaussian(batch_size, label_noise)``.  ``n_samples = N`` (>= d): the N samples are drawn
    once (rows ``X_i = F z_i``, ``F`` the symmetric square root of Sigma, ``z_i`` and the label noise
    from ``SeedSequence(seed, spawn_key=(3,))``) and the problem is ``least_squares(X, y, batch_size)`` on
    them (``H = X^T X / N``, its own x* and f*), started at the streaming problem's ``x0``.

    ``seed`` draws the rotation, ``x0`` and ``w*`` exactly as ``simopt.quadratic(cov_eigvals, rotation,
    seed=seed)`` does (so ``w*`` defaults to a standard normal vector and ``x0`` likewise), and the same
    seed gives the streaming and the finite problem the same Sigma, w* and x0.
    """
    lam = as_float_array(cov_eigvals, "cov_eigvals", ndim=1, positive=True)
    label_noise = check_nonneg_scalar(label_noise, "label_noise")
    batch_size = check_int(batch_size, "batch_size", minimum=1)
    if n_samples is not None:
        n_samples = check_int(n_samples, "n_samples", minimum=1)
    pop = quadratic(lam, rotation=rotation, seed=seed, x0=x0, xstar=xstar, blocks=blocks)
    desc = _description("gaussian_features", cov_eigvals=lam,
                        rotation=pop.rotation, n_samples=n_samples, label_noise=label_noise,
                        batch_size=batch_size, seed=pop.seed, x0=x0, xstar=xstar,
                        blocks=None if blocks is None else list(pop.block_sizes))
    if n_samples is None:
        streaming = pop.with_noise(_noise.sampled_gaussian(batch_size, label_noise))
        return LeastSquares._from(streaming, 0.5 * label_noise ** 2, desc)
    d = pop.dim
    if n_samples < d:
        raise ValueError(f"n_samples: expected at least d = {d} samples (fewer make X^T X / N singular), "
                         f"got {n_samples}")
    check_size(n_samples * d, "n_samples", f"a {n_samples} x {d} dataset")
    rng = np.random.default_rng(np.random.SeedSequence(pop.seed, spawn_key=(3,)))
    Z = rng.standard_normal((n_samples, d))
    eps = rng.standard_normal(n_samples)
    kind, F = pop.noise_factor_sqrt_hessian(1.0)
    with one_thread():
        if kind == "scale":
            X = Z * F
        elif kind == "matrix":
            X = Z @ F.T
        else:
            X = np.concatenate([Z[:, s] @ f.T for s, f in zip(pop.blocks, F)], axis=1)
        y = X @ pop.xstar + label_noise * eps
    return _least_squares(X, y, batch_size, pop.x0, blocks, desc)


@single_threaded
def zipf_bigram(d, alpha=1.0, batch_size=1, label_noise=0.0, x0=None, xstar=None) -> LeastSquares:
    """The linear bigram model under Zipf's law (Kunstner & Bach 2025, arXiv 2505.19227): one of its d
    sub-problems, a diagonal quadratic ``H = diag(h)`` with ``h_k = k^-alpha / sum_j j^-alpha``
    (k = 1..d in coordinate order, the most frequent token first) whose stochastic gradients come from
    one-hot samples ``k ~ h`` (``noise.sampled_coordinates(batch_size, label_noise)``).

    The paper's x0 and x* are not known here; simopt's documented choice is
    ``x0 = 0`` (the model starts from zero weights) and ``x* = 1`` (every token's target at the same
    distance, so how the iteration counts scale with d comes from the frequencies alone); both can be
    passed.  ``f_star = label_noise**2 / 2`` (``sum h = 1``).  ``d`` >= 1, ``alpha`` >= 0 (0: uniform).
    """
    d = check_dim(d, "d")
    alpha = check_nonneg_scalar(alpha, "alpha")
    batch_size = check_int(batch_size, "batch_size", minimum=1)
    label_noise = check_nonneg_scalar(label_noise, "label_noise")
    w = np.arange(1, d + 1, dtype=np.float64) ** (-alpha)
    if not w[-1] > 0.0:
        raise ValueError(f"alpha: d^(-alpha) underflows to 0 for d={d}, alpha={alpha!r}")
    h = w / w.sum()
    if not h[-1] >= np.finfo(np.float64).tiny:
        raise ValueError(f"alpha: the smallest frequency underflows for d={d}, alpha={alpha!r}")
    start = np.zeros(d) if x0 is None else as_float_array(x0, "x0", shape=(d,))
    target = np.ones(d) if xstar is None else as_float_array(xstar, "xstar", shape=(d,))
    q = quadratic(h, rotation="none", noise=_noise.sampled_coordinates(batch_size, label_noise),
                  x0=start, xstar=target)
    desc = _description("zipf_bigram", d=d, alpha=alpha, batch_size=batch_size, label_noise=label_noise,
                        x0=x0 if x0 is None else start, xstar=xstar if xstar is None else target)
    return LeastSquares._from(q, 0.5 * float(h.sum()) * label_noise ** 2, desc)


#: the data problems' constructors, by the name in their descriptions (``problems.from_description``)
CONSTRUCTORS = {"least_squares": least_squares, "gaussian_features": gaussian_features,
                "zipf_bigram": zipf_bigram}
