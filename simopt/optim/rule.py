r"""The update-rule protocol: one rule is one small unit, built-in or a user's own.

A rule (:class:`RuleDef`) declares

- its **hyperparameters** (:class:`Hyper`: kind, valid range, default) -- the learning rate is not one of
  them, every rule with a step size takes ``lr`` (a float or a :mod:`simopt.schedules` schedule);
- its per-run **state**: named slots with a shape written in ``d`` (dimension), ``nb`` (number of
  blocks) and ``M`` (gradient draws per step), e.g. ``{"m": "d", "v": "d"}`` or ``{"Q": ("d", "d")}``;
  every slot starts at zero (a rule that needs another start sets it at ``t == 1``);
- a **compiled step** for one run -- a plain Python function in Numba's nopython subset, compiled by the
  engine -- and/or a **NumPy step** for the whole batch of runs (the readable reference of a built-in
  rule, or a quick prototype that runs without compiling).

Both steps update ``x`` and the state *in place* and name the arguments they need; the engine binds each
name (the same names in both forms; in the NumPy step every array has a leading runs axis):

======================  ======================================================================
``x``                   the iterate, measured from the minimiser: ``x - x*`` (every
                        translation-equivariant rule is unaffected; weight decay is applied by
                        the engine on the absolute ``x``, see below)
``g``                   the stochastic gradient (at the rule's gradient point, see ``point``)
``gm``                  the gradient a first moment should average: ``g``, except under
                        :func:`simopt.optim.clipped`, which (as Pan & Li's AdamClip) clips only it
``grads``               all ``M`` independent draws of the stochastic gradient, ``(M, d)``;
                        ``g`` is ``grads[0]``
``t``                   the 1-based step count (int)
``lr``                  this step's learning rate (1.0 for a rule without one)
``blocks``              int64 block boundaries ``[0, s_1, ..., d]``
``xstar``               the minimiser x* (read-only)
``hdiag``               the exact Hessian diagonal diag(H) (read-only)
``hutchinson``          ``u * (H u)`` with ``u`` Rademacher from the run's own stream, drawn every
                        step (E[u * Hu] = diag(H); Hutchinson 1990)
``rows``, ``cols``      the parameter's matrix shape (ints): a matrix problem's ``(m, n)``, with
                        ``x.reshape((rows, cols))`` the matrix in row-major order; ``(1, d)`` for a
                        vector problem
<a state slot>          that slot's array, shaped as declared
<a hyperparameter>      its value: float; bool; int; or the index of a ``choice``
<a derived constant>    a value the rule computes from the problem (``derive``)
======================  ======================================================================

A user's rule, compiled, cached, and usable everywhere a built-in is (``tune_lr``, sweeps, Dask)::

    import numpy as np
    from simopt.optim import rule

    @rule(hyper={"beta1": 0.9, "beta2": 0.99}, state={"m": "d"})
    def lion(x, g, m, lr, beta1, beta2):
        # Chen et al. 2023, Alg. 2: c = b1 m + (1-b1) g; x -= lr sign(c); m = b2 m + (1-b2) g
        for i in range(x.shape[0]):
            c = beta1 * m[i] + (1.0 - beta1) * g[i]
            x[i] -= lr * np.sign(c)
            m[i] = beta2 * m[i] + (1.0 - beta2) * g[i]

    opt = lion(lr=1e-4, beta1=0.95)          # an Optimizer, like simopt.optim.adam(1e-3)

Put the rule in an importable module (not ``__main__``) and its compiled step is cached across
processes; a sweep names it by import path (``name = "mypkg.rules:lion"``).  A compiled step may call
helper functions only if they are Numba functions themselves (``@numba.njit``).

Weight decay is decoupled (Loshchilov & Hutter 2019) and applied by the engine to the absolute iterate,
so every rule with a learning rate takes ``weight_decay``: ``x <- x - lr * weight_decay * x`` before the
step (``decay="decoupled"``, AdamW and Lion), or ``x <- x / (1 + lr * weight_decay)`` after it
(``decay="proximal"``, Adan).  The loss the engine reports stays the problem's own ``f``.
"""
from __future__ import annotations

import importlib
import inspect
import math
import numbers
import re
import sys

import numpy as np

from .._validate import as_float, check_bool, check_int
from ..schedules import Schedule, as_schedule

__all__ = ["Hyper", "RuleDef", "Wrapper", "Optimizer", "rule", "numpy_rule", "ENGINE_NAMES"]

