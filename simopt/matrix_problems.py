r"""Matrix-shaped quadratics: the parameter is a matrix :math:`W \in \mathbb{R}^{m \times n}` and

.. math::  f(W) = \tfrac12 \langle W - W^*,\; A\,(W - W^*)\,B \rangle, \qquad
           \nabla f(W) = A\,(W - W^*)\,B,

with :math:`A = R_A\,\mathrm{diag}(a)\,R_A^\top` (m x m) and :math:`B = R_B\,\mathrm{diag}(b)\,R_B^\top`
(n x n) symmetric positive definite, built from requested spectra and rotations exactly as the vector
problems build H (:mod:`simopt.problems`, :mod:`simopt.rotations`).  The problem is a
:class:`simopt.Quadratic` on the **row-major** ``vec(W)`` (``W.reshape(-1)``, ``d = m n``), whose
Hessian is the Kronecker product

.. math::  H = A \otimes B \qquad (\mathrm{vec}_r(A E B) = (A \otimes B^\top)\,\mathrm{vec}_r(E)),

i.e. :math:`B \otimes A` on the column-major vec of the matrix literature.  Its eigenvalues are the
products :math:`a_i b_j` with eigenvectors :math:`q^A_i \otimes q^B_j` (the row-major vec of
:math:`q^A_i {q^B_j}^\top`), so ``eigh()`` comes from the factors and no d x d eigenproblem is ever
solved; ``L = max(a) max(b)``, ``mu = min(a) min(b)``, ``condition_number = kappa_A kappa_B``.  Every
vector rule runs on the flattened parameter; rules that see the matrix shape read ``rows, cols = m, n``
(:mod:`simopt.optim.rule`).  The engine computes the gradient as two products per run (``A E B``, kind
``"kron"``), never with the dense ``H``.

Noise: every :mod:`simopt.noise` model works on the d = m n coordinates; ``hessian_aligned(scale)`` draws
:math:`\xi = (\mathrm{scale}\,A^{1/2})\,Z\,B^{1/2}` with Z an m x n matrix of i.i.d. draws, whose
covariance is :math:`\mathrm{scale}^2 (A \otimes B) = \mathrm{scale}^2 H` (the NQM of seed_math.md §5 on a
matrix).

Randomness: ``SeedSequence(seed).spawn(3)`` as the vector problems -- child 0 for the rotations (its
children 0 and 1 draw :math:`R_A` and :math:`R_B`, so changing one rotation never shifts the other),
child 1 the default ``x0``, child 2 the default ``x*`` (d standard normals each, in row-major order: the
same vectors as ``simopt.quadratic`` draws for the same seed and d).
"""
from __future__ import annotations

import functools

import numpy as np

from ._blas import one_thread, single_threaded
from ._validate import as_float_array, check_positive_scalar, check_size
from .problems import (Quadratic, _check_eigvals, _check_noise, _check_partition, _check_seed,
                       _description, _describe_noise, _parse_rotation, _readonly, _sym)
from .rotations import _haar, _haar_so, _partial_from

__all__ = ["MatrixQuadratic", "matrix_quadratic"]


