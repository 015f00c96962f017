"""Figure helpers with one house style: readable at a paper's column width, log axes where data span
decades, median lines with inter-quartile bands over runs."""
from __future__ import annotations

import contextlib
import os

import numpy as np

#: one colour per method family, so a method looks the same in every figure
COLORS = {
    "sgd": "#1f77b4", "gd": "#1f77b4", "m-sgd": "#17becf", "sign": "#d62728", "ssd": "#d62728",
    "signum": "#ff7f0e", "m-ssd": "#ff7f0e", "adam": "#2ca02c", "svag": "#9467bd", "msvag": "#8c564b",
    "m-svag": "#8c564b", "clipped_sgd": "#7f7f7f", "clipped_adam": "#bcbd22", "rmsprop": "#e377c2",
    "adagrad": "#17becf", "blockwise_adam": "#98df8a",
}

RC = {
    "figure.dpi": 110, "savefig.dpi": 150, "font.size": 9, "axes.titlesize": 9.5, "axes.labelsize": 9,
    "legend.fontsize": 8, "xtick.labelsize": 8, "ytick.labelsize": 8, "axes.grid": True,
    "grid.alpha": 0.3, "axes.spines.top": False, "axes.spines.right": False, "lines.linewidth": 1.5,
    "legend.frameon": False,
}


@contextlib.contextmanager
def style():
    """Use the house style (non-interactive backend) inside a ``with`` block."""
    import matplotlib
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    with plt.rc_context(RC):
        yield plt


def color(name: str, default=None):
    return COLORS.get(name.lower(), default)


def band(ax, x, Y, label=None, color=None, q=(0.25, 0.75), log=True, **kw):
    """Median over runs (rows of ``Y``) with a quantile band; infinite values (diverged) are dropped
    per step.  Returns the line."""
    Y = np.asarray(Y, dtype=float)
    Yf = np.where(np.isfinite(Y), Y, np.nan)
    ok = np.any(np.isfinite(Yf), axis=0)
    with np.errstate(all="ignore"):
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            med = np.nanmedian(Yf, axis=0)
            lo, hi = np.nanquantile(Yf, q[0], axis=0), np.nanquantile(Yf, q[1], axis=0)
    (line,) = ax.plot(np.asarray(x)[ok], med[ok], label=label, color=color, **kw)
    if Y.shape[0] > 1:
        ax.fill_between(np.asarray(x)[ok], lo[ok], hi[ok], color=line.get_color(), alpha=0.2, lw=0)
    if log:
        ax.set_yscale("log")
    return line


def plot_result(result, ax=None, metric="loss", *, relative=False, label=None, color=None,
                q=(0.25, 0.75), log=True, **kw):
    """Draw a :class:`simopt.Result` with :func:`band`: the median over runs of ``metric``
    (``"loss"``: f(x_t) - f*, or ``"grad_norm"``) against the step, with the ``q`` quantile band
    (the inter-quartile range by default), on a log y axis.  ``relative=True`` divides each run by
    its initial value.  Diverged runs drop out of the steps where they are infinite.  Draws into
    ``ax`` (a new figure in the house style when None) and returns ``ax``."""
    if metric not in ("loss", "grad_norm"):
        raise ValueError(f"metric: expected 'loss' or 'grad_norm', got {metric!r}")
    Y = np.asarray(getattr(result, metric), dtype=float)
    if relative:
        with np.errstate(divide="ignore", invalid="ignore"):
            Y = Y / Y[:, :1]
    if ax is None:
        with style() as plt:
            _, ax = plt.subplots(figsize=(4.0, 2.8))
    band(ax, result.steps, Y, label=label, color=color, q=q, log=log, **kw)
    ax.set_xlabel("step")
    names = {"loss": "$f(x_t) - f^*$", "grad_norm": r"$\|\nabla f(x_t)\|$"}
    ax.set_ylabel(names[metric] + (" (relative)" if relative else ""))
    if label is not None:
        ax.legend()
    return ax


def mean_std_band(ax, x, Y, label=None, color=None, log=True, **kw):
    """Mean over runs with a +-1 standard-deviation band (Balles & Hennig's figure convention)."""
    Y = np.asarray(Y, dtype=float)
    m, s = Y.mean(0), Y.std(0)
    (line,) = ax.plot(x, m, label=label, color=color, **kw)
    lo = np.maximum(m - s, m * 1e-3) if log else m - s
    ax.fill_between(x, lo, m + s, color=line.get_color(), alpha=0.2, lw=0)
    if log:
        ax.set_yscale("log")
    return line


def savefig(fig, path, formats=("png", "pdf")) -> list[str]:
    """Save ``fig`` as ``path`` with each extension in ``formats``; returns the written paths."""
    base, _ = os.path.splitext(str(path))
    d = os.path.dirname(base)
    if d:
        os.makedirs(d, exist_ok=True)
    out = []
    for ext in formats:
        fig.savefig(f"{base}.{ext}", bbox_inches="tight")
        out.append(f"{base}.{ext}")
    return out