#: Names the engine binds in a step function, besides state slots, hyperparameters and derived values.
ENGINE_NAMES = ("x", "g", "gm", "grads", "t", "lr", "blocks", "xstar", "hdiag", "hutchinson", "rows", "cols")
#: Names a ``point`` function may bind (it writes the gradient point into ``y``).
POINT_NAMES = ("y", "x", "t", "lr", "blocks", "xstar")
_DECAYS = ("decoupled", "after", "proximal", None)
_REQUIRED = object()


class Hyper:
    """One hyperparameter: ``kind`` is ``"float"`` (with an ``interval`` such as ``"[0, 1)"``,
    ``">= 0"`` or ``"> 0"``), ``"bool"``, ``"int"`` (``minimum``) or ``"choice"`` (``options``)."""

    def __init__(self, default=_REQUIRED, interval=None, *, kind="float", minimum=None, options=None,
                 doc=""):
        if kind not in ("float", "bool", "int", "choice"):
            raise ValueError(f"kind: expected 'float', 'bool', 'int' or 'choice', got {kind!r}")
        if kind == "choice" and not options:
            raise ValueError("options: a 'choice' hyperparameter needs its options")
        self.kind, self.interval, self.minimum = kind, interval, minimum
        self.options = tuple(options) if options else None
        self.doc = doc
        self._bounds = _parse_interval(interval) if interval is not None else None
        self.default = _REQUIRED if default is _REQUIRED else None
        if default is not _REQUIRED:
            self.default = default if default is None else self.check(default, "default")

    @classmethod
    def coerce(cls, spec) -> "Hyper":
        """A ``Hyper`` from a declaration: a ``Hyper``, or a bare default (float, int, bool)."""
        if isinstance(spec, Hyper):
            return spec
        if isinstance(spec, (bool, np.bool_)):
            return cls(bool(spec), kind="bool")
        if isinstance(spec, (numbers.Real, np.floating, np.integer)):
            return cls(float(spec))
        raise TypeError(f"hyper: expected a default number or a simopt.optim.Hyper, got "
                        f"{type(spec).__name__} ({spec!r})")

    def check(self, value, name):
        """The validated value (raises ``TypeError``/``ValueError`` naming ``name``)."""
        if self.kind == "bool":
            return check_bool(value, name)
        if self.kind == "int":
            return check_int(value, name, minimum=self.minimum)
        if self.kind == "choice":
            if not isinstance(value, str) or value not in self.options:
                raise ValueError(f"{name}: expected one of {list(self.options)}, got {value!r}")
            return value
        v = as_float(value, name)
        if self._bounds is not None:
            lo, lo_closed, hi, hi_closed = self._bounds
            ok = (v >= lo if lo_closed else v > lo) and (v <= hi if hi_closed else v < hi)
            if not ok:
                raise ValueError(f"{name}: expected a value in {self.interval}, got {v!r}")
        return v

    def encode(self, value) -> float:
        """The value as the compiled step's float slot (bool -> 0/1, choice -> index)."""
        if self.kind == "choice":
            return float(self.options.index(value))
        return float(value)

    def bound(self, value):
        """The value as a step function receives it (choice -> its index)."""
        return self.options.index(value) if self.kind == "choice" else value


def _parse_interval(text):
    s = str(text).replace(" ", "")
    m = re.fullmatch(r"([\[(])([^,]+),([^\])]+)([\])])", s)
    if m:
        return float(m.group(2)), m.group(1) == "[", float(m.group(3)), m.group(4) == "]"
    m = re.fullmatch(r"(>=|>)(.+)", s)
    if m:
        return float(m.group(2)), m.group(1) == ">=", math.inf, False
    raise ValueError(f"interval: expected '[a, b)', '(a, b]', '>= a' or '> a', got {text!r}")


_SHAPE_RE = re.compile(r"^[\sdnbM0-9*+()]+$")


def _check_shape(name, shape):
    parts = (shape,) if isinstance(shape, (str, int)) else tuple(shape)
    if not parts or len(parts) > 2:
        raise ValueError(f"state[{name!r}]: expected a size such as 'd' or a 2-d shape ('d', 'd'), "
                         f"got {shape!r}")
    out = []
    for p in parts:
        p = str(p)
        ok = bool(_SHAPE_RE.match(p)) and p.strip() and "**" not in p
        if ok:
            try:
                ok = all(size_of(p, d, nb, M) >= 0 for d, nb, M in ((3, 2, 1), (1, 1, 4)))
            except Exception:  # noqa: BLE001 - any failure to evaluate is a bad declaration
                ok = False
        if not ok:
            raise ValueError(f"state[{name!r}]: a size is a sum/product of d, nb, M and integers, got {p!r}")
        out.append(p)
    return tuple(out)


