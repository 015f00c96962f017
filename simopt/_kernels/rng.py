"""Per-run random streams inside the compiled loop (provisional: xoshiro256++ with polar normals)."""
import math

import numpy as np
from numba import njit


def stream_states(seed, first_run, runs, sub=0):
    out = np.empty((runs, 4), dtype=np.uint64)
    for r in range(runs):
        key = (first_run + r,) if sub == 0 else (first_run + r, sub)
        out[r] = np.random.SeedSequence(seed, spawn_key=key).generate_state(4, np.uint64)
    return out


@njit(cache=True, error_model="numpy")
def _rotl(x, k):
    return (x << np.uint64(k)) | (x >> np.uint64(64 - k))


@njit(cache=True, error_model="numpy")
def next_u64(s):
    result = _rotl(s[0] + s[3], 23) + s[0]
    t = s[1] << np.uint64(17)
    s[2] ^= s[0]
    s[3] ^= s[1]
    s[1] ^= s[2]
    s[0] ^= s[3]
    s[2] ^= t
    s[3] = _rotl(s[3], 45)
    return result


@njit(cache=True, error_model="numpy")
def next_double(s):
    return float(next_u64(s) >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@njit(cache=True, error_model="numpy")
def std_normal(s):
    while True:
        u = 2.0 * next_double(s) - 1.0
        v = 2.0 * next_double(s) - 1.0
        q = u * u + v * v
        if 0.0 < q < 1.0:
            return u * math.sqrt(-2.0 * math.log(q) / q)


@njit(cache=True, error_model="numpy")
def fill_normal(s, out):
    for j in range(out.shape[0]):
        out[j] = std_normal(s)


@njit(cache=True, error_model="numpy")
def std_gamma(s, a):
    if a < 1.0:
        u = next_double(s)
        return std_gamma(s, a + 1.0) * u ** (1.0 / a)
    dd = a - 1.0 / 3.0
    c = 1.0 / math.sqrt(9.0 * dd)
    while True:
        x = std_normal(s)
        v = 1.0 + c * x
        if v <= 0.0:
            continue
        v = v * v * v
        u = next_double(s)
        if math.log(u) < 0.5 * x * x + dd - dd * v + dd * math.log(v):
            return dd * v


@njit(cache=True, error_model="numpy")
def fill_t(s, df, out):
    for j in range(out.shape[0]):
        z = std_normal(s)
        out[j] = z / math.sqrt(2.0 * std_gamma(s, 0.5 * df) / df)


@njit(cache=True, error_model="numpy")
def fill_rademacher(s, out):
    for j in range(out.shape[0]):
        out[j] = 1.0 if (next_u64(s) >> np.uint64(63)) else -1.0


@njit(cache=True, error_model="numpy")
def _fill2(s, out, df, dist):
    for k in range(out.shape[0]):
        if dist == 1:
            fill_t(s, df, out[k])
        elif dist == 2:
            fill_rademacher(s, out[k])
        else:
            fill_normal(s, out[k])


def normals(seed, run, shape, sub=0):
    s = stream_states(seed, run, 1, sub)[0]
    out = np.empty(shape).reshape(-1, shape[-1] if isinstance(shape, tuple) else shape)
    _fill2(s, out, 0.0, 0)
    return out.reshape(shape)


def student_t(seed, run, shape, df, sub=0):
    s = stream_states(seed, run, 1, sub)[0]
    out = np.empty(shape).reshape(-1, shape[-1] if isinstance(shape, tuple) else shape)
    _fill2(s, out, float(df), 1)
    return out.reshape(shape)


def rademacher(seed, run, shape, sub=1):
    s = stream_states(seed, run, 1, sub)[0]
    out = np.empty(shape).reshape(-1, shape[-1] if isinstance(shape, tuple) else shape)
    _fill2(s, out, 0.0, 2)
    return out.reshape(shape)
