"""Dense matrix products whose every output row depends on nothing but that row: ``out = A @ B``.

The engine multiplies a tile of runs by the Hessian (``E_tile @ H``, or one product per diagonal block)
and correlated noise by its factor (``Z_tile @ A``).  Results must be bit-identical however runs are split
into tiles and threads, so the product is defined element by element as one fixed recurrence:

    c_0 = +0.0,    c_{p+1} = fma(A[i, p], B[p, j], c_p)   for p = 0, 1, ..., k-1,    out[i, j] = c_k

where ``fma(x, y, z)`` is ``x*y + z`` rounded once (IEEE 754-2008 fusedMultiplyAdd, section 5.4.1).  The sum runs
in ascending ``p`` with no reassociation, so ``out[i, :]`` is a function of ``A[i, :]`` and ``B`` alone: the
same bits for any number of rows in the call, any position of the row, any other rows, and whatever
register blocking the machine gets below (the blocking only decides which elements are computed side by
side, never the order of one element's sum) -- even across machines, as the recurrence pins every
rounding (a CPU without FMA instructions computes ``fma`` in software: slower, same bits).

Special values follow IEEE arithmetic of that recurrence: a NaN in ``A[i, :]`` or ``B[:, j]``, a product
``0 * inf``, or infinities of both signs give NaN; an infinite product of one sign (with no NaN) gives that
infinity; overflow of a finite sum gives +-inf.  A NaN's payload bits are not part of the contract.

Speed comes from a register-blocked micro-kernel (Goto & van de Geijn 2008, "Anatomy of high-performance
matrix multiplication", ACM TOMS 34(3), sections 4-5): ``MR`` rows of ``A`` times ``NR`` columns of ``B`` are kept
in ``MR * NR / W`` vector accumulators of ``W`` doubles over the whole ``p`` loop, each step reading one
row segment of ``B`` (``NR`` doubles) and broadcasting ``MR`` scalars of ``A``.  Numba does not run LLVM's
SLP vectoriser, so the micro-kernel is written directly as LLVM IR (``numba.extending.intrinsic``),
generated for each tile shape from one template (:func:`_micro_kernel`).  Column panels are the outer
loop, so a panel of ``B`` (k x NR) is read from memory once and reused from cache by every row tile.  A
remainder of at least ``MR / 2`` rows runs as one tile whose extra rows repeat a live row and are never
stored, fewer rows run one at a time, and the last ``m mod NR`` columns use a masked one-vector kernel.
All of them evaluate the same recurrence, so they give the same bits as the full tiles.  Nothing is
allocated; the accumulators live in registers.

Entry points: :func:`matmul_rows` (dense, ``out = A @ B``), :func:`matmul_block` (one diagonal block,
in place in the block's columns) and :func:`matmul_block_diagonal` (all blocks, stored flat with offsets
as the engine keeps them).  Operands are 2-D float64 arrays whose last axis has unit stride (C-contiguous
arrays, and row or column ranges of them such as ``E[:, s:e]`` or ``Z[r0:r1, step, :]``); rows may be any
distance apart.  The memory ``out`` spans must not meet that of ``A`` or ``B``.  Single-threaded by
design: the engine calls these from inside its ``prange`` over tiles.

Every entry point runs the product through one C callback (``simopt._kernels.gemm_callback``), which
must be loaded first: ``ensure_callback()`` (``simopt.run`` calls it for the problems that need it; a
direct caller gets a ``RuntimeError`` saying so).
"""
import ctypes

import llvmlite.binding as _llvm
from llvmlite import ir
from numba import njit
from numba.core import cgutils, config, types
from numba.core.codegen import get_host_cpu_features
from numba.core.errors import NumbaTypeError
from numba.extending import intrinsic

_F64 = ir.DoubleType()
_I64 = ir.IntType(64)
_I32 = ir.IntType(32)
_BYTE_PTR = ir.IntType(8).as_pointer()

PREFETCH_ROWS = 8   # the micro-kernel prefetches B's row p + PREFETCH_ROWS while it works on row p


