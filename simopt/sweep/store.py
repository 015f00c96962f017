"""The results store: a directory that a sweep fills one finished cell at a time.

Layout::

    DIR/spec.json            the validated spec last run into DIR (settings + its cells, in order)
    DIR/spec.toml            the TOML text it came from, when it came from a file
    DIR/cells/<hash>.npz     arrays of a finished cell (steps, loss, grad_norm, f0, x, x0, diverged,
                             diverged_step, record_<name>)
    DIR/cells/<hash>.json    its config, provenance and wall time: written *after* the .npz, so a cell
                             is done exactly when this file exists (the commit marker)
    DIR/cells/<hash>.failed.json   a cell that raised: its error and traceback (never a success)
    DIR/.lock                held (``flock``) by the process running a sweep into DIR

Every file is written atomically: to a temporary file in the same directory, then ``os.replace``.
A process killed at any point therefore leaves each cell either absent or complete, and a re-run
skips complete cells and recomputes the rest.  Temporary files a killed writer left behind are
removed by the next writer.  By default files are not ``fsync``-ed: that is safe against a killed
process (the kernel keeps the written data), not against power loss; ``fsync=True`` covers that
too at some cost per cell.
"""
from __future__ import annotations

import errno
import io
import json
import os
import secrets
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .spec import Spec

__all__ = ["Store", "StoreError", "CellResult", "DONE", "FAILED", "PENDING"]

DONE, FAILED, PENDING = "done", "failed", "pending"


class StoreError(RuntimeError):
    """The store directory is missing, not a store, or busy."""


def _json_default(o):
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    return repr(o)


def _dumps(obj) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"),
                      default=_json_default).encode("utf-8")


def _atomic_write(path: Path, data: bytes, fsync: bool = False):
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            if fsync:
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    if fsync:
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@dataclass
class CellResult:
    """A finished cell as stored: its arrays (as ``simopt.Result`` names them) and its JSON record."""

    hash: str
    arrays: dict
    info: dict

    def __getattr__(self, name):
        arrays = self.__dict__.get("arrays", {})
        if name in arrays:
            return arrays[name]
        if "record_" + name in arrays:
            return arrays["record_" + name]
        raise AttributeError(name)

    @property
    def records(self) -> dict:
        return {k[7:]: v for k, v in self.arrays.items() if k.startswith("record_")}

    def rel_loss(self) -> np.ndarray:
        """``f(x_t) / f(x_0)`` per run and record (theory_notes §5's relative suboptimality)."""
        f0 = self.arrays["f0"][:, None]
        loss = self.arrays["loss"]
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(f0 > 0, loss / np.where(f0 > 0, f0, 1.0),
                            np.where(loss > 0, np.inf, 0.0))

    def to_result(self):
        """The stored cell as a ``simopt.Result`` (so its summaries are exactly the engine's)."""
        from ..result import Result
        a = self.arrays
        return Result(steps=a["steps"], loss=a["loss"], grad_norm=a["grad_norm"], x=a["x"],
                      x0=a["x0"], f0=a["f0"], diverged=a["diverged"],
                      diverged_step=a["diverged_step"], records=self.records,
                      meta=self.info.get("meta", {}))

    def iterations_to(self, eps: float, metric: str = "loss") -> np.ndarray:
        """T(eps) per run, relative to the initial value (``Result.iterations_to``, theory_notes
        §5): ``inf`` when censored or diverged; resolution is the sweep's ``record_every``."""
        return self.to_result().iterations_to(eps, metric=metric, relative=True)

    def ert(self, eps: float, metric: str = "loss") -> float:
        """Expected running time (``Result.ert``, theory_notes §5): total steps spent / successes."""
        return self.to_result().ert(eps, metric=metric, relative=True)


