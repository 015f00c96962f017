"""Where cells run: in this process, in a local pool of worker processes, or on Dask.

Every executor calls :func:`execute_cell` on each cell's payload and hands ``(cell, result)`` to a
callback in the calling process, which writes the store.  One task is one cell (a whole batched
``simopt.run`` call with all its runs), so a task is big enough to amortise scheduling.  The engine
is deterministic given the cell's seed, so the arrays do not depend on the executor, the number of
workers or the order cells finish in.

* :class:`SerialExecutor` — this process, one cell after the other.
* :class:`LocalExecutor` — ``workers`` processes started with the ``spawn`` method (no inherited
  state, no fork-after-threads hazards), each with ``NUMBA_NUM_THREADS=1`` and one BLAS thread so
  that N workers use N cores without oversubscription.  Each worker has its own pipe; a worker that
  dies mid-cell (killed, out of memory, crashed) is replaced and its cell retried once, then recorded
  failed.  Workers exit when the parent dies (their pipe closes).  While the workers start up, the
  calling process computes cells itself.  As with any ``spawn`` pool, a script that starts a pool
  must guard its entry point with ``if __name__ == "__main__":``.
* :class:`DaskExecutor` — ``dask.distributed``: an existing scheduler (``tcp://host:8786``), a
  ``LocalCluster`` started for the sweep (``"local"``), or a ``Client`` passed in.  Dask reschedules
  the tasks of a worker that dies (up to its ``allowed-failures``).
"""
from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
import traceback
from collections import deque
from contextlib import contextmanager

__all__ = ["execute_cell", "SerialExecutor", "LocalExecutor", "DaskExecutor", "make_executor",
           "WORKER_ENV", "NoWorkersError"]

#: environment of local and LocalCluster workers: one compute thread each
WORKER_ENV = {"NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
              "MKL_NUM_THREADS": "1"}


