r"""Any ``torch.optim.Optimizer`` or optax transformation as a simopt rule.

``from_torch(OptimizerClass, **fixed)`` and ``from_optax(factory_or_transformation, **fixed)`` return a
:class:`~simopt.optim.RuleDef`: call it with ``lr`` and hyperparameters like any rule, give the result to
:func:`simopt.run`, :func:`simopt.tune_lr`, ``with_hyper``, claims and sweeps.  Assigned at the top level
of an importable module, an adapter is named by its import path in a sweep spec and sent to sweep workers
like a user's rule::

    # mypkg/rules.py
    import torch, optax
    from simopt.optim import from_torch, from_optax
    torch_adam = from_torch(torch.optim.Adam)          # name = "mypkg.rules:torch_adam"
    optax_adam = from_optax(optax.adam)

    simopt.run(problem, torch_adam(1e-2, beta2=0.99), 500, runs=16, record=("x",))

Both run through the engine's NumPy path (a rule with a NumPy step only and a ``host`` object that holds
the library's state, made afresh for every :func:`simopt.run`): the engine draws the same noise from the
same per-run streams, records, detects divergence and applies simopt's ``weight_decay`` exactly as for a
built-in rule; the library computes the update.  With :math:`e_t = x_t - x^*` the engine's iterate (error
coordinates, see :mod:`simopt.optim.rule`), :math:`g_t` the stochastic gradient and :math:`\eta_t` the
step's learning rate (a float or a :mod:`simopt.schedules` schedule), one step of run :math:`r` is

.. math::
    \text{torch:}\quad p_r \leftarrow e_{t,r},\ \ p_r.\mathrm{grad} \leftarrow g_{t,r},\ \
    \mathrm{lr} \leftarrow \eta_t \text{ in every param group},\ \ \mathrm{opt}_r.\mathrm{step}(),\ \
    e_{t+1,r} \leftarrow p_r

    \text{optax:}\quad (u, s) \leftarrow \mathrm{tx.update}(g_t, s, e_t),\qquad
    e_{t+1} = e_t + u \ \ (\text{with } \eta_t \text{ injected as } \texttt{learning\_rate})
    \quad\text{or}\quad e_{t+1} = e_t - \eta_t u \ \ (\text{an lr-free transformation})

**Hyperparameters** come from the signature of the optimizer's constructor (or the optax factory), read
the same way for both libraries:

* the learning rate (``lr`` of a torch optimizer, ``learning_rate`` of an optax factory) is simopt's
  ``lr``, set at every step; given as a fixed keyword instead, it stays fixed and the rule takes no
  ``lr`` (it then cannot be tuned and takes no ``weight_decay``);
* an argument whose default is a finite float is a float hyperparameter with that default; a bool, a
  bool hyperparameter; an int, an int hyperparameter if annotated ``int`` (``n_sma_threshold: int = 5``),
  a float one if annotated ``float`` (torch writes ``weight_decay: float = 0``), and without either
  annotation a float one that is passed to the constructor as an int when it is a whole number
  (prodigyopt's ``weight_decay=0`` takes 0.01, its ``slice_p=1`` stays an int);
* a tuple of finite numbers is one float hyperparameter per element, named by the singular of the
  argument and the 1-based position: ``betas=(0.9, 0.999)`` -> ``beta1``, ``beta2`` (as
  :func:`simopt.optim.adam`), ``etas`` -> ``eta1``, ``eta2``, ``step_sizes`` -> ``step_size1``, ...
  (``eps`` stays ``eps1``, ``eps2``); if one of those names is taken the tuple is not expanded;
* the library's own ``weight_decay`` is ``torch_weight_decay`` / ``optax_weight_decay`` (``weight_decay``
  is simopt's, below); any other name simopt's engine uses gets the same prefix;
* anything else (``None``, strings, callables, non-finite defaults such as Prodigy's
  ``growth_rate=inf``, tuples holding ``None``) and torch's implementation switches (``foreach``,
  ``fused``, ``capturable``, ``differentiable``, ``maximize``) keep their defaults and are not
  hyperparameters;
* keyword arguments given to ``from_torch``/``from_optax`` are passed to every constructor as given and
  are not hyperparameters (an argument without a default must be given there).  An argument that is not
  a hyperparameter (``optax.sgd``'s ``momentum=None``) becomes one through a small factory of your own:
  ``from_optax(lambda learning_rate, momentum=0.9: optax.sgd(learning_rate, momentum))``.

Hyperparameter values are checked by building the optimizer with them (the library's own validation,
e.g. torch's ``Invalid beta parameter``), when the simopt optimizer is made.  The library's state lives
in the host object; the rule declares one state slot per run, ``started`` (1 once that run's library
state exists), so that simopt knows the rule is stateful.

**Weight decay.**  The parameter the library sees is the error :math:`x - x^*`, so simopt's rules and an
adapter agree to rounding on every problem (translation-equivariant rules do not see the difference).  A
library's own weight decay (``torch_weight_decay``, AdamW's default 0.01, ``optax.adamw``'s
``weight_decay``) therefore decays :math:`x - x^*` towards the minimiser, not :math:`x` towards 0; it is
the usual weight decay only on a problem with :math:`x^* = 0`.  Use simopt's ``weight_decay`` instead
(decoupled, applied by the engine to the absolute :math:`x` before the step, as AdamW; Loshchilov & Hutter
2019): ``from_torch(torch.optim.AdamW)(1e-3, torch_weight_decay=0.0, weight_decay=0.01)``.

**torch.**  Every run has its own optimizer instance over its own float64 parameter tensor, so per-tensor
and per-optimizer statistics (Prodigy's :math:`d`, LAMB's trust ratio, a step counter) stay per run.  A
run's optimizer is created at its first step (from its starting point) unless it is at rest there --
iterate and gradient exactly zero, as the engine's padding runs are -- in which case it is created at
the first step it is not (an optimizer that moves from rest without a gradient is the only one for which
that differs from creating it at step 1).  An optimizer with ``train()``/``eval()`` modes (schedule-free)
is put in train mode: its parameter is then the point the gradient is taken at (schedule-free's
:math:`y`), and the loss the engine reports is :math:`f(y)`.  A run whose iterate or gradient is no
longer finite (it diverged; the engine flags it) is not stepped again.  Optimizers that need a closure
(LBFGS, SAM-type methods, line searches) are rejected: a closure re-evaluates the loss and gradient at
points of the optimizer's choosing, and the engine gives one stochastic gradient per step, at the
iterate.

**optax.**  The runs share one state pytree batched by ``jax.vmap`` (each run is its own function
application, so norms and trust ratios stay per run), jitted once per set of hyperparameter values and
problem size (the learning rate is an argument, so an lr grid compiles once), in float64 (inside
``jax.enable_x64``).  A factory with a ``learning_rate`` argument (``optax.adam``, ``optax.adamw``,
``optax.lion``...) gets simopt's lr through :func:`optax.inject_hyperparams`, set at every step, and its
update is added (``optax.apply_updates``); an lr-free transformation (``optax.scale_by_adam``, or an
already built transformation such as ``optax.chain(optax.clip(1.0), optax.scale_by_adam())``) gives a
direction :math:`u` and the step is :math:`-\eta_t u`.  A built transformation that already contains a
negative learning rate (``optax.adam(1e-3)``) is rejected: pass the factory, ``optax.adam``.  The state
is created at the first step from the starting points (``init(x_0 - x^*)``).  Transformations whose
``update`` needs more than gradients and parameters (the loss value, a closure: line searches, Polyak
steps) are rejected.

Installing: ``pip install "simopt[torch]"`` (PyTorch) / ``pip install "simopt[jax]"`` (jax, optax);
simopt itself imports neither.
"""
from __future__ import annotations

