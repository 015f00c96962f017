"""simopt against plain NumPy, PyTorch and JAX, and against this machine's limits, in one run.

Cases (float64, 64 runs batched, loss recorded every 10 steps; SGD, sign descent and Adam), with the
targets of simopt's 0.2.0 engine (``bench_cases.TARGETS``, ``A0_UPDATES_TARGETS``):
  A  diagonal d=1000, 2000 steps, isotropic Gaussian noise     (simopt <= 0.30x the best peer's time)
  B  dense Haar-rotated d=500, 1000 steps, noisy               (<= 0.80x)
  C  10 blocks of 100, block-rotated, 1000 steps, noisy        (<= 0.40x)
  A0, B0  A and B noise-free                                   (A0 >= 6 G coordinate updates/s with SGD,
                                                                >= 3 G with Adam)
and the first result of the README example <= 10 s from a cold start (``bench_compile``).

Every framework runs in its own worker process (bench_worker.py); calls are interleaved across the
frameworks, repeat by repeat, so slow drifts in the machine's load hit all of them alike.  One
untimed call per (case, optimizer, framework) comes first (compilation, caches) and its loss curves
are compared across frameworks: noise-free runs must agree to rounding, noisy runs in distribution.
Then the machine's limits (``bench_limits``: GEMM, normal generators, the implied floor of each case),
where simopt's time goes (``profile_simopt``), the cold / warm first-call times (``bench_compile``,
new processes) and simopt against its 0.1.0 numbers (``BASELINE_0.1.0.json``, another day: indicative).

Usage:  python benchmarks/bench.py [--quick] [--repeats N] [--cases A,B] ...   (or: simopt bench ...)
"""
from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import pickle
import platform
import shlex
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import bench_cases  # noqa: E402
import bench_limits  # noqa: E402
from bench_cases import A0_UPDATES_TARGETS, README_FIRST_RESULT_TARGET_S, RECORD_EVERY, RUNS, SEED  # noqa: E402

#: simopt 0.1.0's numbers (its ``RESULTS.json``), the "before the redesign" column of the report
BASELINE = os.path.join(HERE, "BASELINE_0.1.0.json")

PEERS = ("numpy", "torch", "jax")


# ---- workers -----------------------------------------------------------------------------------
class Worker:
    def __init__(self, framework: str, quick: bool = False):
        self.framework = framework
        env = dict(os.environ)
        if quick and framework == "jax":  # quick numbers mean nothing: spend less time compiling
            env["XLA_FLAGS"] = (env.get("XLA_FLAGS", "") + " --xla_backend_optimization_level=0").strip()
        if quick and framework == "torch":  # nor on trying thread counts (2 threads spin on a busy machine)
            env["SIMOPT_BENCH_TORCH_THREADS"] = "1"
        self.proc = subprocess.Popen([sys.executable, os.path.join(HERE, "bench_worker.py"), framework],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)

    def call(self, req: dict) -> dict:
        pickle.dump(req, self.proc.stdin)
        self.proc.stdin.flush()
        try:
            return pickle.load(self.proc.stdout)
        except EOFError:
            raise RuntimeError(f"{self.framework} worker died (exit code {self.proc.wait()})")

    def quit(self):
        """Ask the worker to exit (without waiting for it)."""
        if self.proc.stdin.closed:
            return
        try:
            pickle.dump({"op": "quit"}, self.proc.stdin)
            self.proc.stdin.close()
        except (BrokenPipeError, OSError):
            pass

    def close(self):
        self.quit()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:  # pragma: no cover
            self.proc.kill()


# ---- machine -----------------------------------------------------------------------------------
def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_info() -> dict:
    info = {"cpu": cpu_model(), "cores": bench_limits.n_cores(), "logical_cpus": os.cpu_count(),
            "python": platform.python_version(), "numpy": np.__version__,
            "blas": bench_limits.blas_info(), "platform": platform.platform()}
    try:
        import numba
        info["numba"] = numba.__version__
    except ImportError:  # pragma: no cover
        pass
    try:
        with open("/proc/meminfo") as f:
            info["memory"] = f.readline().split(":", 1)[1].strip()
    except OSError:
        pass
    return info


# ---- statistics --------------------------------------------------------------------------------
def summary(ts):
    ts = np.asarray(ts, dtype=float)
    return {"median": float(np.median(ts)), "min": float(ts.min()), "max": float(ts.max()),
            "all": ts.tolist()}


