"""Update rules.  Each built-in rule is one module of :mod:`simopt.optim.rules` -- hyperparameters and their
validation, state layout, the plain-NumPy reference step written from the paper's formula, and the
compiled step -- and every constructor a module lists in ``__all__`` is exported here and known to
:func:`make`.  Users declare their own rules with :func:`rule` / :func:`numpy_rule`
(:mod:`simopt.optim.rule` documents the protocol); built-in and user rules take exactly the same path
through the engine.  Where ``torch.optim`` defines the same rule (SGD, Adam, AdamW, RMSprop, Adagrad) its
conventions are followed.  :func:`from_torch` and :func:`from_optax` (:mod:`simopt.optim.adapters`) make a
rule of any ``torch.optim`` optimizer or optax transformation."""
from __future__ import annotations

import importlib
import inspect
import pkgutil

from . import rules as _rules
from .adapters import from_optax, from_torch
from .rule import ENGINE_NAMES, Hyper, Optimizer, RuleDef, Wrapper, numpy_rule, rule

#: name -> constructor of every built-in rule (the names ``make`` and sweep specs accept)
REGISTRY: dict = {}
_WRAPPERS = []        # constructors ``wrapper(base_optimizer, **own)`` (a module lists them in WRAPPERS)

for _info in sorted(pkgutil.iter_modules(_rules.__path__), key=lambda m: m.name):
    _mod = importlib.import_module(f"{_rules.__name__}.{_info.name}")
    for _name in getattr(_mod, "__all__", ()):
        globals()[_name] = getattr(_mod, _name)
    for _name in getattr(_mod, "RULES", getattr(_mod, "__all__", ())):
        REGISTRY[_name] = getattr(_mod, _name)
    _WRAPPERS += list(getattr(_mod, "WRAPPERS", ()))
del _info, _mod, _name
_WRAPPERS = tuple(_WRAPPERS)


def _wrapper_args(name) -> tuple:
    """(required, optional) own arguments of a wrapper constructor (all but the base optimizer)."""
    params = list(inspect.signature(REGISTRY[name]).parameters.values())[1:]
    return (tuple(p.name for p in params if p.default is p.empty),
            tuple(p.name for p in params if p.default is not p.empty))


def make(name, **kwargs) -> Optimizer:
    """Build a rule by name: ``make("adam", lr=1e-3, beta2=0.99)``, or a user's rule by import path,
    ``make("mypkg.rules:lion", lr=1e-4)``.

    ``make("clipped", base="adam", fraction=0.5, lr=..., **base_hyperparams)`` clips the named base rule
    (``base`` may also be a description dict); every wrapper (``clipped``, ``cautious``) is made so, its
    own arguments beside ``base``.  Unknown names or arguments raise an error naming the allowed ones.
    """
    if not isinstance(name, str):
        raise TypeError(f"name: expected a rule name (str), got {type(name).__name__}")
    if name in _WRAPPERS:
        kwargs = dict(kwargs)
        required, optional = _wrapper_args(name)
        if "base" not in kwargs or any(k not in kwargs for k in required):
            keys = " and ".join(repr(k) for k in required)
            raise ValueError(f"{name}: expected keys 'base' (a rule name or description)"
                             + (f" and {keys}" if keys else ""))
        base = kwargs.pop("base")
        own = {k: kwargs.pop(k) for k in required + optional if k in kwargs}
        inner = from_description(base) if isinstance(base, dict) else make(base, **kwargs)
        return REGISTRY[name](inner, **own)
    if ":" in name:
        from .rule import _import_ref
        ctor = _import_ref(name)
        if not isinstance(ctor, RuleDef):
            raise TypeError(f"name: {name!r} is not a rule declared with simopt.optim.rule "
                            f"(got {type(ctor).__name__})")
    elif name not in REGISTRY:
        raise ValueError(f"name: unknown optimizer {name!r}; expected one of {sorted(REGISTRY)} or an "
                         f"import path 'module:rule'")
    else:
        ctor = REGISTRY[name]
    allowed = list(signature(ctor).parameters)
    unknown = [k for k in kwargs if k not in allowed]
    if unknown:
        raise ValueError(f"{name}: unknown argument(s) {unknown}; allowed: {allowed}")
    try:
        return ctor(**kwargs)
    except TypeError as e:
        if "missing" in str(e):
            raise ValueError(f"{name}: {e}") from None
        raise


def signature(ctor) -> inspect.Signature:
    """The call signature of a constructor or a :class:`RuleDef` (lr, hyperparameters, weight_decay)."""
    if isinstance(ctor, RuleDef):
        P = inspect.Parameter
        params = [P("lr", P.POSITIONAL_OR_KEYWORD)] if ctor.has_lr else []
        for k, h in ctor.hyper.items():
            params.append(P(k, P.KEYWORD_ONLY, **({} if h.default is None or h.default is _required()
                                                  else {"default": h.default})))
        if ctor.decay is not None:
            params.append(P("weight_decay", P.KEYWORD_ONLY, default=0.0))
        return inspect.Signature(params)
    return inspect.signature(ctor)


def _required():
    from .rule import _REQUIRED
    return _REQUIRED


def from_description(desc: dict) -> Optimizer:
    """Rebuild an optimizer from ``Optimizer.describe()``."""
    if not isinstance(desc, dict) or "name" not in desc:
        raise TypeError(f"desc: expected a dict from Optimizer.describe(), got {desc!r}")
    d = dict(desc)
    name = d.pop("name")
    if name in _WRAPPERS:
        base = d.pop("base")
        return REGISTRY[name](from_description(base), **d)
    if isinstance(d.get("lr"), dict):
        raise ValueError("desc: an optimizer with a learning-rate schedule cannot be rebuilt from its "
                         "description; build it with its schedule (simopt.schedules) instead")
    if d.get("lr", 0) is None:
        del d["lr"]
    return make(name, **d)


__all__ = sorted(REGISTRY) + [
    "make", "signature", "from_description", "REGISTRY", "Optimizer", "RuleDef", "Wrapper", "Hyper",
    "rule", "numpy_rule", "ENGINE_NAMES", "from_torch", "from_optax", "clip_reference", "svag_factor",
    "gd_step_size",
]