class MatrixQuadratic(Quadratic):
    """A matrix quadratic ``f(W) = ½ <W − W*, A (W − W*) B>`` (module docstring), kind ``"kron"``.

    Build one with :func:`matrix_quadratic`.  Points are row-major vectors ``(d,)`` / ``(runs, d)`` or
    matrices ``(m, n)`` / ``(runs, m, n)``; ``grad`` and ``hvp`` return the shape they were given.  A
    2-d array with d columns is read as ``(runs, d)`` (so for m = 1 a 1 x n matrix is one run).
    """

    def __init__(self, *, factors, shape, sizes, x0, xstar, noise, seed, description):
        (a, QA, A), (b, QB, B) = factors
        m, n = shape
        self._kind = "kron"
        self._shape = (int(m), int(n))
        self._a, self._b = _readonly(a), _readonly(b)
        self._QA, self._QB = _readonly(QA), _readonly(QB)
        self._A, self._B = _readonly(A), _readonly(B)
        if not (np.all(np.isfinite(self._A)) and np.all(np.isfinite(self._B))):
            raise ValueError("A_eigvals, B_eigvals: A = R_A diag(a) R_Aᵀ or B = R_B diag(b) R_Bᵀ overflows "
                             "(eigenvalues too large)")
        # eigenvalues of H in the column order of kron(Q_A, Q_B): a_i b_j at column i n + j
        self._lam = _readonly(np.multiply.outer(self._a, self._b).reshape(-1))
        self._set_partition(sizes, self._shape[0] * self._shape[1])
        self._diag = None
        self._block_matrices = None
        self._H = None
        self._rot = None
        self._set_points(x0, xstar, noise, seed, description)

    # ----------------------------------------------------------------- structure
    @property
    def matrix_shape(self) -> tuple[int, int]:
        """``(m, n)``: the parameter is ``x.reshape(m, n)`` (row-major)."""
        return self._shape

    @property
    def kron_factors(self) -> tuple[np.ndarray, np.ndarray]:
        """``(A, B)``: the m x m and n x n factors of ``H = A ⊗ B`` (symmetric, read-only)."""
        return self._A, self._B

    def factor_eigh(self):
        """``((a, Q_A), (b, Q_B))``: each factor's eigenvalues (in the order requested) and orthogonal
        eigenvectors (columns), ``A = Q_A diag(a) Q_Aᵀ`` -- exact up to the rounding of building A, B."""
        return (self._a, self._QA), (self._b, self._QB)

    @property
    def rotation(self):
        """``(rotation_A, rotation_B)``, the rotation arguments the problem was built with."""
        args = self._description["args"]
        return args.get("rotation_A"), args.get("rotation_B")

    @functools.cached_property
    def _hessian(self) -> np.ndarray:
        d = self._dim
        check_size(d * d, "hessian", f"the dense {d} x {d} Hessian A ⊗ B")
        return _readonly(np.kron(self._A, self._B))

    def hessian(self) -> np.ndarray:
        """Dense ``H = A ⊗ B`` (d, d), cached, read-only: for theory on small problems (the engine and
        ``grad``/``hvp`` use the factors)."""
        return self._hessian

    @functools.cached_property
    def _eigh(self):
        order = np.argsort(self._lam, kind="stable")
        return _readonly(self._lam[order]), _readonly(np.kron(self._QA, self._QB)[:, order])

    def eigh(self):
        """``(eigvals, Q)``: eigenvalues ``a_i b_j`` ascending and ``Q = (Q_A ⊗ Q_B)`` with its columns in
        that order, ``H = Q diag(eigvals) Qᵀ``; from the factors, nothing is computed numerically."""
        return self._eigh

    def _row_block(self, s: slice):
        """``(r0, r1)`` if the block ``s`` is whole rows ``r0..r1`` of W, else ``None``."""
        n = self._shape[1]
        if s.start % n == 0 and s.stop % n == 0:
            return s.start // n, s.stop // n
        return None

    @functools.cached_property
    def block_eigvals(self) -> list[np.ndarray]:
        """Eigenvalues of each diagonal block ``H_bb``, ascending.  A block of whole rows r0..r1 of W
        has ``H_bb = A[r0:r1, r0:r1] ⊗ B``, so its eigenvalues are those of the small ``A`` block times
        ``b`` (exactly ``a_i b_j`` when A is not rotated); any other block is computed with ``eigvalsh``
        of the dense ``H_bb``."""
        out = []
        with one_thread():
            for s in self._blocks:
                rows = self._row_block(s)
                if rows is None:
                    H = np.kron(self._A, self._B)[s, s]
                    out.append(_readonly(np.linalg.eigvalsh(H)))
                    continue
                r0, r1 = rows
                if np.array_equal(self._QA, np.eye(self._shape[0])):
                    ea = self._a[r0:r1]
                else:
                    ea = np.linalg.eigvalsh(self._A[r0:r1, r0:r1])
                out.append(_readonly(np.sort(np.multiply.outer(ea, self._b).reshape(-1), kind="stable")))
        return out

    @functools.cached_property
    def linf_smoothness(self) -> float:
        """``U_∞ = min(Σ_ij |H_ij|, d L)`` (theory_notes.md §1, §2C): both bound ``sᵀHs`` over
        ``s ∈ {±1}^d``, and ``Σ_ij |H_ij| = (Σ|A_ik|)(Σ|B_jl|)`` for ``H = A ⊗ B``."""
        return float(min(np.abs(self._A).sum() * np.abs(self._B).sum(), self._dim * self.L))

    @functools.cached_property
    def _inv_diag(self) -> np.ndarray:
        """``diag(H⁻¹) = diag(A⁻¹) ⊗ diag(B⁻¹)``, with ``diag(A⁻¹)_i = Σ_k (Q_A)_ik² / a_k``."""
        with one_thread():
            da = (self._QA * self._QA) @ (1.0 / self._a)
            db = (self._QB * self._QB) @ (1.0 / self._b)
        return np.multiply.outer(da, db).reshape(-1)

    # ----------------------------------------------------------------- evaluation
    def _matrix_points(self, X, name):
        """(the points as row-major vectors (d,) or (runs, d), the shape they came in)."""
        m, n = self._shape
        d = self._dim
        if isinstance(X, (str, bytes)) or X is None:
            raise TypeError(f"{name}: expected an array of shape ({d},), (runs, {d}), ({m}, {n}) or "
                            f"(runs, {m}, {n}), got {type(X).__name__}")
        a = as_float_array(X, name)
        if (a.ndim == 1 and a.shape[0] == d) or (a.ndim == 2 and a.shape[1] == d):
            return a, a.shape
        if a.ndim == 2 and a.shape == (m, n):
            return a.reshape(d), a.shape
        if a.ndim == 3 and a.shape[1:] == (m, n):
            return a.reshape(a.shape[0], d), a.shape
        raise ValueError(f"{name}: expected shape ({d},), (runs, {d}), ({m}, {n}) or (runs, {m}, {n}), "
                         f"got {a.shape}")

    def _points(self, X, name="X") -> np.ndarray:
        return self._matrix_points(X, name)[0]

    @single_threaded
    def _apply(self, E: np.ndarray) -> np.ndarray:
        """Row-wise ``vec(A E B)`` for ``E`` of shape (..., d) (each row an m x n matrix)."""
        m, n = self._shape
        W = E.reshape(E.shape[:-1] + (m, n))
        return np.matmul(np.matmul(self._A, W), self._B).reshape(E.shape)

    def hvp(self, U) -> np.ndarray:
        """``H u = vec(A U B)`` for ``U`` of shape (d,), (runs, d), (m, n) or (runs, m, n); the result
        has the shape of ``U``."""
        flat, shape = self._matrix_points(U, "U")
        return self._apply(flat).reshape(shape)

    def grad(self, X) -> np.ndarray:
        """``∇f = A (W − W*) B``, row-wise; the result has the shape of ``X`` ((d,), (runs, d), (m, n)
        or (runs, m, n))."""
        flat, shape = self._matrix_points(X, "X")
        return self._apply(flat - self._xstar).reshape(shape)

    @functools.cached_property
    def _sqrt_factor(self):
        with one_thread():
            sa = _sym((self._QA * np.sqrt(self._a)) @ self._QA.T)
            sb = _sym((self._QB * np.sqrt(self._b)) @ self._QB.T)
        return "kron", (sa, sb)

    def noise_factor_sqrt_hessian(self, scale=1.0):
        """``("kron", (scale·A^½, B^½))`` (symmetric square roots): the engine draws
        ``ξ = scale·A^½ Z B^½`` for an m x n matrix Z of i.i.d. draws, covariance
        ``scale²·(A ⊗ B) = scale²·H`` (seed_math.md §5)."""
        scale = check_positive_scalar(scale, "scale")
        _, (sa, sb) = self._sqrt_factor
        return "kron", (np.ascontiguousarray(scale * sa), np.ascontiguousarray(sb))

    # ----------------------------------------------------------------- variants & metadata
    def with_x0(self, x0) -> "MatrixQuadratic":
        """The same problem started from ``x0`` (shape (d,) or (m, n), finite)."""
        flat, shape = self._matrix_points(x0, "x0")
        if flat.ndim != 1:
            raise ValueError(f"x0: expected shape ({self._dim},) or {self._shape}, got {shape}")
        return super().with_x0(flat)

    def __repr__(self):
        m, n = self._shape
        return (f"MatrixQuadratic(shape=({m}, {n}), n_blocks={self.n_blocks}, "
                f"condition_number={self.condition_number:.6g}, noise={self._noise!r}, seed={self._seed})")


