"""``run_sweep``: validate a spec, then compute the cells the store does not have yet."""
from __future__ import annotations

import datetime
import queue
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from .._validate import check_bool
from .executors import make_executor
from .spec import as_spec
from .store import DAMAGED, DONE, FAILED, PENDING, Store

__all__ = ["run_sweep", "SweepReport", "provenance"]


def provenance() -> dict:
    """Versions, source revision and machine type recorded with every cell
    (:func:`simopt._provenance.provenance`)."""
    from .._provenance import provenance as _prov
    return _prov()


class _Writer:
    """Writes finished cells to the store from one background thread, so that creating files (about
    a millisecond each on a busy disk) overlaps the next cell's computation.  Each cell is still
    written atomically, its .npz before its .json; ``close`` waits for the queue to drain and
    re-raises a write error.  A process killed with cells still queued loses only those cells,
    which the next run recomputes."""

    def __init__(self, store: Store, fsync: bool):
        self.store, self.fsync, self.error = store, fsync, None
        self.queue = queue.Queue(maxsize=256)
        self.thread = threading.Thread(target=self._loop, name="simopt-sweep-writer", daemon=True)
        self.thread.start()

    def _loop(self):
        while True:
            item = self.queue.get()
            if item is None:
                return
            if self.error is not None:
                continue
            done, h, arrays, info = item
            try:
                if done:
                    self.store.write_done(h, arrays, info, fsync=self.fsync)
                else:
                    self.store.write_failed(h, info, fsync=self.fsync)
            except BaseException as e:  # noqa: BLE001 - handed to the main thread
                self.error = e

    def put(self, done: bool, h: str, arrays, info: dict):
        if self.error is not None:
            raise self.error
        self.queue.put((done, h, arrays, info))

    def close(self):
        self.queue.put(None)
        self.thread.join()
        if self.error is not None:
            raise self.error


@dataclass
class SweepReport:
    """What a ``run_sweep`` call did."""

    out: Path
    total: int                       # cells in the spec
    skipped_done: int                # already done before this call
    skipped_failed: list             # failed before and not retried (hashes)
    computed: list = field(default_factory=list)   # hashes computed by this call (done or failed)
    failed: list = field(default_factory=list)     # hashes that failed in this call
    wall_time: float = 0.0
    compute_time: float = 0.0        # sum of the computed cells' own wall times
    executor: dict = field(default_factory=dict)
    stale: int = 0                   # cells in the store that the current spec does not contain
    damaged: list = field(default_factory=list)    # hashes found damaged and recomputed (store.py)

    @property
    def ok(self) -> bool:
        return not self.failed and not self.skipped_failed

    def summary(self) -> str:
        done = self.skipped_done + len(self.computed) - len(self.failed)
        s = (f"{done}/{self.total} cells done ({len(self.computed)} computed now, "
             f"{self.skipped_done} already done)")
        nf = len(self.failed) + len(self.skipped_failed)
        if nf:
            s += f"; {nf} failed"
            if self.skipped_failed:
                s += f" ({len(self.skipped_failed)} from an earlier run, not retried: use --retry-failed)"
        return s + f" in {self.wall_time:.1f} s"


