"""``simopt bounds METHOD ...``: run the engine on a block-heterogeneous quadratic and print the bound
report of :func:`simopt.theory.check` as a table (theory_notes.md §2A–E, theory_notes.md §3H,
theory_notes.md §5).

Exit status: 0 when every per-step guarantee held and no measured T(ε) exceeded T_bound(ε), 1 when
the check found a violation (e.g. ``--lr-scale 2.5`` on ``gd``), 2 for bad arguments."""
from __future__ import annotations

import numpy as np


def register(subparsers) -> None:
    from .check import METHODS
    methods = "\n".join(f"  {k:11s} theory_notes.md §{v[0]}: {v[1]}" for k, v in METHODS.items())
    p = subparsers.add_parser(
        "bounds", help="check measured iteration counts against the theory's bounds",
        description="Run the engine on a block-heterogeneous quadratic and print the bound report "
                    "(simopt.theory.check): measured T(eps) against T_bound(eps) and every per-step "
                    "guarantee.  Exit status 0 when everything held, 1 on a violation, 2 for "
                    "misuse.\n\nMethods (the statement each checks, from the reference notes):\n"
                    + methods)
    p.add_argument("method", choices=sorted(METHODS), metavar="METHOD",
                   help="the claim to check: " + ", ".join(sorted(METHODS)))
    g = p.add_argument_group("problem (simopt.heterogeneous_blocks)")
    g.add_argument("--n-blocks", type=int, default=4, help="number of diagonal blocks")
    g.add_argument("--block-size", type=int, default=5, help="coordinates per block")
    g.add_argument("--heterogeneity", type=float, default=1.0,
                   help="0 = identical block spectra, 1 = separated bands")
    g.add_argument("--condition-number", type=float, default=1000.0,
                   help="global condition number L/mu (exact)")
    g.add_argument("--rotation", default="block", help="block | none | global | angle in [0, 1]")
    g.add_argument("--problem-seed", type=int, default=0, help="seed of the problem's rotations")
    g.add_argument("--noise-scale", type=float, default=None,
                   help="isotropic Gaussian gradient noise (std); needed by 'sgd'")
    r = p.add_argument_group("run")
    r.add_argument("--eps", type=float, default=1e-3, help="target f(x_T) <= eps f(x_0)")
    r.add_argument("--runs", type=int, default=None, help="default 4 (400 for 'sgd')")
    r.add_argument("--seed", type=int, default=0, help="seed of the runs (noise and --random-x0)")
    r.add_argument("--steps", type=int, default=None, help="step budget (default T_bound)")
    r.add_argument("--random-x0", action="store_true",
                   help="start each run at x* + N(0, I) instead of the problem's x0")
    r.add_argument("--lr", type=float, default=None,
                   help="claimed fixed step for gd / adam / sgd (default 1/L, optimal, 1/L)")
    r.add_argument("--lr-scale", type=float, default=1.0,
                   help="run the method's rule with its step multiplied by this, against the "
                        "unscaled claim (e.g. 2.5 with 'gd' must report a violation)")
    p.set_defaults(func=_main)


def _rotation(s):
    try:
        return float(s)
    except ValueError:
        return s


def _rule(problem, method, lr, scale, x0):
    """The method's own update rule with its step multiplied by ``scale`` (None when scale == 1)."""
    import simopt
    from . import bounds as B
    if scale == 1.0:
        return None
    o = simopt.optim
    if method == "gd":
        return o.sgd(scale * (lr if lr is not None else 1.0 / problem.L))
    if method == "gd_opt":
        return o.gd_oracle(rule="2/(L+mu)", scale=scale)
    if method == "gd_lg":
        return o.gd_oracle(rule="1/L_G", scale=scale)
    if method == "sign":
        return o.sign_oracle(scale=scale)
    if method == "adam":
        eta = lr if lr is not None else float(np.min(B.adam_optimal_lr(problem, x0)))
        return o.adam(scale * eta, beta1=0.0, beta2=1.0, eps=0.0, v0="first_grad")
    if method == "sgd":
        return o.sgd(scale * (lr if lr is not None else 1.0 / problem.L))
    raise ValueError(f"--lr-scale: not available for method {method!r}")


def _main(args) -> int:
    import simopt
    from .check import check
    try:
        noise = None if args.noise_scale is None else simopt.noise.gaussian(args.noise_scale)
        p = simopt.heterogeneous_blocks(args.n_blocks, args.block_size, args.heterogeneity,
                                        condition_number=args.condition_number,
                                        rotation=_rotation(args.rotation), noise=noise,
                                        seed=args.problem_seed)
        runs = args.runs if args.runs is not None else (400 if args.method == "sgd" else 4)
        x0 = None
        if args.random_x0:
            rng = np.random.default_rng(args.seed)
            x0 = p.xstar + rng.standard_normal((runs, p.dim) if args.method != "sgd" else p.dim)
        opt = _rule(p, args.method, args.lr, args.lr_scale, x0 if x0 is not None else p.x0)
        rep = check(p, args.method, eps=args.eps, runs=runs, seed=args.seed, steps=args.steps,
                    optimizer=opt, lr=args.lr, x0=x0)
    except (ValueError, TypeError) as e:  # the library names the argument; one line, exit 2
        from ..cli import CLIError
        raise CLIError(f"bounds: {e}") from None
    print(f"problem: {p!r}")
    print(rep.table())
    bad = (not rep.all_held) or (not np.all(rep.within_bound))
    return 1 if bad else 0
