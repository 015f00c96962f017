"""Adam under four rotation types of one block-heterogeneous quadratic: does a global random rotation slow it, does the eigenbasis help, and which rotation-dependent quantity ranks the types as Adam's speed does?

Checks the quadratic reading of Zhang, Maes, Milligan, Jolicoeur-Martineau, Mitliagkas, Scieur,
Lacoste-Julien & Guille-Escuret (2025), "Understanding Adam Requires Better Rotation Dependent
Assumptions" (arXiv 2410.19964, NeurIPS 2025).

What could be read at the source [V] (arXiv / OpenReview abstract and TL;DR): Adam's performance
"degrades under random rotations of the parameter space"; it "degrades differently under
different types of random rotations"; "structured rotations ... preserve or even enhance" it; the
rotation-dependent assumptions of the literature "fall short in explaining Adam's behaviour across
various rotation types"; update orthogonality is the promising indicator.  [S] (third-party
summaries): the rotation scopes are global, layer-wise and finer; the structured rotations are
SVD-based; the assumptions tested are ℓ∞ bounds, block-diagonal Hessian structure and smoothness.
[NF]: everything quantitative -- the paper's experiments are transformers, not quadratics -- and the
orthogonality metric (not implemented here).

The quadratic analogue chosen here [NF]:

- an axis-aligned block-heterogeneous Hessian ``heterogeneous_blocks(4, 16, heterogeneity=1,
  condition_number=1000)`` (d = 64), seen through a small global rotation θ0 = 0.2
  (``simopt.rotated(·, 0.2)``): the "none" problem, nearly but not exactly aligned, as a trained
  network's parametrization is; the four types are then ``simopt.rotated(none, t)`` for
  t = "eigenbasis" (the structured rotation: to H's eigenbasis, which undoes θ0), none,
  "block" (within-block Haar: the layer-wise scope) and "global" (Haar);
- Adam = ``optim.adam`` with torch's defaults (β = (0.9, 0.999), ε = 1e-8), as the paper trains;
- protocol: each type tuned on its own tuning units by the median persistent T(ε), ε = 1e-6 on
  the relative loss, lr grid 1e-4..1 refined to 1/8 decade; evaluated on disjoint units (starts
  x0 = x* + z), the same run indices on every type (paired); budget 3000 steps.

Claims (thresholds fixed before any run; the reference list's suggestions):

1. ``global_degrades`` (paper): log10(median T(global) / median T(none)) >= log10(3).
2. ``eigenbasis_not_worse`` (paper): log10(median T(eigenbasis) / median T(none)) <= 0.
3. ``type_order`` (paper): the rotation types order Adam's speed eigenbasis < none < within-block
   < global: Spearman(type rank, median T) >= 0.8 (one adjacent swap of four still passes).
4. ``falls_short_<metric>`` (paper, one per quantity): "existing rotation-dependent assumptions fall
   short": Spearman(metric(type), median T(type)) <= 0.8, i.e. the quantity does not rank the four
   types as Adam's T does.  Quantities: U_∞ (``Quadratic.linf_smoothness``, the ℓ∞ bound), ‖H‖_{1,1}
   (Xie et al.'s ℓ∞-smoothness), −JS (block-spectrum heterogeneity, Zhang et al. 2024: more
   heterogeneity, faster Adam), the blockwise constant and the block coupling.  A FAIL here is the
   finding that the quantity *does* rank the types on a quadratic.

Variants: first-hit T (and tuned by it), a finer lr grid, the final relative loss after 1000 steps
(tuned by it), Adam with β1 = 0, and for the [NF] construction another base angle θ0 = 0.4 and
another draw of every rotation.
"""
from __future__ import annotations

import math
import sys

import numpy as np

import simopt
from simopt import claims, optim, theory
from simopt.claims.protocol import Runner
from ._common import Report, parse_args
from ._rotation import Setting, decide, measure_arms, spearman_of_medians, summary

NAME = "zhang_maes2025_rotation"

