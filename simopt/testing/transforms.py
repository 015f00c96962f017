r"""Transformations of a quadratic problem: the same problem in other coordinates, or with its gradients
rescaled, for the invariance card (:mod:`simopt.testing.card`).

**A change of coordinates** :math:`x' = Tx + c` (T an invertible d x d matrix, c a shift) writes the
problem :math:`f(x) = \tfrac12 (x - x^*)^\top H (x - x^*)` in the new coordinates,
:math:`f'(x') = f(T^{-1}(x' - c))`:

.. math::
    H' = T^{-\top} H T^{-1},\qquad x^{*\prime} = T x^* + c,\qquad x_0' = T x_0 + c,\qquad
    g' = T^{-\top} g,\qquad \xi' = T^{-\top}\xi = (T^{-\top}A)\,z

-- the gradient noise :math:`\xi = A z` is pushed forward from the *same* base draws z (the noise model of
the new problem has the factor :math:`T^{-\top}A`), so a run on the new problem with the same seed sees
exactly the transformed stochastic gradients.  Errors from the minimiser transform linearly,
:math:`x' - x^{*\prime} = T(x - x^*)`.  For an orthogonal T (rotations, permutations, sign flips)
:math:`T^{-\top} = T`.  The parameter partition (``blocks``) is kept: block ``b`` is the same index range
before and after.

**A two-sided rotation** of a matrix parameter :math:`W \in \mathbb{R}^{m \times n}` (``rows, cols``
of :mod:`simopt.optim.rule`; a vector problem is 1 x d): :math:`W' = UWV^\top` for orthogonal U (m x m)
and V (n x n), i.e. :math:`T = U \otimes V` on the row-major :math:`\mathrm{vec}(W)`.  A matrix problem
:math:`f(W) = \tfrac12\langle W - W^*, A(W - W^*)B\rangle` stays one, with :math:`A' = UAU^\top`,
:math:`B' = VBV^\top` (:math:`H' = THT^\top`), and :math:`G' = UGV^\top`.  On a vector problem U = +-1 and
the map is a rotation.  A change of coordinates of a matrix problem keeps its matrix shape: a rule that
reads ``rows, cols`` sees an m x n parameter before and after (a problem that is no longer a Kronecker
product is a dense one of that shape, :class:`ShapedQuadratic`).

**A gradient scaling** by a positive diagonal S, defined on an axis-aligned problem
:math:`H = \mathrm{diag}(\lambda)` only (a diagonal problem, or a matrix problem with diagonal
factors): :math:`H' = SH` (:math:`\lambda_i \to s_i\lambda_i`), :math:`\xi' = S\xi` from the same
draws, x* and x0 unchanged; every gradient a rule sees is then :math:`Sg` at the same point.  It is not
a change of coordinates: a rule is invariant under it when its iterates do not change at all.

Rule-owned randomness (the Hutchinson probe u of :mod:`simopt.optim.rule`) is drawn from the run's own
stream and is the *same* u on both problems, not transformed.

:data:`TRANSFORMATIONS` lists the transformations the card measures; :func:`transformed` builds the new
problem from a drawn one (or from any matrix and shift).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg

from .._blas import one_thread
from .._validate import as_float_array, make_rng
from ..matrix_problems import MatrixQuadratic
from ..noise import Noise
from ..optim.rule import matrix_shape
from ..problems import Quadratic
from ..rotations import block, haar

__all__ = ["TRANSFORMATIONS", "Transformation", "Change", "ShapedQuadratic", "transformed", "draw_change"]


@dataclass(frozen=True)
class Transformation:
    """One kind of transformation the invariance card measures: ``name`` (the card's key), ``title``,
    and ``definition`` (how the problem, start, noise and the rule's inputs transform)."""

    name: str
    title: str
    definition: str


#: The transformations the invariance card measures, name -> :class:`Transformation`, in the card's order.
#:
#: :meta hide-value:
TRANSFORMATIONS = {t.name: t for t in (
    Transformation("rotation", "rotation",
                   "x' = Q x, Q Haar on O(d): H' = Q H Q^T, x*' = Q x*, x0' = Q x0, g' = Q g, xi' = Q xi"),
    Transformation("block_rotation", "block rotation",
                   "x' = Q x, Q = diag(Q_1, ..., Q_B) Haar on each block of the partition: H' = Q H Q^T, "
                   "g' = Q g, xi' = Q xi; every block keeps its index range"),
    Transformation("matrix_rotation", "two-sided rotation",
                   "W' = U W V^T for the parameter's matrix shape (rows, cols), U, V Haar: x' = (U kron V) x, "
                   "A' = U A U^T, B' = V B V^T, G' = U G V^T, xi' = (U kron V) xi; a rotation on a vector "
                   "problem (1 x d, U = +-1)"),
    Transformation("permutation", "permutation",
                   "x' = P x, P a uniformly random permutation (not the identity) of all d coordinates: "
                   "H' = P H P^T, g' = P g, xi' = P xi; the blocks stay index ranges, so coordinates "
                   "change blocks"),
    Transformation("sign_flip", "sign flip",
                   "x' = S x, S = diag(+-1) with at least one -1: H' = S H S, g' = S g, xi' = S xi"),
    Transformation("diagonal_rescaling", "diagonal rescaling",
                   "x' = D x, D = diag(exp(u_i)), u_i ~ U(-1, 1): H' = D^-1 H D^-1, x*' = D x*, "
                   "g' = D^-1 g, xi' = D^-1 xi (a reparametrisation: the iterates map as x' = D x)"),
    Transformation("translation", "translation",
                   "x' = x + c, c ~ N(0, 4 I): x*' = x* + c, x0' = x0 + c; H, g and xi unchanged"),
    Transformation("gradient_scaling", "gradient scaling",
                   "axis-aligned H only: H' = S H, S = diag(exp(u_i)), u_i ~ U(-1, 1), xi' = S xi, x* and "
                   "x0 unchanged, so every gradient is S g; invariant when the iterates do not change"),
)}


class Change:
    """A drawn transformation: ``name``, the coordinate map (``matrix`` T, ``shift`` c) and the gradient
    map (``gradient_map`` M: g' = M g).  ``problem(base)`` is the transformed problem and
    ``errors(E)`` maps errors from the minimiser, e' = T e (the expected trajectory)."""

    def __init__(self, name, matrix, shift=None, *, gradient_map=None, hessian=None, factors=None):
        self.name = name
        self.factors = factors           # (U, V) of a map W -> U W V^T, which keeps a matrix problem one
        self.matrix = np.ascontiguousarray(matrix, dtype=np.float64)
        d = self.matrix.shape[0]
        self.shift = np.zeros(d) if shift is None else np.asarray(shift, dtype=np.float64)
        self.orthogonal = bool(np.allclose(self.matrix @ self.matrix.T, np.eye(d), rtol=0, atol=1e-12))
        self.diagonal = bool(np.count_nonzero(self.matrix - np.diag(np.diag(self.matrix))) == 0)
        if gradient_map is None:
            if self.orthogonal:
                gradient_map = self.matrix
            elif self.diagonal:
                gradient_map = np.diag(1.0 / np.diag(self.matrix))
            else:
                gradient_map = np.linalg.inv(self.matrix).T
        self.gradient_map = np.ascontiguousarray(gradient_map, dtype=np.float64)
        self._hessian = hessian          # "scaled": H' = S H (a gradient scaling), else H' = M H M^T

    def errors(self, E):
        """The expected errors ``T e`` of errors ``E`` (..., d)."""
        return np.asarray(E) @ self.matrix.T

    def problem(self, base: Quadratic) -> Quadratic:
        """``base`` in the new coordinates (or with its gradients scaled): see the module docstring."""
        return _build(base, self)

    def __repr__(self):
        return f"Change({self.name!r}, d={self.matrix.shape[0]})"


def draw_change(name, problem, rng) -> Change:
    """A transformation of kind ``name`` (a key of :data:`TRANSFORMATIONS`) for ``problem``, drawn from
    ``rng`` (a seed or a ``numpy.random.Generator``)."""
    if name not in TRANSFORMATIONS:
        raise ValueError(f"name: expected one of {sorted(TRANSFORMATIONS)}, got {name!r}")
    gen = make_rng(rng, "rng")
    d = problem.dim
    if name == "rotation":
        return Change(name, haar(d, gen))
    if name == "block_rotation":
        return Change(name, block(problem.block_sizes, gen))
    if name == "matrix_rotation":
        rows, cols = matrix_shape(problem)
        U, V = haar(rows, gen), haar(cols, gen)
        return Change(name, np.kron(U, V), factors=(U, V))
    if name == "permutation":
        if d < 2:
            raise ValueError("problem: a permutation other than the identity needs d >= 2")
        perm = np.arange(d)
        while np.array_equal(perm, np.arange(d)):
            perm = gen.permutation(d)
        return Change(name, np.eye(d)[perm])
    if name == "sign_flip":
        s = gen.choice([-1.0, 1.0], d)
        if np.all(s > 0):
            s[gen.integers(d)] = -1.0
        return Change(name, np.diag(s))
    if name == "diagonal_rescaling":
        return Change(name, np.diag(np.exp(gen.uniform(-1.0, 1.0, d))))
    if name == "translation":
        rows, cols = matrix_shape(problem)
        return Change(name, np.eye(d), 2.0 * gen.standard_normal(d), factors=(np.eye(rows), np.eye(cols)))
    if _axis_diag(problem) is None:
        raise ValueError(f"problem: a gradient scaling is defined on an axis-aligned (diagonal) problem, "
                         f"got kind {problem.kind!r} with a Hessian that is not diagonal")
    return Change(name, np.eye(d), gradient_map=np.diag(np.exp(gen.uniform(-1.0, 1.0, d))),
                  hessian="scaled")


def transformed(problem, matrix, shift=None) -> Quadratic:
    """``problem`` written in the coordinates ``x' = matrix @ x + shift`` (module docstring): an invertible
    (d, d) ``matrix`` and a (d,) ``shift`` (default 0)."""
    if not isinstance(problem, Quadratic):
        raise TypeError(f"problem: expected a simopt problem, got {type(problem).__name__}")
    d = problem.dim
    T = as_float_array(matrix, "matrix", shape=(d, d))
    if abs(np.linalg.det(T)) < 1e-300 or np.linalg.cond(T) > 1e12:
        raise ValueError("matrix: expected an invertible, well-conditioned matrix (condition number <= 1e12)")
    c = None if shift is None else as_float_array(shift, "shift", shape=(d,))
    return Change("change", T, c).problem(problem)


# ------------------------------------------------------------------------------------------ building
class ShapedQuadratic(Quadratic):
    """A quadratic on an m x n matrix parameter whose Hessian is not a Kronecker product -- a matrix
    problem written in other coordinates (a global rotation, a permutation of all m n entries, ...).  It is
    a :class:`simopt.Quadratic` of kind ``"diagonal"``, ``"block"`` or ``"dense"`` on the row-major
    ``vec(W)`` with the ``matrix_shape`` of the problem it came from, so a rule reading ``rows, cols``
    still sees an m x n parameter."""

    def __init__(self, *, shape, **kw):
        self._shape = (int(shape[0]), int(shape[1]))
        super().__init__(**kw)

    @property
    def matrix_shape(self) -> tuple[int, int]:
        """``(m, n)``: the parameter is ``x.reshape(m, n)`` (row-major)."""
        return self._shape


def _axis_diag(problem):
    """``diag(H)`` when H is diagonal (a diagonal problem, or a matrix problem with diagonal factors),
    else None."""
    if problem.kind == "diagonal":
        return np.asarray(problem.diag)
    if problem.kind == "kron":
        A, B = problem.kron_factors
        if not (np.count_nonzero(A - np.diag(np.diag(A))) or np.count_nonzero(B - np.diag(np.diag(B)))):
            return np.multiply.outer(np.diag(A), np.diag(B)).reshape(-1)
    return None


@dataclass(frozen=True, eq=False)
class _Pushforward(Noise):
    """The noise of a transformed problem: ``xi' = M xi = (M A) z`` from the base model's draws z."""

    _name = "pushforward"
    how: str = "matrix"
    array: np.ndarray = None
    df: float = 0.0

    def factor(self, problem):
        n = self.array.shape[0]
        if n != problem.dim:
            raise ValueError(f"noise: expected a problem of dimension {n}, got {problem.dim}")
        return self.how, self.array.copy()

    def base_variance(self):
        if self.distribution != "t":
            return 1.0
        return self.df / (self.df - 2.0) if self.df > 2.0 else np.inf


def _dense_factor(noise, problem) -> np.ndarray:
    how, a = noise.factor(problem)
    if how == "scale":
        return np.diag(np.asarray(a, dtype=np.float64))
    if how == "matrix":
        return np.asarray(a, dtype=np.float64)
    if how == "blocks":
        return scipy.linalg.block_diag(*a)
    if how == "kron":                             # xi = S_A Z S_B: vec_r(xi) = (S_A kron S_B^T) vec_r(Z)
        return np.kron(np.asarray(a[0], dtype=np.float64), np.asarray(a[1], dtype=np.float64).T)
    raise ValueError(f"noise: a transformed problem needs additive noise (a scale, matrix or block factor), "
                     f"got a {how!r} noise model")


def _noise(base, M):
    nz = base.noise
    if nz is None:
        return None
    with one_thread():
        A = M @ _dense_factor(nz, base)
    diag = np.count_nonzero(A - np.diag(np.diag(A))) == 0
    return _Pushforward(distribution=nz.distribution, how="scale" if diag else "matrix",
                        array=np.ascontiguousarray(np.diag(A) if diag else A),
                        df=float(getattr(nz, "df", 0.0)))


def _block_of_columns(Q, starts):
    """For each column of the block-supported Q, the block its non-zeros lie in."""
    rows = np.argmax(np.abs(Q), axis=0)
    return np.searchsorted(starts, rows, side="right") - 1


def _is_block_diagonal(T, starts):
    mask = np.zeros(T.shape, dtype=bool)
    for a, b in zip(starts[:-1], starts[1:]):
        mask[a:b, a:b] = True
    return not np.any(T[~mask])


def _build(base, ch: Change) -> Quadratic:
    T, M = ch.matrix, ch.gradient_map
    d = base.dim
    starts = np.asarray(base.block_starts)
    desc = {"constructor": "simopt.testing.transformed",
            "args": {"problem": base.describe(), "transformation": ch.name, "matrix": T.tolist(),
                     "shift": ch.shift.tolist()}}
    if isinstance(base, MatrixQuadratic) and ch.factors is not None:
        return _matrix_build(base, ch, desc)
    vals, Q = base.eigh()                         # H = Q diag(vals) Q^T, exact from the construction
    with one_thread():
        if ch._hessian == "scaled":               # axis-aligned H' = S H
            kind, lam, rot = "diagonal", np.diag(M) * _axis_diag(base), None
        elif ch.orthogonal and base.kind == "diagonal" and np.all(np.count_nonzero(T, axis=1) == 1):
            kind, lam, rot = "diagonal", (T * T) @ base.diag, None          # a signed permutation
        elif ch.orthogonal and base.kind in ("diagonal", "block") and _is_block_diagonal(T, starts):
            TQ = T @ Q
            owner = _block_of_columns(Q, starts)
            kind, rot, lam = "block", [], np.empty(d)
            for b, (a, e) in enumerate(zip(starts[:-1], starts[1:])):
                cols = np.flatnonzero(owner == b)
                rot.append(np.ascontiguousarray(TQ[a:e][:, cols]))
                lam[a:e] = vals[cols]
        elif ch.orthogonal:
            kind, lam, rot = "dense", vals, T @ Q
        elif ch.diagonal and base.kind == "diagonal":
            kind, lam, rot = "diagonal", base.diag * np.diag(M) ** 2, None
        else:
            H = M @ base.hessian() @ M.T
            lam, rot = np.linalg.eigh(0.5 * (H + H.T))
            if lam[0] <= 0.0:
                raise ValueError("matrix: the transformed Hessian is not positive definite to working "
                                 "precision (matrix too ill-conditioned)")
            kind = "dense"
        xstar = T @ base.xstar + ch.shift
        x0 = T @ base.x0 + ch.shift
        noise = _noise(base, M)
    kw = dict(kind=kind, sizes=base.block_sizes, lam=lam, rot=rot, x0=x0, xstar=xstar, noise=noise,
              seed=base.seed, description=desc)
    if getattr(base, "matrix_shape", None) is not None:
        return ShapedQuadratic(shape=base.matrix_shape, **kw)
    return Quadratic(**kw)


def _matrix_build(base, ch, desc) -> MatrixQuadratic:
    """A matrix problem under W -> U W V^T + C: A' = U A U^T, B' = V B V^T (their eigenvectors U Q_A,
    V Q_B), the same eigenvalues."""
    U, V = ch.factors
    (a, QA), (b, QB) = base.factor_eigh()
    A, B = base.kron_factors
    with one_thread():
        fa = (a, U @ QA, 0.5 * ((U @ A @ U.T) + (U @ A @ U.T).T))
        fb = (b, V @ QB, 0.5 * ((V @ B @ V.T) + (V @ B @ V.T).T))
        noise = _noise(base, ch.gradient_map)
        xstar = ch.matrix @ base.xstar + ch.shift
        x0 = ch.matrix @ base.x0 + ch.shift
    return MatrixQuadratic(factors=(fa, fb), shape=base.matrix_shape, sizes=base.block_sizes, x0=x0,
                           xstar=xstar, noise=noise, seed=base.seed, description=desc)