class Store:
    """A sweep results directory (see the module docstring for its layout)."""

    def __init__(self, path, *, create: bool = False):
        self.path = Path(path)
        self.cells_dir = self.path / "cells"
        if create:
            self.cells_dir.mkdir(parents=True, exist_ok=True)
        elif not self.cells_dir.is_dir():
            raise StoreError(f"{str(self.path)!r} is not a sweep results directory (no cells/ in it)")

    # -- locking ------------------------------------------------------------------------------
    @contextmanager
    def lock(self):
        """Exclusive use of the store by one running sweep (an ``flock`` released on exit, also when
        the process is killed)."""
        import fcntl
        f = open(self.path / ".lock", "a+")
        try:
            try:
                fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as e:
                if e.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                    raise StoreError(f"another sweep is running into {str(self.path)!r}") from None
                raise
            self._clean_tmp()
            yield self
        finally:
            f.close()

    def _clean_tmp(self):
        for d in (self.path, self.cells_dir):
            for e in os.scandir(d):
                if e.name.startswith(".") and e.name.endswith(".tmp"):
                    try:
                        os.unlink(e.path)
                    except OSError:
                        pass

    # -- spec ---------------------------------------------------------------------------------
    def write_spec(self, spec: Spec):
        _atomic_write(self.path / "spec.json", _dumps(spec.to_json()))
        if spec.source is not None:
            _atomic_write(self.path / "spec.toml", spec.source.encode("utf-8"))

    def read_spec(self) -> Spec:
        p = self.path / "spec.json"
        if not p.is_file():
            raise StoreError(f"{str(self.path)!r} has no spec.json: run a sweep into it first")
        return Spec.from_json(json.loads(p.read_text(encoding="utf-8")))

    # -- cell states --------------------------------------------------------------------------
    def _p(self, h, suffix):
        return self.cells_dir / f"{h}{suffix}"

    def states(self, hashes) -> dict:
        """``{hash: "done" | "failed" | "pending"}`` for the given cells (one directory listing)."""
        names = {e.name for e in os.scandir(self.cells_dir)}
        out = {}
        for h in hashes:
            if f"{h}.json" in names and f"{h}.npz" in names:
                out[h] = DONE
            elif f"{h}.failed.json" in names:
                out[h] = FAILED
            else:
                out[h] = PENDING
        return out

    def state(self, h) -> str:
        return self.states([h])[h]

    # -- writing ------------------------------------------------------------------------------
    def write_done(self, h: str, arrays: dict, info: dict, *, fsync: bool = False):
        """Store a finished cell: the arrays, then the JSON record that marks it done."""
        buf = io.BytesIO()
        np.savez(buf, **arrays)
        _atomic_write(self._p(h, ".npz"), buf.getvalue(), fsync)
        info = dict(info, status=DONE, hash=h,
                    arrays={k: [list(np.shape(v)), str(np.asarray(v).dtype)] for k, v in arrays.items()})
        _atomic_write(self._p(h, ".json"), _dumps(info), fsync)
        try:
            os.unlink(self._p(h, ".failed.json"))
        except FileNotFoundError:
            pass

    def write_failed(self, h: str, info: dict, *, fsync: bool = False):
        """Record a cell that raised (error + traceback).  It is not a result: it stays out of
        exports and tuning, and is recomputed on request (``--retry-failed``)."""
        _atomic_write(self._p(h, ".failed.json"), _dumps(dict(info, status=FAILED, hash=h)), fsync)

    # -- reading ------------------------------------------------------------------------------
    def load(self, h: str) -> CellResult:
        try:
            info = json.loads(self._p(h, ".json").read_text(encoding="utf-8"))
            with np.load(self._p(h, ".npz"), allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files}
        except FileNotFoundError:
            raise StoreError(f"cell {h} is not done in {str(self.path)!r}") from None
        return CellResult(hash=h, arrays=arrays, info=info)

    def load_failure(self, h: str) -> dict:
        return json.loads(self._p(h, ".failed.json").read_text(encoding="utf-8"))
