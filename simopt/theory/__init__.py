"""The papers' quantities, exact expectations and iteration-complexity bounds on quadratics, checked
against the engine.

Every statement implemented here is proved in theory_notes.md (cited by section in each docstring) and
is the quadratic case of a mechanism one of the seed papers names: Pan & Li (2023, directional
sharpness), Tomihari & Sato (2025, gradient heterogeneity; their exact Def. 4.4–4.6 and Thm 4.7/4.9
constants are NOT available [NF], so simopt checks the derivations of theory_notes.md §2B–D instead),
Zhang et al. (2024, block-heterogeneous Hessians and Adam with β1 = 0, β2 = 1), Balles & Hennig (2018,
sign and variance adaptation) and the noisy quadratic model (Zhang et al. 2019).

- :mod:`simopt.theory.metrics` — §1 quantities (sharpness, block gradient norms, h_G, L_G, L_P, ψ,
  μ_∞, U_∞, κ̃, block-spectrum JS distance, ‖H‖_{1,1} and its blockwise version, block coupling),
  vectorised over batches of points;
- :mod:`simopt.theory.bounds` — §2A–E, §3H per-step contractions and T_bound(ε);
- :mod:`simopt.theory.expectations` — §3F–G exact expectations, §4 variance-adaptation factors;
- :mod:`simopt.theory.sampled` — SGD's exact expected loss with sampled-data (state-dependent) gradient
  noise: Gaussian features, one-hot coordinates, finite datasets;
- :func:`check` — runs the engine and reports measured T(ε) against T_bound(ε) and every per-step
  guarantee (``simopt bounds ...`` on the command line).
"""
from . import bounds, expectations, metrics, sampled
from .check import METHODS, BoundReport, check  # noqa: E402  (the engine is imported inside check())
from .bounds import (Bound, adam_bound, adam_optimal_lr, adam_rate, gd_fixed_step_bound,
                     gd_lg_bound, gd_rate, gd_step_size, iterations_for_contraction, one_step_loss,
                     sgd_noise_bound, sign_bound)
from .expectations import (adam_implicit_factor, momentum_expected_loss, sgd_expected_loss,
                           sign_variance_factor, ssd_expected_next_loss, variance_adaptation_factor)
from .sampled import sgd_expected_loss_sampled, sgd_stationary_loss_sampled
from .metrics import (adam_preconditioned_condition_number, along, block_coupling, block_grad_norms,
                      block_spectrum_js, blockwise_smoothness, hessian_block_l11, hessian_l11,
                      decrease_ratio_sign_vs_gd, directional_sharpness, grad_heterogeneity,
                      grad_norm_cv, gradient_density, gradient_weighted_smoothness,
                      parameter_weighted_smoothness, trajectory_metrics, update_sharpness)

__all__ = [
    "metrics", "bounds", "expectations", "sampled", "check", "BoundReport", "METHODS",
    "Bound", "adam_bound", "adam_optimal_lr", "adam_rate", "gd_fixed_step_bound", "gd_lg_bound",
    "gd_rate", "gd_step_size", "iterations_for_contraction", "one_step_loss", "sgd_noise_bound",
    "sign_bound", "adam_implicit_factor", "momentum_expected_loss", "sgd_expected_loss",
    "sign_variance_factor", "ssd_expected_next_loss", "variance_adaptation_factor",
    "adam_preconditioned_condition_number", "block_grad_norms", "block_spectrum_js",
    "decrease_ratio_sign_vs_gd", "directional_sharpness", "grad_heterogeneity", "grad_norm_cv",
    "gradient_density", "gradient_weighted_smoothness", "parameter_weighted_smoothness",
    "trajectory_metrics", "update_sharpness", "along", "hessian_l11", "hessian_block_l11",
    "blockwise_smoothness", "block_coupling", "sgd_expected_loss_sampled",
    "sgd_stationary_loss_sampled",
]

