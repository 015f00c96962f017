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

Self-checking: the ``.npz`` is written with fixed zip timestamps (same arrays, same bytes) and its
SHA-256 is stored in the ``.json`` record (``checksum``), which also carries the SHA-256 of its own
canonical text without that field (``record_sha256``) and the cell's content hash, itself the hash
of the cell payload it records.  Every read checks all of it (``states`` and ``load``): a cell whose
files are truncated, garbage, empty, taken from another cell, or differ in a single value is
**damaged**, not done.  ``states`` reports it as ``"damaged"``; a run recomputes it; tuning,
exports and plots skip it with a :class:`DamagedCellWarning` that names the file (they never use
it), and ``load`` raises :class:`CellDamagedError` naming the file.  Cells written by simopt 0.1.0
(no checksums) are checked structurally only (both files parse, the record's hash and payload
match the file name, the arrays have the recorded names, shapes and dtypes): a truncated, garbage,
empty or swapped file is found, a changed value is not.

Every file is written atomically: to a temporary file in the same directory, then ``os.replace``.
A process killed at any point therefore leaves each cell either absent or complete, and a re-run
skips complete cells and recomputes the rest.  Temporary files a killed writer left behind are
removed by the next writer.  By default files are not ``fsync``-ed: that is safe against a killed
process (the kernel keeps the written data), not against power loss; ``fsync=True`` covers that
too at some cost per cell.
"""
from __future__ import annotations

import errno
import hashlib
import io
import json
import os
import secrets
import warnings
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._validate import check_bool
from .spec import Spec

__all__ = ["Store", "StoreError", "CellDamagedError", "DamagedCellWarning", "CellResult", "DONE",
           "FAILED", "PENDING", "DAMAGED", "npz_bytes"]

DONE, FAILED, PENDING, DAMAGED = "done", "failed", "pending", "damaged"


class StoreError(RuntimeError):
    """The store directory is missing, not a store, or busy."""


class CellDamagedError(StoreError):
    """A done cell's files fail their checks (the message names the file and what is wrong)."""


class DamagedCellWarning(UserWarning):
    """A damaged cell was skipped (tuning, export, plot); re-running the sweep recomputes it."""


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


#: the zip timestamp of every array in a cell's .npz (so that equal arrays give equal bytes)
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)


def npz_bytes(arrays: dict) -> bytes:
    """The ``.npz`` file of ``arrays`` (what ``np.savez`` writes, readable by ``np.load``) with
    fixed timestamps: equal arrays give byte-identical files."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for name in sorted(arrays):
            info = zipfile.ZipInfo(f"{name}.npy", date_time=_ZIP_DATE)
            info.external_attr = 0o600 << 16
            with zf.open(info, "w", force_zip64=True) as f:
                np.lib.format.write_array(f, np.asanyarray(arrays[name]), allow_pickle=False)
    return buf.getvalue()


def _record_digest(info: dict) -> str:
    return _sha256(_dumps({k: v for k, v in info.items() if k != "record_sha256"}))


def _json_default(o):
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    return repr(o)


def _dumps(obj) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"),
                      default=_json_default).encode("utf-8")


_CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | \
    getattr(os, "O_CLOEXEC", 0)


@contextmanager
def atomic_file(path: Path, mode: str = "wb", *, fsync: bool = False, **open_kw):
    """Write ``path`` atomically: yield a new temporary file in the same directory (a fresh random
    name created with ``O_EXCL | O_NOFOLLOW``, so a planted file or symlink is never followed or
    reused), then ``os.replace`` it onto ``path``.  On any error (``ENOSPC`` included) the temporary
    file is removed and the error re-raised; ``path`` is then untouched."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, _CREATE_FLAGS, 0o644)
    try:
        with open(fd, mode, **open_kw) as f:
            yield f
            f.flush()
            if fsync:
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    if fsync:
        dfd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)


