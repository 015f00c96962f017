"""One update step of every rule, on one run's row, in place.

``update_row(code, x, g, gc, st, t, lr, hp, blk)``: ``x`` (d,) the iterate (the engine passes the error
``x - x*``; every rule is translation invariant), ``g`` the (noisy) gradient, ``gc`` the same gradient after
coordinate-wise clipping (``gc is g`` without clipping), ``st`` the run's flat state, ``t`` the 1-based step
count, ``lr`` this step's rate, ``hp`` the rule's float hyperparameters, ``blk`` block boundaries.
The formulas, their sources and the readable NumPy references are in ``simopt.optim``; tests hold the two equal.
"""
import math

import numpy as np
from numba import njit

from . import codes


@njit(cache=True, error_model="numpy")
def _sign(v):
    if v > 0.0:
        return 1.0
    if v < 0.0:
        return -1.0
    return 0.0


@njit(cache=True, error_model="numpy")
def clip_threshold(g, fraction, work):
    """Pan & Li's global threshold: the floor(n*c)-th largest |g_i| (0-based), or +inf for c = 0."""
    n = g.shape[0]
    k = int(math.floor(n * fraction))
    if fraction <= 0.0:
        return math.inf
    for i in range(n):
        work[i] = abs(g[i])
    srt = np.sort(work)          # ascending; k-th largest is at n-1-k
    return srt[n - 1 - k]


@njit(cache=True, error_model="numpy")
def clip_into(g, tau, out):
    for i in range(g.shape[0]):
        v = g[i]
        if abs(v) < tau:
            out[i] = v
        else:
            out[i] = _sign(v) * tau


@njit(cache=True, error_model="numpy")
def _sgd(x, gc, st, t, lr, hp):
    mu = hp[0]
    damp = hp[1]
    nesterov = hp[2] != 0.0
    d = x.shape[0]
    if mu == 0.0:
        for i in range(d):
            x[i] -= lr * gc[i]
        return
    for i in range(d):
        if t == 1:
            b = gc[i]
        else:
            b = mu * st[i] + (1.0 - damp) * gc[i]
        st[i] = b
        if nesterov:
            x[i] -= lr * (gc[i] + mu * b)
        else:
            x[i] -= lr * b


@njit(cache=True, error_model="numpy")
def _svag(x, g, st, t, lr, hp, momentum_variant):
    beta = hp[0]
    d = x.shape[0]
    bt = beta ** t
    bc = 1.0 - bt
    rho = (1.0 - beta) ** 2 * (1.0 - beta ** (2 * t)) / (bc * bc * (1.0 - beta * beta))
    if rho > 0.9999:
        rho = 0.9999
    for i in range(d):
        mt = beta * st[i] + (1.0 - beta) * g[i]
        vt = beta * st[d + i] + (1.0 - beta) * g[i] * g[i]
        st[i] = mt
        st[d + i] = vt
        m = mt / bc
        v = vt / bc
        m2 = m * m
        s = (v - m2) / (1.0 - rho)
        if momentum_variant:
            gam = m2 / (m2 + rho * s)
        else:
            gam = m2 / (m2 + s)
        if gam != gam:
            gam = 0.0
        elif gam < 0.0:
            gam = 0.0
        elif gam > 1.0:
            gam = 1.0
        if momentum_variant:
            x[i] -= lr * gam * m
        else:
            x[i] -= lr * gam * g[i]


@njit(cache=True, error_model="numpy")
def _adam(x, g, gc, st, t, lr, hp):
    b1 = hp[0]
    b2 = hp[1]
    eps = hp[2]
    v0_first = hp[3] != 0.0
    d = x.shape[0]
    bc1 = 1.0 - b1 ** t
    if v0_first:
        bc2s = 1.0
    else:
        bc2s = math.sqrt(1.0 - b2 ** t)
    step = lr / bc1
    for i in range(d):
        m = b1 * st[i] + (1.0 - b1) * gc[i]
        if v0_first and t == 1:
            v = g[i] * g[i]
        else:
            v = b2 * st[d + i] + (1.0 - b2) * g[i] * g[i]
        st[i] = m
        st[d + i] = v
        x[i] -= step * (m / (math.sqrt(v) / bc2s + eps))


