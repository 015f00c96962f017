"""The bound report: run the engine and hold every measured trajectory to its guarantee.

``check(problem, method, eps, runs, seed)`` runs ``simopt.run`` with the method's update rule and
returns, per run, the measured iteration count T(ε) (theory_notes §5: first t with f(x_t) ≤ ε f(x_0)),
the bound T_bound(ε), their ratio, and whether every per-step guarantee held (with the worst violation).
A ``method`` names a *claim* (a theory_notes statement); ``optimizer=`` runs another update rule
against that claim, so a wrong step (e.g. ``simopt.optim.sgd(2.5 / L)`` checked against ``"gd"``) is
reported as a violation — the check can fail.

Methods (theory_notes sections; the seed paper whose mechanism each is):

- ``gd`` (§2A): GD, fixed step η (default 1/L): f_{t+1} ≤ ρ(η)² f_t.
- ``gd_opt`` (§2A): GD, fixed step 2/(L+μ): ρ = (κ−1)/(κ+1).
- ``gd_lg`` (§2B): GD, η_t = 1/L_G(x_t), block-diagonal H: f_{t+1} ≤ f_t − ‖g_t‖²/(2L_G(x_t))
  (Tomihari & Sato 2025 mechanism; their Thm 4.7/4.9 constants are not available [NF]).
- ``sign`` (§2C): sign descent, η_t = ‖g_t‖₁/U_∞: f_{t+1} ≤ f_t − ‖g_t‖₁²/(2U_∞).
- ``adam`` (§2E): Adam β1=0, β2=1, v₀=g₀² (Zhang et al. 2024): f_{t+1} ≤ ρ̃(η)² f_t, default
  η = 2/(λ_min(H̃)+λ_max(H̃)).
- ``sgd`` (§3H): SGD with constant-covariance noise, η ≤ 1/L: E f_{t+1} ≤ (1−ημ) E f_t + ½η²V,
  checked on the Monte Carlo mean within ``z`` standard errors.
- ``gd_vs_sign`` (§2D): runs ``gd_lg`` and ``sign``; reports the predicted advantage (trajectory mean
  of ψ·L_G/L_P, the ratio of the guaranteed decreases) beside the measured T_GD/T_sign.  A
  prediction, not a theorem: nothing to pass or fail in itself.

Losses and gradients for the per-step checks are recomputed from the recorded iterates in H's
eigenbasis (f = ½ Σ λ_i ẽ_i², g = Q(λ ⊙ ẽ), ẽ = Qᵀ(x − x*)): a sum of non-negative terms, accurate to a
few ulps of f whatever κ, so ``rtol`` (default 1e-12, relative to f(x_t)) only absorbs the rounding of
the iterates themselves.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .._validate import (as_float_array, check_int, check_interval, check_nonneg_scalar,
                         check_positive_scalar, takes_problem)
from . import bounds as _b
from . import metrics as _m

__all__ = ["check", "BoundReport", "METHODS", "advantage_rank_correlation"]

#: the claims ``check`` can hold a run to: ``{method: (section of theory_notes.md, statement)}``
METHODS = {
    "gd": ("2A", "GD, fixed step (default 1/L): f(x_t+1) <= rho(eta)^2 f(x_t)"),
    "gd_opt": ("2A", "GD, fixed step 2/(L+mu): f(x_t+1) <= ((k-1)/(k+1))^2 f(x_t)"),
    "gd_lg": ("2B", "GD, eta_t = 1/L_G(x_t): f(x_t+1) <= f(x_t) - |g|^2/(2 L_G)"),
    "sign": ("2C", "sign descent, eta_t = |g|_1/U_inf: f(x_t+1) <= f(x_t) - |g|_1^2/(2 U_inf)"),
    "adam": ("2E", "Adam b1=0 b2=1 v0=g0^2: f(x_t+1) <= rho~(eta)^2 f(x_t)"),
    "sgd": ("3H", "SGD with noise, eta <= 1/L: E f(x_t+1) <= (1-eta mu) E f(x_t) + eta^2 V/2"),
    "gd_vs_sign": ("2D", "GD(1/L_G) vs sign(|g|_1/U_inf): predicted advantage psi*L_G/L_P"),
}

#: default step budget when the claim gives no finite T_bound
DEFAULT_STEPS_NO_BOUND = 10_000
#: steps per engine call when the rule is stateless (iterates are recorded every step)
CHUNK = 4096
#: largest default step budget (a claim whose T_bound is larger is checked up to here; ``steps=``
#: overrides it)
MAX_STEPS = 1_000_000
#: bytes of recorded iterates allowed for a stateful rule whose bound needs gradients
MEMORY_LIMIT = 2 * 10**9


@dataclass
class BoundReport:
    """Per-run comparison of a measured trajectory with its guarantee (see :func:`check`).

    Arrays have one entry per run.  ``worst_violation`` is max_t (f(x_{t+1}) − bound_t)/f(x_t) over the
    checked steps (≤ ``rtol`` means the guarantee held; for ``sgd`` it is the largest Monte Carlo
    excess in standard errors, compared with ``z``).  ``ratio`` = T_measured / T_bound (≤ 1 expected).
    ``contraction`` is the guaranteed per-step factor q, ``realized_contraction`` the measured
    geometric-mean factor (f(x_T)/f(x_0))^{1/T}.  ``decrease_ratio_mean`` (deterministic methods) is
    the mean over the checked steps of ψ·P·L_G/U_∞ (theory_notes §2D) along this run; for
    ``gd_vs_sign``, ``predicted_advantage`` is that mean along the GD(1/L_G) path,
    ``predicted_advantage_sign_path`` along the sign path, ``T_sign`` the sign method's T(ε) and
    ``measured_advantage`` = T_GD/T_sign; ``parts`` holds the two underlying reports.
    """
    method: str
    section: str
    statement: str
    eps: float
    runs: int
    steps_run: int
    T_measured: np.ndarray
    T_bound: np.ndarray
    ratio: np.ndarray
    contraction: np.ndarray
    realized_contraction: np.ndarray
    held: np.ndarray
    worst_violation: np.ndarray
    worst_step: np.ndarray
    steps_checked: np.ndarray
    diverged: np.ndarray
    tolerance: float
    decrease_ratio_mean: np.ndarray | None = None
    predicted_advantage: np.ndarray | None = None
    predicted_advantage_sign_path: np.ndarray | None = None
    T_sign: np.ndarray | None = None
    T_of_mean: float | None = None
    measured_advantage: np.ndarray | None = None
    parts: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)

    @property
    def all_held(self) -> bool:
        """Every per-step guarantee held in every run (and, unless censored, T ≤ T_bound)."""
        return bool(np.all(self.held))

    @property
    def within_bound(self) -> np.ndarray:
        """Per run: the measurement does not contradict T(ε) ≤ T_bound(ε) — either T ≤ T_bound, or the
        run was censored by a step budget smaller than T_bound (then the comparison is open; see
        ``censored_before_bound``).  For ``sgd`` the bound is on E f, so the T(ε) of the Monte Carlo
        mean loss is compared, for every run alike."""
        if self.method == "sgd":
            ok = (self.T_of_mean <= self.T_bound[0]) or (math.isinf(self.T_of_mean)
                                                         and self.steps_run < self.T_bound[0])
            return np.full(self.runs, bool(ok))
        return (self.T_measured <= self.T_bound) | self.censored_before_bound

    @property
    def censored_before_bound(self) -> np.ndarray:
        """Per run: not at ε when the budget ran out, and the budget was below T_bound."""
        return (~np.isfinite(self.T_measured) & ~self.diverged
                & (self.steps_checked < self.T_bound))

    def table(self, max_rows: int = 20) -> str:
        """The report as a plain-text table, one row per run (the first ``max_rows`` runs; ``sgd``,
        whose claim is on the expectation, gets one summary row)."""
        def fmt(v, flag=False):
            if v is None:
                return "-"
            if isinstance(v, (bool, np.bool_)):
                if flag:        # a warning flag (diverged): shout when set
                    return "YES" if v else "no"
                return "yes" if v else "NO"
            v = float(v)
            if math.isinf(v):
                return "inf"
            if math.isnan(v):
                return "nan"
            if v == int(v) and abs(v) < 1e9:
                return str(int(v))
            return f"{v:.4g}"

        tol = (f"z = {self.tolerance:g} standard errors" if self.method == "sgd"
               else f"tolerance = {self.tolerance:g} x f(x_t)")
        head = [f"method {self.method} (theory_notes §{self.section}): {self.statement}",
                f"eps = {self.eps:g}, runs = {self.runs}, steps run = {self.steps_run}, {tol}"]
        if self.method == "sgd":
            fin = self.T_measured[np.isfinite(self.T_measured)]
            cols = ["T(eps) of mean", "T_bound", "ratio", "q_bound", "q_real(mean)", "held",
                    "worst_z", "at_step", "runs at eps", "median run T", "diverged runs"]
            rows = [[self.T_of_mean, self.T_bound[0], self.T_of_mean / self.T_bound[0],
                     self.contraction[0], self.realized_contraction[0], bool(self.held[0]),
                     self.worst_violation[0], self.worst_step[0], fin.size,
                     float(np.median(fin)) if fin.size else math.inf, int(self.diverged.sum())]]
        elif self.method == "gd_vs_sign":
            cols = ["run", "T_GD", "T_GD_bound", "T_sign", "T_sign_bound", "T_GD/T_sign",
                    "pred(GD path)", "pred(sign path)", "held"]
            rows = [[r, self.T_measured[r], self.T_bound[r], self.T_sign[r],
                     self.parts["sign"].T_bound[r], self.measured_advantage[r],
                     self.predicted_advantage[r], self.predicted_advantage_sign_path[r],
                     self.held[r]] for r in range(min(self.runs, max_rows))]
        else:
            cols = ["run", "T(eps)", "T_bound", "ratio", "q_bound", "q_real", "held",
                    "worst_viol", "at_step", "checked", "diverged"]
            rows = [[r, self.T_measured[r], self.T_bound[r], self.ratio[r], self.contraction[r],
                     self.realized_contraction[r], self.held[r], self.worst_violation[r],
                     self.worst_step[r], self.steps_checked[r], self.diverged[r]]
                    for r in range(min(self.runs, max_rows))]
        cells = [cols] + [[fmt(v, flag=(c == "diverged")) for c, v in zip(cols, row)]
                          for row in rows]
        w = [max(len(c[j]) for c in cells) for j in range(len(cols))]
        lines = head + ["  ".join(c.rjust(w[j]) for j, c in enumerate(cells[0])),
                        "  ".join("-" * w[j] for j in range(len(cols)))]
        lines += ["  ".join(c.rjust(w[j]) for j, c in enumerate(row)) for row in cells[1:]]
        if self.method != "sgd" and self.runs > max_rows:
            lines.append(f"... {self.runs - max_rows} more runs not shown; all runs: "
                         f"{int(np.sum(self.held))}/{self.runs} held, T(eps) median "
                         f"{float(np.median(self.T_measured)):g}, max {float(np.max(self.T_measured)):g}")
        verdict = ("every per-step guarantee held" if self.all_held
                   else "VIOLATION: a per-step guarantee failed")
        lines.append(verdict)
        if not np.all(self.within_bound):
            lines.append("VIOLATION: measured T(eps) above T_bound(eps)")
        if np.any(self.censored_before_bound):
            lines.append("note: some runs were censored by a step budget below T_bound: T <= T_bound "
                         "is not decided for them (pass a larger steps=)")
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)

    def __str__(self):
        return self.table()


# ------------------------------------------------------------------------------------------------
class _Exact:
    """Exact f, g (and block sums of g²) from iterates, in H's eigenbasis."""

    def __init__(self, problem):
        lam, Q = problem.eigh()
        self.lam = np.asarray(lam, dtype=np.float64)
        self.Q = np.asarray(Q, dtype=np.float64)
        self.xstar = np.asarray(problem.xstar, dtype=np.float64)
        self.starts = np.asarray(problem.block_starts[:-1], dtype=np.intp)
        self.block_L = np.asarray(problem.block_L, dtype=np.float64)

    def __call__(self, X):
        Et = (X - self.xstar) @ self.Q
        f = 0.5 * ((Et * Et) @ self.lam)
        G = (Et * self.lam) @ self.Q.T
        return f, G

    def LG(self, G):
        sq = np.add.reduceat(G * G, self.starts, axis=-1)
        with np.errstate(invalid="ignore", divide="ignore"):
            return sq @ self.block_L / sq.sum(axis=-1), sq.sum(axis=-1)


