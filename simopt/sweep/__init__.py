"""Parameter sweeps: problems × optimizers × learning-rate grid × seeds, run locally or on Dask,
stored crash-safely, resumed, tuned and exported.

>>> import tempfile
>>> from simopt import sweep
>>> spec = sweep.parse({"steps": 50, "runs": 2, "seeds": [0, 1],          # or sweep.load("spec.toml")
...                     "problems": [{"type": "quadratic", "eigvals": [0.1, 1.0]}],
...                     "optimizers": [{"name": "sgd", "lr": [0.1, 0.5, 1.0]}]})
>>> len(spec.cells)                                    # 1 problem x 3 lrs x 2 seeds
6
>>> out = tempfile.mkdtemp()
>>> report = sweep.run_sweep(spec, out, workers=1, quiet=True)   # resumes if out holds results
>>> report.ok
True
>>> [(t.best_lr, t.edge) for t in sweep.tune(out)]     # best lr per (problem, optimizer)
[(1.0, 'high')]
>>> sorted(sweep.export(out, parquet=False))           # long, best_lr, summary, tuning tables
['best_lr', 'long', 'summary', 'tuning']

The spec format is described on the documentation's "Sweep spec format" page.

Modules: :mod:`.spec` (format, validation, content hashes), :mod:`.executors` (serial, local
pool, Dask), :mod:`.store` (atomic, resumable directory), :mod:`.runner` (``run_sweep``),
:mod:`.tune` (best lr), :mod:`.export` (tidy tables), :mod:`.plot` (curves at the best lr).
"""
from .executors import DaskExecutor, LocalExecutor, SerialExecutor, execute_cell, make_executor
from .export import export, long_rows, summary_rows, to_dataframe, tuning_rows, write_csv
from .runner import SweepReport, provenance, run_sweep, status
from .spec import (Cell, Spec, SpecError, SpecTypeError, canonical_json, content_hash, load, parse,
                   product, union, zipped)
from .store import CellResult, Store, StoreError
from .tune import TuneResult, score_cell_values, tune

__all__ = [
    "Spec", "Cell", "SpecError", "SpecTypeError", "load", "parse", "content_hash", "canonical_json",
    "product", "zipped", "union", "run_sweep", "status", "SweepReport", "provenance", "Store",
    "StoreError", "CellResult", "SerialExecutor", "LocalExecutor", "DaskExecutor", "execute_cell",
    "make_executor", "tune", "TuneResult", "score_cell_values", "export", "write_csv", "long_rows",
    "summary_rows", "tuning_rows", "to_dataframe", "plot_best",
]


def plot_best(*args, **kwargs):
    """See :func:`simopt.sweep.plot.plot_best` (imports matplotlib on first use)."""
    from .plot import plot_best as _pb
    return _pb(*args, **kwargs)
