"""Sweep specifications: problems × optimizers × learning rates × seeds, declared as data.

A spec is a plain mapping (a TOML file read with :mod:`tomllib`, or a Python ``dict``)::

    steps = 200                 # iterations per run                        (required)
    seeds = [0, 1, 2]           # engine seeds, one cell each               (required)
                                #   or {start = 0, count = 10}
    runs = 4                    # runs per cell (one batched simopt.run call)      default 1
    record_every = 10           # recording stride                                 default 1
    record = []                 # extra per-step records: "sharpness", ...         default []
    eps = 1e-3                  # target for T(eps) (analysis only, not hashed)    default none
    eps_metric = "loss"         # "loss" (relative) or "grad_norm"                 default "loss"
    criterion = "median"        # lr tuning criterion, see simopt.sweep.tune       default "median"
    divergence_threshold = 1e12 # as in simopt.run                                 default 1e12

    [[problems]]                # one entry per problem family; the union of all entries is swept
    type = "heterogeneous_blocks"            # quadratic | block_diagonal | heterogeneous_blocks
    n_blocks = 4
    block_size = 5
    noise = {type = "gaussian", scale = 0.1} # gaussian | hessian_aligned | student_t | sampled_gaussian
                                             # | sampled_coordinates; batch_size = B on any of them
    grid = {heterogeneity = [0.0, 0.5, 1.0]}

    [[optimizers]]
    name = "adam"               # any simopt.optim.make name, or "mypkg.rules:lion" (import path)
    lr = [1e-3, 1e-2, 1e-1]     # the lr grid (a number or a list); tuned per problem cell
    grid = {beta1 = [0.0, 0.9]} # other hyperparameters: fixed keys, or grid axes
    schedule = {type = "cosine", final_lr = 0.0}   # optional: lr is the schedule's base rate

Grids (the value of ``grid``):

* a table ``{a = [..], b = [..]}`` is the **product** of its axes;
* inside it, ``zip = {c = [..], d = [..]}`` (or a list of such tables) walks axes **together**
  (equal lengths), as one axis of the product;
* a list of tables ``grid = [{..}, {..}]`` is the **union** of their grid points (duplicates, i.e.
  cells with the same content hash, are kept once);
* an axis name may be dotted to vary one field of a nested table: ``"noise.scale" = [0.1, 1.0]``.

Spectra are explicit lists of eigenvalues or tables naming a :mod:`simopt.spectra` generator, e.g.
``eigvals = {spectrum = "logspace", d = 20, low = 1e-3, high = 1.0}`` (generators that take ``rng``
take ``seed`` here instead).  ``block_eigvals`` is a list whose items are such lists or tables.

Each *cell* is one (problem point, optimizer point, seed): one ``simopt.run`` call with ``runs`` runs.
Its identity is :func:`content_hash` of its canonical JSON: sha256 over the JSON text with sorted
keys, so it does not depend on the order keys were written in.  Numbers of real-valued parameters
are stored as floats before hashing (``condition_number = 100`` and ``= 100.0`` are one cell); only
sizes, counts and seeds (``d``, ``seed``, ``n_blocks``, ``block_size``, ``blocks``, ``step_size``,
``total``) stay integers.  (A spec of simopt 0.1.0 that wrote an integer for a real parameter gets
new hashes for those cells, computed once; specs written with floats keep theirs.)  Only what changes the computed
arrays is hashed (problem, optimizer, seed, steps, runs, record_every, record, divergence
threshold); labels, ``eps`` and the tuning criterion are analysis settings and are not.

Validation happens before anything is written: unknown keys (the message names the key and the
allowed ones), wrong types, empty grids, negative or duplicate seeds and missing required fields
each raise one :class:`SpecError`, and so do bad *values*, with the spec path of the value (e.g.
``problems[2].eigvals`` and the grid point): optimizer hyperparameters are checked by building each
optimizer, problem values (spectra, noise scales, sizes, rotation, x0/xstar shapes, block
partitions) by the constructors' own checks, without building the rotation.  What only the full
construction can find (``f(x0)`` overflowing) is a failed cell, reported with its error.
``load`` on a file that is not UTF-8 TOML, or nested too deeply, raises a :class:`SpecError` too.
"""
from __future__ import annotations

import copy
import difflib
import hashlib
import inspect
import itertools
import json
import math
import numbers
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = [
    "SpecError", "SpecTypeError", "Spec", "Cell", "load", "parse", "content_hash", "canonical_json",
    "product", "zipped", "union", "PROBLEM_TYPES", "NOISE_TYPES", "RECORDABLE",
]

SCHEMA_VERSION = 1
PROBLEM_TYPES = ("quadratic", "block_diagonal", "heterogeneous_blocks")
NOISE_TYPES = ("gaussian", "hessian_aligned", "student_t", "sampled_gaussian", "sampled_coordinates")
RECORDABLE = ("x", "sharpness", "block_grad_norms")
SCHEDULE_TYPES = ("constant", "step", "inverse_sqrt", "cosine")
EPS_METRICS = ("loss", "grad_norm")
CRITERIA = ("median", "persistent", "ert")

