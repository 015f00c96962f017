"""``simopt sweep run|status|tune|export|plot``."""
from __future__ import annotations

import sys


def _run(args) -> int:
    from .executors import NoWorkersError
    from .runner import run_sweep
    from .spec import SpecError, load
    from .store import StoreError
    try:
        spec = load(args.config)
    except SpecError as e:
        print(f"simopt sweep: invalid spec {args.config}: {e}", file=sys.stderr)
        return 2
    if args.workers is not None and args.workers < 1:
        print("simopt sweep: --workers must be >= 1", file=sys.stderr)
        return 2
    try:
        rep = run_sweep(spec, args.out, workers=args.workers, dask=args.dask, quiet=args.quiet,
                        retry_failed=args.retry_failed, fsync=args.fsync)
    except (StoreError, ImportError) as e:
        print(f"simopt sweep: {e}", file=sys.stderr)
        return 2
    except NoWorkersError as e:
        print(f"simopt sweep: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return _interrupted(spec, args)
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
    from .store import Store, StoreError
    try:
        st = status(args.dir)
    except StoreError as e:
        print(f"simopt sweep: {e}", file=sys.stderr)
        return 2
    store = Store(args.dir)
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
    res = tune(args.dir, criterion=args.criterion, eps=args.eps)
    if res:
        print(f"criterion: {res[0].criterion}")
    for t in res:
        print(t.line())
    return 0


@_one_line_warnings
def _export(args) -> int:
    from .export import export
    paths = export(args.dir, args.out, parquet=True if args.parquet else None)
    for k, p in paths.items():
        print(f"{k}: {p}")
    return 0


@_one_line_warnings
def _plot(args) -> int:
    from .plot import plot_best
    for p in plot_best(args.dir, args.out, metric=args.metric):
        print(p)
    return 0


def register(subparsers) -> None:
    sp = subparsers.add_parser("sweep", help="parameter sweeps: run, status, tune, export, plot")
    sub = sp.add_subparsers(dest="sweep_command", metavar="SUBCOMMAND")
    sp.set_defaults(func=lambda a: (sp.print_help(), 2)[1])

    p = sub.add_parser("run", help="run (or resume) a sweep from a TOML spec")
    p.add_argument("config", help="TOML spec file (see examples/)")
    p.add_argument("--out", required=True, help="results directory (created; resumed if it exists)")
    p.add_argument("--workers", type=int, default=None,
                   help="local worker processes (1 = in this process; default: one per core, "
                        "started only when the sweep is big enough to pay for them); with "
                        "--dask local, the LocalCluster's workers")
    p.add_argument("--dask", default=None, metavar="ADDR|local",
                   help="run on Dask: a scheduler address (tcp://host:8786) or 'local'")
    p.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    p.add_argument("--retry-failed", action="store_true", help="recompute cells that failed before")
    p.add_argument("--fsync", action="store_true",
                   help="fsync every file (survives power loss, not just a killed process)")
    p.set_defaults(func=_run)

    p = sub.add_parser("status", help="done / failed / pending cells of a results directory")
    p.add_argument("dir")
    p.add_argument("-v", "--verbose", action="store_true", help="also list pending cells")
    p.set_defaults(func=_status)

    p = sub.add_parser("tune", help="best lr per (problem, optimizer) with edge flags")
    p.add_argument("dir")
    p.add_argument("--criterion", choices=("median", "ert"), default=None)
    p.add_argument("--eps", type=float, default=None, help="override the spec's eps")
    p.set_defaults(func=_tune)

    p = sub.add_parser("export", help="long / summary / tuning tables as CSV (and Parquet)")
    p.add_argument("dir")
    p.add_argument("--out", default=None, help="output directory (default DIR/export)")
    p.add_argument("--parquet", action="store_true", help="require Parquet output (pandas+pyarrow)")
    p.set_defaults(func=_export)

    p = sub.add_parser("plot", help="curves at the best lr: median and IQR, log y")
    p.add_argument("dir")
    p.add_argument("--out", default=None, help="PNG path (default DIR/plots/best_lr.png)")
    p.add_argument("--metric", choices=("rel_loss", "loss", "grad_norm"), default="rel_loss")
    p.set_defaults(func=_plot)
