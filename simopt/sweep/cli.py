"""``simopt sweep run|status|tune|export|plot``: run a sweep from a TOML spec into a results
directory (resumable), and read that directory back: cell states, the best lr per group, tidy tables
and figures.  Misuse raises :class:`simopt.cli.CLIError` or the library's own error; the ``simopt``
entry point prints it as one line."""
from __future__ import annotations

import logging
import os
import sys

SPEC_DOC = ("The spec format (problems x optimizers x lr grid x seeds; product, zip and union grids) "
            "is described on the documentation's 'Sweep spec format' page (docs/sweep_spec.md in "
            "the source repository).")

#: seconds ``--dask ADDRESS`` waits for the scheduler before giving up
DASK_CONNECT_TIMEOUT = 20.0


def _positive_int(text):
    import argparse
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {v}")
    return v


def _positive_float(text):
    import argparse
    import math
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not (v > 0 and math.isfinite(v)):
        raise argparse.ArgumentTypeError(f"expected a positive finite number, got {text!r}")
    return v


def _store_dir(path):
    """The results directory ``path`` as a readable store (one-line errors for the usual mistakes)."""
    from ..cli import CLIError
    from .store import Store
    if not os.path.exists(path):
        raise CLIError(f"{path}: no such directory (run `simopt sweep run SPEC --out {path}` first)")
    if not os.path.isdir(path):
        raise CLIError(f"{path}: not a directory")
    store = Store(path)  # StoreError if it is not a store
    store.read_spec()
    return store


def _writable_dir(path, what):
    """Create ``path`` (and parents) if needed and check that files can be written into it."""
    from ..cli import CLIError
    if os.path.exists(path) and not os.path.isdir(path):
        raise CLIError(f"{what} {path}: exists and is not a directory")
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as e:
        raise CLIError(f"{what} {path}: cannot create it: {e.strerror}") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise CLIError(f"{what} {path}: not writable")
    return path


def _dask_client(address, timeout):
    """A ``distributed.Client`` of the scheduler at ``address``, or a one-line error after
    ``timeout`` seconds."""
    from .._extras import require
    from ..cli import CLIError
    distributed = require("distributed", "--dask", "dask", "dask.distributed")
    try:
        return distributed.Client(address, timeout=timeout)
    except (OSError, TimeoutError) as e:
        raise CLIError(f"--dask {address}: no Dask scheduler answered within {timeout:g} s "
                       f"({' '.join(str(e).split()) or type(e).__name__}); is `dask scheduler` "
                       f"running there, or use --dask local") from None
    except ValueError as e:  # a malformed address
        raise CLIError(f"--dask {address}: {e}") from None