def agreement(case, ref_loss: np.ndarray, loss: np.ndarray) -> dict:
    """How a peer's loss curves compare with simopt's on the same problem.

    noise-free: the trajectories are the same sequence of floating-point operations up to summation
    order, so the maximum relative difference over runs and records must be at rounding level (sign
    descent can differ a little more once a coordinate's gradient is at rounding level and its sign
    flips).  noisy: different random streams, so compare the mean final loss over runs (relative
    difference, and its size in standard errors of the difference)."""
    ref_loss = np.asarray(ref_loss, dtype=float)
    loss = np.asarray(loss, dtype=float)
    if ref_loss.shape != loss.shape:
        return {"shape_mismatch": [list(ref_loss.shape), list(loss.shape)]}
    if not case.noisy:
        scale = np.maximum(np.abs(ref_loss), np.abs(ref_loss[:, :1]) * 1e-12)
        return {"max_rel_diff": float(np.max(np.abs(loss - ref_loss) / scale))}
    a, b = ref_loss[:, -1], loss[:, -1]
    se = np.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b)) if len(a) > 1 else np.nan
    return {"mean_final_ref": float(a.mean()), "mean_final": float(b.mean()),
            "rel_diff": float(abs(b.mean() - a.mean()) / abs(a.mean())),
            "z": float(abs(b.mean() - a.mean()) / se) if se > 0 else 0.0}


# ---- the run -----------------------------------------------------------------------------------
def command_line(args, prog: str) -> str:
    parts = shlex.split(prog)
    if args.quick:
        parts.append("--quick")
    if args.repeats is not None:
        parts += ["--repeats", str(args.repeats)]
    from simopt.bench_cli import CASES, FRAMEWORKS, OPTIMIZERS
    if tuple(args.cases) != CASES:
        parts += ["--cases", ",".join(args.cases)]
    if tuple(args.optimizers) != OPTIMIZERS:
        parts += ["--optimizers", ",".join(args.optimizers)]
    if tuple(args.frameworks) != FRAMEWORKS:
        parts += ["--frameworks", ",".join(args.frameworks)]
    if args.output is not None:
        parts += ["--output", args.output]
    if args.json is not None:
        parts += ["--json", args.json]
    if args.no_compile_time:
        parts.append("--no-compile-time")
    if args.no_limits:
        parts.append("--no-limits")
    if args.no_profile:
        parts.append("--no-profile")
    return " ".join(shlex.quote(p) for p in parts)


