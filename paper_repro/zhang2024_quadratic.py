"""GD vs Adam on four block-diagonal quadratics with κ = 5000: Adam reaches the gradient-norm target far sooner than GD when the blocks' spectra are heterogeneous, and Adam(β1=0, β2=1) contracts at the rate its preconditioned κ̃ predicts.

Reproduces the quadratic experiment of Zhang, Chen, Ding, Li, Sun & Luo (2024), "Why Transformers Need
Adam: A Hessian Perspective" (figure "Adam and GD on four quadratic problems"; seed_math.md §2), and
checks the β1 = 0, β2 = 1 version of their quadratic theorem as derived in theory_notes.md §2E.

Known from the paper [V]/[S] (seed_math.md §2): four block-diagonal quadratics, each with condition
number κ = 5000; two with heterogeneous blocks (Cases 1 and 3) and two homogeneous ones (Cases 2 and 4),
where "homogeneous" keeps the eigenvalues and spreads them evenly over the blocks; y axis = log of the
gradient norm against iterations; GD is much worse than Adam on the heterogeneous cases and similar on the
homogeneous ones; Adam with β1 = 0, β2 = 1 and v0 from the first gradient converges linearly at a rate set
by the blocks' condition numbers (thesis Thm 3.2), and the JS distance between block spectra measures the
heterogeneity.

Not known [NF] and chosen here: the per-block spectra (the paper's Case 1 uses rescaled GPT-2 block
spectra), block sizes and dimension, the linear term h (here f = ½(x − x*)ᵀH(x − x*), x* standard normal),
the initialisation (here x0 = x* + z, z ~ N(0, I), one draw per run), learning rates, β's and iteration
counts.  Settings used:

- 4 blocks × 50 coordinates (quick: 4 × 25), 8 random starts, every block Haar-rotated on its own (``rotation="block"``):
  H is block-diagonal but not diagonal, as in the paper;
- Case 1 (heterogeneous, shaped): block b takes a spectrum *shape* — power law λ ∝ 1/i for b = 0, 2,
  two clusters (20% of the eigenvalues ten times the rest, ``spectra.two_cluster``) for b = 1, 3 — scaled
  and shifted (affinely, as the paper's appendix describes) onto its own range [ℓ_b, 4ℓ_b],
  ℓ_b = (κ/4)^{b/3}: block condition numbers κ_l = 4, separated ranges, global range exactly [1, 5000];
- Case 3 (heterogeneous): ``heterogeneous_blocks(4, n, heterogeneity=1, condition_number=5000)``
  (κ_l = 5000^{1/16} ≈ 1.7);
- Cases 2 and 4: ``spectra.redistribute`` of Cases 1 and 3 (same eigenvalues dealt round-robin over the
  blocks, κ_l ≈ κ);
- GD = ``optim.sgd`` (noise-free); Adam = ``optim.adam`` (β = (0.9, 0.999), ε = 1e-8, torch's rule);
  Adam(β1=0, β2=1) = ``optim.adam(beta1=0, beta2=1, eps=0, v0="first_grad")`` (theorem setting);
- every learning rate is tuned per method and case: a factor-2 grid (quick: factor 4, then its
  factor-2 neighbours), then the two √2-neighbours of its best point; criterion = median over runs of
  T(ε) = first step with ‖∇f(x_t)‖ ≤ ε‖∇f(x_0)‖, ε = 1e-5, ties and fully censored grids decided by the
  median final relative gradient norm; 16000 steps (also in quick mode): about 1.5× GD's T(ε) on its
  slowest case (Cases 1–2, ≈ 10400 steps), so that every method can reach ε within the budget;
- the rate check runs Adam(β1=0, β2=1) for each run at its own η = 2/(λ_min(H̃) + λ_max(H̃)),
  H̃ = D^{-1/2}HD^{-1/2}, D = diag(|∇f(x0)|) (``theory.adam_optimal_lr``), for ⌈15 κ̃⌉ steps (capped at
  60000, quick 20000; 4 starts in quick mode).
"""
from __future__ import annotations

import math
import sys

import numpy as np

import simopt
from simopt import optim, spectra, theory
from ._common import Report, parse_args

NAME = "zhang2024_quadratic"

# ---- the paper's fixed quantities
KAPPA = 5000.0
N_BLOCKS = 4

