"""Tidy tables of a stored sweep: CSV always, pandas DataFrames and Parquet with ``simopt[io]``.

* ``long``: one row per (cell, run, recorded step) — cell hash, labels, the scalar problem and
  optimizer parameters (``problem.<key>``, ``optimizer.<key>``; nested tables flattened with dots),
  seed, run, step, loss = f(x_t) - f*, rel_loss = f(x_t)/f(x_0), grad_norm, diverged (of the run).
  By default only the records on a log-spaced step grid are exported (:func:`log_steps`: about
  ``per_decade`` steps per decade of the budget, always step 0 and the final step), which keeps a
  curve's shape on a log axis at a fraction of the size; ``steps="all"`` exports every record.
* ``best_lr``: the long table restricted to each (problem, optimizer) group's tuned lr (all its
  seeds; a rule without an lr counts with all its cells), the curves a figure of tuned methods needs.
* ``summary``: one row per cell of the spec, done or not (``status``: done, damaged, failed or
  pending; a damaged cell, see :mod:`.store`, has its bad file in ``error``) — all parameters (lists as
  JSON), runs, steps, diverged runs, median/quartiles of the final relative loss, and with ``eps``:
  successes, median first-hit T(eps) and beside it the median persistent T(eps) (the first step
  after which the run stays below eps through the end of its budget; ``Result.iterations_to``), and
  ERT (theory_notes.md §5: total steps spent / successes, ``inf`` with no success), the cell's own wall
  time, and the error of a failed cell.
* ``tuning``: one row per (problem, optimizer configuration, lr) of the grid: that lr's score and
  run counts, whether it was scored (``scored``) and whether it is the group's pick (``best``), and
  the group's best lr, score, edge flag and status (see :mod:`simopt.sweep.tune`).  A group whose
  rule has no lr has one row with an empty lr.

Every column has one type.  Numbers are numbers (``inf`` is written as ``inf``, which pandas and
NumPy read as the float), labels and other strings are categorical in a DataFrame and in Parquet.  A
parameter that is a number in some cells and a string in others (``rotation = "haar"`` vs
``rotation = 0.5``) is split into two columns: ``<key>`` holds the strings (empty for a number) and
``<key>_value`` the numbers (empty/NaN for a string).
"""
from __future__ import annotations

import csv
import json
import math
import numbers
import os
import secrets
from pathlib import Path

import numpy as np

from .._extras import require
from .store import DAMAGED, DONE, FAILED, Store, atomic_file
from .tune import tune

__all__ = ["long_rows", "summary_rows", "tuning_rows", "write_csv", "to_dataframe", "export",
           "log_steps", "best_lr_cells", "parquet_available", "TABLES"]

#: the tables :func:`export` writes, in order
TABLES = ("long", "best_lr", "summary", "tuning")

#: default density of the thinned long table: recorded steps kept per decade of the step budget
PER_DECADE = 10

#: suffix of the numeric half of a parameter that is a number in some cells and a string in others
VALUE_SUFFIX = "_value"


def _flatten(prefix: str, d: dict, out: dict, scalars_only: bool):
    for k, v in d.items():
        key = f"{prefix}.{k}"
        if isinstance(v, dict):
            _flatten(key, v, out, scalars_only)
        elif isinstance(v, list):
            if not scalars_only:
                out[key] = json.dumps(v, separators=(",", ":"))
        else:
            out[key] = v
    return out


def _store(source) -> Store:
    return source if isinstance(source, Store) else Store(source)


class _ReadOnce(Store):
    """A view of a store for one export: each cell file is read once and the tuning is computed
    once, however many tables use them."""

    def __init__(self, store: Store):
        self.__dict__.update(store.__dict__)
        self._loaded: dict = {}
        self._spec = None
        self.tuned = None

    def read_spec(self):
        if self._spec is None:
            self._spec = super().read_spec()
        return self._spec

    def load(self, h):
        if h not in self._loaded:
            self._loaded[h] = super().load(h)
        return self._loaded[h]


def _read_once(source) -> _ReadOnce:
    return source if isinstance(source, _ReadOnce) else _ReadOnce(_store(source))


def _tune(store, **kw):
    if isinstance(store, _ReadOnce) and not kw:
        if store.tuned is None:
            store.tuned = tune(store)
        return store.tuned
    return tune(store, **kw)


def _kind(v):
    if v is None:
        return None
    if isinstance(v, (bool, np.bool_)):
        return "bool"
    if isinstance(v, numbers.Number):
        return "number"
    return "str"