def run_benchmark(args, log=print) -> dict:
    quick = bool(args.quick)
    repeats = args.repeats or (1 if quick else 3)
    table = bench_cases.QUICK_CASES if quick else bench_cases.FULL_CASES
    cases = [table[k] for k in args.cases]
    optimizers = list(args.optimizers)
    started = time.time()
    out = {"quick": quick, "repeats": repeats, "runs": RUNS, "record_every": RECORD_EVERY, "seed": SEED,
           "date": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
           "machine": machine_info(), "load_before": list(os.getloadavg()),
           "cases": {c.key: {"title": c.title, "kind": c.kind, "dim": c.dim, "steps": c.steps,
                             "noisy": c.noisy, "samples": c.samples, "gemm_flops": c.gemm_flops,
                             "coordinate_updates": c.coordinate_updates, "target": c.target}
                     for c in cases},
           "frameworks": {}, "skipped": {}, "times": {}, "agreement": {}, "jax_compile_s": {},
           "cpu_over_wall": {}, "load_during": []}

    workers = {}
    started_workers = [Worker(fw, quick) for fw in args.frameworks]  # start together: imports overlap
    for w in started_workers:
        fw = w.framework
        info = w.call({"op": "info"})
        if info.get("ok"):
            workers[fw] = w
            out["frameworks"][fw] = info["detail"]
            log(f"[bench] {fw}: {info['detail']}")
        else:
            out["skipped"][fw] = info.get("detail") or info.get("error", "unavailable")
            log(f"[bench] skipping {fw}: {out['skipped'][fw]}")
            w.close()
    try:
        if not args.no_limits:
            log("[bench] measuring GEMM and normal-RNG limits ...")
            out["limits"] = bench_limits.measure(cases, RUNS, quick=quick)

        order = [fw for fw in ("simopt", *PEERS) if fw in workers]
        for case in cases:
            for opt in optimizers:
                key = f"{case.key}/{opt}"
                req = {"op": "run", "case": case, "opt": opt, "runs": RUNS, "seed": SEED,
                       "record_every": RECORD_EVERY}
                first = {}
                for fw in order:  # untimed first call: compile / warm caches; keep its curves
                    r = workers[fw].call(req)
                    if "error" in r:
                        raise RuntimeError(f"{fw} failed on {key}:\n{r['error']}")
                    first[fw] = r["loss"]
                    if fw == "jax" and r.get("compile_seconds"):
                        out["jax_compile_s"][key] = r["compile_seconds"]
                    if fw == "torch" and r.get("threads"):
                        out.setdefault("torch_threads", {})[key] = r["threads"]
                times = {fw: [] for fw in order}
                ratios = {fw: [] for fw in order}
                for rep in range(repeats):
                    rot = order[rep % len(order):] + order[:rep % len(order)]
                    for fw in rot:
                        r = workers[fw].call(req)
                        if "error" in r:
                            raise RuntimeError(f"{fw} failed on {key}:\n{r['error']}")
                        times[fw].append(r["seconds"])
                        ratios[fw].append(r["cpu_seconds"] / r["seconds"])
                        out["load_during"].append(r["load"])
                out["times"][key] = {fw: summary(ts) for fw, ts in times.items()}
                out["cpu_over_wall"][key] = {fw: float(np.median(v)) for fw, v in ratios.items()}
                if "simopt" in first:
                    out["agreement"][key] = {fw: agreement(case, first["simopt"], first[fw])
                                             for fw in order if fw != "simopt"}
                line = "  ".join(f"{fw} {out['times'][key][fw]['median']:.3f}s" for fw in order)
                log(f"[bench] {key:8s} {line}")
        if not args.no_limits:
            log("[bench] measuring the limits again (the higher of the two is kept) ...")
            again = bench_limits.measure(cases, RUNS, quick=quick)
            out["limits_runs"] = [out["limits"], again]
            out["limits"] = bench_limits.merge_best(out["limits"], again)
            out["floors"] = {c.key: bench_limits.floor_seconds(c, RUNS, out["limits"]) for c in cases}
        if "simopt" in workers and not args.no_profile:
            log("[bench] profiling simopt (noise / rule step / recording / GEMM / reductions) ...")
            out["profile"] = []
            for case in cases:
                for opt in optimizers:
                    r = workers["simopt"].call({"op": "profile", "case": case, "opt": opt,
                                                "repeats": 1 if quick else 3})
                    if "error" in r:
                        raise RuntimeError(f"profiling {case.key}/{opt} failed:\n{r['error']}")
                    out["profile"].append(r)
    finally:
        for w in workers.values():   # all asked first: the frameworks' shutdowns overlap
            w.quit()
        for w in workers.values():
            w.close()

    if "simopt" in workers and not args.no_compile_time and not quick:
        import bench_compile
        log("[bench] measuring first-call times (cold, then warm from cache; new processes) ...")
        out["compile"] = bench_compile.measure(optimizers, log=log)
    out["baseline"] = load_baseline()
    out["load_after"] = list(os.getloadavg())
    out["elapsed_s"] = time.time() - started
    return out


def load_baseline(path: str = BASELINE) -> dict | None:
    """The 0.1.0 figures the report compares with: date, simopt's version, each (case, optimizer)'s
    median time per framework, and the cold compile of every combination; None if the file is absent."""
    try:
        with open(path) as f:
            doc = json.load(f)
    except (OSError, ValueError):
        return None
    return {"date": doc.get("date"), "simopt": doc.get("frameworks", {}).get("simopt"),
            "cases": {k: [c["kind"], c["dim"], c["steps"], c["noisy"]] for k, c in doc.get("cases", {}).items()},
            "times": {k: {fw: s["median"] for fw, s in v.items()} for k, v in doc.get("times", {}).items()},
            "compile_cold_s": doc.get("compile", {}).get("cold", {}).get("total_s")}


# ---- report ------------------------------------------------------------------------------------
def _fmt_t(s: dict | None) -> str:
    if not s:
        return "—"
    if s["min"] == s["max"]:
        return f"{s['median']:.3f}"
    return f"{s['median']:.3f} ({s['min']:.3f}–{s['max']:.3f})"


def _si(x: float, unit: str = "") -> str:
    for f, p in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(x) >= f:
            return f"{x / f:.3g} {p}{unit}"
    return f"{x:.3g} {unit}".rstrip()


def best_peer(times: dict):
    peers = {fw: s["median"] for fw, s in times.items() if fw != "simopt"}
    if not peers:
        return None, None
    fw = min(peers, key=peers.get)
    return fw, peers[fw]


