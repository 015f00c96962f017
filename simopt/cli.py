"""The ``simopt`` command line: run the papers' reproductions, check the theory's bounds, run and
analyse parameter sweeps, and time the engine.

Each verb lives with the code it drives (``simopt.demo``, ``simopt.theory.cli``, ``simopt.sweep.cli``,
``simopt.repro_cli``, ``simopt.bench_cli``); each of those modules has a ``register(subparsers)``
that adds its sub-commands with ``func=handler(args)``.

Errors.  A mistake in how the command is used -- a bad option value, a directory that is not a sweep
store, an unwritable output path, a full disk, a damaged store file, an unreachable Dask scheduler --
prints one line ``simopt: error: ...`` to stderr and exits with status 2.  Those are
:class:`CLIError` (raised by the verbs), the library's own input errors (``ValueError``
naming the argument, :class:`simopt.sweep.SpecError`, :class:`simopt.sweep.StoreError`),
``OSError`` and a missing optional dependency (:class:`MissingExtra`).  Anything else (a
``TypeError`` included: the command line hands the library only values it parsed) is a bug in simopt
and is shown with its traceback.  ``SIMOPT_DEBUG=1`` shows the traceback of every error.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys

from ._extras import MissingExtra

#: the modules that add verbs, in the order ``simopt --help`` lists them
_VERB_MODULES = (
    "simopt.demo",           # simopt demo
    "simopt.theory.cli",     # simopt bounds ...
    "simopt.sweep.cli",      # simopt sweep run|status|tune|export|plot
    "simopt.repro_cli",      # simopt repro list|NAME|all|gallery
    "simopt.bench_cli",      # simopt bench
)

#: exit status of a misuse (argparse's own convention)
USAGE_ERROR = 2

DEBUG_ENV = "SIMOPT_DEBUG"

DOCS_HINT = ("Documentation: the docs/ folder of the source repository (pip install '.[docs]' && "
             "sphinx-build -b html docs docs/_build/html); `simopt COMMAND --help` for each command.")


class CLIError(Exception):
    """A misuse of the command line; its message is printed as ``simopt: error: <message>``."""


class HelpFormatter(argparse.HelpFormatter):
    """Wraps each paragraph of a description or epilog on its own (lines that start with a space are
    kept as they are), and appends ``(default: X)`` to an option's help when it has a default worth
    stating (not ``None``, not ``False`` of a flag)."""

    def _fill_text(self, text, width, indent):
        import textwrap
        out = []
        for para in text.split("\n\n"):
            lines = para.split("\n")
            if any(line.startswith(" ") for line in lines):
                out.append("\n".join(indent + line for line in lines))
            else:
                out.append(textwrap.fill(" ".join(para.split()), width, initial_indent=indent,
                                         subsequent_indent=indent))
        return "\n\n".join(out)

    def _get_help_string(self, action):
        text = action.help or ""
        d = action.default
        if ("%(default)" in text or "default" in text.lower() or d is None or d is False
                or d is argparse.SUPPRESS or isinstance(action, argparse._HelpAction)):
            return text
        if isinstance(d, (tuple, list)):
            shown = ",".join(map(str, d))
            return f"{text} (default: {shown})"
        return text + " (default: %(default)s)"


class Parser(argparse.ArgumentParser):
    """``argparse.ArgumentParser`` with :class:`HelpFormatter` and a one-line usage error:
    ``simopt: error: <command>: <message> (see '<command> --help')``, exit status 2."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message):
        """Print the usage error as one line on stderr and exit with status 2."""
        cmd = self.prog
        where = cmd[len("simopt "):] + ": " if cmd.startswith("simopt ") else ""
        self.exit(USAGE_ERROR, f"simopt: error: {where}{message} (see '{cmd} --help')\n")


