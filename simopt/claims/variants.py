"""Protocol variants and negative controls: named transformations of a claim.

A :class:`Variant` is a methodological choice the claim should not depend on -- the reading of
T(eps) (first-hit vs persistent), the tuning criterion, the grid resolution, or, for a setting the
paper leaves unknown, a plausible alternative (another noise model, another problem construction).
The claim is checked under each variant with the same thresholds; the overall status says whether
its verdict survives them (:mod:`simopt.claims.verdicts`).

A :class:`Control` removes the mechanism a claim is about (a rotated eigenbasis for a coordinate-wise
effect, homogeneous blocks for a block-heterogeneity effect) and declares the verdict expected then
-- usually FAIL: the effect should disappear with its cause.  It is checked and reported with the
claim.

Both carry a function ``claim -> claim`` (built by the helpers below from field changes) and a
description for the report.
"""
from __future__ import annotations

from dataclasses import dataclass

from .verdicts import VERDICTS

__all__ = ["Variant", "Control", "first_hit", "persistent", "tuned_by", "finer_grid", "protocol",
           "setting", "control"]


def _check_name(name, what):
    if not isinstance(name, str) or not name:
        raise TypeError(f"name: expected a non-empty string naming the {what}, got {name!r}")
    return name


def _checked(apply, claim, what, name):
    from .claim import Claim
    out = apply(claim)
    if not isinstance(out, Claim):
        raise TypeError(f"{what} {name!r}: its transformation returned {type(out).__name__}, "
                        f"expected a Claim")
    return out


@dataclass(frozen=True)
class Variant:
    """A named transformation of a claim under which its verdict is checked again."""
    name: str
    apply: object
    description: str = ""

    def __post_init__(self):
        _check_name(self.name, "variant")
        if not callable(self.apply):
            raise TypeError(f"apply: expected a callable claim -> claim, got {type(self.apply).__name__}")

    def __call__(self, claim):
        return _checked(self.apply, claim, "variant", self.name)


@dataclass(frozen=True)
class Control:
    """A negative control: the claim with its mechanism removed, and the verdict(s) expected then."""
    name: str
    apply: object
    expected: tuple = ("FAIL",)
    description: str = ""

    def __post_init__(self):
        _check_name(self.name, "control")
        if not callable(self.apply):
            raise TypeError(f"apply: expected a callable claim -> claim, got {type(self.apply).__name__}")
        exp = (self.expected,) if isinstance(self.expected, str) else tuple(self.expected)
        if not exp or any(e not in VERDICTS for e in exp):
            raise ValueError(f"expected: expected verdict(s) among {VERDICTS}, got {self.expected!r}")
        object.__setattr__(self, "expected", exp)

    def __call__(self, claim):
        return _checked(self.apply, claim, "control", self.name)


# ---- the standard variants -------------------------------------------------------------------
#: the same criterion under the other reading of T(eps)
_TO_FIRST_HIT = {"persistent": "first_hit", "persistent_ert": "ert"}
_TO_PERSISTENT = {v: k for k, v in _TO_FIRST_HIT.items()}


def first_hit(name="first-hit T") -> Variant:
    """T(eps) read as the first hit ("how soon can it get there") instead of the persistent T, in
    the measurement and, where the protocol tunes by the persistent T (its median or its ERT), in
    the tuning too (by the first-hit median or ERT)."""
    def apply(c):
        p = c.protocol
        if p.criterion in _TO_FIRST_HIT:
            p = p.replace(criterion=_TO_FIRST_HIT[p.criterion])
        return c.replace(reading="first_hit", protocol=p)
    return Variant(name, apply, "T(eps) read (and, where tuned by T, tuned) as the first hit "
                                "instead of the persistent T")


def persistent(name="persistent T") -> Variant:
    """The reverse of :func:`first_hit`: T(eps) read (and tuned, where tuned by the first hit --
    its median or ERT) as the persistent T ("when has it converged")."""
    def apply(c):
        p = c.protocol
        if p.criterion in _TO_PERSISTENT:
            p = p.replace(criterion=_TO_PERSISTENT[p.criterion])
        return c.replace(reading="persistent", protocol=p)
    return Variant(name, apply, "T(eps) read (and, where tuned by T, tuned) as the persistent T "
                                "instead of the first hit")


def tuned_by(criterion, name=None) -> Variant:
    """Every method tuned by another criterion (``"final"``, ``"first_hit"``, ``"persistent"``,
    ``"ert"``, ``"persistent_ert"``); the measurement is unchanged."""
    from .protocol import CRITERIA
    if criterion not in CRITERIA:
        raise ValueError(f"criterion: expected one of {list(CRITERIA)}, got {criterion!r}")
    return Variant(name or f"tuned by {criterion}",
                   lambda c: c.replace(protocol=c.protocol.replace(criterion=criterion)),
                   f"every method tuned by the {criterion} criterion instead")


def finer_grid(resolution=1.0 / 16, name=None) -> Variant:
    """The lr grid refined to at most ``resolution`` decades around each optimum (default 1/16)."""
    return Variant(name or f"finer grid (1/{round(1 / resolution):d} decade)",
                   lambda c: c.replace(protocol=c.protocol.replace(resolution=resolution)),
                   f"lr refined to <= {resolution:g} decade around each optimum")


def protocol(name, description="", **fields) -> Variant:
    """Some fields of the tuning protocol changed, e.g. ``protocol("beta2 tuned", hyper=...)``."""
    return Variant(name, lambda c: c.replace(protocol=c.protocol.replace(**fields)),
                   description or ", ".join(f"{k}={v!r}" for k, v in fields.items()))


def setting(name, description="", **fields) -> Variant:
    """Fields of the claim replaced, e.g. an alternative noise model:
    ``setting("H^2 noise", family=lambda s: ...)``."""
    if not description:
        raise ValueError("description: say what the alternative setting is (it goes into the report)")
    return Variant(name, lambda c: c.replace(**fields), description)


def control(name, description, expected="FAIL", **fields) -> Control:
    """A negative control from replaced claim fields, e.g. the same claim on a Haar-rotated
    problem: ``control("rotated eigenbasis", "...", family=lambda s: ...)``."""
    if not description:
        raise ValueError("description: say which mechanism the control removes")
    return Control(name, lambda c: c.replace(**fields), expected, description)