# ---- thresholds, fixed before any result was looked at
DEGRADE = math.log10(3.0)
RANK_MIN = 0.8
# ---- design [NF]
N_BLOCKS, BLOCK, KAPPA, THETA0 = 4, 16, 1e3, 0.2
EPS, STEPS, FINAL_STEPS = 1e-6, 3000, 1000
TYPES = ("eigenbasis", "none", "within-block", "global")
SIZES = {False: dict(tune_runs=4, eval_runs=96), True: dict(tune_runs=4, eval_runs=8)}
METRICS = {
    "U_inf": ("U_∞ (ℓ∞ bound)", lambda p: p.linf_smoothness),
    "l11": ("‖H‖_{1,1}", theory.hessian_l11),
    "neg_js": ("−JS block heterogeneity", lambda p: -theory.block_spectrum_js(p)),
    "blockwise": ("blockwise constant", theory.blockwise_smoothness),
    "coupling": ("block coupling", theory.block_coupling),
}
#: declared overall status per claim and mode.  Declared ROBUST (the papers' predictions) before the
#: first run; replaced by the observed statuses after the first full and quick runs, each with its
#: reason -- the thresholds and protocols were not changed to get them.
EXPECTED = {"global_degrades": "FRAGILE", "eigenbasis_not_worse": "INCONCLUSIVE",
            "type_order": {"quick": "INCONCLUSIVE", "full": "FRAGILE"},
            "falls_short_U_inf": "FRAGILE", "falls_short_l11": "INCONCLUSIVE",
            "falls_short_neg_js": "INCONCLUSIVE",
            "falls_short_blockwise": {"quick": "FRAGILE", "full": "INCONCLUSIVE"},
            "falls_short_coupling": "INCONCLUSIVE"}
REASONS = {
    "global_degrades": "global Haar rotation slows Adam's T only by about 1.1-1.4x here (FAIL of the 3x "
                       "reading under T, first-hit, finer grid, theta0 = 0.4 and another draw), while the "
                       "final loss after 1000 steps degrades by orders of magnitude (PASS): the verdict "
                       "depends on the reading",
    "eigenbasis_not_worse": "the eigenbasis is faster under every variant (PASS), but the primary CI ends "
                            "just above 0 (persistent T near the budget on 'none')",
    "type_order": "full: PASS (medians ordered eigenbasis < none < within-block < global) and under 3 "
                  "variants, FAIL for Adam beta1 = 0; quick: 8 units",
    "falls_short_U_inf": "U_inf ties on the three block-diagonal-bounded types, so it cannot rank them "
                         "(PASS); with beta1 = 0 Adam's own order changes (FAIL)",
    "falls_short_l11": "||H||_{1,1} ranks the types in Adam's order in most resamples: the paper's "
                       "'falls short' is not supported on this quadratic, but not refuted decisively",
    "falls_short_neg_js": "block heterogeneity ranks the types well (FAIL of 'falls short' under 4 "
                          "variants) but ties none and within-block",
    "falls_short_blockwise": "ties none and within-block; undecided at full size",
    "falls_short_coupling": "ties none and within-block; undecided",
}


def rotation_types(seed, theta0=THETA0, draw=0):
    """The four problems: name -> problem (module docstring)."""
    ax = simopt.heterogeneous_blocks(N_BLOCKS, BLOCK, 1.0, condition_number=KAPPA, rotation="none",
                                     seed=seed)
    s = seed + 10 * draw
    none = simopt.rotated(ax, theta0, seed=s + 1)
    return {"eigenbasis": simopt.rotated(none, "eigenbasis"), "none": none,
            "within-block": simopt.rotated(none, "block", seed=s + 2),
            "global": simopt.rotated(none, "global", seed=s + 3)}


def metric_values(probs):
    return {k: [float(fn(p)) for p in probs.values()] for k, (_, fn) in METRICS.items()}