def size_of(expr: str, d: int, nb: int, M: int) -> int:
    """Evaluate a declared size expression (``"d"``, ``"nb"``, ``"d*d"``, ``"M*d"``, ``"1"``...)."""
    return int(eval(expr, {"__builtins__": {}}, {"d": d, "nb": nb, "M": M}))


def _params_of(fn, what):
    if fn is None:
        return ()
    if not callable(fn):
        raise TypeError(f"{what}: expected a function, got {type(fn).__name__}")
    py = getattr(fn, "py_func", fn)  # a Numba dispatcher: use its Python function
    try:
        sig = inspect.signature(py)
    except (TypeError, ValueError):
        raise TypeError(f"{what}: cannot read the parameters of {fn!r}") from None
    for p in sig.parameters.values():
        if p.kind not in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            raise TypeError(f"{what}: parameters must be plain names (no *args/**kwargs/keyword-only), "
                            f"got {p}")
    return tuple(sig.parameters)


class _Def:
    """What rules and wrappers share: hyperparameters, state slots, steps, binding checks."""

    def __init__(self, name, *, step, reference, hyper, state, derived, derive, check, doc, source):
        if not isinstance(name, str) or not name.isidentifier() and ":" not in name:
            raise ValueError(f"name: expected an identifier, got {name!r}")
        self.name = name
        self.step = None if step is None else getattr(step, "py_func", step)
        self.reference = reference
        if self.step is None and self.reference is None:
            raise TypeError(f"{name}: a rule needs a compiled step or a NumPy step (reference); got neither")
        self.hyper = {k: Hyper.coerce(v) for k, v in (hyper or {}).items()}
        self.state = {k: _check_shape(k, v) for k, v in (state or {}).items()}
        self.derived = {k: str(v) for k, v in (derived or {}).items()}
        if self.derived and derive is None:
            raise TypeError(f"{name}: 'derived' constants need a 'derive(problem, **hyper)' function")
        self.derive = derive
        self.check = check
        self.doc = doc or ""
        fn = self.step if self.step is not None else self.reference
        self._module = getattr(fn, "__module__", None)
        self._source = source
        for n in list(self.hyper) + list(self.state) + list(self.derived):
            if not n.isidentifier():
                raise ValueError(f"{name}: {n!r} is not a valid name")
        clash = (set(self.hyper) & set(self.state)) | (set(self.hyper) & set(self.derived)) \
            | (set(self.state) & set(self.derived))
        clash |= (set(self.hyper) | set(self.state) | set(self.derived)) & set(ENGINE_NAMES)
        if clash:
            raise ValueError(f"{name}: names used twice (or shadowing an engine name): {sorted(clash)}")
        self.step_args = _params_of(self.step, f"{name}.step")
        self.reference_args = _params_of(self.reference, f"{name}.reference")

    def _known(self):
        host = {"host"} if getattr(self, "host", None) is not None else set()
        return set(ENGINE_NAMES) | set(self.hyper) | set(self.state) | set(self.derived) | host

    def _check_args(self, args, what, known=None):
        known = self._known() if known is None else known
        bad = [a for a in args if a not in known]
        if bad:
            raise TypeError(f"{self.name}: {what} parameter(s) {bad} are not hyperparameters, state slots, "
                            f"derived constants or engine names ({', '.join(ENGINE_NAMES)})")

    def validate(self, values: dict) -> dict:
        """Hyperparameter values, validated, defaults filled in; unknown names rejected."""
        unknown = [k for k in values if k not in self.hyper]
        if unknown:
            raise TypeError(f"{self.name}: unknown hyperparameter(s) {unknown}; expected "
                            f"{list(self.hyper)}")
        out = {}
        for k, h in self.hyper.items():
            if k in values:
                out[k] = h.check(values[k], k)
            elif h.default is _REQUIRED:
                raise TypeError(f"{self.name}: missing hyperparameter {k!r}")
            else:
                out[k] = h.default
        if self.check is not None:
            self.check(out)
        return out

    @property
    def source(self) -> str | None:
        """``"module:name"`` by which this definition can be imported (sweeps, Dask, the cached compiled
        loop), found as a top-level name of the module its step is defined in; ``None`` for a rule
        defined in ``__main__`` or inside a function."""
        if self._source is None and self._module not in (None, "__main__"):
            mod = sys.modules.get(self._module)
            for k, v in (vars(mod).items() if mod is not None else ()):
                if v is self:
                    self._source = f"{self._module}:{k}"
                    break
        return self._source

    def __reduce__(self):
        if self.source is None:
            raise TypeError(f"{self.name}: a rule defined in __main__ or inside a function cannot be sent "
                            f"to another process; define it at the top level of an importable module")
        return (_import_ref, (self.source,))


