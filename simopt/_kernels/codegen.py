"""The compiled glue of an update rule: one generated module per rule (with its wrappers).

``rule_module(optimizer)`` writes (once) and imports a module containing the rule's *glue*: a
``rule_step`` that binds each named argument of the rule's step (``simopt.optim.rule``) to a slice of the
flat state, a slot of the flat parameter vector or an engine quantity, applies weight decay and wrappers
and calls the step; a ``rule_point`` for rules that take their gradient elsewhere; and the C callbacks
``step_c``/``point_c`` (``numba.cfunc``) whose addresses the run loop calls (``simopt._kernels.callrule``).
The static loop is thus compiled once for all rules and each rule costs only its own small compile.

The module is written under ``simopt._cache.loops_dir()`` with a name that hashes everything its compiled
code depends on (the glue, simopt's kernel and rule sources, the source files of the rule's modules), so
Numba's on-disk cache serves it to every later process and a changed rule gets a new module instead of
stale machine code.  The rule's functions are handed to the module before it runs (``_INJECT``).  Rules
that cannot be imported by path (defined in ``__main__`` or inside a function) are compiled without the
on-disk cache, once per process.
"""
from __future__ import annotations

import hashlib
import importlib.util
import inspect
import os
import sys
import threading

from .. import _cache

_LOCK = threading.Lock()
_LOADED = {}          # module name -> module, this process
_LOOPS = {}           # (template, kind, nkind, dist, hutch) -> specialised loop function, this process
_DIGEST = None


def _package_digest() -> str:
    """Hash of simopt's kernel and rule sources (what a built-in rule's compiled glue depends on)."""
    global _DIGEST
    if _DIGEST is None:
        _DIGEST = _cache.source_digest()
    return _DIGEST


# ---- replaced in every generated module")
    return src[:cut]


# ------------------------------------------------------------------------------------------- glue
class _Layout:
    """Offsets (Python expressions in d, nb, M) into the flat state, parameter and work vectors."""

    def __init__(self):
        self.st = "0"
        self.hp = 0
        self.hp_expr = "0"
        self.work = "0"

    @staticmethod
    def _add(a, b):
        return b if a == "0" else f"{a} + {b}"


def _size(shape):
    return " * ".join(f"({s})" for s in shape)


def _bind(definition, args, engine, lay, state_exprs, hp_exprs):
    out = []
    for a in args:
        if a in engine:
            out.append(engine[a])
        elif a in state_exprs:
            out.append(state_exprs[a])
        elif a in hp_exprs:
            out.append(hp_exprs[a])
        else:  # pragma: no cover - checked when the rule is declared
            raise TypeError(f"{definition.name}: nothing to bind to {a!r}")
    return ", ".join(out)


def _component_exprs(definition, lay, is_rule):
    """State slot and parameter expressions of one component; advances the layout."""
    state = {}
    for k, shp in definition.state.items():
        size = _size(shp)
        end = _Layout._add(lay.st, size)
        sl = f"st[{lay.st}:{end}]"
        state[k] = sl if len(shp) == 1 else f"{sl}.reshape(({shp[0]}, {shp[1]}))"
        lay.st = end
    hp = {}
    for k, h in definition.hyper.items():
        ref = f"hp[{lay.hp_expr}]"
        hp[k] = {"bool": f"({ref} != 0.0)", "int": f"int({ref})", "choice": f"int({ref})"}.get(h.kind, ref)
        lay.hp_expr = _Layout._add(lay.hp_expr, "1")
    if is_rule:
        for k, size in definition.derived.items():
            if size.strip() == "1":
                hp[k] = f"hp[{lay.hp_expr}]"
            else:
                hp[k] = f"hp[{lay.hp_expr}:{_Layout._add(lay.hp_expr, f'({size})')}]"
            lay.hp_expr = _Layout._add(lay.hp_expr, f"({size})")
    return state, hp