def _cell_params(c, scalars_only):
    out = _flatten("problem", c.problem, {}, scalars_only)
    return _flatten("optimizer", c.optimizer, out, scalars_only)


def _split_keys(spec, scalars_only) -> set:
    """Parameters that are strings in some cells and numbers (or booleans) in others."""
    kinds: dict = {}
    for c in spec.cells:
        for k, v in _cell_params(c, scalars_only).items():
            kinds.setdefault(k, set()).add(_kind(v))
    return {k for k, ks in kinds.items() if "str" in ks and len(ks - {"str", None}) > 0}


def _typed_params(c, split, scalars_only) -> dict:
    """The cell's flattened parameters with every key in ``split`` split by type (module docstring)."""
    out = {}
    for k, v in _cell_params(c, scalars_only).items():
        if k in split:
            if _kind(v) == "str":
                out[k] = v
            else:
                out[k + VALUE_SUFFIX] = v
        else:
            out[k] = v
    return out


def _param_columns(spec, scalars_only):
    split = _split_keys(spec, scalars_only)
    cols = set()
    for c in spec.cells:
        cols.update(_cell_params(c, scalars_only))
    cols |= {k + VALUE_SUFFIX for k in split}
    return sorted(cols)


LONG_HEAD = ["cell", "problem_label", "optimizer_label"]
LONG_TAIL = ["seed", "run", "step", "loss", "rel_loss", "grad_norm", "diverged"]


def long_columns(source) -> list[str]:
    spec = _store(source).read_spec()
    return LONG_HEAD + _param_columns(spec, True) + LONG_TAIL


def log_steps(steps, per_decade: int = PER_DECADE) -> np.ndarray:
    """Indices into the recorded ``steps`` (ascending) nearest to a log-spaced grid of about
    ``per_decade`` points per decade from the first recorded step after 0 to the last, plus step 0
    and the last record: the records a log-x curve needs.  ``per_decade=None`` keeps every record.

    >>> steps = np.arange(0, 1001, 10)
    >>> steps[log_steps(steps, per_decade=3)].tolist()
    [0, 10, 20, 50, 100, 220, 460, 1000]
    """
    steps = np.asarray(steps)
    n = steps.size
    if per_decade is None or n <= 2:
        return np.arange(n)
    if isinstance(per_decade, bool) or not isinstance(per_decade, numbers.Integral) or per_decade < 1:
        raise ValueError(f"per_decade: expected a positive integer or None, got {per_decade!r}")
    pos = steps[steps > 0]
    if pos.size == 0:
        return np.arange(n)
    lo, hi = float(pos[0]), float(pos[-1])
    k = max(2, int(math.ceil(per_decade * math.log10(hi / lo))) + 1) if hi > lo else 1
    targets = np.geomspace(lo, hi, k)
    idx = np.searchsorted(steps, targets)
    idx = np.clip(idx, 1, n - 1)
    left = idx - 1
    closer_left = np.abs(np.log(np.maximum(steps[left], 1e-300) / targets)) < np.abs(
        np.log(steps[idx] / targets))
    idx = np.where(closer_left & (steps[left] > 0), left, idx)
    keep = np.union1d(np.concatenate([np.flatnonzero(steps == 0)[:1], [n - 1]]), idx)
    return keep.astype(np.intp)


def _step_rule(steps, per_decade):
    if steps == "log":
        return per_decade
    if steps == "all":
        return None
    raise ValueError(f"steps: expected 'log' or 'all', got {steps!r}")


def best_lr_cells(source, **tune_kw) -> set:
    """Hashes of the cells at each group's tuned lr (:func:`simopt.sweep.tune`); a group whose rule
    has no lr contributes all its cells, a group with no pick none."""
    store = _store(source)
    spec = store.read_spec()
    pick = {t.group_key: t for t in _tune(store, **tune_kw)}
    out = set()
    for c in spec.cells:
        t = pick.get(c.group_key)
        if t is None:
            continue
        if t.status == "no_lr" or (t.best_lr is not None and c.lr == t.best_lr):
            out.add(c.hash)
    return out