def _is_stateless(opt, steps):
    if getattr(opt, "stateful", True):
        return False
    v = np.asarray(opt.lr_values(min(steps, 16)))
    if opt.lr is None:
        return True
    if not np.all(v == v[0]):
        return False
    v = np.asarray(opt.lr_values(steps))
    return bool(np.all(v == v[0]))


def _segments(problem, opt, steps, runs, seed, X0, ex, needs_x, max_steps_memory):
    """Generator of run segments ``(restart, t0, F, G, div, ds)`` for the checker.

    ``F`` (runs, n+1): exact losses at steps t0..t0+n; ``G`` (runs, n+1, d) gradients or ``None``;
    ``div``/``ds``: engine divergence flags and steps (relative to t0).  A diverged run's iterate at its
    divergence step (where the engine stopped it) is included; later entries are NaN.

    - stateless rules with a constant step: chunks of ``CHUNK`` steps, each continued exactly from the
      previous last iterate (no restart);
    - stateful rules (momentum, Adam, ...): whole runs from scratch with budgets 2048, ×8, ... up to
      ``steps`` (``restart=True`` each time: the caller discards the previous attempt); iterates are
      recorded only when the bound needs gradients (``needs_x``), otherwise the engine's losses are
      used.  The caller sends True to stop.
    """
    import simopt
    stateless = _is_stateless(opt, steps)

    def one(n, start, rec_x):
        res = simopt.run(problem, opt, n, runs=runs, seed=seed, record_every=1,
                         record=("x",) if rec_x else (), x0=start)
        div = np.asarray(res.diverged, dtype=bool)
        ds = np.asarray(res.diverged_step, dtype=np.int64)
        xdiv = np.asarray(res.x, dtype=np.float64)
        if rec_x:
            X = np.array(res.records["x"], dtype=np.float64)
            for r in np.flatnonzero(div):
                X[r, ds[r]] = xdiv[r]
                X[r, ds[r] + 1:] = np.nan
            F, G = ex(X)
            return F, G, div, ds, X[:, -1, :]
        F = np.array(res.loss, dtype=np.float64)
        for r in np.flatnonzero(div):
            F[r, ds[r]] = ex(xdiv[r][None, :])[0][0]
            F[r, ds[r] + 1:] = np.nan
        return F, None, div, ds, None

    if stateless:
        t0, start = 0, X0
        while t0 < steps:
            n = min(CHUNK, steps - t0)
            F, G, div, ds, last = one(n, start, True)
            if (yield False, t0, F, G, div, ds):
                return
            t0 += n
            start = last.copy()
            start[~np.all(np.isfinite(start), axis=1)] = 0.0   # diverged runs: no longer checked
        return
    n = min(steps, 2048)
    while True:
        if needs_x and runs * (n + 1) * problem.dim * 8 > max_steps_memory:
            raise ValueError(f"steps: checking this rule needs every iterate of a {n}-step run in "
                             f"memory ({runs * (n + 1) * problem.dim * 8 / 1e9:.2g} GB); pass a "
                             "smaller steps or fewer runs")
        F, G, div, ds, _ = one(n, X0, needs_x)
        if (yield True, 0, F, G, div, ds) or n >= steps:
            return
        n = min(steps, 8 * n)


