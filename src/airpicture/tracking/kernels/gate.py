"""Compiled IMM prediction and chi-square gate of (track, plot) pairs, fused, with a cheap
exact rejection before the covariance work.

A pair is inside the gate ``G`` when ``y^T S^-1 y < G`` for the combined (moment-matched)
prediction or for the prediction of one of the models: the combined gate shrinks to the CV
prediction while the turn modes are unlikely, so the plots at the onset of a manoeuvre fall
outside it, and a turn model's own gate keeps them (see
:func:`airpicture.tracking.gating.imm_gate`). Every prediction of a pair is linearised at the
combined state (one Jacobian ``H``): a model's gate uses its own predicted measurement
``h(x_j)`` and ``S_j = H P_j H^T + R``.

For each candidate pair the track is mixed and each model's *mean* predicted to the plot time.
Then, for a measured component ``a`` whose Jacobian row ``h_a = [h_p, 0]`` has no velocity
part (a radar range, azimuth or elevation; an ADS-B position axis), the innovation
``y_a`` and the exact variance ``S_aa = h_a Pc h_a^T + R_aa`` of the combined prediction are
formed without any predicted covariance matrix::

    h_a Pc h_a^T = sum_j c_j (g_j^T P0_j g_j + q_j |dt|^3 |h_p|^2 / 3 + (h_p . (x_j - xc))^2),
    g_j = F_j^T h_a^T = [h_p, B_j^T h_p]

(``P0_j`` the mixed covariance of model ``j``, ``x_j`` its predicted state, ``xc`` the
combined one, ``h_a`` taken at ``xc``); a model's own ``S_aa`` is the term of ``j`` without its
weight and spread, with the innovation ``y_a`` of its own predicted measurement. Since
``y^T S^-1 y >= y_a^2 / S_aa`` for every component (Cauchy-Schwarz), a prediction with
``y_a^2 > G S_aa`` has the pair outside its gate whatever the other components say. Only the
pairs that this does not reject for the combined prediction or for some model pay the
model-wise ``F P0 F^T + Q``, the moment matching and the full ``y^T S^-1 y``; the result is the
same set of gated pairs as predicting and gating every pair (a relative slack of
:data:`BOUND_SLACK` keeps rounding from rejecting a pair at the gate's edge).
"""

from __future__ import annotations

import math

import numba
import numpy as np
from numpy.typing import NDArray

from airpicture.tracking.kernels.ekf import (
    FULL_SIZE,
    RADAR,
    h_full,
    innovation_covariance,
    scratch,
    select,
)
from airpicture.tracking.kernels.imm import (
    combine_cov,
    combine_mean,
    mix,
    predict_cov,
    predict_mean,
    transition,
)
from airpicture.tracking.kernels.linalg import TWO_PI, cholesky, mahalanobis

Array = NDArray[np.float64]
Index = NDArray[np.intp]

BOUND_SLACK = 1e-6
"""Relative slack of the one-component rejection test."""


@numba.njit(cache=True)
def _geometry(x: Array, site: Array, rot: Array, out: Array) -> None:
    """``out = [e, n, u, rho, range]`` of the ECEF position ``x[:3]`` in the sensor's ENU."""
    dx, dy, dz = x[0] - site[0], x[1] - site[1], x[2] - site[2]
    e = rot[0, 0] * dx + rot[0, 1] * dy + rot[0, 2] * dz
    n = rot[1, 0] * dx + rot[1, 1] * dy + rot[1, 2] * dz
    u = rot[2, 0] * dx + rot[2, 1] * dy + rot[2, 2] * dz
    rho = math.hypot(e, n)
    out[0], out[1], out[2], out[3], out[4] = e, n, u, rho, math.sqrt(rho * rho + u * u)


@numba.njit(cache=True)
def _residual(layout: int, a: int, z: Array, x: Array, geo: Array) -> float:
    """Innovation of position component ``a`` (radar range, azimuth wrapped, elevation; an
    ADS-B axis) of the state ``x`` whose :func:`_geometry` is ``geo``."""
    if layout != RADAR:
        return float(z[a] - x[a])
    if a == 0:
        return float(z[0] - geo[4])
    if a == 1:
        ya = z[1] - math.atan2(geo[0], geo[1]) % TWO_PI
        return float((ya + math.pi) % TWO_PI - math.pi)
    return float(z[2] - math.atan2(geo[2], geo[3]))