def render(res: dict, command: str) -> str:
    L = []
    quick = res["quick"]
    L.append("# simopt benchmark results")
    L.append("")
    if quick:
        L.append("**QUICK MODE: tiny sizes, one repeat — a smoke run; the numbers mean nothing.**")
        L.append("")
    L.append(f"Produced by `{command}` on {res['date']} in {res['elapsed_s']:.0f} s. "
             f"float64, {res['runs']} runs batched, loss recorded every {res['record_every']} steps, "
             f"run seed {res['seed']}; times in seconds for one call doing all {res['runs']} runs, "
             f"median of {res['repeats']} repeat(s) (min–max), after one untimed warm-up call.")
    L.append("")
    m = res["machine"]
    L.append("## Machine")
    L.append("")
    L.append(f"- CPU: {m['cpu']}, {m['cores']} cores available ({m['logical_cpus']} logical CPUs); "
             f"memory {m.get('memory', '?')}; {m['platform']}")
    blas = "; ".join(f"{b['internal_api']} {b['version']} ({b['threading_layer']}, "
                     f"{b['num_threads']} threads, kernel {b['architecture']})" for b in m["blas"]) or "unknown"
    L.append(f"- BLAS (threadpoolctl): {blas}")
    L.append(f"- Python {m['python']}, NumPy {m['numpy']}, Numba {m.get('numba', '?')}")
    for fw, d in res["frameworks"].items():
        L.append(f"- {fw}: {d}")
    for fw, why in res["skipped"].items():
        L.append(f"- **skipped {fw}**: {why}")
    ld = res["load_during"]
    L.append(f"- Load average (1 min): {res['load_before'][0]:.2f} before, "
             f"{res['load_after'][0]:.2f} after"
             + (f", {min(ld):.2f}–{max(ld):.2f} during the timed calls" if ld else "")
             + ". The machine is shared: a load above the benchmark's own ~1–2 means neighbours "
               "were competing for the cores.")
    cw = {}
    for per in res["cpu_over_wall"].values():
        for fw, v in per.items():
            cw.setdefault(fw, []).append(v)
    if cw:
        L.append("- CPU time / wall time of the timed calls (median over cases; "
                 f"{m['cores']} = every core busy the whole call): "
                 + ", ".join(f"{fw} {np.median(v):.2f}" for fw, v in cw.items()))
    L.append("")

    fws = [fw for fw in ("simopt", *PEERS) if fw in res["frameworks"]]
    L.extend(render_summary(res))
    L.append("## Times")
    L.append("")
    L.append("| case | optimizer | " + " | ".join(fws) + " | best peer | simopt / best peer | target | met |")
    L.append("|---|---|" + "---|" * len(fws) + "---|---|---|---|")
    for key, times in res["times"].items():
        ck, opt = key.split("/")
        case = res["cases"][ck]
        cells = [_fmt_t(times.get(fw)) for fw in fws]
        bp, bt = best_peer(times)
        ratio = times["simopt"]["median"] / bt if (bp and "simopt" in times) else None
        tgt = case["target"]
        met = "—" if (ratio is None or tgt is None) else ("yes" if ratio <= tgt else "**no**")
        L.append(f"| {ck} | {opt} | " + " | ".join(cells) + f" | {bp or '—'} | "
                 + (f"{ratio:.2f}×" if ratio is not None else "—") + " | "
                 + (f"≤ {tgt}×" if tgt else "—") + f" | {met} |")
    L.append("")
    for ck, c in res["cases"].items():
        L.append(f"- {c['title']}")
    L.append("")

    if "simopt" in res["frameworks"] and any(k.startswith("A0/") for k in res["times"]):
        L.append("## Noise-free A throughput")
        L.append("")
        ceil = res.get("limits", {}).get("noise_free_ceilings", {})
        L.append("| optimizer | simopt coordinate updates/s | target | met | ceiling: the loop's two passes "
                 "alone | ceiling: the rule's step alone |")
        L.append("|---|---|---|---|---|---|")
        for key, times in res["times"].items():
            if key.startswith("A0/") and "simopt" in times:
                opt = key.split("/")[1]
                rate = res["cases"]["A0"]["coordinate_updates"] / times["simopt"]["median"]
                tgt = A0_UPDATES_TARGETS.get(opt)
                c = ceil.get(opt, {})
                L.append(f"| {opt} | {_si(rate)} | " + (f"≥ {_si(tgt)} | {'yes' if rate >= tgt else '**no**'} |"
                                                       if tgt else "— | — |")
                         + f" {_si(c['loop_passes']) if c else '—'} | {_si(c['step_alone']) if c else '—'} |")
        L.append("")
        if ceil:
            L.append("The ceilings (`bench_limits.noise_free_ceilings`, best of the bursts) time what the "
                     "noise-free diagonal loop cannot do without: per step, the gradient pass (g = h e "
                     "with each run's loss, for the divergence check) and the rule's compiled step "
                     "called through its address on each run, with no divergence check, records or "
                     "set-up; and the rule's step alone. The rule is an opaque step over the whole "
                     "vector (any rule, a user's included), so the gradient, the loss and the update "
                     "cannot be fused into one pass per coordinate as the fused SGD pass above is: a "
                     "target above the step-alone ceiling cannot be met by any loop that calls the rule, "
                     "and one above the two-pass ceiling not by this loop.")
            L.append("")

    if "limits" in res:
        lim = res["limits"]
        L.append("## Machine limits (measured in this run, before and after the timed calls; "
                 "the higher rate of the two is kept)")
        L.append("")
        ways = bench_limits.GEMM_WAYS
        L.append("| float64 GEMM shape | engine tile (runs) | " + " | ".join(f"{w} GFLOP/s" for w in ways.values())
                 + " |")
        L.append("|---|---|" + "---|" * len(ways))
        for label, g in lim["gemm"].items():
            best = bench_limits.gemm_best(g)
            L.append(f"| {label} | {g.get('engine_tile', '?')} | "
                     + " | ".join(_bold_if(f"{g[k]:.1f}", g[k] == best) if k in g else "—" for k in ways)
                     + " |")
        L.append("")
        fastest = bench_limits.fastest_generator(lim)
        L.append(f"| standard normals | 1 core samples/s | all {lim['cores']} cores samples/s |")
        L.append("|---|---|---|")
        for name, r in lim["normal"].items():
            label = bench_limits.GENERATORS.get(name, name)
            if name == "simopt" and "d" in r:
                label += f", d = {r['d']}"
            L.append(f"| {label} | {_si(r['rate_1'])} ({1e9 / r['rate_1']:.2f} ns/sample) | "
                     + _bold_if(_si(r["rate_all"]), name == fastest) + " |")
        L.append("")
        if "fused_update_rate" in lim:
            L.append(f"Fused compiled diagonal SGD pass (Numba, all cores, one multiply-add per "
                     f"coordinate, nothing recorded): {_si(lim['fused_update_rate'])} coordinate "
                     "updates/s.")
            L.append("")
        L.append("Floor of one call = GEMM FLOPs at the best rate measured for the case's shape (bold "
                 "above: the faster of OpenBLAS and simopt's GEMM) + normals drawn at the all-core rate "
                 "of the fastest generator measured (bold above); elementwise work is counted as free, "
                 "except for A0, which has neither: there the floor is its updates at the fused pass's "
                 "rate.")
        L.append("")
        L.append("| case | GEMM FLOPs | normals drawn | floor: GEMM s | floor: RNG s | floor: update s | floor s | "
                 "simopt / floor (" + " / ".join(res_opts(res)) + ") | simopt coordinate updates/s |")
        L.append("|---|---|---|---|---|---|---|---|---|")
        for ck, c in res["cases"].items():
            fl = res["floors"][ck]
            ratios, rates = [], []
            for opt in res_opts(res):
                t = res["times"].get(f"{ck}/{opt}", {}).get("simopt")
                if t is None:
                    ratios.append("—")
                    rates.append("—")
                    continue
                ratios.append(f"{t['median'] / fl['floor_s']:.2f}×" if fl["floor_s"] > 0 else "n/a")
                rates.append(_si(c["coordinate_updates"] / t["median"]))
            L.append(f"| {ck} | {_si(c['gemm_flops'])} | {_si(c['samples'])} | {fl['gemm_s']:.3f} | "
                     f"{fl['rng_s']:.3f} | {fl.get('update_s', 0.0):.3f} | {fl['floor_s']:.3f} | "
                     f"{' / '.join(ratios)} | "
                     f"{' / '.join(rates)} |")
        L.append("")

    L.extend(render_breakdown(res))
    L.extend(render_baseline(res))
    if res.get("profile"):
        import profile_simopt
        L.append("## Profile of simopt's calls")
        L.append("")
        L.append("Measured by `benchmarks/profile_simopt.py` (interleaved, median of "
                 f"{1 if quick else 3} repeats): variants of the benchmark's call, each split into the "
                 "time inside the compiled run loop and outside it; noise = loop(run) − loop(noise-free "
                 "problem); rule step = loop(run) − loop(a no-op user rule); recording = loop(run) − "
                 "loop(record only the final loss); the gradient product (simopt's GEMM) and the "
                 "loss / gradient-norm reductions timed alone at the engine's tile shape and thread "
                 "split; the rest of the loop is what is left (divergence checks, the calls through the "
                 "rule's address, data movement). Differences of noisy times can come out slightly "
                 "negative; they are shown as measured.")
        L.append("")
        L.extend(profile_simopt.format_rows(res["profile"]))
        L.append("")

    if "compile" in res:
        import bench_compile
        L.append("## First call: compile (cold) and cache load (warm)")
        L.append("")
        L.append("Each column is a new process with its own fresh `SIMOPT_CACHE_DIR` (cold: empty; warm: "
                 "the cache the cold process left); `bench_compile.py` describes the scenarios. "
                 f"Target: the README example's first result ≤ {README_FIRST_RESULT_TARGET_S:.0f} s cold, "
                 "with a message while compiling.")
        L.append("")
        L.extend(bench_compile.rows(res["compile"]))
        L.append("")
    if res["jax_compile_s"]:
        v = list(res["jax_compile_s"].values())
        L.append(f"JAX trace + compile (excluded from its times): {np.median(v):.2f} s median per "
                 f"(case, optimizer), {min(v):.2f}–{max(v):.2f} s.")
        L.append("")

    if res["agreement"]:
        L.append("## Same problem, same answers")
        L.append("")
        L.append("Noise-free cases: max relative difference of the peers' loss curves from simopt's "
                 "(all runs, all records). Noisy cases: mean final loss over the runs, peer vs "
                 "simopt (different random streams: relative difference, and |difference| in "
                 "standard errors; many standard errors of a tiny spread can still be a tiny "
                 "difference).")
        L.append("")
        L.append("| case | optimizer | " + " | ".join(fw for fw in fws if fw != "simopt") + " |")
        L.append("|---|---|" + "---|" * (len(fws) - 1))
        for key, ag in res["agreement"].items():
            ck, opt = key.split("/")
            cells = []
            for fw in fws:
                if fw == "simopt":
                    continue
                a = ag.get(fw)
                if a is None:
                    cells.append("—")
                elif "shape_mismatch" in a:
                    cells.append(f"shape {a['shape_mismatch']}")
                elif "max_rel_diff" in a:
                    cells.append(f"{a['max_rel_diff']:.1e}")
                else:
                    cells.append(f"{a['mean_final']:.4g} vs {a['mean_final_ref']:.4g} "
                                 f"(Δ {a['rel_diff']:.1%}, {a['z']:.1f} se)")
            L.append(f"| {ck} | {opt} | " + " | ".join(cells) + " |")
        L.append("")

    L.append("## How each framework is run")
    L.append("")
    L.append("- All frameworks solve the same problem, built once by simopt's constructors "
             "(`simopt.quadratic(logspace(d, 1e-3, 1), rotation='none'|'haar')`, "
             "`simopt.heterogeneous_blocks(10, 100, 1.0, condition_number=1000, rotation='block')`, "
             "noise `gaussian(0.1)`, problem seed 0) and handed to the peers as arrays. "
             "SGD lr = 1/L; sign descent lr = 1e-3; Adam lr = 1e-3, betas (0.9, 0.999), eps 1e-8, "
             "bias-corrected (torch semantics).")
    L.append("- Each framework runs in its own worker process; calls are interleaved across frameworks "
             "and the order rotates every repeat.")
    L.append("- simopt: `simopt.run(problem, optimizer, steps, runs=64, seed=0, record_every=10)`.")
    L.append("- numpy: one (64, d) array; per step the batch gradient (elementwise / one "
             "`matmul` / one `matmul` per block, written into preallocated arrays), one "
             "`Generator.standard_normal(out=...)` fill for all runs, in-place update.")
    L.append("- torch: the 64 runs are ONE parameter tensor of shape (64, d) with `torch.optim.SGD` / "
             "`torch.optim.Adam` (`fused=True` when available); torch.optim treats it as one tensor, "
             "which is exactly right for these elementwise rules (same numbers as 64 separate "
             "optimizers). Gradient written by hand (no autograd); sign descent, which torch.optim "
             "lacks, is `x.add_(g.sign_(), alpha=-lr)`; noise `torch.randn(out=...)`.")
    if res.get("torch_threads"):
        L.append("- torch threads " + ("(fixed for --quick): " if quick else
                                        "picked (faster of 1 and all in a short untimed trial): ")
                 + ", ".join(f"{k} {v}" for k, v in res["torch_threads"].items()))
    L.append("- jax: one run is `lax.scan` over the steps, `vmap` over the 64 runs (own PRNG key "
             "each, split every step), `jit` of the whole; `jax_enable_x64`.")
    L.append("")
    return "\n".join(L) + "\n"