class RuleDef(_Def):
    """An update rule: call it with ``lr`` and hyperparameters to get an :class:`Optimizer`.

    Parameters
    ----------
    name : str
    step : function or None
        The compiled step of one run (see the module docstring for the names it may take).
    reference : function or None
        The NumPy step of the whole batch (the same names, batched).
    hyper, state, derived : dict
        Declarations (``derived`` = name -> size of a constant computed by ``derive(problem, **hyper)``,
        e.g. a rule that reads the problem's smoothness ``L``).
    has_lr : bool
        False for rules that set their own step from the problem (the oracles).
    draws : int or str
        Gradient draws per step (``M``), or the name of an int hyperparameter giving it.
    point : function or None
        ``point(y, x, <state>, <hyper>, t, lr)`` writes the point the gradient is taken at (schedule-free
        methods: the loss is reported at ``x``, the gradient taken at ``y``).
    decay : "decoupled", "after", "proximal" or None
        How ``weight_decay`` is applied to the absolute iterate: ``x <- x - lr*wd*x`` before the step
        ("decoupled", AdamW), the same after the step ("after", SOAP's official code), or
        ``x <- x / (1 + lr*wd)`` after it ("proximal", Adan); None: the rule takes no weight decay.
    check : function or None
        ``check(values)`` for constraints between hyperparameters (raise ``ValueError``).
    stateless : function or None
        ``stateless(values)`` True when, with these hyperparameters, the rule's step does not read its
        state (e.g. SGD without momentum): ``Optimizer.stateful`` is then False.
    probe : function or None
        For a rule that takes ``hutchinson``: ``probe(values)`` False when, with these hyperparameters,
        the step does not use it (e.g. Sophia with the exact diagonal), so the engine skips drawing it.
    host : function or None
        For a rule with a NumPy step only: ``host(runs, problem, **hyper)`` makes a Python object the
        step receives as ``host`` (e.g. the per-run optimizers of another library, see
        ``simopt.optim.adapters``), made afresh for every run of the engine.
    """

    def __init__(self, name, *, step=None, reference=None, hyper=None, state=None, derived=None,
                 derive=None, has_lr=True, draws=1, point=None, decay="decoupled", check=None, doc="",
                 source=None, stateless=None, host=None, probe=None):
        self.stateless = stateless
        self.probe = probe
        if host is not None and (step is not None or not callable(host)):
            raise TypeError(f"host: a host state (a Python object) is only for rules with a NumPy step only; "
                            f"expected a function (runs, problem, **hyper) -> state")
        self.host = host
        super().__init__(name, step=step, reference=reference, hyper=hyper, state=state, derived=derived,
                         derive=derive, check=check, doc=doc, source=source)
        self.has_lr = check_bool(has_lr, "has_lr")
        if decay not in _DECAYS:
            raise ValueError(f"decay: expected one of {_DECAYS}, got {decay!r}")
        self.decay = decay if self.has_lr else None
        if isinstance(draws, str):
            if draws not in self.hyper or self.hyper[draws].kind != "int":
                raise ValueError(f"draws: {draws!r} is not an int hyperparameter of {name}")
        else:
            draws = check_int(draws, "draws", minimum=1)
        self.draws = draws
        self.point = None if point is None else getattr(point, "py_func", point)
        self.point_args = _params_of(self.point, f"{name}.point")
        self._check_args(self.step_args, "step")
        self._check_args(self.reference_args, "reference")
        pk = set(POINT_NAMES) | set(self.hyper) | set(self.state) | set(self.derived)
        self._check_args(self.point_args, "point", pk)
        if self.point is not None and "y" not in self.point_args:
            raise TypeError(f"{name}: point(...) must take 'y', the array it writes the gradient point into")
        if self.point is None and self.reference is not None and self.step is not None:
            pass

    def __call__(self, lr=None, **hyper) -> "Optimizer":
        """An optimizer of this rule.  ``weight_decay`` is the engine's decay (see ``decay``), unless
        the rule declares a hyperparameter of that name (a rule that applies its own decay)."""
        wd = 0.0 if "weight_decay" in self.hyper else hyper.pop("weight_decay", 0.0)
        return Optimizer(self, lr, hyper, weight_decay=wd)

    def __repr__(self):
        return f"<simopt rule {self.name}>"


