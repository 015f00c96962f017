"""Random numbers inside compiled code: xoshiro256++ with a 256-layer ziggurat normal, gamma and Student-t.

Every function takes the generator state ``s``, a ``uint64`` array of 4 words (e.g. one row of
``simopt.streams.stream_states(seed, first_run, runs)``) that it updates in place, so a compiled loop can
draw per run and per step with no Python involved.  Streams are made from a seed by
:mod:`simopt.streams` (``stream_state(seed, run, sub)``), which also gives the same numbers to Python
code.  In loops use the fills: they keep the state in registers and store it once per call.

Generator
    xoshiro256++ 1.0 (Blackman & Vigna, "Scrambled linear pseudorandom number generators", ACM TOMS
    47(4), 2021; the public-domain reference code at prng.di.unimi.it):

        out = rotl(s0 + s3, 23) + s0;   t = s1 << 17;
        s2 ^= s0;  s3 ^= s1;  s1 ^= s2;  s0 ^= s3;  s2 ^= t;  s3 = rotl(s3, 45)

    Period 2**256 - 1 over the non-zero states (the all-zero state is a fixed point, never used).  The
    ``++`` scrambler, unlike xoshiro256+'s ``+``, leaves no linear artifacts in the low bits, so all 64
    bits of an output are used below.
    ``next_double(s) = (next_u64(s) >> 11) * 2**-53``, uniform on the grid ``k 2**-53`` in [0, 1).

Standard normal: ziggurat with 256 layers (Marsaglia & Tsang, "The Ziggurat Method for Generating Random
Variables", J. Stat. Softw. 5(8), 2000).  The area under ``f(x) = exp(-x**2/2)``, x >= 0, is cut into a
base strip (the rectangle [0, r] x [0, f(r)] plus the tail x > r) and 255 rectangles stacked on it, all of
the same area ``v = r f(r) + int_r^inf f``.  With ``x_1 = r`` the edges follow the paper's recurrence
``f(x_{i+1}) = f(x_i) + v / x_i`` up to ``x_256 = 0``; ``r`` is the root of that closure condition
(bisection at import; 3.6541528853610088 in the paper, which also gives v = 0.00492867323399).  Layer
``i >= 1`` is [0, x_i] x [f(x_i), f(x_{i+1})]; the base strip is treated as a rectangle of width
``q = v / f(r)`` whose part beyond r stands for the tail.  One 64-bit draw ``u`` supplies::

    bits 0-7    the layer i (uniform over the 256 equal-area layers),
    bit 8       the sign,
    bits 12-63  a 52-bit integer m, so that x = m * w_i with w_i = x_i 2**-52 (w_0 = q 2**-52) is
                uniform on [0, x_i) (bits 9-11 are not used).

If ``m < k_i = floor(2**52 x_{i+1} / x_i)`` (``k_0 = floor(2**52 r / q)``), the point lies in the part of
the layer that is entirely under the curve and ``+-x`` is returned: 98.5% of draws, one u64 each.  Else, in
layer i >= 1 (a wedge), a uniform height ``y`` in [f(x_i), f(x_{i+1})] is drawn and x is accepted if
``y < f(x)``; in the base strip the tail is drawn by Marsaglia's method (x = -ln(U1)/r, y = -ln(U2)
until 2y > x**2; return +-(r + x)); a rejected wedge point restarts with a new u64.  The method is exact:
accepted points are uniform under the curve.  The integer threshold ``k_i`` is rounded down, so a point
the fast test sends to the wedge test by rounding is accepted there; the only approximation is the 2**-52
grid of the abscissa.  Tables: ``ZIG_R``, ``ZIG_V``, ``ZIG_X`` (edges), ``_K``/``_W``/``_F``.

Gamma(shape, 1): Marsaglia & Tsang, "A simple method for generating gamma variables", ACM TOMS 26(3),
2000: for a >= 1, d = a - 1/3, c = 1/sqrt(9d); repeat {z normal, v = (1 + c z)**3 (retry z if 1 + c z
<= 0), U uniform; accept d v if U < 1 - 0.0331 z**4 or ln U < z**2/2 + d (1 - v + ln v)}.  For a < 1, the
paper's boost: Gamma(a) = Gamma(a + 1) * U**(1/a), the U drawn after the Gamma(a + 1) variate, as
1 - next_double in (0, 1].  (For very small a, U**(1/a) can underflow to 0, a rounding of a variate
that is that small.)

Student-t(df): t = z / sqrt(2 G / df) with z standard normal drawn first and G ~ Gamma(df/2) after it, since
2G is chi-square(df): exact for every real df > 0 (df = 1 is the Cauchy law).

Rademacher: +1 if the top bit of one u64 is 0, else -1 (one u64 per sign).

Fills: ``fill_normal(s, out)``, ``fill_t``, ``fill_gamma``, ``fill_rademacher`` draw into a 1-d ``out`` in
index order, or into a 2-d ``out`` row by row (row-major), so a 2-d fill gives exactly the numbers of
successive 1-d fills of its rows.  Parameters are not validated here (``simopt.streams`` does that for
Python callers); a shape or df that is not > 0 gives NaN instead of a draw.

Quality (``tests/test_rng.py``): the generator's outputs equal those of the published C algorithm; the
tables close the ziggurat with equal areas and reproduce the paper's r and v; 2**21 normals have mean,
variance, skewness and excess kurtosis within 4 standard errors, pass a Kolmogorov-Smirnov test and
chi-square tests on fine histograms (1024 equal-probability bins; bins of width 0.02 on [-3.6, 3.6]);
among 2**23 normals the frequencies of |z| > 3.5, > r and > 4.5 are within binomial error of the exact
normal probabilities and |z| beyond r (the tail method) follows the truncated normal (KS); Student-t
(df = 1, 1.5, 2.5, 5, 30) and gamma (shape 0.3, 1, 2.5, 15) pass KS tests; the streams of neighbouring runs
and of sub-streams are uncorrelated at lags -3..3 and never start equal; the Python API, the one-draw
kernels, 1-d and 2-d fills and fills split anywhere give bit-identical numbers.  Speed:
``benchmarks/bench_rng.py``.

Reproducibility: these streams replace the per-run NumPy ``Generator(SFC64)`` once the engine draws its
noise with them, so results for a given seed change once at that switch, and are fixed thereafter.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

# ----------------------------------------------------------------------------------------------------
# The draws are written on the state as four scalars (``_xoshiro``, ``_normal``, ``_gamma``, ``_t`` take and
# return s0..s3), so a fill keeps the state in registers for its whole loop and stores it once; the public
# one-draw functions load ``s``, call the same code and store it back, hence give the same numbers.

_U11 = np.uint64(11)
_U12 = np.uint64(12)
_U17 = np.uint64(17)
_U19 = np.uint64(19)
_U23 = np.uint64(23)
_U41 = np.uint64(41)
_U45 = np.uint64(45)
_U63 = np.uint64(63)
_BYTE = np.uint64(0xFF)
_BIT8 = np.uint64(0x100)
_TWO_M53 = 2.0 ** -53


@njit(cache=True, error_model="numpy")
def _xoshiro(s0, s1, s2, s3):
    """xoshiro256++: (output, new s0, s1, s2, s3)."""
    a = s0 + s3
    result = ((a << _U23) | (a >> _U41)) + s0
    t = s1 << _U17
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = (s3 << _U45) | (s3 >> _U19)
    return result, s0, s1, s2, s3


@njit(cache=True, error_model="numpy")
def _unit(x):
    """The double ``(x >> 11) * 2**-53`` in [0, 1) made of the top 53 bits of a u64."""
    return float(np.int64(x >> _U11)) * _TWO_M53


@njit(cache=True, error_model="numpy")
def next_u64(s):
    """The next 64-bit output of xoshiro256++ (Blackman & Vigna 2021); advances ``s`` (uint64[4])."""
    x, s[0], s[1], s[2], s[3] = _xoshiro(s[0], s[1], s[2], s[3])
    return x


@njit(cache=True, error_model="numpy")
def next_double(s):
    """Uniform on [0, 1): the top 53 bits of one output, ``(x >> 11) * 2**-53``."""
    return _unit(next_u64(s))


# ----------------------------------------------------------------------------------------------------
# ziggurat tables (computed once, here, in Python; Numba freezes module-level arrays into the compiled
# code as constants)

ZIG_LAYERS = 256


def _f(x: float) -> float:
    return math.exp(-0.5 * x * x)


def _layer_area(r: float) -> float:
    """v(r) = r f(r) + int_r^inf f(x) dx, the area of the base strip for a last edge r."""
    return r * _f(r) + math.sqrt(0.5 * math.pi) * math.erfc(r / math.sqrt(2.0))


def _edges(r: float, n: int):
    """x_1 = r, ..., x_{n-1} by the recurrence f(x_{i+1}) = f(x_i) + v / x_i, and the closure residual
    f(x_{n-1}) + v / x_{n-1} - 1 (zero when the top layer ends exactly at f = 1).  A residual of +inf
    means the recurrence passed f = 1 early (r too small)."""
    v = _layer_area(r)
    xs = [r]
    x = r
    for _ in range(n - 2):
        y = _f(x) + v / x
        if y >= 1.0:
            return xs, math.inf
        x = math.sqrt(-2.0 * math.log(y))
        xs.append(x)
    return xs, _f(x) + v / x - 1.0


def _solve_r(n: int) -> float:
    """The r that closes an n-layer ziggurat (bisection to adjacent doubles; the residual decreases in r)."""
    lo, hi = 2.0, 6.0
    while True:
        mid = 0.5 * (lo + hi)
        if mid <= lo or mid >= hi:
            break
        if _edges(mid, n)[1] > 0.0:
            lo = mid
        else:
            hi = mid
    return min((lo, hi), key=lambda r: abs(_edges(r, n)[1]))


def _tables(n: int = ZIG_LAYERS):
    """(r, v, edges, k, w, f) of the n-layer ziggurat, as the module docstring defines them."""
    r = _solve_r(n)
    v = _layer_area(r)
    xs, _ = _edges(r, n)
    q = v / _f(r)
    edge = np.array([q] + xs + [0.0])           # edge[0] = q (base strip), edge[i] = x_i, edge[n] = 0
    scale = 2.0 ** 52
    w = edge[:n] / scale
    k = np.empty(n, dtype=np.uint64)
    k[0] = np.uint64(math.floor(scale * r / q))
    for i in range(1, n):
        k[i] = np.uint64(math.floor(scale * edge[i + 1] / edge[i]))
    f = np.array([_f(x) for x in edge])
    f[0] = 0.0                                   # unused: the base strip has no wedge
    f[n] = 1.0                                   # top of the last layer, f(0)
    for a in (edge, w, k, f):
        a.setflags(write=False)
    return r, v, edge, k, w, f


ZIG_R, ZIG_V, ZIG_X, _K, _W, _F = _tables()
_INV_R = 1.0 / ZIG_R


# inline="always" (here and on _gamma, _t): Numba inlines the draw into each caller, so a fill's loop is one
# function; left to LLVM, a call per draw was measured 2x (normal) to 3x (gamma) slower.
@njit(cache=True, error_model="numpy", inline="always")
def _normal(s0, s1, s2, s3):
    """The ziggurat (module docstring: bit layout, tail, wedges): (z, new s0, s1, s2, s3)."""
    while True:
        u, s0, s1, s2, s3 = _xoshiro(s0, s1, s2, s3)
        i = u & _BYTE
        m = u >> _U12
        x = float(np.int64(m)) * _W[i]
        neg = (u & _BIT8) != 0
        if m < _K[i]:
            return (-x if neg else x), s0, s1, s2, s3
        if i == 0:
            while True:                                 # Marsaglia's tail method beyond r
                a, s0, s1, s2, s3 = _xoshiro(s0, s1, s2, s3)
                b, s0, s1, s2, s3 = _xoshiro(s0, s1, s2, s3)
                xx = -math.log1p(-_unit(a)) * _INV_R    # -ln(U) / r with U = 1 - unit in (0, 1]
                yy = -math.log1p(-_unit(b))
                if yy + yy > xx * xx:
                    return (-(ZIG_R + xx) if neg else ZIG_R + xx), s0, s1, s2, s3
        else:
            a, s0, s1, s2, s3 = _xoshiro(s0, s1, s2, s3)
            if _F[i] + _unit(a) * (_F[i + 1] - _F[i]) < math.exp(-0.5 * x * x):
                return (-x if neg else x), s0, s1, s2, s3


@njit(cache=True, error_model="numpy")
def std_normal(s):
    """A standard normal draw by the 256-layer ziggurat; advances ``s``."""
    z, s[0], s[1], s[2], s[3] = _normal(s[0], s[1], s[2], s[3])
    return z


# ----------------------------------------------------------------------------------------------------
# gamma and Student-t

@njit(cache=True, error_model="numpy")
def _gamma_params(shape):
    """(d, c, inv): Marsaglia-Tsang's d = a - 1/3 and c = 1/sqrt(9 d) for a = shape if shape >= 1, else
    for a = shape + 1 with inv = 1/shape (the U**(1/shape) boost; inv = 0 means no boost)."""
    if shape < 1.0:
        a = shape + 1.0
        inv = 1.0 / shape
    else:
        a = shape
        inv = 0.0
    d = a - 1.0 / 3.0
    return d, 1.0 / math.sqrt(9.0 * d), inv


@njit(cache=True, error_model="numpy", inline="always")
def _gamma(s0, s1, s2, s3, d, c, inv):
    """Marsaglia & Tsang's gamma with precomputed ``_gamma_params``: (g, new s0, s1, s2, s3)."""
    while True:
        while True:
            z, s0, s1, s2, s3 = _normal(s0, s1, s2, s3)
            v = 1.0 + c * z
            if v > 0.0:
                break
        v = v * v * v
        a, s0, s1, s2, s3 = _xoshiro(s0, s1, s2, s3)
        u = _unit(a)
        z2 = z * z
        if u < 1.0 - 0.0331 * z2 * z2 or math.log(u) < 0.5 * z2 + d * (1.0 - v + math.log(v)):
            g = d * v
            if inv != 0.0:
                a, s0, s1, s2, s3 = _xoshiro(s0, s1, s2, s3)
                g *= (1.0 - _unit(a)) ** inv
            return g, s0, s1, s2, s3