def _as_x0(problem, x0, runs):
    if x0 is None:
        return np.broadcast_to(np.asarray(problem.x0, dtype=np.float64), (runs, problem.dim)).copy()
    X0 = as_float_array(x0, "x0")
    if X0.shape == (problem.dim,):
        return np.broadcast_to(X0, (runs, problem.dim)).copy()
    if X0.shape != (runs, problem.dim):
        raise ValueError(f"x0: expected shape ({problem.dim},) or ({runs}, {problem.dim}), "
                         f"got {X0.shape}")
    return X0


def _deterministic(problem, method, eps, runs, seed, steps, optimizer, lr, x0, adam_eps, rtol):
    import simopt
    from ..optim import adam as _adam, sgd as _sgd
    opt_mod = simopt.optim
    X0 = _as_x0(problem, x0, runs)
    ex = _Exact(problem)
    f0, G0 = ex(X0)
    notes = []
    if problem.noise is not None:
        problem = problem.with_noise(None)
        notes.append("the problem's noise was removed: this guarantee is deterministic")
    # ---- the claim: per-run contraction, T_bound and the bound on f(x_{t+1}) given (f_t, G_t)
    if method in ("gd", "gd_opt"):
        if method == "gd_opt":
            if lr is not None:
                raise ValueError("lr: method 'gd_opt' fixes eta = 2/(L+mu); use method 'gd' with lr")
            eta = _b.gd_step_size(problem, "2/(L+mu)")
            default = lambda: opt_mod.gd_oracle(rule="2/(L+mu)")  # noqa: E731
        elif lr is None:
            eta = _b.gd_step_size(problem, "1/L")
            default = lambda: opt_mod.gd_oracle(rule="1/L")  # noqa: E731
        else:
            eta = check_positive_scalar(lr, "lr")
            default = lambda: _sgd(eta)  # noqa: E731
        bd = _b.gd_fixed_step_bound(problem, eta, eps)
        q = np.full(runs, bd.contraction)
        Tb = np.full(runs, bd.T_bound)
        nxt = lambda f, G: q[:, None] * f  # noqa: E731
        notes.append(f"claimed step eta = {eta:.6g} (1/L = {1.0 / problem.L:.6g})")
    elif method == "gd_lg":
        _b._require_block_diagonal(problem, "method 'gd_lg' (theory_notes §2B)")
        if lr is not None:
            raise ValueError("lr: method 'gd_lg' sets eta_t = 1/L_G(x_t); pass optimizer= to run "
                             "another rule against its guarantee")
        bd = _b.gd_lg_bound(problem, eps)
        q = np.full(runs, bd.contraction)
        Tb = np.full(runs, bd.T_bound)
        default = lambda: opt_mod.gd_oracle(rule="1/L_G")  # noqa: E731

        def nxt(f, G):
            LG, g2 = ex.LG(G)
            return f - g2 / (2.0 * LG)
    elif method == "sign":
        if lr is not None:
            raise ValueError("lr: method 'sign' sets eta_t = ||g_t||_1/U_inf; pass optimizer= to "
                             "run another rule against its guarantee")
        bd = _b.sign_bound(problem, eps)
        q = np.full(runs, bd.contraction)
        Tb = np.full(runs, bd.T_bound)
        U = _m.linf_smoothness(problem)
        default = lambda: opt_mod.sign_oracle()  # noqa: E731

        def nxt(f, G):
            l1 = np.abs(G).sum(axis=-1)
            return f - l1 * l1 / (2.0 * U)
    elif method == "adam":
        adam_eps = check_nonneg_scalar(adam_eps, "adam_eps")
        if lr is None:
            eta = float(np.min(_b.adam_optimal_lr(problem, X0, adam_eps)))
        else:
            eta = check_positive_scalar(lr, "lr")
        rho = np.asarray(_b.adam_rate(problem, eta, X0, adam_eps), dtype=np.float64).reshape(runs)
        q = rho * rho
        Tb = np.array([_b.iterations_for_contraction(v, eps) for v in q])
        kt = np.asarray(_m.adam_preconditioned_condition_number(problem, X0, adam_eps)).reshape(runs)
        default = lambda: _adam(eta, beta1=0.0, beta2=1.0, eps=adam_eps, v0="first_grad")  # noqa: E731
        nxt = lambda f, G: q[:, None] * f  # noqa: E731
        notes.append(f"lr = {eta:.6g}; kappa~ (per run) = {np.array2string(kt, precision=4)}, "
                     f"kappa = {problem.condition_number:.6g}, max_b kappa_b = "
                     f"{float(np.max(problem.block_condition_numbers)):.6g}")
    else:  # pragma: no cover - dispatched by check()
        raise AssertionError(method)

    opt = default() if optimizer is None else optimizer
    if optimizer is not None:
        notes.append(f"update rule run: {opt!r} (checked against the {method!r} claim)")
    Tb_max = float(np.max(Tb))
    if steps is None:
        steps = min(int(Tb_max), MAX_STEPS) if math.isfinite(Tb_max) else DEFAULT_STEPS_NO_BOUND
        steps = max(steps, 1)
    steps = check_int(steps, "steps", minimum=1)
    needs_x = method in ("gd_lg", "sign")

    # ---- run and check, segment by segment
    U_inf = _m.linf_smoothness(problem)

    def fresh():
        a = dict(T=np.full(runs, np.inf), worst=np.full(runs, -np.inf),
                 worst_t=np.full(runs, -1, dtype=np.int64), checked=np.zeros(runs, dtype=np.int64),
                 active=f0 > 0, diverged=np.zeros(runs, dtype=bool), f_last=f0.copy(),
                 ratio_sum=np.zeros(runs), steps_run=0)
        a["T"][~a["active"]] = 0.0                  # f(x0) = 0: already there
        return a

    acc = fresh()
    gen = _segments(problem, opt, steps, runs, seed, X0, ex, needs_x, MEMORY_LIMIT)
    send = None
    while True:
        try:
            restart, t0, F, G, div, ds = gen.send(send)
        except StopIteration:
            break
        if restart:
            acc = fresh()
        T, worst, worst_t, checked = acc["T"], acc["worst"], acc["worst_t"], acc["checked"]
        active, diverged, f_last, ratio_sum = (acc["active"], acc["diverged"], acc["f_last"],
                                               acc["ratio_sum"])
        n = F.shape[1] - 1
        acc["steps_run"] = t0 + n
        Gp = None if G is None else G[:, :-1]
        Bd = nxt(F[:, :-1], Gp)                     # guaranteed bound on F[:, 1:]
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            V = (F[:, 1:] - Bd) / F[:, :-1]
            V = np.where(np.isnan(V), np.inf, V)    # a non-finite iterate breaks any bound
            if Gp is not None:
                LG, g2 = ex.LG(Gp)
                l1 = np.abs(Gp).sum(axis=-1)
                dr = l1 * l1 * LG / (U_inf * g2)
            else:
                dr = np.full(V.shape, np.nan)
        reached = F[:, 1:] <= eps * f0[:, None]
        for r in np.flatnonzero(active):
            end = int(ds[r]) if div[r] else n       # transitions t -> t+1 for t < end
            hit = np.flatnonzero(reached[r, :end])
            if hit.size:
                end = int(hit[0]) + 1
                T[r] = t0 + end
                active[r] = False
            elif div[r]:
                diverged[r] = True
                active[r] = False
            if end > 0:
                k = int(np.argmax(V[r, :end]))
                if V[r, k] > worst[r]:
                    worst[r] = V[r, k]
                    worst_t[r] = t0 + k
                checked[r] += end
                ratio_sum[r] += np.nansum(dr[r, :end])
                if np.isfinite(F[r, end]):
                    f_last[r] = F[r, end]
        send = not np.any(active)
    T, worst, worst_t, checked = acc["T"], acc["worst"], acc["worst_t"], acc["checked"]
    diverged, f_last, ratio_sum, steps_run = (acc["diverged"], acc["f_last"], acc["ratio_sum"],
                                              acc["steps_run"])
    if needs_x or _is_stateless(opt, steps):
        pred = ratio_sum / np.maximum(checked, 1)
    else:
        pred = None
    held = worst <= rtol
    ratio = T / Tb
    with np.errstate(divide="ignore", invalid="ignore"):
        steps_for_q = np.where(np.isfinite(T), T, np.maximum(checked, 1))
        realized = (f_last / f0) ** (1.0 / steps_for_q)
    if method == "gd_lg":
        notes.append("q_bound is the a-priori factor 1 - mu/L (L_G <= L); the checked per-step "
                     "bound uses L_G(x_t)")
    return dict(T=T, Tb=Tb, ratio=ratio, q=q, realized=realized, held=held, worst=worst,
                worst_t=worst_t, checked=checked, diverged=diverged, steps_run=steps_run,
                notes=notes, pred=pred, steps=steps)


