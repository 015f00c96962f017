"""Synthetic quadratic problems ``f(x) = ½ (x − x*)ᵀ H (x − x*)``, ``f* = 0`` (theory_notes.md §0).

``H = R diag(λ) Rᵀ`` is built from a requested spectrum ``λ`` and a rotation ``R``
(``simopt.rotations``), then symmetrized exactly (``(H + Hᵀ)/2``).  A problem knows its *kind*, which
the engine uses to pick its fast path:

- ``"diagonal"``: ``H = diag(λ)`` (no rotation, or a rotation angle θ = 0);
- ``"block"``: ``H = diag(H_1, …, H_B)`` with each ``H_b = R_b diag(λ_b) R_bᵀ`` rotated on its own
  (``block_diagonal(..., rotation="block")``, the block-diagonal Hessians of Zhang et al. 2024);
- ``"dense"``: anything else (a Haar or partial rotation of the whole space);
- ``"kron"``: a matrix-shaped problem, ``H = A ⊗ B`` on the row-major ``vec(W)``
  (:mod:`simopt.matrix_problems`, a subclass of :class:`Quadratic`).

The parameter partition ``blocks`` (contiguous slices covering ``0..d``) is kept whatever the
rotation: a rotated problem still has blocks, it is just no longer block-diagonal in them.

Randomness: the problem's ``seed`` (int >= 0) is turned into ``SeedSequence(seed).spawn(3)``: child
0 draws the rotation, child 1 the default ``x0``, child 2 the default ``x*`` (standard normal), so
changing one of them (e.g. passing ``x0``) never shifts the others.  Same arguments, bit-identical
problem.  A run's gradient noise is seeded separately, by ``simopt.run``.
"""
from __future__ import annotations

import copy
import functools
import math
import numbers

import numpy as np
import scipy.linalg

from . import noise as _noise_mod
from ._blas import one_thread, single_threaded
from ._validate import (as_float_array, check_bool, check_int, check_interval, check_positive_scalar,
                        check_size)
from .rotations import _check_sizes, _haar, _haar_so, _partial_from
from .spectra import as_block_eigvals

__all__ = ["Quadratic", "quadratic", "block_diagonal", "heterogeneous_blocks", "rotated", "ROTATION_TYPES",
           "from_description"]

_KINDS = ("diagonal", "block", "dense")



_ATOMS = (str, int, float, bool, type(None))


