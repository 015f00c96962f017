"""simopt._kernels.gemm: the product it computes, and that every output row depends on that row alone.

The contract (module docstring): out[i, j] = c_k with c_0 = +0.0, c_{p+1} = fma(A[i, p], B[p, j], c_p).
It is checked exactly against an independent rational-arithmetic evaluation of that recurrence, to
rounding against NumPy's ``A @ B`` (random and badly scaled inputs), for IEEE special values, and for
row independence: the same bits for a row whatever rows surround it, how many there are, where it sits,
which columns of a bigger array the operands are, and what ``out`` held before.
"""
from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
import scipy.linalg
from hypothesis import given
from hypothesis import strategies as st
from numba.core.errors import TypingError

from simopt._kernels.gemm import NR, W, ensure_callback, matmul_block, matmul_block_diagonal, matmul_rows

ensure_callback()   # the product runs through its C callback; simopt.run loads it, direct callers do

# shapes cross every path: full MR-row tiles, remainders run as a tile with repeated rows or as single
# rows, full column panels (NR wide) and masked tails
ROWS = st.integers(1, 70)
INNER = st.integers(0, 40)
COLS = st.integers(1, 3 * NR + W + 3)
SEED = st.integers(0, 2**32 - 1)


def bits(x):
    return np.ascontiguousarray(x).view(np.uint64)


def product(A, B):
    out = np.full((A.shape[0], B.shape[1]), np.nan)
    matmul_rows(A, B, out)
    return out


def block_operands(sizes, rng):
    bounds = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    blocks = [rng.standard_normal((s, s)) for s in sizes]
    flat = np.concatenate([b.ravel() for b in blocks]) if blocks else np.zeros(0)
    offsets = np.concatenate([[0], np.cumsum(np.square(sizes))[:-1]]).astype(np.int64)
    return blocks, flat, offsets, bounds


def block_product(A, flat, offsets, bounds):
    out = np.full(A.shape, np.nan)
    matmul_block_diagonal(A, flat, offsets, bounds, out)
    return out


def exact_recurrence(A, B):
    """The contract evaluated with exact rationals: each fma is the exact a*b + c rounded once (Python's
    int/int -> float conversion is correctly rounded).  Finite inputs only."""
    n, k = A.shape
    m = B.shape[1]
    out = np.empty((n, m))
    Af = [[Fraction(float(v)) for v in row] for row in A]
    Bf = [[Fraction(float(v)) for v in row] for row in B]
    for i in range(n):
        for j in range(m):
            c = 0.0
            for p in range(k):
                c = float(Af[i][p] * Bf[p][j] + Fraction(c))
            out[i, j] = c
    return out


def assert_close_to_numpy(C, A, B, rtol=1e-13):
    """|C - A@B| <= rtol * (|A| @ |B|) elementwise: the forward-error scale of any summation order."""
    scale = np.abs(A) @ np.abs(B)
    err = np.abs(C - A @ B)
    assert np.all(err <= rtol * scale), float(np.max(err / np.where(scale > 0, scale, 1.0)))


# ---- the product it computes ---------------------------------------------------------------------
@given(n=st.integers(1, 12), k=st.integers(0, 12), m=st.integers(1, NR + W + 3), seed=SEED)
def test_equals_the_fma_recurrence_exactly(n, k, m, seed):
    rng = np.random.default_rng(seed)
    A, B = rng.standard_normal((n, k)), rng.standard_normal((k, m))
    np.testing.assert_array_equal(bits(product(A, B)), bits(exact_recurrence(A, B)))


def test_sums_in_ascending_order_with_one_rounding_per_term():
    # 1*(-1) first gives -1; then fma(a, b, -1) with a*b = 1 - 2**-60 is exactly -2**-60.  A product
    # rounded before the add would give 0, and the other order (a*b first, rounded to 1) also gives 0.
    a, b = 1 + 2.0**-30, 1 - 2.0**-30
    out = product(np.array([[1.0, a]]), np.array([[-1.0], [b]]))
    assert out[0, 0] == -(2.0**-60)
    out = product(np.array([[a, 1.0]]), np.array([[b], [-1.0]]))
    assert out[0, 0] == 0.0


@pytest.mark.parametrize("n,k,m", [(8, 500, 500), (32, 500, 500), (70, 37, 53), (1, 1, 1), (5, 300, 7)])
def test_agrees_with_numpy(n, k, m, rng):
    A, B = rng.standard_normal((n, k)), rng.standard_normal((k, m))
    assert_close_to_numpy(product(A, B), A, B)


