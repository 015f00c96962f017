"""Orthogonal matrices that set a quadratic's eigenbasis: H = R diag(λ) Rᵀ.

- ``identity(d)``: axis-aligned eigenbasis (the setting where sign descent shines, Balles & Hennig
  2018, Fig. 2; Zhang et al. 2024's block-diagonal Hessians).
- ``haar(d, rng)``: a Haar-distributed (uniformly random) orthogonal matrix.
- ``partial(d, theta, rng)``: a continuous path from the identity (θ = 0) to a Haar draw (θ = 1).
- ``block(sizes, rng)``: block-diagonal with independent Haar blocks (block structure kept).

``rng`` is an int seed (>= 0), a ``SeedSequence`` or a ``Generator``; same seed, same matrix.
All returned matrices are C-contiguous float64 and orthogonal to ~1e-14 (``RᵀR = I``).
"""
from __future__ import annotations

import math

import numpy as np
import scipy.linalg

from ._blas import single_threaded
from ._validate import as_float_array, check_dim, check_int, check_interval, check_size, make_rng

__all__ = ["identity", "haar", "partial", "block", "haar_blocks", "principal_log"]


def identity(d) -> np.ndarray:
    """The ``d × d`` identity."""
    d = check_dim(d, "d", dense=True)
    return np.eye(d)


@single_threaded
def _haar(d: int, gen: np.random.Generator) -> np.ndarray:
    z = gen.standard_normal((d, d))
    q, r = np.linalg.qr(z)
    s = np.sign(np.diag(r))
    s[s == 0] = 1.0
    return np.ascontiguousarray(q * s)  # Q·diag(sign(diag(R)))


def haar(d, rng) -> np.ndarray:
    """A Haar-random orthogonal ``d × d`` matrix: ``Q·diag(sign(diag(R)))`` for the QR factorization
    ``Z = QR`` of a matrix ``Z`` of i.i.d. standard normals.

    Without the sign fix, ``Q`` is not Haar distributed (the QR routine's sign convention biases it);
    with it, ``Q`` is the unique factor with ``diag(R) > 0``, whose law is invariant under left
    multiplication by any orthogonal matrix, i.e. Haar measure on O(d) (Mezzadri 2007).
    """
    d = check_dim(d, "d", dense=True)
    return _haar(d, make_rng(rng, "rng"))


@single_threaded
def _haar_so(d: int, gen: np.random.Generator) -> np.ndarray:
    """Haar draw moved into SO(d): if ``det < 0`` the first column is negated."""
    q = _haar(d, gen)
    if np.linalg.det(q) < 0:
        q[:, 0] = -q[:, 0]
    return q


@single_threaded
def _rotation_angles(q: np.ndarray):
    """Real Schur form of a rotation ``q ∈ SO(d)``: ``q = Z T Zᵀ`` with ``T`` block diagonal,
    blocks ``[[cos φ, −sin φ], [sin φ, cos φ]]`` or ``1``.  Returns ``Z`` and the list of
    ``(i, φ)`` planes ``(Z[:, i], Z[:, i+1])`` with their angles ``φ ∈ (−π, π]``."""
    d = q.shape[0]
    t, z = scipy.linalg.schur(q, output="real")
    planes = []
    negatives = []
    i = 0
    while i < d:
        if i + 1 < d and t[i + 1, i] != 0.0:  # a 2x2 block (LAPACK standard form)
            phi = math.atan2(0.5 * (t[i + 1, i] - t[i, i + 1]), 0.5 * (t[i, i] + t[i + 1, i + 1]))
            planes.append((i, i + 1, phi))
            i += 2
        else:
            if t[i, i] < 0:  # real eigenvalue -1 (eigenvalues of a rotation have modulus 1)
                negatives.append(i)
            i += 1
    # det(q) = +1 so the eigenvalue -1 has even multiplicity: pair those directions into planes
    # rotated by π (the principal logarithm is not unique there; any pairing is a valid log).
    if len(negatives) % 2:
        raise ValueError("q: expected a rotation (det = +1); found an odd number of eigenvalues -1")
    for a, b in zip(negatives[0::2], negatives[1::2]):
        planes.append((a, b, math.pi))
    return z, planes


def _plane_matrix(d: int, planes, fn) -> np.ndarray:
    m = np.zeros((d, d))
    done = np.zeros(d, dtype=bool)
    for a, b, phi in planes:
        m[a, a], m[a, b], m[b, a], m[b, b] = fn(phi)
        done[a] = done[b] = True
    return m, done


