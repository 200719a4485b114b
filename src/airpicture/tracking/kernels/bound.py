"""Compiled one-component bound of the IMM chi-square gate: which predictions of a (track,
plot) pair a single position component puts outside the gate, from the mixed means alone.

For a measured component ``a`` whose Jacobian row ``h_a = [h_p, 0]`` has no velocity part (a
radar range, azimuth or elevation; an ADS-B position axis), the innovation ``y_a`` and the
exact variance ``S_aa = h_a Pc h_a^T + R_aa`` of the combined prediction need no predicted or
mixed covariance matrix::

    h_a Pc h_a^T = sum_j c_j (q_j |dt|^3 |h_p|^2 / 3 + (h_p . (x_j - xc))^2
                              + sum_m w_mj (g_j^T P_m g_j + (g_j . (x_m - x0_j))^2)),
    g_j = F_j^T h_a^T = [h_p, B_j^T h_p],
    g^T P_m g = h_p^T A_m h_p + 2 h_p^T C_m b + b^T D_m b,   b = B_j^T h_p

(``P_m = [[A_m, C_m], [C_m^T, D_m]]`` the track's model covariances, ``w_mj`` the mixing
weights and ``x0_j`` the mixed means of :func:`.imm.mix`, ``x_j`` the predicted means, ``xc``
the combined one, ``h_a`` taken at ``xc``); a model's own ``S_aa`` is the term of ``j`` without
its weight and spread, with the innovation of its own predicted measurement. Since
``y^T S^-1 y >= y_a^2 / S_aa`` for every component (Cauchy-Schwarz), a prediction with
``y_a^2 > G S_aa`` is outside its gate whatever the other components say (a relative slack of
:data:`BOUND_SLACK` keeps rounding from rejecting a pair at the gate's edge).
"""

from __future__ import annotations

import math

import numba
import numpy as np
from numpy.typing import NDArray

from airpicture.tracking.kernels.ekf import RADAR

Array = NDArray[np.float64]

BOUND_SLACK = 1e-6
"""Relative slack of the one-component rejection test."""


@numba.njit(cache=True, inline="always")
def geometry(x: Array, site: Array, rot: Array, out: Array) -> None:
    """``out = [e, n, u, rho, range]`` of the ECEF position ``x[:3]`` in the sensor's ENU."""
    dx, dy, dz = x[0] - site[0], x[1] - site[1], x[2] - site[2]
    e = rot[0, 0] * dx + rot[0, 1] * dy + rot[0, 2] * dz
    n = rot[1, 0] * dx + rot[1, 1] * dy + rot[1, 2] * dz
    u = rot[2, 0] * dx + rot[2, 1] * dy + rot[2, 2] * dz
    rho2 = e * e + n * n
    out[0], out[1], out[2], out[3], out[4] = e, n, u, math.sqrt(rho2), math.sqrt(rho2 + u * u)


@numba.njit(cache=True, inline="always")
def residual(layout: int, a: int, z: Array, az: Array, x: Array, geo: Array) -> float:
    """``|y_a|`` of position component ``a`` (radar range, azimuth wrapped to [0, pi],
    elevation; an ADS-B axis) of the state ``x`` whose :func:`geometry` is ``geo``;
    ``az = [sin, cos]`` of the plot's azimuth."""
    if layout != RADAR:
        return abs(float(z[a] - x[a]))
    if a == 0:
        return abs(float(z[0] - geo[4]))
    if a == 1:  # the angle between the plot's azimuth and the state's, in [0, pi]
        return math.atan2(abs(az[0] * geo[1] - az[1] * geo[0]), az[1] * geo[1] + az[0] * geo[0])
    return abs(float(z[2] - math.atan2(geo[2], geo[3])))


@numba.njit(cache=True, inline="always")
def _row(layout: int, a: int, geo: Array, rot: Array, hp: Array) -> None:
    """Position part ``hp (3,)`` (ECEF) of the Jacobian row of component ``a`` at ``geo``."""
    if layout != RADAR:
        for b in range(3):
            hp[b] = 1.0 if a == b else 0.0
        return
    e, n, u, rho, rng = geo[0], geo[1], geo[2], geo[3], geo[4]
    if a == 0:  # rows of the ENU Jacobian (measurement.py), rotated to ECEF
        he, hn, hu = e / rng, n / rng, u / rng
    elif a == 1:
        he, hn, hu = n / rho**2, -e / rho**2, 0.0
    else:
        he, hn, hu = -e * u / (rng**2 * rho), -n * u / (rng**2 * rho), rho / rng**2
    for b in range(3):
        hp[b] = he * rot[0, b] + hn * rot[1, b] + hu * rot[2, b]