def _tile_shape(features: str) -> tuple[int, int, int]:
    """(MR, W, NV) for a target feature string: rows per micro-tile, doubles per vector register, vectors
    per tile row.  MR * NV accumulators + NV vectors of B + a broadcast must fit the register file:
    AVX-512 has 32 registers of 8 doubles (8 x 3), AVX2 16 of 4 (4 x 3), SSE2 16 of 2 (4 x 2).  The choice
    changes speed only, never a result."""
    have = set(f[1:] for f in features.split(",") if f.startswith("+"))
    if "avx512f" in have:
        return 8, 8, 3
    if "avx2" in have or "avx" in have:
        return 4, 4, 3
    return 4, 2, 2


# The features Numba compiles for (its own rule: NUMBA_CPU_FEATURES, else the host's).
MR, W, NV = _tile_shape(config.CPU_FEATURES if config.CPU_FEATURES is not None else get_host_cpu_features())
NR = W * NV         # columns of B per full micro-tile


def _micro_kernel(rows: int, nvec: int, width: int, masked: bool, prefetch: int):
    """An intrinsic ``kernel(A, B, out, i0, live, j0, cols)`` computing ``out[i0:i0+live, j0:j0+nvec*width]``
    by the recurrence of the module docstring (``k = B.shape[0]``), for ``1 <= live <= rows``: the tile's
    rows past ``live`` repeat row ``i0+live-1`` and are never stored.  With ``masked``, only the first
    ``cols`` columns of the tile are read and written (``cols <= nvec*width``); without, ``cols`` is ignored
    and the whole tile must be in bounds.  Bounds are the caller's responsibility."""
    vec = ir.VectorType(_F64, width)
    mask_t = ir.VectorType(ir.IntType(1), width)
    splat = ir.Constant(ir.VectorType(_I32, width), [0] * width)
    lanes = [ir.Constant(ir.VectorType(_I64, width), [v * width + i for i in range(width)])
             for v in range(nvec)]
    seg_bytes = 8 * width * nvec
    # prefetch every cache line the segment B[p, j0:j0+nvec*width] can touch, whatever its alignment
    pf_offsets = sorted(set(list(range(0, seg_bytes, 64)) + [seg_bytes - 8]))

    def codegen(context, builder, sig, args):
        a_arr = context.make_array(sig.args[0])(context, builder, args[0])
        b_arr = context.make_array(sig.args[1])(context, builder, args[1])
        o_arr = context.make_array(sig.args[2])(context, builder, args[2])
        i0, live, j0, cols = args[3:]
        mod = builder.module
        fma = cgutils.get_or_insert_function(mod, ir.FunctionType(vec, [vec, vec, vec]),
                                             f"llvm.fma.v{width}f64")
        mload = cgutils.get_or_insert_function(
            mod, ir.FunctionType(vec, [vec.as_pointer(), _I32, mask_t, vec]),
            f"llvm.masked.load.v{width}f64.p0")
        mstore = cgutils.get_or_insert_function(
            mod, ir.FunctionType(ir.VoidType(), [vec, vec.as_pointer(), _I32, mask_t]),
            f"llvm.masked.store.v{width}f64.p0")
        pfetch = cgutils.get_or_insert_function(
            mod, ir.FunctionType(ir.VoidType(), [_BYTE_PTR, _I32, _I32, _I32]), "llvm.prefetch.p0")
        align = ir.Constant(_I32, 8)
        zero = ir.Constant(vec, None)
        lda = cgutils.unpack_tuple(builder, a_arr.strides)[0]
        ldb = cgutils.unpack_tuple(builder, b_arr.strides)[0]
        ldo = cgutils.unpack_tuple(builder, o_arr.strides)[0]
        k = cgutils.unpack_tuple(builder, b_arr.shape)[0]

        def byte_offset(base, nbytes, inbounds=True):
            return builder.gep(builder.bitcast(base, _BYTE_PTR), [nbytes], inbounds=inbounds)

        def vec_at(base, v):
            return builder.bitcast(byte_offset(base, ir.Constant(_I64, 8 * width * v)), vec.as_pointer())

        col_bytes = builder.mul(j0, ir.Constant(_I64, 8))
        a_rows, o_rows = [], []
        last = builder.sub(live, ir.Constant(_I64, 1))
        for r in range(rows):  # rows past `live` repeat the last live row: computed, never stored
            row = ir.Constant(_I64, r)
            if r:
                row = builder.select(builder.icmp_signed("<", row, live), row, last)
            i = builder.add(i0, row)
            a_rows.append(builder.bitcast(byte_offset(a_arr.data, builder.mul(i, lda)), _F64.as_pointer()))
            o_rows.append(byte_offset(o_arr.data, builder.add(builder.mul(i, ldo), col_bytes)))
        b_cols = byte_offset(b_arr.data, col_bytes)
        if masked:
            ncols = builder.shuffle_vector(
                builder.insert_element(ir.Constant(ir.VectorType(_I64, width), ir.Undefined), cols,
                                       ir.Constant(_I32, 0)),
                ir.Constant(ir.VectorType(_I64, width), ir.Undefined), splat)
            masks = [builder.icmp_signed("<", lanes[v], ncols) for v in range(nvec)]
        acc = [[cgutils.alloca_once(builder, vec) for _ in range(nvec)] for _ in range(rows)]
        for r in range(rows):
            for v in range(nvec):
                builder.store(zero, acc[r][v])
        with cgutils.for_range_slice(builder, ir.Constant(_I64, 0), k, ir.Constant(_I64, 1)) as (p, _):
            b_row = byte_offset(b_cols, builder.mul(p, ldb))
            if prefetch:
                ahead = byte_offset(b_row, builder.mul(ir.Constant(_I64, prefetch), ldb), inbounds=False)
                for off in pf_offsets:
                    builder.call(pfetch, [byte_offset(ahead, ir.Constant(_I64, off), inbounds=False),
                                          ir.Constant(_I32, 0), ir.Constant(_I32, 3), ir.Constant(_I32, 1)])
            if masked:
                bv = [builder.call(mload, [vec_at(b_row, v), align, masks[v], zero]) for v in range(nvec)]
            else:
                bv = [builder.load(vec_at(b_row, v), align=8) for v in range(nvec)]
            for r in range(rows):
                a = builder.load(builder.gep(a_rows[r], [p], inbounds=True), align=8)
                av = builder.shuffle_vector(
                    builder.insert_element(ir.Constant(vec, ir.Undefined), a, ir.Constant(_I32, 0)),
                    ir.Constant(vec, ir.Undefined), splat)
                for v in range(nvec):
                    builder.store(builder.call(fma, [av, bv[v], builder.load(acc[r][v])]), acc[r][v])
        for r in range(rows):
            with builder.if_then(builder.icmp_signed("<", ir.Constant(_I64, r), live), likely=True):
                for v in range(nvec):
                    if masked:
                        builder.call(mstore, [builder.load(acc[r][v]), vec_at(o_rows[r], v), align, masks[v]])
                    else:
                        builder.store(builder.load(acc[r][v]), vec_at(o_rows[r], v), align=8)
        return context.get_dummy_value()

    @intrinsic
    def kernel(typingctx, A, B, out, i0, live, j0, cols):
        for name, ty in (("A", A), ("B", B), ("out", out)):
            if not (isinstance(ty, types.Array) and ty.ndim == 2 and ty.dtype == types.float64):
                raise NumbaTypeError(f"{name}: expected a 2-D float64 array, got {ty}")
        return types.void(A, B, out, types.intp, types.intp, types.intp, types.intp), codegen

    return kernel


