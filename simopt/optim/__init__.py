"""Update rules.  Each rule is an immutable object carrying its hyperparameters, a plain-NumPy
``reference_step`` written from the paper's formula, and the id of its Numba kernel.  Where
``torch.optim`` defines the same rule (SGD, Adam, RMSprop, Adagrad) its conventions are followed."""
from .adaptive import Adagrad, Adam, BlockwiseAdam, RMSprop, adagrad, adam, blockwise_adam, rmsprop
from .base import Optimizer
from .clipping import Clipped, clip_reference, clipped
from .first_order import SGD, BlockNormalized, NormalizedGD, block_normalized, normalized_gd, sgd
from .oracles import GDOracle, SignOracle, gd_oracle, sign_oracle
from .sign_based import MSVAG, SVAG, Sign, Signum, msvag, sign, signum, svag

#: name -> constructor, for ``make`` and for sweep configs
REGISTRY = {
    "sgd": sgd, "sign": sign, "signum": signum, "svag": svag, "msvag": msvag, "adam": adam,
    "rmsprop": rmsprop, "adagrad": adagrad, "normalized_gd": normalized_gd,
    "block_normalized": block_normalized, "blockwise_adam": blockwise_adam,
    "gd_oracle": gd_oracle, "sign_oracle": sign_oracle, "clipped": None,
}


def make(name, **kwargs) -> Optimizer:
    """Build a rule by name: ``make("adam", lr=1e-3, beta2=0.99)``.

    ``make("clipped", base="adam", fraction=0.5, lr=..., **base_hyperparams)`` clips the named base rule.
    Unknown names or arguments raise an error naming the allowed ones.
    """
    if not isinstance(name, str):
        raise TypeError(f"name: expected a rule name (str), got {type(name).__name__}")
    if name not in REGISTRY:
        raise ValueError(f"name: unknown optimizer {name!r}; expected one of {sorted(REGISTRY)}")
    if name == "clipped":
        kwargs = dict(kwargs)
        if "base" not in kwargs or "fraction" not in kwargs:
            raise ValueError("clipped: expected keys 'base' (a rule name) and 'fraction'")
        base, fraction = kwargs.pop("base"), kwargs.pop("fraction")
        return clipped(make(base, **kwargs), fraction)
    import inspect
    ctor = REGISTRY[name]
    allowed = list(inspect.signature(ctor).parameters)
    unknown = [k for k in kwargs if k not in allowed]
    if unknown:
        raise ValueError(f"{name}: unknown argument(s) {unknown}; allowed: {allowed}")
    try:
        return ctor(**kwargs)
    except TypeError as e:
        if "missing" in str(e):
            raise ValueError(f"{name}: {e}") from None
        raise


__all__ = [
    "sgd", "sign", "signum", "svag", "msvag", "adam", "rmsprop", "adagrad", "normalized_gd",
    "block_normalized", "blockwise_adam", "gd_oracle", "sign_oracle", "clipped", "make", "REGISTRY",
    "Optimizer", "clip_reference", "SGD", "Sign", "Signum", "SVAG", "MSVAG", "Adam", "RMSprop", "Adagrad",
    "BlockwiseAdam", "NormalizedGD", "BlockNormalized", "Clipped", "GDOracle", "SignOracle",
]