@njit(cache=True, error_model="numpy")
def _normalized(x, g, st, t, lr, hp, blk):
    """Direction g_b/||g_b|| per block (one block = normalized GD), heavy-ball momentum on it."""
    mu = hp[0]
    for b in range(blk.shape[0] - 1):
        s, e = blk[b], blk[b + 1]
        nrm = 0.0
        for i in range(s, e):
            nrm += g[i] * g[i]
        nrm = math.sqrt(nrm)
        inv = 1.0 / nrm if nrm > 0.0 else 0.0
        for i in range(s, e):
            dvec = g[i] * inv
            if mu != 0.0:
                if t > 1:
                    dvec = mu * st[i] + dvec
                st[i] = dvec
            x[i] -= lr * dvec


@njit(cache=True, error_model="numpy")
def _blockwise_adam(x, g, st, t, lr, hp, blk):
    b1 = hp[0]
    b2 = hp[1]
    eps = hp[2]
    d = x.shape[0]
    bc1 = 1.0 - b1 ** t
    bc2s = math.sqrt(1.0 - b2 ** t)
    step = lr / bc1
    for b in range(blk.shape[0] - 1):
        s, e = blk[b], blk[b + 1]
        ms = 0.0
        for i in range(s, e):
            ms += g[i] * g[i]
        ms /= e - s
        v = b2 * st[d + b] + (1.0 - b2) * ms
        st[d + b] = v
        denom = math.sqrt(v) / bc2s + eps
        for i in range(s, e):
            m = b1 * st[i] + (1.0 - b1) * g[i]
            st[i] = m
            x[i] -= step * (m / denom)


@njit(cache=True, error_model="numpy")
def _gd_oracle(x, g, hp, blk):
    rule = int(hp[0])
    scale = hp[1]
    if rule == 0:
        eta = scale / hp[2]
    elif rule == 1:
        eta = scale * 2.0 / (hp[2] + hp[3])
    else:
        num = 0.0
        den = 0.0
        for b in range(blk.shape[0] - 1):
            sq = 0.0
            for i in range(blk[b], blk[b + 1]):
                sq += g[i] * g[i]
            num += hp[4 + b] * sq
            den += sq
        if den == 0.0:
            return
        eta = scale * den / num
    for i in range(x.shape[0]):
        x[i] -= eta * g[i]


@njit(cache=True, error_model="numpy")
def _sign_oracle(x, g, hp):
    l1 = 0.0
    for i in range(x.shape[0]):
        l1 += abs(g[i])
    eta = hp[0] * l1 / hp[1]
    for i in range(x.shape[0]):
        x[i] -= eta * _sign(g[i])


@njit(cache=True, error_model="numpy")
def update_row(code, x, g, gc, st, t, lr, hp, blk):
    d = x.shape[0]
    if code == codes.SGD:
        _sgd(x, gc, st, t, lr, hp)
    elif code == codes.SIGN:
        for i in range(d):
            x[i] -= lr * _sign(g[i])
    elif code == codes.SIGNUM:
        beta = hp[0]
        for i in range(d):
            m = beta * st[i] + (1.0 - beta) * g[i]
            st[i] = m
            x[i] -= lr * _sign(m)
    elif code == codes.SVAG:
        _svag(x, g, st, t, lr, hp, False)
    elif code == codes.MSVAG:
        _svag(x, g, st, t, lr, hp, True)
    elif code == codes.ADAM:
        _adam(x, g, gc, st, t, lr, hp)
    elif code == codes.RMSPROP:
        alpha = hp[0]
        eps = hp[1]
        for i in range(d):
            v = alpha * st[i] + (1.0 - alpha) * g[i] * g[i]
            st[i] = v
            x[i] -= lr * (g[i] / (math.sqrt(v) + eps))
    elif code == codes.ADAGRAD:
        eps = hp[0]
        for i in range(d):
            s = st[i] + g[i] * g[i]
            st[i] = s
            x[i] -= lr * (g[i] / (math.sqrt(s) + eps))
    elif code == codes.NORMALIZED_GD:
        whole = np.empty(2, dtype=np.int64)
        whole[0] = 0
        whole[1] = d
        _normalized(x, g, st, t, lr, hp, whole)
    elif code == codes.BLOCK_NORMALIZED:
        _normalized(x, g, st, t, lr, hp, blk)
    elif code == codes.BLOCKWISE_ADAM:
        _blockwise_adam(x, g, st, t, lr, hp, blk)
    elif code == codes.GD_ORACLE:
        _gd_oracle(x, g, hp, blk)
    elif code == codes.SIGN_ORACLE:
        _sign_oracle(x, g, hp)
