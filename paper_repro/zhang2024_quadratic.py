"""GD, SGD with momentum and Adam on four block-diagonal quadratics with κ = 5000, tuned under a declared protocol: whether Adam reaches the gradient-norm target far sooner when the blocks' spectra are heterogeneous depends on the reading of "reaches" (first hit vs reach-and-stay), and heavy-ball momentum beats Adam on all four cases.

Reproduces the quadratic experiment of Zhang, Chen, Ding, Li, Sun & Luo (2024), "Why Transformers Need
Adam: A Hessian Perspective" (figure "Adam and GD on four quadratic problems"; seed_math.md §2), on the
claims machinery (``simopt.claims``), and checks the β1 = 0, β2 = 1 version of their quadratic theorem
as derived in theory_notes.md §2E.

Known from the paper [V]/[S] (seed_math.md §2): four block-diagonal quadratics, each with condition
number κ = 5000; two with heterogeneous blocks (Cases 1 and 3) and two homogeneous ones (Cases 2 and 4),
where "homogeneous" keeps the eigenvalues and spreads them evenly over the blocks; y axis = log of the
gradient norm against iterations; GD is much worse than Adam on the heterogeneous cases and similar on the
homogeneous ones; the paper's thesis (abstract) is that "SGD performs worse than Adam" when the Hessian
has block heterogeneity and "on par" without it; Adam with β1 = 0, β2 = 1 and v0 from the first gradient
converges linearly at a rate set by the blocks' condition numbers (thesis Thm 3.2), and the JS distance
between block spectra measures the heterogeneity.

Not known [NF] and chosen here: the per-block spectra (the paper's Case 1 uses rescaled GPT-2 block
spectra), block sizes and dimension, the linear term h (here f = ½(x − x*)ᵀH(x − x*), x* standard normal),
the initialisation, learning rates, β's, the target and the iteration count.  Settings used:

- 4 blocks × 50 coordinates (quick: 4 × 25), every block Haar-rotated on its own (``rotation="block"``):
  H is block-diagonal but not diagonal, as in the paper;
- Case 1 (heterogeneous, shaped): block b takes a spectrum *shape* — power law λ ∝ 1/i for b = 0, 2,
  two clusters (20% of the eigenvalues ten times the rest, ``spectra.two_cluster``) for b = 1, 3 — scaled
  and shifted (affinely, as the paper's appendix describes) onto its own range [ℓ_b, 4ℓ_b],
  ℓ_b = (κ/4)^{b/3}: block condition numbers κ_l = 4, separated ranges, global range exactly [1, 5000];
- Case 3 (heterogeneous): ``heterogeneous_blocks(4, n, heterogeneity=1, condition_number=5000)``
  (κ_l = 5000^{1/16} ≈ 1.7);
- Cases 2 and 4: ``spectra.redistribute`` of Cases 1 and 3 (same eigenvalues dealt round-robin over the
  blocks, κ_l ≈ κ);
- GD = ``optim.sgd`` (noise-free); SGD+momentum = ``optim.sgd(momentum=0.9)`` (heavy ball, torch's rule:
  the "SGD" of the paper's transformer experiments); Adam = ``optim.adam`` (β = (0.9, 0.999), ε = 1e-8,
  torch's rule); Adam(β1=0, β2=1) = ``optim.adam(beta1=0, beta2=1, eps=0, v0="first_grad")`` (the
  theorem's setting);
- units: a start x0 = x* + z, z ~ N(0, I) (``starts="gaussian"``: each run index its own z); the problem
  is fixed per case (seeded), so the units differ by their start only;
- protocol (``TuningProtocol``, primary): every lr tuned per method and case by the median
  **persistent** T(ε) — the first recorded step from which ‖∇f(x_t)‖ ≤ ε‖∇f(x_0)‖ holds through the
  end of the budget — ε = 1e-5, on a log grid of 2 points/decade refined to ≤ 1/8 decade around the
  optimum, on 8 tuning starts (quick 4); the claim is then measured on 32 other starts (quick 8),
  paired bootstrap 95% intervals; 16000 steps (about 1.5× GD's T(ε) on its slowest case), records every
  10 steps;
- the rate check runs Adam(β1=0, β2=1) for each of 8 evaluation starts at its own
  η = 2/(λ_min(H̃) + λ_max(H̃)), H̃ = D^{-1/2}HD^{-1/2}, D = diag(|∇f(x0)|) (``theory.adam_optimal_lr``),
  for ⌈15 κ̃⌉ steps (capped at 60000, quick 20000).

Readings of the paper's statements (each a ``Claim``; thresholds as in the earlier version: "much worse"
= a ratio of median T's ≥ 10, "similar" = within a factor of 3 either way):

- "GD is much worse than Adam" (Cases 1, 3): log10(median T_GD / median T_Adam) ≥ 1 with T the
  *persistent* T(1e-5): "when has it converged" is the primary reading; the first hit ("how soon does
  it first get there", the earlier version's reading) is a variant.  Further variants: a 1/16-decade
  grid; ε = 1e-3 (the paper gives no target); Adam in the theorem's setting (β1 = 0, β2 = 1, v0 = g0²).
  Control: the same claim on the homogeneous counterpart (Case 2 for Case 1, Case 4 for Case 3) under
  the first-hit reading, where the heterogeneous claim holds: expected FAIL (no 10× gap without block
  heterogeneity).
- "GD performs similarly to Adam" (Cases 2, 4; the paper's own negative control): the ratio in
  [1/3, 3], same protocol and variants.
- The same two statements with SGD+momentum (0.9) in place of GD (the paper's "SGD"), with one more
  variant: the momentum tuned jointly with the lr over {0.5, 0.9, 0.99}.
- Identity checks (kind "identity": true by construction or exact algebra, not counted as reproduced):
  JS(heterogeneous) > JS(homogeneous) over problem draws; Adam(β1=0, β2=1)'s tail rate equals
  theory_notes §2E's ((κ̃−1)/(κ̃+1))² within 10% (Cases 1, 3); its loss obeys f_t ≤ ρ̃^{2t} f_0 at
  every step.

What holds under which reading (full size, 32 evaluation starts; numbers in the JSON report):

- **"GD much worse than Adam on heterogeneous blocks" holds for the first hit and fails for reach-and-stay**
  (FRAGILE on Cases 1 and 3).  First hit: T_GD/T_Adam = 52 and 39 (PASS).  But at its first-hit-tuned
  lr Adam(β2 = 0.999) dips below 1e-5 within ~200 steps and returns to a limit cycle, ending 2100× and
  1500× above GD's final gradient norm.  Tuned to reach 1e-5 and stay below it, Adam needs a small lr
  and GD is faster: T_GD/T_Adam = 0.70 and 0.55 (0.60 and 0.47 on a 1/16-decade grid; 0.24 and 0.29 at
  ε = 1e-3).  The homogeneous control (first hit) has no 10× gap (Adam 6.1× and 2.4× sooner: FAIL, as
  declared), so block heterogeneity does widen Adam's first-hit lead.
- **"similar on homogeneous blocks"** (Cases 2, 4; the paper's own negative control): INCONCLUSIVE.
  Under reach-and-stay Adam stays above 1e-5 at the end on about half the starts at every lr, so
  its median T may lie beyond the budget.  For the first hit Adam is 6.1× sooner on Case 2 (FAIL).
- **Against SGD with momentum 0.9 Adam is never much better: FAILS everywhere.**  Heavy ball at its tuned
  lr reaches 1e-5 and stays in 440 (Cases 1, 2) and 350 (Cases 3, 4) steps; Adam is 2.1× / 1.6× sooner
  for the first hit on Cases 1 / 3 and 36× / 45× later for reach-and-stay; on Cases 2 / 4 heavy ball is
  4× / 10× faster even for the first hit.  Tuning the momentum jointly keeps 0.9.
- Adam in the theorem's setting (β1 = 0, β2 = 1, v0 = g0²) is the preconditioned GD of theory_notes
  §2E: its rate and bound identities hold at each start's own optimal step, but one lr tuned on other
  starts diverges on 21, 11 and 22 of the 32 evaluation starts of Cases 1, 3 and 4 (κ̃ and λ_max(H̃)
  depend on x0).
- Quick mode (the same problems, 4 tuning and 8 evaluation starts) gives the same statuses.
"""
from __future__ import annotations

