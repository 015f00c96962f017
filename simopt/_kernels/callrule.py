"""Calling an update rule's compiled step through its address.

Every rule's glue (``simopt._kernels.codegen``) is compiled as a C callback (``numba.cfunc``) with one
fixed signature, so the run loop takes the rule as a plain integer address and is compiled -- and
cached on disk -- once for all rules, built-in or a user's: a jitted function passed as an argument would
instead make Numba recompile the loop in every process.  These intrinsics turn the address back into a
call, passing each array as its data pointer and its lengths.

C signatures (all pointers to contiguous data; lengths as int64)::

    step (x, g, grads, st, hp, blk, shape, xstar, hdiag, hutch, work, d, nb, M, S, P, W, t, lr) -> void
    point(y, x, st, hp, blk, xstar, d, nb, S, P, t, lr) -> void

with ``shape`` the problem's matrix shape ``[rows, cols]`` (``[1, d]`` for a vector problem), ``d`` the
dimension, ``nb`` the number of blocks, ``M`` gradient draws, ``S``/``P``/``W`` the lengths
of the state, parameter and work vectors, ``t`` the 1-based step and ``lr`` the step's learning rate.
"""
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

F64P = types.CPointer(types.float64)
I64P = types.CPointer(types.int64)
I64 = types.int64
F64 = types.float64
STEP_SIGNATURE = types.void(F64P, F64P, F64P, F64P, F64P, I64P, I64P, F64P, F64P, F64P, F64P,
                            I64, I64, I64, I64, I64, I64, I64, F64)
POINT_SIGNATURE = types.void(F64P, F64P, F64P, F64P, I64P, F64P, I64, I64, I64, I64, I64, F64)


def _data_and_len(context, builder, aty, val):
    a = context.make_array(aty)(context, builder, value=val)
    return a.data, builder.extract_value(a.shape, 0)


def context_free_fnty(sig):
    def conv(t):
        if isinstance(t, types.CPointer):
            return ir.DoubleType().as_pointer() if t.dtype == types.float64 else ir.IntType(64).as_pointer()
        return ir.DoubleType() if t == types.float64 else ir.IntType(64)
    return ir.FunctionType(ir.VoidType(), [conv(a) for a in sig.args])


@intrinsic
def call_step(typingctx, addr, x, g, grads, st, hp, blk, shape, xstar, hdiag, hutch, work, t, lr):
    sig = types.void(addr, x, g, grads, st, hp, blk, shape, xstar, hdiag, hutch, work, t, lr)

    def codegen(context, builder, signature, args):
        a = signature.args
        xp, d = _data_and_len(context, builder, a[1], args[1])
        gp, _ = _data_and_len(context, builder, a[2], args[2])
        gsp, M = _data_and_len(context, builder, a[3], args[3])
        stp, S = _data_and_len(context, builder, a[4], args[4])
        hpp, P = _data_and_len(context, builder, a[5], args[5])
        bp, nb1 = _data_and_len(context, builder, a[6], args[6])
        shp, _ = _data_and_len(context, builder, a[7], args[7])
        xsp, _ = _data_and_len(context, builder, a[8], args[8])
        hdp, _ = _data_and_len(context, builder, a[9], args[9])
        hup, _ = _data_and_len(context, builder, a[10], args[10])
        wp, W = _data_and_len(context, builder, a[11], args[11])
        nb = builder.sub(nb1, ir.Constant(nb1.type, 1))
        tt = context.cast(builder, args[12], a[12], types.int64)
        lr = context.cast(builder, args[13], a[13], types.float64)
        fnty = context_free_fnty(STEP_SIGNATURE)
        fptr = builder.inttoptr(args[0], fnty.as_pointer())
        builder.call(fptr, [xp, gp, gsp, stp, hpp, bp, shp, xsp, hdp, hup, wp, d, nb, M, S, P, W, tt, lr])
        return context.get_dummy_value()

    return sig, codegen


@intrinsic
def call_point(typingctx, addr, y, x, st, hp, blk, xstar, t, lr):
    sig = types.void(addr, y, x, st, hp, blk, xstar, t, lr)

    def codegen(context, builder, signature, args):
        a = signature.args
        yp, d = _data_and_len(context, builder, a[1], args[1])
        xp, _ = _data_and_len(context, builder, a[2], args[2])
        stp, S = _data_and_len(context, builder, a[3], args[3])
        hpp, P = _data_and_len(context, builder, a[4], args[4])
        bp, nb1 = _data_and_len(context, builder, a[5], args[5])
        xsp, _ = _data_and_len(context, builder, a[6], args[6])
        nb = builder.sub(nb1, ir.Constant(nb1.type, 1))
        tt = context.cast(builder, args[7], a[7], types.int64)
        lr = context.cast(builder, args[8], a[8], types.float64)
        fnty = context_free_fnty(POINT_SIGNATURE)
        fptr = builder.inttoptr(args[0], fnty.as_pointer())
        builder.call(fptr, [yp, xp, stp, hpp, bp, xsp, d, nb, S, P, tt, lr])
        return context.get_dummy_value()

    return sig, codegen
