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
        o = obj[i]
        s = sensor[i]
        t = tau[i]
        dh = 0.0
        d = np.empty(3)
        for k in range(3):
            pk = position[o, k] + velocity[o, k] * t + 0.5 * acceleration[o, k] * t * t
            p[i, k] = pk
            v[i, k] = velocity[o, k] + acceleration[o, k] * t
            dh += (pk - position[o, k]) * up[o, k]
            d[k] = pk - site_ecef[s, k]
        h[i] = height0[o] + dh
        e = site_rotation[s, 0, 0] * d[0] + site_rotation[s, 0, 1] * d[1] + \
            site_rotation[s, 0, 2] * d[2]
        nn = site_rotation[s, 1, 0] * d[0] + site_rotation[s, 1, 1] * d[1] + \
            site_rotation[s, 1, 2] * d[2]
        u = site_rotation[s, 2, 0] * d[0] + site_rotation[s, 2, 1] * d[1] + \
            site_rotation[s, 2, 2] * d[2]
        horizontal = math.hypot(e, nn)
        r = math.sqrt(horizontal * horizontal + u * u)
        az = math.atan2(e, nn) % TWO_PI
        aer[i, 0] = az
        aer[i, 1] = math.atan2(u, horizontal)
        aer[i, 2] = r
        visible = site_min_range[s] <= r <= site_max_range[s]
        lo = site_sector[s, 0]
        if visible and not math.isnan(lo):
            width = (site_sector[s, 1] - lo) % TWO_PI
            visible = (az - lo) % TWO_PI <= width
        if visible:
            kr = site_k[s] * site_radius[s]
            a = kr + site_height[s]
            b = kr + h[i]
            rr = max(r, 1e-3)
            el_s = math.asin(min(1.0, max(-1.0, (b * b - a * a - rr * rr) / (2.0 * rr * a))))
            el_t = math.asin(min(1.0, max(-1.0, (a * a - b * b - rr * rr) / (2.0 * rr * b))))
            clear = el_s >= 0.0 or el_t >= 0.0 or a * math.cos(el_s) >= kr
            visible = clear and el_s >= site_min_elevation[s]
        ok[i] = visible
    return p, v, aer, h, ok
