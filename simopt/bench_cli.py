"""``simopt bench``: time simopt's engine against plain NumPy, PyTorch and JAX on the benchmark cases.

The benchmark itself lives in the source tree's ``benchmarks/`` directory (it is not part of the
installed package, so the peers' frameworks never become simopt dependencies); this verb finds
``benchmarks/bench.py`` next to the package (a source checkout or an editable install), or at
``--script``, and runs it with the flags below.  The flags are defined here, once, and the script
reuses them when it is run directly as ``python benchmarks/bench.py``.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import sys
from pathlib import Path

CASES = ("A", "B", "C", "A0", "B0")
OPTIMIZERS = ("sgd", "sign", "adam")
FRAMEWORKS = ("simopt", "numpy", "torch", "jax")

SCRIPT_ENV = "SIMOPT_BENCH_SCRIPT"


def _csv_choice(allowed, what):
    def parse(text: str):
        items = [s.strip() for s in text.split(",") if s.strip()]
        if not items:
            raise argparse.ArgumentTypeError(f"{what}: expected a comma-separated list of {allowed}")
        bad = [s for s in items if s not in allowed]
        if bad:
            raise argparse.ArgumentTypeError(
                f"{what}: unknown {bad}; expected a comma-separated subset of {list(allowed)}")
        return tuple(dict.fromkeys(items))  # keep order, drop repeats
    return parse


def _positive_int(what):
    def parse(text: str):
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{what}: expected a positive integer, got {text!r}")
        if v < 1:
            raise argparse.ArgumentTypeError(f"{what}: expected a positive integer, got {v}")
        return v
    return parse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The benchmark's flags (shared by ``simopt bench`` and ``python benchmarks/bench.py``)."""
    parser.add_argument("--quick", action="store_true",
                        help="tiny sizes and one repeat: a seconds-long smoke run (numbers meaningless)")
    parser.add_argument("--repeats", type=_positive_int("--repeats"), default=None,
                        help="timed repeats per (case, optimizer, framework); default 3 (1 with --quick)")
    parser.add_argument("--cases", type=_csv_choice(CASES, "--cases"), default=CASES,
                        help="comma-separated subset of A,B,C,A0,B0 (A0/B0 = A/B noise-free); default all")
    parser.add_argument("--optimizers", type=_csv_choice(OPTIMIZERS, "--optimizers"), default=OPTIMIZERS,
                        help="comma-separated subset of sgd,sign,adam; default all")
    parser.add_argument("--frameworks", type=_csv_choice(FRAMEWORKS, "--frameworks"), default=FRAMEWORKS,
                        help="comma-separated subset of simopt,numpy,torch,jax; missing ones are skipped")
    parser.add_argument("--output", default=None, metavar="PATH",
                        help="write the Markdown report here (default: benchmarks/RESULTS.md for a full "
                             "run, nothing for --quick); '-' for stdout only")
    parser.add_argument("--json", default=None, metavar="PATH", help="also write all raw numbers as JSON")
    parser.add_argument("--no-compile-time", action="store_true",
                        help="skip the cold/warm Numba compile-time measurement (new processes)")
    parser.add_argument("--no-limits", action="store_true",
                        help="skip measuring GEMM and normal-RNG throughput (no floor column)")
    parser.add_argument("--no-profile", action="store_true",
                        help="skip the breakdown of simopt's time (noise drawing / kernel / GEMM)")
    parser.add_argument("--script", default=None, metavar="PATH",
                        help=f"path of benchmarks/bench.py (default: found next to the package, or ${SCRIPT_ENV})")


def find_script(explicit: str | None = None) -> Path:
    """Locate ``benchmarks/bench.py``: ``explicit``, then ``$SIMOPT_BENCH_SCRIPT``, then the source tree
    that holds this package, then ``./benchmarks``.  Raises FileNotFoundError naming what was tried."""
    tried = []
    candidates = []
    if explicit:
        candidates.append(Path(explicit))
    elif os.environ.get(SCRIPT_ENV):
        candidates.append(Path(os.environ[SCRIPT_ENV]))
    else:
        candidates.append(Path(__file__).resolve().parent.parent / "benchmarks" / "bench.py")
        candidates.append(Path.cwd() / "benchmarks" / "bench.py")
    for c in candidates:
        tried.append(str(c))
        if c.is_file():
            return c
    raise FileNotFoundError(
        "simopt bench: the benchmark script benchmarks/bench.py is not installed with the package; "
        "run from a source checkout (or an editable install), or pass --script PATH. Tried: "
        + ", ".join(tried))


def load_script(path: Path):
    spec = importlib.util.spec_from_file_location("simopt_benchmarks_bench", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _handler(args) -> int:
    try:
        path = find_script(args.script)
    except FileNotFoundError as e:
        from .cli import CLIError
        raise CLIError(str(e).removeprefix("simopt bench: ")) from None
    module = load_script(path)
    return int(module.run_from_args(args, prog="simopt bench") or 0)


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "bench", help="time simopt against plain NumPy, PyTorch and JAX and this machine's limits",
        description="Time simopt's engine against plain NumPy, PyTorch and JAX on the benchmark "
                    "cases, next to this machine's GEMM and normal-RNG limits; writes a Markdown report.  "
                    "Needs a source checkout (the benchmark script is not installed) and, for the "
                    "peers, torch and jax.")
    add_arguments(p)
    p.set_defaults(func=_handler)
