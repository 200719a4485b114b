"""Compiled WGS84 conversions for the hot paths (simulator steps, tracker measurement models).

The same conventions as :mod:`airpicture.geo` (radians, metres, ECEF, local east/north/up):
geodetic to ECEF with velocities, ENU vectors to ECEF, and ECEF to geodetic by Heikkinen's
closed form (no iteration). Each object's sines and cosines are computed once for its
position and all its vectors. ``tests/core/test_geo_kernels.py`` checks every kernel against
pymap3d.
"""

from __future__ import annotations

import math

import numba
import numpy as np
import pymap3d
from numpy.typing import NDArray

F64 = NDArray[np.float64]

_WGS84 = pymap3d.Ellipsoid.from_name("wgs84")
A = float(_WGS84.semimajor_axis)
"""WGS84 semi-major axis (m)."""
F = float(_WGS84.flattening)
"""WGS84 flattening."""
B = A * (1.0 - F)
E2 = F * (2.0 - F)
"""First eccentricity squared."""
EP2 = (A * A - B * B) / (B * B)
"""Second eccentricity squared."""


@numba.njit(cache=True, nogil=True)
def _geodetic_state(llh: F64, vel_enu: F64, pos: F64, vel: F64) -> None:
    for i in range(llh.shape[0]):
        slat, clat = math.sin(llh[i, 0]), math.cos(llh[i, 0])
        slon, clon = math.sin(llh[i, 1]), math.cos(llh[i, 1])
        n = A / math.sqrt(1.0 - E2 * slat * slat)
        pos[i, 0] = (n + llh[i, 2]) * clat * clon
        pos[i, 1] = (n + llh[i, 2]) * clat * slon
        pos[i, 2] = (n * (1.0 - E2) + llh[i, 2]) * slat
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


@numba.njit(cache=True, nogil=True)
def _ecef_to_geodetic(xyz: F64, out: F64) -> None:
    """Heikkinen (1982) in Zhu's (1993) form; exact on and off the ellipsoid."""
    a2, b2 = A * A, B * B
    for i in range(xyz.shape[0]):
        x, y, z = xyz[i, 0], xyz[i, 1], xyz[i, 2]
        p = math.hypot(x, y)
        zz = z * z
        ff = 54.0 * b2 * zz
        g = p * p + (1.0 - E2) * zz - E2 * (a2 - b2)
        c = E2 * E2 * ff * p * p / (g * g * g)
        s = np.cbrt(1.0 + c + math.sqrt(c * c + 2.0 * c))
        k = s + 1.0 + 1.0 / s
        pp = ff / (3.0 * k * k * g * g)
        q = math.sqrt(1.0 + 2.0 * E2 * E2 * pp)
        r0 = (-pp * E2 * p / (1.0 + q)
              + math.sqrt(max(0.5 * a2 * (1.0 + 1.0 / q)
                              - pp * (1.0 - E2) * zz / (q * (1.0 + q)) - 0.5 * pp * p * p, 0.0)))
        d = p - E2 * r0
        u = math.sqrt(d * d + zz)
        v = math.sqrt(d * d + (1.0 - E2) * zz)
        z0 = b2 * z / (A * v)
        out[i, 0] = math.atan2(z + EP2 * z0, p)
        out[i, 1] = math.atan2(y, x)
        out[i, 2] = u * (1.0 - b2 / (A * v))


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


def ecef_to_geodetic(xyz: F64) -> F64:
    """ECEF ``(..., 3)`` (m) to geodetic ``(..., 3)`` [lat rad, lon rad in ``[-pi, pi]``,
    h m]. Not defined within ~40 km of the earth's centre (no air object is there)."""
    flat = np.ascontiguousarray(np.asarray(xyz, np.float64).reshape(-1, 3))
    out = np.empty_like(flat)
    _ecef_to_geodetic(flat, out)
    return out.reshape(np.shape(xyz))