@njit(cache=True, error_model="numpy", inline="always")
def _t(s0, s1, s2, s3, df, d, c, inv):
    """Student-t: z, then G ~ Gamma(df/2) (``_gamma_params(df/2)``); (z / sqrt(2 G / df), new state)."""
    z, s0, s1, s2, s3 = _normal(s0, s1, s2, s3)
    g, s0, s1, s2, s3 = _gamma(s0, s1, s2, s3, d, c, inv)
    return z / math.sqrt(2.0 * g / df), s0, s1, s2, s3


@njit(cache=True, error_model="numpy")
def std_gamma(s, shape):
    """A Gamma(shape, scale 1) draw (Marsaglia & Tsang 2000, boosted for shape < 1); NaN unless shape > 0."""
    if not shape > 0.0:
        return math.nan
    d, c, inv = _gamma_params(shape)
    g, s[0], s[1], s[2], s[3] = _gamma(s[0], s[1], s[2], s[3], d, c, inv)
    return g


@njit(cache=True, error_model="numpy")
def std_t(s, df):
    """A standard Student-t(df) draw, z / sqrt(2 Gamma(df/2) / df), z first; NaN unless df > 0."""
    if not df > 0.0:
        return math.nan
    d, c, inv = _gamma_params(0.5 * df)
    t, s[0], s[1], s[2], s[3] = _t(s[0], s[1], s[2], s[3], df, d, c, inv)
    return t