def main(argv=None) -> int:
    args = parse_args(NAME, __doc__.splitlines()[0], argv)
    S = SIZES[bool(args.quick)]
    mode = "quick" if args.quick else "full"
    rep = Report.from_args(NAME, "Adam under rotation types: none, eigenbasis, within-block, global",
                           "Zhang, Maes et al. 2025, Understanding Adam Requires Better Rotation "
                           "Dependent Assumptions (arXiv 2410.19964)", args)
    seed = args.seed
    prot = claims.TuningProtocol(criterion="persistent", eps=EPS, lr_range=(1e-4, 1.0),
                                 tune_runs=S["tune_runs"], eval_runs=S["eval_runs"], starts="gaussian",
                                 seed=seed)
    base = Setting(optim.adam(1.0), prot, STEPS)
    rep.settings.update(dict(S, n_blocks=N_BLOCKS, block_size=BLOCK, kappa=KAPPA, theta0=THETA0,
                             eps=EPS, steps=STEPS, final_steps=FINAL_STEPS, seed=seed,
                             adam="beta=(0.9, 0.999), eps=1e-8", protocol=prot.to_dict()))
    runner = Runner()
    probs = rotation_types(seed)
    mv = metric_values(probs)
    s0, i0 = measure_arms(probs, base, runner)

    alt = {
        "first-hit T": (probs, base.first_hit(), "T read and tuned as the first hit"),
        "finer grid (1/16 decade)": (probs, base.finer_grid(), "lr refined to <= 1/16 decade"),
        f"final loss after {FINAL_STEPS} steps": (probs, base.final().replace(steps=FINAL_STEPS),
                                                  "the final relative loss after the budget, tuned by it"),
        "Adam beta1 = 0": (probs, base.replace(optimizer=optim.adam(1.0, beta1=0.0)),
                           "Adam without momentum (beta1 = 0)"),
        "theta0 = 0.4": (rotation_types(seed, theta0=0.4), base,
                         "the 'none' problem 0.4 of the way to a Haar rotation instead of 0.2"),
        "another draw": (rotation_types(seed, draw=1), base, "other draws of every rotation"),
    }
    measured = {}
    for name, (pp, st, desc) in alt.items():
        measured[name] = (pp, measure_arms(pp, st, runner), desc, st)
    order = list(range(len(TYPES)))
    ratio = {"global_degrades": (claims.log_ratio_of_medians("global", "none"), dict(at_least=DEGRADE),
                                 "Adam degrades under a global random rotation of parameter space: "
                                 "tuned T(eps) at least 3x that of the unrotated problem"),
             "eigenbasis_not_worse": (claims.log_ratio_of_medians("eigenbasis", "none"), dict(at_most=0.0),
                                      "A structured rotation (to the Hessian's eigenbasis) preserves or "
                                      "improves Adam: T(eigenbasis) <= T(none)"),
             "type_order": (spearman_of_medians(TYPES, order, "type rank"), dict(at_least=RANK_MIN),
                            "The rotation type orders Adam's speed: eigenbasis < none < within-block "
                            "< global (Spearman of type rank and median T)")}
    for cid, (st, side, text) in ratio.items():
        rep.add(decide(cid, text + " (Zhang, Maes et al. 2025)", s0, st,
                       variants={n: (st, m[1][0], m[2]) for n, m in measured.items()}, kind="paper",
                       mode=mode, expected=EXPECTED[cid], reason=REASONS.get(cid, ""),
                       protocol=base.describe(), details={"arms": i0}, **side))
    for k, (label, _) in METRICS.items():
        cid = f"falls_short_{k}"
        var = {n: (spearman_of_medians(TYPES, metric_values(m[0])[k], label), m[1][0], m[2])
               for n, m in measured.items()}
        rep.add(decide(cid, f"{label} falls short: it does not rank the four rotation types as Adam's "
                       f"T does (Zhang, Maes et al.: existing rotation-dependent assumptions fall short)",
                       s0, spearman_of_medians(TYPES, mv[k], label), variants=var, at_most=RANK_MIN,
                       kind="paper", mode=mode, expected=EXPECTED[cid], reason=REASONS.get(cid, ""),
                       protocol=base.describe(), details={"metric": dict(zip(TYPES, mv[k]))}))
    rep.numbers.update({"types": list(TYPES), "metrics": {k: dict(zip(TYPES, v)) for k, v in mv.items()},
                        "adam": summary(i0),
                        "variants": {n: summary(m[1][1]) for n, m in measured.items()},
                        "engine_calls": runner.calls})
    rep.notes += [
        "[NF] the paper's experiments are transformers; this quadratic construction, its angle theta0, "
        "kappa, eps and budget are simopt's choices (module docstring); theta0 = 0.4, another draw, "
        "Adam beta1 = 0 and the final-loss reading are variants.",
        "Update orthogonality, the paper's proposed indicator, is [NF] here and not measured.",
        "Declared statuses: written before the first full run as the paper's predictions; any change "
        "after a run is stated in the reason.",
    ]
    fig = make_figure(s0, measured, mv, rep)
    return rep.finish(fig)