def _bold_if(text: str, cond: bool) -> str:
    return f"**{text}**" if cond else text


def render_summary(res) -> list[str]:
    """One line per case: simopt / best peer for each optimizer against its target, simopt / floor, and
    the largest part of simopt's time according to the profile; then the README example's cold first
    result against its target."""
    if "simopt" not in res["frameworks"] or len(res["frameworks"]) < 2:
        return []
    import profile_simopt
    prof = {}
    for p in res.get("profile", []):
        prof.setdefault(p["case"], {})[p["opt"]] = p
    opts = res_opts(res)
    L = ["## Summary against the targets", "",
         "| case | simopt / best peer (" + " / ".join(opts) + ") | target | met | "
         "simopt / floor | largest part of simopt's time (profile) |",
         "|---|---|---|---|---|---|"]
    for ck, c in res["cases"].items():
        ratios, floors = [], []
        for opt in opts:
            times = res["times"].get(f"{ck}/{opt}")
            if not times or "simopt" not in times:
                continue
            _, bt = best_peer(times)
            if bt:
                ratios.append(times["simopt"]["median"] / bt)
            fl = res.get("floors", {}).get(ck)
            if fl and fl["floor_s"] > 0:
                floors.append(times["simopt"]["median"] / fl["floor_s"])
        if not ratios:
            continue
        tgt = c["target"]
        if tgt is not None:
            met = f"{sum(r <= tgt for r in ratios)}/{len(ratios)}"
            tgt_s = f"≤ {tgt:.2f}×"
        elif ck == "A0":
            rates = {o: c["coordinate_updates"] / res["times"][f"A0/{o}"]["simopt"]["median"]
                     for o in opts if o in A0_UPDATES_TARGETS and "simopt" in res["times"].get(f"A0/{o}", {})}
            met = f"{sum(r >= A0_UPDATES_TARGETS[o] for o, r in rates.items())}/{len(rates)}" if rates else "—"
            tgt_s = ("; ".join(f"{o} ≥ {_si(A0_UPDATES_TARGETS[o])} updates/s (measured {_si(r)})"
                               for o, r in rates.items()) or "—")
        else:
            met, tgt_s = "—", "—"
        big = []
        for opt, p in prof.get(ck, {}).items():
            name, sec = profile_simopt.largest_part(p)
            big.append(f"{opt}: {name} {sec:.3f} s ({sec / p['total_s']:.0%})")
        L.append(f"| {ck} | " + " / ".join(f"{r:.2f}×" for r in ratios) + f" | {tgt_s} | {met} | "
                 + (" / ".join(f"{f:.2f}×" for f in floors) if floors else "—") + " | "
                 + ("; ".join(big) or "—") + " |")
    L.append("")
    readme = res.get("compile", {}).get("readme")
    if readme:
        t = readme["cold"]["first_result_s"]
        n = len(readme["cold"]["announcements"])
        L.append(f"README example, cold (empty cache, new process): first result after {t:.1f} s "
                 f"(target ≤ {README_FIRST_RESULT_TARGET_S:.0f} s: "
                 f"{'met' if t <= README_FIRST_RESULT_TARGET_S else '**not met**'}); {n} compile "
                 f"message(s) printed; warm: {readme['warm']['first_result_s']:.1f} s.")
        L.append("")
    return L