class Wrapper(_Def):
    """A transformation around any rule: ``kind="gradient"`` rewrites the gradient the rule sees
    (``fn(out, g, ...)`` writes ``out``), ``kind="update"`` rewrites the update it made
    (``fn(x, xprev, g, ...)``: ``x`` after the rule's step, ``xprev`` before it)."""

    def __init__(self, name, kind, *, step=None, reference=None, hyper=None, state=None, doc="", source=None):
        if kind not in ("gradient", "update"):
            raise ValueError(f"kind: expected 'gradient' or 'update', got {kind!r}")
        super().__init__(name, step=step, reference=reference, hyper=hyper, state=state, derived=None,
                         derive=None, check=None, doc=doc, source=source)
        self.kind = kind
        first = ("out", "g") if kind == "gradient" else ("x", "xprev", "g")
        known = set(first) | {"t", "lr"} | set(self.hyper) | set(self.state)
        for args, what in ((self.step_args, "step"), (self.reference_args, "reference")):
            if args and tuple(args[:len(first)]) != first:
                raise TypeError(f"{name}: a {kind} wrapper's {what} starts with {first}, got {args}")
            self._check_args(args, what, known)


def _import_ref(ref: str):
    """The object at ``"package.module:name"``."""
    if not isinstance(ref, str) or ":" not in ref:
        raise ValueError(f"rule: expected an import path 'module:name', got {ref!r}")
    mod, _, attr = ref.partition(":")
    try:
        obj = importlib.import_module(mod)
    except ImportError as e:
        raise ValueError(f"rule: cannot import module {mod!r} ({e})") from None
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise ValueError(f"rule: module {mod!r} has no {attr!r}") from None
    return obj


def rule(step=None, *, name=None, hyper=None, state=None, reference=None, derived=None, derive=None,
         has_lr=True, draws=1, point=None, decay="decoupled", check=None):
    """Declare a rule from its compiled step (used as a decorator, or called with ``step=``).

    Returns a :class:`RuleDef`; calling it with ``lr`` and hyperparameters gives an :class:`Optimizer`.
    See the module docstring for the names a step may take.  ``reference`` (a batched NumPy step with
    the same names) is optional for a user's rule; when given, ``simopt.testing.check_rule`` compares
    the two.
    """
    def make(fn):
        return RuleDef(name or fn.__name__, step=fn, reference=reference, hyper=hyper, state=state,
                       derived=derived, derive=derive, has_lr=has_lr, draws=draws, point=point, decay=decay,
                       check=check, doc=inspect.getdoc(fn) or "")
    return make if step is None else make(step)


def numpy_rule(reference=None, *, name=None, hyper=None, state=None, derived=None, derive=None,
               has_lr=True, draws=1, point=None, decay="decoupled", check=None):
    """Declare a prototype rule from a batched NumPy step only (runs without compiling; slower; the same
    noise, recording and divergence handling as a compiled rule).  Decorator or ``reference=``."""
    def make(fn):
        return RuleDef(name or fn.__name__, step=None, reference=fn, hyper=hyper, state=state,
                       derived=derived, derive=derive, has_lr=has_lr, draws=draws, point=point, decay=decay,
                       check=check, doc=inspect.getdoc(fn) or "")
    return make if reference is None else make(reference)