@given(n=ROWS, k=INNER, m=COLS, seed=SEED)
def test_agrees_with_numpy_on_badly_scaled_inputs(n, k, m, seed):
    # |entries| in 1e-150 .. 1e150 (each entry, row and column scaled by 10**U(-50, 50)), so products
    # span 1e-300 .. 1e300 and sums mix terms hundreds of orders of magnitude apart
    rng = np.random.default_rng(seed)

    def scaled(shape):
        X = rng.uniform(1.0, 2.0, shape) * rng.choice([-1.0, 1.0], shape)
        X *= 10.0 ** rng.uniform(-50, 50, shape)
        return X * 10.0 ** rng.uniform(-50, 50, (shape[0], 1)) * 10.0 ** rng.uniform(-50, 50, (1, shape[1]))

    A, B = scaled((n, k)), scaled((k, m))
    C = product(A, B)
    assert np.all(np.isfinite(C))
    assert_close_to_numpy(C, A, B)


def test_zero_rows_columns_and_empty_inner_dimension(rng):
    A, B = rng.standard_normal((11, 30)), rng.standard_normal((30, 21))
    A[3] = 0.0
    B[:, 5] = 0.0
    C = product(A, B)
    assert np.all(C[3] == 0.0) and np.all(C[:, 5] == 0.0)
    assert not np.signbit(C[3]).any()                     # the sum starts at +0.0
    np.testing.assert_array_equal(product(np.empty((4, 0)), np.empty((0, 9))), np.zeros((4, 9)))
    out = np.empty((0, 9))
    matmul_rows(np.empty((0, 3)), B[:3, :9], out)        # no rows: nothing to do, no error


def test_special_values_follow_ieee_arithmetic_of_the_sum(rng):
    """NaN anywhere in a term -> NaN; 0*inf -> NaN; +inf and -inf terms -> NaN; one-signed infinite
    terms -> that infinity.  With small integers fma equals multiply-then-add, so the reference is the
    unfused running sum, and NumPy's BLAS gives the same."""
    vals = np.array([0.0, -0.0, 1.0, -1.0, 2.0, -3.0, np.inf, -np.inf, np.nan])
    prob = [0.3, 0.05, 0.15, 0.15, 0.1, 0.1, 0.05, 0.05, 0.05]
    seen_nan = seen_inf = False
    for _ in range(40):
        n, k, m = rng.integers(1, 20, 3)
        A, B = rng.choice(vals, (n, k), p=prob), rng.choice(vals, (k, m), p=prob)
        C = product(A, B)
        ref = np.zeros((n, m))
        with np.errstate(invalid="ignore"):
            for p in range(k):
                ref = ref + A[:, p, None] * B[None, p, :]
            blas = A @ B
        np.testing.assert_array_equal(C, ref)
        np.testing.assert_array_equal(C, blas)
        seen_nan |= bool(np.isnan(C).any())
        seen_inf |= bool(np.isinf(C).any())
    assert seen_nan and seen_inf


def test_overflow_gives_infinity():
    big = np.full((1, 2), 1e300)
    C = product(big, np.full((2, 3), 1e10))
    assert np.all(C == np.inf)


# ---- every row depends on that row alone ------------------------------------------------------------
@given(n=ROWS, k=INNER, m=COLS, seed=SEED, data=st.data())
def test_rows_are_independent_of_the_other_rows(n, k, m, seed, data):
    rng = np.random.default_rng(seed)
    A, B = rng.standard_normal((n, k)), rng.standard_normal((k, m))
    C = product(A, B)
    # any selection of rows, in any order, with repeats
    idx = np.array(data.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=70)))
    np.testing.assert_array_equal(bits(product(A[idx], B)), bits(C[idx]))
    # the rows split into consecutive pieces of any sizes (tiles), each its own call
    cuts = sorted(data.draw(st.sets(st.integers(1, n - 1), max_size=6))) if n > 1 else []
    pieces = [product(A[s:e], B) for s, e in zip([0] + cuts, cuts + [n])]
    np.testing.assert_array_equal(bits(np.vstack(pieces)), bits(C))
    # one row at a random position among random other rows
    i = data.draw(st.integers(0, n - 1))
    bigger = data.draw(st.integers(1, 70))
    pos = data.draw(st.integers(0, bigger - 1))
    E = rng.standard_normal((bigger, k)) * 1e3
    E[pos] = A[i]
    np.testing.assert_array_equal(bits(product(E, B)[pos]), bits(C[i]))