def render_baseline(res) -> list[str]:
    """simopt 0.2.0 (this run) against simopt 0.1.0 (``BASELINE_0.1.0.json``) per (case, optimizer)."""
    base = res.get("baseline")
    if not base or "simopt" not in res["frameworks"]:
        return []
    rows = []
    for key, times in res["times"].items():
        ck, opt = key.split("/")
        c = res["cases"][ck]
        if base["cases"].get(ck) != [c["kind"], c["dim"], c["steps"], c["noisy"]]:
            continue                                  # another size (e.g. --quick): nothing to compare
        old = base["times"].get(key)
        if "simopt" not in times or not old or "simopt" not in old:
            continue
        now = times["simopt"]["median"]
        _, bt = best_peer(times)
        old_peers = {fw: t for fw, t in old.items() if fw != "simopt" and fw in times}
        old_best = min(old_peers.values()) if old_peers else None
        np_drift = (times["numpy"]["median"] / old["numpy"]) if ("numpy" in times and "numpy" in old) else None
        rows.append(f"| {ck} | {opt} | {old['simopt']:.3f} | {now:.3f} | {now / old['simopt']:.2f}× | "
                    + (f"{old['simopt'] / old_best:.2f}×" if old_best else "—") + " | "
                    + (f"{now / bt:.2f}×" if bt else "—") + " | "
                    + (f"{np_drift:.2f}×" if np_drift else "—") + " |")
    if not rows:
        return []
    L = ["## simopt 0.2.0 against 0.1.0 (before the redesign)", "",
         f"0.1.0: `benchmarks/BASELINE_0.1.0.json` ({base.get('simopt') or 'simopt 0.1.0'}, measured "
         f"{base.get('date')}), same cases, sizes and peers. The two were measured on different days "
         "on a shared machine, so the ratio 0.2.0 / 0.1.0 is indicative only (the NumPy peer, whose "
         "code did not change, shows how much the machine itself moved: its own now / then); the "
         "ratios to the peers measured within one run are the real figures.", "",
         "| case | optimizer | simopt 0.1.0 s | simopt 0.2.0 s | 0.2.0 / 0.1.0 | simopt / best peer, 0.1.0 "
         "| simopt / best peer, 0.2.0 | NumPy peer now / then |",
         "|---|---|---|---|---|---|---|---|", *rows, ""]
    cold = res.get("compile", {}).get("combos", {}).get("cold", {}).get("combos_s")
    if cold is not None and base.get("compile_cold_s") is not None:
        L += [f"Cold compile, summed over first calls on tiny problems: {base['compile_cold_s']:.1f} s in "
              "0.1.0 (18 kind × noise × optimizer combinations, noise-free blocks included), "
              f"{cold:.1f} s now (the 15 the benchmark times).", ""]
    return L