def _stochastic_sgd(problem, eps, runs, seed, steps, optimizer, lr, x0, rtol, z):
    import simopt
    from ..optim import sgd as _sgd
    if problem.noise is None:
        raise ValueError("problem: method 'sgd' (theory_notes §3H) needs a problem with noise "
                         "(problem.with_noise(simopt.noise.gaussian(...)))")
    runs = check_int(runs, "runs", minimum=2)
    eta = 1.0 / float(problem.L) if lr is None else check_positive_scalar(lr, "lr")
    if x0 is not None:
        x0 = as_float_array(x0, "x0", shape=(problem.dim,))
        problem = problem.with_x0(x0)
    f0 = float(problem.f0)
    bd = _b.sgd_noise_bound(problem, eta, eps, f0=f0)
    V = _b.sgd_noise_level(problem)
    q = bd.contraction
    if steps is None:
        steps = int(bd.T_bound) if math.isfinite(bd.T_bound) else DEFAULT_STEPS_NO_BOUND
    steps = check_int(steps, "steps", minimum=1)
    opt = _sgd(eta) if optimizer is None else optimizer
    res = simopt.run(problem, opt, steps, runs=runs, seed=seed, record_every=1)
    Lo = np.asarray(res.loss, dtype=np.float64)            # (runs, steps+1)
    D = Lo[:, 1:] - q * Lo[:, :-1] - 0.5 * eta * eta * V   # E D_t <= 0 is the claim
    m = D.mean(axis=0)
    se = D.std(axis=0, ddof=1) / math.sqrt(runs)
    scale = q * Lo[:, :-1].mean(axis=0) + 0.5 * eta * eta * V
    with np.errstate(invalid="ignore", divide="ignore"):
        excess = m - rtol * scale
        zs = np.where(se > 0, excess / se, np.where(excess > 0, np.inf, -np.inf))
    zs = np.where(np.isnan(zs), np.inf, zs)                # non-finite losses break the bound
    k = int(np.argmax(zs))
    held_all = bool(zs[k] <= z)
    T = np.asarray(res.iterations_to(eps), dtype=np.float64)
    mean_curve = Lo.mean(axis=0)
    hit = np.flatnonzero(mean_curve <= eps * f0)
    T_mean = float(hit[0]) if hit.size else math.inf
    with np.errstate(invalid="ignore", divide="ignore"):
        realized = np.full(runs, (mean_curve[-1] / f0) ** (1.0 / steps))
    notes = [f"lr = {eta:.6g}, V = tr(HC) = {V:.6g}, noise floor eta V/(2 mu) = "
             f"{eta * V / (2 * problem.mu):.6g} (eps f0 = {eps * f0:.6g})",
             f"per-step claim checked on the Monte Carlo mean over {runs} runs: worst excess "
             f"{zs[k]:.3g} standard errors at step {k} (limit z = {z:g})",
             f"T(eps) of the Monte Carlo mean loss = {T_mean:g}; per-run T(eps) is random, the bound "
             "is on the expectation"]
    return dict(T=T, Tb=np.full(runs, bd.T_bound), ratio=T / bd.T_bound, q=np.full(runs, q),
                realized=realized, held=np.full(runs, held_all), worst=np.full(runs, zs[k]),
                worst_t=np.full(runs, k, dtype=np.int64), checked=np.full(runs, steps),
                diverged=np.asarray(res.diverged, dtype=bool), steps_run=steps, notes=notes,
                pred=None, steps=steps, T_of_mean=T_mean)