class Optimizer:
    """A rule with its learning rate and hyperparameter values, optionally wrapped (``clipped``,
    ``cautious``): what :func:`simopt.run` takes.  Immutable; ``with_lr``/``with_hyper`` make variants."""

    def __init__(self, rule: RuleDef, lr, hyper: dict, *, weight_decay=0.0, wrappers=(), _values=None):
        if not isinstance(rule, RuleDef):
            raise TypeError(f"rule: expected a simopt.optim.RuleDef, got {type(rule).__name__}")
        self.rule = rule
        self._values = dict(_values) if _values is not None else rule.validate(dict(hyper))
        if rule.has_lr:
            if lr is None:
                raise TypeError(f"{rule.name}: missing the learning rate 'lr'")
            self.lr: Schedule | None = as_schedule(lr)
        else:
            if lr is not None:
                raise TypeError(f"{rule.name}: this rule sets its own step size and takes no lr")
            self.lr = None
        wd = as_float(weight_decay, "weight_decay")
        if wd < 0:
            raise ValueError(f"weight_decay: expected a number >= 0, got {wd!r}")
        if wd and rule.decay is None:
            raise ValueError(f"weight_decay: {rule.name} takes no weight decay")
        self.weight_decay = wd
        self.wrappers = tuple(wrappers)   # ((Wrapper, values), ...), outermost first

    # ------------------------------------------------------------------ description
    @property
    def name(self) -> str:
        pre = "_".join(w.name for w, _ in self.wrappers)
        return f"{pre}_{self.rule.name}" if pre else self.rule.name

    @property
    def has_lr(self) -> bool:
        return self.rule.has_lr

    def hyperparams(self) -> dict:
        """Hyperparameters other than the learning rate (the base rule's, plus weight decay if set)."""
        out = dict(self._values)
        if self.weight_decay:
            out["weight_decay"] = self.weight_decay
        return out

    def describe(self) -> dict:
        """JSON-able; ``simopt.optim.from_description`` rebuilds the optimizer."""
        lr = self.lr
        if lr is not None:
            lr = lr.base if type(lr).__name__ == "_Constant" else lr.describe()
        name = self.rule.name if self.rule.source is None or self.rule.source.startswith("simopt.") \
            else self.rule.source
        out = {"name": name, "lr": lr, **self.hyperparams()}
        for w, vals in reversed(self.wrappers):
            out = {"name": w.name, **vals, "base": out}
        return out

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.describe().items() if k not in ("name", "base"))
        inner = repr(self._unwrapped()) if self.wrappers else None
        if inner:
            w, vals = self.wrappers[0]
            return f"{w.name}({inner}, " + ", ".join(f"{k}={v!r}" for k, v in vals.items()) + ")"
        return f"{self.rule.name}({args})"

    def __eq__(self, other):
        return isinstance(other, Optimizer) and self.describe() == other.describe() \
            and self.rule is other.rule

    def __hash__(self):
        return hash((self.rule.name, repr(self.describe())))

    # ------------------------------------------------------------------ variants
    def _unwrapped(self) -> "Optimizer":
        return Optimizer(self.rule, None if self.lr is None else self.lr, {}, weight_decay=self.weight_decay,
                         _values=self._values)

    def _replace(self, *, lr=None, values=None, wrappers=None, weight_decay=None) -> "Optimizer":
        return Optimizer(self.rule, self.lr if lr is None else lr, {},
                         weight_decay=self.weight_decay if weight_decay is None else weight_decay,
                         wrappers=self.wrappers if wrappers is None else wrappers,
                         _values=self._values if values is None else values)

    def with_lr(self, lr) -> "Optimizer":
        """The same rule with another learning rate (a float rescales a schedule to that peak)."""
        if self.lr is None:
            raise TypeError(f"{self.name}: this rule sets its own step size and has no lr")
        new = lr if isinstance(lr, Schedule) else (
            self.lr.with_base(lr) if type(self.lr).__name__ != "_Constant" else lr)
        return self._replace(lr=new)

    def with_hyper(self, **changes) -> "Optimizer":
        """The same rule with some hyperparameters changed (validated), e.g. ``with_hyper(beta2=0.99)``;
        ``weight_decay`` too, and a wrapper's own (``fraction`` of :func:`simopt.optim.clipped`)."""
        wd = None if "weight_decay" in self.rule.hyper else changes.pop("weight_decay", None)
        wrappers = []
        for w, vals in self.wrappers:
            mine = {k: changes.pop(k) for k in list(changes) if k in w.hyper}
            wrappers.append((w, w.validate({**vals, **mine}) if mine else vals))
        unknown = [k for k in changes if k not in self.rule.hyper]
        if unknown:
            raise ValueError(f"hyper: {self.name} has no hyperparameter(s) {sorted(unknown)}; it has "
                             f"{sorted(self.hyperparams()) + [k for w, _ in self.wrappers for k in w.hyper]}")
        values = self.rule.validate({**self._values, **changes})
        return self._replace(values=values, weight_decay=wd, wrappers=tuple(wrappers))

    def wrapped(self, wrapper: Wrapper, **values) -> "Optimizer":
        """This optimizer inside ``wrapper`` (outermost)."""
        if not isinstance(wrapper, Wrapper):
            raise TypeError(f"wrapper: expected a simopt.optim.Wrapper, got {type(wrapper).__name__}")
        return self._replace(wrappers=((wrapper, wrapper.validate(values)),) + self.wrappers)

    # ------------------------------------------------------------------ what the engine needs
    def components(self):
        """``[(definition, values), ...]``: the wrappers (outermost first), then the rule."""
        return list(self.wrappers) + [(self.rule, self._values)]

    @property
    def stateful(self) -> bool:
        """False when no component carries state from step to step (its update is a function of the
        current iterate and gradient only), so a run can be continued from its last iterate alone."""
        if self.rule.host is not None:
            return True            # another library's optimizer: its state is opaque
        for c, vals in self.components():
            if c.state and not (isinstance(c, RuleDef) and c.stateless is not None and c.stateless(vals)):
                return True
        return False

    def draws(self) -> int:
        """Gradient draws per step (M)."""
        dr = self.rule.draws
        return int(self._values[dr]) if isinstance(dr, str) else int(dr)

    @property
    def compiled(self) -> bool:
        """True when every component has a compiled step (else the engine runs the NumPy steps)."""
        return all(c.step is not None for c, _ in self.components())

    @property
    def needs_hutchinson(self) -> bool:
        """True when the engine must draw the Hutchinson probe for this rule (it takes ``hutchinson`` and
        its ``probe`` predicate, if any, says these hyperparameters use it)."""
        args = self.rule.step_args if self.compiled else self.rule.reference_args
        if "hutchinson" not in args:
            return False
        return True if self.rule.probe is None else bool(self.rule.probe(
            {k: self.rule.hyper[k].bound(v) for k, v in self._values.items()}))

    @property
    def has_point(self) -> bool:
        return self.rule.point is not None

    def derived_values(self, problem) -> dict:
        """The rule's problem-derived constants, as float arrays of their declared sizes."""
        r = self.rule
        if not r.derived:
            return {}
        vals = r.derive(problem, **{k: r.hyper[k].bound(v) for k, v in self._values.items()})
        out = {}
        nb = problem.n_blocks
        for k, size in r.derived.items():
            if k not in vals:
                raise TypeError(f"{r.name}.derive: did not return {k!r}")
            a = np.asarray(vals[k], dtype=np.float64).reshape(-1)
            n = size_of(size, problem.dim, nb, self.draws())
            if a.size != n:
                raise ValueError(f"{r.name}.derive: {k!r} has {a.size} values, declared {n}")
            out[k] = a
        return out

    def params(self, problem) -> np.ndarray:
        """The flat float64 parameter vector the compiled loop reads: every component's hyperparameters
        (declared order) and derived constants, then the weight decay."""
        parts = []
        for c, vals in self.components():
            parts += [c.hyper[k].encode(vals[k]) for k in c.hyper]
            if isinstance(c, RuleDef):
                for a in self.derived_values(problem).values():
                    parts += list(a)
        parts.append(self.weight_decay)
        out = np.asarray(parts, dtype=np.float64)
        if not np.all(np.isfinite(out)):
            raise ValueError(f"{self.name}: non-finite hyperparameters for this problem: {out}")
        return out

    def state_sizes(self, d: int, nb: int) -> list:
        """``[(component index, slot, shape tuple), ...]`` in the flat state's order."""
        M = self.draws()
        out = []
        for i, (c, _) in enumerate(self.components()):
            for k, shp in c.state.items():
                out.append((i, k, tuple(size_of(s, d, nb, M) for s in shp)))
        return out

    def state_size(self, d: int, nb: int) -> int:
        return sum(int(np.prod(s)) for _, _, s in self.state_sizes(d, nb))

    def lr_values(self, steps: int) -> np.ndarray:
        if self.lr is None:
            return np.ones(steps)
        return np.ascontiguousarray(self.lr.values(steps), dtype=np.float64)

    # ------------------------------------------------------------------ the NumPy path
    def init_state(self, runs: int, problem) -> list:
        """Zero state for ``runs`` runs: one dict (slot -> array of shape ``(runs, *shape)``) per component."""
        out = [dict() for _ in self.components()]
        for i, k, shp in self.state_sizes(problem.dim, problem.n_blocks):
            out[i][k] = np.zeros((runs,) + shp)
        if self.rule.host is not None:
            out[-1]["host"] = self.rule.host(runs, problem, **{k: self.rule.hyper[k].bound(v)
                                                                for k, v in self._values.items()})
        return out

    def reference_step(self, x, grads, state, t, lr, problem, hutchinson=None):
        """One step of the NumPy steps on a batch, in place: ``x`` (runs, d) measured from x*,
        ``grads`` (runs, M, d) the stochastic gradients, ``state`` from :meth:`init_state`.  Applies the
        weight decay and the wrappers exactly as the compiled loop does.  Returns ``x``."""
        comps = self.components()
        missing = [c.name for c, _ in comps if c.reference is None]
        if missing:
            raise TypeError(f"{self.name}: no NumPy step for {missing}")
        xs = np.asarray(problem.xstar)
        wd = self.weight_decay
        if wd and self.rule.decay == "decoupled":
            x -= lr * wd * (x + xs)
        g = grads[:, 0]
        graw = g
        xprevs = []
        for i, (c, vals) in enumerate(comps[:-1]):
            if c.kind == "gradient":
                out = np.empty_like(g)
                _call(c.reference, c.reference_args, dict(out=out, g=g, t=t, lr=lr),
                      c, vals, state[i], {})
                g = out
            else:
                xprevs.append((i, c, vals))
        xprev = x.copy() if xprevs else None
        base, bvals = comps[-1]
        rows, cols = matrix_shape(problem)
        engine = dict(x=x, t=t, lr=lr, grads=grads, blocks=np.asarray(problem.block_starts),
                      xstar=xs, hdiag=_hdiag(problem), hutchinson=hutchinson, rows=rows, cols=cols)
        if "gm" in base.reference_args:
            engine.update(g=graw, gm=g)
        else:
            engine.update(g=g, gm=g)
        _call(base.reference, base.reference_args, engine, base, bvals, state[-1],
              self.derived_values(problem))
        for i, c, vals in reversed(xprevs):
            _call(c.reference, c.reference_args, dict(x=x, xprev=xprev, g=g, t=t, lr=lr), c, vals,
                  state[i], {})
        if wd and self.rule.decay == "after":
            x -= lr * wd * (x + xs)
        if wd and self.rule.decay == "proximal":
            x[...] = (x + xs) / (1.0 + lr * wd) - xs
        return x

    def reference_point(self, x, state, t, lr, problem):
        """The gradient point ``y`` (runs, d) of a rule with a ``point`` function (NumPy form: the same
        function, applied to the batch)."""
        r = self.rule
        y = np.empty_like(x)
        _call(r.point, r.point_args, dict(y=y, x=x, t=t, lr=lr, blocks=np.asarray(problem.block_starts),
                                          xstar=np.asarray(problem.xstar)),
              r, self._values, state[-1], self.derived_values(problem))
        return y


