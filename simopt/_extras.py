"""Optional dependencies: one import helper, one error that names the extra that installs them."""
from __future__ import annotations

import importlib

__all__ = ["MissingExtra", "require"]


class MissingExtra(ImportError):
    """An optional dependency is missing; the message names the ``pip install`` that provides it,
    e.g. ``Parquet export needs pyarrow: pip install 'simopt[io]'``."""

    def __init__(self, what: str, packages: str, extra: str):
        super().__init__(f"{what} needs {packages}: pip install 'simopt[{extra}]'")
        self.extra = extra


def require(module: str, what: str, extra: str, package: str | None = None):
    """Import and return ``module``, or raise :class:`MissingExtra` saying that ``what`` needs it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingExtra(what, package or module, extra) from None