@takes_problem
def check(problem, method: str, eps: float = 1e-3, runs: int = 1, seed: int = 0, steps=None, *,
          optimizer=None, lr=None, x0=None, adam_eps: float = 0.0, rtol: float = 1e-12,
          z: float = 4.0) -> BoundReport:
    """Run the engine on ``problem`` and hold the result to the guarantee of ``method`` (one of
    :data:`METHODS`; see the module docstring for the statements and their theory_notes sections).

    Parameters
    ----------
    problem : simopt.Quadratic.  ``gd_lg`` and ``gd_vs_sign`` need a block-diagonal Hessian; ``sgd``
        needs a noisy problem; for the deterministic methods the problem's noise is removed.
    method : ``"gd"``, ``"gd_opt"``, ``"gd_lg"``, ``"sign"``, ``"adam"``, ``"sgd"`` or ``"gd_vs_sign"``.
    eps : target relative suboptimality, T(ε) = first t with f(x_t) ≤ ε f(x_0) (theory_notes §5).
    runs, seed : as ``simopt.run``.  Deterministic methods differ across runs only through ``x0``.
    steps : step budget; default T_bound(ε) (the largest over runs), or 10 000 when there is no finite
        bound.  Runs stop being checked at T(ε).
    optimizer : run this update rule instead of the method's own, against the method's claim.
    lr : the claimed fixed step for ``gd``/``adam``/``sgd`` (default 1/L, the optimal η for Adam, 1/L).
    x0 : starting point(s), ``(d,)`` or ``(runs, d)`` (default ``problem.x0``); ``sgd`` takes ``(d,)``.
    adam_eps : Adam's ε (D = diag(|g₀| + ε)).
    rtol : allowed relative rounding of a per-step guarantee, relative to f(x_t).
    z : for ``sgd``, standard errors of Monte Carlo excess allowed before a violation is reported.

    Returns a :class:`BoundReport`; ``report.table()`` prints it.  Deterministic per-step checks use the
    recorded iterates (``record=("x",)``) and exact eigenbasis losses; stateless rules with a constant
    step are run in chunks of 4096 steps continued exactly from the last iterate.
    """
    if not isinstance(method, str) or method not in METHODS:
        raise ValueError(f"method: expected one of {sorted(METHODS)}, got {method!r}")
    eps = check_interval(eps, "eps", 0.0, 1.0, low_closed=False)
    runs = check_int(runs, "runs", minimum=1)
    seed = check_int(seed, "seed", minimum=0)
    rtol = check_nonneg_scalar(rtol, "rtol")
    z = check_positive_scalar(z, "z")
    section, statement = METHODS[method]
    common = dict(method=method, section=section, statement=statement, eps=eps, runs=runs)
    if method == "sgd":
        o = _stochastic_sgd(problem, eps, runs, seed, steps, optimizer, lr, x0, rtol, z)
        return _report(o, common, z)
    if method == "gd_vs_sign":
        if optimizer is not None or lr is not None:
            raise ValueError("optimizer/lr: method 'gd_vs_sign' runs the two oracle rules itself")
        _b._require_block_diagonal(problem, "method 'gd_vs_sign' (theory_notes §2D)")
        gd = _report(_deterministic(problem, "gd_lg", eps, runs, seed, steps, None, None, x0,
                                    adam_eps, rtol), dict(common, method="gd_lg",
                                                          section="2B",
                                                          statement=METHODS["gd_lg"][1]), rtol)
        sg = _report(_deterministic(problem, "sign", eps, runs, seed, steps, None, None, x0,
                                    adam_eps, rtol), dict(common, method="sign", section="2C",
                                                          statement=METHODS["sign"][1]), rtol)
        rep = BoundReport(
            **common, steps_run=max(gd.steps_run, sg.steps_run), T_measured=gd.T_measured,
            T_bound=gd.T_bound, ratio=gd.ratio, contraction=gd.contraction,
            realized_contraction=gd.realized_contraction, held=gd.held & sg.held,
            worst_violation=np.maximum(gd.worst_violation, sg.worst_violation),
            worst_step=gd.worst_step, steps_checked=gd.steps_checked,
            diverged=gd.diverged | sg.diverged, tolerance=rtol,
            predicted_advantage=gd.decrease_ratio_mean,
            predicted_advantage_sign_path=sg.decrease_ratio_mean,
            T_sign=sg.T_measured, measured_advantage=gd.T_measured / sg.T_measured,
            parts={"gd": gd, "sign": sg},
            notes=["pred = trajectory mean of psi*P*L_G/U_inf (= psi*L_G/L_P for block-diagonal H), "
                   "the ratio of the guaranteed one-step decreases of sign descent and GD(1/L_G); "
                   "a prediction, not a theorem: compare its rank order with T_GD/T_sign"])
        rho = advantage_rank_correlation(rep.predicted_advantage, rep.measured_advantage)
        if np.isfinite(rho):
            rep.notes.append(f"Spearman rank correlation over runs of pred(GD path) with "
                             f"T_GD/T_sign: {rho:.3f}")
        return rep
    o = _deterministic(problem, method, eps, runs, seed, steps, optimizer, lr, x0, adam_eps, rtol)
    return _report(o, common, rtol)