@njit(cache=True, error_model="numpy")
def _sign(x):
    """+1.0 if the top bit of the u64 x is 0, else -1.0."""
    return 1.0 - 2.0 * float(np.int64(x >> _U63))


@njit(cache=True, error_model="numpy")
def rademacher(s):
    """+1.0 or -1.0 with probability 1/2 each: the top bit of one u64 (0 gives +1)."""
    return _sign(next_u64(s))


# ----------------------------------------------------------------------------------------------------
# fills: 1-d in index order, 2-d row by row; the state is loaded once and stored once

@njit(cache=True, error_model="numpy")
def fill_normal(s, out):
    """Standard normals into ``out`` (1-d, or 2-d filled row-major); the same numbers as ``std_normal``."""
    s0, s1, s2, s3 = s[0], s[1], s[2], s[3]
    if out.ndim == 1:
        for i in range(out.shape[0]):
            out[i], s0, s1, s2, s3 = _normal(s0, s1, s2, s3)
    else:
        for i in range(out.shape[0]):
            for j in range(out.shape[1]):
                out[i, j], s0, s1, s2, s3 = _normal(s0, s1, s2, s3)
    s[0], s[1], s[2], s[3] = s0, s1, s2, s3


@njit(cache=True, error_model="numpy")
def fill_t(s, df, out):
    """Student-t(df) draws into ``out`` (1-d, or 2-d row-major); the same numbers as ``std_t``."""
    if not df > 0.0:
        out[...] = math.nan
        return
    d, c, inv = _gamma_params(0.5 * df)
    s0, s1, s2, s3 = s[0], s[1], s[2], s[3]
    if out.ndim == 1:
        for i in range(out.shape[0]):
            out[i], s0, s1, s2, s3 = _t(s0, s1, s2, s3, df, d, c, inv)
    else:
        for i in range(out.shape[0]):
            for j in range(out.shape[1]):
                out[i, j], s0, s1, s2, s3 = _t(s0, s1, s2, s3, df, d, c, inv)
    s[0], s[1], s[2], s[3] = s0, s1, s2, s3