_TOP_KEYS = {
    "name": "a label for the sweep (string)",
    "description": "free text",
    "steps": "iterations per run (integer >= 1)",
    "seeds": "list of distinct integers >= 0, or {start, count}",
    "runs": "runs per cell (integer >= 1)",
    "record_every": "recording stride (integer >= 1)",
    "record": f"list of extra records among {list(RECORDABLE)}",
    "eps": "target for T(eps) (positive number)",
    "eps_metric": f"one of {list(EPS_METRICS)}",
    "criterion": f"lr tuning criterion, one of {list(CRITERIA)}",
    "divergence_threshold": "positive number",
    "problems": "list of problem tables",
    "optimizers": "list of optimizer tables",
}
_REQUIRED_TOP = ("steps", "seeds", "problems", "optimizers")


class SpecError(ValueError):
    """A sweep specification is invalid; the message names the offending key and what was expected."""


class SpecTypeError(SpecError, TypeError):
    """A sweep specification value has the wrong type."""


# --------------------------------------------------------------------------------------------------
# canonical JSON and hashing


def _canon(obj, where="value"):
    """Plain-JSON normal form: tuples -> lists, numpy scalars -> Python; rejects NaN/inf and others."""
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, numbers.Integral):
        return int(obj)
    if isinstance(obj, numbers.Real):
        v = float(obj)
        if not math.isfinite(v):
            raise SpecError(f"{where}: expected a finite number, got {v!r}")
        return v
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            if not isinstance(k, str):
                raise SpecTypeError(f"{where}: keys must be strings, got {k!r}")
            out[k] = _canon(v, f"{where}.{k}")
        return out
    if isinstance(obj, (list, tuple, range)):
        return [_canon(v, f"{where}[{i}]") for i, v in enumerate(obj)]
    if hasattr(obj, "tolist") and callable(obj.tolist):  # numpy arrays and scalars
        return _canon(obj.tolist(), where)
    raise SpecTypeError(f"{where}: expected numbers, strings, booleans, lists or tables, "
                        f"got {type(obj).__name__} ({obj!r})")


#: keys whose numbers are integers (sizes, counts, seeds); every other number in a problem or
#: optimizer table is a real-valued parameter and is stored as a float
_INT_KEYS = frozenset({"d", "seed", "n_blocks", "block_size", "blocks", "step_size", "total", "batch_size"})


def _reals(obj, key=None):
    """Integers of real-valued parameters as floats (``100`` -> ``100.0``), so that ``100`` and
    ``100.0`` give one cell and one content hash; integers under :data:`_INT_KEYS` stay integers."""
    if isinstance(obj, dict):
        return {k: _reals(v, k) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_reals(v, key) for v in obj]
    if isinstance(obj, int) and not isinstance(obj, bool) and key not in _INT_KEYS:
        return float(obj)
    return obj


def canonical_json(obj) -> str:
    """JSON text with sorted keys and no whitespace: equal content gives equal text whatever the
    order in which keys were written."""
    return json.dumps(_canon(obj), sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)