def _json_safe(obj):
    import numpy as np
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, dict):
        return {str(k): _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_safe(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist() if obj.size <= 64 else f"array{obj.shape}"
    return repr(obj)


def result_arrays(res) -> dict:
    """The arrays of a ``simopt.Result`` as stored in a cell's ``.npz``."""
    import numpy as np
    arrays = {"steps": res.steps, "loss": res.loss, "grad_norm": res.grad_norm, "x": res.x,
              "x0": res.x0, "f0": res.f0, "diverged": res.diverged,
              "diverged_step": res.diverged_step}
    for k, v in (getattr(res, "records", None) or {}).items():
        arrays["record_" + k] = v
    return {k: np.asarray(v) for k, v in arrays.items()}


_MACHINE = None


def _machine_type() -> dict:
    """This process's machine type (``simopt._provenance.machine_type``), computed once."""
    global _MACHINE
    if _MACHINE is None:
        try:
            from .._provenance import machine_type
            _MACHINE = machine_type()
        except Exception as e:  # noqa: BLE001 - provenance must never fail a cell
            _MACHINE = {"error": f"{type(e).__name__}: {e}"}
    return _MACHINE


def execute_cell(payload: dict) -> dict:
    """Run one cell: build its problem and optimizer, call ``simopt.run``.

    Returns ``{"status": "done", "arrays": ..., "meta": ..., "wall_time": ...}`` or, if anything
    raised, ``{"status": "failed", "error": "Type: message", "traceback": ...}``; it never raises
    (except ``KeyboardInterrupt``/``SystemExit``).  ``wall_time`` covers building the problem and the
    optimizer and the run: the cell's own compute.
    """
    t0 = time.perf_counter()
    where = {"host": socket.gethostname(), "pid": os.getpid(), "machine_type": _machine_type()}
    try:
        import simopt

        from .spec import build_optimizer, build_problem
        problem = build_problem(payload["problem"])
        opt = build_optimizer(payload["optimizer"])
        res = simopt.run(problem, opt, payload["steps"], runs=payload["runs"], seed=payload["seed"],
                         record_every=payload["record_every"], record=tuple(payload["record"]),
                         divergence_threshold=payload["divergence_threshold"])
        arrays = result_arrays(res)
        meta = _json_safe(getattr(res, "meta", {}) or {})
        return {"status": "done", "arrays": arrays, "meta": meta,
                "wall_time": time.perf_counter() - t0, "worker": where}
    except Exception as e:  # noqa: BLE001 - a failing cell is a result, recorded as failed
        return {"status": "failed", "error": f"{type(e).__name__}: {e}",
                "traceback": traceback.format_exc(), "wall_time": time.perf_counter() - t0,
                "worker": where}


def _execute_single_threaded(payload):
    """:func:`execute_cell` with this thread's Numba thread count set to 1 (restored after): used
    while pool workers start, so the calling process adds one busy core, not a multi-threaded
    region contending with the starting workers.  Results do not depend on the thread count."""
    import numba
    n = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        return execute_cell(payload)
    finally:
        numba.set_num_threads(n)


class SerialExecutor:
    """Run cells in this process, in order."""

    name = "serial"
    workers = 1

    def describe(self) -> dict:
        return {"executor": self.name, "workers": 1}

    def map(self, cells, callback):
        for c in cells:
            callback(c, execute_cell(c.payload))


# --------------------------------------------------------------------------------------------------
# local process pool

_ENV_LOCK = threading.Lock()


@contextmanager
def _sigint_blocked():
    """Block SIGINT in this thread while worker processes (or the thread that starts them) are
    created: they inherit the blocked mask, so a Ctrl-C reaches only the parent, which stops the
    sweep and its workers itself (no KeyboardInterrupt traceback from every worker).  A SIGINT that
    arrives meanwhile stays pending and is delivered when the block ends."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    # multiprocessing starts its resource tracker with the first child and *unblocks* SIGINT after
    # that: start it now, before blocking
    from multiprocessing import resource_tracker
    resource_tracker.ensure_running()
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _warm_up():
    """Load the engine's compiled kernels with one tiny run, so a worker's first real cell does not
    pay for it (numba loads cached machine code on first call)."""
    try:
        import simopt
        p = simopt.quadratic([1.0, 2.0], noise=simopt.noise.gaussian(0.1))
        simopt.run(p, simopt.optim.sgd(0.1), 2)
    except Exception:  # noqa: BLE001 - only an optimisation; real cells report their own errors
        pass


def _worker_loop(conn):
    """Worker process body: warm up, say ``("ready",)``, then receive ``(index, payload)`` and send
    back ``("result", index, result)``; stop on ``None`` or when the parent's end closes.  Ctrl-C is
    the parent's to handle (it stops the workers): SIGINT is ignored here."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _warm_up()
    try:
        conn.send(("ready",))
    except (BrokenPipeError, OSError):
        return
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            break
        if msg is None:
            break
        i, payload = msg
        res = execute_cell(payload)
        try:
            conn.send(("result", i, res))
        except (BrokenPipeError, OSError):
            break
    conn.close()


class LocalExecutor:
    """A pool of ``workers`` local processes (default: the number of cores); ``workers=1`` runs in
    this process.

    ``retries``: how many times a cell whose worker died is re-run before it is recorded failed.
    ``help_during_startup``: a new worker needs a second or two (``STARTUP_SECONDS``) to import
    simopt and load its compiled kernels; until one is ready, this process computes cells itself.
    ``adaptive`` (what ``simopt sweep run`` does without ``--workers``): first compute cells here for
    ``PROBE_SECONDS``; if the rest would take this process less than twice a worker's start-up,
    finish here and start no pool at all (a pool cannot pay for itself on so little work).  Results
    are the same either way; only the wall time differs.
    """

    STARTUP_SECONDS = 2.0
    PROBE_SECONDS = 0.25

    name = "local"

    def __init__(self, workers: int | None = None, *, start_method: str = "spawn", retries: int = 1,
                 help_during_startup: bool = True, adaptive: bool = False):
        from .._validate import check_bool, check_int
        self.workers = (os.cpu_count() or 1) if workers is None else check_int(workers, "workers", 1)
        if start_method not in ("spawn", "forkserver"):
            raise ValueError(f"start_method: expected 'spawn' or 'forkserver', got {start_method!r}")
        self.start_method = start_method
        self.retries = check_int(retries, "retries", 0)
        self.help_during_startup = check_bool(help_during_startup, "help_during_startup")
        self.adaptive = check_bool(adaptive, "adaptive")
        self.pool_started = None  # after map: whether worker processes were started

    def describe(self) -> dict:
        d = {"executor": self.name, "workers": self.workers, "start_method": self.start_method,
             "adaptive": self.adaptive}
        if self.pool_started is not None:
            d["pool_started"] = self.pool_started
        return d

    def _start(self, ctx):
        parent, child = ctx.Pipe(duplex=True)
        p = ctx.Process(target=_worker_loop, args=(child,), daemon=True)
        with _ENV_LOCK:  # the child's environment is ours at start time: give it one thread
            saved = {k: os.environ.get(k) for k in WORKER_ENV}
            os.environ.update(WORKER_ENV)
            try:
                with _sigint_blocked():
                    p.start()
            finally:
                for k, v in saved.items():
                    if v is None:
                        os.environ.pop(k, None)
                    else:
                        os.environ[k] = v
        child.close()
        return p, parent

    def map(self, cells, callback):
        cells = list(cells)
        if not cells:
            return
        self.pool_started = False
        if self.workers == 1 or len(cells) == 1:
            SerialExecutor().map(cells, callback)
            return
        todo = deque(range(len(cells)))
        if self.adaptive:
            t_start, took = time.perf_counter(), []
            while todo and time.perf_counter() - t_start < self.PROBE_SECONDS:
                i = todo.popleft()
                t = time.perf_counter()
                callback(cells[i], execute_cell(cells[i].payload))
                took.append(time.perf_counter() - t)
            # the first cell may include loading the compiled kernels: estimate from the others
            per_cell = sorted(took[1:] or took)[len(took[1:] or took) // 2]
            if per_cell * len(todo) < 2 * self.STARTUP_SECONDS:
                SerialExecutor().map([cells[i] for i in todo], callback)
                return
        import multiprocessing as mp
        from multiprocessing.connection import wait
        ctx = mp.get_context(self.start_method)
        self.pool_started = True
        deaths = [0] * len(cells)
        workers = {}  # conn -> [process, ready, index of the cell it runs or None]

        def start():
            p, conn = self._start(ctx)
            workers[conn] = [p, False, None]

        def dispatch(conn):
            w = workers[conn]
            w[2] = todo.popleft() if todo else None
            if w[2] is not None:
                conn.send((w[2], cells[w[2]].payload))

        def busy():
            return any(w[2] is not None for w in workers.values())

        def any_ready():
            return any(w[1] for w in workers.values())

        interrupted = False
        try:
            for _ in range(min(self.workers, len(cells))):
                start()
            while todo or busy():
                if self.help_during_startup and todo and not any_ready():
                    i = todo.popleft()  # no worker is up yet: compute here meanwhile
                    callback(cells[i], _execute_single_threaded(cells[i].payload))
                    ready = wait(list(workers), timeout=0)
                else:
                    ready = wait(list(workers))
                for conn in ready:
                    p, _, i = workers[conn]
                    try:
                        msg = conn.recv()
                    except (EOFError, OSError):  # the worker died
                        p.join(5)
                        del workers[conn]
                        conn.close()
                        if i is not None:
                            deaths[i] += 1
                            if deaths[i] > self.retries:
                                callback(cells[i], {
                                    "status": "failed", "wall_time": float("nan"),
                                    "error": f"WorkerDied: the worker process running this cell "
                                             f"died (exit code {p.exitcode}) {deaths[i]} time(s)",
                                    "traceback": ""})
                            else:
                                todo.appendleft(i)
                        if todo:
                            start()
                        continue
                    workers[conn][1] = True
                    if msg[0] == "result":
                        _, j, res = msg
                        dispatch(conn)
                        callback(cells[j], res)
                    else:  # ("ready",)
                        dispatch(conn)
        except BaseException:  # Ctrl-C or an error in the callback: the cells running are lost
            interrupted = True
            raise
        finally:
            for conn, (p, ready, i) in workers.items():
                if not ready or (interrupted and i is not None):
                    p.terminate()  # starting up, or busy with a cell nobody will record
                    continue
                try:
                    conn.send(None)
                except OSError:
                    pass
            for conn, (p, _, _) in workers.items():
                p.join(5)
                if p.is_alive():
                    p.terminate()
                    p.join(2)
                conn.close()


# --------------------------------------------------------------------------------------------------
# dask


class NoWorkersError(RuntimeError):
    """A Dask sweep gave up: no worker was connected to the scheduler for too long."""


class DaskExecutor:
    """Run cells as ``dask.distributed`` tasks (one per cell, keyed by the cell's content hash).

    ``address``: ``"local"`` starts a ``LocalCluster`` of ``workers`` single-threaded worker processes
    on the loopback interface for the duration of the sweep (with ``NUMBA_NUM_THREADS=1``); any other
    string is a scheduler address (``tcp://host:8786``).  Or pass an existing ``client``.  Workers of an
    existing cluster must have simopt installed (same version, for identical results).
    """

    name = "dask"

    #: seconds a sweep waits with no worker connected to the scheduler before it gives up
    NO_WORKER_TIMEOUT = 60.0

    def __init__(self, address: str | None = "local", *, workers: int | None = None, client=None,
                 no_worker_timeout: float | None = None):
        try:
            import distributed  # noqa: F401
        except ImportError:
            raise ImportError("the Dask executor needs dask.distributed: "
                              "pip install 'simopt[dask]'") from None
        if client is None and not isinstance(address, str):
            raise TypeError(f"address: expected 'local' or a scheduler address string, got "
                            f"{type(address).__name__}")
        self.address = address
        self.workers = workers
        self.client = client
        from .._validate import check_positive_scalar
        self.no_worker_timeout = (self.NO_WORKER_TIMEOUT if no_worker_timeout is None else
                                  check_positive_scalar(no_worker_timeout, "no_worker_timeout"))

    def describe(self) -> dict:
        d = {"executor": self.name}
        if self.client is not None:
            d["scheduler"] = str(getattr(self.client, "scheduler", None) and
                                 self.client.scheduler.address)
        else:
            d["scheduler"] = self.address
            if self.address == "local":
                d["workers"] = self.workers or os.cpu_count()
        return d

    def _connect(self):
        from distributed import Client, LocalCluster
        if self.client is not None:
            return self.client, None, False
        if self.address == "local":
            with _sigint_blocked():  # the cluster's threads and worker processes inherit the mask
                cluster = LocalCluster(n_workers=self.workers or os.cpu_count() or 1,
                                       threads_per_worker=1, processes=True, host="127.0.0.1",
                                       scheduler_port=0, dashboard_address="127.0.0.1:0",
                                       env=dict(WORKER_ENV), silence_logs=logging.ERROR)
            return Client(cluster), cluster, True
        return Client(self.address), None, True

    def _check_workers(self, client, state: dict, left: int):
        """Raise :class:`NoWorkersError` once no worker has been connected for
        ``no_worker_timeout`` seconds (Dask itself would wait for one forever).  ``state`` carries
        the time of the last look and since when no worker was seen."""
        now = time.monotonic()
        if now - state.get("checked", 0.0) < 0.5:
            return
        state["checked"] = now
        if client.scheduler_info().get("workers"):
            state["alone_since"] = None
        elif state.get("alone_since") is None:
            state["alone_since"] = now
        elif now - state["alone_since"] > self.no_worker_timeout:
            raise NoWorkersError(
                f"no Dask worker connected to the scheduler {client.scheduler.address} for "
                f"{self.no_worker_timeout:g} s: {left} cell(s) not computed (start workers, then "
                f"re-run the same command to resume)")

    def _completed(self, client, futures, state, poll: float = 0.05):
        """Yield futures as they finish, watching that workers are left."""
        from distributed import as_completed
        ac = as_completed(list(futures), loop=client.loop)  # this client's loop, not the default's
        left = len(futures)
        while left:
            batch = ac.next_batch(block=False)
            if batch:
                left -= len(batch)
                state["alone_since"] = None
                yield from batch
                continue
            time.sleep(poll)
            self._check_workers(client, state, left)

    def _result(self, client, f, state, left: int):
        """``f.result()``, which blocks while a result lost with a dying worker is recomputed:
        watched the same way."""
        while True:
            try:
                return f.result(timeout=0.5)
            except TimeoutError:
                self._check_workers(client, state, left)

    def map(self, cells, callback):
        cells = list(cells)
        if not cells:
            return
        client, cluster, own = self._connect()
        quieted = None
        try:
            futures = {}
            for c in cells:
                f = client.submit(execute_cell, c.payload, key=f"simopt-cell-{c.hash}", pure=False)
                futures[f] = c
            state = {}
            for f in self._completed(client, futures, state):
                c = futures.pop(f)
                try:
                    res = self._result(client, f, state, len(futures) + 1)
                except Exception as exc:  # noqa: BLE001  (Dask-level failure, e.g. KilledWorker)
                    res = {"status": "failed", "error": f"{type(exc).__name__}: {exc}",
                           "traceback": "".join(traceback.format_exception(exc)),
                           "wall_time": float("nan")}
                f.release()
                callback(c, res)
        except (KeyboardInterrupt, NoWorkersError):
            # the cells still pending are abandoned; closing the cluster under them makes its
            # nannies and workers log cancellations (and tornado, the callbacks the interrupt cut
            # short), which say nothing the user needs
            quieted = {}
            for name in ("distributed", "tornado"):
                log = logging.getLogger(name)
                quieted[name] = log.level
                log.setLevel(logging.CRITICAL + 1)
            client.cancel(list(futures))
            raise
        finally:
            if own:
                client.close()
                if cluster is not None:
                    cluster.close()
            for name, level in (quieted or {}).items():
                logging.getLogger(name).setLevel(level)


def make_executor(workers: int | None = None, dask: str | None = None, client=None):
    """The executor the CLI options describe: Dask when ``dask`` (``"local"`` or an address) or a
    ``client`` is given, else the local pool: ``workers`` processes when given (``1`` = this
    process); by default as many as cores, started only if the sweep is big enough to pay for them
    (``LocalExecutor(adaptive=True)``)."""
    if client is not None or dask is not None:
        return DaskExecutor(dask if dask is not None else "local", workers=workers, client=client)
    return LocalExecutor(workers, adaptive=workers is None)
