"""An update rule that does nothing: ``x`` and the state stay as they are.

Run through the engine in place of a real rule, it leaves everything of a step but the rule's own work
(gradient, noise, divergence checks, records, the call through the rule's compiled address), so the
difference in time from the real rule is the rule's step (``profile_simopt``).  It lives in its own
importable module so that its compiled glue is cached on disk like any user rule's.
"""
from simopt.optim import rule


@rule(hyper={}, state={})
def noop(x, g):
    """x_{t+1} = x_t (the gradient is computed and ignored)."""
    return None
