"""Saving, loading and tabulating a :class:`simopt.Result`.

File format (``.npz``, read with ``allow_pickle=False``: loading a file never runs code):

* one array per field, under the field's name: ``steps``, ``loss``, ``grad_norm``, ``x``, ``x0``,
  ``f0``, ``diverged``, ``diverged_step``;
* each optional record under ``record_<name>`` (``record_x``, ``record_sharpness``, ...), the
  names the sweep store uses;
* ``__meta__``: the ``meta`` dict as JSON text (a 0-d unicode array), and ``__format__``: the
  format's name and version, ``simopt.Result/1``.

Arrays keep their dtype and shape exactly, so a loaded result is bit-identical to the saved one.

>>> import os, tempfile
>>> import simopt
>>> res = simopt.run(simopt.quadratic([0.5, 1.0]), simopt.optim.sgd(0.5), steps=20, runs=2, seed=0)
>>> path = res.save(os.path.join(tempfile.mkdtemp(), "run"))      # Result.save -> save
>>> path.name
'run.npz'
>>> back = simopt.Result.load(path)
>>> bool((back.loss == res.loss).all()), back.meta == res.meta
(True, True)
"""
from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

import numpy as np

from ._extras import require

__all__ = ["save", "load", "to_dataframe", "FORMAT"]

FORMAT = "simopt.Result/1"
_FIELDS = ("steps", "loss", "grad_norm", "x", "x0", "f0", "diverged", "diverged_step")
_RECORD = "record_"


def _json_default(o):
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(f"meta: value of type {type(o).__name__} is not JSON-serialisable")


def _npz_path(path) -> Path:
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path: expected a str or os.PathLike, got {type(path).__name__}")
    p = Path(path)
    return p if p.suffix == ".npz" else p.with_name(p.name + ".npz")


def save(result, path) -> Path:
    """Write ``result`` to ``path`` (``.npz`` appended if missing), atomically: a temporary file in
    the same directory, then a rename.  Returns the path written."""
    p = _npz_path(path)
    arrays = {k: np.asarray(getattr(result, k)) for k in _FIELDS}
    for name, v in result.records.items():
        arrays[_RECORD + name] = np.asarray(v)
    arrays["__meta__"] = np.array(json.dumps(result.meta, default=_json_default, sort_keys=True))
    arrays["__format__"] = np.array(FORMAT)
    tmp = p.with_name(f".{p.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        with open(tmp, "xb") as f:
            np.savez(f, **arrays)
        os.replace(tmp, p)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return p


def load(path):
    """Read a :class:`simopt.Result` written by :func:`save`; ``ValueError`` naming the file if it
    is not one."""
    from .result import Result
    p = _npz_path(path)
    try:
        with np.load(p, allow_pickle=False) as z:
            data = {k: z[k] for k in z.files}
    except (OSError, EOFError) as e:
        if isinstance(e, FileNotFoundError):
            raise
        raise ValueError(f"path: {p} is not a readable .npz file ({e})") from None
    except ValueError as e:  # e.g. an object array, which would need pickle
        raise ValueError(f"path: {p} is not a simopt Result file ({e})") from None
    except Exception as e:  # noqa: BLE001 - zipfile.BadZipFile and relatives of a damaged file
        raise ValueError(f"path: {p} is not a readable .npz file ({type(e).__name__}: {e})") from None
    fmt = str(data.pop("__format__", ""))
    if fmt != FORMAT:
        raise ValueError(f"path: {p} is not a simopt Result file (format {fmt or 'missing'!r}, "
                         f"expected {FORMAT!r})")
    missing = [k for k in _FIELDS if k not in data]
    if missing:
        raise ValueError(f"path: {p} lacks the arrays {missing}")
    meta = json.loads(str(data.pop("__meta__")))
    records = {k[len(_RECORD):]: v for k, v in data.items() if k.startswith(_RECORD)}
    return Result(**{k: data[k] for k in _FIELDS}, records=records, meta=meta)


def to_dataframe(result):
    """The result in long format, one row per (run, recorded step): ``run``, ``step``, ``loss``
    (f(x_t) - f*), ``rel_loss`` (f(x_t)/f(x_0)), ``grad_norm``, ``diverged`` (of the run), and one
    column per optional record with one value per step (e.g. ``sharpness``); vector records
    (``x``, ``block_grad_norms``) stay in ``result.records``.  Needs pandas
    (``pip install 'simopt[io]'``)."""
    pd = require("pandas", "Result.to_dataframe", "io")
    runs, n = result.loss.shape
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = result.loss / result.f0[:, None]
    cols = {"run": np.repeat(np.arange(runs), n), "step": np.tile(result.steps.astype(np.int64), runs),
            "loss": result.loss.ravel(), "rel_loss": rel.ravel(),
            "grad_norm": result.grad_norm.ravel(), "diverged": np.repeat(result.diverged, n)}
    for name, v in result.records.items():
        v = np.asarray(v)
        if v.shape == (runs, n):
            cols[name] = v.ravel()
    return pd.DataFrame(cols)

