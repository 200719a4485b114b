"""One fused pass over (sensor, object) pairs: where the object is at its sample instant, how
the site sees it, and whether it can.

For each pair: the object's ECEF state at ``time + tau`` (``p + v tau + a tau^2 / 2``), its
height (start-of-step height plus the displacement along the local normal), the ENU vector
from the site (rotation matrices precomputed with pymap3d), azimuth/elevation/range from it,
and the 4/3-earth visibility of :func:`airpicture.geo.line_of_sight` and
:func:`airpicture.geo.refracted_elevation` with the site's range limits, sector and elevation
mask. Numba-compiled: the NumPy path of ``airpicture.geo`` does the same in ~40 passes over
the pairs; ``tests/scenario/test_pair_geometry.py`` checks the two agree.
"""

from __future__ import annotations

import math

import numba
import numpy as np
from numpy.typing import NDArray

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
TWO_PI = 2.0 * math.pi


@numba.njit(cache=True, nogil=True, inline="always")
def _sample(
    i: int, s: int, o: int, t: float, position: F64, velocity: F64, acceleration: F64,
    up: F64, height0: F64, site_ecef: F64, site_rotation: F64, site_height: F64,
    site_radius: F64, site_k: F64, site_max_range: F64, site_min_range: F64,
    site_min_elevation: F64, site_sector: F64, p: F64, v: F64, aer: F64, h: F64,
) -> bool:
    """Fill row ``i`` of ``p, v, aer, h`` for site ``s`` and object ``o`` at offset ``t``;
    return the visibility."""
    dh = 0.0
    d0 = d1 = d2 = 0.0
    for k in range(3):
        pk = position[o, k] + velocity[o, k] * t + 0.5 * acceleration[o, k] * t * t
        p[i, k] = pk
        v[i, k] = velocity[o, k] + acceleration[o, k] * t
        dh += (pk - position[o, k]) * up[o, k]
        dk = pk - site_ecef[s, k]
        if k == 0:
            d0 = dk
        elif k == 1:
            d1 = dk
        else:
            d2 = dk
    h[i] = height0[o] + dh
    rot = site_rotation[s]
    e = rot[0, 0] * d0 + rot[0, 1] * d1 + rot[0, 2] * d2
    nn = rot[1, 0] * d0 + rot[1, 1] * d1 + rot[1, 2] * d2
    u = rot[2, 0] * d0 + rot[2, 1] * d1 + rot[2, 2] * d2
    horizontal = math.hypot(e, nn)
    r = math.sqrt(horizontal * horizontal + u * u)
    az = math.atan2(e, nn) % TWO_PI
    aer[i, 0] = az
    aer[i, 1] = math.atan2(u, horizontal)
    aer[i, 2] = r
    if not site_min_range[s] <= r <= site_max_range[s]:
        return False
    lo = site_sector[s, 0]
    if not math.isnan(lo) and (az - lo) % TWO_PI > (site_sector[s, 1] - lo) % TWO_PI:
        return False
    kr = site_k[s] * site_radius[s]
    a = kr + site_height[s]
    b = kr + h[i]
    rr = max(r, 1e-3)
    el_s = math.asin(min(1.0, max(-1.0, (b * b - a * a - rr * rr) / (2.0 * rr * a))))
    el_t = math.asin(min(1.0, max(-1.0, (a * a - b * b - rr * rr) / (2.0 * rr * b))))
    clear = el_s >= 0.0 or el_t >= 0.0 or a * math.cos(el_s) >= kr
    return bool(clear and el_s >= site_min_elevation[s])


@numba.njit(cache=True, nogil=True)
def pair_geometry(
    sensor: I64, obj: I64, tau: F64, position: F64, velocity: F64, acceleration: F64,
    up: F64, height0: F64, site_ecef: F64, site_rotation: F64, site_height: F64,
    site_radius: F64, site_k: F64, site_max_range: F64, site_min_range: F64,
    site_min_elevation: F64, site_sector: F64,
) -> tuple[F64, F64, F64, F64, NDArray[np.bool_]]:
    """Returns positions ``(n, 3)``, velocities ``(n, 3)``, AER ``(n, 3)`` [az rad in
    ``[0, 2 pi)``, geometric elevation rad, slant range m], heights ``(n,)`` (m) and the
    visibility mask ``(n,)`` of every pair."""
    n = len(obj)
    p = np.empty((n, 3))
    v = np.empty((n, 3))
    aer = np.empty((n, 3))
    h = np.empty(n)
    ok = np.empty(n, np.bool_)
    for i in range(n):
        ok[i] = _sample(i, sensor[i], obj[i], tau[i], position, velocity, acceleration, up,
                        height0, site_ecef, site_rotation, site_height, site_radius, site_k,
                        site_max_range, site_min_range, site_min_elevation, site_sector,
                        p, v, aer, h)
    return p, v, aer, h, ok


@numba.njit(cache=True, nogil=True)
def first_visible(
    group: I64, n_groups: int, candidate: NDArray[np.bool_], sensor: I64, obj: I64, tau: F64,
    position: F64, velocity: F64, acceleration: F64, up: F64, height0: F64, site_ecef: F64,
    site_rotation: F64, site_height: F64, site_radius: F64, site_k: F64,
    site_max_range: F64, site_min_range: F64, site_min_elevation: F64, site_sector: F64,
) -> NDArray[np.int64]:
    """Indices of the first visible candidate pair of each ``group`` (pairs in order of
    preference); later pairs of a satisfied group are skipped without computing them."""
    n = len(obj)
    out = np.empty(n, np.int64)
    m = 0
    p = np.empty((1, 3))
    v = np.empty((1, 3))
    aer = np.empty((1, 3))
    h = np.empty(1)
    done = np.zeros(n_groups, np.bool_)
    for i in range(n):
        g = group[i]
        if done[g] or not candidate[i]:
            continue
        if _sample(0, sensor[i], obj[i], tau[i], position, velocity, acceleration, up,
                   height0, site_ecef, site_rotation, site_height, site_radius, site_k,
                   site_max_range, site_min_range, site_min_elevation, site_sector,
                   p, v, aer, h):
            out[m] = i
            m += 1
            done[g] = True
    return out[:m]