# ---- claim thresholds, fixed before any result was looked at
#: "GD much worse than Adam" on a heterogeneous case: median T_GD(ε) / median T_Adam(ε) at least this
HETERO_MIN_RATIO = 10.0
#: "similar" on a homogeneous case: that ratio inside this band (within a factor of 3 either way)
HOMO_BAND = (1.0 / 3.0, 3.0)
#: Adam(β1=0, β2=1): measured per-step loss-contraction exponent −ln q vs the §2E prediction
#: −2 ln((κ̃−1)/(κ̃+1)); relative tolerance on the median over runs (heterogeneous cases)
RATE_REL_TOL = 0.10
#: §2E is exact: f(x_t) ≤ ρ̃^{2t} f(x_0) at every step, up to this relative rounding slack
BOUND_SLACK = 1e-8

# ---- design choices ([NF] in the paper)
BLOCK_RANGE = 4.0           # Case 1: each block spans [ℓ_b, 4 ℓ_b]
RATE_STEPS_PER_KAPPA = 15   # rate runs: ⌈15 κ̃⌉ steps reach f/f0 ≈ e^{-60} ≈ 1e-26
RATE_FLOOR = 1e-24          # ...the tail window ends before the loss falls below this · f0
SIZES = {
    False: dict(block_size=50, runs=8, steps=16000, eps=1e-5, record_every=10, rate_max_steps=60000,
                rate_runs=8, coarse_every=1),
    # quick mode tunes and compares GD and Adam exactly as the full run (so the T-ratio claims, which sit
    # near their thresholds on the homogeneous cases, are decided identically); only the rate check is smaller
    True: dict(block_size=50, runs=8, steps=16000, eps=1e-5, record_every=10, rate_max_steps=20000,
               rate_runs=4, coarse_every=1),
}
# Findings, not bugs (see the JSON notes): the claim is checked and reported; the run fails if it starts to hold.
KNOWN_FAILURES = {
    "Case 2": "not reproduced for this construction: on the even redistribution of the power-law / "
              "two-cluster block spectra, tuned Adam still reaches the target about 5x sooner than tuned GD "
              "(and sooner at every lr of the grid), although the blocks are homogeneous (JS ~ 0.01). Its "
              "edge there is not the diagonal preconditioning of the theorem (Adam(beta1=0, beta2=1) has "
              "kappa~ ~ 2e5 >> kappa on this case and never reaches the target). The paper's Case 2 spectra "
              "are [NF]; the heterogeneous_blocks counterpart (Case 4) does show GD similar to Adam.",
}
GRIDS = {  # factor-2 grids (log2 of the lr), refined by √2 around the best point
    "GD": np.arange(-15, -9),
    "Adam": np.arange(-10, 4),
    "Adam(β1=0, β2=1)": np.arange(-14, -1),
}
COLORS = {"GD": "#1f77b4", "Adam": "#2ca02c", "Adam(β1=0, β2=1)": "#b8860b"}
STYLES = {"GD": "-", "Adam": "-", "Adam(β1=0, β2=1)": "--"}


def make_methods():
    """The three rules compared (lr is set by the tuning)."""
    return {
        "GD": optim.sgd(1.0),
        "Adam": optim.adam(1.0),
        "Adam(β1=0, β2=1)": optim.adam(1.0, beta1=0.0, beta2=1.0, eps=0.0, v0="first_grad"),
    }


def shaped_block_spectra(block_size: int, seed: int) -> list[np.ndarray]:
    """Case 1: block b gets a spectrum shape (power law 1/i for even b, two clusters for odd b), mapped
    affinely onto [ℓ_b, BLOCK_RANGE·ℓ_b] with ℓ_b = (κ/BLOCK_RANGE)^{b/(B−1)}, so κ_l = BLOCK_RANGE,
    the ranges are separated (BLOCK_RANGE < (κ/BLOCK_RANGE)^{1/(B−1)}) and the global κ is exactly KAPPA."""
    out = []
    for b in range(N_BLOCKS):
        if b % 2 == 0:
            shape = spectra.power_law(block_size, 1.0)
        else:
            shape = spectra.two_cluster(block_size, 0.2, 1.0, 10.0, np.random.SeedSequence([seed, b]))
        lo = (KAPPA / BLOCK_RANGE) ** (b / (N_BLOCKS - 1))
        hi = BLOCK_RANGE * lo
        s = (shape - shape[0]) / (shape[-1] - shape[0])
        lam = lo + (hi - lo) * s
        lam[0], lam[-1] = lo, hi
        out.append(lam)
    return out


