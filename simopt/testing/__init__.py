"""Testing update rules -- simopt's own and a user's -- the way simopt tests its built-in ones.

- **Steps on given gradients** (:mod:`simopt.testing.steps`): :func:`compiled_steps` and
  :func:`reference_steps` apply a rule's compiled step (exactly as the run loop calls it) and its NumPy
  step to the same gradient stream; :func:`assert_close` holds them equal to 1e-12 relative;
  :func:`edge_streams` are the streams every rule must survive without a NaN; :func:`stream_problem` a
  problem to feed a stream to; :func:`relative_distance` the relative error of parity tests.
- **Hypothesis strategies** (:mod:`simopt.testing.strategies`, needs ``hypothesis``): spectra, problems of
  every constructor, kind, rotation and noise model, gradient streams with exact zeros and scales
  1e-100..1e100, hyperparameters within a rule's declared ranges, learning rates and schedules, and
  optimizers of every built-in rule.
- **The invariance card** (:mod:`simopt.testing.card`, :mod:`simopt.testing.transforms`):
  :func:`invariance_card` measures on runs of the rule whether its trajectories map under rotations,
  block rotations, permutations, sign flips, diagonal rescalings, translations and gradient scalings;
  :func:`declared_cards` are the cards the built-in rules declare, :func:`card_table` the README's table.
- **check_rule** (:mod:`simopt.testing.check`): compiled == reference, no NaN at the edges, determinism
  across thread counts and run splits, bad hyperparameters rejected by name, and the card, as one
  :class:`RuleReport` (``report.assert_ok()`` in a test)::

      from simopt.testing import check_rule
      check_rule(mypkg.rules.lion(0.05), expect=("permutation", "sign_flip", "translation",
                                                 "gradient_scaling")).assert_ok()
"""
from .card import TOLERANCE, Card, Declared, card_problems, card_table, declared_cards, invariance_card
from .check import RuleReport, check_rule
from .hyper import builtin_rules, builtin_wrappers, invalid_values, sample_valid, valid_range
from .steps import (assert_close, compiled_steps, edge_streams, reference_steps, relative_distance,
                    stream_problem)
from .transforms import TRANSFORMATIONS, draw_change, transformed

__all__ = ["compiled_steps", "reference_steps", "assert_close", "relative_distance", "edge_streams",
           "stream_problem", "check_rule", "RuleReport", "invariance_card", "Card", "TOLERANCE",
           "TRANSFORMATIONS", "card_problems", "declared_cards", "Declared", "card_table", "transformed",
           "draw_change", "builtin_rules", "builtin_wrappers", "valid_range", "sample_valid", "invalid_values",
           "strategies"]


def __getattr__(name):   # the strategies need hypothesis: imported on first use
    if name == "strategies":
        import importlib
        mod = importlib.import_module(f"{__name__}.strategies")
        globals()[name] = mod
        return mod
    raise AttributeError(f"module 'simopt.testing' has no attribute {name!r}")