def matrix_shape(problem) -> tuple[int, int]:
    """``(rows, cols)`` of the problem's parameter: its ``matrix_shape`` if it has one, else ``(1, d)``."""
    shp = getattr(problem, "matrix_shape", None)
    return (int(shp[0]), int(shp[1])) if shp is not None else (1, int(problem.dim))


def _hdiag(problem):
    """diag(H), cached on the problem (the NumPy path asks for it every step)."""
    cached = getattr(problem, "_simopt_hdiag", None)
    if cached is None:
        cached = np.ascontiguousarray(np.diag(problem.hessian())) if problem.diag is None else problem.diag
        try:
            problem._simopt_hdiag = cached
        except AttributeError:  # pragma: no cover - a problem type without a __dict__
            pass
    return cached


def _call(fn, args, engine, definition, values, state, derived):
    kw = {}
    for a in args:
        if a in engine:
            kw[a] = engine[a]
        elif a in state:
            kw[a] = state[a]
        elif a in values:
            kw[a] = definition.hyper[a].bound(values[a])
        elif a in derived:
            d = derived[a]
            kw[a] = float(d[0]) if definition.derived[a] == "1" else d
        else:  # pragma: no cover - checked at declaration
            raise TypeError(f"{definition.name}: nothing to bind to {a!r}")
    return fn(**kw)