# ------------------------------------------------------------------ the product as one C callback
# Every compiled caller of the product (the run loop above all) calls it through the address of one C
# callback (``simopt._kernels.gemm_callback.gemm_c``, compiled and cached once) instead of linking the
# micro-kernels into its own code: Numba re-optimises every function a caller links, which cost each
# specialised run loop ~0.7 s of its first compile.  The address lives in a process global that LLVM
# code reaches by the symbol ``CALLBACK_SYMBOL``; ``ensure_callback()`` loads the callback and sets it.
CALLBACK_SYMBOL = "simopt_gemm_callback_v1"
_CALLBACK_PTR = ctypes.c_void_p(0)
_llvm.add_symbol(CALLBACK_SYMBOL, ctypes.addressof(_CALLBACK_PTR))
#: C signature of the callback: (pointer, rows, cols, row stride in bytes) of A, B and out
CALLBACK_ARGS = 12


def ensure_callback() -> int:
    """Compile (first use on this machine) or load the product's C callback and publish its address to
    compiled code; returns the address.  Cheap after the first call."""
    if not _CALLBACK_PTR.value:
        from simopt._kernels import gemm_callback
        _CALLBACK_PTR.value = gemm_callback.gemm_c.address
    return _CALLBACK_PTR.value


def callback_loaded() -> bool:
    """Whether ``ensure_callback`` has run in this process (so compiling it again costs nothing)."""
    return bool(_CALLBACK_PTR.value)


