r"""Coordinate-wise gradient clipping (Pan & Li 2023, seed_math.md §3), a wrapper around any rule.

Each step the threshold is the :math:`\lfloor d c\rfloor`-th largest gradient magnitude (0-based) over
*all* coordinates (c = ``fraction``, the fraction of largest coordinates clipped); then
:math:`g_i \leftarrow g_i` if :math:`|g_i| < \tau` else :math:`\mathrm{sign}(g_i)\,\tau`; c = 0 leaves
g unchanged.  The wrapped rule sees the clipped gradient, except that a rule taking ``gm`` (the
first-moment input, e.g. :func:`simopt.optim.adam`) gets the clipped gradient there only and the raw one
for its second moment -- exactly Pan & Li's ``SGDClip`` and ``AdamClip``.  Clipping large coordinates
lowers the directional sharpness of the update (their mechanism, theory_notes.md §1).
"""
import math

import numpy as np

from ..rule import Hyper, Optimizer, Wrapper

__all__ = ["clipped", "clip_reference"]
RULES = ("clipped",)
WRAPPERS = ("clipped",)


def step(out, g, fraction):
    n = g.shape[0]
    if fraction <= 0.0:
        for i in range(n):
            out[i] = g[i]
        return
    a = np.sort(np.abs(g))               # ascending: the k-th largest is at n - 1 - k
    tau = a[n - 1 - int(math.floor(n * fraction))]
    for i in range(n):
        v = g[i]
        out[i] = v if abs(v) < tau else np.sign(v) * tau


def clip_reference(g, fraction):
    """Pan & Li's clipping of each row of ``g`` (NumPy)."""
    g = np.atleast_2d(g)
    if fraction == 0.0:
        return g.copy()
    n = g.shape[1]
    a = -np.sort(-np.abs(g), axis=1)
    tau = a[:, math.floor(n * fraction)][:, None]
    return np.where(np.abs(g) < tau, g, np.sign(g) * tau)


def reference(out, g, fraction):
    out[...] = clip_reference(g, fraction)


CLIP = Wrapper("clipped", "gradient", step=step, reference=reference,
               hyper={"fraction": Hyper(interval="[0, 1)")})


def clipped(base_optimizer, fraction) -> Optimizer:
    if not isinstance(base_optimizer, Optimizer):
        raise TypeError(f"base_optimizer: expected a simopt.optim optimizer, got "
                        f"{type(base_optimizer).__name__}")
    return base_optimizer.wrapped(CLIP, fraction=fraction)


clipped.__doc__ = __doc__