def content_hash(obj) -> str:
    """sha256 (hex) of :func:`canonical_json` of ``obj``."""
    return hashlib.sha256(canonical_json(obj).encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------------------------------
# small checks


def _tname(x) -> str:
    if isinstance(x, dict):
        return "table"
    if isinstance(x, (list, tuple)):
        return "list"
    return type(x).__name__


def _is_number(x) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def _is_int(x) -> bool:
    return isinstance(x, numbers.Integral) and not isinstance(x, bool)


def _unknown(where: str, key: str, allowed, what: str = "key") -> SpecError:
    allowed = sorted(allowed)
    hint = difflib.get_close_matches(key, allowed, n=1)
    hint = f" (did you mean {hint[0]!r}?)" if hint else ""
    return SpecError(f"{where}: unknown {what} {key!r}{hint}; allowed: {', '.join(allowed)}")


def _check_keys(d: dict, where: str, allowed):
    for k in d:
        if k not in allowed:
            raise _unknown(where, k, allowed)


def _need_table(x, where):
    if not isinstance(x, dict):
        raise SpecTypeError(f"{where}: expected a table, got {_tname(x)} ({x!r})")
    return x


def _need_int(x, where, minimum):
    if not _is_int(x):
        raise SpecTypeError(f"{where}: expected an integer, got {_tname(x)} ({x!r})")
    if x < minimum:
        raise SpecError(f"{where}: expected an integer >= {minimum}, got {x}")
    return int(x)


def _need_positive(x, where):
    if not _is_number(x):
        raise SpecTypeError(f"{where}: expected a positive number, got {_tname(x)} ({x!r})")
    v = float(x)
    if not (math.isfinite(v) and v > 0):
        raise SpecError(f"{where}: expected a positive finite number, got {v!r}")
    return v


def _need_str_choice(x, where, choices):
    if not isinstance(x, str):
        raise SpecTypeError(f"{where}: expected one of {list(choices)}, got {_tname(x)} ({x!r})")
    if x not in choices:
        raise _unknown(where, x, choices, what="value")
    return x


def _need_numbers(x, where):
    if not isinstance(x, (list, tuple)) or not x:
        raise SpecTypeError(f"{where}: expected a non-empty list of numbers, got {_tname(x)} ({x!r})")
    for i, v in enumerate(x):
        if not _is_number(v):
            raise SpecTypeError(f"{where}[{i}]: expected a number, got {_tname(v)} ({v!r})")
    return x


def _signature(func, sig=None):
    """(all parameter names, required parameter names) of a constructor (or of its signature ``sig``)."""
    sig = inspect.signature(func) if sig is None else sig
    params = [p for p in sig.parameters.values()
              if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    names = [p.name for p in params]
    required = [p.name for p in params if p.default is inspect.Parameter.empty]
    return names, required


# --------------------------------------------------------------------------------------------------
# grids


def product(**axes) -> dict:
    """Python-API grid: the product of the given axes (each a non-empty list)."""
    return {k: list(v) for k, v in axes.items()}


def zipped(**axes) -> dict:
    """Python-API grid: the given axes walked together (equal lengths); combine with :func:`product`
    by ``{**product(...), **zipped(...)}``."""
    return {"zip": {k: list(v) for k, v in axes.items()}}


def union(*grids) -> list:
    """Python-API grid: the union of the grid points of ``grids``."""
    out = []
    for g in grids:
        out.extend(g if isinstance(g, list) else [g])
    return out


def _axis_values(vals, where):
    if not isinstance(vals, (list, tuple)):
        raise SpecTypeError(f"{where}: a grid axis must be a list of values, got {_tname(vals)} "
                            f"({vals!r})")
    if len(vals) == 0:
        raise SpecError(f"{where}: empty grid axis (a grid axis needs at least one value)")
    seen = set()
    for i, v in enumerate(vals):
        c = json.dumps(_canon(v, f"{where}[{i}]"), sort_keys=True, separators=(",", ":"))
        if c in seen:
            raise SpecError(f"{where}: duplicate value {v!r} in grid axis")
        seen.add(c)
    return list(vals)


def _expand_product(g: dict, where: str) -> list[dict]:
    axes = []  # list of (names, list of value tuples)
    names_seen = set()

    def add(names, rows):
        for n in names:
            if n in names_seen:
                raise SpecError(f"{where}: grid axis {n!r} appears twice")
            names_seen.add(n)
        axes.append((names, rows))

    for k, v in g.items():
        if k == "zip":
            groups = v if isinstance(v, list) else [v]
            if not groups:
                raise SpecError(f"{where}.zip: empty list of zipped groups")
            for gi, grp in enumerate(groups):
                w = f"{where}.zip" + (f"[{gi}]" if isinstance(v, list) else "")
                _need_table(grp, w)
                if not grp:
                    raise SpecError(f"{w}: empty zip table (it needs at least one axis)")
                cols = {n: _axis_values(vals, f"{w}.{n}") for n, vals in grp.items()}
                lens = {n: len(c) for n, c in cols.items()}
                if len(set(lens.values())) != 1:
                    raise SpecError(f"{w}: zipped axes must have equal lengths, got {lens}")
                names = list(cols)
                add(names, list(zip(*(cols[n] for n in names))))
        else:
            add([k], [(x,) for x in _axis_values(v, f"{where}.{k}")])
    points = []
    for combo in itertools.product(*(rows for _, rows in axes)):
        pt = {}
        for (names, _), row in zip(axes, combo):
            pt.update(zip(names, row))
        points.append(pt)
    return points


def expand_grid(grid, where: str = "grid") -> list[dict]:
    """Grid points (dicts axis -> value) of a grid value: table = product (with ``zip`` groups),
    list of tables = union.  ``None`` gives the single empty point."""
    if grid is None:
        return [{}]
    if isinstance(grid, dict):
        if not grid:
            raise SpecError(f"{where}: empty grid table (omit 'grid' for no grid)")
        return _expand_product(grid, where)
    if isinstance(grid, (list, tuple)):
        if not grid:
            raise SpecError(f"{where}: empty list of grids")
        out = []
        for i, g in enumerate(grid):
            _need_table(g, f"{where}[{i}]")
            out.extend(expand_grid(g, f"{where}[{i}]"))
        return out
    raise SpecTypeError(f"{where}: expected a table of axes or a list of such tables, got "
                        f"{_tname(grid)} ({grid!r})")


def _grid_axis_names(grid) -> set:
    names = set()
    if isinstance(grid, dict):
        for k, v in grid.items():
            if k == "zip":
                for grp in (v if isinstance(v, list) else [v]):
                    if isinstance(grp, dict):
                        names.update(grp)
            else:
                names.add(k)
    elif isinstance(grid, (list, tuple)):
        for g in grid:
            names |= _grid_axis_names(g)
    return names


def _set_path(d: dict, path: str, value, where: str):
    parts = path.split(".")
    cur = d
    for i, p in enumerate(parts[:-1]):
        nxt = cur.get(p)
        if nxt is None:
            nxt = cur[p] = {}
        if not isinstance(nxt, dict):
            raise SpecError(f"{where}: grid axis {path!r} sets a field of "
                            f"{'.'.join(parts[:i + 1])!r}, which is not a table")
        cur = nxt
    cur[parts[-1]] = copy.deepcopy(value)


def _point_label(point: dict) -> str:
    def fmt(v):
        if isinstance(v, float):
            return f"{v:g}"
        if isinstance(v, (dict, list)):
            return canonical_json(v)
        return str(v)
    return ", ".join(f"{k}={fmt(v)}" for k, v in point.items())


# --------------------------------------------------------------------------------------------------
# problems


def _problem_ctor(typ):
    import simopt
    return getattr(simopt, typ)


def _check_spectrum_table(t: dict, where: str):
    import simopt.spectra as sp
    name = t.get("spectrum")
    if name is None:
        raise SpecError(f"{where}: a spectrum table needs 'spectrum' (the simopt.spectra generator)")
    gens = [n for n in ("linear", "logspace", "power_law", "two_cluster", "deep_learning_like")
            if callable(getattr(sp, n, None))]
    _need_str_choice(name, f"{where}.spectrum", gens)
    names, required = _signature(getattr(sp, name))
    allowed = [n for n in names if n != "rng"] + ["spectrum"] + (["seed"] if "rng" in names else [])
    _check_keys(t, where, allowed)
    for r in required:
        if r == "rng":
            if "seed" not in t:
                raise SpecError(f"{where}: spectrum {name!r} is random: give 'seed' (integer >= 0)")
            continue
        if r not in t:
            raise SpecError(f"{where}: missing required key {r!r} for spectrum {name!r}")
    for k, v in t.items():
        if k == "spectrum":
            continue
        if k in ("d", "seed"):
            _need_int(v, f"{where}.{k}", 1 if k == "d" else 0)
        elif not _is_number(v):
            raise SpecTypeError(f"{where}.{k}: expected a number, got {_tname(v)} ({v!r})")


def _check_eigvals(v, where):
    if isinstance(v, dict):
        _check_spectrum_table(v, where)
    else:
        _need_numbers(v, where)


def _check_noise(v, where):
    if v is None:
        return
    _need_table(v, where)
    if "type" not in v:
        raise SpecError(f"{where}: missing required key 'type' (one of {list(NOISE_TYPES)})")
    typ = _need_str_choice(v["type"], f"{where}.type", NOISE_TYPES)
    import simopt.noise as nz
    names, required = _signature(getattr(nz, typ))
    _check_keys(v, f"{where} ({typ})", names + ["type"])
    for r in required:
        if r not in v:
            raise SpecError(f"{where}: missing required key {r!r} for noise {typ!r}")
    for k, x in v.items():
        if k == "type":
            continue
        if isinstance(x, (list, tuple)):
            _need_numbers(x, f"{where}.{k}")
        elif not _is_number(x):
            raise SpecTypeError(f"{where}.{k}: expected a number, got {_tname(x)} ({x!r})")


def _check_problem_value(k, v, where):
    w = f"{where}.{k}"
    if k == "eigvals":
        _check_eigvals(v, w)
    elif k == "block_eigvals":
        if not isinstance(v, (list, tuple)) or not v:
            raise SpecTypeError(f"{w}: expected a non-empty list of blocks (each a list of numbers "
                                f"or a spectrum table), got {_tname(v)} ({v!r})")
        for i, b in enumerate(v):
            _check_eigvals(b, f"{w}[{i}]")
    elif k == "noise":
        _check_noise(v, w)
    elif k in ("x0", "xstar"):
        if v is not None:
            _need_numbers(v, w)
    elif k == "seed":
        _need_int(v, w, 0)
    elif k in ("n_blocks", "block_size"):
        _need_int(v, w, 1)
    elif k == "rotation":
        if not (isinstance(v, str) or _is_number(v)):
            raise SpecTypeError(f"{w}: expected a string or a number in [0, 1], got {_tname(v)} "
                                f"({v!r})")
    elif k in ("heterogeneity", "condition_number", "block_width"):
        if v is not None and not _is_number(v):
            raise SpecTypeError(f"{w}: expected a number, got {_tname(v)} ({v!r})")
    elif k == "blocks":
        if v is not None:
            if not isinstance(v, (list, tuple)) or not all(_is_int(b) for b in v) or not v:
                raise SpecTypeError(f"{w}: expected a non-empty list of integers (block sizes), got "
                                    f"{_tname(v)} ({v!r})")
    # other constructor arguments: any JSON value, checked by the constructor at run time


def _spec_error(where: str, key: str, e: Exception) -> SpecError:
    """A constructor's ``TypeError``/``ValueError`` (``"name: what"``) as a :class:`SpecError` naming
    the spec path ``where.key``."""
    msg = str(e)
    head, sep, rest = msg.partition(": ")
    if sep and " " not in head:  # the constructor named the argument: use its name in the path
        top = head.split("[")[0].split(".")[0]
        key = head if top in _PROBLEM_KEYS else f"{key}.{head}"
        msg = rest
    cls = SpecTypeError if isinstance(e, TypeError) else SpecError
    return cls(f"{where}.{key}: {msg}")


_PROBLEM_KEYS = ("eigvals", "block_eigvals", "n_blocks", "block_size", "heterogeneity",
                 "condition_number", "block_width", "rotation", "noise", "x0", "xstar", "blocks",
                 "seed", "within_blocks")


def _check_problem_point(p: dict, where: str, shown: str):
    """Check a problem point's *values* as its constructor will (cheaply: spectra, rotation
    argument, noise model, x0/xstar shapes, block partition), without building the rotation.
    Errors name the spec path, e.g. ``problems[2].eigvals``, and the grid point."""
    import simopt.problems as P
    from .._validate import as_float_array, check_bool
    from ..spectra import as_block_eigvals

    suffix = "" if shown.endswith(")") and "," not in shown else f" (at {shown})"

    def guard(key, fn):
        try:
            return fn()
        except SpecError:
            raise
        except (TypeError, ValueError) as e:
            err = _spec_error(where, key, e)
            raise type(err)(f"{err}{suffix}") from None

    def eig(v, name):
        lam = as_float_array(build_spectrum(v), name, ndim=1, positive=True)
        return P._check_eigvals(lam, name)

    typ = p["type"]
    if typ == "quadratic":
        sizes = [guard("eigvals", lambda: eig(p["eigvals"], "eigvals")).size]
        allowed = ("none", "haar")
    elif typ == "block_diagonal":
        spectra = guard("block_eigvals", lambda: as_block_eigvals(
            [eig(b, f"block_eigvals[{i}]") for i, b in enumerate(p["block_eigvals"])]))
        sizes = [b.size for b in spectra]
        allowed = ("block", "none", "global", "haar")
    else:
        sizes = [b.size for b in guard("heterogeneity", lambda: P.heterogeneous_block_spectra(
            p["n_blocks"], p["block_size"], p.get("heterogeneity"),
            p.get("condition_number", 5000.0), p.get("block_width")))]
        allowed = ("block", "none", "global", "haar")
    d = sum(sizes)
    if "rotation" in p:
        guard("rotation", lambda: P._parse_rotation(p["rotation"], allowed))
    if p.get("noise") is not None:
        nz = guard("noise", lambda: build_noise(p["noise"]))
        scale = getattr(nz, "scale", None)
        if isinstance(scale, np.ndarray) and scale.shape != (d,):
            raise SpecError(f"{where}.noise.scale: expected a number or {d} values (the problem's "
                            f"dimension), got {scale.size}{suffix}")
        rot = p.get("rotation", "none" if typ == "quadratic" else "block")
        if p["noise"].get("type") == "sampled_coordinates" and (rot not in ("none", 0, 0.0)
                                                               or p.get("within_blocks")):
            raise SpecError(f"{where}.noise: sampled_coordinates needs a diagonal problem (rotation = "
                            f"\"none\"), got rotation {rot!r}{suffix}")
    for k in ("x0", "xstar"):
        if p.get(k) is not None:
            guard(k, lambda: as_float_array(p[k], k, shape=(d,)))
    if p.get("blocks") is not None:
        guard("blocks", lambda: P._check_partition(p["blocks"], d))
    if "within_blocks" in p:
        guard("within_blocks", lambda: check_bool(p["within_blocks"], "within_blocks"))
    if "seed" in p:
        guard("seed", lambda: P._check_seed(p["seed"]))


_PROBLEM_META = ("type", "grid", "label")


def _check_label_and_grid_axes(entry, where, w, axes):
    """Shared by problem and optimizer entries: ``label`` is a string, every grid axis names one of
    ``axes`` (its head before a dot) and is not also given as a fixed value.  Returns ``(label, grid)``."""
    label = entry.get("label")
    if label is not None and not isinstance(label, str):
        raise SpecTypeError(f"{where}.label: expected a string, got {_tname(label)}")
    grid = entry.get("grid")
    for a in _grid_axis_names(grid):
        if a.split(".")[0] not in axes:
            raise _unknown(f"{w}.grid", a, axes, what="grid axis")
        if a in entry:
            raise SpecError(f"{w}: {a!r} is given both as a fixed value and as a grid axis")
    return label, grid


def _problem_points(entry, where) -> list[tuple[dict, str]]:
    _need_table(entry, where)
    if "type" not in entry:
        raise SpecError(f"{where}: missing required key 'type' (one of {list(PROBLEM_TYPES)})")
    typ = _need_str_choice(entry["type"], f"{where}.type", PROBLEM_TYPES)
    names, required = _signature(_problem_ctor(typ))
    allowed = set(names) | set(_PROBLEM_META)
    w = f"{where} ({typ})"
    _check_keys(entry, w, allowed)
    label, grid = _check_label_and_grid_axes(entry, where, w, names)
    points = expand_grid(grid, f"{where}.grid")
    base = {k: v for k, v in entry.items() if k not in ("grid", "label")}
    out = []
    for pt in points:
        p = copy.deepcopy(base)
        for a, val in pt.items():
            _set_path(p, a, val, w)
        pw = f"{where} ({typ}" + (f", {_point_label(pt)})" if pt else ")")
        for r in required:
            if r not in p:
                raise SpecError(f"{pw}: missing required key {r!r}")
        for k, v in p.items():
            if k != "type":
                _check_problem_value(k, v, pw)
        p = _reals(_canon(p, pw))
        _check_problem_point(p, where, pw)
        lab = label or typ
        if pt:
            lab = f"{lab}({_point_label(pt)})"
        out.append((p, lab))
    return out


# --------------------------------------------------------------------------------------------------
# optimizers


def _optim_module():
    import simopt.optim as optim
    return optim


def optimizer_names() -> list[str]:
    """Names accepted by ``simopt.optim.make``."""
    return sorted(_optim_module().REGISTRY)


def _optimizer_name(x, where) -> str:
    """A built-in rule's name, or the import path ``"module:name"`` of a rule defined at the top level of
    an importable module (a user's rule, an adapter such as ``simopt.optim.from_torch``)."""
    if not (isinstance(x, str) and ":" in x):
        return _need_str_choice(x, where, optimizer_names())
    from simopt.optim.rule import RuleDef, _import_ref
    try:
        ctor = _import_ref(x)
    except ValueError as e:
        raise SpecError(f"{where}: {e}") from None
    if not isinstance(ctor, RuleDef):
        raise SpecError(f"{where}: {x!r} is not a rule declared with simopt.optim (rule, numpy_rule, "
                        f"from_torch, from_optax), got {_tname(ctor)}")
    return x


def _wrappers() -> tuple:
    """Names of the wrappers among the rules (``clipped``, ``cautious``): they take a ``base`` rule."""
    return _optim_module()._WRAPPERS


def _optimizer_params(name, base=None):
    """(parameter names, required names) of rule ``name``.  For a wrapper (``clipped``) these are
    ``base``, its own (``fraction``) and the parameters of the base rule (of every rule when ``base`` is
    not fixed); a rule named by import path (``"module:name"``) has its own signature."""
    optim = _optim_module()
    if ":" in name:
        from simopt.optim.rule import _import_ref
        return _signature(None, optim.signature(_import_ref(name)))
    reg = optim.REGISTRY
    if name not in _wrappers():
        return _signature(reg[name])
    own_required, own_optional = optim._wrapper_args(name)
    if isinstance(base, str) and base in reg and base not in _wrappers():
        names, required = _signature(reg[base])
    else:
        names = sorted({n for k, f in reg.items() if k not in _wrappers() for n in _signature(f)[0]})
        required = []
    own = ["base", *own_required]
    return own + list(own_optional) + names, own + required




def _check_schedule(s, where):
    _need_table(s, where)
    if "type" not in s:
        raise SpecError(f"{where}: missing required key 'type' (one of {list(SCHEDULE_TYPES)})")
    typ = _need_str_choice(s["type"], f"{where}.type", SCHEDULE_TYPES)
    import simopt.schedules as sch
    names, required = _signature(getattr(sch, typ))
    allowed = [n for n in names if n != "lr"] + ["type"]
    _check_keys(s, f"{where} ({typ})", allowed)
    for r in required:
        if r != "lr" and r not in s:
            raise SpecError(f"{where}: missing required key {r!r} for schedule {typ!r}")
    for k, v in s.items():
        if k != "type" and v is not None and not _is_number(v):
            raise SpecTypeError(f"{where}.{k}: expected a number, got {_tname(v)} ({v!r})")


def _check_opt_value(k, v, where):
    if k == "lr":
        _need_positive(v, f"{where}.lr")
    elif k == "schedule":
        _check_schedule(v, f"{where}.schedule")
    elif k == "base":
        _need_str_choice(v, f"{where}.base", [n for n in optimizer_names() if n not in _wrappers()])
    elif v is not None and not isinstance(v, (bool, str)) and not _is_number(v):
        raise SpecTypeError(f"{where}.{k}: expected a number, string or boolean, got {_tname(v)} "
                            f"({v!r})")


def _optimizer_points(entry, where) -> list[tuple[dict, str]]:
    _need_table(entry, where)
    if "name" not in entry:
        raise SpecError(f"{where}: missing required key 'name' (a simopt.optim.make name)")
    name = _optimizer_name(entry["name"], f"{where}.name")
    names, required = _optimizer_params(name, entry.get("base"))
    takes_lr = "lr" in names
    params = set(names) - {"lr"}
    allowed = params | {"name", "grid", "label"} | ({"lr", "schedule"} if takes_lr else set())
    w = f"{where} ({name})"
    _check_keys(entry, w, allowed)
    label, grid = _check_label_and_grid_axes(entry, where, w, sorted(allowed - {"name", "grid", "label"}))
    axis_names = _grid_axis_names(grid)
    base = {k: v for k, v in entry.items() if k not in ("grid", "label", "lr")}
    lr_axis = []
    if "lr" in entry:
        lr = entry["lr"]
        is_list = isinstance(lr, (list, tuple))
        if is_list:
            _axis_values(lr, f"{where}.lr")
        for i, v in enumerate(lr if is_list else [lr]):
            _need_positive(v, f"{where}.lr" + (f"[{i}]" if is_list else ""))
        lr_axis = [float(v) for v in (lr if is_list else [lr])]
    elif "lr" in required and "lr" not in axis_names:
        raise SpecError(f"{w}: missing required key 'lr' (a number or a list: the lr grid)")
    points = expand_grid(grid, f"{where}.grid")
    out = []
    for pt in points:
        for lr in (lr_axis or [None]):
            p = copy.deepcopy(base)
            for a, val in pt.items():
                _set_path(p, a, val, w)
            if lr is not None:
                p["lr"] = lr
            pw = f"{where} ({name}" + (f", {_point_label(pt)})" if pt else ")")
            pnames, preq = _optimizer_params(name, p.get("base"))
            for k in p:
                if k not in set(pnames) | {"name", "schedule"}:
                    raise _unknown(pw, k, set(pnames) | {"name", "schedule"})
            for r in preq:
                if r not in p:
                    raise SpecError(f"{pw}: missing required key {r!r}")
            for k, v in p.items():
                if k != "name":
                    _check_opt_value(k, v, pw)
            if "lr" in p:
                p["lr"] = float(p["lr"])
            p = _reals(_canon(p, pw))
            try:  # hyperparameter values are cheap to check: build the optimizer now
                build_optimizer(p)
            except (TypeError, ValueError) as e:
                raise SpecError(f"{pw}: {e}") from None
            lab = label or (name if name not in _wrappers() else f"{name}-{p.get('base')}")
            shown = {k: v for k, v in pt.items() if k != "lr"}
            if shown:
                lab = f"{lab}({_point_label(shown)})"
            out.append((p, lab))
    return out


# --------------------------------------------------------------------------------------------------
# building objects from cell dicts (used by the executors, in the worker process)


def build_spectrum(v):
    """An eigenvalue array from a list or a spectrum table (see the module docstring)."""
    import numpy as np
    if isinstance(v, dict):
        import simopt.spectra as sp
        kw = {k: x for k, x in v.items() if k not in ("spectrum", "seed")}
        if "seed" in v:
            kw["rng"] = np.random.default_rng(v["seed"])
        return getattr(sp, v["spectrum"])(**kw)
    return np.asarray(v, dtype=np.float64)


def build_noise(v):
    if v is None:
        return None
    import simopt.noise as nz
    return getattr(nz, v["type"])(**{k: x for k, x in v.items() if k != "type"})


def build_problem(p: dict):
    """The ``simopt.Quadratic`` a cell's problem dict describes."""
    kw = {k: v for k, v in p.items() if k != "type"}
    if "eigvals" in kw:
        kw["eigvals"] = build_spectrum(kw["eigvals"])
    if "block_eigvals" in kw:
        kw["block_eigvals"] = [build_spectrum(b) for b in kw["block_eigvals"]]
    if "noise" in kw:
        kw["noise"] = build_noise(kw["noise"])
    return _problem_ctor(p["type"])(**kw)


def build_optimizer(o: dict):
    """The optimizer a cell's optimizer dict describes (``simopt.optim.make``); with ``schedule``,
    ``lr`` is the schedule's base rate."""
    kw = {k: v for k, v in o.items() if k not in ("name", "schedule")}
    if kw.get("lr") is not None and o.get("schedule") is not None:
        import simopt.schedules as sch
        s = o["schedule"]
        kw["lr"] = getattr(sch, s["type"])(kw["lr"], **{k: v for k, v in s.items() if k != "type"})
    return _optim_module().make(o["name"], **kw)


# --------------------------------------------------------------------------------------------------
# spec and cells


@dataclass(frozen=True)
class Cell:
    """One unit of work: ``simopt.run(problem, optimizer, steps, runs, seed, record_every, record,
    divergence_threshold=...)``.  ``payload`` is the hashed content; ``hash`` its content hash."""

    payload: dict
    hash: str
    problem_key: str          # content hash of the problem dict
    group_key: str            # content hash of (problem, optimizer without lr): the tuning group
    problem_label: str
    optimizer_label: str
    problem_index: int        # index of the [[problems]] entry it came from
    optimizer_index: int

    @property
    def problem(self) -> dict:
        return self.payload["problem"]

    @property
    def optimizer(self) -> dict:
        return self.payload["optimizer"]

    @property
    def seed(self) -> int:
        return self.payload["seed"]

    @property
    def lr(self):
        return self.payload["optimizer"].get("lr")

    def to_json(self) -> dict:
        return {"hash": self.hash, "payload": self.payload, "problem_key": self.problem_key,
                "group_key": self.group_key, "problem_label": self.problem_label,
                "optimizer_label": self.optimizer_label, "problem_index": self.problem_index,
                "optimizer_index": self.optimizer_index}

    @classmethod
    def from_json(cls, d: dict) -> "Cell":
        return cls(**d)


@dataclass
class Spec:
    """A validated sweep specification; ``cells`` lists its cells in a fixed order."""

    raw: dict
    steps: int
    seeds: list
    runs: int = 1
    record_every: int = 1
    record: list = field(default_factory=list)
    eps: float | None = None
    eps_metric: str = "loss"
    criterion: str = "median"
    divergence_threshold: float = 1e12
    name: str | None = None
    cells: list = field(default_factory=list)
    source: str | None = None  # the TOML text, when loaded from a file

    def to_json(self) -> dict:
        return {"schema": SCHEMA_VERSION, "raw": _canon(self.raw), "name": self.name,
                "steps": self.steps, "seeds": self.seeds, "runs": self.runs,
                "record_every": self.record_every, "record": self.record, "eps": self.eps,
                "eps_metric": self.eps_metric, "criterion": self.criterion,
                "divergence_threshold": self.divergence_threshold,
                "cells": [c.to_json() for c in self.cells]}

    @classmethod
    def from_json(cls, d: dict) -> "Spec":
        cells = [Cell.from_json(c) for c in d["cells"]]
        keys = ("steps", "seeds", "runs", "record_every", "record", "eps", "eps_metric",
                "criterion", "divergence_threshold", "name")
        return cls(raw=d["raw"], cells=cells, **{k: d[k] for k in keys})

    @property
    def hashes(self) -> list[str]:
        return [c.hash for c in self.cells]


def _parse_seeds(s):
    where = "seeds"
    if isinstance(s, dict):
        _check_keys(s, where, ("start", "count"))
        if "count" not in s:
            raise SpecError(f"{where}: missing required key 'count'")
        start = _need_int(s.get("start", 0), f"{where}.start", 0)
        count = _need_int(s["count"], f"{where}.count", 1)
        return list(range(start, start + count))
    if isinstance(s, range):
        s = list(s)
    if not isinstance(s, (list, tuple)):
        raise SpecTypeError(f"{where}: expected a list of integers >= 0 or {{start, count}}, got "
                            f"{_tname(s)} ({s!r})")
    if not s:
        raise SpecError(f"{where}: empty list (at least one seed is needed)")
    out = []
    for i, x in enumerate(s):
        if not _is_int(x):
            raise SpecTypeError(f"{where}[{i}]: expected an integer, got {_tname(x)} ({x!r})")
        if x < 0:
            raise SpecError(f"{where}[{i}]: seeds must be >= 0, got {x}")
        if x in out:
            raise SpecError(f"{where}[{i}]: duplicate seed {x}")
        out.append(int(x))
    return out


def _disambiguate(points):
    """Give points of different entries that would share a label a ``#<entry index>`` suffix."""
    entries_of = {}
    for i, _, lab in points:
        entries_of.setdefault(lab, set()).add(i)
    return [(i, p, f"{lab}#{i}" if len(entries_of[lab]) > 1 else lab) for i, p, lab in points]


def parse(raw: dict, *, source: str | None = None) -> Spec:
    """Validate a spec mapping and expand its cells.  Raises :class:`SpecError` (one, naming the
    key) on the first problem found; has no side effects."""
    try:
        return _parse(raw, source=source)
    except RecursionError:  # a mapping that contains itself
        raise SpecError("spec: nested too deeply (a table that contains itself?)") from None


def _parse(raw: dict, *, source: str | None = None) -> Spec:
    if not isinstance(raw, dict):
        raise SpecTypeError(f"spec: expected a table, got {_tname(raw)}")
    if source is not None and not isinstance(source, str):
        raise SpecTypeError(f"source: expected the TOML text (a string) or None, got "
                            f"{type(source).__name__}")
    _check_keys(raw, "spec", _TOP_KEYS)
    for k in _REQUIRED_TOP:
        if k not in raw:
            raise SpecError(f"spec: missing required key {k!r} ({_TOP_KEYS[k]})")
    steps = _need_int(raw["steps"], "steps", 1)
    runs = _need_int(raw.get("runs", 1), "runs", 1)
    record_every = _need_int(raw.get("record_every", 1), "record_every", 1)
    record = raw.get("record", [])
    if not isinstance(record, (list, tuple)):
        raise SpecTypeError(f"record: expected a list of names among {list(RECORDABLE)}, got "
                            f"{_tname(record)} ({record!r})")
    for i, r in enumerate(record):
        _need_str_choice(r, f"record[{i}]", RECORDABLE)
    record = sorted(set(record))
    eps = raw.get("eps")
    eps = None if eps is None else _need_positive(eps, "eps")
    eps_metric = _need_str_choice(raw.get("eps_metric", "loss"), "eps_metric", EPS_METRICS)
    criterion = _need_str_choice(raw.get("criterion", "median"), "criterion", CRITERIA)
    if criterion in ("ert", "persistent") and eps is None:
        raise SpecError(f"criterion: {criterion!r} needs 'eps' (it counts steps to reach eps)")
    thr = _need_positive(raw.get("divergence_threshold", 1e12), "divergence_threshold")
    name = raw.get("name")
    if name is not None and not isinstance(name, str):
        raise SpecTypeError(f"name: expected a string, got {_tname(name)}")
    if "description" in raw and not isinstance(raw["description"], str):
        raise SpecTypeError(f"description: expected a string, got {_tname(raw['description'])}")
    seeds = _parse_seeds(raw["seeds"])

    for key in ("problems", "optimizers"):
        v = raw[key]
        if isinstance(v, dict):
            raise SpecTypeError(f"{key}: expected a list of tables (in TOML: [[{key}]]), got a "
                                f"single table")
        if not isinstance(v, (list, tuple)):
            raise SpecTypeError(f"{key}: expected a list of tables, got {_tname(v)} ({v!r})")
        if not v:
            raise SpecError(f"{key}: empty list (at least one entry is needed)")
    problems = [(i, p, lab) for i, e in enumerate(raw["problems"])
                for p, lab in _problem_points(e, f"problems[{i}]")]
    optimizers = [(j, o, lab) for j, e in enumerate(raw["optimizers"])
                  for o, lab in _optimizer_points(e, f"optimizers[{j}]")]

    problems = _disambiguate(problems)
    optimizers = _disambiguate(optimizers)
    cells, seen = [], set()
    for i, p, plab in problems:
        pkey = content_hash(p)
        for j, o, olab in optimizers:
            gkey = content_hash({"problem": p, "optimizer": {k: v for k, v in o.items() if k != "lr"}})
            for s in seeds:
                payload = {"v": SCHEMA_VERSION, "problem": p, "optimizer": o, "seed": s,
                           "steps": steps, "runs": runs, "record_every": record_every,
                           "record": record, "divergence_threshold": thr}
                h = content_hash(payload)
                if h in seen:
                    continue
                seen.add(h)
                cells.append(Cell(payload=payload, hash=h, problem_key=pkey, group_key=gkey,
                                  problem_label=plab, optimizer_label=olab, problem_index=i,
                                  optimizer_index=j))
    return Spec(raw=raw, steps=steps, seeds=seeds, runs=runs, record_every=record_every,
                record=record, eps=eps, eps_metric=eps_metric, criterion=criterion,
                divergence_threshold=thr, name=name, cells=cells, source=source)


def load(path) -> Spec:
    """Read and validate a TOML spec file."""
    if not isinstance(path, (str, Path)):
        raise SpecTypeError(f"path: expected a path to a TOML file, got {type(path).__name__}")
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise SpecError(f"cannot read spec file {str(path)!r}: {e.strerror}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise SpecError(f"{path.name}: not a TOML text file (byte {e.start} is not UTF-8)") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise SpecError(f"{path.name}: invalid TOML: {e}") from None
    except RecursionError:
        raise SpecError(f"{path.name}: invalid TOML: nested too deeply") from None
    try:
        return parse(raw, source=text)
    except RecursionError:
        raise SpecError(f"{path.name}: nested too deeply to be a sweep spec") from None


def as_spec(spec) -> Spec:
    """A :class:`Spec` from a Spec, a mapping, or a path to a TOML file."""
    if isinstance(spec, Spec):
        return spec
    if isinstance(spec, dict):
        return parse(spec)
    if isinstance(spec, (str, Path)):
        return load(spec)
    raise SpecTypeError(f"spec: expected a Spec, a dict or a path to a TOML file, got "
                        f"{type(spec).__name__}")