import inspect
import math
import numbers
import re
import sys

import numpy as np

from .rule import ENGINE_NAMES, Hyper, RuleDef

__all__ = ["from_torch", "from_optax"]

_TORCH_EXTRA = 'pip install "simopt[torch]"'
_JAX_EXTRA = 'pip install "simopt[jax]"'
#: torch arguments that choose an implementation (or flip the objective), not the update rule
_TORCH_SWITCHES = ("foreach", "fused", "capturable", "differentiable", "maximize")
#: the per-run state slot every adapter declares (1 once that run's library state exists; the library
#: state itself lives in the host object, outside the engine's arrays)
_SLOT = "started"
_PROBE_X = (1.0, -2.0)
_PROBE_G = (0.5, -1.0)


def _import_torch():
    try:
        import torch
    except ImportError:
        raise ImportError(f"simopt.optim.from_torch needs PyTorch: {_TORCH_EXTRA}") from None
    return torch


def _import_optax():
    try:
        import jax
        import optax
    except ImportError:
        raise ImportError(f"simopt.optim.from_optax needs JAX and optax: {_JAX_EXTRA}") from None
    return jax, optax


def _caller_module(depth: int = 2) -> str | None:
    """The module the adapter was made in: its rule is found there by import path (sweeps, workers)."""
    try:
        return sys._getframe(depth).f_globals.get("__name__")
    except ValueError:  # pragma: no cover - no such frame
        return None