def _long_blocks(store, steps="log", per_decade=PER_DECADE, best_lr_only=False):
    """Per done cell (spec order): ``(constants, columns)`` -- the cell's constant columns as a dict,
    and the per-row arrays run, step, loss, rel_loss, grad_norm, diverged."""
    spec = store.read_spec()
    rule = _step_rule(steps, per_decade)
    states = store.states(spec.hashes)
    chosen = best_lr_cells(store) if best_lr_only else None
    split = _split_keys(spec, True)
    for c in spec.cells:
        if states[c.hash] != DONE or (chosen is not None and c.hash not in chosen):
            continue
        r = store.load(c.hash)
        keep = log_steps(r.arrays["steps"], rule)
        loss = r.arrays["loss"][:, keep]
        n_runs, n_rec = loss.shape
        const = {"cell": c.hash, "problem_label": c.problem_label,
                 "optimizer_label": c.optimizer_label, **_typed_params(c, split, True),
                 "seed": c.seed}
        cols = {"run": np.repeat(np.arange(n_runs), n_rec),
                "step": np.tile(r.arrays["steps"][keep].astype(np.int64), n_runs),
                "loss": loss.ravel().astype(np.float64),
                "rel_loss": r.rel_loss()[:, keep].ravel().astype(np.float64),
                "grad_norm": r.arrays["grad_norm"][:, keep].ravel().astype(np.float64),
                "diverged": np.repeat(r.arrays["diverged"].astype(bool), n_rec)}
        yield const, cols


def long_rows(source, *, steps: str = "all", per_decade: int = PER_DECADE,
              best_lr_only: bool = False):
    """Yield the rows (dicts) of the long table, done cells only, in spec order.

    ``steps="all"`` (default here) yields every record, ``"log"`` the thinned grid of
    :func:`log_steps`; ``best_lr_only`` keeps the cells at each group's tuned lr (:func:`best_lr_cells`)."""
    for const, cols in _long_blocks(_store(source), steps, per_decade, best_lr_only):
        lists = {k: v.tolist() for k, v in cols.items()}
        for i in range(len(lists["run"])):
            yield {**const, **{k: v[i] for k, v in lists.items()}}


def _long_csv_blocks(store, columns, steps, per_decade, best_lr_only):
    """The long table's CSV body, one string of lines per cell (the rows of :func:`long_rows`,
    formatted as :func:`_write` formats them, without building a dict per row)."""
    import io
    tail = LONG_TAIL[1:]
    head = columns[:len(columns) - len(tail)]
    for const, cols in _long_blocks(store, steps, per_decade, best_lr_only):
        buf = io.StringIO()
        csv.writer(buf).writerow([_fmt(const.get(k)) for k in head] + [""])
        prefix = buf.getvalue()[:-3]  # drop the empty last field's "," and the line end
        yield "".join(f"{prefix},{r},{s},{a!r},{b!r},{c!r},{d}\r\n" for r, s, a, b, c, d in
                      zip(*(cols[k].tolist() for k in tail)))


def _q(a, q):
    with np.errstate(invalid="ignore"):  # inf - inf inside the interpolation
        return float(np.quantile(a, q)) if a.size else math.nan


def summary_rows(source, *, eps=None, eps_metric=None) -> list[dict]:
    """Rows (dicts) of the one-row-per-cell summary, every cell of the spec."""
    store = _store(source)
    spec = store.read_spec()
    eps = spec.eps if eps is None else eps
    metric = eps_metric or spec.eps_metric
    states = store.states(spec.hashes)
    pcols = _param_columns(spec, False)
    split = _split_keys(spec, False)
    rows = []
    for c in spec.cells:
        row = {"cell": c.hash, "status": states[c.hash], "problem_label": c.problem_label,
               "optimizer_label": c.optimizer_label}
        row.update(dict.fromkeys(pcols, None))
        row.update(_typed_params(c, split, False))
        row.update({"seed": c.seed, "runs": c.payload["runs"], "steps": c.payload["steps"]})
        keys = ["n_diverged", "final_rel_loss_median", "final_rel_loss_q25", "final_rel_loss_q75",
                "wall_time", "error"]
        if eps is not None:
            keys[1:1] = ["eps", "n_success", "T_eps_median", "T_eps_persistent_median", "ERT"]
        row.update(dict.fromkeys(keys, None))
        if states[c.hash] == DONE:
            r = store.load(c.hash)
            fin = r.rel_loss()[:, -1]
            fin = np.where(r.arrays["diverged"] | np.isnan(fin), np.inf, fin)
            row.update({"n_diverged": int(r.arrays["diverged"].sum()),
                        "final_rel_loss_median": float(np.median(fin)),
                        "final_rel_loss_q25": _q(fin, 0.25), "final_rel_loss_q75": _q(fin, 0.75),
                        "wall_time": r.info.get("wall_time")})
            if eps is not None:
                res = r.to_result()
                T = res.iterations_to(eps, metric)
                Tp = res.iterations_to(eps, metric, persistent=True)
                row.update({"eps": eps, "n_success": int(np.isfinite(T).sum()),
                            "T_eps_median": float(np.median(T)),
                            "T_eps_persistent_median": float(np.median(Tp)),
                            "ERT": res.ert(eps, metric)})
        elif states[c.hash] == DAMAGED:
            row["error"] = store.check(c.hash)
        elif states[c.hash] == FAILED:
            f = store.load_failure(c.hash)
            row.update({"error": f.get("error"), "wall_time": f.get("wall_time")})
        rows.append(row)
    return rows


