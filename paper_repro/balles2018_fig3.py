"""Variance-adaptation factors against the relative noise η: the sign's optimal factor erf(1/(√2η)), Adam's implicit (1+η²)^-½ and the gradient's optimal (1+η²)^-1, confirmed by Monte Carlo.

Reproduces Balles & Hennig (2018), "Dissecting Adam", Fig. 3 and Lemma 1 (seed_math.md §4;
theory_notes.md §4).

Known [V]: for p̂ with E p̂ = p, Var p̂ᵢ = σᵢ² and ηᵢ = σᵢ/|pᵢ|,
(a) argmin_γ E‖γ⊙p̂ − p‖² = (1 + ηᵢ²)^{-1};  (b) argmin_γ E‖γ⊙sign(p̂) − sign(p)‖² = 2ρᵢ − 1 with
ρᵢ = P[sign p̂ᵢ = sign pᵢ];  for Gaussian p̂, 2ρᵢ − 1 = erf(1/(√2ηᵢ)), "closely approximated by
(1+η²)^{-1/2}", the factor Adam implicitly applies.  [NF]: the paper's η range and any numerical tolerance
for "closely".

What this script does (settings fixed in advance): a Gaussian p̂ ~ N(p, diag(σ²)) with one coordinate
per η value (pᵢ = ±e^{uᵢ}, uᵢ ~ U(−1, 1), random sign; σᵢ = ηᵢ|pᵢ|), η on a quarter-decade grid over
[10^-1.5, 10^1.5] (quick: half-decade), N = 200 000 samples (quick: 20 000).  It estimates 2ρ − 1,
numerically minimises the two Monte Carlo mean-squared errors of Lemma 1 over γ (bounded Brent, per
coordinate, on the sample averages themselves), and evaluates both MSEs at the closed-form optima.
Standard errors: of 2ρ̂ − 1 and of the sign MSE, the Bernoulli SE under the closed-form ρ (a sample SE
is 0 when no sign flip occurs at small η); of the gradient MSE, std/√N; of a numeric optimum, batch
means over 20 batches (for the sign optimum, at least the Bernoulli SE of 2ρ̂ − 1, which the sample
sign-MSE's minimiser equals).  An absolute slack of 1e-8 covers rounding and the optimizer's tolerance.

Checks (thresholds fixed before looking): every Monte Carlo quantity lies within 4 standard errors of
its closed form; and max_η |(1+η²)^{-1/2} − erf(1/(√2η))| ≤ 0.1 over η ∈ [10^-3, 10^3] ("closely
approximated" read as an absolute error of at most 0.1 on a factor in [0, 1]).

All five are of kind "identity", not paper claims, and none counts as a reproduced claim of the paper:
the first four are Monte Carlo confirmations of closed forms (Lemma 1 and the Gaussian sign-agreement
probability, proved by expanding a square, theory_notes.md §4), which test simopt's code
(``simopt.theory.expectations``) and the sampling, not the paper; the fifth is the caption's "closely
approximated by (1+η²)^{-1/2}", a statement about two explicit functions that is true or false by
calculation (deterministic: no sampling, no interval).  Each is decided by a point measurement
against its threshold -- the Monte Carlo standard errors above are its uncertainty -- so its record has
a verdict and no bootstrap interval.
"""
from __future__ import annotations

import sys

import numpy as np
from scipy.optimize import minimize_scalar

import simopt
from ._common import Report, parse_args

NAME = "balles2018_fig3"

# ---- thresholds, fixed before looking at results ------------------------------------------------------
N_SE = 4.0              # Monte Carlo agreement: |MC - closed form| <= 4 standard errors
APPROX_MAX_ABS = 0.1    # "closely approximated": max |(1+eta^2)^-1/2 - erf(1/(sqrt2 eta))| <= 0.1
BATCHES = 20            # batch-means standard error of a numeric optimum
ATOL = 1e-8             # absolute slack for rounding and the optimizer's xatol, where an SE is ~0


def scaled_dev(diff, se):
    """|diff| in units of (SE + ATOL/N_SE): at most N_SE exactly when |diff| <= N_SE*SE + ATOL."""
    return np.abs(diff) / (np.asarray(se) + ATOL / N_SE)