def make_cases(block_size: int, seed: int) -> dict:
    """The four problems: name -> (problem, short label, heterogeneous?)."""
    c1 = shaped_block_spectra(block_size, seed)
    c3 = simopt.heterogeneous_blocks(N_BLOCKS, block_size, 1.0, condition_number=KAPPA, seed=seed)
    return {
        "Case 1": (simopt.block_diagonal(c1, rotation="block", seed=seed),
                   "heterogeneous\npower-law/2-cluster blocks", True),
        "Case 2": (simopt.block_diagonal(spectra.redistribute(c1), rotation="block", seed=seed),
                   "homogeneous\nCase 1 redistributed", False),
        "Case 3": (c3, "heterogeneous\nheterogeneous_blocks(h=1)", True),
        "Case 4": (simopt.block_diagonal(spectra.redistribute(c3.block_eigvals), rotation="block", seed=seed),
                   "homogeneous\nCase 3 redistributed", False),
    }


def _score(res, eps):
    """(median T(ε) on the relative gradient norm, median final relative gradient norm): smaller wins."""
    T = float(np.median(res.iterations_to(eps, metric="grad_norm")))
    fin = res.final("grad_norm", relative=True)
    fin = np.where(res.diverged | ~np.isfinite(fin), np.inf, fin)
    return T, float(np.median(fin))


def tune(problem, opt, log2_grid, steps, runs, seed, X0, eps, record_every, coarse_every=1):
    """Tune the lr: every ``coarse_every``-th point of the factor-2 grid ``2**log2_grid``, then the
    neighbours of the best point at factors 2 (when the grid was thinned) and √2, so the final resolution
    is always √2.  Returns (best lr, its Result, edge flag or None, {lr: score})."""
    results = {}

    def sweep(lrs):
        lrs = [lr for lr in lrs if lr not in results]
        if lrs:
            t = simopt.tune_lr(problem, opt, lrs, steps, runs=runs, seed=seed, eps=eps, metric="grad_norm",
                               record_every=record_every, x0=X0, keep_all=True)
            results.update(t.results)

    def best():
        return min(results, key=lambda lr: (_score(results[lr], eps), lr))

    grid = 2.0 ** np.asarray(log2_grid, dtype=float)
    sweep(grid[::coarse_every])
    b = best()
    edge = "low" if b <= grid.min() else ("high" if b >= grid.max() else None)
    factors = ([2.0] if coarse_every > 1 else []) + [math.sqrt(2.0)]
    for f in factors:
        sweep([b / f, b * f])
        b = best()
    return b, results[b], edge, {lr: _score(r, eps) for lr, r in sorted(results.items())}


def tail_exponent(res, floor=RATE_FLOOR):
    """Measured per-step contraction exponent −ln q of the loss over the tail of one run: least-squares
    slope of ln f(x_t) over the second half of the steps before f first drops below floor·f(x_0)."""
    steps, loss = res.steps, res.loss[0]
    rel = loss / loss[0]
    below = np.nonzero(~(rel >= floor))[0]
    end = int(below[0]) - 1 if below.size else steps.size - 1
    t_end = steps[end]
    sel = (steps >= t_end / 2.0) & (steps <= t_end)
    slope = np.polyfit(steps[sel].astype(float), np.log(loss[sel]), 1)[0]
    return float(-slope), int(steps[sel][0]), int(t_end)


