"""simopt: controlled optimization experiments on synthetic quadratics.

Problems whose spectra, block heterogeneity, eigenbasis rotation and gradient noise are knobs;
update rules written exactly as their papers define them; a batched, deterministic Numba engine;
the papers' quantities and bounds, checked against measured iteration counts.
"""
__version__ = "0.2.0"

from . import _cache

_cache.configure()  # before any kernel module is imported: Numba fixes a cache location at decoration

from . import noise, optim, rotations, schedules, spectra
from .engine import run
from .problems import Quadratic, block_diagonal, heterogeneous_blocks, quadratic, rotated
from .matrix_problems import MatrixQuadratic, matrix_quadratic
from .data_problems import LeastSquares, gaussian_features, least_squares, zipf_bigram
from .result import Result
from .tuning import Tuned, tune_lr, with_hyper
from . import claims
from .claims import TuningProtocol

__all__ = [
    "spectra", "rotations", "noise", "optim", "schedules", "theory", "sweep", "plotting", "claims",
    "quadratic", "block_diagonal", "heterogeneous_blocks", "rotated", "matrix_quadratic", "Quadratic",
    "MatrixQuadratic", "least_squares", "gaussian_features", "zipf_bigram", "LeastSquares", "run", "Result",
    "tune_lr", "Tuned", "with_hyper", "TuningProtocol",
]

_LAZY = ("theory", "sweep", "plotting")


def __getattr__(name):  # heavy sub-packages load on first use, not at import time
    if name in _LAZY:
        import importlib
        mod = importlib.import_module(f"{__name__}.{name}")
        globals()[name] = mod
        return mod
    raise AttributeError(f"module 'simopt' has no attribute {name!r}")