TUNING_COLUMNS = ["problem_label", "optimizer_label", "lr", "score", "n_runs", "n_diverged",
                  "scored", "best", "best_lr", "best_score", "status", "edge", "criterion",
                  "problem_key", "group_key"]


def tuning_rows(source, **kw) -> list[dict]:
    """Rows of the tuning table: one per (group, lr of its grid), see the module docstring.
    Keyword arguments go to :func:`simopt.sweep.tune`."""
    rows = []
    for t in _tune(_store(source), **kw):
        group = {"problem_label": t.problem_label, "optimizer_label": t.optimizer_label,
                 "best_lr": t.best_lr, "best_score": t.best_score, "status": t.status,
                 "edge": t.edge or "", "criterion": t.criterion, "problem_key": t.problem_key,
                 "group_key": t.group_key}
        if not t.lrs:
            rows.append({**group, "lr": None, "score": None, "n_runs": None, "n_diverged": None,
                         "scored": False, "best": t.status == "no_lr"})
            continue
        for lr, score, n, nd in zip(t.lrs, t.scores, t.n_runs, t.n_diverged):
            scored = lr not in t.missing
            rows.append({**group, "lr": float(lr), "score": float(score) if scored else None,
                         "n_runs": int(n), "n_diverged": int(nd), "scored": scored,
                         "best": t.best_lr is not None and lr == t.best_lr})
    return [{k: r[k] for k in TUNING_COLUMNS} for r in rows]


def _fmt(v):
    if v is None:
        return ""
    if isinstance(v, float):
        return repr(v)  # round-trips exactly; inf/nan as 'inf'/'nan'
    return v