@numba.njit(cache=True, inline="always")
def outside(
    layout: int, code: int, x: Array, P: Array, i: int, W: Array, x0: Array, xm: Array,
    xc: Array, c: Array, B: Array, qs: Array, dt: float, z: Array, az: Array, R: Array,
    site: Array, rot: Array, gate: float, geo: Array, tmp: Array,
) -> int:
    """Which predictions of track ``i`` one position component alone puts outside ``gate``
    (module docstring): bit ``j`` for model ``j``'s predicted mean ``xm[j]``, bit ``r`` for
    the combined ``xc`` (with one model, its bit is set whenever the combined one is). Radar
    range, azimuth and elevation, or the ECEF axes of an ADS-B position, are tried in that
    order until every prediction is out.

    ``x (N, r, 6)``, ``P`` are the tracks' model estimates; ``W``, ``x0``, ``c`` from
    :func:`.imm.mix_means`; ``B (r, 3, 3)`` the models' transition blocks over ``dt`` (s), ``qs``
    their noise densities; ``z``, ``R`` the plot and its noise, ``az = [sin, cos]`` of its
    azimuth. ``geo (r + 1, 5)`` and ``tmp (r + 1, 6)`` are scratch space.
    """
    r = xm.shape[0]
    ad3 = abs(dt) ** 3 / 3.0
    combined_out = False
    models_out = 0 if r > 1 else (1 << r) - 1
    if layout == RADAR:
        geometry(xc, site, rot, geo[r])
        for j in range(r if r > 1 else 0):
            geometry(xm[j], site, rot, geo[j])
    hp, b = tmp[r, :3], tmp[r, 3:]
    for a in range(3):
        if not (code >> a) & 1:
            continue
        _row(layout, a, geo[r], rot, hp)
        hp2 = hp[0] * hp[0] + hp[1] * hp[1] + hp[2] * hp[2]
        for m in range(r):  # tmp[m] = [A_m h_p, C_m^T h_p]
            for t in range(3):
                acc_a = acc_c = 0.0
                for s in range(3):
                    acc_a += P[i, m, t, s] * hp[s]
                    acc_c += P[i, m, s, 3 + t] * hp[s]
                tmp[m, t], tmp[m, 3 + t] = acc_a, acc_c
        var = R[a, a]
        for j in range(r):
            if combined_out and (models_out >> j) & 1:  # no longer needed
                continue
            for t in range(3):
                b[t] = B[j, 0, t] * hp[0] + B[j, 1, t] * hp[1] + B[j, 2, t] * hp[2]
            quad = qs[j] * ad3 * hp2
            for m in range(r):
                wm = W[m, j]
                if wm == 0.0:  # as mix(): a turn never feeds another
                    continue
                gpg = gd = 0.0
                for t in range(3):
                    db = (P[i, m, 3 + t, 3] * b[0] + P[i, m, 3 + t, 4] * b[1]
                          + P[i, m, 3 + t, 5] * b[2])
                    gpg += hp[t] * tmp[m, t] + b[t] * (2.0 * tmp[m, 3 + t] + db)
                    gd += hp[t] * (x[i, m, t] - x0[j, t]) + b[t] * (x[i, m, 3 + t] - x0[j, 3 + t])
                quad += wm * (gpg + gd * gd)
            spread = 0.0
            for t in range(3):
                spread += hp[t] * (xm[j, t] - xc[t])
            var += c[j] * (quad + spread * spread)
            if not (models_out >> j) & 1:
                yj = residual(layout, a, z, az, xm[j], geo[j])
                if yj * yj > gate * (R[a, a] + quad) * (1.0 + BOUND_SLACK):
                    models_out |= 1 << j
        if not combined_out:
            ya = residual(layout, a, z, az, xc, geo[r])
            combined_out = ya * ya > gate * var * (1.0 + BOUND_SLACK)
        if combined_out and models_out == (1 << r) - 1:
            break
    return models_out | (1 << r) if combined_out else models_out