import math
import sys

import numpy as np

import simopt
from simopt import claims, optim, spectra, theory
from simopt.claims import variants as V
from simopt.claims.protocol import Runner, start_points
from ._common import Report, evaluated, parse_args

NAME = "zhang2024_quadratic"

# ---- the paper's fixed quantities
KAPPA = 5000.0
N_BLOCKS = 4

# ---- claim thresholds (unchanged from the earlier version, fixed before any result was looked at)
#: "GD much worse than Adam" on a heterogeneous case: median T_GD(ε) / median T_Adam(ε) at least this
HETERO_MIN_RATIO = 10.0
#: "similar" on a homogeneous case: that ratio inside this band (within a factor of 3 either way)
HOMO_BAND = (1.0 / 3.0, 3.0)
#: Adam(β1=0, β2=1): measured per-step loss-contraction exponent −ln q vs the §2E prediction
#: −2 ln((κ̃−1)/(κ̃+1)); relative tolerance on the median over runs (heterogeneous cases)
RATE_REL_TOL = 0.10
#: §2E is exact: f(x_t) ≤ ρ̃^{2t} f(x_0) at every step, up to this relative rounding slack
BOUND_SLACK = 1e-8

# ---- protocol and design choices ([NF] in the paper)
EPS = 1e-5                  # target on the relative gradient norm (primary)
EPS_ALT = 1e-3              # ... and the variant's
STEPS = 16000               # about 1.5x GD's T(EPS) on its slowest case
RECORD_EVERY = 10
MOMENTUM = 0.9              # SGD+momentum (heavy ball, torch's rule)
MOMENTA = (0.5, 0.9, 0.99)  # ... tuned jointly with the lr in the variant
BLOCK_RANGE = 4.0           # Case 1: each block spans [ℓ_b, 4 ℓ_b]
RATE_STEPS_PER_KAPPA = 15   # rate runs: ⌈15 κ̃⌉ steps reach f/f0 ≈ e^{-60} ≈ 1e-26
RATE_FLOOR = 1e-24          # ...the tail window ends before the loss falls below this · f0
SIZES = {
    False: dict(block_size=50, tune_runs=8, eval_runs=32, rate_runs=8, rate_max_steps=60000, js_draws=8),
    True: dict(block_size=50, tune_runs=4, eval_runs=8, rate_runs=8, rate_max_steps=60000, js_draws=4),
}
GD, HB, ADAM, ADAM_T = "GD", "SGD+momentum", "Adam", "Adam(β1=0, β2=1)"
#: lr search ranges (log grid, extended automatically when the best is at an end)
LR_RANGES = {GD: (1e-5, 1e-3), HB: (1e-6, 1e-3), ADAM: (1e-4, 1.0), ADAM_T: (1e-5, 0.1)}
HETERO = ("Case 1", "Case 3")
HOMOGENEOUS_OF = {"Case 1": "Case 2", "Case 3": "Case 4"}

