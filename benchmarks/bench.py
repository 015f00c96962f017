"""simopt against plain NumPy, PyTorch and JAX, and against this machine's limits, in one run.

Cases (float64, 64 runs batched, loss recorded every 10 steps; SGD, sign descent and Adam):
  A  diagonal d=1000, 2000 steps, isotropic Gaussian noise     (target simopt <= 0.4x best peer)
  B  dense Haar-rotated d=500, 1000 steps, noisy               (target <= 0.85x)
  C  10 blocks of 100, block-rotated, 1000 steps, noisy        (target <= 0.5x)
  A0, B0  A and B noise-free                                   (A0 target >= 4e9 coordinate updates/s)

Every framework runs in its own worker process (bench_worker.py); calls are interleaved across the
frameworks, repeat by repeat, so slow drifts in the machine's load hit all of them alike.  One
untimed call per (case, optimizer, framework) comes first (compilation, caches) and its loss curves
are compared across frameworks: noise-free runs must agree to rounding, noisy runs in distribution.

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
from bench_cases import A0_UPDATES_TARGET, RECORD_EVERY, RUNS, SEED  # noqa: E402

PEERS = ("numpy", "torch", "jax")


# ---- workers -----------------------------------------------------------------------------------
class Worker:
    def __init__(self, framework: str, quick: bool = False):
        self.framework = framework
        env = dict(os.environ)
        if quick and framework == "jax":  # quick numbers mean nothing: spend less time compiling
            env["XLA_FLAGS"] = (env.get("XLA_FLAGS", "") + " --xla_backend_optimization_level=0").strip()
        self.proc = subprocess.Popen([sys.executable, os.path.join(HERE, "bench_worker.py"), framework],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)

    def call(self, req: dict) -> dict:
        pickle.dump(req, self.proc.stdin)
        self.proc.stdin.flush()
        try:
            return pickle.load(self.proc.stdout)
        except EOFError:
            raise RuntimeError(f"{self.framework} worker died (exit code {self.proc.wait()})")

    def close(self):
        try:
            pickle.dump({"op": "quit"}, self.proc.stdin)
            self.proc.stdin.close()
        except (BrokenPipeError, OSError):
            pass
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
            log("[bench] profiling simopt (noise drawing / kernel / GEMM) ...")
            out["profile"] = []
            for case in cases:
                if not case.noisy:
                    continue
                for opt in optimizers:
                    r = workers["simopt"].call({"op": "profile", "case": case, "opt": opt,
                                                "repeats": 1 if quick else 3})
                    if "error" in r:
                        raise RuntimeError(f"profiling {case.key}/{opt} failed:\n{r['error']}")
                    out["profile"].append(r)
    finally:
        for w in workers.values():
            w.close()

    if "simopt" in workers and not args.no_compile_time and not quick:
        import bench_compile
        log("[bench] measuring Numba compile time (cold, then warm from cache; new processes) ...")
        out["compile"] = bench_compile.measure(RUNS, optimizers)
    out["load_after"] = list(os.getloadavg())
    out["elapsed_s"] = time.time() - started
    return out


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
        L.append("| optimizer | simopt coordinate updates/s | target | met |")
        L.append("|---|---|---|---|")
        for key, times in res["times"].items():
            if key.startswith("A0/") and "simopt" in times:
                rate = res["cases"]["A0"]["coordinate_updates"] / times["simopt"]["median"]
                L.append(f"| {key.split('/')[1]} | {_si(rate)} | ≥ {_si(A0_UPDATES_TARGET)} | "
                         f"{'yes' if rate >= A0_UPDATES_TARGET else '**no**'} |")
        L.append("")

    if "limits" in res:
        lim = res["limits"]
        L.append("## Machine limits (measured in this run, before and after the timed calls; "
                 "the higher rate of the two is kept)")
        L.append("")
        tiles = bench_limits.TILES
        L.append("| float64 GEMM shape | BLAS 1 thread GFLOP/s | BLAS all threads GFLOP/s | "
                 + " | ".join(f"compiled, tiles of {t} runs, all cores GFLOP/s" for t in tiles) + " |")
        L.append("|---|---|---|" + "---|" * len(tiles))
        for label, g in lim["gemm"].items():
            L.append(f"| {label} | {g['gflops_1']:.1f} | {g['gflops_all']:.1f} | "
                     + " | ".join(f"{g.get(f'gflops_tiles_{t}', float('nan')):.1f}" for t in tiles) + " |")
        L.append("")
        L.append("| standard normals (NumPy Generator, bulk fills) | 1 core samples/s | "
                 f"all {lim['cores']} cores samples/s |")
        L.append("|---|---|---|")
        for bg, r in lim["normal"].items():
            L.append(f"| {bg} | {_si(r['rate_1'])} ({1e9 / r['rate_1']:.2f} ns/sample) | "
                     f"{_si(r['rate_all'])} |")
        L.append("")
        if "fused_update_rate" in lim:
            L.append(f"Fused compiled diagonal SGD pass (Numba, all cores, one multiply-add per "
                     f"coordinate, nothing recorded): {_si(lim['fused_update_rate'])} coordinate "
                     "updates/s.")
            L.append("")
        L.append("Floor of one call = GEMM FLOPs at the best rate measured for the case's shape + "
                 "normals drawn at the best all-core rate (elementwise work counted as free; for A0, "
                 "which has neither, its updates at the fused pass's rate).")
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
    if res.get("profile"):
        import profile_simopt
        L.append("## Profile of simopt's noisy calls")
        L.append("")
        L.append("Measured by `benchmarks/profile_simopt.py` (median of "
                 f"{1 if quick else 3} calls each): time outside the compiled kernel (drawing the "
                 "noise: one NumPy Generator per run, filled in threads; plus setup), time inside it, "
                 "the same kernel on the noise-free problem, the kernel's products timed alone at the "
                 "kernel's tile shape, and the rest of the kernel (noise add, update, loss and "
                 "divergence checks).")
        L.append("")
        L.extend(profile_simopt.format_rows(res["profile"]))
        L.append("")

    if "compile" in res:
        c = res["compile"]
        L.append("## simopt compile time (separate from the times above)")
        L.append("")
        L.append("Each row is a new process with its own `NUMBA_CACHE_DIR`; every (kind × noise × "
                 "optimizer) combination timed above is run on a tiny problem, twice; compile = first "
                 "call − second call, summed.")
        L.append("")
        L.append("| | import simopt s | compile / cache load s | whole process s |")
        L.append("|---|---|---|---|")
        for name in ("cold", "warm"):
            L.append(f"| {name} ({'empty cache' if name == 'cold' else 'cache from the cold process'}) | "
                     f"{c[name]['import_s']:.2f} | {c[name]['total_s']:.2f} | "
                     f"{c[name]['process_wall_s']:.2f} |")
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
        L.append("- torch threads picked (faster of 1 and all in a short untimed trial): "
                 + ", ".join(f"{k} {v}" for k, v in res["torch_threads"].items()))
    L.append("- jax: one run is `lax.scan` over the steps, `vmap` over the 64 runs (own PRNG key "
             "each, split every step), `jit` of the whole; `jax_enable_x64`.")
    L.append("")
    return "\n".join(L) + "\n"


def render_summary(res) -> list[str]:
    """One line per case: simopt / best peer for each optimizer against the issue's target, simopt /
    floor, and the largest part of simopt's time according to the profile."""
    if "simopt" not in res["frameworks"] or len(res["frameworks"]) < 2:
        return []
    prof = {}
    for p in res.get("profile", []):
        main = p.get("noisy") or p["noise-free"]
        parts = {"drawing the noise (outside the kernel)": main["total_s"] - main["kernel_s"],
                 "the kernel's GEMM": p.get("gemm_s", 0.0),
                 "the kernel's elementwise work": main["kernel_s"] - p.get("gemm_s", 0.0)}
        prof.setdefault(p["case"], []).append((p["opt"], parts, main["total_s"]))
    L = ["## Summary against the targets", "",
         "| case | simopt / best peer (" + " / ".join(res_opts(res)) + ") | target | met | "
         "simopt / floor | largest part of simopt's time (profile, sgd) |",
         "|---|---|---|---|---|---|"]
    for ck, c in res["cases"].items():
        ratios, floors = [], []
        for opt in res_opts(res):
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
            tgt_s = f"≤ {tgt}×"
        elif ck == "A0":
            rates = [c["coordinate_updates"] / res["times"][f"A0/{o}"]["simopt"]["median"]
                     for o in res_opts(res) if "simopt" in res["times"].get(f"A0/{o}", {})]
            met = f"{sum(r >= A0_UPDATES_TARGET for r in rates)}/{len(rates)}"
            tgt_s = f"≥ {_si(A0_UPDATES_TARGET)} updates/s (" + " / ".join(_si(r) for r in rates) + ")"
        else:
            met, tgt_s = "—", "—"
        big = "—"
        for opt, parts, total in prof.get(ck, []):
            if opt == "sgd":
                name = max(parts, key=parts.get)
                big = f"{name}: {parts[name]:.3f} s of {total:.3f} s ({parts[name] / total:.0%})"
        L.append(f"| {ck} | " + " / ".join(f"{r:.2f}×" for r in ratios) + f" | {tgt_s} | {met} | "
                 + (" / ".join(f"{f:.2f}×" for f in floors) if floors else "—") + f" | {big} |")
    L.append("")
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
