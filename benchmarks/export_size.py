"""Export of a 114-cell sweep: time and size of ``simopt.sweep.export`` (reported, not asserted).

Sweep: ``examples/sweep_small.toml`` (2 problems x 19 optimizer points x 3 seeds = 114 cells)
scaled to 16 runs x 2000 steps recorded every 5 steps: 731,184 (cell, run, step) records, the size
of the sweep whose full ``long.csv`` was 175 MB.

Timed in one process, interleaved, medians over ``--repeats``:

* default: ``export(dir)``: the long and best-lr tables on the log-spaced step grid (10 records per
  decade), summary, tuning; CSV, and Parquet when pandas and pyarrow are installed;
* csv: the same with ``parquet=False``;
* all: ``export(dir, steps="all")``: every record (the reference: what a full export costs).

Reported: wall seconds and total bytes of each, the rows of the long table, and the ratios to the
full export.  Usage:
    python benchmarks/export_size.py [--repeats R] [--dir SWEEP_DIR] [--json PATH]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import tempfile
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _spec():
    with open(ROOT / "examples" / "sweep_small.toml", "rb") as f:
        spec = tomllib.load(f)
    spec.update(steps=2000, runs=16, record_every=5)
    return spec


def _size(paths) -> int:
    return sum(os.path.getsize(p) for p in paths.values())


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--dir", default=None, help="reuse (or create) the sweep in this directory")
    ap.add_argument("--json", default=None)
    a = ap.parse_args(argv)
    from simopt.sweep import export, run_sweep
    from simopt.sweep.export import parquet_available

    tmp = tempfile.mkdtemp(prefix="simopt-export-")
    sweep_dir = a.dir or os.path.join(tmp, "sweep")
    t = time.perf_counter()
    rep = run_sweep(_spec(), sweep_dir, quiet=True)
    print(f"sweep: {rep.total} cells in {time.perf_counter() - t:.1f} s ({sweep_dir})")
    variants = {"default": {}, "csv": {"parquet": False}, "all": {"steps": "all"}}
    times = {k: [] for k in variants}
    sizes = {}
    for r in range(a.repeats):
        for name, kw in variants.items():
            out = os.path.join(tmp, f"export_{name}")
            shutil.rmtree(out, ignore_errors=True)
            t = time.perf_counter()
            paths = export(sweep_dir, out, **kw)
            times[name].append(time.perf_counter() - t)
            sizes[name] = _size(paths)
            if name in ("default", "all"):
                with open(paths["long"]) as f:
                    sizes[name + "_long_rows"] = sum(1 for _ in f) - 1
    res = {"parquet": parquet_available(), "repeats": a.repeats}
    for name in variants:
        med = statistics.median(times[name])
        res[name] = {"seconds_median": med, "bytes": sizes[name]}
        print(f"{name:8s} {med:6.2f} s  {sizes[name] / 1e6:7.1f} MB  "
              f"({med / statistics.median(times['all']):.2f}x the time, "
              f"{sizes[name] / sizes['all']:.3f}x the bytes of the full export)")
    print(f"long.csv rows: {sizes['default_long_rows']} (default) vs {sizes['all_long_rows']} (all)")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=1)
    if a.dir is None:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
