"""Where simopt's time goes on a benchmark case, measured (wall clock), not estimated.

Variants of the benchmark's call ``simopt.run(problem, rule, steps, runs=64, seed=0, record_every=10)``,
run interleaved (every repeat times each variant once, in a rotating order), each split into the time
inside the compiled run loop (``simopt.engine._run_tiles``, wrapped with a timer for the measurement
only) and the rest (set-up: arguments, stream seeding, arrays; the ``Result``):

  run              the benchmark's call;
  noise-free       the same problem without noise (noisy cases only);
  no-op rule       the same call with a rule that does nothing (``noop_rule.noop``): everything of a step
                   but the rule's own work;
  record every     record_every = 1;
  record once      record_every = steps (only the final loss).

and the loop's arithmetic pieces timed alone at the engine's tile shape and thread split
(``engine_parts``): the gradient product (simopt's GEMM for dense / block problems) and the gradient with
each run's loss and squared gradient norm (the reductions the loop does at every step), over the
call's ``steps + 1`` evaluations.  The parts of one call (each the median over repeats of a per-repeat
difference of loop times, so a drift in the machine's load hits both sides of it alike):

  outside the loop             total - loop time of ``run``
  noise (draw + add)           loop(run) - loop(noise-free)
  rule step                    loop(run) - loop(no-op rule)
  recording (every 10 steps)   loop(run) - loop(record once)
  gradient product             timed alone (0 for a diagonal problem: there it is one multiply and is
                               counted with the reductions)
  loss / gradient-norm reductions   gradient with reductions alone - product alone
  rest of the loop             loop(run) - all of the above: divergence checks, moving data between
                               the pieces, the calls through the rule's address, the loop itself.

A difference of two noisy times can come out slightly negative: it is reported as measured.  Run as
``python benchmarks/profile_simopt.py [A B C A0 B0] [--repeats N] [--quick]`` for a standalone table.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import bench_cases  # noqa: E402

#: the parts of one call, in the order of the table: key -> label
PARTS = {
    "outside_s": "outside the loop (set-up, Result)",
    "noise_s": "noise (draw + add)",
    "rule_s": "rule step",
    "record_s": f"recording (every {bench_cases.RECORD_EVERY} steps)",
    "gemm_s": "gradient product (GEMM)",
    "reductions_s": "loss / gradient-norm reductions",
    "rest_s": "rest of the loop",
}


class _LoopClock:
    """Wraps ``simopt.engine._run_tiles`` (the engine's call of its compiled loop) with a timer."""

    def __init__(self):
        from simopt import engine
        self.engine = engine
        self.orig = getattr(engine, "_run_tiles", None)
        self.seconds = 0.0

    @property
    def available(self) -> bool:
        return self.orig is not None

    def __enter__(self):
        if self.orig is None:
            return self
        orig = self.orig

        def timed(*a, **kw):
            t0 = time.perf_counter()
            try:
                return orig(*a, **kw)
            finally:
                self.seconds += time.perf_counter() - t0

        self.engine._run_tiles = timed
        return self

    def __exit__(self, *exc):
        if self.orig is not None:
            self.engine._run_tiles = self.orig
        return False


def _variants(case, opt):
    import noop_rule
    problem = bench_cases.build_problem(case)
    data = bench_cases.problem_data(case, problem)
    o = bench_cases.simopt_optimizer(opt, bench_cases.hyperparams(opt, data))
    every = bench_cases.RECORD_EVERY
    v = {"run": (problem, o, every)}
    if case.noisy:
        v["noise-free"] = (problem.with_noise(None), o, every)
    v["no-op rule"] = (problem, noop_rule.noop(1e-3), every)
    v["record every"] = (problem, o, 1)
    v["record once"] = (problem, o, case.steps)
    return v


def profile_case(case, opt: str, repeats: int = 3) -> dict:
    """The variants' times and the parts of the benchmark's call (module docstring) for one case."""
    import engine_parts
    import simopt
    variants = _variants(case, opt)
    runs = bench_cases.RUNS
    out = {"case": case.key, "opt": opt, "repeats": repeats, "variants": {}}
    with _LoopClock() as clock:
        if not clock.available:
            out["note"] = "simopt.engine._run_tiles not found: only total times"
        for p, o, every in variants.values():          # compile / load outside the timing
            simopt.run(p, o, case.steps, runs=runs, seed=bench_cases.SEED, record_every=every)
        tot = {k: [] for k in variants}
        loop = {k: [] for k in variants}
        names = list(variants)
        for rep in range(repeats):
            k = rep % len(names)
            for name in names[k:] + names[:k]:
                p, o, every = variants[name]
                clock.seconds = 0.0
                t0 = time.perf_counter()
                simopt.run(p, o, case.steps, runs=runs, seed=bench_cases.SEED, record_every=every)
                tot[name].append(time.perf_counter() - t0)
                loop[name].append(clock.seconds if clock.available else np.nan)
    for name in names:
        out["variants"][name] = {"total_s": float(np.median(tot[name])), "loop_s": float(np.median(loop[name])),
                                 "total_all": tot[name], "loop_all": loop[name]}

    def diff(a, b):
        return float(np.median(np.subtract(loop[a], loop[b])))

    evals = case.steps + 1
    nb = case.n_blocks if case.kind == "block" else 1
    gemm = 0.0 if case.kind == "diagonal" else engine_parts.piece_seconds(
        "product", case.kind, case.dim, runs, evals, nb, bursts=repeats)
    stats = engine_parts.piece_seconds("stats", case.kind, case.dim, runs, evals, nb, bursts=repeats)
    T, _, ranges = engine_parts.tile_plan(runs, case.kind, case.dim)
    parts = {"outside_s": float(np.median(np.subtract(tot["run"], loop["run"]))),
             "noise_s": diff("run", "noise-free") if case.noisy else 0.0,
             "rule_s": diff("run", "no-op rule"),
             "record_s": diff("run", "record once"),
             "gemm_s": gemm,
             "reductions_s": stats - gemm}
    parts["rest_s"] = out["variants"]["run"]["loop_s"] - sum(v for k, v in parts.items() if k != "outside_s")
    out["parts"] = parts
    out["record_every_step_s"] = diff("record every", "record once")
    out["tile"] = T
    out["threads"] = len(ranges)
    out["total_s"] = out["variants"]["run"]["total_s"]
    return out


def largest_part(p: dict) -> tuple[str, float]:
    """(label, seconds) of the largest part of a profile's call."""
    k = max(p["parts"], key=p["parts"].get)
    return PARTS[k], p["parts"][k]


def format_rows(profiles) -> list[str]:
    """Markdown table: one row per profiled (case, optimizer), the parts as seconds (share of the call)."""
    rows = ["| case | optimizer | tile x threads | total s | loop s | "
            + " | ".join(f"{label} s" for label in PARTS.values()) + " | recording every step s |",
            "|---|---|---|---|---|" + "---|" * len(PARTS) + "---|"]
    for p in profiles:
        tot = p["total_s"]
        cells = [f"{p['parts'][k]:.3f} ({p['parts'][k] / tot:.0%})" for k in PARTS]
        rows.append(f"| {p['case']} | {p['opt']} | {p['tile']} x {p['threads']} | {tot:.3f} | "
                    f"{p['variants']['run']['loop_s']:.3f} | " + " | ".join(cells)
                    + f" | {p['record_every_step_s']:.3f} |")
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("cases", nargs="*", default=list(bench_cases.FULL_CASES),
                    help=f"cases to profile (default all: {' '.join(bench_cases.FULL_CASES)})")
    ap.add_argument("--optimizers", default="sgd,sign,adam", help="comma-separated (default sgd,sign,adam)")
    ap.add_argument("--repeats", type=int, default=3, help="interleaved repeats (default 3)")
    ap.add_argument("--quick", action="store_true", help="the benchmark's tiny quick sizes, one repeat")
    a = ap.parse_args(argv)
    table = bench_cases.QUICK_CASES if a.quick else bench_cases.FULL_CASES
    unknown = [k for k in a.cases if k not in table]
    if unknown:
        ap.error(f"unknown case(s) {', '.join(unknown)}; expected some of {', '.join(table)}")
    repeats = 1 if a.quick else a.repeats
    profs = [profile_case(table[k], opt, repeats) for k in a.cases for opt in a.optimizers.split(",")]
    print("\n".join(format_rows(profs)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