def res_opts(res) -> list[str]:
    seen = []
    for key in res["times"]:
        o = key.split("/")[1]
        if o not in seen:
            seen.append(o)
    return seen


def render_breakdown(res) -> list[str]:
    """Where simopt's time goes, from the measured cases: noise cost = t(noisy) - t(noise-free) of
    the same problem; GEMM + update = t(noise-free); set against the floor's components."""
    if "simopt" not in res["frameworks"] or "floors" not in res:
        return []
    rows = []
    for noisy, clean in (("A", "A0"), ("B", "B0")):
        for opt in res_opts(res):
            tn = res["times"].get(f"{noisy}/{opt}", {}).get("simopt")
            tc = res["times"].get(f"{clean}/{opt}", {}).get("simopt")
            if tn is None or tc is None:
                continue
            fl = res["floors"][noisy]
            noise_s = tn["median"] - tc["median"]
            rows.append(f"| {noisy} | {opt} | {tn['median']:.3f} | {tc['median']:.3f} | {noise_s:.3f} "
                        f"({noise_s / tn['median']:.0%}) | {fl['rng_s']:.3f} / {fl['rng_1core_s']:.3f} | "
                        f"{fl['gemm_s']:.3f} |")
    if not rows:
        return []
    return ["## Where simopt's time goes", "",
            "noise cost = t(noisy) − t(noise-free) on the same problem; the noise-free time is the "
            "gradient (GEMM or elementwise) + update + recording.", "",
            "| case | optimizer | simopt noisy s | simopt noise-free s | noise cost s (share) | "
            "RNG floor all cores / 1 core s | GEMM floor s |",
            "|---|---|---|---|---|---|---|", *rows, ""]


# ---- entry points ------------------------------------------------------------------------------
def run_from_args(args, prog: str = "python benchmarks/bench.py") -> int:
    command = command_line(args, prog)
    res = run_benchmark(args, log=lambda s: print(s, file=sys.stderr, flush=True))
    res["command"] = command
    text = render(res, command)
    output = args.output
    if output is None and not args.quick:
        output = os.path.join(HERE, "RESULTS.md")
    if output and output != "-":
        with open(output, "w") as f:
            f.write(text)
        print(f"[bench] wrote {output}", file=sys.stderr)
    print(text)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=1, default=str)
    return 0


def main(argv=None) -> int:
    from simopt.bench_cli import add_arguments
    parser = argparse.ArgumentParser(prog="python benchmarks/bench.py",
                                     description=__doc__.splitlines()[0])
    add_arguments(parser)
    return run_from_args(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