def rate_check(problem, X0, max_steps, record_every):
    """Adam(β1=0, β2=1, v0=g0², ε=0) at each run's optimal η = 2/(λ_min(H̃)+λ_max(H̃)) (theory_notes §2E).
    Returns per-run dicts: κ̃, η, predicted and measured exponents, and whether f_t ≤ ρ̃^{2t} f_0 held."""
    out = []
    for x0 in X0:
        kt = float(theory.adam_preconditioned_condition_number(problem, x0))
        eta = float(theory.adam_optimal_lr(problem, x0))
        rho = float(theory.adam_rate(problem, eta, x0))
        steps = int(min(max_steps, math.ceil(RATE_STEPS_PER_KAPPA * kt)))
        res = simopt.run(problem, optim.adam(eta, beta1=0.0, beta2=1.0, eps=0.0, v0="first_grad"),
                         steps, runs=1, x0=x0, record_every=record_every)
        pred = -2.0 * math.log(rho)
        meas, t0, t1 = tail_exponent(res)
        env = rho ** (2.0 * res.steps) * res.loss[0, 0]
        bound_ok = bool(np.all(res.loss[0] <= env * (1.0 + BOUND_SLACK) + 1e-300))
        out.append(dict(kappa_tilde=kt, lr=eta, rho=rho, steps=steps, capped=steps == max_steps,
                        predicted=pred, measured=meas, rel_err=meas / pred - 1.0, window=(t0, t1),
                        bound_holds=bound_ok, diverged=bool(res.diverged[0])))
    return out


