"""simopt's first-call times, cold (nothing compiled yet) and warm (loaded from the on-disk cache).

Each measurement is a NEW Python process whose ``SIMOPT_CACHE_DIR`` is a private temporary directory
(``NUMBA_CACHE_DIR`` removed from its environment, so simopt's own choice of the Numba cache applies):
first with the directory empty (cold: what a fresh install does), then again with the cache the first
process left (warm: every later start).  Scenarios, each its own pair of processes:

  readme   the example of README.md "The API in brief", executed as written: seconds from starting
           the process to the first result (``res = simopt.run(...)``; interpreter start-up, ``import
           simopt`` and the compile included), then the rest of the example (the ``tune_lr`` after it);
  repro    the first reproduction (``simopt.paper_repro.REPRODUCTIONS[0]``) in quick mode, start to end;
  combos   every (problem kind x noise) combination the benchmark times (its cases at the quick sizes:
           diagonal, dense and block with Gaussian noise, diagonal and dense without) with each of its
           optimizers, each call twice: compile (or cache load) = first call - second call; then one
           user rule, Lion from
           ``examples/user_rules.py``, whose first call on an already compiled loop is the compile of
           the rule's own step.

Each child also counts the "simopt: compiling ... for first use" lines it printed (the engine announces
every compile), and the parent records the CPU seconds each child used (Numba compiles on one thread,
so on a quiet machine a cold process's CPU time is close to its wall time; on a busy one the wall time
mostly measures the neighbours).  ``python benchmarks/bench_compile.py [--scenarios readme,repro,combos]`` prints the
table; ``measure(...)`` returns the numbers (``bench.py`` reports them); ``python bench_compile.py
--child SCENARIO OPTIMIZERS`` is the child and prints one JSON line.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import bench_cases  # noqa: E402  (imports no simopt: the children time that import themselves)

SCENARIOS = ("readme", "repro", "combos")
ANNOUNCE = "simopt: compiling"


def readme_example(readme: str | None = None) -> tuple[str, str]:
    """README.md "The API in brief"'s first Python block, split after the line of its first
    ``simopt.run(`` call: (code up to the first result, the rest)."""
    path = readme or os.path.join(ROOT, "README.md")
    with open(path) as f:
        text = f.read()
    section = text.split("## The API in brief", 1)[1].split("\n## ", 1)[0]
    block = re.findall(r"```python\n(.*?)```", section, re.S)[0]
    lines = block.splitlines(keepends=True)
    cut = next(i for i, line in enumerate(lines) if "simopt.run(" in line) + 1
    return "".join(lines[:cut]), "".join(lines[cut:])


def _child_readme(t_spawn: float) -> dict:
    t0 = time.perf_counter()
    import simopt  # noqa: F401
    t_import = time.perf_counter() - t0
    head, rest = readme_example()
    env: dict = {}
    t1 = time.perf_counter()
    exec(compile(head, "README.md", "exec"), env)
    t2 = time.perf_counter()
    first_result = time.time() - t_spawn
    exec(compile(rest, "README.md", "exec"), env)
    t3 = time.perf_counter()
    return {"import_s": t_import, "first_run_s": t2 - t1, "first_result_s": first_result,
            "rest_s": t3 - t2}


def _child_repro(t_spawn: float) -> dict:
    t0 = time.perf_counter()
    import importlib
    import simopt  # noqa: F401
    from simopt.paper_repro import REPRODUCTIONS
    t_import = time.perf_counter() - t0
    name = REPRODUCTIONS[0]
    mod = importlib.import_module(f"simopt.paper_repro.{name}")
    with tempfile.TemporaryDirectory(prefix="simopt-repro-") as out:
        t1 = time.perf_counter()
        code = mod.main(["--quick", "--out", out])
        t2 = time.perf_counter()
    return {"import_s": t_import, "name": name, "exit_code": code, "run_s": t2 - t1,
            "process_to_end_s": time.time() - t_spawn}


def _first_minus_second(simopt, problem, make, steps: int, runs: int) -> float:
    t0 = time.perf_counter()
    simopt.run(problem, make(), steps, runs=runs, seed=0, record_every=bench_cases.RECORD_EVERY)
    t1 = time.perf_counter()
    simopt.run(problem, make(), steps, runs=runs, seed=0, record_every=bench_cases.RECORD_EVERY)
    t2 = time.perf_counter()
    return max(0.0, (t1 - t0) - (t2 - t1))


def _child_combos(t_spawn: float, optimizers) -> dict:
    t0 = time.perf_counter()
    import simopt
    t_import = time.perf_counter() - t0
    calls = {}
    for case in bench_cases.QUICK_CASES.values():      # the benchmark's problems at tiny sizes
        p = bench_cases.build_problem(case)
        data = bench_cases.problem_data(case, p)
        for name in optimizers:
            hp = bench_cases.hyperparams(name, data)
            calls[f"{case.kind}/{'gaussian' if case.noisy else 'none'}/{name}"] = _first_minus_second(
                simopt, p, lambda n=name, h=hp: bench_cases.simopt_optimizer(n, h), case.steps, bench_cases.RUNS)
    sys.path.insert(0, os.path.join(ROOT, "examples"))   # as its docstring says: that folder on the path
    import user_rules                                       # importable by name: its glue is cached on disk
    a = bench_cases.QUICK_CASES["A"]
    lion = _first_minus_second(simopt, bench_cases.build_problem(a), lambda: user_rules.lion(1e-3), a.steps,
                               bench_cases.RUNS)
    return {"import_s": t_import, "calls": calls, "combos_s": sum(calls.values()), "lion_s": lion,
            "process_to_end_s": time.time() - t_spawn}


def _child(scenario: str, optimizers, t_spawn: float) -> dict:
    if scenario == "readme":
        return _child_readme(t_spawn)
    if scenario == "repro":
        return _child_repro(t_spawn)
    if scenario == "combos":
        return _child_combos(t_spawn, optimizers)
    raise ValueError(f"scenario: expected one of {SCENARIOS}, got {scenario!r}")


def _spawn(scenario: str, cache_dir: str, optimizers, timeout: float) -> dict:
    env = dict(os.environ, SIMOPT_CACHE_DIR=cache_dir)
    env.pop("NUMBA_CACHE_DIR", None)
    t_spawn = time.time()
    cmd = [sys.executable, os.path.abspath(__file__), "--child", scenario, ",".join(optimizers), repr(t_spawn)]
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout, cwd=cache_dir)
    wall = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(f"compile-time child {scenario} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    res["process_wall_s"] = wall
    res["process_cpu_s"] = (r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime)
    res["announcements"] = [line for line in proc.stderr.splitlines() if line.startswith(ANNOUNCE)]
    return res


def measure(optimizers=("sgd", "sign", "adam"), scenarios=SCENARIOS, timeout: float = 1800.0,
            log=None) -> dict:
    """{scenario: {"cold": ..., "warm": ...}}: each a new process on a fresh cache, then one on that
    cache (module docstring)."""
    bad = [s for s in scenarios if s not in SCENARIOS]
    if bad:
        raise ValueError(f"scenarios: unknown {bad}; expected a subset of {SCENARIOS}")
    out = {}
    for s in scenarios:
        with tempfile.TemporaryDirectory(prefix="simopt-cache-") as d:
            if log:
                log(f"[bench] compile time: {s}, cold ...")
            cold = _spawn(s, d, optimizers, timeout)
            if log:
                log(f"[bench] compile time: {s}, warm ...")
            warm = _spawn(s, d, optimizers, timeout)
        out[s] = {"cold": cold, "warm": warm}
    return out


def rows(res: dict) -> list[str]:
    """Markdown table of ``measure``'s result: one row per measured figure, cold and warm; on each
    scenario's first row, what its processes printed and the CPU time they used (on a busy machine the
    CPU seconds say more than the wall clock)."""
    L = ["| first call | cold (empty cache) s | warm (cache from the cold process) s | "
         "cold process: compile messages, CPU s | warm process: compile messages, CPU s |",
         "|---|---|---|---|---|"]
    shown = set()

    def row(label, key, scen):
        c, w = res[scen]["cold"], res[scen]["warm"]
        proc = ["", ""]
        if scen not in shown:
            shown.add(scen)
            proc = [f"{len(r['announcements'])}, {r['process_cpu_s']:.1f}" if "process_cpu_s" in r
                    else f"{len(r['announcements'])}" for r in (c, w)]
        L.append(f"| {label} | {c[key]:.2f} | {w[key]:.2f} | {proc[0]} | {proc[1]} |")

    if "readme" in res:
        row("`import simopt`", "import_s", "readme")
        row("README example: process start to the first result (`res = simopt.run(...)`)",
            "first_result_s", "readme")
        row("README example: the rest after it (`tune_lr`)", "rest_s", "readme")
    if "repro" in res:
        name = res["repro"]["cold"]["name"]
        row(f"first reproduction (`simopt repro {name} --quick`), process start to end", "process_to_end_s", "repro")
    if "combos" in res:
        n = len(res["combos"]["cold"]["calls"])
        row(f"the benchmark's {n} (kind x noise x optimizer) combinations, compile = first - second call, "
            "summed", "combos_s", "combos")
        row("a user rule (Lion, `examples/user_rules.py`) on a compiled loop: first - second call",
            "lion_s", "combos")
    return L


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenarios", default=",".join(SCENARIOS), help=f"comma-separated subset of {SCENARIOS}")
    ap.add_argument("--optimizers", default="sgd,sign,adam", help="the combinations' optimizers")
    a = ap.parse_args(argv)
    res = measure(a.optimizers.split(","), tuple(a.scenarios.split(",")),
                  log=lambda s: print(s, file=sys.stderr, flush=True))
    print("\n".join(rows(res)))
    return 0


if __name__ == "__main__":
    if len(sys.argv) >= 5 and sys.argv[1] == "--child":
        print(json.dumps(_child(sys.argv[2], sys.argv[3].split(","), float(sys.argv[4]))))
    else:
        sys.exit(main())
