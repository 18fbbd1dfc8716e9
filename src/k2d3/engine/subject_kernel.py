"""One subject's day 0 and dosed run, and both over many subjects in parallel (numba).

Like ``rosenbrock.py`` this is compiled inside the generated model module (``codegen.load``);
it mirrors the reference path step for step: ``equilibrium.equilibrate`` (settle undosed
with the age clock stopped, reset the cumulative stores and day-0 references, and find the
background D3 input that holds a measured 25(OH)D) and ``simulate._integrate`` (observe
before the doses of a time, add them, flush amounts below 1e-12 nmol, integrate on).
Subjects run in parallel threads (``prange``); each has its own adaptive steps.
"""
import math  # noqa: F401

import numpy as np  # noqa: F401
from numba import njit, prange  # noqa: F401

BAD_BASELINE_HIGH, BAD_BASELINE_LOW = 10, 11


@njit(**OPTIONS)
def _reset(y, P, probe, refs):
    """The day-0 references (parameter <- model value), then the cumulative stores
    (species <- a constant or a model value), each in table order as the reference does."""
    ref_rows, ref_src, store_rows, store_src, store_const = refs
    for k in range(ref_rows.size):
        observe(0.0, y, P, probe)
        P[ref_rows[k]] = probe[ref_src[k]]
    for k in range(store_rows.size):
        if store_src[k] < 0:
            y[store_rows[k]] = store_const[k]
        else:
            observe(0.0, y, P, probe)
            y[store_rows[k]] = probe[store_src[k]]


@njit(**OPTIONS)
def _depot_work(P, fd):
    """The depots' rows, loss rates (per subject), Jacobian slots, a work array for their
    amounts at the segment's start, their Jacobian columns (row, depot, slot), and their
    input rates (infusions; zero)."""
    k = np.empty(max(N_DEPOTS, 1))
    depot_rates(P, k)
    return (fd[1], k, fd[2], np.empty(max(N_DEPOTS, 1)), fd[3], fd[4], fd[5], np.zeros(max(N_DEPOTS, 1)))


@njit(**OPTIONS)
def settle(y, P, H, rtol, atol, ws, fd, stats, ends, clock_row, probe, refs):
    """A long undosed run with the age clock stopped, then the stores reset (``_steady``)."""
    P[clock_row] = 0.0
    statics(P, H)
    dep = _depot_work(P, fd)
    t, h = 0.0, 0.01
    for end in ends:
        flush(y)
        status, h, _ = integrate(t, end, y, P, H, h, rtol, atol, ws, fd, dep, stats)
        if status != OK:
            return status
        t = end
    P[clock_row] = 1.0
    _reset(y, P, probe, refs)
    return OK


@njit(**OPTIONS)
def _gap(x, y, P, H, rtol, atol, ws, fd, stats, ends, clock_row, probe, refs, bg_row, ohd_probe, target):
    P[bg_row] = math.exp(x)
    status = settle(y, P, H, rtol, atol, ws, fd, stats, ends, clock_row, probe, refs)
    if status != OK:
        return math.nan
    observe(0.0, y, P, probe)
    return probe[ohd_probe] - target


@njit(**OPTIONS)
def equilibrate(y, P, H, rtol, atol, ws, fd, stats, ends, clock_row, probe, refs, bg_row, ohd_probe, target):
    """Day 0 in place of ``y`` and ``P``; with ``target`` > 0 (a measured 25(OH)D, nmol/L) the
    background D3 input is found by bracketing and Brent's method on its logarithm."""
    if target <= 0.0:
        return settle(y, P, H, rtol, atol, ws, fd, stats, ends, clock_row, probe, refs)
    args = (y, P, H, rtol, atol, ws, fd, stats, ends, clock_row, probe, refs, bg_row, ohd_probe, target)
    x0 = math.log(P[bg_row])
    step = math.log(2.0)
    g0 = _gap(x0, *args)
    if math.isnan(g0):
        return FAILED_STEP
    if g0 < 0:
        lo, hi = x0, x0 + step
    else:
        lo, hi = x0 - step, x0
    ghi = _gap(hi, *args)
    while ghi < 0:
        lo, hi, step = hi, hi + step, 2 * step
        if hi > math.log(1e6):
            return BAD_BASELINE_HIGH
        ghi = _gap(hi, *args)
    glo = _gap(lo, *args)
    while glo > 0:
        hi, lo, step = lo, lo - step, 2 * step
        ghi = glo
        if lo < math.log(1e-8):
            return BAD_BASELINE_LOW
        glo = _gap(lo, *args)
    if math.isnan(glo) or math.isnan(ghi):
        return FAILED_STEP
    # Brent's method in the form of scipy.optimize.brentq, xtol 1e-6, rtol 1e-8
    xpre, xcur, fpre, fcur = lo, hi, glo, ghi
    xblk = fblk = spre = scur = 0.0
    for _ in range(100):
        if fpre * fcur < 0:
            xblk, fblk = xpre, fpre
            spre = scur = xcur - xpre
        if abs(fblk) < abs(fcur):
            xpre, xcur, xblk = xcur, xblk, xcur
            fpre, fcur, fblk = fcur, fblk, fcur
        delta = (1e-6 + 1e-8 * abs(xcur)) / 2
        sbis = (xblk - xcur) / 2
        if fcur == 0 or abs(sbis) < delta:
            break
        if abs(spre) > delta and abs(fcur) < abs(fpre):
            if xpre == xblk:  # interpolate
                stry = -fcur * (xcur - xpre) / (fcur - fpre)
            else:  # extrapolate
                dpre = (fpre - fcur) / (xpre - xcur)
                dblk = (fblk - fcur) / (xblk - xcur)
                stry = -fcur * (fblk * dblk - fpre * dpre) / (dblk * dpre * (fblk - fpre))
            if 2 * abs(stry) < min(abs(spre), 3 * abs(sbis) - delta):
                spre, scur = scur, stry
            else:
                spre = scur = sbis
        else:
            spre = scur = sbis
        xpre, fpre = xcur, fcur
        xcur += scur if abs(scur) > delta else (delta if sbis > 0 else -delta)
        fcur = _gap(xcur, *args)
        if math.isnan(fcur):
            return FAILED_STEP
    b = xcur
    P[bg_row] = math.exp(b)
    return settle(y, P, H, rtol, atol, ws, fd, stats, ends, clock_row, probe, refs)