@numba.njit(cache=True)
def _outside(
    layout: int, code: int, xc: Array, xm: Array, c: Array, P0: Array, B: Array, qs: Array,
    dt: float, z: Array, R: Array, site: Array, rot: Array, gate: float, geo: Array,
    hp: Array, g: Array,
) -> bool:
    """True when, for the combined prediction ``xc`` and for every model's ``xm[j]`` (with more
    than one model), one position component alone puts the pair outside ``gate`` (module
    docstring): range, azimuth or elevation of a radar plot, an ECEF axis of an ADS-B
    position, tried in that order. ``B (r, 3, 3)`` holds the models' transition blocks;
    ``geo (r + 1, 5)``, ``hp (3,)``, ``g (6,)`` are scratch space."""
    r = xm.shape[0]
    ad = abs(dt)
    combined_out = False
    models_out = 0 if r > 1 else (1 << r) - 1  # bit j: model j's gate rejects the pair
    if layout == RADAR:
        _geometry(xc, site, rot, geo[r])
        for j in range(r if r > 1 else 0):
            _geometry(xm[j], site, rot, geo[j])
    e, n, u, rho, rng = geo[r, 0], geo[r, 1], geo[r, 2], geo[r, 3], geo[r, 4]
    for a in range(3):
        if not (code >> a) & 1:
            continue
        if layout == RADAR:  # rows of the ENU Jacobian (measurement.py), rotated to ECEF
            if a == 0:
                he, hn, hu = e / rng, n / rng, u / rng
            elif a == 1:
                he, hn, hu = n / rho**2, -e / rho**2, 0.0
            else:
                he, hn, hu = -e * u / (rng**2 * rho), -n * u / (rng**2 * rho), rho / rng**2
            for b in range(3):
                hp[b] = he * rot[0, b] + hn * rot[1, b] + hu * rot[2, b]
        else:
            for b in range(3):
                hp[b] = 1.0 if a == b else 0.0
        hp2 = hp[0] * hp[0] + hp[1] * hp[1] + hp[2] * hp[2]
        var = R[a, a]
        for j in range(r):
            for b in range(3):  # g = F^T h_a = [h_p, B^T h_p]
                g[b] = hp[b]
                g[3 + b] = B[j, 0, b] * hp[0] + B[j, 1, b] * hp[1] + B[j, 2, b] * hp[2]
            quad = qs[j] * ad**3 / 3.0 * hp2
            for b in range(6):
                acc = 0.0
                for t in range(6):
                    acc += P0[j, b, t] * g[t]
                quad += g[b] * acc
            spread = 0.0
            for b in range(3):
                spread += hp[b] * (xm[j, b] - xc[b])
            var += c[j] * (quad + spread * spread)
            if not (models_out >> j) & 1:
                yj = _residual(layout, a, z, xm[j], geo[j])
                if yj * yj > gate * (R[a, a] + quad) * (1.0 + BOUND_SLACK):
                    models_out |= 1 << j
        ya = _residual(layout, a, z, xc, geo[r])
        if ya * ya > gate * var * (1.0 + BOUND_SLACK):
            combined_out = True
        if combined_out and models_out == (1 << r) - 1:
            return True
    return False


@numba.njit(cache=True)
def _model_distance(
    layout: int, code: int, x: Array, P: Array, z: Array, H: Array, Rs: Array, m: int,
    site: Array, rot: Array, work: Array, y: Array, S: Array, L: Array, u: Array,
) -> tuple[float, float]:
    """``d2`` and ``log det S`` of the model prediction ``x``, ``P`` linearised with the
    combined prediction's ``H`` (``inf`` when ``S`` is not positive definite)."""
    h = work[0, 0]
    h_full(layout, x, site, rot, h, work[1], work[2])
    k = 0
    for a in range(FULL_SIZE[layout]):
        if (code >> a) & 1:
            d = z[a] - h[a]
            if layout == RADAR and a == 1:
                d = (d + math.pi) % TWO_PI - math.pi
            y[k] = d
            k += 1
    innovation_covariance(P, H, Rs, m, work[3], S)
    if not cholesky(S, m, L):
        return math.inf, 0.0
    return mahalanobis(L, m, y, u)


