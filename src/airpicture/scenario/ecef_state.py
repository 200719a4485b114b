"""Objects' geodetic states to ECEF in one compiled pass (the simulator's per-step hot path).

The same WGS84 formulas as :func:`airpicture.geo.geodetic2ecef` and
:func:`airpicture.geo.enu2ecefv` (pymap3d's), with the sines and cosines of each object's
latitude and longitude computed once for its position and all its vectors.
``tests/scenario/test_ecef_state.py`` checks the two agree.
"""

from __future__ import annotations

import math

import numba
import numpy as np
from numpy.typing import NDArray

from airpicture.geo import WGS84

F64 = NDArray[np.float64]

_A = float(WGS84.semimajor_axis)
_B = float(WGS84.semiminor_axis)
_E2 = 1.0 - (_B / _A) ** 2


@numba.njit(cache=True, nogil=True)
def _geodetic_state(llh: F64, vel_enu: F64, pos: F64, vel: F64) -> None:
    for i in range(llh.shape[0]):
        slat, clat = math.sin(llh[i, 0]), math.cos(llh[i, 0])
        slon, clon = math.sin(llh[i, 1]), math.cos(llh[i, 1])
        n = _A / math.sqrt(1.0 - _E2 * slat * slat)
        pos[i, 0] = (n + llh[i, 2]) * clat * clon
        pos[i, 1] = (n + llh[i, 2]) * clat * slon
        pos[i, 2] = (n * (_B / _A) ** 2 + llh[i, 2]) * slat
        e, no, u = vel_enu[i, 0], vel_enu[i, 1], vel_enu[i, 2]
        t = clat * u - slat * no
        vel[i, 0] = clon * t - slon * e
        vel[i, 1] = slon * t + clon * e
        vel[i, 2] = slat * u + clat * no


@numba.njit(cache=True, nogil=True)
def _enu_to_ecef(vectors: F64, lat: F64, lon: F64, out: F64) -> None:
    for i in range(vectors.shape[0]):
        slat, clat = math.sin(lat[i]), math.cos(lat[i])
        slon, clon = math.sin(lon[i]), math.cos(lon[i])
        for j in range(vectors.shape[1]):
            e, no, u = vectors[i, j, 0], vectors[i, j, 1], vectors[i, j, 2]
            t = clat * u - slat * no
            out[i, j, 0] = clon * t - slon * e
            out[i, j, 1] = slon * t + clon * e
            out[i, j, 2] = slat * u + clat * no


def geodetic_state(llh: F64, vel_enu: F64) -> tuple[F64, F64]:
    """ECEF positions (m) and velocities (m/s), ``(n, 3)`` each, of objects at geodetic
    ``llh`` ``(n, 3)`` [lat rad, lon rad, h m] moving at ``vel_enu`` ``(n, 3)`` (m/s along
    their local east, north, up)."""
    pos = np.empty((len(llh), 3))
    vel = np.empty((len(llh), 3))
    _geodetic_state(np.ascontiguousarray(llh, np.float64),
                    np.ascontiguousarray(vel_enu, np.float64), pos, vel)
    return pos, vel


def enu_to_ecef(vectors: F64, lat_lon: F64) -> F64:
    """Rotate ``(n, k, 3)`` vectors given along each row's local east, north, up at
    ``lat_lon`` ``(n, 2)`` (rad) into ECEF ``(n, k, 3)``."""
    out = np.empty_like(vectors, dtype=np.float64)
    _enu_to_ecef(np.ascontiguousarray(vectors, np.float64),
                 np.ascontiguousarray(lat_lon[:, 0]), np.ascontiguousarray(lat_lon[:, 1]), out)
    return out
