"""``Result``: the arrays a run produces, and the summaries the papers' claims are stated in.

Two iteration counts to a target (theory_notes.md §5), for two different questions:

* **first-hit** T(eps) (``persistent=False``): the first recorded step with ``metric <= target``.
  It answers *"how soon can it get there?"* -- and rewards a transient dip: a run that touches the
  target and leaves it again (a momentum or Adam overshoot, a noise floor above eps) still counts
  as having reached it.
* **persistent** T(eps) (``persistent=True``): the first recorded step *after which the metric stays
  <= target through the end of the budget*.  It answers *"when has it converged?"*.  It can only
  be checked within the budget: a longer run can move it later, never earlier.  Always >= the
  first-hit T of the same run.

Both are ``inf`` for a run that diverged or is above the target at the end of its budget (censored:
the true count lies beyond the budget), and both have the resolution of ``record_every``.  Summaries
follow the ERT convention of §5 so that censoring is never silently dropped.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._validate import as_float, check_bool

_METRICS = ("loss", "grad_norm")


@dataclass
class Result:
    """Output of :func:`simopt.run` for ``runs`` independent runs.

    Attributes
    ----------
    steps : (n_records,) int
        Step indices of the records; 0 is the initial point, the last is always the final step.
    loss : (runs, n_records) float
        :math:`f(x_t) - f^*`.  ``+inf`` from the step a run diverged on.
    grad_norm : (runs, n_records) float
        :math:`\\|\\nabla f(x_t)\\|_2` of the *true* gradient (not the noisy one the method saw).
    x, x0 : (runs, d) float
        Final and initial iterates (for a diverged run, the iterate that was found diverged).
    f0 : (runs,) float
        :math:`f(x_0) - f^*`.
    diverged : (runs,) bool;  diverged_step : (runs,) int (-1 if it did not diverge)
        A run diverges when :math:`f(x_t)` is not finite or exceeds ``divergence_threshold * f(x_0)``;
        it stops there, the others go on unaffected.
    records : dict
        Optional per-record arrays asked for with ``record=``: ``"x"`` (runs, n_records, d) iterates,
        ``"sharpness"`` (runs, n_records) directional sharpness :math:`u^\\top H u/\\|u\\|^2` of the update
        :math:`u = x_{t+1} - x_t` taken at that record (NaN at the final record, where none is taken),
        ``"block_grad_norms"`` (runs, n_records, n_blocks).
    meta : dict
        Problem, optimizer, seed, steps, runs and engine settings (JSON-able).
    """
    steps: np.ndarray
    loss: np.ndarray
    grad_norm: np.ndarray
    x: np.ndarray
    x0: np.ndarray
    f0: np.ndarray
    diverged: np.ndarray
    diverged_step: np.ndarray
    records: dict = field(default_factory=dict)
    meta: dict = field(default_factory=dict)

    @property
    def runs(self) -> int:
        return self.loss.shape[0]

    @property
    def n_steps(self) -> int:
        """The step budget of the run."""
        return int(self.steps[-1])

    def _metric(self, metric):
        if metric not in _METRICS:
            raise ValueError(f"metric: expected one of {_METRICS}, got {metric!r}")
        return getattr(self, metric)

    def iterations_to(self, eps, metric="loss", relative=True, persistent=False) -> np.ndarray:
        """Iteration complexity :math:`T(\\varepsilon)` per run (theory_notes.md §5).

        The target is ``eps * metric(x_0)`` (``relative=True``, the default) or ``eps``
        (``relative=False``).  With ``persistent=False`` (first-hit, "how soon can it get there"):
        the first recorded step t with ``metric(x_t) <= target``.  With ``persistent=True`` ("when
        has it converged"): the first recorded step from which ``metric <= target`` at every later
        record through the end of the budget.  ``inf`` for a run that diverged, or that never got
        there / ends above the target (censored).  Resolution is ``record_every``: with records
        every k steps the true first hitting time lies in ``(T - k, T]``, and a persistent T only
        vouches for the recorded steps.
        """
        hit = self._hits(eps, metric, relative)
        persistent = check_bool(persistent, "persistent")
        if persistent:
            # first record after the last miss; a run whose last record misses never settles
            miss = ~hit
            n = hit.shape[1]
            last_miss = np.where(miss.any(axis=1), n - 1 - np.argmax(miss[:, ::-1], axis=1), -1)
            ok = last_miss < n - 1
            first = np.minimum(last_miss + 1, n - 1)
        else:
            ok = hit.any(axis=1)
            first = np.argmax(hit, axis=1)
        out = self.steps[first].astype(np.float64)
        out[~ok] = np.inf
        out[self.diverged] = np.inf
        return out

    def _hits(self, eps, metric, relative) -> np.ndarray:
        """(runs, n_records) bool: the metric is at or below the target at that record."""
        eps = as_float(eps, "eps")
        if eps <= 0:
            raise ValueError(f"eps: expected a positive number, got {eps}")
        relative = check_bool(relative, "relative")
        vals = self._metric(metric)
        target = eps * vals[:, :1] if relative else np.full((vals.shape[0], 1), eps)
        return vals <= target

    def steps_spent(self, eps, metric="loss", relative=True, persistent=False) -> np.ndarray:
        """Steps each run spent until its outcome (theory_notes.md §5): its T(eps) if it reached the
        target, the divergence step if it diverged, else the whole budget (censored)."""
        T = self.iterations_to(eps, metric, relative, persistent)
        return np.where(np.isfinite(T), T,
                        np.where(self.diverged, self.diverged_step, self.n_steps)).astype(np.float64)

    def ert(self, eps, metric="loss", relative=True, persistent=False) -> float:
        """Expected running time (theory_notes.md §5): total steps spent by all runs (the hitting time
        for successes, the whole budget or the divergence step for failures) divided by the number of
        successes; ``inf`` when no run succeeds.  Censoring is never silently dropped.
        ``persistent`` chooses which T(eps) is a success (see :meth:`iterations_to`)."""
        T = self.iterations_to(eps, metric, relative, persistent)
        ok = np.isfinite(T)
        spent = self.steps_spent(eps, metric, relative, persistent).sum()
        return float(spent / ok.sum()) if ok.any() else float("inf")

    def final(self, metric="loss", relative=False) -> np.ndarray:
        """The metric at the last step, per run (``relative=True`` divides by its initial value)."""
        relative = check_bool(relative, "relative")
        v = self._metric(metric)
        return v[:, -1] / v[:, 0] if relative else v[:, -1].copy()

    def summary(self, eps=None, metric="loss", relative=True, persistent=False) -> dict:
        """Medians and quantiles over runs of the final relative loss, the divergence count and, with
        ``eps``, the median T(eps), the number of runs that reached it and the ERT, all under the
        reading ``persistent`` chooses (``"persistent"`` in the dict says which; see
        :meth:`iterations_to`); ``metric``/``relative`` define the target as there."""
        persistent = check_bool(persistent, "persistent")
        relative = check_bool(relative, "relative")
        self._metric(metric)
        fin = self.final("loss", relative=True)
        out = {
            "runs": self.runs, "steps": self.n_steps, "diverged": int(self.diverged.sum()),
            "final_rel_loss_median": float(np.median(fin)),
            "final_rel_loss_q25": float(np.quantile(fin, 0.25)),
            "final_rel_loss_q75": float(np.quantile(fin, 0.75)),
        }
        if eps is not None:
            T = self.iterations_to(eps, metric, relative, persistent)
            out.update({"eps": float(eps), "metric": metric, "relative": bool(relative),
                        "persistent": persistent, "T_median": float(np.median(T)),
                        "reached": int(np.isfinite(T).sum()),
                        "ert": self.ert(eps, metric, relative, persistent)})
        return out

    def __repr__(self):
        return (f"Result(runs={self.runs}, steps={self.n_steps}, records={self.steps.size}, "
                f"diverged={int(self.diverged.sum())}, "
                f"median final loss={np.median(self.loss[:, -1]):.3g})")

    # -- saving, tables and figures (implemented in simopt.result_io and simopt.plotting) --------
    def save(self, path):
        """Write this result to an ``.npz`` file (arrays + JSON meta, no pickle); returns the path.
        See :mod:`simopt.result_io` for the format."""
        from . import result_io
        return result_io.save(self, path)

    @classmethod
    def load(cls, path) -> "Result":
        """Read a result written by :meth:`save` (``allow_pickle=False``)."""
        from . import result_io
        return result_io.load(path)

    def to_dataframe(self):
        """Long format, one row per (run, recorded step), as a pandas DataFrame
        (:func:`simopt.result_io.to_dataframe`)."""
        from . import result_io
        return result_io.to_dataframe(self)

    def plot(self, ax=None, metric="loss", **kwargs):
        """Median and inter-quartile band over runs against the step
        (:func:`simopt.plotting.plot_result`); returns the axes."""
        from . import plotting
        return plotting.plot_result(self, ax=ax, metric=metric, **kwargs)
