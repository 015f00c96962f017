"""SGD vs stochastic sign descent (SSD) on a well- and an ill-conditioned quadratic, axis-aligned vs rotated, without noise and with two levels of isotropic gradient noise.

Reproduces Balles & Hennig (2018), "Dissecting Adam", Fig. 2 (seed_math.md §4).

Known from the paper [V] (caption only): rows are two quadratic problems, a well-conditioned and an
ill-conditioned one, each used with a randomly rotated and with an axis-aligned eigenbasis; columns are
noise levels including noise-free; panels show the function value against steps for SGD and SSD
(x ← x − α g and x ← x − α sign(g)).  Findings: on the well-conditioned problem GD ≫ SSD without
noise, the difference evens out with noise, and the orientation matters little; on the ill-conditioned
problem the methods are roughly equal when rotated and SSD is clearly better when axis-aligned.
Their figures show means with ±1 standard-deviation bands over seeds.

Not known [NF]: dimension, both eigenspectra, noise model and levels, step sizes, number of steps.
Chosen here (fixed before any result was seen):

- d = 100 (quick: 40); well-conditioned λ evenly spaced in [1, 10] (κ = 10); ill-conditioned λ
  geometrically spaced in [1, 10⁴] (κ = 10⁴); rotation "none" (H diagonal) or a Haar rotation.
- Start x₀ = x* + z per run, z ~ N(0, I) (so runs differ also without noise).
- Noise: isotropic Gaussian ξ ~ N(0, σ² I) with σ = c·(Σλᵢ²/d)^{1/2}, i.e. E‖ξ‖² = c²·E‖∇f(x₀)‖²
  (the same σ for both orientations); c = 0 (noise-free), 0.1 ("moderate"), 1 ("high").
- 1000 steps (quick: 300).  Learning rate tuned per cell and method with ``simopt.tune_lr`` (median
  final f(x_T)/f(x₀)) on a half-decade log grid, then refined on an eighth-decade grid within ±½ decade
  of the coarse best; 10 tuning runs (quick: 6).  The reported curves and all claims use 10 fresh runs
  (other x₀ draws and noise streams; quick: 6) at the tuned lr, so the tuning's selection noise does not
  bias the comparison.
- Claims use the mean over runs of the final relative loss f(x_T)/f(x₀), floored at 1e-12 (a run below
  1e-12 counts as solved to machine-relevant accuracy; below that ratios carry no meaning).
  With r = log10(SGD/SSD) of these means: (a) "GD ≫ SSD" is r ≤ −2; (b) "evened out" and
  (d) "roughly equal" are |r| ≤ 1; (e) "SSD clearly better" is r ≥ 1; (c) "orientation matters
  little" is |log10(rotated/aligned)| ≤ 0.5 for each method at each noise level.  Claims (d) and (e)
  are checked at every noise level, (b) at both noisy levels.
"""
from __future__ import annotations

import sys

import numpy as np

import simopt
from simopt import noise as nz
from simopt import optim, spectra
from ._common import Report, parse_args

NAME = "balles2018_fig2"

# ---- thresholds, fixed before looking at results ------------------------------------------------------
FLOOR = 1e-12           # relative losses below this count as solved
MUCH_BETTER = 2.0       # (a) "GD >> SSD": log10(SGD/SSD) <= -2
EVEN = 1.0              # (b), (d) "evened out" / "roughly equal": |log10(SGD/SSD)| <= 1
CLEARLY = 1.0           # (e) "SSD clearly better": log10(SGD/SSD) >= 1
ORIENTATION = 0.5       # (c) "orientation matters little": |log10(rotated/aligned)| <= 0.5

NOISE_LEVELS = (("noise-free", 0.0), ("moderate noise", 0.1), ("high noise", 1.0))
ORIENTATIONS = (("aligned", "none"), ("rotated", "haar"))
METHODS = ("SGD", "SSD")