def glue_source(optimizer, inline: bool = True) -> tuple[str, list, int | str]:
    """The source of ``rule_step``/``rule_point`` for ``optimizer``, the components to inject
    (``[(global name, definition)]``) and the work-vector size expression.  With ``inline`` the glue is
    inlined (Numba IR inlining) into the C callbacks, so a rule compiles as one unit instead of three."""
    deco = "@_njit(error_model='numpy', inline='always')" if inline else "@_njit(error_model='numpy')"
    comps = optimizer.components()
    lay = _Layout()
    names, exprs = [], []
    for i, (c, _) in enumerate(comps):
        names.append((f"_c{i}", c))
        exprs.append(_component_exprs(c, lay, i == len(comps) - 1))
    wd = f"hp[{lay.hp_expr}]"
    rule = comps[-1][0]
    L = [deco,
         "def rule_step(x, g, grads, st, t, lr, hp, blk, rows, cols, xstar, hdiag, hutch, work):",
         "    d = x.shape[0]",
         "    nb = blk.shape[0] - 1",
         "    M = grads.shape[0]"]
    if rule.decay == "decoupled":
        L += [f"    wd = {wd}",
              "    if wd != 0.0:",
              "        for j in range(d):",
              "            x[j] -= lr * wd * (x[j] + xstar[j])"]
    gcur, graw = "g", "g"
    updates = []
    for i, (c, _) in enumerate(comps[:-1]):
        st, hp = exprs[i]
        if c.kind == "gradient":
            buf = f"work[{lay.work}:{_Layout._add(lay.work, 'd')}]"
            lay.work = _Layout._add(lay.work, "d")
            L.append(f"    g{i} = {buf}")
            eng = {"out": f"g{i}", "g": gcur, "t": "t", "lr": "lr"}
            L.append(f"    _c{i}({_bind(c, c.step_args, eng, lay, st, hp)})")
            gcur = f"g{i}"
        else:
            updates.append(i)
    if updates:
        buf = f"work[{lay.work}:{_Layout._add(lay.work, 'd')}]"
        lay.work = _Layout._add(lay.work, "d")
        L += [f"    xprev = {buf}", "    xprev[:] = x"]
    st, hp = exprs[-1]
    eng = {"x": "x", "grads": "grads", "t": "t", "lr": "lr", "blocks": "blk", "xstar": "xstar",
           "hdiag": "hdiag", "hutchinson": "hutch", "rows": "rows", "cols": "cols"}
    if "gm" in rule.step_args:
        eng.update(g=graw, gm=gcur)
    else:
        eng.update(g=gcur, gm=gcur)
    L.append(f"    _c{len(comps) - 1}({_bind(rule, rule.step_args, eng, lay, st, hp)})")
    for i in reversed(updates):
        c = comps[i][0]
        s2, h2 = exprs[i]
        e2 = {"x": "x", "xprev": "xprev", "g": gcur, "t": "t", "lr": "lr"}
        L.append(f"    _c{i}({_bind(c, c.step_args, e2, lay, s2, h2)})")
    if rule.decay == "after":
        L += [f"    wd = {wd}",
              "    if wd != 0.0:",
              "        for j in range(d):",
              "            x[j] -= lr * wd * (x[j] + xstar[j])"]
    if rule.decay == "proximal":
        L += [f"    wd = {wd}",
              "    if wd != 0.0:",
              "        for j in range(d):",
              "            x[j] = (x[j] + xstar[j]) / (1.0 + lr * wd) - xstar[j]"]
    L.append("")
    L += [deco, "def rule_point(y, x, st, t, lr, hp, blk, xstar):"]
    if rule.point is None:
        L.append("    pass")
    else:
        L += ["    d = x.shape[0]", "    nb = blk.shape[0] - 1", "    M = 1"]
        eng = {"y": "y", "x": "x", "t": "t", "lr": "lr", "blocks": "blk", "xstar": "xstar"}
        L.append(f"    _c{len(comps) - 1}_point({_bind(rule, rule.point_args, eng, lay, st, hp)})")
    return "\n".join(L) + "\n", names, lay.work


def _component_source_text(definition) -> str:
    """What the compiled code of a component depends on beyond simopt: its step's source file."""
    parts = []
    for fn in (definition.step, getattr(definition, "point", None)):
        if fn is None:
            continue
        try:
            path = inspect.getsourcefile(fn)
            with open(path, "rb") as f:
                parts.append(f.read().decode("utf-8", "replace"))
        except (TypeError, OSError):
            parts.append(repr(fn.__code__.co_code) + repr(fn.__code__.co_consts))
    return "\n".join(parts)


