r"""The invariance card of an update rule, measured on runs of the rule.

For each transformation of :data:`simopt.testing.transforms.TRANSFORMATIONS` (rotation, block rotation,
two-sided rotation of a matrix parameter, permutation, sign flip, diagonal rescaling, translation, gradient
scaling) the card answers: does running
the rule on the transformed problem, from the transformed start, give the transformed trajectory?  It
runs the rule with :func:`simopt.run` -- its compiled step, or its NumPy step, exactly as any experiment
does -- on a base problem and on the transformed one, with the same seed (so the same base noise draws,
pushed forward), and measures the **deviation**

.. math::  \delta = \max_{\text{runs}}\ \max_t \frac{\|e'_t - T e_t\|_2}{\max_s \|T e_s\|_2},
           \qquad e_t = x_t - x^*,\ e'_t = x'_t - x^{*\prime}

(the largest distance between the two trajectories in the transformed coordinates, relative to the
trajectory's largest distance from the minimiser; T = I for a translation and a gradient scaling).  The
transformation **holds** when :math:`\delta \le` ``tol`` (default :data:`TOLERANCE` = 1e-4).  Measured
on the built-in rules over the card's 40 steps: rounding gives :math:`\delta` of 1e-16 to 1e-9, up to
4e-6 where a rule amplifies it (full-matrix AdaGrad's :math:`(\delta I + G^{1/2})^{-1}` with
:math:`\delta` = 1e-10, in the near-null directions of G), and a regulariser that breaks an invariance
only at order :math:`\epsilon/\sqrt v` (Adam-type rules under a gradient scaling) 1e-8 to 2e-6; a rule
that is not equivariant gives 1.6e-2 and more.  The tolerance sits more than an order of magnitude from
both, and a declared card is compared with its measurement at this tolerance.

The card's problems (:func:`card_problems`): an axis-aligned quadratic (diagonal H) in d = 6 (or the
``dim`` asked), blocks of 2 and 4 coordinates (1 and 1 for d = 2), eigenvalues log-spaced on [0.5, 4]
(distinct), x* ~ N(0, I), starts x* + N(0, I) (two runs), once noise-free and once with Gaussian noise of
per-coordinate scales around 0.1; each transformation is drawn once (seeded) and measured on both, and
the card keeps the larger deviation.  The base is axis-aligned because the question is what survives a
rotation *of an axis-aligned problem*; a rotation of it reaches every rotated problem.  (On it the
Hutchinson estimate :math:`u \odot Hu = \mathrm{diag}(H)` is exact, so the probe u, which is not
transformed, does not matter to a signed permutation.)

**Matrix-aware rules** (those that read ``rows, cols``: Muon, Shampoo, SOAP's 2-d form) are measured
with ``shape=(m, n)`` on a matrix problem (:func:`simopt.matrix_quadratic`) of that shape instead:
diagonal factors :math:`A = \mathrm{diag}(a)`, :math:`B = \mathrm{diag}(b)` with
:math:`a_i = \tfrac12 r^{ni}`, :math:`b_j = r^j`, :math:`r = 8^{1/(mn-1)}`, so that the m n eigenvalues
:math:`a_i b_j = \tfrac12 r^{ni+j}` are distinct and log-spaced on [0.5, 4] as the vector card's; one
block per row of W; the same x*, starts and noise.  Every transformation keeps the matrix shape (the
transformed problem is again m x n, :mod:`simopt.testing.transforms`), and the two-sided rotation
:math:`W \mapsto UWV^\top` is the one such rules are built for.  A vector rule sees only
:math:`\mathrm{vec}(W)`, to which :math:`U \otimes V` is one more orthogonal map: its two-sided entry,
measured on its vector card where the map is a rotation (U = +-1), is its rotation entry, and it
applies on any flattened matrix (a rotation-equivariant rule is equivariant under every orthogonal map;
one that is not fails for a Haar U, V as for a Haar Q).

A learning rate of about 0.05 suits these problems
(L = 4, :math:`|x_0 - x^*|` ~ 2); a run that diverges makes the card an error, not a verdict.

**Declared cards.**  Every built-in rule module declares the card of each of its constructors in a
module-level ``INVARIANCES`` dict (collected in :data:`simopt.optim.INVARIANCES`)::

    INVARIANCES = {
        "adam": {"make": lambda: adam(0.05),
                 "holds": ("permutation", "sign_flip", "translation", "gradient_scaling"),
                 "why": "coordinate-wise moments: ..."},
    }

-- the label (a constructor's name, or ``name(setting)`` for a variant whose card differs), ``make`` (the
optimizer the card is measured on), ``holds`` (the transformations that hold; every other one fails),
``why`` (one line of the mathematics), and optionally ``dim`` (the card's dimension) or ``shape`` (the
matrix shape of a matrix-aware rule's card).
:func:`declared_cards` reads them, :meth:`Declared.measure` measures one, and :func:`card_table` prints
the declarations as the README's markdown table (the tests hold each declaration equal to its
measurement and the README's table equal to :func:`card_table`).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .. import noise as _noise
from ..engine import run
from ..matrix_problems import matrix_quadratic
from ..optim.rule import Optimizer
from ..problems import quadratic
from ..spectra import logspace
from .._validate import check_int, check_positive_scalar
from .transforms import TRANSFORMATIONS, draw_change

__all__ = ["TOLERANCE", "Card", "Entry", "invariance_card", "card_problems", "Declared", "declared_cards",
           "card_table"]

#: A transformation holds when the card's deviation is at most this.
TOLERANCE = 1e-4


@dataclass(frozen=True)
class Entry:
    """One line of a card: ``holds`` (deviation <= tol), the ``deviation`` and ``where`` it was largest."""

    name: str
    holds: bool
    deviation: float
    where: str


@dataclass
class Card:
    """A measured invariance card: ``entries`` (transformation name -> :class:`Entry`), ``tol``."""

    rule: str
    entries: dict = field(default_factory=dict)
    tol: float = TOLERANCE

    @property
    def holds(self) -> tuple:
        """The transformations that hold, in :data:`~simopt.testing.transforms.TRANSFORMATIONS` order."""
        return tuple(n for n in TRANSFORMATIONS if n in self.entries and self.entries[n].holds)

    @property
    def fails(self) -> tuple:
        return tuple(n for n in TRANSFORMATIONS if n in self.entries and not self.entries[n].holds)

    def __getitem__(self, name) -> Entry:
        return self.entries[name]

    def table(self) -> str:
        """A plain-text table: transformation, holds / fails, deviation, where it was largest."""
        rows = [("transformation", "", "deviation", "largest on")]
        rows += [(TRANSFORMATIONS[n].title, "holds" if e.holds else "FAILS", f"{e.deviation:.1e}", e.where)
                 for n, e in self.entries.items()]
        w = [max(len(r[i]) for r in rows) for i in range(4)]
        lines = [f"invariance card of {self.rule} (holds: deviation <= {self.tol:g})"]
        lines += ["  " + "  ".join(c.ljust(w[i]) for i, c in enumerate(r)).rstrip() for r in rows]
        return "\n".join(lines)

    def __str__(self):
        return self.table()


def _partition(d):
    if d == 2:
        return (1, 1)
    return (d // 3, d - d // 3)


def _check_shape(shape):
    if shape is None:
        return None
    if not (isinstance(shape, (tuple, list)) and len(shape) == 2):
        raise TypeError(f"shape: expected None or a pair (m, n), got {shape!r}")
    m, n = (check_int(v, "shape", minimum=1) for v in shape)
    if m * n < 2:
        raise ValueError(f"shape: expected m n >= 2, got {shape!r}")
    return m, n


def card_problems(dim=6, seed=0, shape=None) -> list:
    """The card's base problems ``[(label, problem)]``: the axis-aligned problem noise-free and noisy
    (module docstring); with ``shape=(m, n)`` the m x n matrix problem (``dim`` is then m n)."""
    shape = _check_shape(shape)
    d = check_int(dim, "dim", minimum=2) if shape is None else shape[0] * shape[1]
    rng = np.random.default_rng(seed)
    sigma = 0.1 * np.exp(rng.uniform(-0.5, 0.5, d))
    if shape is None:
        p = quadratic(logspace(d, 0.5, 4.0), seed=seed + 1, blocks=list(_partition(d)))
    else:
        m, n = shape
        r = 8.0 ** (1.0 / (d - 1))
        p = matrix_quadratic(0.5 * r ** (n * np.arange(m)), r ** np.arange(n), seed=seed + 1, blocks="rows")
    return [("noise-free", p), ("noisy", p.with_noise(_noise.gaussian(sigma)))]


def _errors(problem, optimizer, steps, runs, seed, X0):
    """Errors x_t - x* (runs, steps + 1, d) of the runs, or None if one diverged."""
    res = run(problem, optimizer, steps, runs=runs, seed=seed, x0=X0, record=("x",))
    return None if res.diverged.any() else res.records["x"] - problem.xstar


def _deviation(E2, E1):
    num = np.linalg.norm(E2 - E1, axis=-1).max(axis=-1)
    den = np.linalg.norm(E1, axis=-1).max(axis=-1)
    return float(np.max(num / np.where(den > 0, den, 1.0)))


def invariance_card(optimizer, *, dim=6, shape=None, steps=40, runs=2, seed=0, tol=TOLERANCE,
                    transformations=None) -> Card:
    """Measure ``optimizer``'s invariance card (module docstring) on the card's problems of dimension ``dim``
    (or of matrix ``shape`` (m, n)): ``steps`` steps of ``runs`` runs per problem and transformation;
    ``transformations`` (names) default to all. A transformed run that diverges where the base run did not
    counts as a failure."""
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"optimizer: expected a simopt.optim optimizer, got {type(optimizer).__name__}")
    steps = check_int(steps, "steps", minimum=1)
    runs = check_int(runs, "runs", minimum=1)
    seed = check_int(seed, "seed", minimum=0)
    tol = check_positive_scalar(tol, "tol")
    names = list(TRANSFORMATIONS) if transformations is None else list(transformations)
    bad = [n for n in names if n not in TRANSFORMATIONS]
    if bad:
        raise ValueError(f"transformations: unknown {bad}; expected names from {list(TRANSFORMATIONS)}")
    rng = np.random.default_rng([seed, 1])
    worst = {n: (-1.0, "") for n in names}
    changes = {}
    for label, p in card_problems(dim, seed, shape):
        X0 = p.xstar + rng.standard_normal((runs, p.dim))
        E = _errors(p, optimizer, steps, runs, seed, X0)
        if E is None:
            raise ValueError(f"lr: {optimizer.name} diverged on the card's {label} problem; the card needs "
                             f"runs that stay finite (a smaller learning rate)")
        for n in names:
            if n not in changes:
                changes[n] = draw_change(n, p, rng)
            ch = changes[n]
            q = ch.problem(p)
            E2 = _errors(q, optimizer, steps, runs, seed, X0 @ ch.matrix.T + ch.shift)
            dev = np.inf if E2 is None else _deviation(E2, ch.errors(E))
            if not dev <= worst[n][0]:
                worst[n] = (dev, label)
    entries = {n: Entry(n, bool(worst[n][0] <= tol), worst[n][0], worst[n][1]) for n in names}
    return Card(optimizer.name, entries, tol)


# ------------------------------------------------------------------------------------ declared cards
_KEYS = ("make", "holds", "why", "dim", "shape")


@dataclass(frozen=True)
class Declared:
    """A rule's declared card: ``label``, ``make`` (a function returning the optimizer), ``holds`` (the
    transformations that hold; the others fail), ``why``, the card's ``dim`` and, for a matrix-aware
    rule, its matrix ``shape`` (m, n) (then ``dim`` = m n)."""

    label: str
    make: object
    holds: tuple
    why: str
    dim: int = 6
    shape: tuple | None = None

    @property
    def rule(self) -> str:
        """The constructor's name (the label up to a ``(``)."""
        return self.label.split("(", 1)[0]

    def measure(self, **kw) -> Card:
        """The measured card of ``make()`` (keywords go to :func:`invariance_card`)."""
        card = invariance_card(self.make(), dim=self.dim, shape=self.shape, **kw)
        card.rule = self.label
        return card