def advantage_rank_correlation(predicted, measured) -> float:
    """Spearman rank correlation of the theory_notes.md §2D predicted advantage (trajectory mean of ψ·L_G/L_P) with the
    measured T_GD/T_sign, over runs or over the points of a sweep (theory_notes §2D: a prediction to
    report, not a pass/fail).  Pairs with a non-finite entry are dropped; NaN with fewer than 3 pairs
    or a constant input."""
    from scipy.stats import spearmanr
    a = np.asarray(predicted, dtype=np.float64).ravel()
    b = np.asarray(measured, dtype=np.float64).ravel()
    if a.shape != b.shape:
        raise ValueError(f"predicted, measured: expected equal lengths, got {a.size} and {b.size}")
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 3 or np.all(a[ok] == a[ok][0]) or np.all(b[ok] == b[ok][0]):
        return math.nan
    return float(spearmanr(a[ok], b[ok]).statistic)


def _report(o, common, tol):
    rep = BoundReport(**common, steps_run=o["steps_run"], T_measured=o["T"], T_bound=o["Tb"],
                      ratio=o["ratio"], contraction=o["q"], realized_contraction=o["realized"],
                      held=o["held"], worst_violation=o["worst"], worst_step=o["worst_t"],
                      steps_checked=o["checked"], diverged=o["diverged"], tolerance=tol,
                      notes=o["notes"], decrease_ratio_mean=o["pred"],
                      T_of_mean=o.get("T_of_mean"))
    return rep
