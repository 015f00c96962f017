"""One framework's worker process.

Every framework (simopt, numpy, torch, jax) runs in its own long-lived process, so no framework's
thread pool (OpenBLAS, OpenMP, Numba, XLA's Eigen pool) sits beside another's; the parent sends one
timed call at a time, so only one framework is ever busy.  The protocol is pickled dicts over
stdin/stdout:

  {"op": "info"}                                    -> {"ok": bool, "detail": str}
  {"op": "run", "case": Case, "opt": str, "runs", "seed", "record_every"}
                                                    -> {"seconds", "cpu_seconds", "loss", ...}
  {"op": "profile", "case": Case, "opt": str, "repeats": int}   (simopt only)
                                                    -> profile_simopt.profile_case(...)
  {"op": "quit"}
"""
from __future__ import annotations

import importlib
import os
import pickle
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import bench_cases  # noqa: E402


class SimoptRunner:
    NAME = "simopt"

    def available(self):
        try:
            import simopt
            simopt.run  # noqa: B018 - the engine must be there, not only the problems
        except (ImportError, AttributeError) as e:
            return False, f"simopt engine not importable ({e})"
        import numba
        return True, (f"simopt {simopt.__version__} (numba {numba.__version__}, "
                      f"{numba.config.NUMBA_NUM_THREADS} threads, layer "
                      f"{getattr(numba.config, 'THREADING_LAYER', '?')})")

    def run(self, problem, data, opt, hp, steps, runs, seed, record_every):
        import simopt
        o = bench_cases.simopt_optimizer(opt, hp)
        res = simopt.run(problem, o, steps, runs=runs, seed=seed, record_every=record_every)
        return res.loss


class PeerRunner:
    def __init__(self, module_name):
        self.mod = importlib.import_module(module_name)
        self.NAME = self.mod.NAME

    def available(self):
        return self.mod.available()

    def run(self, problem, data, opt, hp, steps, runs, seed, record_every):
        return self.mod.run(data, opt, hp, steps, runs, seed, record_every)


def make_runner(framework):
    if framework == "simopt":
        return SimoptRunner()
    return PeerRunner(f"peer_{framework}")


def main(framework: str) -> None:
    out = sys.stdout.buffer
    inp = sys.stdin.buffer
    sys.stdout = sys.stderr  # nothing but replies may reach the pipe
    try:
        runner = make_runner(framework)
    except ImportError as e:  # a peer module whose framework import fails loudly
        runner = None
        reason = f"{framework}: {e}"
    problems = {}
    while True:
        try:
            req = pickle.load(inp)
        except EOFError:
            return
        try:
            if req["op"] == "quit":
                return
            if req["op"] == "info":
                ok, detail = runner.available() if runner else (False, reason)
                reply = {"ok": ok, "detail": detail}
            elif req["op"] == "run":
                case = req["case"]
                if case not in problems:
                    problem = bench_cases.build_problem(case)
                    problems[case] = (problem, bench_cases.problem_data(case, problem))
                problem, data = problems[case]
                hp = bench_cases.hyperparams(req["opt"], data)
                extra = {}
                if framework == "jax":
                    before = dict(runner.mod.COMPILE_SECONDS)
                c0 = time.process_time()
                t0 = time.perf_counter()
                loss = runner.run(problem, data, req["opt"], hp, case.steps, req["runs"], req["seed"],
                                  req["record_every"])
                t1 = time.perf_counter()
                c1 = time.process_time()
                if framework == "jax":
                    new = {k: v for k, v in runner.mod.COMPILE_SECONDS.items() if k not in before}
                    extra["compile_seconds"] = sum(new.values())
                if framework == "torch":
                    extra["threads"] = runner.mod.THREADS.get(
                        (data.kind, data.dim, data.sigma > 0, req["opt"]))
                reply = {"seconds": t1 - t0, "cpu_seconds": c1 - c0, "loss": loss,
                         "load": os.getloadavg()[0], **extra}
            elif req["op"] == "profile":
                import profile_simopt
                reply = profile_simopt.profile_case(req["case"], req["opt"], repeats=req["repeats"])
            else:
                reply = {"error": f"unknown op {req['op']!r}"}
        except Exception:  # report, keep serving
            reply = {"error": traceback.format_exc()}
        pickle.dump(reply, out)
        out.flush()


if __name__ == "__main__":
    main(sys.argv[1])