def settings(quick: bool) -> dict:
    d = 40 if quick else 100
    return {
        "d": d, "steps": 300 if quick else 1000,
        "tune_runs": 6 if quick else 10, "eval_runs": 6 if quick else 10,
        "record_every": 3 if quick else 5,
        "spectra": {"well-conditioned": "linear in [1, 10]", "ill-conditioned": "logspace in [1, 1e4]"},
        "noise": "isotropic Gaussian, sigma = c * sqrt(sum(lambda^2)/d), c in {0, 0.1, 1}",
        "x0": "x* + N(0, I) per run",
        "lr_grid": "coarse: half-decade log grid; fine: 1/8-decade grid within +-0.5 decade of the coarse best",
        "sgd_coarse_grid": "10^[-4, 0.5] / L", "ssd_coarse_grid": "10^[-6, 0]",
        "loss_floor": FLOOR,
    }


def problems(d):
    return {"well-conditioned": spectra.linear(d, 1.0, 10.0),
            "ill-conditioned": spectra.logspace(d, 1.0, 1e4)}


def starts(problem, runs, seed, which):
    """Per-run starting points x* + z, z ~ N(0, I); ``which`` separates tuning from evaluation draws."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, which]))
    return problem.xstar + rng.standard_normal((runs, problem.dim))


def rule_for(method, lr=1.0):
    return optim.sgd(lr) if method == "SGD" else optim.sign(lr)


def rel_loss(res):
    return res.loss / res.f0[:, None]


def floored_mean(res):
    return float(np.mean(np.maximum(res.final("loss", relative=True), FLOOR)))


def floored_median(res):
    return float(np.median(np.maximum(res.final("loss", relative=True), FLOOR)))


def main(argv=None) -> int:
    args = parse_args(NAME, __doc__.splitlines()[0], argv)
    rep = Report.from_args(NAME, "SGD vs SSD on stochastic quadratics",
                           "Balles & Hennig 2018, Fig. 2", args)
    S = settings(args.quick)
    rep.settings.update(S)
    rep.settings["seed"] = args.seed
    rep.notes += [
        "Paper [NF]: dimension, spectra, noise model/levels, step sizes and step count; the values in "
        "settings were chosen before any result was seen and not changed to make a claim pass.",
        "lr tuned per cell on tuning runs (median final relative loss); curves and claims use fresh runs.",
        "Curves: mean of f(x_t)/f(x_0) over runs with a +-1 std band (Balles & Hennig's convention).",
    ]
    d, T = S["d"], S["steps"]
    half = 0.5
    sgd_exp = np.arange(-4.0, 0.5 + 1e-9, half)      # GD is unstable above 2/L = 10^0.3/L
    ssd_exp = np.arange(-6.0, 0.0 + 1e-9, half)

    curves, finals, medians, lrs, edges = {}, {}, {}, {}, {}
    for pname, lam in problems(d).items():
        sigma_unit = float(np.sqrt(np.sum(lam ** 2) / d))
        for oname, rot in ORIENTATIONS:
            base = simopt.quadratic(lam, rotation=rot, seed=args.seed)
            X_tune = starts(base, S["tune_runs"], args.seed, 1)
            X_eval = starts(base, S["eval_runs"], args.seed, 2)
            for nname, c in NOISE_LEVELS:
                p = base if c == 0 else base.with_noise(nz.gaussian(c * sigma_unit))
                for m in METHODS:
                    coarse = (10.0 ** sgd_exp / base.L) if m == "SGD" else 10.0 ** ssd_exp
                    tuned = simopt.tune_lr(p, rule_for(m), coarse, T, runs=S["tune_runs"], seed=2 * args.seed + 1,
                                           x0=X_tune, record_every=T, refine=4)
                    lr, edge = tuned.best_lr, tuned.edge
                    res = simopt.run(p, rule_for(m, lr), T, runs=S["eval_runs"], seed=2 * args.seed + 2,
                                     x0=X_eval, record_every=S["record_every"])
                    key = (pname, oname, nname, m)
                    curves[key] = (res.steps, rel_loss(res))
                    finals[key] = floored_mean(res)
                    medians[key] = floored_median(res)
                    lrs[key] = lr
                    edges[key] = edge
                    if res.diverged.any():
                        rep.notes.append(f"{key}: {int(res.diverged.sum())} evaluation runs diverged")

    def r(pname, oname, nname):
        return float(np.log10(finals[(pname, oname, nname, "SGD")] / finals[(pname, oname, nname, "SSD")]))

    # ---- numbers -------------------------------------------------------------------------------------
    for key in finals:
        rep.numbers["/".join(key)] = {"lr": lrs[key], "coarse_grid_edge": edges[key],
                                      "mean_final_rel_loss": finals[key],
                                      "median_final_rel_loss": medians[key]}
    logratio = {f"{p}/{o}/{n}": r(p, o, n) for p in problems(d) for o, _ in ORIENTATIONS
                for n, _ in NOISE_LEVELS}
    rep.numbers["log10_SGD_over_SSD"] = logratio
    rep.numbers["log10_SGD_over_SSD_of_medians (not claimed)"] = {
        k: float(np.log10(medians[tuple(k.split("/")) + ("SGD",)] / medians[tuple(k.split("/")) + ("SSD",)]))
        for k in logratio}
    orient = {f"{p}/{n}/{m}": float(np.log10(finals[(p, "rotated", n, m)] / finals[(p, "aligned", n, m)]))
              for p in problems(d) for n, _ in NOISE_LEVELS for m in METHODS}
    rep.numbers["log10_rotated_over_aligned"] = orient
    on_edge = [("/".join(k), e) for k, e in edges.items() if e]
    if on_edge:
        rep.notes.append(f"coarse-grid best lr at a grid end (optimum may lie outside): {on_edge}")

    # ---- claims --------------------------------------------------------------------------------------
    W, I = "well-conditioned", "ill-conditioned"
    a = [r(W, o, "noise-free") for o, _ in ORIENTATIONS]
    rep.claim("a_well_noisefree_gd_much_better",
              "well-conditioned, noise-free: GD vastly outperforms SSD (Fig. 2 caption)",
              f"log10(SGD/SSD) <= -{MUCH_BETTER} in both orientations (aligned, rotated)",
              a, all(v <= -MUCH_BETTER for v in a))
    b = [r(W, o, n) for n in ("moderate noise", "high noise") for o, _ in ORIENTATIONS]
    rep.claim("b_well_noisy_evened_out",
              "well-conditioned, with noise: the difference is evened out (Fig. 2 caption)",
              f"|log10(SGD/SSD)| <= {EVEN} at both noise levels and orientations "
              "(moderate aligned, moderate rotated, high aligned, high rotated)",
              b, all(abs(v) <= EVEN for v in b))
    c = [orient[f"{W}/{n}/{m}"] for n, _ in NOISE_LEVELS for m in METHODS]
    rep.claim("c_well_orientation_little_effect",
              "well-conditioned: the orientation of the eigenbasis has little effect (Fig. 2 caption)",
              f"|log10(rotated/aligned)| <= {ORIENTATION} for SGD and SSD at every noise level "
              "(order: noise-free SGD, SSD; moderate SGD, SSD; high SGD, SSD)",
              c, all(abs(v) <= ORIENTATION for v in c))
    dd = [r(I, "rotated", n) for n, _ in NOISE_LEVELS]
    rep.claim("d_ill_rotated_roughly_equal",
              "ill-conditioned, randomly rotated: SGD and SSD perform roughly equal (Fig. 2 caption)",
              f"|log10(SGD/SSD)| <= {EVEN} at every noise level (noise-free, moderate, high)",
              dd, all(abs(v) <= EVEN for v in dd))
    e = [r(I, "aligned", n) for n, _ in NOISE_LEVELS]
    rep.claim("e_ill_aligned_ssd_clearly_better",
              "ill-conditioned, axis-aligned: SSD clearly outperforms SGD (Fig. 2 caption)",
              f"log10(SGD/SSD) >= {CLEARLY} at every noise level (noise-free, moderate, high)",
              e, all(v >= CLEARLY for v in e),
              known_failure=(
                  "not reproduced with isotropic Gaussian noise: SSD's edge on the axis-aligned problem "
                  "vanishes once noise is present (log10 ratio ~ -0.1), and noise-free it stays under the "
                  "pre-set factor 10 at full size. A likely reason (theory_notes §3G): where noise dominates, "
                  "E sign(g_i + xi_i) = erf(g_i/(sqrt2 sigma_i)) ~ sqrt(2/pi) g_i/sigma_i, the same gain for "
                  "every coordinate under isotropic noise, so SSD acts like SGD with a rescaled lr and loses "
                  "the per-coordinate step normalisation that helps it on the axis-aligned problem. The "
                  "paper's noise model is [NF]; with curvature-scaled noise (sigma_i ~ lambda_i) the ratio "
                  "was measured at about 10^0.7-10^1.1 in an exploratory run (not part of this figure)."))

    # ---- figure --------------------------------------------------------------------------------------
    with simopt.plotting.style() as plt:
        fig = plt.figure(figsize=(7.2, 4.4))
        gs = fig.add_gridspec(2, 4, width_ratios=[0.55, 1, 1, 1], wspace=0.55, hspace=0.42)
        for i, (pname, lam) in enumerate(problems(d).items()):
            ax = fig.add_subplot(gs[i, 0])
            ax.semilogy(np.arange(1, d + 1), lam, ".", ms=2.5, color="k")
            ax.set_title(f"{pname}\n$\\kappa = 10^{{{np.log10(lam[-1] / lam[0]):.0f}}}$")
            ax.set_ylabel("eigenvalue $\\lambda_i$")
            if i == 1:
                ax.set_xlabel("index $i$")
            ylo = 1.0
            axes = [fig.add_subplot(gs[i, j + 1]) for j in range(len(NOISE_LEVELS))]
            for j, (nname, c) in enumerate(NOISE_LEVELS):
                ax = axes[j]
                for m in METHODS:
                    for oname, _ in ORIENTATIONS:
                        x, Y = curves[(pname, oname, nname, m)]
                        Y = np.maximum(Y, FLOOR)
                        simopt.plotting.mean_std_band(
                            ax, x, Y, color=simopt.plotting.color(m.lower()),
                            ls="-" if oname == "aligned" else "--",
                            label=f"{m}, {'axis-aligned' if oname == 'aligned' else 'rotated'}")
                        ylo = min(ylo, float(np.min(Y.mean(0))))
                ax.set_title(nname if c == 0 else f"{nname} (c = {c:g})")
                hit = [m for m in METHODS if np.all(curves[(pname, "aligned", nname, m)][1][:, -1] <= FLOOR)]
                if hit:
                    ax.text(0.96, 0.1, f"{', '.join(hit)} < {FLOOR:.0e}\n(drawn at {FLOOR:.0e})", transform=ax.transAxes,
                            ha="right", va="bottom", fontsize=7)
                if i == 1:
                    ax.set_xlabel("step $t$")
                if j == 0:
                    ax.set_ylabel("$f(x_t)/f(x_0)$")
            for ax in axes:
                ax.set_ylim(max(ylo / 3, FLOOR / 3), 3.0)
        handles, labels = fig.axes[1].get_legend_handles_labels()
        fig.legend(handles, labels, loc="lower center", ncol=4, bbox_to_anchor=(0.55, -0.04))
        fig.suptitle("SGD vs stochastic sign descent (SSD) on noisy quadratics, d = %d, lr tuned per panel; "
                     "mean $\\pm$1 std over %d runs" % (d, S["eval_runs"]), fontsize=9, y=0.995)
        code = rep.finish(fig)
        plt.close(fig)
    return code


if __name__ == "__main__":
    sys.exit(main())
