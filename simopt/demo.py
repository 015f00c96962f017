"""A first look: SGD, sign descent and Adam on an ill-conditioned quadratic, axis-aligned vs rotated.

Each method's learning rate is tuned on a log grid (``simopt.tune_lr``: median final relative loss); the figure
shows the median and inter-quartile band of f(x_t) - f* over runs.  Sign descent and Adam exploit an
axis-aligned eigenbasis; rotating it takes that advantage away (Balles & Hennig 2018, Fig. 2).
"""
from __future__ import annotations

import argparse

import numpy as np

from . import noise, optim, plotting, spectra
from .tuning import tune_lr
from .problems import quadratic

METHODS = {"SGD": optim.sgd, "sign": optim.sign, "Adam": optim.adam}



def _add_args(ap):
    ap.add_argument("--out", default="figures/demo.png", metavar="PNG",
                    help="output path (a .png and a .pdf are written)")
    ap.add_argument("--quick", action="store_true", help="small sizes (seconds)")
    return ap


def main(argv=None) -> int:
    return _demo(_add_args(argparse.ArgumentParser(prog="simopt demo")).parse_args(argv))


def _demo(a) -> int:
    d, steps, runs = (50, 300, 4) if a.quick else (200, 2000, 16)
    lam = spectra.logspace(d, 1.0, 1e3)
    lrs = np.logspace(-5, 0, 11)
    with plotting.style() as plt:
        fig, axes = plt.subplots(1, 2, figsize=(7.0, 2.8), sharey=True)
        for ax, (title, rot) in zip(axes, [("axis-aligned eigenbasis", "none"), ("rotated eigenbasis (Haar)", "haar")]):
            p = quadratic(lam, rotation=rot, noise=noise.gaussian(1e-3), seed=0)
            for name, make in METHODS.items():
                tuned = tune_lr(p, make(1.0), lrs, steps, runs=runs, seed=1, record_every=max(1, steps // 100))
                lr, res = tuned.best_lr, tuned.result
                plotting.band(ax, res.steps, res.loss, label=f"{name} (lr={lr:.0e})",
                              color=plotting.color(name))
                print(f"{title:28s} {name:5s} lr={lr:.1e} median final loss={np.median(res.loss[:, -1]):.3e}")
            ax.set_title(f"{title}, d={d}, $\\kappa$=1e3")
            ax.set_xlabel("step")
            ax.legend()
        axes[0].set_ylabel("$f(x_t) - f^*$")
        fig.tight_layout()
        for f in plotting.savefig(fig, a.out):
            print("wrote", f)
    return 0


def register(sub):
    p = sub.add_parser("demo", help="SGD vs sign descent vs Adam, axis-aligned vs rotated (a first figure)",
                       description=__doc__.replace("``", ""))
    _add_args(p).set_defaults(func=_demo)