def _factor(eigvals, rotation, gen, name, rot_name):
    """(eigenvalues, rotation R, R diag(eigenvalues) Rᵀ) of one factor."""
    lam = _check_eigvals(as_float_array(eigvals, name, ndim=1, positive=True), name)
    k = lam.size
    rot = _parse_rotation(rotation, ("none", "haar"), rot_name)
    if rot == "none" or rot == 0.0:
        return lam, np.eye(k), np.diag(lam)
    check_size(k * k, name, f"a {k} x {k} rotation")
    R = _haar(k, gen) if rot == "haar" else _partial_from(_haar_so(k, gen), rot)
    return lam, R, _sym((R * lam) @ R.T)


def _matrix_arg(x, name, shape):
    """``x0``/``xstar``: None, or a (d,) vector or (m, n) matrix, as a row-major (d,) vector."""
    if x is None:
        return None
    m, n = shape
    a = as_float_array(x, name)
    if a.shape == (m, n):
        return a.reshape(-1)
    if a.shape == (m * n,):
        return a
    raise ValueError(f"{name}: expected shape ({m * n},) or ({m}, {n}), got {a.shape}")


def _partition(blocks, shape):
    m, n = shape
    if isinstance(blocks, str):
        if blocks != "rows":
            raise ValueError(f"blocks: expected None, 'rows' or a list of block sizes, got {blocks!r}")
        return (n,) * m
    return _check_partition(blocks, m * n)