@given(n=ROWS, k=INNER, m=COLS, seed=SEED)
def test_operands_as_views_of_bigger_arrays(n, k, m, seed):
    """Column ranges and strided rows (as E[:, s:e] or Z[:, step, :]) give the bits of contiguous copies."""
    rng = np.random.default_rng(seed)
    A, B = rng.standard_normal((n, k)), rng.standard_normal((k, m))
    C = product(A, B)
    Abig = rng.standard_normal((n, 3, k + 5))
    Abig[:, 1, 2:2 + k] = A
    Bbig = rng.standard_normal((k, m + 4))
    Bbig[:, 3:3 + m] = B
    obig = np.full((2 * n, m + 6), -7.0)
    out = obig[::2, 1:1 + m]
    matmul_rows(Abig[:, 1, 2:2 + k], Bbig[:, 3:3 + m], out)
    np.testing.assert_array_equal(bits(out), bits(C))
    assert np.all(obig[1::2] == -7.0) and np.all(obig[::2, 0] == -7.0) and np.all(obig[::2, 1 + m:] == -7.0)
    # negative row strides: views whose rows run backwards through memory, same logical contents
    out = np.empty((n, m))[::-1]
    matmul_rows(A[::-1].copy()[::-1], B[::-1].copy()[::-1], out)
    np.testing.assert_array_equal(bits(out), bits(C))


@given(n=ROWS, k=INNER, m=COLS, seed=SEED, garbage=st.sampled_from(["nan", "inf", "bits", "huge"]))
def test_previous_contents_of_out_do_not_matter(n, k, m, seed, garbage):
    rng = np.random.default_rng(seed)
    A, B = rng.standard_normal((n, k)), rng.standard_normal((k, m))
    C = product(A, B)
    if garbage == "bits":
        out = rng.integers(0, 2**64, (n, m), dtype=np.uint64, endpoint=False).view(np.float64)
    else:
        out = np.full((n, m), {"nan": np.nan, "inf": -np.inf, "huge": 1e308}[garbage])
    matmul_rows(A, B, out)
    np.testing.assert_array_equal(bits(out), bits(C))


# ---- the block-diagonal variant ---------------------------------------------------------------------
@given(n=ROWS, sizes=st.lists(st.integers(1, 2 * NR + 5), min_size=1, max_size=5), seed=SEED, data=st.data())
def test_block_diagonal_rows_are_independent(n, sizes, seed, data):
    rng = np.random.default_rng(seed)
    blocks, flat, offsets, bounds = block_operands(sizes, rng)
    d = int(bounds[-1])
    A = rng.standard_normal((n, d))
    C = block_product(A, flat, offsets, bounds)
    # each block's columns equal the dense product with that block (same recurrence, same bits)
    for b, H in enumerate(blocks):
        s, e = bounds[b], bounds[b + 1]
        np.testing.assert_array_equal(bits(C[:, s:e]), bits(product(np.ascontiguousarray(A[:, s:e]), H)))
    assert_close_to_numpy(C, A, scipy.linalg.block_diag(*blocks))
    idx = np.array(data.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=70)))
    np.testing.assert_array_equal(bits(block_product(A[idx], flat, offsets, bounds)), bits(C[idx]))
    bigger = data.draw(st.integers(1, 70))
    pos = data.draw(st.integers(0, bigger - 1))
    E = rng.standard_normal((bigger, d))
    E[pos] = A[idx[0]]
    np.testing.assert_array_equal(bits(block_product(E, flat, offsets, bounds)[pos]), bits(C[idx[0]]))


def test_block_variant_writes_only_its_columns(rng):
    A = rng.standard_normal((13, 40))
    H = rng.standard_normal((17, 17))
    out = np.full((13, 40), 5.0)
    matmul_block(A, H, 9, out)
    np.testing.assert_array_equal(bits(out[:, 9:26]), bits(product(np.ascontiguousarray(A[:, 9:26]), H)))
    assert np.all(out[:, :9] == 5.0) and np.all(out[:, 26:] == 5.0)