def settings(quick: bool) -> dict:
    return {"eta_grid_log10": [-1.5, 1.5], "eta_per_decade": 2 if quick else 4,
            "samples": 20_000 if quick else 200_000, "batches": BATCHES,
            "p": "p_i = +-exp(u_i), u_i ~ U(-1, 1), random sign; sigma_i = eta_i |p_i|",
            "optimizer": "scipy minimize_scalar, bounded Brent on [-0.5, 1.5], xatol 1e-10",
            "approx_eta_range": [1e-3, 1e3]}


def argmin_scalar(fun):
    r = minimize_scalar(fun, bounds=(-0.5, 1.5), method="bounded", options={"xatol": 1e-10})
    return float(r.x)


def numeric_optima(P, p):
    """Numeric minimisers over γ of the sample-average MSEs of Lemma 1, per coordinate:
    mean_k (γ p̂_ki − p_i)² and mean_k (γ sign(p̂_ki) − sign(p_i))²."""
    S = np.sign(P)
    a = np.array([argmin_scalar(lambda g, x=P[:, i], t=p[i]: np.mean((g * x - t) ** 2))
                  for i in range(p.size)])
    b = np.array([argmin_scalar(lambda g, s=S[:, i], t=np.sign(p[i]): np.mean((g * s - t) ** 2))
                  for i in range(p.size)])
    return a, b


