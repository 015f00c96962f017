"""Where does adaptivity pay? log10(T_SGD+m/T_Adam) and log10(T_GD/T_sign) at tuned lr over block heterogeneity × a rotation that dissolves the block-diagonal structure.

What no seed paper has: the two knobs of the seed papers in one picture (version 2 of this figure).
Block heterogeneity h (Zhang et al. 2024, Tomihari & Sato 2025; ``simopt.heterogeneous_blocks``:
block spectra identical at h = 0, separated bands at h = 1, global condition number κ fixed)
against a rotation angle θ ∈ [0, 1] along which the block structure dissolves:
``heterogeneous_blocks(..., rotation=θ, within_blocks=True)`` gives

    H = R_θ · blockdiag(R_b Λ_b R_bᵀ) · R_θᵀ,

θ = 0: Zhang et al.'s block-diagonal Hessian (each block Haar-rotated inside), θ = 1: a Haar
rotation of the whole space, R_θ a partial rotation in between.  One reference column,
"axis-aligned" (``rotation="none"``, H diagonal), is drawn apart from the θ axis and is not part of
the claims.

Two maps, each on its own ``simopt.sweep`` sweep, every method's lr tuned per problem on a log grid
by ``simopt.sweep.tune`` (criterion: T(ε), theory_notes §5), median over problem seeds (each seed
draws the rotations, x0 and x*), noise-free:

* adaptivity: log10(T_SGD+m / T_Adam), SGD with heavy-ball momentum 0.9 (torch convention) against
  Adam(β1 = 0.9, β2 = 0.999, eps = 1e-8): both carry the same momentum, so the ratio isolates the
  coordinate-wise step scaling;
* sign: log10(T_GD / T_sign), plain GD against sign descent (Tomihari & Sato's pair).

Claim (issue 5, not from a paper): the adaptive advantage is largest at high heterogeneity and no
rotation, and shrinks as the rotation grows.  Checked as C1 (the value at (h = 1, θ = 0) is within
a tolerance of the grid maximum), C2 (the mean over h drops from θ = 0 to θ = 1) and C3 (at θ = 0
it grows from h = 0 to h = 1), for both maps, with thresholds fixed in code before the first run.

Finding at full size (8 blocks): C1 fails for GD/sign — at θ = 0 the log-ratio peaks at h = 0.75,
not h = 1, because plain GD (rotation-equivariant: its T depends on h only through the eigenvalue
multiset) is faster on the h = 1 spectrum at ε = 1e-3, while sign descent is itself fastest at
h = 1.  It is reported as a documented known failure (XFAIL); in quick mode (4 blocks) it holds.

Why version 2.  Version 1 rotated an axis-aligned H globally and compared plain SGD with Adam.  It
found (a) along a global rotation of an axis-aligned H, h only changes the eigenvalue multiset and
where each value sits (a permutation), which coordinate-wise, permutation-equivariant methods cannot
see; block heterogeneity only matters once the blocks are rotated inside; (b) the SGD/Adam gap was
dominated by Adam's momentum: momentum-SGD matched Adam almost everywhere, so the ratio hardly moved
with rotation.  Hence the block-rotated path (θ = 0 is the block-diagonal case) and the
momentum-matched pair.

Settings chosen here ([NF] in every seed paper, this figure being new): κ = 5000 (Zhang et al.'s
value).  It must exceed ((1+√β)/(1−√β))² ≈ 1.4e3 (β = 0.9): below that, heavy ball with β = 0.9
already converges at its best rate √β on every mode, and a diagonal rescaling cannot
improve on that rate.  ε per map:
ε = 1e-6 for SGD+m vs Adam — with x0 − x* standard normal, the lowest-curvature band holds about
1e-4 of f(x0) at h = 1, so a looser ε never asks for the slow directions where preconditioning
matters; ε = 1e-3 for GD vs sign — constant-step sign descent stalls at a loss floor ∝ lr², so its
T(ε) grows like ε^(-1/2) and a tight ε would measure that floor, not the geometry.  Censoring:
runs are deterministic, so ERT is T or ∞; a method that reaches ε at no lr within the budget is
capped at the budget and the cell is marked (its ratio is then a bound, ≥ or ≤).  The sweeps run
through ``simopt.sweep.run_sweep`` (local process pool; ``--dask ADDR|local`` for Dask) into a
store directory (``--store``; default a temporary directory, removed afterwards).
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time

import numpy as np

from simopt import plotting, sweep
from ._common import Report, parse_args

NAME = "phase_diagram"
TITLE = ("Adaptive advantage log10(T_SGD+m/T_Adam) and log10(T_GD/T_sign) at tuned lr over block "
         "heterogeneity x rotation angle (block-diagonal -> fully rotated)")
SOURCE = ("new (version 2): combines Zhang et al. 2024 / Tomihari & Sato 2025 (block heterogeneity) "
          "with Balles & Hennig 2018 (rotation of the eigenbasis)")

# ---- claims (version 2): thresholds fixed before the first run of the version-2 design
#      (decades of T ratio; the same for both maps)
#: C1: the value at (h = 1, θ = 0) is within this many decades of the maximum over the h × θ grid
MAX_TOL = 0.15
MAX_TOL_QUICK = 0.25
#: C2: mean over h of the log-ratio drops from θ = 0 to θ = 1 by at least this many decades
MIN_DROP = 0.25
MIN_DROP_QUICK = 0.2
#: C3: at θ = 0 (block-diagonal H), log-ratio at h = 1 minus at h = 0 at least this many decades
MIN_HET_GAIN = 0.25
MIN_HET_GAIN_QUICK = 0.2

#: documented findings at full size (reported XFAIL; the run fails if one ever passes).  Found in the
#: first full run of version 2; in quick mode (4 blocks) the claim holds and is expected to.
KNOWN_FAILURES_FULL = {
    "C1_max_at_h1_theta0[gd/sign]": (
        "at theta=0 the GD/sign log-ratio peaks at h=0.75 (0.52), not h=1 (0.28; each of the 5 "
        "seeds agrees), through the GD side: plain GD is rotation-equivariant, so its T(eps) "
        "depends on h only through the eigenvalue multiset, and at eps=1e-3 GD is faster on the "
        "h=1 spectrum (8 "
        "narrow bands; median T_GD 203 vs 276 steps at h=0.75, the same on the axis-aligned "
        "column: 202 vs 278), while sign descent is itself fastest at h=1 (T_sign 77 vs 92).  The "
        "ratio's maximum in h thus mixes a pure-spectrum effect of the reference method with the "
        "block-structure effect; the claim's other two parts (C2, C3) hold."),
}

KAPPA = 5000.0
MOMENTUM = 0.9
#: the two comparisons: key, sweep, (numerator, denominator) labels, ε, colourbar label, title
MAPS = (
    dict(key="sgdm/adam", sweep="adaptive", num="sgd+m", den="adam", eps=1e-6,
         cbar=r"$\log_{10}(T_{\mathrm{SGD+m}}\,/\,T_{\mathrm{Adam}})$",
         title="adaptivity: Adam vs SGD+m (both momentum 0.9)"),
    dict(key="gd/sign", sweep="sign", num="gd", den="sign", eps=1e-3,
         cbar=r"$\log_{10}(T_{\mathrm{GD}}\,/\,T_{\mathrm{sign}})$",
         title="sign descent vs GD"),
)
AXIS_ALIGNED = "axis-aligned"


def _sizes(quick):
    K = KAPPA
    if quick:
        return dict(n_blocks=4, block_size=4, hs=[0.0, 0.5, 1.0], thetas=[0.0, 0.5, 1.0],
                    seeds=[0, 1], steps={"adaptive": 1500, "sign": 3000},
                    lr={"sgd+m": (np.array([2.0, 3.0, 3.8]) / K).tolist(),
                        "adam": np.logspace(-1, 1, 5).tolist(),
                        "gd": (np.array([1.5, 1.95]) / K).tolist(),
                        "sign": np.logspace(-2.5, -0.5, 5).tolist()})
    return dict(n_blocks=8, block_size=8, hs=[0.0, 0.25, 0.5, 0.75, 1.0],
                thetas=[0.0, 0.1, 0.25, 0.5, 0.75, 1.0], seeds=[0, 1, 2, 3, 4],
                steps={"adaptive": 2000, "sign": 4000},
                lr={"sgd+m": (np.array([1.0, 2.0, 3.0, 3.5, 3.8]) / K).tolist(),
                    "adam": np.logspace(-1.5, 1.0, 6).tolist(),
                    "gd": (np.array([0.5, 1.0, 1.5, 1.95]) / K).tolist(),
                    "sign": np.logspace(-3.5, -0.5, 7).tolist()})


def _parse(argv):
    ap = argparse.ArgumentParser(add_help=False)
    ap.add_argument("--dask", default=None,
                    help="run the sweeps on Dask: a scheduler address or 'local' (default: local pool)")
    ap.add_argument("--workers", type=int, default=None,
                    help="local pool size (default: number of cores; 1 = this process)")
    ap.add_argument("--store", default=None,
                    help="sweep store directory (two sub-stores, adaptive/ and sign/), kept and "
                         "resumable (default: a temporary directory, removed at the end)")
    extra, rest = ap.parse_known_args(argv)
    desc = (__doc__.splitlines()[0] + "  Extra options: --dask ADDR|local (run the sweeps on Dask), "
            "--workers N (local pool size; 1 = this process), --store DIR (keep the sweep stores "
            "there, resumable; default a temporary directory).")
    args = parse_args(NAME, desc, rest)
    args.dask, args.workers, args.store = extra.dask, extra.workers, extra.store
    return args


def spec_dicts(cfg, base_seed=0) -> dict:
    """The two sweeps, ``{"adaptive": spec, "sign": spec}``: heterogeneity × (θ grid on the
    block-rotated path, plus the axis-aligned reference) × problem seed, two methods each with its
    lr grid; one noise-free run per cell, the loss recorded at every step (exact T(ε))."""
    seeds = [base_seed + s for s in cfg["seeds"]]
    common = dict(type="heterogeneous_blocks", n_blocks=cfg["n_blocks"],
                  block_size=cfg["block_size"], condition_number=KAPPA)
    problems = [
        dict(common, within_blocks=True, label="block-rotated path",
             grid={"heterogeneity": [float(h) for h in cfg["hs"]],
                   "rotation": [float(t) for t in cfg["thetas"]], "seed": seeds}),
        dict(common, rotation="none", label=AXIS_ALIGNED,
             grid={"heterogeneity": [float(h) for h in cfg["hs"]], "seed": seeds}),
    ]
    lr = cfg["lr"]
    opts = {
        "adaptive": [{"name": "sgd", "momentum": MOMENTUM, "lr": lr["sgd+m"], "label": "sgd+m"},
                     {"name": "adam", "lr": lr["adam"], "label": "adam"}],
        "sign": [{"name": "sgd", "lr": lr["gd"], "label": "gd"},
                 {"name": "sign", "lr": lr["sign"], "label": "sign"}],
    }
    eps = {m["sweep"]: m["eps"] for m in MAPS}
    return {k: {"name": f"{NAME}_{k}", "steps": cfg["steps"][k], "seeds": [0], "runs": 1,
                "record_every": 1, "eps": eps[k], "eps_metric": "loss", "criterion": "median",
                "problems": problems, "optimizers": opts[k]}
            for k in ("adaptive", "sign")}


def _collect(tuned, hs, thetas, pseeds, budget):
    """T at the tuned lr per (method, h, column, seed); column 0 is the axis-aligned reference,
    then the θ grid.  A group with no lr reaching ε is censored: T = budget, flagged."""
    shape = (len(hs), 1 + len(thetas), len(pseeds))
    T, cens, best_lr, edges = {}, {}, {}, {}
    for tr in tuned:
        m = tr.optimizer_label
        if m not in T:
            T[m], cens[m] = np.full(shape, np.nan), np.zeros(shape, dtype=bool)
            best_lr[m], edges[m] = np.full(shape, np.nan), []
        p = tr.problem
        i = hs.index(float(p["heterogeneity"]))
        j = 1 + thetas.index(float(p["rotation"])) if p.get("within_blocks") else 0
        k = pseeds.index(int(p["seed"]))
        if tr.status == "ok":
            T[m][i, j, k] = tr.best_score
            best_lr[m][i, j, k] = tr.best_lr
            if tr.edge:
                col = AXIS_ALIGNED if j == 0 else f"theta={thetas[j - 1]:g}"
                edges[m].append(f"h={hs[i]:g} {col} seed={pseeds[k]}: {tr.edge}")
        else:
            T[m][i, j, k] = float(budget)
            cens[m][i, j, k] = True
    if any(np.isnan(v).any() for v in T.values()):
        raise RuntimeError("phase_diagram: a tuning group is missing from the sweep")
    return T, cens, best_lr, edges


def _log_ratio(T, cens, num, den):
    """Median over seeds of log10(T_num/T_den), and per cell a censoring mark: '>' (numerator
    censored: the ratio is a lower bound), '<' (denominator censored), '?' (both)."""
    M = np.median(np.log10(T[num]) - np.log10(T[den]), axis=2)
    cn, cd = cens[num].any(axis=2), cens[den].any(axis=2)
    marks = np.where(cn & cd, "?", np.where(cn, ">", np.where(cd, "<", "")))
    return M, marks


def main(argv=None) -> int:
    args = _parse(argv)
    cfg = _sizes(args.quick)
    rep = Report.from_args(NAME, TITLE, SOURCE, args)
    specs = {k: sweep.parse(v) for k, v in spec_dicts(cfg, args.seed).items()}
    hs = [float(h) for h in cfg["hs"]]
    thetas = [float(t) for t in cfg["thetas"]]
    pseeds = [args.seed + s for s in cfg["seeds"]]
    columns = [AXIS_ALIGNED] + thetas
    rep.settings.update(
        version=2, problem="heterogeneous_blocks(..., rotation=theta, within_blocks=True): "
        "H = R_theta blockdiag(R_b Lambda_b R_b^T) R_theta^T; reference column rotation='none'",
        n_blocks=cfg["n_blocks"], block_size=cfg["block_size"], condition_number=KAPPA,
        noise=None, heterogeneity=hs, theta=thetas, reference_column=AXIS_ALIGNED,
        problem_seeds=pseeds, steps=cfg["steps"], eps={m["key"]: m["eps"] for m in MAPS},
        lr_grids=cfg["lr"],
        methods={"sgd+m": f"sgd(lr, momentum={MOMENTUM}) (torch heavy ball, dampening 0)",
                 "adam": "adam(lr), beta1=0.9, beta2=0.999, eps=1e-8 (torch defaults)",
                 "gd": "sgd(lr) without momentum (noise-free: GD)", "sign": "sign(lr)"},
        tuning="simopt.sweep.tune, criterion median T(eps) over the cell's run (one "
               "deterministic run), ties to the smaller lr",
        aggregation="median over problem seeds of log10 ratio",
        censoring="T capped at the step budget when no lr reaches eps; cell marked",
        executor=("dask " + args.dask) if args.dask else f"local pool (workers={args.workers})",
        cells={k: len(s.cells) for k, s in specs.items()})
    rep.notes += [
        "Version 2 of this figure.  Version 1 (a global rotation theta of an axis-aligned H; plain "
        "SGD vs Adam) found: (a) along a global rotation of an axis-aligned H, heterogeneity only "
        "permutes the eigenvalue multiset, which coordinate-wise (permutation-equivariant) methods "
        "cannot see, so block heterogeneity only matters once blocks are rotated inside; (b) the "
        "SGD/Adam gap was dominated by Adam's momentum (beta1=0.9) vs plain GD: a tuned SGD with "
        "momentum 0.9 matched Adam almost everywhere, so log10(T_SGD/T_Adam) barely changed with "
        "rotation (its C2 failed, 0.12 < 0.3 decades; its C3 on a 'block' column failed at full "
        "size, 0.24 < 0.3).  Version 2 therefore rotates along the block-rotated path "
        "(within_blocks=True: theta=0 is the block-diagonal H of Zhang et al., theta=1 fully "
        "rotated) and compares Adam with momentum-matched SGD (momentum 0.9), so the ratio isolates "
        "adaptivity; plain GD vs Adam is reported, not claimed.",
        "Not from a paper: the heterogeneity knob is simopt's heterogeneous_blocks (Zhang et al.'s "
        "exact spectra are [NF]); kappa, eps, sizes and lr grids are simopt's choices.",
        f"kappa={KAPPA:g} (Zhang et al.'s value): above ((1+sqrt(b))/(1-sqrt(b)))^2 = 1.4e3 for "
        "b=0.9, the threshold below which heavy ball with momentum 0.9 converges at its best rate "
        "sqrt(b) on every mode, so that a diagonal rescaling could not improve on it.",
        "eps per map: 1e-6 for SGD+m vs Adam (the lowest-curvature band holds ~1e-4 of f(x0) at "
        "h=1, so a looser eps never asks for the slow directions where preconditioning matters); "
        "1e-3 for GD vs sign (constant-step sign descent stalls at a loss floor ~ lr^2, so T_sign "
        "grows like eps^-1/2 and a tight eps would measure that floor, not the geometry).",
        "Order of work: the claim thresholds were written in the code first; kappa and the two eps "
        "were chosen by the arguments above; step budgets and lr grids were then set after one "
        "exploratory run (2 seeds, h in {0,1}, theta in {0,0.5,1}, 8x8 and 4x4 blocks, wide lr "
        "grids) that checked grid edges and budgets, and one quick-mode run; both also showed the "
        "claim values.  After them the lr grids were narrowed to the ranges where the best lr lay "
        "(for run time) and the quick sign budget raised (one censored cell).  After the first "
        "full run only the known-failure marking of C1[gd/sign] (full mode) and figure labels "
        "were added; settings and thresholds were not changed.",
        "The axis-aligned column (rotation='none', H diagonal) is a reference outside the theta "
        "axis and enters no claim; there h acts only through the eigenvalue multiset (finding (a)).",
        "Censoring: deterministic runs make ERT equal T or inf, so T is capped at the step budget "
        "when no lr reaches eps and the cell is marked; its ratio is then a bound.",
        f"Quick mode (4x4 blocks, 2 seeds, 3x3 grid) uses looser thresholds fixed in advance: C1 "
        f"tolerance {MAX_TOL_QUICK} (full {MAX_TOL}), C2 {MIN_DROP_QUICK} (full {MIN_DROP}), C3 "
        f"{MIN_HET_GAIN_QUICK} (full {MIN_HET_GAIN}) decades: the median of 2 seeds is noisier.",
    ]

    own = args.store is None
    store = tempfile.mkdtemp(prefix="simopt_phase_") if own else args.store
    stores = {k: os.path.join(store, k) for k in specs}
    t_sweep, executors, tuned, tuned_ref = {}, {}, {}, {}
    try:
        for k, spec in specs.items():
            t0 = time.perf_counter()
            sr = sweep.run_sweep(spec, stores[k], workers=args.workers, dask=args.dask, quiet=True)
            t_sweep[k] = round(time.perf_counter() - t0, 2)
            executors[k] = sr.executor
            if not sr.ok:
                raise RuntimeError(f"phase_diagram: {len(sr.failed) + len(sr.skipped_failed)} sweep "
                                   f"cell(s) failed in {stores[k]}: {sr.summary()}")
            tuned[k] = sweep.tune(stores[k])
        # reference (not claimed): Adam and SGD+m tuned at the GD/sign eps, against plain GD
        tuned_ref = sweep.tune(stores["adaptive"], eps=MAPS[1]["eps"])
    finally:
        if own:
            shutil.rmtree(store, ignore_errors=True)

    T, cens, best_lr, edges = {}, {}, {}, {}
    for k in specs:
        parts = _collect(tuned[k], hs, thetas, pseeds, cfg["steps"][k])
        for d_all, d in zip((T, cens, best_lr, edges), parts):
            d_all.update(d)
    maps, marks = {}, {}
    for mp in MAPS:
        maps[mp["key"]], marks[mp["key"]] = _log_ratio(T, cens, mp["num"], mp["den"])

    # reference numbers at eps = 1e-3: plain GD vs Adam (version 1's pair) and GD vs SGD+m
    Tr, cr, _, edges_ref = _collect(tuned_ref, hs, thetas, pseeds, cfg["steps"]["adaptive"])
    Tr["gd"], cr["gd"] = T["gd"], cens["gd"]
    ref = {}
    for num, den in (("gd", "adam"), ("gd", "sgd+m"), ("sgd+m", "adam")):
        R, mk = _log_ratio(Tr, cr, num, den)
        ref[f"log10_T_{num}_over_T_{den}"] = R
        ref[f"censored_marks_{num}_over_{den}"] = mk

    def fname(key):
        return key.replace("/", "_over_").replace("+", "")

    Tm = {m: np.median(T[m], axis=2) for m in T}
    rep.numbers.update(
        sweep_seconds=t_sweep, cells={k: len(s.cells) for k, s in specs.items()},
        executor=executors, columns=[str(c) for c in columns], rows_heterogeneity=hs,
        **{f"log10_{fname(k)}": v for k, v in maps.items()},
        **{f"censored_marks_{fname(k)}": v for k, v in marks.items()},
        **{f"T_median_{fname(m)}": Tm[m] for m in T},
        **{f"best_lr_median_{fname(m)}": np.median(best_lr[m], axis=2) for m in T},
        censored_groups={m: int(cens[m].sum()) for m in T},
        lr_on_grid_edge={m: edges[m] for m in T},
        reference_eps_1e_3_not_claimed=dict(
            note="tuned at eps=1e-3 (the GD/sign eps); Adam and SGD+m from the adaptive sweep "
                 "re-tuned at that eps, GD from the sign sweep; columns and rows as above",
            **{k: v for k, v in ref.items()},
            lr_on_grid_edge={m: edges_ref[m] for m in edges_ref}))
    if any(edges.values()):
        n_e = {m: len(v) for m, v in edges.items()}
        rep.notes.append(
            f"best lr on the edge of its grid in {n_e} tuning groups (listed in numbers."
            "lr_on_grid_edge); for GD the top of the grid, 1.95/L, is at the stability limit 2/L "
            "and for SGD+m the top, 3.8/L, at its limit 2(1+b)/L, so a 'high' edge there is expected.")
    rep.notes.append(
        "Observed range of median T(eps) over the grid (steps): "
        + ", ".join(f"{m} {np.min(Tm[m]):.0f}-{np.max(Tm[m]):.0f}" for m in ("sgd+m", "adam", "gd", "sign"))
        + ".")
    gd_adam = ref["log10_T_gd_over_T_adam"][:, 1:]
    gd_sgdm = ref["log10_T_gd_over_T_sgd+m"][:, 1:]
    rep.notes.append(
        "Reference at eps=1e-3 (not claimed), over the theta grid: log10(T_GD/T_Adam) "
        f"{np.min(gd_adam):.2f} to {np.max(gd_adam):.2f}, log10(T_GD/T_SGD+m) {np.min(gd_sgdm):.2f} "
        f"to {np.max(gd_sgdm):.2f} decades (momentum's share of plain GD vs Adam).")

    # ---- claims: on the θ columns (column 0, axis-aligned, is a reference only)
    tol = MAX_TOL_QUICK if args.quick else MAX_TOL
    min_drop = MIN_DROP_QUICK if args.quick else MIN_DROP
    min_gain = MIN_HET_GAIN_QUICK if args.quick else MIN_HET_GAIN
    j0, j1 = 1, len(columns) - 1                   # θ = 0 and θ = 1

    def known(cid):
        return None if args.quick else KNOWN_FAILURES_FULL.get(cid)

    for mp in MAPS:
        key = mp["key"]
        M = maps[key]
        grid = M[:, 1:]
        v10, vmax = float(M[-1, j0]), float(np.max(grid))
        at = np.unravel_index(int(np.argmax(grid)), grid.shape)
        rep.claim(f"C1_max_at_h1_theta0[{key}]",
                  "the adaptive advantage is largest at high heterogeneity and no rotation "
                  "(block-diagonal H)",
                  f"log-ratio at (h=1, theta=0) >= max over the h x theta grid - {tol} decades "
                  f"(eps={mp['eps']:g})",
                  {"value_h1_theta0": v10, "grid_max": vmax,
                   "argmax": {"h": hs[at[0]], "theta": thetas[at[1]]}},
                  v10 >= vmax - tol, known_failure=known(f"C1_max_at_h1_theta0[{key}]"))
        m0, m1 = float(np.mean(M[:, j0])), float(np.mean(M[:, j1]))
        rep.claim(f"C2_shrinks_with_rotation[{key}]",
                  "the adaptive advantage shrinks as the rotation grows (block structure dissolves)",
                  f"mean over h of log-ratio at theta=0 minus at theta=1 >= {min_drop} decades",
                  {"mean_theta0": m0, "mean_theta1": m1, "drop": m0 - m1}, m0 - m1 >= min_drop,
                  known_failure=known(f"C2_shrinks_with_rotation[{key}]"))
        gain = float(M[-1, j0] - M[0, j0])
        rep.claim(f"C3_grows_with_heterogeneity[{key}]",
                  "on the block-diagonal Hessian (theta=0) the adaptive advantage grows with block "
                  "heterogeneity (Zhang et al. 2024 / Tomihari & Sato 2025 mechanism)",
                  f"theta=0: log-ratio at h=1 minus at h=0 >= {min_gain} decades",
                  {"h0": float(M[0, j0]), "h1": float(M[-1, j0]), "gain": gain}, gain >= min_gain,
                  known_failure=known(f"C3_grows_with_heterogeneity[{key}]"))
        if np.any(marks[key][:, 1:] != ""):
            rep.notes.append(f"{key}: {int(np.sum(marks[key][:, 1:] != ''))} theta-grid cell(s) are "
                             "censored (marked); their values are bounds")

    fig = _figure(cfg, hs, thetas, maps, marks)
    return rep.finish(fig)


def _figure(cfg, hs, thetas, maps, marks):
    with plotting.style() as plt:
        fig, axes = plt.subplots(1, 2, figsize=(7.2, 3.5), layout="constrained")
        n_t = len(thetas)
        # x positions: the axis-aligned reference at 0, a gap, then the θ columns
        xs = np.array([0.0] + [1.6 + j for j in range(n_t)])
        for ax, mp in zip(axes, MAPS):
            M, mk = maps[mp["key"]], marks[mp["key"]]
            vmax = max(0.25, float(np.nanmax(np.abs(M))))
            norm = plt.Normalize(-vmax, vmax)
            for j in range(M.shape[1]):
                im = ax.imshow(M[:, j:j + 1], extent=(xs[j] - 0.5, xs[j] + 0.5, -0.5, len(hs) - 0.5),
                               origin="lower", cmap="RdBu_r", norm=norm, aspect="auto")
                for i in range(len(hs)):
                    v = M[i, j]
                    pre = {"<": "≤", ">": "≥", "?": "?"}.get(mk[i, j], "")
                    ax.text(xs[j], i, f"{pre}{v:.2f}", ha="center", va="center", fontsize=6.5,
                            color="white" if abs(v) > 0.6 * vmax else "black")
            ax.set_xlim(-0.5, xs[-1] + 0.5)
            ax.set_ylim(-0.5, len(hs) - 0.5)
            ax.set_xticks(xs)
            ax.set_xticklabels(["axis-\naligned\n(ref.)"] + [f"{t:g}" for t in thetas])
            ax.set_yticks(range(len(hs)))
            ax.set_yticklabels([f"{h:g}" for h in hs])
            ax.grid(False)
            for s in ("top", "right"):
                ax.spines[s].set_visible(True)
            ax.axvline(0.8, color="k", lw=0.8)
            faster = "Adam" if mp["den"] == "adam" else "sign descent"
            ax.set_title(f"{mp['title']}\n(ε = {mp['eps']:g}; > 0: {faster} faster)", fontsize=8.5)
            ax.set_xlabel("rotation angle θ (0 = block-diagonal, 1 = fully rotated)", fontsize=8)
            ax.set_ylabel("block heterogeneity h")
            fig.colorbar(im, ax=ax, label=mp["cbar"], location="bottom", shrink=0.8, aspect=30,
                         pad=0.02)
        fig.suptitle(f"Adaptive advantage at tuned lr: T(ε) ratios, {cfg['n_blocks']}×"
                     f"{cfg['block_size']} blocks, κ = {KAPPA:g}, noise-free, median over "
                     f"{len(cfg['seeds'])} problem seeds\n"
                     "(≤ / ≥: bound, a method reached no ε within the step budget in some seed)",
                     fontsize=8.5)
    return fig


if __name__ == "__main__":
    sys.exit(main())