def _callback_pointer(builder):
    mod = builder.module
    gv = mod.globals.get(CALLBACK_SYMBOL)
    if gv is None:
        gv = ir.GlobalVariable(mod, _BYTE_PTR, name=CALLBACK_SYMBOL)
        gv.linkage = "external"
    return builder.load(gv)


@intrinsic
def _callback_ready(typingctx):
    def codegen(context, builder, sig, args):
        return builder.icmp_unsigned("!=", _callback_pointer(builder), ir.Constant(_BYTE_PTR, None))
    return types.boolean(), codegen


@intrinsic
def _call_callback(typingctx, A, B, out):
    for name, ty in (("A", A), ("B", B), ("out", out)):
        if not (isinstance(ty, types.Array) and ty.ndim == 2 and ty.dtype == types.float64):
            raise NumbaTypeError(f"{name}: expected a 2-D float64 array, got {ty}")

    def codegen(context, builder, sig, args):
        vals = []
        for ty, val in zip(sig.args, args):
            arr = context.make_array(ty)(context, builder, val)
            rows, cols = cgutils.unpack_tuple(builder, arr.shape)
            vals += [builder.bitcast(arr.data, _F64.as_pointer()), rows, cols,
                     cgutils.unpack_tuple(builder, arr.strides)[0]]
        fnty = ir.FunctionType(ir.VoidType(), [_F64.as_pointer(), _I64, _I64, _I64] * 3)
        builder.call(builder.bitcast(_callback_pointer(builder), fnty.as_pointer()), vals)
        return context.get_dummy_value()
    return types.void(A, B, out), codegen


@intrinsic
def strided_view(typingctx, ptr, rows, cols, row_stride):
    """The (rows, cols) float64 array at ``ptr`` whose rows are ``row_stride`` bytes apart (any sign)
    and whose elements are adjacent: how the callback sees its operands again."""
    retty = types.Array(types.float64, 2, "A")

    def codegen(context, builder, sig, args):
        p, r, c, rs = args
        ary = context.make_array(retty)(context, builder)
        item = context.get_constant(types.intp, 8)
        context.populate_array(ary, data=builder.bitcast(p, context.get_data_type(types.float64).as_pointer()),
                               shape=cgutils.pack_array(builder, [r, c]),
                               strides=cgutils.pack_array(builder, [rs, item]), itemsize=item,
                               meminfo=None)
        return ary._getvalue()
    return retty(ptr, types.intp, types.intp, types.intp), codegen


_TILE = _micro_kernel(MR, NV, W, False, PREFETCH_ROWS)       # MR rows x NR columns
_TILE_TAIL = _micro_kernel(MR, 1, W, True, PREFETCH_ROWS)    # MR rows x up to W columns
_ROW = _micro_kernel(1, NV, W, False, PREFETCH_ROWS)         # 1 row x NR columns
_ROW_TAIL = _micro_kernel(1, 1, W, True, PREFETCH_ROWS)      # 1 row x up to W columns


@njit(cache=True, error_model="numpy")
def _unit_last_stride(X):
    """Consecutive elements of a row are adjacent (NumPy gives empty arrays and single columns any stride)."""
    return X.shape[0] == 0 or X.shape[1] <= 1 or X.strides[1] == 8


@njit(cache=True, error_model="numpy")
def _overlap(X, Y):
    """Whether the memory spans of two 2-D arrays (unit stride along the last axis) intersect."""
    if X.size == 0 or Y.size == 0:
        return False
    x0 = X.ctypes.data + min(0, (X.shape[0] - 1) * X.strides[0])
    x1 = X.ctypes.data + max(0, (X.shape[0] - 1) * X.strides[0]) + 8 * X.shape[1]
    y0 = Y.ctypes.data + min(0, (Y.shape[0] - 1) * Y.strides[0])
    y1 = Y.ctypes.data + max(0, (Y.shape[0] - 1) * Y.strides[0]) + 8 * Y.shape[1]
    return x0 < y1 and y0 < x1