def main(argv=None) -> int:
    args = parse_args(NAME, __doc__.splitlines()[0], argv)
    S = SIZES[bool(args.quick)]
    rep = Report.from_args(NAME, "GD vs Adam on heterogeneous / homogeneous block-diagonal quadratics",
                           "Zhang et al. 2024, Why Transformers Need Adam (quadratic figure, Cases 1-4; "
                           "thesis Thm 3.2)", args)
    rep.settings.update(dict(S, kappa=KAPPA, n_blocks=N_BLOCKS, rotation="block", seed=args.seed,
                             init="x0 = x* + N(0, I), one draw per run (same draws for all cases)",
                             metric="T(eps): first step with ||grad f(x_t)|| <= eps ||grad f(x_0)||",
                             lr_grids_log2=GRIDS, lr_refinement="sqrt(2)-neighbours of the best grid point",
                             case1_block_range=BLOCK_RANGE, rate_steps_per_kappa=RATE_STEPS_PER_KAPPA,
                             rate_floor=RATE_FLOOR,
                             adam="beta1=0.9, beta2=0.999, eps=1e-8 (bias-corrected)",
                             adam_theorem="beta1=0, beta2=1, eps=0, v0=first_grad"))
    rep.notes += [
        "[NF] per-block spectra, dimension, h, init, lrs, betas and iteration counts of the paper's "
        "quadratic figure; the values here are simopt's choices (module docstring).",
        "Case 1 uses spectrum shapes (power law, two clusters) scaled and shifted onto separated ranges, "
        "as the paper's appendix describes for its GPT-2 block spectra (which are not available).",
        "Claims on T ratios: when GD is censored its T is replaced by the budget, so the ratio is a "
        "lower bound (stated in the measured value).",
        "Standard Adam (beta2 = 0.999, constant lr) is not monotone on these quadratics: its gradient norm "
        "dips far below the target and then climbs back to a limit cycle (about 1e-3 to 1e-2 of the "
        "initial norm), so T(eps), a first-hitting time, measures the dip; at the end of the budget GD is "
        "ahead of Adam on every case (numbers.cases.*.final_ratio_gd_over_adam < 1).",
        "Disclosure of changes made after a first run: (1) the quick mode first used eps = 1e-4 and 4000 "
        "steps; GD was then censored on Cases 1-2, and quick now uses the full-size eps = 1e-5 and budget "
        "(16000 steps, about 1.5x GD's T on Cases 1-2; the full run was never made with another budget) "
        "with d = 100, a factor-4 first lr grid and 4 rate runs; (2) the lr grids were narrowed to save "
        "time (no selected lr is at a grid edge: see the edge fields).  Thresholds and the tuning "
        "criterion were not changed.",
        "Rate claim: §2E predicts the asymptotic per-step factor ((κ̃−1)/(κ̃+1))² at η = 2/(λmin+λmax) "
        "of H̃; it is checked on the heterogeneous cases, where ⌈15 κ̃⌉ steps reach the asymptotic "
        "regime.  On the homogeneous cases κ̃ ~ 1e5–1e6, so only the exact bound f_t ≤ ρ̃^{2t} f_0 is "
        "checked there.",
    ]

    cases = make_cases(S["block_size"], args.seed)
    d = N_BLOCKS * S["block_size"]
    Z = np.random.default_rng(np.random.SeedSequence([args.seed, 2024])).standard_normal((S["runs"], d))
    methods = make_methods()
    curves, numbers = {}, {}
    for cname, (prob, _, hetero) in cases.items():
        X0 = prob.xstar + Z
        kt = np.asarray(theory.adam_preconditioned_condition_number(prob, X0))
        info = dict(heterogeneous=hetero, kappa=float(prob.condition_number),
                    block_kappas=prob.block_condition_numbers, max_block_kappa=float(prob.block_condition_numbers.max()),
                    kappa_tilde_median=float(np.median(kt)), kappa_tilde_min=float(kt.min()),
                    kappa_tilde_max=float(kt.max()), kappa_tilde_runs=kt,
                    js=theory.block_spectrum_js(prob), methods={})
        curves[cname] = {}
        for mname, opt in methods.items():
            lr, res, edge, scores = tune(prob, opt, GRIDS[mname], S["steps"], S["runs"], args.seed, X0,
                                         S["eps"], S["record_every"], S["coarse_every"])
            T = res.iterations_to(S["eps"], metric="grad_norm")
            info["methods"][mname] = dict(lr=lr, edge=edge, T_median=float(np.median(T)),
                                          T_runs=T, reached=int(np.isfinite(T).sum()),
                                          final_rel_grad_norm_median=_score(res, S["eps"])[1],
                                          grid_scores={f"{k:.4g}": v for k, v in scores.items()})
            curves[cname][mname] = (res.steps, res.grad_norm / res.grad_norm[:, :1], lr)
            print(f"{cname} {mname:17s} lr={lr:.3g} edge={edge} T_median={np.median(T):.6g} "
                  f"reached={int(np.isfinite(T).sum())}/{S['runs']}", flush=True)
        # homogeneous cases: κ̃ ~ 1e5-1e6 is far beyond any budget, so only the exact bound is checked
        info["rate"] = rate_check(prob, X0[:S["rate_runs"]], S["rate_max_steps"] if hetero else S["steps"],
                                  S["record_every"])
        numbers[cname] = info
    rep.numbers["cases"] = numbers

    # ---- claims
    budget = float(S["steps"])
    for cname, (prob, _, hetero) in cases.items():
        m = numbers[cname]["methods"]
        t_gd, t_adam = m["GD"]["T_median"], m["Adam"]["T_median"]
        censored = not math.isfinite(t_gd)
        ratio = (min(t_gd, budget) / t_adam) if math.isfinite(t_adam) else float("nan")
        numbers[cname]["T_ratio_gd_over_adam"] = ratio
        numbers[cname]["final_ratio_gd_over_adam"] = (m["GD"]["final_rel_grad_norm_median"]
                                                      / m["Adam"]["final_rel_grad_norm_median"])
        numbers[cname]["T_ratio_gd_over_adam_theorem"] = (
            min(t_gd, budget) / m["Adam(β1=0, β2=1)"]["T_median"]
            if math.isfinite(m["Adam(β1=0, β2=1)"]["T_median"]) else float("nan"))
        meas = {"T_GD": t_gd, "T_Adam": t_adam,
                "ratio": (f">= {ratio:.3g} (GD censored)" if censored else ratio)}
        if hetero:
            rep.claim(f"{cname}: GD much worse", "GD is significantly worse than Adam on a quadratic with "
                      "heterogeneous blocks (Zhang et al. 2024, quadratic figure, Cases 1 and 3)",
                      f"median T_GD(eps) / median T_Adam(eps) >= {HETERO_MIN_RATIO:g}, tuned lrs, "
                      f"eps={S['eps']:g} on the relative gradient norm", meas,
                      math.isfinite(ratio) and ratio >= HETERO_MIN_RATIO)
        else:
            rep.claim(f"{cname}: GD similar", "With homogeneous blocks GD performs similarly to Adam "
                      "(Zhang et al. 2024, quadratic figure, Cases 2 and 4)",
                      f"{HOMO_BAND[0]:.3g} <= median T_GD(eps) / median T_Adam(eps) <= {HOMO_BAND[1]:g}, "
                      f"both reaching eps={S['eps']:g}", meas,
                      (not censored) and math.isfinite(ratio) and HOMO_BAND[0] <= ratio <= HOMO_BAND[1],
                      known_failure=KNOWN_FAILURES.get(cname))
    for het, hom in (("Case 1", "Case 2"), ("Case 3", "Case 4")):
        a, b = numbers[het]["js"], numbers[hom]["js"]
        rep.claim(f"JS {het} > {hom}", "The JS distance between block spectra is larger for the "
                  "heterogeneous Hessian than for its homogeneous counterpart (Zhang et al. 2024, JS^0)",
                  "theory.block_spectrum_js(heterogeneous) > theory.block_spectrum_js(homogeneous)",
                  {het: a, hom: b}, a > b)
    for cname in ("Case 1", "Case 3"):
        errs = np.array([r["rel_err"] for r in numbers[cname]["rate"]])
        med = float(np.median(np.abs(errs)))
        rep.claim(f"{cname}: Adam(β1=0,β2=1) rate = κ̃ prediction",
                  "Adam with beta1=0, beta2=1, v0 = first gradient converges linearly; as preconditioned GD "
                  "its factor is ((κ̃−1)/(κ̃+1))² at the optimal step (thesis Thm 3.2; theory_notes §2E)",
                  f"median over runs of |measured tail exponent / predicted − 1| <= {RATE_REL_TOL:g}",
                  {"median_abs_rel_err": med, "rel_err_runs": errs,
                   "kappa_tilde_runs": [r["kappa_tilde"] for r in numbers[cname]["rate"]]},
                  med <= RATE_REL_TOL)
    allb = {c: all(r["bound_holds"] and not r["diverged"] for r in numbers[c]["rate"]) for c in cases}
    rep.claim("Adam(β1=0,β2=1) obeys the §2E bound", "Adam(beta1=0, beta2=1) = GD on H̃ contracts the "
              "loss by at least ρ̃(η)² per step (theory_notes §2E)",
              f"f(x_t) <= ρ̃^(2t) f(x_0) (1 + {BOUND_SLACK:g}) at every recorded step, every run and case",
              allb, all(allb.values()))

    fig = make_figure(cases, numbers, curves, S)
    return rep.finish(fig)