def _identifier(text: str) -> str:
    s = re.sub(r"\W", "_", str(text)).strip("_")
    return s if s and s.isidentifier() else "transformation"


# --------------------------------------------------------------------------------------------- signature
def _is_number(v) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(float(v))


def _annotated(annotation, typ) -> bool:
    return annotation is typ or annotation == typ.__name__


def _element_names(arg: str, n: int) -> list[str]:
    """``betas`` -> ``beta1, beta2``; a name that is not a plural (``eps``, ``...ss``) keeps its form."""
    stem = arg[:-1] if arg.endswith("s") and not arg.endswith("ss") and arg != "eps" else arg
    return [f"{stem}{i}" for i in range(1, n + 1)]


class _Arguments:
    """How the keyword arguments of a constructor (a torch optimizer's, an optax factory's) map to simopt
    hyperparameters (see the module docstring), and back to keyword arguments."""

    def __init__(self, fn, fixed: dict, *, what: str, lr_name: str, prefix: str, switches=(), skip=0):
        try:
            sig = inspect.signature(fn)
        except (TypeError, ValueError):
            raise TypeError(f"{what}: cannot read the arguments of {fn!r}") from None
        params = [p for p in sig.parameters.values()
                  if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)][skip:]
        names = [p.name for p in params]
        unknown = [k for k in fixed if k not in names]
        if unknown:
            raise TypeError(f"{what}: unknown argument(s) {unknown}; its arguments are {names}")
        self.what = what
        self.fixed = dict(fixed)
        self.lr_name = lr_name
        self.has_lr = lr_name in names and lr_name not in fixed
        lr_param = sig.parameters.get(lr_name)
        lr_default = None if lr_param is None else lr_param.default
        #: a learning rate that is valid for the constructor, for building it before any step
        self.probe_lr = float(lr_default) if _is_number(lr_default) and lr_default > 0 else 1e-3
        reserved = set(ENGINE_NAMES) | {"lr", "weight_decay", _SLOT, "host"}
        self.hyper: dict[str, Hyper] = {}
        self._map: list[tuple[str, tuple[str, ...] | str, str]] = []   # (argument, simopt name(s), kind)
        missing = []
        for p in params:
            n = p.name
            if n == lr_name or n in fixed:
                continue
            if p.default is p.empty:
                missing.append(n)
                continue
            if n in switches:
                continue
            v = p.default
            if isinstance(v, tuple) and v and all(_is_number(e) for e in v):
                elems = _element_names(n, len(v))
                if any(e in names or e in self.hyper or e in reserved for e in elems):
                    continue
                for e, val in zip(elems, v):
                    self.hyper[e] = Hyper(float(val))
                self._map.append((n, tuple(elems), "tuple"))
                continue
            if isinstance(v, bool):
                h, kind = Hyper(v, kind="bool"), "bool"
            elif isinstance(v, numbers.Integral) and _annotated(p.annotation, int):
                h, kind = Hyper(int(v), kind="int"), "int"
            elif isinstance(v, numbers.Integral) and not _annotated(p.annotation, float):
                h, kind = Hyper(float(v)), "number"
            elif _is_number(v):
                h, kind = Hyper(float(v)), "float"
            else:
                continue
            simopt_name = f"{prefix}_{n}" if n in reserved else n
            if simopt_name in self.hyper or (simopt_name != n and simopt_name in names):
                continue
            self.hyper[simopt_name] = h
            self._map.append((n, simopt_name, kind))
        if missing:
            raise TypeError(f"{what}: argument(s) {missing} have no default; give them to the adapter as "
                            f"fixed keyword arguments")

    def kwargs(self, values: dict) -> dict:
        """Constructor keyword arguments for simopt hyperparameter ``values`` (plus the fixed ones)."""
        out = dict(self.fixed)
        for arg, name, kind in self._map:
            if kind == "tuple":
                out[arg] = tuple(float(values[k]) for k in name)
            elif kind == "bool":
                out[arg] = bool(values[name])
            elif kind == "int":
                out[arg] = int(values[name])
            elif kind == "number":      # an unannotated int default: whole values stay ints
                v = float(values[name])
                out[arg] = int(v) if v.is_integer() else v
            else:
                out[arg] = float(values[name])
        return out

    def defaults(self) -> dict:
        return {k: h.default for k, h in self.hyper.items()}

    def describe(self) -> str:
        hp = ", ".join(f"{k}={h.default!r}" for k, h in self.hyper.items()) or "none"
        fx = ", ".join(f"{k}={v!r}" for k, v in self.fixed.items())
        return f"hyperparameters: {hp}" + (f"; fixed: {fx}" if fx else "")