@single_threaded
def matrix_quadratic(A_eigvals, B_eigvals, rotation_A="none", rotation_B="none", noise=None, seed=0,
                     x0=None, xstar=None, blocks=None) -> MatrixQuadratic:
    """A matrix quadratic ``f(W) = ½ <W − W*, A (W − W*) B>`` on ``W`` of shape ``(m, n)`` (module
    docstring), ``m = len(A_eigvals)``, ``n = len(B_eigvals)``.

    - ``A_eigvals``, ``B_eigvals``: the spectra of the factors (1-d, positive, finite);
      ``A = R_A diag(A_eigvals) R_Aᵀ``, ``B = R_B diag(B_eigvals) R_Bᵀ``; the Hessian ``A ⊗ B`` has the
      eigenvalues ``a_i b_j``.
    - ``rotation_A``, ``rotation_B``: ``"none"`` (the factor is diagonal), ``"haar"`` (a Haar-random
      eigenbasis, ``rotations.haar``) or an angle θ ∈ [0, 1] (``rotations.partial``: θ = 0 diagonal,
      θ = 1 the same factor as ``"haar"`` with the same seed, up to rounding), as ``simopt.quadratic``.
    - ``noise``: ``None`` or a :mod:`simopt.noise` model on the d = m n coordinates.
    - ``x0``, ``xstar``: ``(d,)`` row-major vectors or ``(m, n)`` matrices; default seeded standard
      normals (module docstring).
    - ``blocks``: the parameter partition: ``None`` (one block), ``"rows"`` (one block per row of W,
      n coordinates each) or a list of block sizes summing to d.
    """
    a_in = as_float_array(A_eigvals, "A_eigvals", ndim=1, positive=True)
    b_in = as_float_array(B_eigvals, "B_eigvals", ndim=1, positive=True)
    shape = (a_in.size, b_in.size)
    d = shape[0] * shape[1]
    noise = _check_noise(noise)
    seed = _check_seed(seed)
    sizes = _partition(blocks, shape)
    x0 = _matrix_arg(x0, "x0", shape)
    xstar = _matrix_arg(xstar, "xstar", shape)
    children = np.random.SeedSequence(seed).spawn(3)
    g_a, g_b = (np.random.default_rng(s) for s in children[0].spawn(2))
    fa = _factor(a_in, rotation_A, g_a, "A_eigvals", "rotation_A")
    fb = _factor(b_in, rotation_B, g_b, "B_eigvals", "rotation_B")
    with np.errstate(over="ignore", under="ignore"):
        prod = np.multiply.outer(fa[0], fb[0])
    if not np.all(np.isfinite(prod)):
        raise ValueError("A_eigvals, B_eigvals: the Hessian's eigenvalues a_i b_j overflow float64")
    _check_eigvals(prod.reshape(-1), "A_eigvals, B_eigvals (their products a_i b_j)")
    desc = _description("matrix_quadratic", A_eigvals=fa[0], B_eigvals=fb[0],
                        rotation_A=_parse_rotation(rotation_A, ("none", "haar"), "rotation_A"),
                        rotation_B=_parse_rotation(rotation_B, ("none", "haar"), "rotation_B"),
                        noise=_describe_noise(noise), seed=seed, x0=x0, xstar=xstar,
                        blocks=blocks if blocks is None or isinstance(blocks, str) else list(sizes))
    if x0 is None:
        x0 = np.random.default_rng(children[1]).standard_normal(d)
    if xstar is None:
        xstar = np.random.default_rng(children[2]).standard_normal(d)
    return MatrixQuadratic(factors=(fa, fb), shape=shape, sizes=sizes, x0=x0, xstar=xstar, noise=noise,
                           seed=seed, description=desc)