@numba.njit(cache=True)
def imm_ekf_gate(
    layout: int, x: Array, P: Array, mu: Array, track: Index, plot: Index, dt: Array,
    omegas: Array, qs: Array, sojourn: Array, code: NDArray[np.int64], z: Array, R: Array,
    site: Array, rot: Array, gates: Array,
) -> tuple[Index, Array, Array, Array, Array, Array, Array]:
    """IMM prediction of ``track[k]`` over ``dt[k]`` (s) and EKF chi-square gate against
    ``plot[k]``, for the candidate pairs ``k`` (module docstring).

    ``x (N, r, 6)``, ``P``, ``mu`` are the tracks' ECEF model estimates and mode
    probabilities; ``omegas``, ``qs`` ``(r,)`` the models' turn rates (rad/s) and noise
    densities (m^2/s^3), ``sojourn = [tau_cv, tau_turn]`` (s); ``code``, ``z``, ``R`` the plots'
    group codes, full measurement vectors and noise covariances; ``site``, ``rot`` the
    sensor's ECEF position and ECEF-to-ENU rotation; ``gates[m]`` the gate for ``m``
    components. Returns, for the gated pairs only (in input order): their indices ``k``, the
    model predictions ``(n, r, 6)``, ``(n, r, 6, 6)``, the predicted mode probabilities
    ``(n, r)``, and ``d2``, ``log det S`` and the gate of the combined prediction (of the
    model with the smallest ``d2 + log det S`` among those whose own gate holds the plot, when
    the combined one does not). A prediction whose ``S`` is not positive definite does not
    gate.
    """
    K, r = len(track), x.shape[1]
    keep = np.empty(K, np.intp)
    xp = np.empty((K, r, 6))
    Pp = np.empty((K, r, 6, 6))
    c = np.empty((K, r))
    d2 = np.empty(K)
    logdet = np.empty(K)
    gate = np.empty(K)
    x0 = np.empty((r, 6))
    P0 = np.empty((r, 6, 6))
    w = np.empty(r)
    Pi = np.empty((r, r))
    B = np.empty((r, 3, 3))
    Rm = np.empty((r, 3, 3))
    E = np.empty((3, 3))
    xc = np.empty(6)
    Pc = np.empty((6, 6))
    work, y, u, H, S, Rs, L = scratch()
    ym = np.empty(6)
    geo = np.empty((r + 1, 5))
    n = 0
    for k in range(K):
        j = plot[k]
        mix(x, P, mu, track[k], dt[k], sojourn, x0, P0, c[n], w, Pi)
        for mdl in range(r):
            transition(x0[mdl], dt[k], omegas[mdl], B[mdl], Rm[mdl])
            predict_mean(x0[mdl], B[mdl], Rm[mdl], xp[n, mdl])
        combine_mean(xp[n], c[n], xc)
        m = 0
        for a in range(FULL_SIZE[layout]):
            m += (code[j] >> a) & 1
        g = gates[m]
        if _outside(layout, code[j], xc, xp[n], c[n], P0, B, qs, dt[k], z[j], R[j], site, rot,
                    g, geo, u, y):
            continue
        for mdl in range(r):
            predict_cov(P0[mdl], B[mdl], Rm[mdl], qs[mdl], dt[k], E, Pp[n, mdl])
        combine_cov(xp[n], Pp[n], c[n], xc, Pc)
        select(layout, code[j], xc, Pc, z[j], R[j], site, rot, work, y, H, S, Rs)
        dd, ld = math.inf, 0.0
        if cholesky(S, m, L):
            dd, ld = mahalanobis(L, m, y, u)
        for mdl in range(r if not dd < g and r > 1 else 0):  # the best model's own gate
            dm, lm = _model_distance(layout, code[j], xp[n, mdl], Pp[n, mdl], z[j], H, Rs, m,
                                     site, rot, work, ym, S, L, u)
            if dm < g and (not dd < g or dm + lm < dd + ld):
                dd, ld = dm, lm
        if not dd < g:
            continue
        keep[n] = k
        d2[n] = dd
        logdet[n] = ld
        gate[n] = g
        n += 1
    return keep[:n], xp[:n], Pp[:n], c[:n], d2[:n], logdet[:n], gate[:n]