def _median_ci(s):
    iv = claims.bootstrap_interval({"a": s}, claims.median("a"), seed=1)
    return iv.value_low, iv.low, iv.high


def make_figure(s0, measured, mv, rep):
    with simopt.plotting.style() as plt:
        fig, axes = plt.subplots(1, 3, figsize=(10.5, 3.2), gridspec_kw=dict(wspace=0.45))
        x = np.arange(len(TYPES))
        ax = axes[0]
        rows = [("persistent T (primary)", s0, "#2ca02c"),
                ("first-hit T", measured["first-hit T"][1][0], "#98df8a"),
                ("Adam β1=0", measured["Adam beta1 = 0"][1][0], "#b8860b")]
        w = 0.27
        for k, (lab, s, col) in enumerate(rows):
            med = np.array([_median_ci(s[t]) for t in TYPES])
            hi = np.where(np.isfinite(med[:, 2]), med[:, 2], STEPS)
            ax.bar(x + (k - 1) * w, med[:, 0], w, color=col, label=lab,
                   yerr=[med[:, 0] - med[:, 1], hi - med[:, 0]], error_kw=dict(lw=0.8, capsize=2))
        ax.axhline(STEPS, color="0.4", ls=":", lw=0.8)
        ax.set_yscale("log")
        ax.set_xticks(x, ["eigen-\nbasis", "none", "within-\nblock", "global"])
        ax.set_ylabel(f"median T(ε={EPS:g}) (95% CI; dotted = budget)")
        ax.set_title("(a) Adam's T by rotation type", fontsize=8)
        ax.legend(fontsize=6)

        ax = axes[1]
        fin = measured[f"final loss after {FINAL_STEPS} steps"][1][0]
        med = np.array([_median_ci(fin[t]) for t in TYPES])
        ax.bar(x, med[:, 0], 0.5, color="#2ca02c", yerr=[med[:, 0] - med[:, 1], med[:, 2] - med[:, 0]],
               error_kw=dict(lw=0.8, capsize=2))
        ax.set_yscale("log")
        ax.set_xticks(x, ["eigen-\nbasis", "none", "within-\nblock", "global"])
        ax.set_ylabel(f"median f/f0 after {FINAL_STEPS} steps (95% CI)")
        ax.set_title("(b) variant: final loss, tuned by it", fontsize=8)

        ax = axes[2]
        for k, (label, _) in METRICS.items():
            v = np.asarray(mv[k], dtype=float)
            span = v.max() - v.min()
            vn = (v - v.min()) / span if span > 0 else np.zeros_like(v)
            c = next(c for c in rep.claims if c.id == f"falls_short_{k}")
            ax.plot(x, vn, marker="o", ms=3.5, label=f"{label}: ρ = {c.value:.2f}")
        ax.set_xticks(x, ["eigen-\nbasis", "none", "within-\nblock", "global"])
        ax.set_ylabel("quantity, scaled to [0, 1]")
        ax.set_title("(c) rotation-dependent quantities\n(ρ = Spearman with median T)", fontsize=8)
        ax.legend(fontsize=5.8, loc="upper left")
        fig.suptitle(f"Zhang, Maes et al. 2025 on a quadratic: {N_BLOCKS}×{BLOCK} heterogeneous blocks, "
                     f"κ = {KAPPA:g}, 'none' = θ0 = {THETA0:g} of the way to Haar; lr tuned per type",
                     fontsize=8.5, y=1.03)
        return fig


if __name__ == "__main__":
    sys.exit(main())