def _checker(build, what):
    """``check(values)`` for a RuleDef: build the library object with those values; its own validation
    errors become errors naming the adapter."""
    def check(values):
        try:
            build(values)
        except (TypeError, ValueError) as e:
            raise type(e)(f"{what}: {e}") from None
        except Exception as e:  # noqa: BLE001 - a library's own exception type for a bad value
            raise ValueError(f"{what}: {type(e).__name__}: {e}") from None
    return check


def _reference_function(module):
    """The NumPy step the engine calls: it hands the batch to the host object.  Its ``__module__`` is the
    module the adapter was made in, where :attr:`RuleDef.source` looks the rule up."""
    def adapter_step(x, g, t, lr, started, host):
        host.step(x, g, t, lr, started)
    if module:
        adapter_step.__module__ = module
    return adapter_step


def _closure_message(what):
    return (f"{what} needs a closure (it re-evaluates the loss and gradient at points of its own choosing, "
            f"e.g. a line search or SAM's perturbed point); simopt's engine gives one stochastic gradient "
            f"per step, at the iterate, so closure-based optimizers cannot run on it")


# --------------------------------------------------------------------------------------------- torch
class _TorchRuns:
    """The host state of a torch adapter: one optimizer over one float64 parameter tensor per run."""

    def __init__(self, torch, cls, kwargs, has_lr, runs):
        self.torch, self.cls, self.kwargs, self.has_lr = torch, cls, kwargs, has_lr
        self.params = [None] * runs
        self.opts = [None] * runs
        self.dead = np.zeros(runs, dtype=bool)

    def _start(self, r, x0):
        torch = self.torch
        p = torch.nn.Parameter(torch.tensor(x0, dtype=torch.float64))
        opt = self.cls([p], **self.kwargs)
        if callable(getattr(opt, "train", None)):
            opt.train()
        self.params[r], self.opts[r] = p, opt

    def step(self, x, g, t, lr, started):
        torch = self.torch
        g = np.array(g)            # a fresh gradient every step: an optimizer may keep the tensor it got
        on = started[:, 0] != 0
        finite = np.isfinite(x).all(axis=1) & np.isfinite(g).all(axis=1)
        self.dead |= ~finite
        new = ~on & ~self.dead & ((x != 0).any(axis=1) | (g != 0).any(axis=1))
        for r in np.flatnonzero(new):
            self._start(r, x[r])
            started[r, 0] = 1.0
        rows = np.flatnonzero((on | new) & ~self.dead)
        with torch.no_grad():
            for r in rows:
                p, opt = self.params[r], self.opts[r]
                p.copy_(torch.from_numpy(x[r]))
                p.grad = torch.from_numpy(g[r])
                if self.has_lr:
                    for group in opt.param_groups:
                        group["lr"] = lr
                try:
                    opt.step()
                except Exception as e:
                    e.add_note(f"in {self.cls.__name__}.step() of run {r} at step {t} "
                               f"(simopt.optim.from_torch)")
                    raise
                x[r] = p.detach().numpy()