#: the overall status each paper claim is declared to have (found by the runs; see the docstring)
EXPECTED = {
    "Case 1: GD much worse than Adam": "FRAGILE",
    "Case 3: GD much worse than Adam": "FRAGILE",
    "Case 2: GD similar to Adam": "INCONCLUSIVE",
    "Case 4: GD similar to Adam": "INCONCLUSIVE",
    "Case 1: SGD+momentum much worse than Adam": "FAILS",
    "Case 3: SGD+momentum much worse than Adam": "FAILS",
    "Case 2: SGD+momentum similar to Adam": "FAILS",
    "Case 4: SGD+momentum similar to Adam": "FAILS",
}
REASONS = {
    "Case 1: GD much worse than Adam":
        "holds only for the first hit (GD/Adam ~50x): Adam (beta2=0.999) tuned by the first hit dips below "
        "eps within ~200 steps and returns to a limit cycle ~2000x above GD's final gradient norm; tuned "
        "to reach eps and stay, Adam needs a small lr and GD is faster (GD/Adam ~0.7; ~0.25 at eps=1e-3); "
        "the theorem's Adam at one tuned lr diverges on most evaluation starts",
    "Case 3: GD much worse than Adam":
        "as Case 1: PASS only for the first hit (~40x); persistent GD/Adam ~0.55, ~0.3 at eps=1e-3",
    "Case 2: GD similar to Adam":
        "persistent reading undecided at the budget: at every lr Adam ends above eps=1e-5 on about half "
        "the starts, so its median T may lie beyond the budget; first hit: Adam ~6x sooner (FAIL)",
    "Case 4: GD similar to Adam":
        "persistent reading undecided at the budget (as Case 2); first hit: Adam ~2.4x sooner, its "
        "interval reaching below the band",
    "Case 1: SGD+momentum much worse than Adam":
        "heavy ball (momentum 0.9, tuned lr) reaches eps=1e-5 in ~440 steps; Adam is ~2x sooner for the "
        "first hit and ~35x later persistently: FAIL under every variant (a jointly tuned momentum "
        "keeps 0.9)",
    "Case 3: SGD+momentum much worse than Adam":
        "as Case 1: heavy ball within ~350 steps; Adam 1.6x sooner first-hit, ~45x later persistently",
    "Case 2: SGD+momentum similar to Adam":
        "heavy ball is more than 3x faster than Adam under every reading (~4x first-hit, >35x "
        "persistent): FAIL below the band",
    "Case 4: SGD+momentum similar to Adam":
        "heavy ball is more than 3x faster than Adam under every reading (~10x first-hit, >40x "
        "persistent): FAIL below the band",
}
#: quick-mode statuses where the smaller problem and fewer starts legitimately differ (none so far)
EXPECTED_QUICK: dict = {}

COLORS = {GD: "#1f77b4", HB: "#9467bd", ADAM: "#2ca02c", ADAM_T: "#b8860b", "Adam (first-hit tuned)": "#2ca02c"}
STYLES = {GD: "-", HB: "-", ADAM: "-", ADAM_T: "--", "Adam (first-hit tuned)": ":"}