# ---- bad input ------------------------------------------------------------------------------------
def test_bad_shapes_and_strides_raise(rng):
    A, B = rng.standard_normal((4, 6)), rng.standard_normal((6, 5))
    with pytest.raises(ValueError, match=r"B must have A.shape\[1\] rows"):
        matmul_rows(A, rng.standard_normal((5, 5)), np.empty((4, 5)))
    with pytest.raises(ValueError, match="out must have shape"):
        matmul_rows(A, B, np.empty((4, 6)))
    with pytest.raises(ValueError, match="unit stride"):
        matmul_rows(rng.standard_normal((4, 12))[:, ::2], B, np.empty((4, 5)))
    X = rng.standard_normal((6, 6))
    with pytest.raises(ValueError, match="share memory"):
        matmul_rows(X, X, X)                              # in place
    with pytest.raises(ValueError, match="share memory"):
        matmul_rows(X[:4], X, X[2:])                      # overlapping rows
    matmul_rows(X[:3], X, np.empty((3, 6)))               # reading the same array twice is fine
    with pytest.raises(ValueError, match="inside A and out"):
        matmul_block(A, rng.standard_normal((4, 4)), 3, np.empty((4, 6)))
    with pytest.raises(ValueError, match="Hb must be square"):
        matmul_block(A, rng.standard_normal((3, 4)), 0, np.empty((4, 6)))
    blocks, flat, offsets, bounds = block_operands([3, 3], rng)
    with pytest.raises(ValueError, match="outside flat"):
        matmul_block_diagonal(A, flat[:-1], offsets, bounds, np.empty((4, 6)))
    with pytest.raises(TypingError, match="2-D float64"):
        matmul_rows(A.astype(np.float32), B.astype(np.float32), np.empty((4, 5), np.float32))


# ---- the benchmark script runs (speed is not asserted) ----------------------------------------------
def test_benchmark_quick_run_reports_every_way():
    import importlib.util
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_gemm.py"
    if not script.is_file():
        pytest.skip("benchmarks/ not in this checkout")
    spec = importlib.util.spec_from_file_location("bench_gemm", script)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    res = bench.measure(quick=True)
    for r in res["single"].values():
        assert set(r["gflops"]) == {"simopt", "blas1", "blas1_tile8", "blas2"}
        assert all(v > 0 for v in r["gflops"].values())
    for r in res["loop"].values():
        assert set(r["gflops"]) == {"simopt_prange", "blas_tile8_prange", "numpy_blas2"}
        assert r["deterministic"] and r["finite"]
    assert res["compile"]["cold"]["matmul_rows_s"] > 0
    assert "engine loop" in bench.report(res)


_FRESH = """
import sys
import numpy as np
import simopt
from simopt import noise, spectra
from simopt._kernels import gemm
case = sys.argv[1]
if case == "direct":
    A, B = np.ones((3, 4)), np.ones((4, 5))
    try:
        gemm.matmul_rows(A, B, np.empty((3, 5)))
    except RuntimeError as e:
        assert "ensure_callback" in str(e), e
    else:
        raise SystemExit("matmul_rows ran without its callback")
    gemm.ensure_callback()
    out = np.empty((3, 5))
    gemm.matmul_rows(A, B, out)
    assert np.array_equal(out, A @ B)
    raise SystemExit(0)
lam = spectra.linear(6, 1.0, 4.0)
p = {"dense": simopt.quadratic(lam, rotation="haar", seed=0),
     "block": simopt.block_diagonal([lam[:3], lam[3:]], rotation="block", seed=0),
     "kron": simopt.matrix_quadratic([1.0, 2.0], [1.0, 3.0, 5.0], rotation_A="haar", seed=0),
     "correlated noise": simopt.quadratic(lam, rotation="none", seed=0,
                                          noise=noise.correlated_gaussian(np.diag(lam) + 0.1)),
     "hessian-aligned block noise": simopt.block_diagonal([lam[:3], lam[3:]], rotation="block", seed=0,
                                                          noise=noise.hessian_aligned(0.1))}[case]
assert not gemm.callback_loaded()
res = simopt.run(p, simopt.optim.sgd(0.1), 5, runs=2)
assert gemm.callback_loaded() and np.all(np.isfinite(res.loss)), res.loss
"""


@pytest.mark.parametrize("case", ["direct", "dense", "block", "kron", "correlated noise",
                                  "hessian-aligned block noise"])
def test_the_product_runs_only_through_its_loaded_callback(case):
    """In a new process the product refuses to run (RuntimeError naming ensure_callback) until its C
    callback is loaded, and simopt.run loads it for every problem or noise kind that needs it."""
    import subprocess
    import sys
    r = subprocess.run([sys.executable, "-c", _FRESH, case], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
