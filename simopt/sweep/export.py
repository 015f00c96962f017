"""Tidy tables of a stored sweep: CSV always, pandas DataFrame / Parquet when installed.

* ``long``: one row per (cell, run, recorded step) — cell hash, labels, the scalar problem and
  optimizer parameters (``problem.<key>``, ``optimizer.<key>``; nested tables flattened with dots),
  seed, run, step, loss = f(x_t) - f*, rel_loss = f(x_t)/f(x_0), grad_norm, diverged (of the run).
* ``summary``: one row per cell of the spec, done or not (``status``: done, damaged, failed or
  pending; a damaged cell, see :mod:`.store`, has its bad file in ``error``) — all parameters (lists as
  JSON), runs, steps, diverged runs, median/quartiles of the final relative loss, and with ``eps``:
  successes, median T(eps) and ERT (theory_notes §5: total steps spent / successes, ``inf`` with no
  success), the cell's own wall time, and the error of a failed cell.
* ``tuning``: one row per (problem, optimizer configuration): the best lr, its score, the edge flag
  and the status (see :mod:`simopt.sweep.tune`).
"""
from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np

from .store import DAMAGED, DONE, FAILED, Store, atomic_file
from .tune import tune

__all__ = ["long_rows", "summary_rows", "tuning_rows", "write_csv", "to_dataframe", "export"]


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


def _param_columns(spec, scalars_only):
    cols = set()
    for c in spec.cells:
        cols.update(_flatten("problem", c.problem, {}, scalars_only))
        cols.update(_flatten("optimizer", c.optimizer, {}, scalars_only))
    return sorted(cols)


LONG_HEAD = ["cell", "problem_label", "optimizer_label"]
LONG_TAIL = ["seed", "run", "step", "loss", "rel_loss", "grad_norm", "diverged"]


def long_columns(source) -> list[str]:
    spec = _store(source).read_spec()
    return LONG_HEAD + _param_columns(spec, True) + LONG_TAIL


def long_rows(source):
    """Yield the rows (dicts) of the long table, done cells only, in spec order (damaged cells are
    skipped with a warning naming the file, see :mod:`.store`)."""
    store = _store(source)
    spec = store.read_spec()
    states = store.states(spec.hashes)
    for c in spec.cells:
        if states[c.hash] != DONE:
            continue
        r = store.load(c.hash)
        params = _flatten("problem", c.problem, {}, True)
        _flatten("optimizer", c.optimizer, params, True)
        steps = r.arrays["steps"]
        loss, gn, rel = r.arrays["loss"], r.arrays["grad_norm"], r.rel_loss()
        div = r.arrays["diverged"]
        base = {"cell": c.hash, "problem_label": c.problem_label,
                "optimizer_label": c.optimizer_label, **params, "seed": c.seed}
        for run in range(loss.shape[0]):
            d = bool(div[run])
            for k in range(steps.size):
                yield {**base, "run": run, "step": int(steps[k]), "loss": float(loss[run, k]),
                       "rel_loss": float(rel[run, k]), "grad_norm": float(gn[run, k]),
                       "diverged": d}


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
    rows = []
    for c in spec.cells:
        row = {"cell": c.hash, "status": states[c.hash], "problem_label": c.problem_label,
               "optimizer_label": c.optimizer_label}
        row.update(dict.fromkeys(pcols, None))
        _flatten("problem", c.problem, row, False)
        _flatten("optimizer", c.optimizer, row, False)
        row.update({"seed": c.seed, "runs": c.payload["runs"], "steps": c.payload["steps"]})
        keys = ["n_diverged", "final_rel_loss_median", "final_rel_loss_q25", "final_rel_loss_q75",
                "wall_time", "error"]
        if eps is not None:
            keys[1:1] = ["eps", "n_success", "T_eps_median", "ERT"]
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
                T = r.iterations_to(eps, metric)
                row.update({"eps": eps, "n_success": int(np.isfinite(T).sum()),
                            "T_eps_median": float(np.median(T)), "ERT": r.ert(eps, metric)})
        elif states[c.hash] == DAMAGED:
            row["error"] = store.check(c.hash)
        elif states[c.hash] == FAILED:
            f = store.load_failure(c.hash)
            row.update({"error": f.get("error"), "wall_time": f.get("wall_time")})
        rows.append(row)
    return rows


def tuning_rows(source, **kw) -> list[dict]:
    """Rows of the tuning table (one per group)."""
    rows = []
    for t in tune(_store(source), **kw):
        rows.append({"problem_label": t.problem_label, "optimizer_label": t.optimizer_label,
                     "best_lr": t.best_lr, "best_score": t.best_score, "status": t.status,
                     "edge": t.edge or "", "lrs": json.dumps(t.lrs),
                     "scores": json.dumps([s if math.isfinite(s) else str(s) for s in t.scores]),
                     "missing": json.dumps(t.missing), "criterion": t.criterion,
                     "problem_key": t.problem_key, "group_key": t.group_key})
    return rows


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
            w.writerow([_fmt(r.get(k)) for k in columns])


def write_csv(source, out_dir=None) -> dict:
    """Write ``long.csv``, ``summary.csv`` and ``tuning.csv`` into ``out_dir`` (default
    ``<sweep dir>/export``); returns ``{name: path}``."""
    store = _store(source)
    out = Path(out_dir) if out_dir is not None else store.path / "export"
    out.mkdir(parents=True, exist_ok=True)
    paths = {}
    cols = long_columns(store)
    _write(out / "long.csv", cols, long_rows(store))
    paths["long"] = out / "long.csv"
    rows = summary_rows(store)
    cols = list(rows[0]) if rows else []
    _write(out / "summary.csv", cols, rows)
    paths["summary"] = out / "summary.csv"
    rows = tuning_rows(store)
    cols = list(rows[0]) if rows else []
    _write(out / "tuning.csv", cols, rows)
    paths["tuning"] = out / "tuning.csv"
    return paths


def to_dataframe(source, which: str = "long"):
    """The ``long``, ``summary`` or ``tuning`` table as a pandas DataFrame (needs pandas)."""
    try:
        import pandas as pd
    except ImportError:
        raise ImportError("to_dataframe needs pandas (pip install pandas); the CSV export does not")\
            from None
    store = _store(source)
    if which == "long":
        return pd.DataFrame(list(long_rows(store)), columns=long_columns(store))
    if which == "summary":
        return pd.DataFrame(summary_rows(store))
    if which == "tuning":
        return pd.DataFrame(tuning_rows(store))
    raise ValueError(f"which: expected 'long', 'summary' or 'tuning', got {which!r}")


def export(source, out_dir=None, *, parquet: bool | None = None) -> dict:
    """CSV tables (always) and, when pandas and a Parquet engine are installed (or ``parquet=True``,
    which then requires them), the same tables as ``.parquet``.  Returns ``{name: path}``."""
    paths = write_csv(source, out_dir)
    if parquet is False:
        return paths
    try:
        import pandas  # noqa: F401
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            import fastparquet  # noqa: F401
    except ImportError:
        if parquet:
            raise ImportError("Parquet export needs pandas and pyarrow (or fastparquet)") from None
        return paths
    out = paths["long"].parent
    for which in ("long", "summary", "tuning"):
        p = out / f"{which}.parquet"
        to_dataframe(source, which).to_parquet(p)
        paths[f"{which}_parquet"] = p
    return paths