def _declared(label, spec) -> Declared:
    where = f"INVARIANCES[{label!r}]"
    if not isinstance(spec, dict):
        raise TypeError(f"{where}: expected a dict with keys {_KEYS}, got {type(spec).__name__}")
    unknown = [k for k in spec if k not in _KEYS]
    missing = [k for k in ("make", "holds", "why") if k not in spec]
    if unknown or missing:
        raise ValueError(f"{where}: unknown keys {unknown} / missing keys {missing}; expected {_KEYS}")
    if not callable(spec["make"]):
        raise TypeError(f"{where}['make']: expected a function returning the optimizer")
    holds = tuple(spec["holds"])
    bad = [n for n in holds if n not in TRANSFORMATIONS]
    if bad:
        raise ValueError(f"{where}['holds']: unknown transformation(s) {bad}; expected names from "
                         f"{list(TRANSFORMATIONS)}")
    why = spec["why"]
    if not isinstance(why, str) or not why.strip() or "\n" in why:
        raise ValueError(f"{where}['why']: expected one line of text, got {why!r}")
    shape = spec.get("shape")
    if shape is not None:
        if "dim" in spec:
            raise ValueError(f"{where}: give 'dim' or 'shape', not both")
        try:
            shape = _check_shape(shape)
        except (TypeError, ValueError) as e:
            raise ValueError(f"{where}['shape']: expected a pair (m, n) with m n >= 2, got {shape!r}") from e
        dim = shape[0] * shape[1]
    else:
        dim = check_int(spec.get("dim", 6), f"{where}['dim']", minimum=2)
    return Declared(label, spec["make"], tuple(n for n in TRANSFORMATIONS if n in holds), why, dim, shape)


def declared_cards() -> list:
    """Every built-in rule's declared card (:class:`Declared`), sorted by label."""
    from ..optim import INVARIANCES
    return [_declared(label, INVARIANCES[label]) for label in sorted(INVARIANCES)]


def card_table(cards=None) -> str:
    """The declared cards as a markdown table: one row per rule, a column per transformation (✓ holds,
    ✗ fails), and the one-line reason."""
    cards = declared_cards() if cards is None else list(cards)
    names = list(TRANSFORMATIONS)
    head = ["rule"] + [TRANSFORMATIONS[n].title for n in names] + ["why"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for c in cards:
        label = f"`{c.label}`" + (f" (W {c.shape[0]}×{c.shape[1]})" if c.shape is not None
                                  else f" (d = {c.dim})" if c.dim != 6 else "")
        marks = ["✓" if n in c.holds else "✗" for n in names]
        lines.append("| " + " | ".join([label] + marks + [c.why.replace("|", "\\|")]) + " |")
    return "\n".join(lines)