def _run(args) -> int:
    from ..cli import CLIError
    from .executors import NoWorkersError
    from .runner import run_sweep
    from .spec import SpecError, load
    try:
        spec = load(args.config)
    except SpecError as e:
        raise CLIError(f"invalid spec {args.config}: {e}") from None
    _writable_dir(args.out, "--out")
    client = None
    dask = args.dask
    if dask is not None and dask != "local":
        client = _dask_client(dask, args.dask_timeout)
        dask = None
    try:
        rep = run_sweep(spec, args.out, workers=args.workers, dask=dask, client=client,
                        quiet=args.quiet, retry_failed=args.retry_failed, fsync=args.fsync)
    except NoWorkersError as e:
        print(f"simopt sweep: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return _interrupted(spec, args)
    finally:
        if client is not None:
            client.close()
    if not args.quiet:
        print(rep.summary())
        if rep.failed or rep.skipped_failed:
            print(f"failed cells: see `simopt sweep status {args.out} -v`")
    return 0 if rep.ok else 1


def _interrupted(spec, args) -> int:
    """Ctrl-C: one line with what is done and how to resume; exit status 130 (128 + SIGINT)."""
    import shlex
    import signal

    from .store import DONE, Store
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not interrupt this line
    # the process ends with the line below: a Dask client's event loop, cut short by the interrupt,
    # may still log its cancelled callbacks meanwhile, which would bury it
    logging.disable(logging.CRITICAL)
    try:
        states = Store(args.out).states(spec.hashes, warn=False)
        done = sum(1 for v in states.values() if v == DONE)
    except Exception:  # noqa: BLE001 - the counts are a courtesy; the resume hint is what matters
        done = None
    argv = ["simopt", "sweep", "run", str(args.config), "--out", str(args.out)]
    if args.workers is not None:
        argv += ["--workers", str(args.workers)]
    if args.dask is not None:
        argv += ["--dask", args.dask]
    counts = (f"{done}/{len(spec.hashes)} cells done, {len(spec.hashes) - done} pending"
              if done is not None else f"{len(spec.hashes)} cells")
    print(f"\nsimopt sweep: interrupted: {counts}; resume with: {shlex.join(argv)}",
          file=sys.stderr)
    return 130


def _status(args) -> int:
    from .runner import status
    store = _store_dir(args.dir)
    st = status(args.dir)
    spec = store.read_spec()
    n = len(spec.cells)
    print(f"{args.dir}: {n} cells: {len(st['done'])} done, {len(st['damaged'])} damaged, "
          f"{len(st['failed'])} failed, {len(st['pending'])} pending")
    byhash = {c.hash: c for c in spec.cells}
    for h in st["damaged"]:
        c = byhash[h]
        print(f"  damaged {h[:12]}  {c.problem_label} | {c.optimizer_label} lr={c.lr} "
              f"seed={c.seed}: {store.check(h)} (a re-run recomputes it)")
    for h in st["failed"]:
        c = byhash[h]
        err = store.load_failure(h).get("error", "?")
        print(f"  failed {h[:12]}  {c.problem_label} | {c.optimizer_label} lr={c.lr} "
              f"seed={c.seed}: {err}")
    if args.verbose:
        for h in st["pending"]:
            c = byhash[h]
            print(f"  pending {h[:12]}  {c.problem_label} | {c.optimizer_label} lr={c.lr} "
                  f"seed={c.seed}")
    return 0


def _one_line_warnings(func):
    """Run a verb with each warning (e.g. a damaged cell skipped) printed as one line on stderr."""
    import functools
    import warnings

    @functools.wraps(func)
    def wrapper(args):
        shown = set()

        def show(message, category, filename, lineno, file=None, line=None):
            if str(message) not in shown:  # once per message, however often it is raised
                shown.add(str(message))
                print(f"simopt sweep: warning: {message}", file=sys.stderr)
        with warnings.catch_warnings():
            warnings.showwarning = show
            return func(args)
    return wrapper


@_one_line_warnings
def _tune(args) -> int:
    from .tune import tune
    store = _store_dir(args.dir)
    res = tune(store, criterion=args.criterion, eps=args.eps)
    if res:
        print(f"criterion: {res[0].criterion}")
    for t in res:
        print(t.line())
    return 0


@_one_line_warnings
def _export(args) -> int:
    from .export import export
    store = _store_dir(args.dir)
    out = _writable_dir(args.out if args.out is not None else os.path.join(args.dir, "export"),
                        "--out")
    parquet = True if args.parquet else (False if args.no_parquet else None)
    paths = export(store, out, parquet=parquet, steps="all" if args.all_steps else "log",
                   per_decade=args.per_decade, tables=tuple(args.tables.split(",")))
    for k, p in paths.items():
        print(f"{k}: {p}")
    return 0


@_one_line_warnings
def _plot(args) -> int:
    from .plot import plot_best
    store = _store_dir(args.dir)
    if args.out is not None:
        _writable_dir(os.path.dirname(os.path.abspath(args.out)), "--out")
    for p in plot_best(store, args.out, metric=args.metric):
        print(p)
    return 0


def _tables(text):
    import argparse

    from .export import TABLES
    items = [t.strip() for t in text.split(",") if t.strip()]
    bad = [t for t in items if t not in TABLES]
    if bad or not items:
        raise argparse.ArgumentTypeError(f"expected a comma-separated subset of {','.join(TABLES)}, "
                                         f"got {text!r}")
    return ",".join(items)


def register(subparsers) -> None:
    from .export import PER_DECADE, TABLES
    sp = subparsers.add_parser(
        "sweep", help="parameter sweeps: run, status, tune, export, plot",
        description="Run a sweep (problems x optimizers x learning-rate grid x seeds) into a results "
                    "directory that is filled one finished cell at a time, and read it back.  A "
                    "sweep killed half-way and run again resumes where it stopped.\n\n" + SPEC_DOC)
    sub = sp.add_subparsers(dest="sweep_command", metavar="SUBCOMMAND")
    sp.set_defaults(func=lambda a: (sp.print_help(), 2)[1])

    p = sub.add_parser(
        "run", help="run (or resume) a sweep from a TOML spec",
        description="Run every cell of the spec that is not yet done in --out (resuming), locally or "
                    "on Dask.  Exit status 0 when every cell is done, 1 when some failed, 2 for "
                    "misuse.\n\n" + SPEC_DOC)
    p.add_argument("config", metavar="SPEC", help="the sweep spec, a TOML file")
    p.add_argument("--out", required=True, metavar="DIR",
                   help="results directory (created; resumed if it holds a sweep)")
    p.add_argument("--workers", type=_positive_int, default=None, metavar="N",
                   help="local worker processes (1 = in this process); default: one per core, "
                        "started only when the sweep is big enough to pay for them; with "
                        "--dask local, the LocalCluster's workers")
    p.add_argument("--dask", default=None, metavar="ADDR|local",
                   help="run on Dask: a scheduler address (tcp://host:8786) or 'local' for a "
                        "LocalCluster on this machine (needs simopt[dask])")
    p.add_argument("--dask-timeout", type=_positive_float, default=DASK_CONNECT_TIMEOUT,
                   metavar="SECONDS", help="give up on an unreachable --dask scheduler after this")
    p.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    p.add_argument("--retry-failed", action="store_true", help="recompute cells that failed before")
    p.add_argument("--fsync", action="store_true",
                   help="fsync every file (survives power loss, not just a killed process)")
    p.set_defaults(func=_run)

    dir_help = "results directory of a sweep (the --out of `simopt sweep run`)"
    p = sub.add_parser("status", help="done / failed / pending cells of a results directory",
                       description="Count the done, failed and pending cells of the spec stored in "
                                   "DIR and list the failed ones with their errors.")
    p.add_argument("dir", metavar="DIR", help=dir_help)
    p.add_argument("-v", "--verbose", action="store_true", help="also list pending cells")
    p.set_defaults(func=_status)

    p = sub.add_parser(
        "tune", help="best lr per (problem, optimizer) with grid-edge flags",
        description="The best learning rate of each (problem, optimizer configuration) group, pooling "
                    "the runs of all seeds, with a flag when it lies on the edge of the grid "
                    "(simopt.sweep.tune).")
    p.add_argument("dir", metavar="DIR", help=dir_help)
    p.add_argument("--criterion", choices=("median", "persistent", "ert"), default=None,
                   help="'median': median over runs of the final f(x_T)/f(x_0), or of the first-hit "
                        "T(eps) when the spec has eps (diverged or censored runs count as +inf); "
                        "'persistent': median of the T(eps) after which a run stays below eps through "
                        "the end of its budget; 'ert': expected running time to eps (theory_notes.md "
                        "§5); default: the spec's criterion")
    p.add_argument("--eps", type=_positive_float, default=None,
                   help="target f(x_t) <= eps f(x_0) for T(eps); default: the spec's eps")
    p.set_defaults(func=_tune)

    p = sub.add_parser(
        "export", help="long / best-lr / summary / tuning tables as CSV (and Parquet)",
        description="Write tidy tables of DIR: long (one row per cell, run and step), best_lr (the "
                    "long table at each group's tuned lr), summary (one row per cell: T(eps), ERT, "
                    "divergences) and tuning (one row per group and lr).  The long tables hold the "
                    "records on a log-spaced step grid unless --all-steps.  Parquet files are "
                    "written too when pandas and pyarrow are installed (simopt[io]).")
    p.add_argument("dir", metavar="DIR", help=dir_help)
    p.add_argument("--out", default=None, metavar="OUTDIR",
                   help="output directory (created; default DIR/export)")
    p.add_argument("--tables", type=_tables, default=",".join(TABLES), metavar="LIST",
                   help="comma-separated tables to write")
    p.add_argument("--all-steps", action="store_true",
                   help="every recorded step in the long tables (can be large)")
    p.add_argument("--per-decade", type=_positive_int, default=PER_DECADE, metavar="N",
                   help="records kept per decade of steps in the thinned long tables")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--parquet", action="store_true",
                   help="require Parquet output (an error if simopt[io] is not installed)")
    g.add_argument("--no-parquet", action="store_true", help="CSV only")
    p.set_defaults(func=_export)

    p = sub.add_parser("plot", help="curves at the best lr: median and IQR bands, log y",
                       description="One panel per problem point: each optimizer's curve at its "
                                   "tuned lr, median over seeds x runs with the inter-quartile band.")
    p.add_argument("dir", metavar="DIR", help=dir_help)
    p.add_argument("--out", default=None, metavar="PNG",
                   help="PNG path (a PDF is written beside it; default DIR/plots/best_lr.png)")
    p.add_argument("--metric", choices=("rel_loss", "loss", "grad_norm"), default="rel_loss",
                   help="the curve: f(x_t)/f(x_0), f(x_t) - f*, or the gradient norm")
    p.set_defaults(func=_plot)
