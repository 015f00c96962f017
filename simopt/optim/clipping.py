"""Coordinate-wise gradient clipping (Pan & Li 2023, seed_math.md §3)."""
from __future__ import annotations

import math

import numpy as np

from .._validate import check_interval
from .adaptive import Adam
from .base import Optimizer
from .first_order import SGD


def clip_reference(G, fraction):
    r"""Pan & Li's rule for each row g of ``G``: with :math:`a` = |g| sorted in decreasing order and
    n = d, the threshold is :math:`\tau = a_{\lfloor n c\rfloor}` (0-based); then
    :math:`g_i \leftarrow g_i` if :math:`|g_i| < \tau` else :math:`\mathrm{sign}(g_i)\,\tau`.
    ``fraction = c = 0`` leaves g unchanged."""
    if fraction == 0.0:
        return G
    G = np.atleast_2d(G)
    n = G.shape[1]
    a = -np.sort(-np.abs(G), axis=1)
    tau = a[:, math.floor(n * fraction)][:, None]
    return np.where(np.abs(G) < tau, G, np.sign(G) * tau)


class Clipped(Optimizer):
    r"""Coordinate-wise clipping in front of SGD or Adam, as in Pan & Li's ``SGDClip``/``AdamClip``
    (seed_math.md §3).  Each step the threshold is the :math:`\lfloor d c\rfloor`-th largest gradient
    magnitude over *all* coordinates (c = ``fraction``, the fraction of largest coordinates clipped).
    For SGD (with its momentum) the clipped gradient replaces the gradient everywhere; for Adam only the
    first-moment input is clipped, the second moment sees the raw gradient.  Clipping large coordinates
    lowers the directional sharpness of the update (Pan & Li's mechanism, theory_notes.md §1).
    """
    name = "clipped"

    def __init__(self, base, fraction):
        if not isinstance(base, (SGD, Adam)) or isinstance(base, Clipped):
            raise TypeError("base: expected an sgd(...) or adam(...) optimizer (the rules Pan & Li clip), "
                            f"got {base!r}")
        self.base = base
        self.clip_fraction = check_interval(fraction, "fraction", 0.0, 1.0)
        self.code = base.code
        self.lr = base.lr
        self._hyper = {}
        self.name = f"clipped_{base.name}"

    def hyperparams(self):
        return {"fraction": self.clip_fraction, "base": self.base.describe()}

    def describe(self):
        return {"name": "clipped", "fraction": self.clip_fraction, "base": self.base.describe()}

    def __repr__(self):
        return f"clipped({self.base!r}, fraction={self.clip_fraction})"

    def with_lr(self, lr):
        return Clipped(self.base.with_lr(lr), self.clip_fraction)

    def _hp(self, problem):
        return self.base._hp(problem)

    def state_size(self, d, n_blocks):
        return self.base.state_size(d, n_blocks)

    def init_state(self, runs, d, blocks):
        return self.base.init_state(runs, d, blocks)

    def reference_step(self, X, G, state, t, lr, blocks, Gc=None, problem=None):
        return self.base.reference_step(X, G, state, t, lr, blocks,
                                        Gc=clip_reference(G, self.clip_fraction), problem=problem)


def clipped(base_optimizer, fraction) -> Clipped:
    return Clipped(base_optimizer, fraction)


clipped.__doc__ = Clipped.__doc__