@njit(cache=True, error_model="numpy")
def _matmul(A, B, out):
    """Checks, then the product through the compiled callback (``_call_callback``).  Called with views of
    layout 'A' only, so every entry point shares this one compiled specialisation."""
    n, k = A.shape
    m = B.shape[1]
    if B.shape[0] != k:
        raise ValueError("B must have A.shape[1] rows")
    if out.shape[0] != n or out.shape[1] != m:
        raise ValueError("out must have shape (A.shape[0], B.shape[1])")
    if not (_unit_last_stride(A) and _unit_last_stride(B) and _unit_last_stride(out)):
        raise ValueError("A, B and out need unit stride along their last axis")
    if _overlap(out, A) or _overlap(out, B):
        raise ValueError("out must not share memory with A or B")
    if not _callback_ready():
        raise RuntimeError("simopt._kernels.gemm: the product's callback is not loaded "
                           "(call simopt._kernels.gemm.ensure_callback() first; simopt.run does)")
    _call_callback(A, B, out)


@njit(cache=True, error_model="numpy")
def matmul_core(A, B, out):
    """The product itself, no checks (the callback of ``simopt._kernels.gemm_callback`` runs it): column
    panels outer (a panel of B stays in cache for every row tile) and row tiles inner.  A remainder of
    MR/2 or more rows runs as one tile with repeated rows, fewer rows one at a time."""
    n, k = A.shape
    m = B.shape[1]
    full = m - m % NR
    for j0 in range(0, full, NR):
        i = 0
        while n - i >= MR // 2:
            _TILE(A, B, out, i, min(MR, n - i), j0, NR)
            i += MR
        while i < n:
            _ROW(A, B, out, i, 1, j0, NR)
            i += 1
    for j0 in range(full, m, W):
        cols = min(W, m - j0)
        i = 0
        while n - i >= MR // 2:
            _TILE_TAIL(A, B, out, i, min(MR, n - i), j0, cols)
            i += MR
        while i < n:
            _ROW_TAIL(A, B, out, i, 1, j0, cols)
            i += 1


@njit(cache=True, error_model="numpy")
def matmul_rows(A, B, out):
    """out = A @ B for A (n x k), B (k x m), out (n x m), by the row-deterministic recurrence of the module
    docstring: out[i, j] = fma-sum over p = 0..k-1 of A[i, p] * B[p, j], in ascending p, from +0.0.

    ``out`` is only written (its previous contents never matter); k = 0 gives zeros.  ``ValueError`` if the
    shapes do not chain, a last axis is not unit-stride, or ``out`` shares memory with ``A`` or ``B``."""
    _matmul(A[:, 0:A.shape[1]], B[:, 0:B.shape[1]], out[:, 0:out.shape[1]])


@njit(cache=True, error_model="numpy")
def matmul_block(A, Hb, start, out):
    """out[:, start:start+b] = A[:, start:start+b] @ Hb for one b x b block Hb (the block's columns of A and
    out are used in place, no copies); other columns of ``out`` are left alone.  Same recurrence and
    contract as :func:`matmul_rows`."""
    b = Hb.shape[0]
    if Hb.shape[1] != b:
        raise ValueError("matmul_block: Hb must be square")
    if start < 0 or start + b > A.shape[1] or start + b > out.shape[1]:
        raise ValueError("matmul_block: columns start..start+Hb.shape[0] must lie inside A and out")
    _matmul(A[:, start:start + b], Hb[:, 0:Hb.shape[1]], out[:, start:start + b])


@njit(cache=True, error_model="numpy")
def matmul_block_diagonal(A, flat, offsets, bounds, out):
    """out = A @ blockdiag(H_0, H_1, ...) with the blocks stored as the engine keeps them: block b covers
    columns bounds[b]:bounds[b+1] and is the C-ordered square flat[offsets[b] : offsets[b] + size**2]
    (size = bounds[b+1] - bounds[b]).  Each block is one :func:`matmul_block`; columns outside every block
    are not written."""
    for b in range(bounds.shape[0] - 1):
        s = bounds[b]
        size = bounds[b + 1] - s
        o = offsets[b]
        if size < 0 or o < 0 or o + size * size > flat.shape[0]:
            raise ValueError("matmul_block_diagonal: offsets/bounds point outside flat")
        matmul_block(A, flat[o:o + size * size].reshape((size, size)), s, out)

