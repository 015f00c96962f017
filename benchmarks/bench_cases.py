"""The benchmark cases, the optimizer settings, and the problem data every framework gets.

Every framework solves the *same* problem: it is built once with simopt's own constructors
(``simopt.quadratic`` / ``simopt.heterogeneous_blocks``) and handed to the peers as plain arrays
(``ProblemData``): the diagonal, the dense Hessian or the stacked diagonal blocks, x0, x*, and the
noise standard deviation.  f(x) = 1/2 (x - x*)^T H (x - x*), gradient H (x - x*), stochastic gradient
H (x - x*) + sigma * z with z ~ N(0, I) drawn fresh for every run and every step.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

RUNS = 64
RECORD_EVERY = 10
SEED = 0            # the runs' noise seed
PROBLEM_SEED = 0    # the problem's own seed (rotation, x0, x*)
NOISE_SCALE = 0.1   # sigma of the isotropic Gaussian gradient noise
LOW, HIGH = 1e-3, 1.0   # logspace spectrum of the diagonal and dense cases (kappa = 1000)
BLOCK_KAPPA = 1000.0    # global condition number of the block case
BLOCK_HETEROGENEITY = 1.0


@dataclass(frozen=True)
class Case:
    key: str
    kind: str            # "diagonal" | "dense" | "block"
    dim: int
    steps: int
    noisy: bool
    n_blocks: int = 1
    block_size: int = 0
    target: float | None = None   # simopt / best-peer time ratio to reach (TARGETS below)

    @property
    def title(self) -> str:
        shape = {"diagonal": f"diagonal d={self.dim}",
                 "dense": f"dense Haar-rotated d={self.dim}",
                 "block": f"{self.n_blocks} blocks of {self.block_size}, block-rotated"}[self.kind]
        return f"{self.key}: {shape}, {self.steps} steps, {'noisy' if self.noisy else 'noise-free'}"

    @property
    def samples(self) -> int:
        """Standard normals drawn by one timed call (RUNS runs x dim x steps), 0 if noise-free."""
        return RUNS * self.dim * self.steps if self.noisy else 0

    @property
    def gemm_flops(self) -> int:
        """Floating-point operations of the gradient products over ``steps`` steps (2 m k n per GEMM).

        dense: one (RUNS x d)(d x d) product per step; block: one (RUNS x b)(b x b) per block per step;
        diagonal: none (an elementwise pass).  The extra evaluation for the final recorded loss is
        not counted, so the floor is a slight underestimate."""
        if self.kind == "dense":
            return 2 * RUNS * self.dim * self.dim * self.steps
        if self.kind == "block":
            return 2 * RUNS * self.block_size * self.block_size * self.n_blocks * self.steps
        return 0

    @property
    def coordinate_updates(self) -> int:
        return RUNS * self.dim * self.steps


#: simopt / best-peer time ratio each noisy case should reach (the 0.2.0 engine's targets)
TARGETS = {"A": 0.30, "B": 0.80, "C": 0.40}

FULL_CASES = {
    "A": Case("A", "diagonal", 1000, 2000, True, target=TARGETS["A"]),
    "B": Case("B", "dense", 500, 1000, True, target=TARGETS["B"]),
    "C": Case("C", "block", 1000, 1000, True, n_blocks=10, block_size=100, target=TARGETS["C"]),
    "A0": Case("A0", "diagonal", 1000, 2000, False),
    "B0": Case("B0", "dense", 500, 1000, False),
}

QUICK_CASES = {
    "A": Case("A", "diagonal", 24, 40, True, target=TARGETS["A"]),
    "B": Case("B", "dense", 16, 20, True, target=TARGETS["B"]),
    "C": Case("C", "block", 12, 20, True, n_blocks=3, block_size=4, target=TARGETS["C"]),
    "A0": Case("A0", "diagonal", 24, 40, False),
    "B0": Case("B0", "dense", 16, 20, False),
}

#: noise-free A: coordinate updates per second simopt should reach, per optimizer (none for sign descent)
A0_UPDATES_TARGETS = {"sgd": 6e9, "adam": 3e9}

#: seconds from starting Python to the first result of the README example on an empty cache
README_FIRST_RESULT_TARGET_S = 10.0


@dataclass
class ProblemData:
    """Plain arrays describing one problem, for the peers (no simopt objects inside)."""
    kind: str
    dim: int
    x0: np.ndarray
    xstar: np.ndarray
    sigma: float                   # 0.0 when noise-free
    L: float
    diag: np.ndarray | None = None          # (d,)            kind == "diagonal"
    hessian: np.ndarray | None = None       # (d, d)          kind == "dense"
    blocks: np.ndarray | None = None        # (B, b, b)       kind == "block"
    block_size: int = 0
    describe: dict = field(default_factory=dict)

    def loss(self, X: np.ndarray) -> np.ndarray:
        """f(x) - f* for a (runs, d) batch, straight from the arrays (used to cross-check)."""
        D = X - self.xstar
        if self.kind == "diagonal":
            G = D * self.diag
        elif self.kind == "dense":
            G = D @ self.hessian
        else:
            B, b, _ = self.blocks.shape
            G = np.einsum("rbi,bij->rbj", D.reshape(len(D), B, b), self.blocks).reshape(D.shape)
        return 0.5 * np.einsum("ri,ri->r", D, G)


def build_problem(case: Case):
    """The simopt problem of ``case`` (built with simopt's constructors, seeded)."""
    import simopt
    noise = simopt.noise.gaussian(NOISE_SCALE) if case.noisy else None
    if case.kind == "diagonal":
        return simopt.quadratic(simopt.spectra.logspace(case.dim, LOW, HIGH), rotation="none",
                                noise=noise, seed=PROBLEM_SEED)
    if case.kind == "dense":
        return simopt.quadratic(simopt.spectra.logspace(case.dim, LOW, HIGH), rotation="haar",
                                noise=noise, seed=PROBLEM_SEED)
    if case.kind == "block":
        return simopt.heterogeneous_blocks(case.n_blocks, case.block_size, BLOCK_HETEROGENEITY,
                                           condition_number=BLOCK_KAPPA, rotation="block",
                                           noise=noise, seed=PROBLEM_SEED)
    raise ValueError(f"case.kind: expected 'diagonal', 'dense' or 'block', got {case.kind!r}")


def problem_data(case: Case, problem) -> ProblemData:
    """Extract the arrays the peers need from a simopt problem, checking it has the case's shape."""
    if problem.dim != case.dim:
        raise ValueError(f"problem.dim {problem.dim} != case dim {case.dim}")
    data = ProblemData(kind=case.kind, dim=case.dim, x0=np.array(problem.x0, dtype=np.float64),
                       xstar=np.array(problem.xstar, dtype=np.float64),
                       sigma=NOISE_SCALE if case.noisy else 0.0, L=float(problem.L),
                       describe=_jsonable(problem.describe()) if hasattr(problem, "describe") else {})
    if case.kind == "diagonal":
        if problem.diag is None:
            raise ValueError(f"case {case.key}: expected a diagonal problem, got kind {problem.kind!r}")
        data.diag = np.array(problem.diag, dtype=np.float64)
    elif case.kind == "dense":
        data.hessian = np.array(problem.hessian(), dtype=np.float64)
    else:
        mats = problem.block_matrices
        if mats is None or len(mats) != case.n_blocks or any(m.shape != (case.block_size,) * 2 for m in mats):
            raise ValueError(f"case {case.key}: expected {case.n_blocks} blocks of {case.block_size}")
        data.blocks = np.ascontiguousarray(np.stack([np.asarray(m, dtype=np.float64) for m in mats]))
        data.block_size = case.block_size
    if case.noisy:
        kind, scale = problem.noise.factor(problem)
        if kind != "scale" or not np.all(np.asarray(scale) == NOISE_SCALE):
            raise ValueError(f"case {case.key}: expected isotropic noise of scale {NOISE_SCALE}")
    return data


def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return obj.tolist() if obj.size <= 16 else f"array{list(obj.shape)}"
    if isinstance(obj, (np.floating, np.integer, np.bool_)):
        return obj.item()
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    return repr(obj)


# ---- optimizer settings (the same numbers in every framework) ---------------------------------
ADAM_BETAS = (0.9, 0.999)
ADAM_EPS = 1e-8
SIGN_LR = 1e-3
ADAM_LR = 1e-3


def hyperparams(opt: str, data: ProblemData) -> dict:
    """Learning rates etc.: SGD at 1/L (stable for every problem), sign descent and Adam at 1e-3."""
    if opt == "sgd":
        return {"lr": 1.0 / data.L}
    if opt == "sign":
        return {"lr": SIGN_LR}
    if opt == "adam":
        return {"lr": ADAM_LR, "betas": ADAM_BETAS, "eps": ADAM_EPS}
    raise ValueError(f"opt: expected 'sgd', 'sign' or 'adam', got {opt!r}")


def n_records(steps: int, every: int = RECORD_EVERY) -> int:
    if steps % every:
        raise ValueError(f"steps ({steps}) must be a multiple of the record interval ({every})")
    return steps // every + 1


def simopt_optimizer(opt: str, hp: dict):
    """The simopt rule for a benchmark optimizer name and its hyperparameters (``hyperparams``)."""
    import simopt
    if opt == "sgd":
        return simopt.optim.sgd(hp["lr"])
    if opt == "sign":
        return simopt.optim.sign(hp["lr"])
    return simopt.optim.adam(hp["lr"], beta1=hp["betas"][0], beta2=hp["betas"][1], eps=hp["eps"])
