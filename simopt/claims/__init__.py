"""Claims about update rules, decided with declared protocols, confidence intervals, protocol
variants and negative controls.

A claim such as "rule A reaches eps at least 3x sooner than rule B on this problem family, tuned
under this protocol" is stated in a few lines, checked, and asserted::

    import math
    import simopt
    from simopt import claims, optim

    def family(seed):                       # a problem family: one draw per seed
        return simopt.quadratic(simopt.spectra.logspace(8, 1e-3, 1.0), rotation="haar", seed=seed)

    claim = claims.Claim(
        "heavy_ball_3x", "SGD with momentum 0.9 reaches eps at least 3x sooner than plain GD",
        family=family, methods={"GD": optim.sgd(1.0), "HB": optim.sgd(1.0, momentum=0.9)},
        statistic=claims.log_ratio_of_medians("GD", "HB"),    # log10(median T_GD / median T_HB)
        at_least=math.log10(3), steps=5000,
        protocol=claims.TuningProtocol(criterion="persistent", eps=1e-6, lr_range=(0.1, 10.0),
                                       tune_draws=2, tune_runs=1, eval_draws=6, eval_runs=1,
                                       starts="gaussian"),     # noise-free: units differ by x0
        variants=[claims.variants.first_hit(), claims.variants.finer_grid()])
    result = claim.check()              # tune, evaluate on fresh units, bootstrap, decide
    print(result.table())               # verdict, interval, one row per variant, overall status
    result.assert_holds(robust=True)    # in pytest: fails with the table unless ROBUST

The pieces, each its own module:

* :mod:`~simopt.claims.protocol` -- :class:`TuningProtocol`: the criterion a method is tuned by
  (persistent T(eps) | first-hit T(eps) | final metric | ERT to the first hit | ERT with the
  persistent reading, with eps, metric, relative), the lr grid
  (log range, points per decade) refined automatically until the optimum is interior and the grid
  step around it at most 1/8 decade (a best lr still on the edge after the cap on rounds is
  ``"edge"``, never ``"ok"``), other hyperparameters tuned jointly, and the **units**: tuning and
  evaluation units are disjoint (distinct run indices, hence noise streams and starts, and distinct
  problem draws for a family), so the tuned lr is chosen on one set of runs and the claim measured on
  fresh ones.  Serialisable (``to_dict``/``from_dict``, JSON) into reports and sweep specs.
* :mod:`~simopt.claims.bootstrap` -- 95% percentile bootstrap intervals over the evaluation units,
  paired when the compared methods share units (they do: ``simopt.run`` gives run r of a seed the
  same noise whatever the rule); statistics such as log10 ratios of medians of T(eps) or of the final
  loss, differences, means.  Censored runs are bounds (T in [budget, inf]), diverged runs +inf; an
  infinite median is a valid outcome and an undecidable statistic gives (-inf, inf), never NaN.
  Seeded: the same data give the same interval.
* :mod:`~simopt.claims.verdicts` -- PASS when the interval lies entirely on the claimed side of the
  threshold, FAIL when entirely on the other, INCONCLUSIVE otherwise; overall ROBUST (PASS under the
  primary protocol and every variant), FRAGILE (some variant does not confirm the primary verdict:
  named), FAILS (FAIL and no variant PASSes), INCONCLUSIVE (the primary is), HOLDS (PASS, no variants
  declared).  A claim declares its expected status (per mode, quick/full, with the reason when they
  differ or when it is a known failure); it is *as declared* when observed == declared.
* :mod:`~simopt.claims.variants` -- protocol variants as named transformations of a claim
  (:func:`~simopt.claims.variants.first_hit`, :func:`~simopt.claims.variants.persistent`,
  :func:`~simopt.claims.variants.tuned_by`, :func:`~simopt.claims.variants.finer_grid`,
  :func:`~simopt.claims.variants.setting` for an alternative setting such as another noise model),
  and negative controls (:func:`~simopt.claims.variants.control`: the mechanism removed -- a rotated
  eigenbasis for coordinate-wise effects, homogeneous blocks for block-heterogeneity effects -- with
  its own expected verdict, checked and reported).
* :mod:`~simopt.claims.claim` -- :class:`Claim` (kind ``"paper"``: a claim of a paper, or
  ``"identity"``: a check of mathematics or code, e.g. Monte Carlo against a closed form; only paper
  claims count as reproduced) and :func:`from_samples` for values measured elsewhere.
* :mod:`~simopt.claims.report` -- :class:`Report`: the JSON per claim (id, statement, kind,
  criterion, protocol, measured value, interval, verdict, variants, control, overall and expected
  status, reason, provenance), and the exit-code rule: 0 exactly when every paper claim is as declared.

Which T(eps)?  The first-hit T answers "how soon can it get there" and rewards a transient dip below
eps; the persistent T (the first recorded step after which the metric stays below the target through
the end of the budget) answers "when has it converged".  Censoring follows theory_notes.md §5: a run
that ends above the target or diverged is never silently dropped.
"""
from . import bootstrap, claim, outcome, protocol, report, variants, verdicts
from .bootstrap import (Interval, Sample, Statistic, bootstrap_interval, difference_of_means, difference_of_medians,
                        log_ratio_of_means, log_ratio_of_medians, log_slope_of_medians, mean, median)
from .claim import Claim, from_samples
from .outcome import KINDS, ClaimResult
from .protocol import TunedMethod, TuningProtocol, Units, tune_method
from .report import Report, exit_code, tally
from .variants import Control, Variant
from .verdicts import STATUSES, VERDICTS, overall_status, verdict

__all__ = [
    "Claim", "ClaimResult", "TuningProtocol", "Units", "TunedMethod", "tune_method", "from_samples",
    "Report", "tally", "exit_code", "Variant", "Control", "variants", "Statistic", "Sample",
    "Interval", "bootstrap_interval", "median", "mean", "log_ratio_of_medians", "log_ratio_of_means",
    "log_slope_of_medians",
    "difference_of_medians", "difference_of_means", "verdict", "overall_status", "VERDICTS",
    "STATUSES", "KINDS", "bootstrap", "claim", "outcome", "protocol", "report", "verdicts",
]