def _info(args) -> int:
    import numba
    import numpy
    import scipy

    import simopt
    from simopt._cache import cache_root
    print(f"simopt  {simopt.__version__}  ({os.path.dirname(simopt.__file__)})")
    print(f"python  {sys.version.split()[0]}")
    print(f"numpy   {numpy.__version__}")
    print(f"scipy   {scipy.__version__}")
    print(f"numba   {numba.__version__}")
    print(f"threads {numba.config.NUMBA_NUM_THREADS} (numba), {os.cpu_count()} cpus")
    cache = numba.config.CACHE_DIR or "(next to the package sources, __pycache__/)"
    print(f"numba cache dir {cache}")
    print(f"simopt cache    {cache_root()}")
    try:
        from threadpoolctl import threadpool_info
        for lib in threadpool_info():
            if lib.get("user_api") == "blas":
                print(f"blas    {lib.get('internal_api')} {lib.get('version')} "
                      f"kernel={lib.get('architecture')} threads={lib.get('num_threads')}")
    except ImportError:
        pass
    from ._provenance import machine_type
    mt = machine_type()
    print("machine type (results are bit-identical between machines where all of these agree):")
    print(f"  cpu          {mt['cpu_model']} ({mt['machine']})")
    print(f"  blas kernel  {'; '.join(mt['blas'])}")
    print(f"  numba target {mt['numba_cpu_name']} "
          f"({len(mt['numba_cpu_features'].split(',')) if mt['numba_cpu_features'] else 0} "
          f"features)")
    print(f"  numpy simd   {' '.join(mt['numpy_simd']) or '(baseline only)'}")
    print(f"  portable     {'on (SIMOPT_PORTABLE)' if mt['portable'] else 'off'}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The ``simopt`` parser with every verb of the installed build."""
    parser = Parser(
        prog="simopt",
        description="Controlled optimization experiments on synthetic quadratics: reproduce the "
                    "papers' claims, check the theory's bounds against the engine, run and analyse "
                    "parameter sweeps.",
        epilog="Misuse prints one line 'simopt: error: ...' and exits 2; set SIMOPT_DEBUG=1 for a "
               "traceback.\n\n" + DOCS_HINT)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    p = sub.add_parser("info", help="print versions, threads, BLAS, the cache directories and the "
                                    "machine type results depend on",
                       description="Print the versions of simopt and its numerical stack, the thread "
                                   "counts, the BLAS library and where compiled kernels are cached "
                                   "(SIMOPT_CACHE_DIR, or NUMBA_CACHE_DIR if set).")
    p.set_defaults(func=_info)
    for mod in _VERB_MODULES:
        try:
            m = importlib.import_module(mod)
        except ModuleNotFoundError as e:
            if e.name == mod:
                continue  # verb group not present in this build
            raise
        m.register(sub)
    return parser


def _user_errors() -> tuple:
    from .sweep.spec import SpecError
    from .sweep.store import StoreError
    return (CLIError, SpecError, StoreError, MissingExtra, OSError, ValueError)


def error_line(exc: BaseException) -> str:
    """The one line printed for a user-facing error."""
    if isinstance(exc, OSError) and exc.strerror:
        names = [n for n in (exc.filename, exc.filename2) if n]
        msg = exc.strerror + (": " + " -> ".join(map(str, names)) if names else "")
        if not names and str(exc) != f"[Errno {exc.errno}] {exc.strerror}":
            msg = str(exc)
    else:
        msg = str(exc) or type(exc).__name__
    msg = " ".join(msg.split())  # one line, whatever the message
    return f"simopt: error: {msg}"


def main(argv=None) -> int:
    """Run ``simopt ARGV``; returns the exit status (0 ok, 1 a claim or check failed, 2 misuse)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return USAGE_ERROR
    if os.environ.get(DEBUG_ENV, "") not in ("", "0"):
        return int(args.func(args) or 0)
    try:
        return int(args.func(args) or 0)
    except _user_errors() as e:
        print(error_line(e), file=sys.stderr)
        return USAGE_ERROR


if __name__ == "__main__":  # pragma: no cover  (python -m simopt.cli: the package's own classes)
    from simopt.cli import main as _main
    sys.exit(_main())