def _json_copy(obj):
    """A deep copy of a JSON-like value (dicts, lists, tuples of numbers, strings, None) -- what a
    problem's description is; ``copy.deepcopy`` costs milliseconds on a 1000-entry spectrum list."""
    if isinstance(obj, dict):
        return {k: _json_copy(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        if all(type(v) in _ATOMS for v in obj):
            return list(obj) if isinstance(obj, list) else obj
        out = [_json_copy(v) for v in obj]
        return out if isinstance(obj, list) else tuple(out)
    if type(obj) in _ATOMS:
        return obj
    return copy.deepcopy(obj)

def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a, dtype=np.float64)
    a.setflags(write=False)
    return a


def _sym(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(0.5 * (a + a.T))


def _jsonable(v):
    if isinstance(v, np.ndarray):
        return [_jsonable(x) for x in v.tolist()]
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (numbers.Integral, np.integer)):
        return int(v)
    if isinstance(v, (numbers.Real, np.floating)):
        return float(v)
    if v is None or isinstance(v, str):
        return v
    raise TypeError(f"cannot describe a value of type {type(v).__name__} as JSON")


_NOISE_NAMES = ("gaussian", "correlated_gaussian", "hessian_aligned", "student_t", "sampled_gaussian",
                "sampled_coordinates", "dataset")


def _describe_noise(noise):
    return None if noise is None else _jsonable(noise.describe())


def _noise_from_description(desc):
    if desc is None:
        return None
    desc = dict(desc)
    name = desc.pop("name", None)
    factory = getattr(_noise_mod, str(name), None) if name in _NOISE_NAMES else None
    if factory is None:
        raise ValueError(f"noise: unknown noise model {name!r} in description")
    return factory(**desc)


def _check_noise(noise):
    if noise is None:
        return None
    if not isinstance(noise, _noise_mod.Noise):
        raise TypeError(f"noise: expected None or a simopt.noise model (gaussian, hessian_aligned, "
                        f"student_t, sampled_gaussian, ...), got {type(noise).__name__}")
    return noise


_TINY = float(np.finfo(np.float64).tiny)


def _check_eigvals(lam: np.ndarray, name: str) -> np.ndarray:
    """Eigenvalues must be normal float64 numbers (>= 2.2e-308): a subnormal one has no finite
    reciprocal step (1/λ = inf) and no relative precision."""
    if lam.min() < _TINY:
        raise ValueError(f"{name}: expected eigenvalues >= {_TINY!r} (the smallest normal float64), "
                         f"got {float(lam.min())!r}")
    return lam


def _check_seed(seed) -> int:
    return check_int(seed, "seed", minimum=0)


def _streams(seed: int):
    """(rotation, x0, xstar) generators: independent children of SeedSequence(seed)."""
    return [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(3)]


def _parse_rotation(rotation, allowed: tuple[str, ...], name: str = "rotation"):
    """``rotation`` is one of the ``allowed`` strings or an angle θ ∈ [0, 1] (a real number)."""
    if isinstance(rotation, str):
        if rotation not in allowed:
            raise ValueError(f"{name}: expected one of {', '.join(map(repr, allowed))} or an "
                             f"angle in [0, 1], got {rotation!r}")
        return rotation
    if isinstance(rotation, bool) or not isinstance(rotation, (numbers.Real, np.floating,
                                                               np.integer)):
        raise TypeError(f"{name}: expected one of {', '.join(map(repr, allowed))} or an angle "
                        f"in [0, 1], got {type(rotation).__name__} ({rotation!r})")
    return check_interval(rotation, name, 0.0, 1.0, high_closed=True)


def _check_partition(blocks, d: int) -> tuple[int, ...]:
    if blocks is None:
        return (d,)
    sizes = _check_sizes(blocks, "blocks")
    if sum(sizes) != d:
        raise ValueError(f"blocks: expected block sizes summing to the dimension {d}, "
                         f"got sizes summing to {sum(sizes)}")
    return tuple(sizes)


class Quadratic:
    """``f(x) = ½ (x − x*)ᵀ H (x − x*)`` with a known eigendecomposition.

    Build one with ``quadratic``, ``block_diagonal`` or ``heterogeneous_blocks``; the constructor
    itself takes already-validated internals.  Quantities follow theory_notes.md §0–§1: ``L``,
    ``mu``, ``condition_number``, per-block ``block_L``/``block_condition_numbers`` (of the diagonal
    blocks ``H_bb``), ``linf_smoothness`` (U_∞) and ``linf_strong_convexity`` (μ_∞).
    Arrays exposed by a problem are read-only.
    """

    def __init__(self, *, kind, sizes, lam, rot, x0, xstar, noise, seed, description):
        if kind not in _KINDS:
            raise ValueError(f"kind: expected one of {_KINDS}, got {kind!r}")
        self._kind = kind
        lam = _readonly(lam)
        self._lam = lam  # eigenvalues in column order of the rotation (coordinate order if diagonal)
        self._set_partition(sizes, lam.size)
        self._diag = None
        self._block_matrices = None
        self._H = None
        self._rot = None
        if kind == "diagonal":
            self._diag = lam
        elif kind == "block":
            if len(rot) != len(self._sizes):
                raise ValueError("rot: expected one rotation per block")
            self._rot = tuple(_readonly(r) for r in rot)
            mats = []
            for r, s in zip(self._rot, self._blocks):
                mats.append(_readonly(_sym((r * lam[s]) @ r.T)))
            self._block_matrices = tuple(mats)
        else:
            self._rot = _readonly(rot)
            self._H = _readonly(_sym((self._rot * lam) @ self._rot.T))
        mats = ((self._diag,) if kind == "diagonal" else self._block_matrices
                if kind == "block" else (self._H,))
        if not all(np.all(np.isfinite(m)) for m in mats):
            raise ValueError("eigvals: H = R diag(eigvals) Rᵀ overflows (eigenvalues too large)")
        self._set_points(x0, xstar, noise, seed, description)

    def _set_partition(self, sizes, d: int) -> None:
        """The dimension and the parameter partition (block sizes summing to ``d``)."""
        self._dim = d
        self._sizes = tuple(int(s) for s in sizes)
        starts = np.zeros(len(self._sizes) + 1, dtype=np.int64)
        np.cumsum(self._sizes, out=starts[1:])
        if starts[-1] != d:
            raise ValueError(f"sizes: expected block sizes summing to {d}, got {starts[-1]}")
        starts.setflags(write=False)
        self._starts = starts
        self._blocks = tuple(slice(int(a), int(b)) for a, b in zip(starts[:-1], starts[1:]))

    def _set_points(self, x0, xstar, noise, seed, description) -> None:
        """Start, minimiser, noise and description (once the Hessian is known: checks f(x0))."""
        self._x0 = _readonly(x0)
        self._xstar = _readonly(xstar)
        self._noise = noise
        self._seed = seed
        self._description = description
        self._f0 = self._initial_loss(self._x0)
        self._check_noise_shape()

    def _initial_loss(self, x0) -> float:
        f0 = float(self.loss(x0))
        if not math.isfinite(f0):
            raise ValueError("x0: f(x0) = ½(x0 − x*)ᵀH(x0 − x*) is not finite (overflow: eigvals, "
                             "x0 or xstar too large)")
        g = self.grad(x0)
        with np.errstate(over="ignore"):
            g2 = float(np.dot(g, g))
        if not math.isfinite(g2):
            raise ValueError("eigvals: ‖∇f(x0)‖² = ‖H(x0 − x*)‖² overflows float64 (eigenvalues, x0 "
                             "or xstar too large: no update rule could run on this problem); "
                             "scale the eigenvalues down")
        return f0

    def _check_noise_shape(self):
        if self._noise is not None:
            self._noise.factor(self)  # raises ValueError naming the argument if its shape is not dim

    # ----------------------------------------------------------------- structure
    @property
    def kind(self) -> str:
        """``"diagonal"``, ``"block"`` (block-diagonal, rotated blocks), ``"dense"``, or ``"kron"``
        (a matrix problem, :func:`simopt.matrix_quadratic`: ``H = A ⊗ B``)."""
        return self._kind

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def blocks(self) -> tuple[slice, ...]:
        """The parameter partition: contiguous slices covering ``0..dim``."""
        return self._blocks

    @property
    def block_starts(self) -> np.ndarray:
        """int64 array ``[0, s_1, …, dim]`` of block boundaries (length ``n_blocks + 1``)."""
        return self._starts

    @property
    def n_blocks(self) -> int:
        return len(self._sizes)

    @property
    def block_sizes(self) -> tuple[int, ...]:
        return self._sizes

    @property
    def diag(self):
        """``diag(H)`` as a (d,) array when ``kind == "diagonal"``, else ``None``."""
        return self._diag

    @property
    def block_matrices(self):
        """The diagonal blocks ``H_bb`` (C-contiguous float64) when ``kind == "block"``, else ``None``."""
        return self._block_matrices

    @functools.cached_property
    def _hessian(self) -> np.ndarray:
        if self._kind == "diagonal":
            return _readonly(np.diag(self._diag))
        if self._kind == "block":
            return _readonly(scipy.linalg.block_diag(*self._block_matrices))
        return self._H

    def hessian(self) -> np.ndarray:
        """Dense ``H`` (d, d), cached, read-only."""
        return self._hessian

    @functools.cached_property
    def _eigh(self):
        order = np.argsort(self._lam, kind="stable")
        vals = _readonly(self._lam[order])
        if self._kind == "diagonal":
            q = np.eye(self._dim)[:, order]
        elif self._kind == "block":
            q = scipy.linalg.block_diag(*self._rot)[:, order]
        else:
            q = self._rot[:, order]
        return vals, _readonly(q)

    def eigh(self):
        """``(eigvals, Q)``: eigenvalues ascending and orthogonal ``Q`` with ``H = Q diag(eigvals) Qᵀ``.

        Taken from the construction (the requested spectrum and the rotation), so exact up to the
        rounding of building ``H``; nothing is computed numerically.  Cached, read-only."""
        return self._eigh

    @functools.cached_property
    def eigvals(self) -> np.ndarray:
        """Eigenvalues of ``H``, ascending (the requested spectrum, sorted)."""
        return _readonly(np.sort(self._lam, kind="stable"))

    @functools.cached_property
    def block_eigvals(self) -> list[np.ndarray]:
        """Eigenvalues of each diagonal block ``H_bb``, ascending, one array per block.

        Exact (the requested block spectra) for diagonal and block problems; computed with
        ``eigvalsh`` of the dense ``H_bb`` for dense ones."""
        if self._kind in ("diagonal", "block"):
            return [_readonly(np.sort(self._lam[s], kind="stable")) for s in self._blocks]
        with one_thread():
            return [_readonly(np.linalg.eigvalsh(self._H[s, s])) for s in self._blocks]

    @property
    def L(self) -> float:
        """Smoothness ``L = λ_max(H)``."""
        return float(self.eigvals[-1])

    @property
    def mu(self) -> float:
        """Strong convexity ``μ = λ_min(H)``."""
        return float(self.eigvals[0])

    @property
    def condition_number(self) -> float:
        """``κ = L / μ``."""
        return self.L / self.mu

    @functools.cached_property
    def block_L(self) -> np.ndarray:
        """``L_b = λ_max(H_bb)`` per block."""
        return _readonly(np.array([b[-1] for b in self.block_eigvals]))

    @functools.cached_property
    def block_condition_numbers(self) -> np.ndarray:
        """``κ_b = λ_max(H_bb) / λ_min(H_bb)`` per block."""
        return _readonly(np.array([b[-1] / b[0] for b in self.block_eigvals]))

    @functools.cached_property
    def linf_smoothness(self) -> float:
        """An ℓ∞ smoothness constant ``U_∞ >= max_{s ∈ {±1}^d} sᵀHs`` (theory_notes.md §1, §2C).

        Block-diagonal ``H`` (kind ``"diagonal"`` or ``"block"``): ``U_∞ = P·L_P = Σ_b d_b L_b``, valid
        because ``sᵀHs = Σ_b s_bᵀ H_bb s_b <= Σ_b L_b ‖s_b‖² = Σ_b d_b L_b``.  Otherwise
        ``U_∞ = min(Σ_ij |H_ij|, P·L)`` (both bound ``sᵀHs``).  Used by the sign-descent rate
        ``1 − μ_∞/U_∞`` (the ℓ∞ steepest-descent view of Tomihari & Sato 2025, whose own constants
        are [NF], seed_math.md §1)."""
        if self._kind in ("diagonal", "block"):
            return float(np.dot(np.asarray(self._sizes, dtype=np.float64), self.block_L))
        return float(min(np.abs(self._H).sum(), self._dim * self.L))

    @functools.cached_property
    def _inv_diag(self) -> np.ndarray:
        """``diag(H⁻¹)_i = Σ_k R_ik² / λ_k``."""
        if self._kind == "diagonal":
            return 1.0 / self._diag
        with one_thread():
            if self._kind == "block":
                return np.concatenate([(r * r) @ (1.0 / self._lam[s])
                                       for r, s in zip(self._rot, self._blocks)])
            return (self._rot * self._rot) @ (1.0 / self._lam)

    @functools.cached_property
    def linf_strong_convexity(self) -> float:
        """``μ_∞ = 1 / max_i (H⁻¹)_ii`` (theory_notes.md §1, §2C): ``f = ½ gᵀH⁻¹g <= ‖g‖₁²/(2 μ_∞)``,
        since the convex quadratic ``gᵀH⁻¹g`` on the ℓ1 ball is largest at a vertex ``±e_i``."""
        return float(1.0 / self._inv_diag.max())

    # ----------------------------------------------------------------- point data
    @property
    def x0(self) -> np.ndarray:
        return self._x0

    @property
    def xstar(self) -> np.ndarray:
        return self._xstar

    @property
    def noise(self):
        return self._noise

    @property
    def seed(self) -> int:
        return self._seed

    @property
    def f0(self) -> float:
        """``f(x0)``."""
        return self._f0

    @property
    def rotation(self):
        """The rotation argument the problem was built with (a string or an angle)."""
        return self._description["args"].get("rotation")

    # ----------------------------------------------------------------- evaluation
    def _points(self, X, name="X") -> np.ndarray:
        if isinstance(X, (str, bytes)) or X is None:
            raise TypeError(f"{name}: expected an array of shape ({self._dim},) or "
                            f"(runs, {self._dim}), got {type(X).__name__}")
        a = as_float_array(X, name)  # real, finite, non-empty
        if not ((a.ndim == 1 and a.shape[0] == self._dim)
                or (a.ndim == 2 and a.shape[1] == self._dim)):
            raise ValueError(f"{name}: expected shape ({self._dim},) or (runs, {self._dim}), "
                             f"got {a.shape}")
        return a

    @single_threaded
    def _apply(self, E: np.ndarray) -> np.ndarray:
        """``E H`` row-wise (``H`` is symmetric, so each row is ``H e``)."""
        if self._kind == "diagonal":
            return E * self._diag
        if self._kind == "block":
            out = np.empty_like(E)
            for hb, s in zip(self._block_matrices, self._blocks):
                out[..., s] = E[..., s] @ hb
            return out
        return E @ self._H

    def hvp(self, U) -> np.ndarray:
        """``H u`` for ``U`` of shape (d,) or (runs, d) (row-wise)."""
        return self._apply(self._points(U, "U"))

    def loss(self, X):
        """``f(x) = ½ (x − x*)ᵀ H (x − x*)``: a float for ``X`` of shape (d,), a (runs,) array for
        (runs, d)."""
        E = self._points(X) - self._xstar
        val = 0.5 * np.einsum("...i,...i->...", E, self._apply(E))
        return float(val) if val.ndim == 0 else val

    def grad(self, X) -> np.ndarray:
        """``∇f(x) = H (x − x*)``, row-wise: same shape as ``X`` ((d,) or (runs, d))."""
        return self._apply(self._points(X) - self._xstar)

    @functools.cached_property
    def _sqrt_factor(self):
        if self._kind == "diagonal":
            return "scale", np.sqrt(self._diag)
        with one_thread():
            if self._kind == "block":
                return "blocks", tuple(_sym((r * np.sqrt(self._lam[s])) @ r.T)
                                       for r, s in zip(self._rot, self._blocks))
            return "matrix", _sym((self._rot * np.sqrt(self._lam)) @ self._rot.T)

    def noise_factor_sqrt_hessian(self, scale=1.0):
        """A factor ``A`` with ``A Aᵀ = scale²·H`` (the NQM noise, covariance ∝ H; seed_math.md §5):
        ``("scale", scale·sqrt(diag))`` for diagonal problems, ``("blocks", (scale·R_b Λ_b^½ R_bᵀ, …))``
        for block problems, ``("matrix", scale·R Λ^½ Rᵀ)`` for dense ones (symmetric square roots)."""
        scale = check_positive_scalar(scale, "scale")
        kind, a = self._sqrt_factor
        if kind == "blocks":
            return kind, tuple(np.ascontiguousarray(scale * b) for b in a)
        return kind, np.ascontiguousarray(scale * a)

    # ----------------------------------------------------------------- variants & metadata
    def _copy_with(self, **args):
        new = copy.copy(self)
        new._description = _json_copy(self._description)
        new._description["args"].update(args)
        return new

    def with_noise(self, noise) -> "Quadratic":
        """The same problem with another noise model (or ``None``)."""
        noise = _check_noise(noise)
        new = self._copy_with(noise=_describe_noise(noise))
        new._noise = noise
        new._check_noise_shape()
        return new

    def with_x0(self, x0) -> "Quadratic":
        """The same problem started from ``x0`` (shape (d,), finite)."""
        x0 = as_float_array(x0, "x0", shape=(self._dim,))
        new = self._copy_with(x0=_jsonable(x0))
        new._x0 = _readonly(x0)
        new._f0 = new._initial_loss(new._x0)
        return new

    def describe(self) -> dict:
        """``{"constructor": name, "args": {...}, "kind": ..., "dim": ...}``, JSON-able; rebuild the
        problem with ``simopt.problems.from_description``."""
        out = _json_copy(self._description)
        out["kind"] = self._kind
        out["dim"] = self._dim
        return out

    def __repr__(self):
        return (f"Quadratic(kind={self._kind!r}, dim={self._dim}, n_blocks={self.n_blocks}, "
                f"condition_number={self.condition_number:.6g}, noise={self._noise!r}, "
                f"seed={self._seed})")


# --------------------------------------------------------------------- constructors
def _finish(*, kind, sizes, lam, rot, gens, x0, xstar, noise, seed, description):
    d = lam.size
    if x0 is None:
        x0 = gens[1].standard_normal(d)
    else:
        x0 = as_float_array(x0, "x0", shape=(d,))
    if xstar is None:
        xstar = gens[2].standard_normal(d)
    else:
        xstar = as_float_array(xstar, "xstar", shape=(d,))
    return Quadratic(kind=kind, sizes=sizes, lam=lam, rot=rot, x0=x0, xstar=xstar, noise=noise,
                     seed=seed, description=description)


def _description(name, **args):
    return {"constructor": name, "args": {k: _jsonable(v) for k, v in args.items()}}


@single_threaded
def quadratic(eigvals, rotation="none", noise=None, seed=0, x0=None, xstar=None,
              blocks=None) -> Quadratic:
    """A quadratic with spectrum ``eigvals`` (1-d, positive, finite; kept in the given order on the
    diagonal when not rotated) and eigenbasis ``rotation``:

    - ``"none"``: ``H = diag(eigvals)`` (kind ``"diagonal"``);
    - ``"haar"``: ``H = R diag(eigvals) Rᵀ`` with ``R = rotations.haar`` (kind ``"dense"``);
    - θ ∈ [0, 1]: ``R = rotations.partial(d, θ)`` (θ = 0 gives the diagonal problem, θ = 1 the same
      ``H`` as ``"haar"`` with the same seed, up to rounding).

    ``blocks``: ``None`` (one block) or a list of block sizes summing to ``d`` (the parameter
    partition, used by block-wise optimizers and metrics).  ``x0``/``xstar`` default to seeded
    standard-normal draws (module docstring); ``noise`` is ``None`` or a ``simopt.noise`` model.
    """
    lam = _check_eigvals(as_float_array(eigvals, "eigvals", ndim=1, positive=True), "eigvals")
    d = lam.size
    rot_arg = _parse_rotation(rotation, ("none", "haar"))
    if rot_arg not in ("none", 0.0):
        check_size(d * d, "eigvals", f"a {d} x {d} rotation")
    noise = _check_noise(noise)
    seed = _check_seed(seed)
    sizes = _check_partition(blocks, d)
    if x0 is not None:
        x0 = as_float_array(x0, "x0", shape=(d,))
    if xstar is not None:
        xstar = as_float_array(xstar, "xstar", shape=(d,))
    gens = _streams(seed)
    if rot_arg == "none" or rot_arg == 0.0:
        kind, rot = "diagonal", None
    elif rot_arg == "haar":
        kind, rot = "dense", _haar(d, gens[0])
    else:
        kind, rot = "dense", _partial_from(_haar_so(d, gens[0]), rot_arg)
    desc = _description("quadratic", eigvals=lam, rotation=rot_arg, noise=_describe_noise(noise),
                        seed=seed, x0=x0, xstar=xstar, blocks=None if blocks is None else list(sizes))
    return _finish(kind=kind, sizes=sizes, lam=lam, rot=rot, gens=gens, x0=x0, xstar=xstar,
                   noise=noise, seed=seed, description=desc)


def _block_problem(spectra, rotation, noise, seed, x0, xstar, description_of, within_blocks=False):
    sizes = tuple(b.size for b in spectra)
    lam = _check_eigvals(np.concatenate(spectra), "block_eigvals")
    d = lam.size
    if rotation not in ("none", 0, 0.0):
        check_size(d * d if rotation != "block" else sum(n * n for n in sizes), "block_eigvals",
                   f"the rotation of a {d}-dimensional problem")
    rot_arg = _parse_rotation(rotation, ("block", "none", "global", "haar"))
    within_blocks = check_bool(within_blocks, "within_blocks")
    noise = _check_noise(noise)
    seed = _check_seed(seed)
    if x0 is not None:
        x0 = as_float_array(x0, "x0", shape=(d,))
    if xstar is not None:
        xstar = as_float_array(xstar, "xstar", shape=(d,))
    gens = _streams(seed)
    if within_blocks and rot_arg not in ("block", "none", 0.0):
        # block rotations first (the same draws as rotation="block"), then the global one on top
        inner = _block_diag_matrix([_haar(n, gens[0]) for n in sizes])
        outer = _haar(d, gens[0]) if rot_arg in ("global", "haar") else _partial_from(_haar_so(d, gens[0]), rot_arg)
        kind, rot = "dense", outer @ inner
    elif rot_arg == "block" or (within_blocks and rot_arg in ("none", 0.0)):
        kind, rot = "block", [_haar(n, gens[0]) for n in sizes]
    elif rot_arg == "none" or rot_arg == 0.0:
        kind, rot = "diagonal", None
    elif rot_arg in ("global", "haar"):
        kind, rot = "dense", _haar(d, gens[0])
    else:
        kind, rot = "dense", _partial_from(_haar_so(d, gens[0]), rot_arg)
    desc = description_of(rot_arg, _describe_noise(noise), seed, x0, xstar)
    if within_blocks:
        desc["args"]["within_blocks"] = True
    return _finish(kind=kind, sizes=sizes, lam=lam, rot=rot, gens=gens, x0=x0, xstar=xstar,
                   noise=noise, seed=seed, description=desc)


def _block_diag_matrix(mats):
    return scipy.linalg.block_diag(*mats)


@single_threaded
def block_diagonal(block_eigvals, rotation="block", noise=None, seed=0, x0=None,
                   xstar=None, within_blocks=False) -> Quadratic:
    """A problem whose blocks have the requested spectra ``block_eigvals`` (a list of 1-d positive
    arrays, one per block, in coordinate order; a 2-d array counts as one block per row).

    ``rotation``:
    - ``"block"``: ``H = diag(R_1 Λ_1 R_1ᵀ, …)`` with independent Haar ``R_b`` (kind ``"block"``): each
      diagonal block ``H_bb`` has exactly the spectrum ``Λ_b`` (Zhang et al. 2024's block-diagonal
      Hessians, seed_math.md §2);
    - ``"none"``: ``H = diag(Λ_1, …, Λ_B)`` (kind ``"diagonal"``);
    - ``"global"`` (alias ``"haar"``): the axis-aligned ``H`` rotated by one Haar ``R`` of the whole
      space (kind ``"dense"``; the blocks are kept as the parameter partition);
    - θ ∈ [0, 1]: a global partial rotation ``rotations.partial`` of the axis-aligned ``H``
      (θ = 0: diagonal; θ = 1: the same ``H`` as ``"global"`` with the same seed, up to rounding).

    ``within_blocks=True`` rotates each block by its own Haar rotation *first* (the same draws as
    ``"block"``) and then applies the global ``rotation`` on top: ``H = R_g diag(R_b Λ_b R_bᵀ) R_gᵀ``.
    With θ this is a continuous path from Zhang et al.'s block-diagonal Hessian (θ = 0, identical to
    ``rotation="block"``) to a fully rotated one (θ = 1) along which the block structure dissolves.
    """
    spectra = as_block_eigvals(block_eigvals)

    def description_of(rot_arg, noise_desc, seed, x0, xstar):
        return _description("block_diagonal", block_eigvals=spectra, rotation=rot_arg,
                            noise=noise_desc, seed=seed, x0=x0, xstar=xstar)

    return _block_problem(spectra, rotation, noise, seed, x0, xstar, description_of, within_blocks)


def heterogeneous_block_spectra(n_blocks, block_size, heterogeneity, condition_number=5000.0,
                                block_width=None) -> list[np.ndarray]:
    """The block spectra of ``heterogeneous_blocks`` (one ascending array per block); see there."""
    B = check_int(n_blocks, "n_blocks", minimum=1)
    n = check_int(block_size, "block_size", minimum=1)
    check_size(B * n, "n_blocks, block_size", f"{B} x {n} eigenvalues")
    h = check_interval(heterogeneity, "heterogeneity", 0.0, 1.0, high_closed=True)
    kappa = check_positive_scalar(condition_number, "condition_number")
    if kappa <= 1.0:
        raise ValueError(f"condition_number: expected a number > 1, got {kappa!r}")
    if block_width is None:
        w = 1.0 / (4.0 * B)
    else:
        w = check_interval(block_width, "block_width", 0.0, 1.0, high_closed=True)
    if B == 1 and n == 1:
        raise ValueError(f"n_blocks, block_size: a 1-dimensional problem has condition number 1 "
                         f"and cannot reach condition_number={kappa!r}")
    if B == 1:  # the block is the whole problem: it must span [1, κ] whatever h
        c = np.zeros(1)
        w = 1.0
    else:
        c = np.arange(B, dtype=np.float64) / (B - 1)
    if n == 1:  # one eigenvalue per block: the blocks' positions alone span [1, κ]
        e = c[:, None] * np.ones((1, 1))
    else:
        s = np.arange(n, dtype=np.float64) / (n - 1)
        e = (1.0 - h) * s[None, :] + h * (c[:, None] * (1.0 - w) + w * s[None, :])
    e = np.clip(e, 0.0, 1.0)
    e[0, 0] = 0.0    # mathematically exact end points (guard against rounding of 1 − w + w)
    e[-1, -1] = 1.0
    lam = np.power(kappa, e)
    return [np.ascontiguousarray(row) for row in lam]


@single_threaded
def heterogeneous_blocks(n_blocks, block_size, heterogeneity, condition_number=5000.0,
                         rotation="block", noise=None, seed=0, x0=None, xstar=None,
                         block_width=None, within_blocks=False) -> Quadratic:
    """``n_blocks`` blocks of ``block_size`` coordinates whose spectra go from identical
    (``heterogeneity = 0``) to separated bands (``heterogeneity = 1``) at a fixed global
    condition number ``κ = condition_number`` (Zhang et al. 2024's homogeneous vs heterogeneous
    block Hessians, seed_math.md §2; the paper's exact spectra are [NF], this is simopt's design).

    In log-κ units, with ``c_b = b/(B−1)`` (block position), ``s_j = j/(n−1)`` (position within the
    block) and ``w = block_width`` (default ``1/(4B)``):

        log λ_bj / log κ = (1 − h)·s_j + h·(c_b·(1 − w) + w·s_j).

    Every exponent is a convex combination of numbers in [0, 1]; block 0's first is 0 and block
    B−1's last is 1 for every h, so the global spectrum spans exactly [1, κ] (condition number
    exactly κ) for all h.  h = 0: every block is log-spaced over [1, κ] (identical spectra,
    κ_b = κ).  h = 1: block b is log-spaced over ``[κ^{c_b(1−w)}, κ^{c_b(1−w)+w}]`` (κ_b = κ^w,
    bands separated when w < 1/B).  Special cases: ``n_blocks = 1`` — the block is the whole
    problem, log-spaced over [1, κ] whatever h and w; ``block_size = 1`` — block b's single
    eigenvalue is κ^{c_b} whatever h and w (every 1×1 block is perfectly conditioned);
    both = 1 is rejected (a 1-d problem cannot have κ > 1).

    ``rotation``, ``noise``, ``seed``, ``x0``, ``xstar``, ``within_blocks`` as in ``block_diagonal``
    (default ``"block"``: each block independently Haar-rotated, so H is block-diagonal but not
    diagonal).
    """
    spectra = heterogeneous_block_spectra(n_blocks, block_size, heterogeneity, condition_number,
                                          block_width)

    def description_of(rot_arg, noise_desc, seed, x0, xstar):
        return _description("heterogeneous_blocks", n_blocks=n_blocks, block_size=block_size,
                            heterogeneity=heterogeneity, condition_number=condition_number,
                            rotation=rot_arg, noise=noise_desc, seed=seed, x0=x0, xstar=xstar,
                            block_width=block_width)

    return _block_problem(spectra, rotation, noise, seed, x0, xstar, description_of, within_blocks)


#: the rotation types of :func:`rotated` (besides an angle θ ∈ [0, 1])
ROTATION_TYPES = ("eigenbasis", "block", "global")
_KEEP = object()


def _full_rotation(problem) -> np.ndarray:
    """The orthogonal R of a problem's construction, H = R diag(lam) Rᵀ (lam in column order)."""
    if problem.kind == "diagonal":
        return np.eye(problem.dim)
    if problem.kind == "block":
        return _block_diag_matrix(problem._rot)
    return np.asarray(problem._rot)


@single_threaded
def rotated(base, rotation, seed=0, noise=_KEEP, x0=None) -> Quadratic:
    """The problem ``base`` seen in rotated coordinates: f'(x) = f(Sᵀx) for an orthogonal S, so
    ``H' = S H Sᵀ``, ``x*' = S x*`` and, by default, ``x0' = S x0`` (the same loss at the start).

    ``rotation`` (S):

    - ``"eigenbasis"``: the rotation *to* the Hessian's eigenbasis, S = Rᵀ for the construction
      H = R diag(λ) Rᵀ, so H' = diag(λ) (kind ``"diagonal"``).  For a block-diagonal ``base``,
      R = diag(R_1, …, R_B) and each block goes to its own eigenbasis, so the eigenvalues stay in
      their blocks (block b of H' has exactly the spectrum of H_bb);
    - ``"block"``: S = diag(S_1, …, S_B), independent Haar rotations of the base's blocks
      (``rotations.haar_blocks``): coordinates mix within blocks only; H' stays block-diagonal
      when H is;
    - ``"global"``: S Haar on O(d) (``rotations.haar``);
    - θ ∈ [0, 1]: S = ``rotations.partial(d, θ)``, a geodesic from the identity (θ = 0: H' = H) to a
      Haar rotation (θ = 1).

    These are the rotation types of Zhang, Maes et al. (2025, arXiv 2410.19964: none, within-block,
    global random) with the eigenbasis as the structured end, and the rotation path of Xie,
    Mohamadi & Li (2025, arXiv 2410.08198).  A rotation-equivariant rule (GD, SGD with momentum)
    follows the rotated trajectory exactly, x'_t = S x_t; a coordinate-wise one (Adam, sign
    descent) does not.  The draws come from ``seed`` (child 0 of ``SeedSequence(seed)``), so
    the same (base, rotation, seed) gives the same problem, and θ values of one seed lie on one
    path.  The parameter partition is the base's.  ``noise``: the base's model unless given
    (``None`` for none); ``x0``: the rotated start ``S x0`` unless given.
    """
    if not isinstance(base, Quadratic):
        raise TypeError(f"base: expected a simopt problem (Quadratic), got {type(base).__name__}")
    rot_arg = _parse_rotation(rotation, ROTATION_TYPES)
    seed = _check_seed(seed)
    noise = base.noise if noise is _KEEP else _check_noise(noise)
    d, lam = base.dim, np.asarray(base._lam)
    sizes = base.block_sizes
    gen = _streams(seed)[0]
    if rot_arg == "eigenbasis":
        R = _full_rotation(base)
        kind, rot, S = "diagonal", None, R.T
    elif rot_arg == "block":
        check_size(sum(n * n for n in sizes), "base", "the blocks' rotations")
        blocks = [_haar(n, gen) for n in sizes]
        if base.kind == "diagonal":
            kind, rot = "block", blocks
        elif base.kind == "block":
            kind, rot = "block", [sb @ rb for sb, rb in zip(blocks, base._rot)]
        else:
            kind, rot = "dense", _block_diag_matrix(blocks) @ np.asarray(base._rot)
        S = _block_diag_matrix(blocks)
    else:
        check_size(d * d, "base", f"a {d} x {d} rotation")
        S = _haar(d, gen) if rot_arg == "global" else _partial_from(_haar_so(d, gen), rot_arg)
        kind, rot = "dense", S @ _full_rotation(base)
    if x0 is None:
        x0 = S @ base.x0
    else:
        x0 = as_float_array(x0, "x0", shape=(d,))
    desc = _description("rotated", base=base.describe(), rotation=rot_arg, seed=seed,
                        noise=_describe_noise(noise), x0=None)
    desc["args"]["base"].pop("kind", None)
    desc["args"]["base"].pop("dim", None)
    return Quadratic(kind=kind, sizes=sizes, lam=lam, rot=rot, x0=x0, xstar=S @ base.xstar,
                     noise=noise, seed=seed, description=desc)


_CONSTRUCTORS = {"quadratic": quadratic, "block_diagonal": block_diagonal,
                 "heterogeneous_blocks": heterogeneous_blocks, "rotated": rotated}


def from_description(description) -> Quadratic:
    """Rebuild a problem from ``Quadratic.describe()`` (e.g. as stored by a sweep), the data problems of
    ``simopt.data_problems`` included."""
    if not isinstance(description, dict):
        raise TypeError(f"description: expected a dict from Quadratic.describe(), "
                        f"got {type(description).__name__}")
    from .matrix_problems import matrix_quadratic
    from .data_problems import CONSTRUCTORS as data_constructors
    constructors = {**_CONSTRUCTORS, "matrix_quadratic": matrix_quadratic}
    name = description.get("constructor")
    if name not in constructors and name not in data_constructors:
        raise ValueError(f"description: unknown constructor {name!r}; expected one of "
                         f"{sorted(constructors) + sorted(data_constructors)}")
    args = dict(description.get("args", {}))
    if name in data_constructors:
        # a data problem's noise is its sampler; "noise" is in its description only after with_noise
        has_noise = "noise" in args
        noise = _noise_from_description(args.pop("noise", None))
        problem = data_constructors[name](**args)
        return problem.with_noise(noise) if has_noise else problem
    args["noise"] = _noise_from_description(args.get("noise"))
    if name == "rotated":
        args["base"] = from_description(args.get("base"))
    return constructors[name](**args)