def run_sweep(spec, out, *, workers: int | None = None, dask: str | None = None, client=None,
              executor=None, quiet: bool = False, retry_failed: bool = False, fsync: bool = False,
              on_result=None) -> SweepReport:
    """Run a sweep into the directory ``out``, resuming: cells already done there are skipped;
    failed cells are skipped too unless ``retry_failed``.

    ``spec``: a :class:`~simopt.sweep.spec.Spec`, a dict, or a TOML path; it is fully validated
    before anything is written.  The executor: ``executor`` if given, else Dask when ``dask``
    (``"local"`` or a scheduler address) or ``client`` is given, else a local pool of ``workers``
    processes (``1`` = this process; default: one per core, started only if the sweep is big enough
    to pay for their start-up, see :class:`~simopt.sweep.executors.LocalExecutor`).
    ``on_result(cell, result)`` is called as each cell finishes (a background thread writes its
    files; all are on disk when ``run_sweep`` returns).  Shows a progress bar (cells done / total,
    ETA) unless ``quiet``.
    """
    quiet = check_bool(quiet, "quiet")
    retry_failed = check_bool(retry_failed, "retry_failed")
    fsync = check_bool(fsync, "fsync")
    spec = as_spec(spec)
    if executor is None:
        executor = make_executor(workers=workers, dask=dask, client=client)
    store = Store(out, create=True)
    t_start = time.perf_counter()
    with store.lock():
        old = None
        try:
            old = store.read_spec()
        except Exception:  # noqa: BLE001 - no (readable) previous spec
            pass
        store.write_spec(spec)
        hashes = spec.hashes
        states = store.states(hashes, warn=False)
        damaged = [h for h in hashes if states[h] == DAMAGED]
        for h in damaged:  # recomputed below; pending until then
            store.discard(h)
            states[h] = PENDING
        todo = [c for c in spec.cells
                if states[c.hash] == PENDING or (retry_failed and states[c.hash] == FAILED)]
        skipped_failed = [h for h in hashes if states[h] == FAILED and not retry_failed]
        n_done = sum(1 for h in hashes if states[h] == DONE)
        stale = 0
        if old is not None:
            stale = len(set(old.hashes) - set(hashes))
        report = SweepReport(out=Path(out), total=len(hashes), skipped_done=n_done,
                             skipped_failed=skipped_failed, executor=executor.describe(), stale=stale,
                             damaged=damaged)
        if not quiet and damaged:
            print(f"note: {len(damaged)} damaged cell(s) in {out} (files failing their checksums) "
                  f"are recomputed", file=sys.stderr)
        if not quiet and stale:
            print(f"note: {stale} cell(s) of the previous spec in {out} are not in this one "
                  f"(kept in the store, ignored)", file=sys.stderr)
        prov = provenance()
        prov["executor"] = executor.describe()

        bar = None
        if not quiet and todo:
            from tqdm import tqdm
            bar = tqdm(total=len(hashes), initial=n_done + len(skipped_failed), unit="cell",
                       desc="sweep", file=sys.stderr, dynamic_ncols=True, smoothing=0.1)

        def on_done(cell, res):
            info = {"cell": cell.payload, "problem_label": cell.problem_label,
                    "optimizer_label": cell.optimizer_label, "seed": cell.seed,
                    "wall_time": res.get("wall_time"), "worker": res.get("worker"),
                    "finished_at": datetime.datetime.now(datetime.timezone.utc).isoformat(),
                    "provenance": prov}
            if res["status"] == "done":
                info["meta"] = res.get("meta", {})
                writer.put(True, cell.hash, res["arrays"], info)
            else:
                info.update(error=res["error"], traceback=res.get("traceback", ""))
                writer.put(False, cell.hash, None, info)
                report.failed.append(cell.hash)
            report.computed.append(cell.hash)
            wt = res.get("wall_time")
            if wt is not None and wt == wt:
                report.compute_time += wt
            if bar is not None:
                bar.update(1)
                if report.failed:
                    bar.set_postfix(failed=len(report.failed), refresh=False)
            if on_result is not None:
                on_result(cell, res)

        writer = _Writer(store, fsync)
        try:
            executor.map(todo, on_done)
        except BaseException:
            try:
                writer.close()  # keep what was computed
            except Exception:  # noqa: BLE001 - the original error matters more
                pass
            raise
        else:
            writer.close()
            report.executor = executor.describe()  # now with what the executor decided
        finally:
            if bar is not None:
                bar.close()
    report.wall_time = time.perf_counter() - t_start
    return report


def status(out) -> dict:
    """``{"done": [...], "damaged": [...], "failed": [...], "pending": [...]}`` (hashes) for the
    spec stored in ``out``; a damaged cell (``simopt.sweep.store``) is recomputed by the next run."""
    store = Store(out)
    spec = store.read_spec()
    st = store.states(spec.hashes, warn=False)
    res = {DONE: [], DAMAGED: [], FAILED: [], PENDING: []}
    for h in spec.hashes:
        res[st[h]].append(h)
    return res