def main(argv=None) -> int:
    args = parse_args(NAME, __doc__.splitlines()[0], argv)
    rep = Report.from_args(NAME, "Variance-adaptation factors vs relative noise",
                           "Balles & Hennig 2018, Fig. 3 and Lemma 1", args)
    S = settings(args.quick)
    rep.settings.update(S)
    rep.settings["seed"] = args.seed
    rep.notes += [
        "Every check is of kind identity (Monte Carlo vs closed form, or a calculation with two explicit "
        "functions): reported, not counted among the paper's reproduced claims.",
        "Paper [NF]: the eta range of Fig. 3 and what 'closely approximated' means numerically; the "
        "0.1 max-abs-error threshold was fixed before measuring.",
        "Closed forms from simopt.theory.expectations: sign_variance_factor, adam_implicit_factor, "
        "variance_adaptation_factor, sign_agreement_probability, scaled_gradient_mse, sign_mse.",
        "The first full run used batch-means SEs for the sign optimum and failed at eta = 0.18, where no "
        "sign flip occurred in 200 000 samples (batch SE = 0, closed form 1 - 1.9e-8); that SE is "
        "degenerate, so the sign optimum's SE is now at least the Bernoulli SE of 2rho - 1.",
    ]
    E = simopt.theory.expectations
    k = S["eta_per_decade"]
    eta = 10.0 ** np.linspace(-1.5, 1.5, 3 * k + 1)
    d, N = eta.size, S["samples"]
    rng = np.random.default_rng(np.random.SeedSequence([args.seed, 3]))
    p = rng.choice([-1.0, 1.0], size=d) * np.exp(rng.uniform(-1.0, 1.0, size=d))
    sigma = eta * np.abs(p)
    P = p + sigma * rng.standard_normal((N, d))

    # closed forms
    erf_f = E.sign_variance_factor(eta)
    grad_f = E.variance_adaptation_factor(eta)
    rho = E.sign_agreement_probability(eta)

    # (1) 2 rho - 1 by Monte Carlo
    agree = np.sign(P) * np.sign(p)                       # +1 when the signs agree, -1 otherwise
    mc_2rho = agree.mean(0)
    se_2rho = 2.0 * np.sqrt(rho * (1.0 - rho) / N)        # SE under the closed form (a Bernoulli mean)
    z_2rho = scaled_dev(mc_2rho - erf_f, se_2rho)

    # (2) numeric optima of the Monte Carlo MSEs, with batch-means standard errors
    opt_a, opt_b = numeric_optima(P, p)
    nb = N // BATCHES
    bat = [numeric_optima(P[j * nb:(j + 1) * nb], p) for j in range(BATCHES)]
    se_a = np.std([b[0] for b in bat], axis=0, ddof=1) / np.sqrt(BATCHES)
    se_b_batch = np.std([b[1] for b in bat], axis=0, ddof=1) / np.sqrt(BATCHES)
    # the sample sign-MSE is minimised by a mean of N values ±1 (its SE is that of 2ρ̂ − 1); batch means
    # give SE = 0 when no sign flip occurs at small η, so the larger of the two is used
    se_b = np.maximum(se_b_batch, se_2rho)
    z_a = scaled_dev(opt_a - grad_f, se_a)
    z_b = scaled_dev(opt_b - erf_f, se_b)

    # (3) the MSEs at the closed-form optima, Monte Carlo vs closed form
    err_a = (grad_f * P - p) ** 2
    err_b = (erf_f * np.sign(P) - np.sign(p)) ** 2
    mse_a_cf = E.scaled_gradient_mse(grad_f, p, sigma)
    mse_b_cf = E.sign_mse(erf_f, rho)
    z_mse_a = scaled_dev(err_a.mean(0) - mse_a_cf, err_a.std(0, ddof=1) / np.sqrt(N))
    # the squared sign error takes (γ−1)² w.p. ρ and (γ+1)² w.p. 1−ρ: variance 16γ²ρ(1−ρ)
    z_mse_b = scaled_dev(err_b.mean(0) - mse_b_cf, 4.0 * erf_f * np.sqrt(rho * (1.0 - rho) / N))

    # (4) how closely (1+eta^2)^-1/2 approximates erf(1/(sqrt2 eta))
    fine = np.logspace(-3, 3, 6001)
    dev = E.adam_implicit_factor(fine) - E.sign_variance_factor(fine)
    dev_grad = E.variance_adaptation_factor(fine) - E.sign_variance_factor(fine)
    i_max = int(np.argmax(np.abs(dev)))
    max_abs = float(np.abs(dev[i_max]))

    rep.numbers.update({
        "eta": eta, "p": p, "closed_form_2rho_minus_1": erf_f, "mc_2rho_minus_1": mc_2rho,
        "z_2rho": z_2rho, "numeric_opt_grad": opt_a, "closed_opt_grad": grad_f, "z_opt_grad": z_a,
        "numeric_opt_sign": opt_b, "z_opt_sign": z_b, "z_mse_grad": z_mse_a, "z_mse_sign": z_mse_b,
        "max_abs_adam_minus_erf": max_abs, "eta_at_max_abs": float(fine[i_max]),
        "max_abs_inverse_minus_erf (not claimed)": float(np.max(np.abs(dev_grad))),
    })
    rep.claim("erf_equals_2rho_minus_1",
              "Gaussian p̂: 2ρ − 1 = erf(1/(√2η)) (Balles & Hennig Fig. 3 caption; Lemma 1)",
              f"max_eta |MC(2rho-1) - erf| / SE <= {N_SE} (|diff| <= 4 SE + 1e-8)", float(np.max(z_2rho)),
              bool(np.all(z_2rho <= N_SE)), kind="identity")
    rep.claim("lemma1a_optimum",
              "argmin_γ E‖γ⊙p̂ − p‖² = (1+η²)^-1 (Lemma 1a)",
              f"max_eta |numeric argmin of MC MSE - (1+eta^2)^-1| / SE <= {N_SE} (|diff| <= 4 SE + 1e-8)",
              float(np.max(z_a)), bool(np.all(z_a <= N_SE)), kind="identity")
    rep.claim("lemma1b_optimum",
              "argmin_γ E‖γ⊙sign(p̂) − sign(p)‖² = 2ρ − 1 = erf(1/(√2η)) for Gaussian p̂ (Lemma 1b)",
              f"max_eta |numeric argmin of MC MSE - erf(1/(sqrt2 eta))| / SE <= {N_SE} (|diff| <= 4 SE + 1e-8)",
              float(np.max(z_b)), bool(np.all(z_b <= N_SE)), kind="identity")
    zm = np.concatenate([z_mse_a, z_mse_b])
    rep.claim("mse_closed_forms",
              "E(γp̂ − p)² = (γ−1)²p² + γ²σ² and E(γ sign p̂ − sign p)² = γ² − 2γ(2ρ−1) + 1 "
              "(theory_notes §4), at the optimal γ",
              f"max_eta |MC MSE - closed form| / SE <= {N_SE} (both MSEs) (|diff| <= 4 SE + 1e-8)",
              float(np.max(zm)), bool(np.all(zm <= N_SE)), kind="identity")
    rep.claim("adam_factor_close_to_erf",
              "erf(1/(√2η)) is closely approximated by (1+η²)^-½ (Fig. 3 caption)",
              f"max over eta in [1e-3, 1e3] of |(1+eta^2)^-1/2 - erf(1/(sqrt2 eta))| <= {APPROX_MAX_ABS}",
              max_abs, max_abs <= APPROX_MAX_ABS, kind="identity")

    # ---- figure --------------------------------------------------------------------------------------
    C = simopt.plotting.color
    with simopt.plotting.style() as plt:
        fig, (ax, bx) = plt.subplots(1, 2, figsize=(7.0, 2.9), gridspec_kw={"width_ratios": [1.35, 1]})
        ax.semilogx(fine, E.sign_variance_factor(fine), color=C("ssd"),
                    label=r"erf$(1/(\sqrt{2}\eta))$ (sign)")
        ax.semilogx(fine, E.adam_implicit_factor(fine), color=C("adam"), ls="--",
                    label=r"$(1+\eta^2)^{-1/2}$ (Adam)")
        ax.semilogx(fine, E.variance_adaptation_factor(fine), color=C("svag"),
                    label=r"$(1+\eta^2)^{-1}$ (SVAG)")
        ax.plot(eta, mc_2rho, "o", ms=4.5, mfc="none", color=C("ssd"), label=r"$2\hat\rho-1$")
        ax.plot(eta, opt_b, "x", ms=4, color="k", label=r"argmin$_\gamma$ sign MSE")
        ax.plot(eta, opt_a, "s", ms=3.5, mfc="none", color=C("svag"), label=r"argmin$_\gamma$ gradient MSE")
        ax.set_xlim(10 ** -1.7, 10 ** 1.7)
        ax.set_xlabel(r"relative noise $\eta = \sigma/|p|$")
        ax.set_ylabel(r"factor $\gamma$")
        ax.set_title(f"(a) factors vs $\\eta$; markers: Monte Carlo, N = {N:,}")
        h, l = ax.get_legend_handles_labels()
        ax.add_artist(ax.legend(h[:3], l[:3], loc="lower left", fontsize=7.5, title="closed forms",
                                title_fontsize=7.5))
        ax.legend(h[3:], l[3:], loc="upper right", fontsize=7.5, title="Monte Carlo", title_fontsize=7.5)
        bx.semilogx(fine, dev, color=C("adam"), ls="--", label=r"$(1+\eta^2)^{-1/2} - \mathrm{erf}$")
        bx.semilogx(fine, dev_grad, color=C("svag"), label=r"$(1+\eta^2)^{-1} - \mathrm{erf}$")
        bx.axhline(0.0, color="k", lw=0.6)
        for s in (1, -1):
            bx.axhline(s * APPROX_MAX_ABS, color="0.5", lw=0.8, ls=":")
        bx.plot(fine[i_max], dev[i_max], "o", color=C("adam"), ms=4)
        bx.annotate(f"max |error| = {max_abs:.3f}\nat $\\eta$ = {fine[i_max]:.2f}", (fine[i_max], dev[i_max]),
                    xytext=(0.04, 0.1), textcoords="axes fraction", fontsize=7.5,
                    arrowprops={"arrowstyle": "->", "lw": 0.7, "color": "0.3"})
        bx.set_xlim(ax.get_xlim())
        bx.set_xlabel(r"relative noise $\eta$")
        bx.set_ylabel("difference to erf$(1/(\\sqrt{2}\\eta))$")
        bx.set_title(r"(b) error of the approximations (dotted: $\pm$0.1)")
        bx.legend(loc="upper left", fontsize=7.5)
        fig.tight_layout()
        code = rep.finish(fig)
        plt.close(fig)
    return code


if __name__ == "__main__":
    sys.exit(main())