@single_threaded
def principal_log(q) -> np.ndarray:
    """The principal real logarithm ``A`` (skew-symmetric, eigenvalues ``±iφ`` with ``|φ| <= π``)
    of a rotation ``q ∈ SO(d)``, so that ``expm(A) = q``.

    Computed from the real Schur form ``q = Z T Zᵀ`` (``T`` block diagonal with plane rotations
    by ``φ_k``, because ``q`` is normal): ``A = Z S Zᵀ`` with ``S`` the blocks ``[[0, −φ_k], [φ_k, 0]]``,
    then antisymmetrized exactly.  Raises ``ValueError`` if ``q`` is not orthogonal with det +1.
    """
    q = as_float_array(q, "q", ndim=2)
    d = q.shape[0]
    if q.shape != (d, d):
        raise ValueError(f"q: expected a square matrix, got shape {q.shape}")
    if not np.allclose(q.T @ q, np.eye(d), atol=1e-10, rtol=0):
        raise ValueError("q: expected an orthogonal matrix (qᵀq = I to 1e-10)")
    if np.linalg.det(q) < 0:
        raise ValueError("q: expected det(q) = +1 (a rotation); a reflection has no real logarithm")
    z, planes = _rotation_angles(q)
    s, _ = _plane_matrix(d, planes, lambda phi: (0.0, -phi, phi, 0.0))
    a = z @ s @ z.T
    return np.ascontiguousarray(0.5 * (a - a.T))


@single_threaded
def _partial_from(q: np.ndarray, theta: float) -> np.ndarray:
    d = q.shape[0]
    if theta == 0.0:
        return np.eye(d)
    if theta == 1.0:
        return np.ascontiguousarray(q)
    z, planes = _rotation_angles(q)

    def rot(phi):
        c, s = math.cos(theta * phi), math.sin(theta * phi)
        return c, -s, s, c

    m, done = _plane_matrix(d, planes, rot)
    idle = np.flatnonzero(~done)
    m[idle, idle] = 1.0  # planes fixed by Q (eigenvalue +1)
    return np.ascontiguousarray(z @ m @ z.T)


def partial(d, theta, rng) -> np.ndarray:
    """A rotation a fraction ``theta ∈ [0, 1]`` of the way from the identity to a Haar draw.

    Draw ``Q`` Haar on O(d) (``haar`` with the same ``rng``); if ``det Q < 0`` negate its first
    column, so that ``Q ∈ SO(d)`` (it is then Haar on SO(d)).  Let ``A = log Q`` be its principal
    real logarithm (skew-symmetric; ``principal_log``).  Return ``R(θ) = expm(θ·A)``, evaluated in
    closed form from the real Schur form ``Q = Z T Zᵀ``: ``R(θ) = Z·blockdiag(rot(θ·φ_k))·Zᵀ``.

    Why this path: ``R(0) = I`` exactly and ``R(1) = Q`` exactly (returned as is), so θ = 1 is a
    genuine Haar rotation ("well mixed" by construction, with no scale to tune, unlike
    ``expm(c·θ·G)`` for a Gaussian skew ``G``, where the mixing depends on the choice of ``c``).
    ``θ ↦ R(θ)`` is a geodesic of SO(d): every rotation angle ``φ_k`` of ``Q`` is scaled by ``θ``, so
    intermediate θ rotate each invariant plane partially.  For a fixed ``rng`` all θ share the same
    ``Q``: a θ sweep with one seed is one continuous path.  The law of ``R(θ)`` is invariant under
    conjugation ``R → V R Vᵀ`` (as that of ``Q`` is, and ``log`` commutes with conjugation), so no
    axis is preferred apart from the identity's own.  ``R(θ)`` is orthogonal to ~1e-14 (``Z`` is).
    """
    d = check_dim(d, "d", dense=True)
    theta = check_interval(theta, "theta", 0.0, 1.0, high_closed=True)
    q = _haar_so(d, make_rng(rng, "rng"))
    return _partial_from(q, theta)


def _check_sizes(sizes, name="sizes") -> list[int]:
    if isinstance(sizes, (str, bytes)) or sizes is None:
        raise TypeError(f"{name}: expected a sequence of positive integers, got {type(sizes).__name__}")
    try:
        items = list(sizes)
    except TypeError:
        raise TypeError(f"{name}: expected a sequence of positive integers, "
                        f"got {type(sizes).__name__}") from None
    if not items:
        raise ValueError(f"{name}: expected at least one block size")
    return [check_int(s, f"{name}[{i}]", minimum=1) for i, s in enumerate(items)]


def haar_blocks(sizes, rng) -> list[np.ndarray]:
    """Independent Haar draws (``haar``), one per block size, drawn in block order from ``rng``."""
    sizes = _check_sizes(sizes)
    check_size(sum(n * n for n in sizes), "sizes", "the blocks' rotations")
    gen = make_rng(rng, "rng")
    return [_haar(n, gen) for n in sizes]


def block(sizes, rng) -> np.ndarray:
    """Block-diagonal orthogonal matrix ``diag(R_1, …, R_B)`` with independent Haar blocks ``R_b`` of
    the given sizes (``haar_blocks``): each block's coordinates are mixed among themselves only."""
    check_size(sum(_check_sizes(sizes)) ** 2, "sizes", "the block-diagonal matrix")
    blocks = haar_blocks(sizes, rng)
    return np.ascontiguousarray(scipy.linalg.block_diag(*blocks))