@njit(cache=True, error_model="numpy")
def fill_gamma(s, shape, out):
    """Gamma(shape, 1) draws into ``out`` (1-d, or 2-d row-major); the same numbers as ``std_gamma``."""
    if not shape > 0.0:
        out[...] = math.nan
        return
    d, c, inv = _gamma_params(shape)
    s0, s1, s2, s3 = s[0], s[1], s[2], s[3]
    if out.ndim == 1:
        for i in range(out.shape[0]):
            out[i], s0, s1, s2, s3 = _gamma(s0, s1, s2, s3, d, c, inv)
    else:
        for i in range(out.shape[0]):
            for j in range(out.shape[1]):
                out[i, j], s0, s1, s2, s3 = _gamma(s0, s1, s2, s3, d, c, inv)
    s[0], s[1], s[2], s[3] = s0, s1, s2, s3


@njit(cache=True, error_model="numpy")
def fill_rademacher(s, out):
    """+-1 signs into ``out`` (1-d, or 2-d row-major), one u64 each; the same numbers as ``rademacher``."""
    s0, s1, s2, s3 = s[0], s[1], s[2], s[3]
    if out.ndim == 1:
        for i in range(out.shape[0]):
            x, s0, s1, s2, s3 = _xoshiro(s0, s1, s2, s3)
            out[i] = _sign(x)
    else:
        for i in range(out.shape[0]):
            for j in range(out.shape[1]):
                x, s0, s1, s2, s3 = _xoshiro(s0, s1, s2, s3)
                out[i, j] = _sign(x)
    s[0], s[1], s[2], s[3] = s0, s1, s2, s3