def _case_title(i, cname, label):
    return f"({'abcd'[i]}) {cname}: {label}"


def make_figure(cases, numbers, curves, S):
    with simopt.plotting.style() as plt:
        fig = plt.figure(figsize=(7.2, 6.0))
        top = fig.add_gridspec(1, 4, left=0.09, right=0.985, top=0.865, bottom=0.55, wspace=0.12)
        bot = fig.add_gridspec(1, 3, left=0.09, right=0.985, top=0.42, bottom=0.08, wspace=0.55)
        axes = [fig.add_subplot(top[0, i]) for i in range(4)]
        for i, (ax, (cname, (prob, label, hetero))) in enumerate(zip(axes, cases.items())):
            if i:
                ax.sharey(axes[0])
                plt.setp(ax.get_yticklabels(), visible=False)
            for mname, (steps, G, lr) in curves[cname].items():
                # log-spaced subsample of the records (the x axis is logarithmic)
                idx = np.unique(np.geomspace(1, steps.size - 1, 400).astype(int))
                simopt.plotting.band(ax, steps[idx], G[:, idx], label=mname, color=COLORS[mname],
                                     linestyle=STYLES[mname])
                T = numbers[cname]["methods"][mname]["T_median"]
                if math.isfinite(T):
                    ax.plot([T], [S["eps"]], marker="v", ms=5, color=COLORS[mname], mec="k", mew=0.4,
                            zorder=5)
            ax.axhline(S["eps"], color="0.3", lw=0.8, ls=":")
            ax.set_xscale("log")
            ax.set_xlim(S["record_every"] * 0.7, S["steps"] * 1.05)
            ax.set_xticks([1e1, 1e2, 1e3, 1e4], ["10", "100", "1k", "10k"])
            nb = numbers[cname]
            ax.set_title(_case_title(i, cname, label), fontsize=7.5)
            ax.text(0.04, 0.04, f"JS = {nb['js']:.2f}\nmax κ_l = {nb['max_block_kappa']:.2g}\n"
                    f"κ̃ = {nb['kappa_tilde_median']:.2g} (median)", transform=ax.transAxes, fontsize=6.5,
                    va="bottom", bbox=dict(fc="white", ec="none", alpha=0.85, pad=1))
            ax.set_xlabel("iteration t")
        axes[0].set_ylabel("‖∇f(x_t)‖ / ‖∇f(x_0)‖")
        axes[0].set_ylim(1e-16, 30.0)
        handles, labels = axes[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.54, 0.965), ncol=3, fontsize=7,
                   handlelength=2.2)
        fig.text(0.54, 0.985, f"κ = {KAPPA:g}, 4 blocks × {S['block_size']}, lr tuned per method and case; "
                 f"median and IQR over {S['runs']} random x0; ▼ = median T(ε), ε = {S['eps']:g} (dotted)",
                 fontsize=7, ha="center")

        # (e) block spectra
        ax = fig.add_subplot(bot[0, 0])
        for i, (cname, (prob, _, _)) in enumerate(cases.items()):
            for b, ev in enumerate(prob.block_eigvals):
                ax.plot(np.full(ev.size, i + (b - 1.5) * 0.19), ev, "_", ms=5,
                        color=plt.cm.viridis(b / 3.0), alpha=0.8)
        ax.set_yscale("log")
        ax.set_xticks(range(4), [c.replace("Case ", "C") for c in cases])
        ax.set_xlabel("case (colour = block)")
        ax.set_ylabel("eigenvalues of H_bb")
        ax.set_title("(e) block spectra", fontsize=7.5)

        # (f) condition numbers
        ax = fig.add_subplot(bot[0, 1])
        x = np.arange(4)
        kt = np.array([numbers[c]["kappa_tilde_median"] for c in cases])
        err = [kt - np.array([numbers[c]["kappa_tilde_min"] for c in cases]),
               np.array([numbers[c]["kappa_tilde_max"] for c in cases]) - kt]
        ax.bar(x - 0.27, [numbers[c]["kappa"] for c in cases], 0.27, label="κ of H", color="0.55")
        ax.bar(x, [numbers[c]["max_block_kappa"] for c in cases], 0.27, label="max_l κ_l", color="#9467bd")
        ax.bar(x + 0.27, kt, 0.27, yerr=err, label="κ̃ of H̃ (median, range)",
               color=COLORS["Adam(β1=0, β2=1)"], error_kw=dict(lw=0.8, capsize=1.5))
        ax.set_yscale("log")
        ax.set_ylim(1, 1e8)
        ax.set_xticks(x, [c.replace("Case ", "C") for c in cases])
        ax.set_xlabel("case")
        ax.set_ylabel("condition number")
        ax.set_title("(f) condition numbers", fontsize=7.5)
        ax.legend(fontsize=5.8, loc="upper left", borderaxespad=0.1)

        # (g) measured vs predicted rate of Adam(beta1=0, beta2=1)
        ax = fig.add_subplot(bot[0, 2])
        marks = {"Case 1": ("o", "#d62728", True), "Case 2": ("o", "#d62728", False),
                 "Case 3": ("s", "#1f77b4", True), "Case 4": ("s", "#1f77b4", False)}
        allv = []
        for cname in cases:
            r = numbers[cname]["rate"]
            p = np.array([q["predicted"] for q in r])
            m = np.array([q["measured"] for q in r])
            mk, col, filled = marks[cname]
            ax.scatter(p, m, marker=mk, s=14, facecolors=col if filled else "none", edgecolors=col, lw=0.8,
                       label=cname + ("" if filled else " (transient)"))
            allv += list(p) + list(m)
        lo, hi = min(allv) / 3, max(allv) * 3
        ax.plot([lo, hi], [lo, hi], color="0.3", lw=0.8)
        ax.fill_between([lo, hi], [lo, hi], [lo * (1 + RATE_REL_TOL), hi * (1 + RATE_REL_TOL)],
                        color="0.5", alpha=0.25, lw=0)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlim(lo, hi)
        ax.set_ylim(lo, hi)
        ax.set_xlabel("predicted −2 ln((κ̃−1)/(κ̃+1))")
        ax.set_ylabel("measured −ln q per step")
        ax.set_title("(g) Adam(β1=0, β2=1): loss rate", fontsize=7.5)
        ax.legend(fontsize=5.8, loc="upper left", handletextpad=0.2, borderaxespad=0.1)
        return fig


if __name__ == "__main__":
    sys.exit(main())
