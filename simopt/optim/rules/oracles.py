r"""Step-size oracles: rules whose step is set from the problem's curvature constants, so the engine runs
exactly the methods whose guarantees theory_notes.md §2 proves.  They have no ``lr``.

- :func:`gd_oracle`: gradient descent :math:`x_{t+1} = x_t - \eta_t g_t` with

  - ``rule="1/L"``: :math:`\eta = s/L` (theory_notes.md §2A, contraction :math:`1 - 1/\kappa`);
  - ``rule="2/(L+mu)"``: :math:`\eta = 2s/(L+\mu)` (§2A, contraction :math:`(\kappa-1)/(\kappa+1)`);
  - ``rule="1/L_G"``: :math:`\eta_t = s/L_G(x_t)`, :math:`L_G = \sum_b L_b\|g_b\|^2/\|g\|^2` the
    gradient-weighted block smoothness (§2B; the weighted Hessian complexity of a gradient method in
    Tomihari & Sato 2025, whose exact Def. 4.5 is not available: seed_math.md §1);

- :func:`sign_oracle`: sign descent with the :math:`\ell_\infty` step of theory_notes.md §2C,
  :math:`x_{t+1} = x_t - \eta_t\,\mathrm{sign}(g_t)`, :math:`\eta_t = s\,\|g_t\|_1 / U_\infty`, with
  :math:`U_\infty \ge \max_{s\in\{\pm1\}^d} s^\top H s` the problem's ``linf_smoothness``; guarantees
  :math:`f(x_{t+1}) \le (1 - \mu_\infty/U_\infty) f(x_t)` (steepest descent in the :math:`\ell_\infty`
  norm, the sign-based method of Tomihari & Sato 2025).

``s = scale`` (1 = the rule as proved; other values let a test break the guarantee on purpose).  The
step uses the gradient the method sees (noisy if the problem has noise).
"""
import numpy as np

from ..rule import Hyper, RuleDef

__all__ = ["gd_oracle", "sign_oracle", "gd_step_size"]
RULES = ("gd_oracle", "sign_oracle")

GD_RULES = ("1/L", "2/(L+mu)", "1/L_G")


def gd_step(x, g, blocks, rule, scale, L, mu, block_L):
    if rule == 0:
        eta = scale / L
    elif rule == 1:
        eta = scale * 2.0 / (L + mu)
    else:
        num = 0.0
        den = 0.0
        for b in range(blocks.shape[0] - 1):
            sq = 0.0
            for i in range(blocks[b], blocks[b + 1]):
                sq += g[i] * g[i]
            num += block_L[b] * sq
            den += sq
        if den == 0.0:
            return
        eta = scale * den / num
    for i in range(x.shape[0]):
        x[i] -= eta * g[i]


def gd_step_size(g, blocks, rule, scale, L, mu, block_L):
    """:math:`\\eta_t` for each row of ``g`` (runs, d) (NaN where g = 0 under ``1/L_G``)."""
    runs = g.shape[0]
    if rule == 0:
        return np.full(runs, scale / L)
    if rule == 1:
        return np.full(runs, 2.0 * scale / (L + mu))
    b = list(blocks)
    sq = np.stack([np.sum(g[:, s:e] ** 2, axis=1) for s, e in zip(b[:-1], b[1:])], axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return scale * sq.sum(1) / (sq @ np.asarray(block_L))


def gd_reference(x, g, blocks, rule, scale, L, mu, block_L):
    eta = np.nan_to_num(gd_step_size(g, blocks, rule, scale, L, mu, block_L), nan=0.0)
    x -= eta[:, None] * g


def _gd_derive(problem, rule, scale):
    return {"L": problem.L, "mu": problem.mu, "block_L": problem.block_L}


GD_ORACLE = RuleDef("gd_oracle", step=gd_step, reference=gd_reference, has_lr=False,
                    hyper={"rule": Hyper(kind="choice", options=GD_RULES), "scale": Hyper(interval="> 0")},
                    derived={"L": "1", "mu": "1", "block_L": "nb"}, derive=_gd_derive)


def sign_step(x, g, scale, U):
    l1 = 0.0
    for i in range(x.shape[0]):
        l1 += abs(g[i])
    eta = scale * l1 / U
    for i in range(x.shape[0]):
        x[i] -= eta * np.sign(g[i])


def sign_reference(x, g, scale, U):
    eta = scale * np.abs(g).sum(axis=1) / U
    x -= eta[:, None] * np.sign(g)


SIGN_ORACLE = RuleDef("sign_oracle", step=sign_step, reference=sign_reference, has_lr=False,
                      hyper={"scale": Hyper(interval="> 0")}, derived={"U": "1"},
                      derive=lambda problem, scale: {"U": problem.linf_smoothness})


def gd_oracle(rule="1/L", scale=1.0):
    return GD_ORACLE(rule=rule, scale=scale)


def sign_oracle(scale=1.0):
    return SIGN_ORACLE(scale=scale)


gd_oracle.__doc__ = sign_oracle.__doc__ = __doc__


# The invariance card of each constructor (simopt.testing.card, which the tests hold equal to its
# measurement): the transformations that hold (all others fail) and why.
INVARIANCES = {
    "gd_oracle": {
        "make": lambda: gd_oracle(),
        "holds": ("rotation", "block_rotation", "matrix_rotation", "permutation", "sign_flip", "translation"),
        "why": ("x - g/L with L = λ_max(H), which orthogonal maps keep; a scaling changes L and maps g by the "
                "wrong factor"),
    },
    'gd_oracle(rule="1/L_G")': {
        "make": lambda: gd_oracle("1/L_G"),
        "holds": ("block_rotation", "sign_flip", "translation"),
        "why": ("L_G weights the blocks' λ_max(H_bb) by ‖g_b‖²: kept by rotations inside blocks only"),
    },
    "sign_oracle": {
        "make": lambda: sign_oracle(),
        "holds": ("sign_flip", "translation"),
        "why": ("the step ‖g‖₁/U∞ with U∞ = Σ_b d_b λ_max(H_bb) changes under permutations across blocks and "
                "rotations"),
    },
}