def from_torch(optimizer_class, **fixed) -> RuleDef:
    """A simopt rule that runs ``optimizer_class`` (any ``torch.optim.Optimizer`` subclass: torch's own,
    or a third-party one such as ``pytorch_optimizer.Lion``), one instance per run.

    ``fixed`` keyword arguments go to every instance as given; the other constructor arguments with a
    number, bool or tuple-of-numbers default are the rule's hyperparameters, ``betas`` as ``beta1``,
    ``beta2`` and torch's own ``weight_decay`` as ``torch_weight_decay`` (see the module docstring for the
    rules, and for why simopt's ``weight_decay`` is the one to use).  Raises ``TypeError`` for a class
    that is not a torch optimizer, an optimizer that needs a closure, an unknown or missing argument, and
    when the optimizer cannot take a step on a float64 parameter with its defaults; ``ImportError`` when
    PyTorch is not installed.

    >>> torch_adam = from_torch(torch.optim.Adam)            # doctest: +SKIP
    >>> simopt.run(problem, torch_adam(1e-2, beta2=0.99), 200, runs=8)   # doctest: +SKIP
    """
    torch = _import_torch()
    if not (isinstance(optimizer_class, type) and issubclass(optimizer_class, torch.optim.Optimizer)):
        raise TypeError(f"optimizer_class: expected a torch.optim.Optimizer subclass such as "
                        f"torch.optim.Adam, got {optimizer_class!r}")
    cls = optimizer_class
    what = f"from_torch({cls.__name__})"
    try:
        needed = [p.name for p in list(inspect.signature(cls.step).parameters.values())[1:]
                  if p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    except (TypeError, ValueError):
        needed = []
    if needed:
        raise TypeError(_closure_message(f"{what}: {cls.__name__}.step({', '.join(needed)})"))
    args = _Arguments(cls, fixed, what=what, lr_name="lr", prefix="torch", switches=_TORCH_SWITCHES, skip=1)

    def kwargs(values):
        kw = args.kwargs(values)
        if args.has_lr:
            kw["lr"] = args.probe_lr
        return kw

    def build(values):
        return cls([torch.zeros(2, dtype=torch.float64)], **kwargs(values))

    _probe_torch(torch, cls, kwargs(args.defaults()), what)

    def host(runs, problem, **values):
        return _TorchRuns(torch, cls, args.kwargs(values), args.has_lr, runs)

    return RuleDef(f"torch_{_identifier(cls.__name__)}",
                   reference=_reference_function(_caller_module()), host=host, hyper=args.hyper,
                   state={_SLOT: "1"}, has_lr=args.has_lr, decay="decoupled", check=_checker(build, what),
                   doc=f"{cls.__module__}.{cls.__qualname__} through simopt.optim.from_torch "
                       f"({args.describe()})")


def _probe_torch(torch, cls, kwargs, what):
    """Two steps with the default hyperparameters on a 2-vector: an optimizer that cannot run on the
    engine (it needs a closure, or fails on float64) is an error when the adapter is made."""
    try:
        p = torch.nn.Parameter(torch.tensor(_PROBE_X, dtype=torch.float64))
        opt = cls([p], **kwargs)
    except (TypeError, ValueError) as e:
        raise type(e)(f"{what}: {e}") from None
    if callable(getattr(opt, "train", None)):
        opt.train()
    for _ in range(2):
        p.grad = torch.tensor(_PROBE_G, dtype=torch.float64)
        try:
            opt.step()
        except Exception as e:  # noqa: BLE001 - whatever the optimizer raises, it cannot run here
            if "closure" in f"{type(e).__name__} {e}".lower():
                raise TypeError(_closure_message(f"{what}: {cls.__name__}")) from e
            raise TypeError(f"{what}: {cls.__name__} cannot take a step on a float64 parameter with its "
                            f"default hyperparameters ({type(e).__name__}: {e})") from e


# --------------------------------------------------------------------------------------------- optax
class _OptaxBatch:
    """The jitted, vmapped ``init`` and ``step`` of one transformation (one set of hyperparameters)."""

    def __init__(self, jax, optax, tx, mode):
        def one(state, g, x, lr):
            if mode == "inject":
                state = state._replace(hyperparams={**state.hyperparams, "learning_rate": lr})
            u, state = tx.update(g, state, x)
            if mode == "direction":
                return x - lr * u, state
            return optax.apply_updates(x, u), state

        self.init = jax.jit(jax.vmap(tx.init))
        self.step = jax.jit(jax.vmap(one, in_axes=(0, 0, 0, None)))


class _OptaxRuns:
    """The host state of an optax adapter: the batched state pytree of all runs."""

    def __init__(self, jax, batch):
        self.jax, self.batch, self.state = jax, batch, None

    def step(self, x, g, t, lr, started):
        jax = self.jax
        with jax.enable_x64(True):            # x, g: float64 NumPy arrays, handed to the jitted calls as is
            if self.state is None:
                self.state = self.batch.init(x)
                started[:, 0] = 1.0
            xn, self.state = self.batch.step(self.state, g, x, float(lr))
            x[...] = np.asarray(xn)


def from_optax(transformation, **fixed) -> RuleDef:
    """A simopt rule that runs an optax transformation, the runs batched by ``jax.vmap``.

    ``transformation`` is a factory (``optax.adam``, ``optax.scale_by_adam``, your own function returning
    a ``GradientTransformation``), whose arguments become hyperparameters as in :func:`from_torch`
    (``fixed`` keyword arguments are passed as given), or an already built lr-free transformation
    (``optax.scale_by_adam(b2=0.99)``; no hyperparameters).  A factory with ``learning_rate`` gets
    simopt's lr through ``optax.inject_hyperparams`` (a fixed ``learning_rate=`` keeps the factory's own
    and the rule takes no lr); otherwise the update is a direction and the step is ``-lr * update``.
    Raises ``TypeError`` for anything else, for a transformation whose update needs more than gradients
    and parameters, and for an unknown or missing argument; ``ValueError`` for a built transformation
    that already contains a negative learning rate; ``ImportError`` when JAX/optax are not installed.

    >>> optax_adam = from_optax(optax.adam)                  # doctest: +SKIP
    >>> simopt.run(problem, optax_adam(1e-2, b2=0.99), 200, runs=8)      # doctest: +SKIP
    """
    jax, optax = _import_optax()
    module = _caller_module()
    if isinstance(transformation, optax.GradientTransformation):
        if fixed:
            raise TypeError(f"from_optax: keyword arguments {sorted(fixed)} are for a factory such as "
                            f"optax.adam; got an already built transformation")
        built = transformation

        def make_tx(values, lr=None):
            return built
        args = None
        name, what, mode, hyper = "optax_transformation", "from_optax(transformation)", "direction", {}
    elif callable(transformation) and not isinstance(transformation, type):
        fname = getattr(transformation, "__name__", None) or \
            getattr(getattr(transformation, "func", None), "__name__", "transformation")
        what = f"from_optax({fname})"
        args = _Arguments(transformation, fixed, what=what, lr_name="learning_rate", prefix="optax")
        mode = "inject" if args.has_lr else "fixed" if "learning_rate" in fixed else "direction"
        hyper = args.hyper
        name = f"optax_{_identifier(fname)}"

        def make_tx(values, lr=None):
            kw = args.kwargs(values)
            if mode == "inject":
                kw["learning_rate"] = args.probe_lr if lr is None else lr
            tx = transformation(**kw)
            if not isinstance(tx, optax.GradientTransformation):
                raise TypeError(f"{what}: expected a factory returning an optax GradientTransformation, "
                                f"got {type(tx).__name__}")
            return tx
    else:
        raise TypeError(f"transformation: expected an optax transformation or a factory of one (e.g. "
                        f"optax.adam, optax.scale_by_adam), got {transformation!r}")

    def batched(values):
        if mode == "inject":
            def inner(learning_rate):
                return make_tx(values, learning_rate)
            tx = optax.inject_hyperparams(inner)(learning_rate=args.probe_lr)
        else:
            tx = make_tx(values)
        return _OptaxBatch(jax, optax, tx, mode)

    cache: dict = {}

    def host(runs, problem, **values):
        key = tuple(sorted(values.items()))
        if key not in cache:
            if len(cache) >= 16:
                cache.pop(next(iter(cache)))
            cache[key] = batched(values)
        return _OptaxRuns(jax, cache[key])

    _probe_optax(jax, make_tx({} if args is None else args.defaults()), mode, what)
    return RuleDef(name, reference=_reference_function(module), host=host, hyper=hyper,
                   state={_SLOT: "1"}, has_lr=mode != "fixed", decay="decoupled",
                   check=None if args is None else _checker(make_tx, what),
                   doc=f"{what} through simopt.optim.from_optax"
                       + ("" if args is None else f" ({args.describe()})"))


def _probe_optax(jax, tx, mode, what):
    """Two updates with the default hyperparameters on a 2-vector, in float64: a transformation that
    needs more than gradients and parameters, or a built one whose update already points downhill
    (it contains a negative learning rate, and ``-lr * update`` would climb), is an error now."""
    jnp = jax.numpy
    with jax.enable_x64(True):
        x = jnp.asarray(_PROBE_X, dtype=jnp.float64)
        g = jnp.asarray(_PROBE_G, dtype=jnp.float64)
        try:
            state = tx.init(x)
            u, state = tx.update(g, state, x)
            u2, _ = tx.update(g, state, x)
        except Exception as e:  # noqa: BLE001 - whatever it raises, it cannot run on the engine
            raise TypeError(f"{what}: its update cannot run with only gradients and parameters (the "
                            f"engine provides no loss value or closure): {type(e).__name__}: {e}") from e
        if mode == "direction" and float(jnp.vdot(jnp.asarray(u), g)) < 0.0:
            raise ValueError(f"{what}: the transformation's update already points downhill (it contains a "
                             f"negative learning rate, as optax.adam(1e-3) does); pass the factory "
                             f"(optax.adam), whose learning_rate simopt sets, or an lr-free transformation "
                             f"(optax.scale_by_adam())")
