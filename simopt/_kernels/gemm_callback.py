"""The row-deterministic product of ``simopt._kernels.gemm`` compiled once as a C callback.

Importing this module compiles ``gemm_c`` (first use on this machine) or loads it from Numba's cache;
``simopt._kernels.gemm.ensure_callback()`` imports it and publishes ``gemm_c.address`` to compiled code,
which calls the product through it (see the note in ``gemm.py``).  Arguments: for A, B and out in turn,
the data pointer, the number of rows and columns and the row stride in bytes (any sign; elements of a
row adjacent).  Nothing is checked here: ``gemm._matmul`` checks every call before making it.
"""
from numba import cfunc, types

from simopt._kernels.gemm import matmul_core, strided_view

_P = types.CPointer(types.float64)
_I = types.int64
SIGNATURE = types.void(_P, _I, _I, _I, _P, _I, _I, _I, _P, _I, _I, _I)


@cfunc(SIGNATURE, cache=True, error_model="numpy")
def gemm_c(ap, an, ak, asr, bp, bk, bm, bsr, op, on, om, osr):
    matmul_core(strided_view(ap, an, ak, asr), strided_view(bp, bk, bm, bsr), strided_view(op, on, om, osr))