def _write(path: Path, columns, rows):
    # a fresh O_EXCL temporary name (never a planted file or symlink), removed on any error
    with atomic_file(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(columns)
        for r in rows:
            if isinstance(r, str):  # a block of lines formatted by _long_csv_blocks
                f.write(r)
            else:
                w.writerow([_fmt(r.get(k)) for k in columns])


def _out_dir(store, out_dir) -> Path:
    out = Path(out_dir) if out_dir is not None else store.path / "export"
    out.mkdir(parents=True, exist_ok=True)
    return out


def _table_rows(store, which, steps, per_decade):
    """``(columns, rows)`` of one table for the CSV writer."""
    if which in ("long", "best_lr"):
        cols = long_columns(store)
        return cols, _long_csv_blocks(store, cols, steps, per_decade, which == "best_lr")
    rows = summary_rows(store) if which == "summary" else tuning_rows(store)
    return (list(rows[0]) if rows else (TUNING_COLUMNS if which == "tuning" else [])), rows


def _check_tables(tables):
    bad = [t for t in tables if t not in TABLES]
    if bad or not tables:
        raise ValueError(f"tables: expected a non-empty subset of {list(TABLES)}, got {list(tables)}")
    return tuple(tables)


def write_csv(source, out_dir=None, *, steps: str = "log", per_decade: int = PER_DECADE,
              tables=TABLES) -> dict:
    """Write ``<table>.csv`` for each of ``tables`` (default ``long``, ``best_lr``, ``summary``,
    ``tuning``) into ``out_dir`` (default ``<sweep dir>/export``); returns ``{table: path}``.

    The long tables hold the log-spaced step grid of :func:`log_steps` (``steps="log"``, about
    ``per_decade`` records per decade) or every record (``steps="all"``)."""
    store = _read_once(source)
    tables = _check_tables(tables)
    _step_rule(steps, per_decade)
    out = _out_dir(store, out_dir)
    paths = {}
    for which in tables:
        cols, rows = _table_rows(store, which, steps, per_decade)
        _write(out / f"{which}.csv", cols, rows)
        paths[which] = out / f"{which}.csv"
    return paths


def _typed_series(pd, values, name):
    """One column with one type: numbers as int64/float64 (NaN for missing), booleans as bool
    (nullable when missing), strings as categorical."""
    kinds = {_kind(v) for v in values} - {None}
    missing = any(v is None for v in values)
    if kinds == {"number"}:
        if not missing and all(isinstance(v, numbers.Integral) for v in values):
            return pd.Series(np.asarray(values, dtype=np.int64), name=name)
        return pd.Series(np.array([np.nan if v is None else float(v) for v in values]), name=name)
    if kinds == {"bool"}:
        return pd.Series(values, name=name, dtype="boolean" if missing else bool)
    if not kinds:
        return pd.Series(np.full(len(values), np.nan), name=name)
    return pd.Series(pd.Categorical([None if v is None else str(v) for v in values]), name=name)


def _long_frame(pd, store, steps, per_decade, best_lr_only):
    columns = long_columns(store)
    consts, blocks = [], []
    for const, cols in _long_blocks(store, steps, per_decade, best_lr_only):
        consts.append(const)
        blocks.append(cols)
    counts = np.array([b["run"].size for b in blocks], dtype=np.intp)
    data = {}
    for k in columns:
        if k in LONG_TAIL and k != "seed":
            data[k] = (np.concatenate([b[k] for b in blocks]) if blocks
                       else np.zeros(0, dtype=bool if k == "diverged" else float))
        else:
            per_cell = _typed_series(pd, [c.get(k) for c in consts], k)
            data[k] = per_cell.repeat(counts).reset_index(drop=True)
    return pd.DataFrame(data, columns=columns)


def _frame(pd, rows, columns):
    return pd.DataFrame({k: _typed_series(pd, [r.get(k) for r in rows], k) for k in columns},
                        columns=columns)


def to_dataframe(source, which: str = "long", *, steps: str = "all",
                 per_decade: int = PER_DECADE):
    """The ``long``, ``best_lr``, ``summary`` or ``tuning`` table as a pandas DataFrame with typed
    columns (module docstring); the long tables hold every record unless ``steps="log"``.  Needs
    pandas (``pip install 'simopt[io]'``)."""
    pd = require("pandas", "to_dataframe", "io")
    store = _store(source)
    if which not in TABLES:
        raise ValueError(f"which: expected one of {list(TABLES)}, got {which!r}")
    _step_rule(steps, per_decade)
    if which in ("long", "best_lr"):
        return _long_frame(pd, store, steps, per_decade, which == "best_lr")
    cols, rows = _table_rows(store, which, steps, per_decade)
    return _frame(pd, rows, cols)


def _write_parquet(df, path: Path):
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        df.to_parquet(tmp, index=False, engine="pyarrow")
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def parquet_available() -> bool:
    """Whether pandas and pyarrow (the ``io`` extra) are installed."""
    try:
        import pandas  # noqa: F401
        import pyarrow  # noqa: F401
    except ImportError:
        return False
    return True


def export(source, out_dir=None, *, parquet: bool | None = None, steps: str = "log",
           per_decade: int = PER_DECADE, tables=TABLES) -> dict:
    """Write the tables (module docstring) as CSV and, when pandas and pyarrow are installed (the
    ``io`` extra), as Parquet; ``parquet=True`` requires Parquet (:class:`~simopt._extras.MissingExtra`
    naming the extra if it is not installed), ``parquet=False`` skips it.  ``steps`` / ``per_decade``
    thin the long tables as in :func:`write_csv`.  Returns ``{table: path, table + "_parquet": path}``.
    """
    tables = _check_tables(tables)
    if parquet not in (None, True, False):
        raise TypeError(f"parquet: expected True, False or None, got {parquet!r}")
    if parquet:
        require("pandas", "Parquet export", "io")
        require("pyarrow", "Parquet export", "io")
    store = _read_once(source)
    paths = write_csv(store, out_dir, steps=steps, per_decade=per_decade, tables=tables)
    if parquet is False or (parquet is None and not parquet_available()):
        return paths
    import pandas as pd
    out = paths[tables[0]].parent
    for which in tables:
        if which in ("long", "best_lr"):
            df = _long_frame(pd, store, steps, per_decade, which == "best_lr")
        else:
            cols, rows = _table_rows(store, which, steps, per_decade)
            df = _frame(pd, rows, cols)
        p = out / f"{which}.parquet"
        _write_parquet(df, p)
        paths[f"{which}_parquet"] = p
    return paths