def make_methods():
    """The four rules compared (lr is set by the tuning)."""
    return {
        GD: optim.sgd(1.0),
        HB: optim.sgd(1.0, momentum=MOMENTUM),
        ADAM: optim.adam(1.0),
        ADAM_T: optim.adam(1.0, beta1=0.0, beta2=1.0, eps=0.0, v0="first_grad"),
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


def make_protocol(S, seed) -> claims.TuningProtocol:
    """The primary protocol: persistent T(EPS) on the relative gradient norm, tuning starts disjoint
    from the evaluation starts."""
    return claims.TuningProtocol(criterion="persistent", eps=EPS, metric="grad_norm", relative=True,
                                 lr_range=LR_RANGES[GD], lr_ranges=LR_RANGES, points_per_decade=2,
                                 resolution=1.0 / 8, tune_runs=S["tune_runs"], eval_runs=S["eval_runs"],
                                 starts="gaussian", seed=seed)


def comparison_variants(base, methods):
    """The protocol variants of a T-ratio claim of ``base`` against Adam."""
    out = [V.first_hit(), V.finer_grid(),
           V.protocol(f"eps={EPS_ALT:g}", f"target eps={EPS_ALT:g} on the relative gradient norm "
                      f"instead of {EPS:g} (the paper gives none), in the tuning and the measurement",
                      eps=EPS_ALT),
           V.setting("Adam(β1=0, β2=1, v0=g0²)", "Adam in the theorem's setting (beta1=0, beta2=1, eps=0, "
                     "v0 = first gradient squared) instead of beta2=0.999",
                     methods={base: methods[base], ADAM_T: methods[ADAM_T]},
                     statistic=claims.log_ratio_of_medians(base, ADAM_T))]
    if base == HB:
        out.append(V.protocol("momentum tuned", f"the momentum tuned jointly with the lr over {list(MOMENTA)}",
                              hyper={HB: {"momentum": MOMENTA}}))
    return out


def homogeneous_control(hom_name, hom_problem):
    """The heterogeneous claim on its homogeneous counterpart, read first-hit (where it holds)."""
    return claims.Control(
        f"homogeneous blocks ({hom_name}), first hit",
        lambda c: V.first_hit()(c).replace(family=hom_problem), ("FAIL",),
        f"the same eigenvalues dealt evenly over the blocks ({hom_name}: no block heterogeneity), under "
        "the first-hit reading under which the heterogeneous claim holds: no 10x gap expected")


def make_claims(cases, S, seed) -> list:
    """The eight paper claims on T ratios (module docstring), in report order."""
    methods = make_methods()
    prot = make_protocol(S, seed)
    lo, hi = (math.log10(b) for b in HOMO_BAND)
    out = []
    for base in (GD, HB):
        who = "GD" if base == GD else "SGD with momentum 0.9 (the paper's 'SGD')"
        for cname, (prob, _, hetero) in cases.items():
            kind = "much worse than" if hetero else "similar to"
            cid = f"{cname}: {base} {kind} Adam"
            common = dict(family=prob, methods={base: methods[base], ADAM: methods[ADAM]},
                          statistic=claims.log_ratio_of_medians(base, ADAM), steps=STEPS,
                          record_every=RECORD_EVERY, protocol=prot, reading="persistent",
                          variants=comparison_variants(base, methods),
                          expected={"full": EXPECTED[cid], "quick": EXPECTED_QUICK.get(cid, EXPECTED[cid])},
                          reason=REASONS.get(cid, ""))
            if hetero:
                hom = HOMOGENEOUS_OF[cname]
                out.append(claims.Claim(
                    cid, f"{who} is significantly worse than Adam on a quadratic with heterogeneous blocks "
                         f"(Zhang et al. 2024, quadratic figure, Cases 1 and 3; abstract)",
                    at_least=math.log10(HETERO_MIN_RATIO), control=homogeneous_control(hom, cases[hom][0]),
                    **common))
            else:
                out.append(claims.Claim(
                    cid, f"With homogeneous blocks {who} performs similarly to Adam (Zhang et al. 2024, "
                         f"quadratic figure, Cases 2 and 4; abstract: 'on par')",
                    at_least=lo, at_most=hi, **common))
    return out


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


def bound_excess(res, rho) -> float:
    """max_t f(x_t) / (ρ̃^{2t} f(x_0)) − 1 over the records of one run: ≤ 0 when the bound of
    theory_notes §2E holds (a loss that underflowed to 0 obeys it)."""
    env = rho ** (2.0 * res.steps) * res.loss[0, 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(res.loss[0] > 1e-300, res.loss[0] / env, 0.0)
    return float(np.max(r) - 1.0)


def rate_check(problem, X0, max_steps, record_every):
    """Adam(β1=0, β2=1, v0=g0², ε=0) at each run's optimal η = 2/(λ_min(H̃)+λ_max(H̃)) (theory_notes §2E).
    Returns per-run dicts: κ̃, η, predicted and measured exponents, and the bound's excess."""
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
        exc = math.inf if res.diverged[0] else bound_excess(res, rho)
        out.append(dict(kappa_tilde=kt, lr=eta, rho=rho, steps=steps, capped=steps == max_steps,
                        predicted=pred, measured=meas, rel_err=meas / pred - 1.0, window=(t0, t1),
                        bound_excess=exc, diverged=bool(res.diverged[0])))
    return out


def js_draws(block_size, seed, n):
    """JS distance of the four cases' block spectra over ``n`` problem draws (seeds seed .. seed+n-1)."""
    out = {c: [] for c in ("Case 1", "Case 2", "Case 3", "Case 4")}
    for s in range(seed, seed + n):
        c1 = shaped_block_spectra(block_size, s)
        c3 = simopt.heterogeneous_blocks(N_BLOCKS, block_size, 1.0, condition_number=KAPPA, seed=s).block_eigvals
        for name, sp in (("Case 1", c1), ("Case 2", spectra.redistribute(c1)), ("Case 3", c3),
                         ("Case 4", spectra.redistribute(c3))):
            out[name].append(theory.block_spectrum_js(sp))
    return {k: np.asarray(v) for k, v in out.items()}


def _method_numbers(part) -> dict:
    t, e = part["tuning"], part["evaluation"]
    return dict(lr=t["lr"], hyper=t["hyper"], tuning_status=t["status"], edge=t["edge"],
                step_decades=t["step_decades"], T_persistent_median=e["T_persistent_median"],
                T_persistent_reached=e["T_persistent_reached"], T_first_hit_median=e["T_first_hit_median"],
                T_first_hit_reached=e["T_first_hit_reached"], final_rel_grad_norm_median=e["final_median"],
                diverged=e["diverged"])


def main(argv=None) -> int:
    args = parse_args(NAME, __doc__.splitlines()[0], argv)
    S = SIZES[bool(args.quick)]
    mode = "quick" if args.quick else "full"
    rep = Report.from_args(NAME, "GD, SGD+momentum and Adam on heterogeneous / homogeneous block-diagonal "
                           "quadratics", "Zhang et al. 2024, Why Transformers Need Adam (quadratic figure, "
                           "Cases 1-4; thesis Thm 3.2)", args)
    prot = make_protocol(S, args.seed)
    rep.settings.update(dict(S, kappa=KAPPA, n_blocks=N_BLOCKS, rotation="block", seed=args.seed,
                             steps=STEPS, record_every=RECORD_EVERY, eps=EPS, eps_variant=EPS_ALT,
                             init="x0 = x* + N(0, I), one draw per run index (TuningProtocol starts='gaussian')",
                             protocol=prot.to_dict(), protocol_text=prot.describe(),
                             case1_block_range=BLOCK_RANGE, rate_steps_per_kappa=RATE_STEPS_PER_KAPPA,
                             rate_floor=RATE_FLOOR, momentum=MOMENTUM, momenta_variant=list(MOMENTA),
                             adam="beta1=0.9, beta2=0.999, eps=1e-8 (bias-corrected)",
                             adam_theorem="beta1=0, beta2=1, eps=0, v0=first_grad"))
    rep.notes += [
        "[NF] per-block spectra, dimension, h, init, lrs, betas, target and iteration count of the paper's "
        "quadratic figure; the values here are simopt's choices (module docstring).",
        "Version 2 (claims machinery).  Version 1 tuned and measured by the first-hit T(1e-5) on the same 8 "
        "starts and passed 'GD much worse' on Cases 1/3 (T ratios 50 and 37).  Version 2 states every "
        "claim with a declared protocol: persistent T(eps) as the primary reading, tuning starts disjoint "
        "from the evaluation starts, paired bootstrap intervals, variants (first hit, 1/16-decade grid, "
        "eps=1e-3, the theorem's Adam, jointly tuned momentum) and controls; it adds SGD with momentum "
        "0.9 as a second baseline.  Thresholds are unchanged.",
        "Standard Adam (beta2 = 0.999, constant lr) is not monotone on these quadratics: at the lr that "
        "minimises its first-hit T(1e-5) its gradient norm dips below the target within ~200 steps and "
        "returns to a limit cycle about 1e-3 of the initial norm (numbers.cases.*.final_grad_norm_ratio_"
        "adam_over_gd: thousands).  The first hit measures the dip; the persistent T asks for an lr at "
        "which the cycle stays below eps, and at such an lr Adam is slower than GD.",
        "Declared statuses were recorded from the runs (module docstring, EXPECTED/REASONS): they are "
        "findings, and a run fails when one of them changes.",
        "Rate claim: §2E predicts the asymptotic per-step factor ((κ̃−1)/(κ̃+1))² at η = 2/(λmin+λmax) "
        "of H̃; it is checked on the heterogeneous cases, where ⌈15 κ̃⌉ steps reach the asymptotic "
        "regime.  On the homogeneous cases κ̃ ~ 1e5–1e6, so only the exact bound f_t ≤ ρ̃^{2t} f_0 is "
        "checked there.",
    ]

    cases = make_cases(S["block_size"], args.seed)
    runner = Runner()
    claim_list = make_claims(cases, S, args.seed)
    results = {}
    for c in claim_list:
        r = c.check(mode, runner=runner)
        results[c.id] = (c, r)
        print(f"{c.id}: {r.verdict} {r.interval} overall {r.overall} "
              f"({r.provenance['wall_seconds']:.1f} s, {r.provenance['engine_calls']} runs)", flush=True)

    # ---- numbers per case: tuned lrs, T's and final gradient norms of every method, per protocol
    eval_idx = prot.evaluation_units(True).run_indices()
    numbers = {}
    curves = {}
    for cname, (prob, _, hetero) in cases.items():
        X0 = start_points(prob, eval_idx[:S["rate_runs"]], args.seed)
        kt = np.asarray(theory.adam_preconditioned_condition_number(prob, X0))
        info = dict(heterogeneous=hetero, kappa=float(prob.condition_number),
                    block_kappas=prob.block_condition_numbers, max_block_kappa=float(prob.block_condition_numbers.max()),
                    kappa_tilde_median=float(np.median(kt)), kappa_tilde_min=float(kt.min()),
                    kappa_tilde_max=float(kt.max()), kappa_tilde_runs=kt, methods={})
        kind = "much worse than" if hetero else "similar to"
        c_gd, r_gd = results[f"{cname}: {GD} {kind} Adam"]
        c_hb, r_hb = results[f"{cname}: {HB} {kind} Adam"]
        tv = "Adam(β1=0, β2=1, v0=g0²)"
        for label, r in ((GD, r_gd), (HB, r_hb), (ADAM, r_gd)):
            info["methods"][label] = {
                "persistent (primary)": _method_numbers(r.details["methods"][label]),
                "first-hit": _method_numbers(r.variants["first-hit T"]["methods"][label])}
        # the theorem's Adam is compared under the primary protocol only
        info["methods"][ADAM_T] = {"persistent (primary)": _method_numbers(r_gd.variants[tv]["methods"][ADAM_T])}
        hb_m = r_hb.variants["momentum tuned"]["methods"][HB]
        info["methods"][HB]["momentum tuned (persistent)"] = _method_numbers(hb_m)
        for pname in ("persistent (primary)", "first-hit"):
            fa = info["methods"][ADAM][pname]["final_rel_grad_norm_median"]
            fg = info["methods"][GD][pname]["final_rel_grad_norm_median"]
            info.setdefault("final_grad_norm_ratio_adam_over_gd", {})[pname] = fa / fg if fg > 0 else math.inf
        curves[cname] = {
            GD: evaluated(runner, c_gd, r_gd, GD)[0], HB: evaluated(runner, c_hb, r_hb, HB)[0],
            ADAM: evaluated(runner, c_gd, r_gd, ADAM)[0],
            "Adam (first-hit tuned)": evaluated(runner, c_gd, r_gd, ADAM, "first-hit T")[0],
            ADAM_T: evaluated(runner, c_gd, r_gd, ADAM_T, tv)[0]}
        info["rate"] = rate_check(prob, X0, S["rate_max_steps"] if hetero else STEPS, RECORD_EVERY)
        numbers[cname] = info
    rep.numbers["cases"] = numbers
    rep.numbers["engine_runs"] = runner.calls

    for c, r in results.values():
        rep.add(r)

    # ---- identity checks
    js = js_draws(S["block_size"], args.seed, S["js_draws"])
    for het, hom in (("Case 1", "Case 2"), ("Case 3", "Case 4")):
        numbers[het]["js"], numbers[hom]["js"] = float(np.median(js[het])), float(np.median(js[hom]))
        rep.add(claims.from_samples(
            f"JS {het} > {hom}", "The JS distance between block spectra is larger for the heterogeneous "
            "Hessian than for its homogeneous counterpart (Zhang et al. 2024, JS^0; true by construction)",
            {het: js[het], hom: js[hom]}, claims.difference_of_medians(het, hom), at_least=0.0,
            kind="identity", mode=mode, seed=args.seed,
            criterion=f"median JS({het}) - median JS({hom}) > 0 over {S['js_draws']} problem draws "
                      f"(theory.block_spectrum_js), paired bootstrap 95% CI",
            measured={het: js[het], hom: js[hom]}))
    for cname in HETERO:
        errs = np.abs([q["rel_err"] for q in numbers[cname]["rate"]])
        rep.add(claims.from_samples(
            f"{cname}: Adam(β1=0,β2=1) rate = κ̃ prediction",
            "Adam with beta1=0, beta2=1, v0 = first gradient converges linearly; as preconditioned GD its "
            "factor is ((κ̃−1)/(κ̃+1))² at the optimal step (thesis Thm 3.2; theory_notes §2E)",
            {"abs_rel_err": errs}, claims.median("abs_rel_err"), at_most=RATE_REL_TOL, kind="identity",
            mode=mode, seed=args.seed,
            criterion=f"median over {errs.size} starts of |measured tail exponent / predicted - 1| <= "
                      f"{RATE_REL_TOL:g}, bootstrap 95% CI",
            measured={"abs_rel_err_runs": errs,
                      "kappa_tilde_runs": [q["kappa_tilde"] for q in numbers[cname]["rate"]]}))
    exc = np.array([q["bound_excess"] for c in cases for q in numbers[c]["rate"]])
    worst = claims.Statistic("max {m}[excess]", lambda v: np.max(v["excess"], axis=-1), ("excess",))
    rep.add(claims.from_samples(
        "Adam(β1=0,β2=1) obeys the §2E bound", "Adam(beta1=0, beta2=1) = GD on H̃ contracts the loss by at "
        "least ρ̃(η)² per step (theory_notes §2E)", {"excess": exc}, worst, at_most=BOUND_SLACK,
        kind="identity", mode=mode, seed=args.seed,
        criterion=f"max over every recorded step, start and case of f(x_t) / (ρ̃^(2t) f(x_0)) - 1 <= "
                  f"{BOUND_SLACK:g}, bootstrap 95% CI",
        measured={c: max(q["bound_excess"] for q in numbers[c]["rate"]) for c in cases}))

    fig = make_figure(cases, numbers, curves, results, S)
    return rep.finish(fig)


def _case_title(i, cname, label):
    return f"({'abcd'[i]}) {cname}: {label}"


def make_figure(cases, numbers, curves, results, S):
    with simopt.plotting.style() as plt:
        fig = plt.figure(figsize=(7.4, 6.6))
        top = fig.add_gridspec(1, 4, left=0.085, right=0.985, top=0.855, bottom=0.555, wspace=0.12)
        bot = fig.add_gridspec(1, 3, left=0.085, right=0.985, top=0.43, bottom=0.13, wspace=0.55,
                               width_ratios=[1.0, 1.0, 0.9])
        axes = [fig.add_subplot(top[0, i]) for i in range(4)]
        for i, (ax, (cname, (prob, label, hetero))) in enumerate(zip(axes, cases.items())):
            if i:
                ax.sharey(axes[0])
                plt.setp(ax.get_yticklabels(), visible=False)
            for mname, res in curves[cname].items():
                G = res.grad_norm / res.grad_norm[:, :1]
                idx = np.unique(np.geomspace(1, res.steps.size - 1, 400).astype(int))
                simopt.plotting.band(ax, res.steps[idx], G[:, idx], label=mname, color=COLORS[mname],
                                     linestyle=STYLES[mname], lw=1.2)
                if mname in (GD, HB, ADAM):
                    T = numbers[cname]["methods"][mname]["persistent (primary)"]["T_persistent_median"]
                    if math.isfinite(T):
                        ax.plot([T], [EPS], marker="v", ms=5, color=COLORS[mname], mec="k", mew=0.4, zorder=5)
            ax.axhline(EPS, color="0.3", lw=0.8, ls=":")
            ax.set_xscale("log")
            ax.set_xlim(RECORD_EVERY * 0.7, STEPS * 1.05)
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
        fig.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.535, 0.962), ncol=5, fontsize=6.8,
                   handlelength=2.0, columnspacing=1.0)
        fig.text(0.535, 0.985, f"κ = {KAPPA:g}, 4 blocks × {S['block_size']}; lr tuned per method and case by "
                 f"the persistent T(ε) (Adam also by the first hit); median and IQR over {S['eval_runs']} "
                 f"evaluation starts; ▼ = median persistent T(ε), ε = {EPS:g} (dotted)", fontsize=6.3,
                 ha="center")

        # (e) the T-ratio claims: primary and first-hit intervals
        ax = fig.add_subplot(bot[0, 0])
        rows = []
        for base in (GD, HB):
            for cname, (_, _, hetero) in cases.items():
                kind = "much worse than" if hetero else "similar to"
                rows.append((f"{cname.replace('Case ', 'C')} {'GD' if base == GD else 'SGDm'} "
                             f"{'≥10×' if hetero else '≈'}", results[f"{cname}: {base} {kind} Adam"][1], hetero))
        y = np.arange(len(rows))[::-1].astype(float)
        lo_b, hi_b = (math.log10(b) for b in HOMO_BAND)
        lim = (-2.2, 2.2)
        cols = {"PASS": "#2ca02c", "FAIL": "#d62728", "INCONCLUSIVE": "0.45"}
        for yi, (lab, r, hetero) in zip(y, rows):
            if hetero:
                ax.fill_betweenx([yi - 0.45, yi + 0.45], math.log10(HETERO_MIN_RATIO), lim[1], color="#2ca02c",
                                 alpha=0.10, lw=0)
            else:
                ax.fill_betweenx([yi - 0.45, yi + 0.45], lo_b, hi_b, color="#2ca02c", alpha=0.10, lw=0)
            fh = r.variants["first-hit T"]
            for off, v, (a, b), ver, mk in ((0.15, r.value, r.interval, r.verdict, "o"),
                                            (-0.15, fh["value"], fh["interval"], fh["verdict"], "^")):
                col = cols[ver]
                ax.plot([max(a, lim[0]), min(b, lim[1])], [yi + off] * 2, color=col, lw=1.4)
                if a < lim[0]:
                    ax.plot([lim[0]], [yi + off], marker="<", color=col, ms=3.5)
                if v is not None and math.isfinite(v):
                    ax.plot([min(max(v, lim[0]), lim[1])], [yi + off], marker=mk, color=col, ms=4.5,
                            mec="white", mew=0.4, ls="none")
        ax.plot([], [], "o", color="0.2", ms=3.5, label="persistent T (primary)")
        ax.plot([], [], "^", color="0.2", ms=3.5, label="first-hit T")
        for ver, col in cols.items():
            ax.plot([], [], "-", color=col, lw=1.4, label=ver)
        ax.axvline(0, color="0.4", lw=0.6)
        ax.set_yticks(y, [r[0] for r in rows], fontsize=6.3)
        ax.set_xlim(*lim)
        ax.set_ylim(-0.6, len(rows) - 0.4)
        ax.grid(False)
        ax.set_xlabel("log10(median T_base / median T_Adam), 95% CI", fontsize=7)
        ax.set_title("(e) T-ratio claims (shaded: claimed)", fontsize=7.5)
        ax.legend(fontsize=5.6, loc="upper center", bbox_to_anchor=(0.45, -0.2), ncol=5, borderaxespad=0.1,
                  handlelength=1.2, columnspacing=0.8, handletextpad=0.3)

        # (f) final gradient norms at the tuned lrs
        ax = fig.add_subplot(bot[0, 1])
        dots = [(GD, "persistent (primary)", GD, "o"), (HB, "persistent (primary)", HB, "o"),
                (ADAM, "persistent (primary)", "Adam, persistent-tuned", "o"),
                (ADAM, "first-hit", "Adam, first-hit-tuned", "^"),
                (ADAM_T, "persistent (primary)", ADAM_T, "s")]
        floor = 1e-16
        x = np.arange(4)
        for k, (m, pname, lab, mk) in enumerate(dots):
            xs = x + (k - 2) * 0.13
            vals = np.array([numbers[c]["methods"][m][pname]["final_rel_grad_norm_median"] for c in cases])
            shown = np.where(np.isfinite(vals), np.maximum(vals, floor), np.nan)
            ax.scatter(xs, shown, marker=mk, s=18, color=COLORS[m], edgecolors="k", linewidths=0.3,
                       label=lab, zorder=3, alpha=0.6 if m == ADAM_T else 1.0)
            for xi, v in zip(xs, vals):
                if math.isfinite(v) and v < floor:
                    ax.annotate(f"{v:.0e}", (xi, floor), xytext=(0, 4), textcoords="offset points",
                                fontsize=4.8, ha="center", rotation=90, color=COLORS[m])
                elif not math.isfinite(v):
                    ax.annotate("div.", (xi, 1.0), fontsize=5, ha="center", color=COLORS[m])
        ax.axhline(EPS, color="0.3", lw=0.8, ls=":")
        ax.set_yscale("log")
        ax.set_ylim(floor / 10, 1e9)
        ax.set_xticks(x, [c.replace("Case ", "C") for c in cases])
        ax.set_ylabel("median final ‖∇f‖/‖∇f(x_0)‖", fontsize=7)
        ax.set_title("(f) final gradient norm at the tuned lr", fontsize=7.5)
        ax.legend(fontsize=5.3, loc="upper center", ncol=2, borderaxespad=0.1, handletextpad=0.2,
                  columnspacing=0.6)
        ax.set_yticks([1e-16, 1e-12, 1e-8, 1e-4, 1e0])

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
