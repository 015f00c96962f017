"""``simopt`` command line.  Each sub-package owns its verbs: a module listed in ``_VERB_MODULES``
exposes ``register(subparsers)`` which adds its sub-commands (each with ``func=handler(args)``)."""
from __future__ import annotations

import argparse
import importlib
import os
import sys

_VERB_MODULES = (
    "simopt.demo",           # simopt demo
    "simopt.theory.cli",     # simopt bounds ...
    "simopt.sweep.cli",      # simopt sweep run|status|export|plot
    "simopt.repro_cli",      # simopt repro list|NAME|all
    "simopt.bench_cli",      # simopt bench
)


def _info(args) -> int:
    import numba
    import numpy
    import scipy

    import simopt
    print(f"simopt  {simopt.__version__}")
    print(f"python  {sys.version.split()[0]}")
    print(f"numpy   {numpy.__version__}")
    print(f"scipy   {scipy.__version__}")
    print(f"numba   {numba.__version__}")
    print(f"threads {numba.config.NUMBA_NUM_THREADS} (numba), {os.cpu_count()} cpus")
    cache = numba.config.CACHE_DIR or "(next to the package sources, __pycache__/)"
    print(f"numba cache dir {cache}")
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
    parser = argparse.ArgumentParser(prog="simopt", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    p = sub.add_parser("info", help="print versions, threads, the Numba cache directory and the "
                                    "machine type results depend on")
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


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    return int(args.func(args) or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