def _atomic_write(path: Path, data: bytes, fsync: bool = False):
    with atomic_file(path, "wb", fsync=fsync) as f:
        f.write(data)


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
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"path: expected a directory path, got {type(path).__name__}")
        create = check_bool(create, "create")
        self.path = Path(path)
        self.cells_dir = self.path / "cells"
        self._checked = {}  # check() results per cell, keyed by the files' identity
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
        p = self.path / ".lock"
        try:  # never follow a planted symlink; the lock file's content is never read or written
            fd = os.open(p, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) |
                         getattr(os, "O_CLOEXEC", 0), 0o644)
        except OSError as e:
            if e.errno == errno.ELOOP:
                raise StoreError(f"{str(p)!r} is a symbolic link: remove it (the lock file must be "
                                 f"a plain file)") from None
            raise
        f = open(fd, "rb")
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

    def _read_checked(self, h):
        """``(info, arrays)`` of a done cell after every check (module docstring); raises
        :class:`CellDamagedError` naming the bad file."""
        from .spec import content_hash
        jp, zp = self._p(h, ".json"), self._p(h, ".npz")

        def bad(path, why):
            return CellDamagedError(f"damaged cell file {path}: {why}")

        try:
            raw = jp.read_bytes()
        except FileNotFoundError:
            raise StoreError(f"cell {h} is not done in {str(self.path)!r}") from None
        try:
            info = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise bad(jp, "not a JSON record (empty, truncated or garbage)") from None
        if not isinstance(info, dict) or info.get("status") != DONE:
            raise bad(jp, "not the record of a done cell")
        if info.get("hash") != h:
            raise bad(jp, f"it is the record of cell {str(info.get('hash'))[:12]} (swapped?)")
        if "record_sha256" in info and info["record_sha256"] != _record_digest(info):
            raise bad(jp, "its content does not match its checksum (edited or corrupted)")
        try:
            if content_hash(info.get("cell")) != h:
                raise bad(jp, "the cell it records does not have this hash")
        except (TypeError, ValueError):
            raise bad(jp, "the cell it records is not a valid cell payload") from None
        try:
            data = zp.read_bytes()
        except FileNotFoundError:
            raise bad(zp, "missing (the record says the cell is done)") from None
        want = (info.get("checksum") or {}).get("npz")
        if want is not None and want != "sha256:" + _sha256(data):
            raise bad(zp, "its SHA-256 does not match the one in the cell's record "
                          "(truncated, corrupted, changed or taken from another cell)")
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files}
        except Exception:  # noqa: BLE001 - any failure to parse is damage
            raise bad(zp, "not a readable .npz (empty, truncated or garbage)") from None
        shapes = info.get("arrays")
        if not isinstance(shapes, dict) or sorted(shapes) != sorted(arrays) or any(
                [list(a.shape), str(a.dtype)] != shapes[k] for k, a in arrays.items()):
            raise bad(zp, "its arrays do not have the names, shapes and dtypes in the cell's record")
        return info, arrays

    def _signature(self, h):
        out = []
        for suffix in (".json", ".npz"):
            st = os.stat(self._p(h, suffix))
            out.append((st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns))
        return tuple(out)

    def check(self, h) -> str | None:
        """``None`` if the done cell ``h`` passes every check, else a one-line description of the
        damage that names the file.  Results are cached per file identity (inode, size, times)."""
        cache = self._checked
        try:
            sig = self._signature(h)
        except FileNotFoundError:
            sig = None
        if sig is not None and sig in cache.get(h, {}):
            return cache[h][sig]
        try:
            self._read_checked(h)
            why = None
        except CellDamagedError as e:
            why = str(e)
        if sig is not None:
            cache[h] = {sig: why}
        return why

    def states(self, hashes, *, warn: bool = True) -> dict:
        """``{hash: "done" | "damaged" | "failed" | "pending"}`` for the given cells.

        A cell is done when its record exists and every check passes (module docstring), damaged
        when its record exists and a check fails, failed when only a failure record exists.  With
        ``warn``, each damaged cell gives a :class:`DamagedCellWarning` naming its bad file (what
        tuning, export and plot see: they skip it)."""
        names = {e.name for e in os.scandir(self.cells_dir)}
        out = {}
        for h in hashes:
            if f"{h}.json" in names:
                why = self.check(h)
                out[h] = DONE if why is None else DAMAGED
                if why is not None and warn:
                    warnings.warn(f"{why}; skipped (re-run the sweep to recompute the cell)",
                                  DamagedCellWarning, stacklevel=2)
            elif f"{h}.failed.json" in names:
                out[h] = FAILED
            else:
                out[h] = PENDING
        return out

    def state(self, h) -> str:
        return self.states([h])[h]

    def discard(self, h: str):
        """Remove a (damaged) cell's files, record first, so that it is pending."""
        for suffix in (".json", ".npz"):
            try:
                os.unlink(self._p(h, suffix))
            except FileNotFoundError:
                pass
        self._checked.pop(h, None)

    # -- writing ------------------------------------------------------------------------------
    def write_done(self, h: str, arrays: dict, info: dict, *, fsync: bool = False):
        """Store a finished cell: the arrays, then the JSON record that marks it done (with the
        arrays' SHA-256 and its own, see the module docstring)."""
        data = npz_bytes(arrays)
        _atomic_write(self._p(h, ".npz"), data, fsync)
        info = dict(info, status=DONE, hash=h,
                    arrays={k: [list(np.shape(v)), str(np.asarray(v).dtype)] for k, v in arrays.items()},
                    checksum={"npz": "sha256:" + _sha256(data)})
        info.pop("record_sha256", None)
        info = json.loads(_dumps(info))  # the record exactly as it will be read back
        info["record_sha256"] = _record_digest(info)
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
        """A done cell, checked (module docstring): :class:`CellDamagedError` names a bad file."""
        info, arrays = self._read_checked(h)
        return CellResult(hash=h, arrays=arrays, info=info)

    def load_failure(self, h: str) -> dict:
        """The failure record of a failed cell (an ``error`` naming the file if it is unreadable)."""
        p = self._p(h, ".failed.json")
        try:
            f = json.loads(p.read_text(encoding="utf-8"))
            if isinstance(f, dict):
                return f
        except (UnicodeDecodeError, ValueError):
            pass
        return {"status": FAILED, "hash": h, "error": f"unreadable failure record {p}"}