@njit(**OPTIONS)
def run(y, P, H, dose_t, dose_row, dose_amt, inf_t, inf_dep, inf_rate, out_t, horizon, rtol, atol, ws, fd,
        stats, out):
    """The dosed run from day 0 (hours); ``out[k]`` holds the probes at ``out_t[k]``, the
    value before any dose at that time (the trough). Doses are added to their species at
    their times; infusions set a depot's input rate (``inf_dep``: the depot's index) from
    their time on."""
    statics(P, H)
    dep = _depot_work(P, fd)
    rate = dep[7]
    t, h = 0.0, 0.01
    h_dose = 0.01  # the step proposed after the first step that followed the previous dose
    k, d, j = 0, 0, 0
    m, nd, ni = out_t.size, dose_t.size, inf_t.size
    flush(y)
    while True:
        while k < m and out_t[k] <= t + 1e-9:
            observe(t, y, P, out[k])
            k += 1
        dosed = False
        while d < nd and dose_t[d] <= t + 1e-9:
            if dose_t[d] < horizon:
                y[dose_row[d]] += dose_amt[d]
                dosed = True
            d += 1
        while j < ni and inf_t[j] <= t + 1e-9:
            rate[inf_dep[j]] = inf_rate[j]
            j += 1
        if dosed:
            flush(y)
            # the step size at the end of a day is too long for a fresh dose's absorption
            # (two rejected steps a day): start where the previous dose's first step said
            h = min(h, h_dose)
        if t >= horizon - 1e-9:
            break
        nxt = horizon
        if k < m and out_t[k] < nxt:
            nxt = out_t[k]
        if d < nd and dose_t[d] < nxt:
            nxt = dose_t[d]
        if j < ni and inf_t[j] < nxt:
            nxt = inf_t[j]
        status, h, first = integrate(t, nxt, y, P, H, h, rtol, atol, ws, fd, dep, stats)
        if status != OK:
            return status
        if dosed and first > 0.0:
            h_dose = first
        t = nxt
    while k < m:
        observe(t, y, P, out[k])
        k += 1
    return OK


@njit(**PARALLEL)
def equilibrate_all(Y, P, targets, rtol, atol, ends, clock_row, refs, bg_row, ohd_probe, fd, status, stats):
    """Every subject's day 0, in place of its rows of ``Y`` and ``P``."""
    for s in prange(Y.shape[0]):
        y = Y[s].copy()
        p = P[s].copy()
        H = np.empty(N_HOISTED)
        probe = np.empty(N_PROBES)
        ws = workspace()
        st = np.zeros(3, dtype=np.int64)
        status[s] = equilibrate(y, p, H, rtol, atol[s], ws, fd, st, ends, clock_row, probe, refs,
                                bg_row, ohd_probe, targets[s])
        Y[s] = y
        P[s] = p
        stats[s] = st


@njit(**PARALLEL)
def run_all(Y, P, dose_ptr, dose_t, dose_row, dose_amt, inf_ptr, inf_t, inf_dep, inf_rate, out_t, horizon, rtol,
            atol, fd, out, status, stats):
    """Every column's dosed run; column c takes doses ``dose_ptr[c]:dose_ptr[c+1]`` and
    infusions ``inf_ptr[c]:inf_ptr[c+1]``."""
    for c in prange(Y.shape[0]):
        y = Y[c].copy()
        p = P[c].copy()
        H = np.empty(N_HOISTED)
        ws = workspace()
        st = np.zeros(3, dtype=np.int64)
        a, b = dose_ptr[c], dose_ptr[c + 1]
        u, v = inf_ptr[c], inf_ptr[c + 1]
        status[c] = run(y, p, H, dose_t[a:b], dose_row[a:b], dose_amt[a:b], inf_t[u:v], inf_dep[u:v],
                        inf_rate[u:v], out_t, horizon, rtol, atol[c], ws, fd, st, out[c])
        stats[c] = st