_CFUNCS = """
@_cfunc(STEP_SIGNATURE, cache=CACHE, error_model='numpy')
def step_c(xp, gp, gsp, stp, hpp, bp, shp, xsp, hdp, hup, wp, d, nb, M, S, P, W, t, lr):
    shape = _carray(shp, (2,))
    rule_step(_carray(xp, (d,)), _carray(gp, (d,)), _carray(gsp, (M, d)), _carray(stp, (S,)), t, lr,
              _carray(hpp, (P,)), _carray(bp, (nb + 1,)), shape[0], shape[1], _carray(xsp, (d,)),
              _carray(hdp, (d,)), _carray(hup, (d,)), _carray(wp, (W,)))
"""

_POINT_CFUNC = """
@_cfunc(POINT_SIGNATURE, cache=CACHE, error_model='numpy')
def point_c(yp, xp, stp, hpp, bp, xsp, d, nb, S, P, t, lr):
    rule_point(_carray(yp, (d,)), _carray(xp, (d,)), _carray(stp, (S,)), t, lr, _carray(hpp, (P,)),
               _carray(bp, (nb + 1,)), _carray(xsp, (d,)))
"""


def module_text(optimizer, inline: bool = True) -> tuple[str, str, list, bool, str]:
    """(module name, source, components, cacheable, work size expression) of ``optimizer``'s glue.

    With ``inline`` (the default) the glue and the rule's step functions are inlined into the C
    callbacks at Numba's IR level: one compiled unit per callback, about a third less compile time
    than compiling each as its own function; ``rule_module`` falls back to ``inline=False`` for a step
    Numba cannot inline (the arithmetic is the same either way: no fast-math flags in either)."""
    glue, comps, work = glue_source(optimizer, inline)
    opts = "error_model='numpy', inline='always'" if inline else "error_model='numpy'"
    cacheable = all(c.source is not None for _, c in comps)
    head = ["# Generated by simopt._kernels.codegen: the glue between the run loop and one update rule.",
            "# Do not edit; delete the folder to force recompilation.",
            "from numba import carray as _carray, cfunc as _cfunc, njit as _njit",
            "from simopt._kernels.callrule import POINT_SIGNATURE, STEP_SIGNATURE",
            f"CACHE = {cacheable}",
            "# _INJECT (the rule's components, in order) is set by codegen before this module runs"]
    for i, (gname, c) in enumerate(comps):
        head.append(f"{gname} = _njit({opts})(_INJECT[{i}].step)")
        if getattr(c, "point", None) is not None:
            head.append(f"{gname}_point = _njit({opts})(_INJECT[{i}].point)")
    src = "\n".join(head) + "\n\n\n" + glue + _CFUNCS
    if comps[-1][1].point is not None:
        src += _POINT_CFUNC
    h = hashlib.sha256()
    h.update(src.encode())
    h.update(_package_digest().encode())
    for _, c in comps:
        h.update(_component_source_text(c).encode())
    safe = "".join(ch if ch.isalnum() else "_" for ch in optimizer.name)[:40]
    return f"simopt_rule_{safe}_{h.hexdigest()[:16]}", src, comps, cacheable, work


def _write_once(path: str, text: str) -> bool:
    """Create ``path`` with ``text`` atomically, never rewriting an existing file (a rewrite would change
    its modification time and invalidate Numba's cache index for every process).  True if written."""
    if os.path.exists(path):
        return False
    tmp = f"{path}.{os.getpid()}.{threading.get_ident()}.tmp"
    with open(tmp, "w") as f:
        f.write(text)
    try:
        os.link(tmp, path)
        return True
    except FileExistsError:
        return False
    finally:
        os.unlink(tmp)


