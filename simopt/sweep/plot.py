"""``simopt sweep plot``: loss curves of each optimizer at its tuned lr, one panel per problem point.

Each curve is the median over seeds × runs of the chosen metric at each recorded step, with the
interquartile range (25th-75th percentile) as a band, on a log y axis.  Diverged runs count as
``+inf`` in the quantiles (so a band that leaves the plot means more than a quarter of runs
diverged); non-finite quantiles are not drawn.  Groups with no pick (see :mod:`.tune`) are listed in
the panel's legend as "no pick".
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from .store import Store
from .tune import tune

__all__ = ["plot_best", "curves_at_best"]

_YLABEL = {"rel_loss": "f(x_t) / f(x_0)", "loss": "f(x_t) - f*", "grad_norm": "||grad f(x_t)||"}


def curves_at_best(source, metric: str = "rel_loss", **tune_kw):
    """``{problem_key: (problem_label, [(label, steps, q25, median, q75) or (label, None...)])}``."""
    if metric not in _YLABEL:
        raise ValueError(f"metric: expected one of {list(_YLABEL)}, got {metric!r}")
    store = source if isinstance(source, Store) else Store(source)
    spec = store.read_spec()
    results = tune(store, **tune_kw)
    by_group = {}
    for c in spec.cells:
        by_group.setdefault(c.group_key, []).append(c)
    panels: dict = {}
    for t in results:
        lab, lst = panels.setdefault(t.problem_key, (t.problem_label, []))
        if t.best_lr is None and t.status != "no_lr":
            lst.append((f"{t.optimizer_label}: no pick ({t.status})", None, None, None, None))
            continue
        states = store.states([c.hash for c in by_group[t.group_key]])
        rows = []
        steps = None
        for c in by_group[t.group_key]:
            if c.lr != t.best_lr or states[c.hash] != "done":  # rules without lr: best_lr None
                continue
            r = store.load(c.hash)
            steps = r.arrays["steps"]
            v = r.rel_loss() if metric == "rel_loss" else r.arrays[metric]
            v = np.where(r.arrays["diverged"][:, None] & ~np.isfinite(v), np.inf, v)
            rows.append(v)
        if not rows:
            lst.append((f"{t.optimizer_label}: no finished cells", None, None, None, None))
            continue
        v = np.concatenate(rows, axis=0)
        with np.errstate(invalid="ignore"):  # inf - inf inside the interpolation: inf or nan
            q25, med, q75 = np.quantile(v, [0.25, 0.5, 0.75], axis=0)
        flag = f", {t.edge} edge!" if t.edge in ("low", "high") else ""
        lab = t.optimizer_label if t.best_lr is None else f"{t.optimizer_label} (lr={t.best_lr:g}{flag})"
        lst.append((lab, steps, q25, med, q75))
    return panels


def plot_best(source, out=None, *, metric: str = "rel_loss", per_figure: int = 12, **tune_kw):
    """Draw :func:`curves_at_best` into PNG files (``<dir>/plots/best_lr[_k].png`` by default, or
    ``out`` as the first file's path); returns the list of paths written."""
    import matplotlib
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    store = source if isinstance(source, Store) else Store(source)
    panels = list(curves_at_best(store, metric, **tune_kw).values())
    if out is None:
        out = store.path / "plots" / "best_lr.png"
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    paths = []
    for k in range(0, max(len(panels), 1), per_figure):
        chunk = panels[k:k + per_figure]
        n = max(len(chunk), 1)
        cols = min(3, n)
        rows = math.ceil(n / cols)
        fig, axes = plt.subplots(rows, cols, figsize=(4.6 * cols, 3.4 * rows), squeeze=False)
        for ax in axes.flat[len(chunk):]:
            ax.set_visible(False)
        for ax, (plabel, curves) in zip(axes.flat, chunk):
            for label, steps, q25, med, q75 in curves:
                if steps is None:
                    ax.plot([], [], " ", label=label)
                    continue
                fin = lambda a: np.where(np.isfinite(a) & (a > 0), a, np.nan)  # noqa: E731
                line, = ax.plot(steps, fin(med), lw=1.6, label=label)
                ax.fill_between(steps, fin(q25), fin(q75), color=line.get_color(), alpha=0.2, lw=0)
            ax.set_yscale("log")
            ax.set_title(plabel, fontsize=9)
            ax.set_xlabel("step")
            ax.set_ylabel(_YLABEL[metric])
            ax.grid(True, which="major", alpha=0.3)
            ax.legend(fontsize=7, frameon=False)
        fig.suptitle("median and IQR over seeds x runs, each optimizer at its best lr", fontsize=10)
        fig.tight_layout()
        p = out if k == 0 else out.with_name(f"{out.stem}_{k // per_figure + 1}{out.suffix}")
        fig.savefig(p, dpi=120)
        plt.close(fig)
        paths.append(p)
    return paths