def rule_module(optimizer):
    """The compiled glue module of ``optimizer``: ``step_c`` (and ``point_c``) C callbacks whose
    ``address`` the run loop calls; written, compiled (or loaded from Numba's cache) on first use.
    ``mod.FRESH`` says whether this process wrote the module (so it was compiled, not loaded).  A rule
    whose step Numba cannot inline is compiled with its functions apart (``module_text(inline=False)``);
    an error of that compile is the rule's own."""
    from numba.core.errors import NumbaError
    marker = os.path.join(_cache.loops_dir(), module_text(optimizer, True)[0] + ".noinline")
    if not os.path.exists(marker):
        try:
            return _rule_module(optimizer, True)
        except NumbaError:
            _write_once(marker, "Numba could not inline this rule's step: compiled without inlining.\n")
    return _rule_module(optimizer, False)


def _rule_module(optimizer, inline):
    name, src, comps, cacheable, work = module_text(optimizer, inline)
    with _LOCK:
        mod = _LOADED.get(name)
        if mod is not None:
            return mod
        path = os.path.join(_cache.loops_dir(), name + ".py")
        fresh = _write_once(path, src) or not cacheable
        spec = importlib.util.spec_from_file_location(name, path)
        mod = importlib.util.module_from_spec(spec)
        mod._INJECT = [c for _, c in comps]
        sys.modules[name] = mod   # Numba's cache rebuilds a function's environment by module name
        try:
            spec.loader.exec_module(mod)
        except BaseException:
            sys.modules.pop(name, None)
            raise
        mod.WORK_SIZE = work
        mod.FRESH = fresh
        _LOADED[name] = mod
        return mod


def will_compile(optimizer) -> bool:
    """True when using ``optimizer`` in this process will compile its glue (first use on this machine,
    or a rule that cannot be cached)."""
    for inline in (True, False):
        name, src, comps, cacheable, work = module_text(optimizer, inline)
        if name in _LOADED:
            return False
        if cacheable and os.path.exists(os.path.join(_cache.loops_dir(), name + ".py")):
            return False
    return True


# ------------------------------------------------------------------------------- specialised loops
_LOOP_MARK = "    # <specialise>\n"


def loop_for(kind: int, nkind: int, dist: int = 0, hutch: bool = False, template: str = "loop"):
    """The run loop (``simopt/_kernels/loop.py``: ``run_chunk``; ``template="evaluate"``: the NumPy-rule
    evaluator ``evaluate_step`` of ``evaluate.py``) specialised to one problem kind, one noise kind, one
    noise distribution and whether the rule takes a Hutchinson probe: a generated module (written once
    under ``loops_dir()``, cached by Numba) whose function binds the four as constants, so Numba prunes
    the other branches before typing them and the compiled code holds only that combination (the
    Student-t sampler, say, is compiled only for loops that draw from it)."""
    kind, nkind, dist, hutch = int(kind), int(nkind), int(dist), bool(hutch)
    key = (template, kind, nkind, dist, hutch)
    fn = _LOOPS.get(key)
    if fn is not None:
        return fn
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, f"{template}.py")) as f:
        src = f.read()
    if _LOOP_MARK not in src:  # pragma: no cover - the template lost its marker
        raise RuntimeError(f"simopt/_kernels/{template}.py: the '# <specialise>' line is missing")
    src = src.replace(_LOOP_MARK, f"    kind = {kind}\n    nkind = {nkind}\n    dist = {dist}\n"
                                  f"    want_hutch = {hutch}\n", 1)
    src = (f"# Generated by simopt._kernels.codegen.loop_for: simopt/_kernels/{template}.py specialised\n"
           f"# to problem kind {kind}, noise kind {nkind}, distribution {dist}, Hutchinson probe {hutch}.\n"
           f"# Do not edit.\n" + src)
    h = hashlib.sha256(src.encode() + _package_digest().encode()).hexdigest()[:16]
    name = f"simopt_{template}_k{kind}_n{nkind}_d{dist}_h{int(hutch)}_{h}"
    with _LOCK:
        mod = _LOADED.get(name)
        if mod is None:
            path = os.path.join(_cache.loops_dir(), name + ".py")
            _write_once(path, src)
            spec = importlib.util.spec_from_file_location(name, path)
            mod = importlib.util.module_from_spec(spec)
            sys.modules[name] = mod
            try:
                spec.loader.exec_module(mod)
            except BaseException:
                sys.modules.pop(name, None)
                raise
            _LOADED[name] = mod
    fn = mod.run_chunk if template == "loop" else mod.evaluate_step
    _LOOPS[key] = fn
    return fn
