"""Vectorised geodesy over pymap3d: WGS84 geodetic, ECEF, local ENU and AER frames.

All functions take and return NumPy arrays, in radians and metres (the core's units):

- geodetic ``(..., 3)``: latitude (rad), longitude (rad, wrapped to ``[-pi, pi)``), height above
  the WGS84 ellipsoid (m);
- ECEF ``(..., 3)``: x, y, z (m);
- ENU ``(..., 3)``: east, north, up (m or m/s) about a reference point;
- AER ``(..., 3)``: azimuth (rad, clockwise from north, in ``[0, 2 pi)``), elevation (rad),
  slant range (m).

The transformations are pymap3d's; what is ours is the stacking, the wrapping, and the radar
horizon / line-of-sight model over the ellipsoid with k-factor (4/3-earth) refraction.
"""

from __future__ import annotations

from typing import Annotated

import numpy as np
import pymap3d
from numpy.typing import ArrayLike, NDArray

Array = NDArray[np.float64]
Metres = Annotated[Array, "m"]
Radians = Annotated[Array, "rad"]

WGS84 = pymap3d.Ellipsoid.from_name("wgs84")
FOUR_THIRDS = 4.0 / 3.0
"""Standard atmosphere effective-earth factor for radar propagation."""

TWO_PI = 2.0 * np.pi


def _cols(a: ArrayLike) -> tuple[Array, Array, Array]:
    arr = np.asarray(a, dtype=np.float64)
    if arr.shape[-1:] != (3,):
        raise ValueError(f"expected an array of shape (..., 3), got {arr.shape}")
    return arr[..., 0], arr[..., 1], arr[..., 2]


def _stack(a: object, b: object, c: object) -> Array:
    return np.stack(np.broadcast_arrays(a, b, c), axis=-1).astype(np.float64, copy=False)


def wrap_lon(lon: ArrayLike) -> Array:
    """Wrap longitudes (rad) into ``[-pi, pi)``: the antimeridian is an ordinary place."""
    return (np.asarray(lon, dtype=np.float64) + np.pi) % TWO_PI - np.pi


def wrap_angle(angle: ArrayLike) -> Array:
    """Wrap angle differences (rad) into ``[-pi, pi)``."""
    return wrap_lon(angle)


def geodetic2ecef(llh: ArrayLike) -> Metres:
    """Geodetic ``(..., 3)`` [lat rad, lon rad, h m] to ECEF ``(..., 3)`` metres."""
    lat, lon, h = _cols(llh)
    return _stack(*pymap3d.geodetic2ecef(lat, lon, h, WGS84, deg=False))


def ecef2geodetic(xyz: ArrayLike) -> Array:
    """ECEF ``(..., 3)`` metres to geodetic ``(..., 3)`` [lat rad, lon rad, h m]."""
    x, y, z = _cols(xyz)
    lat, lon, h = pymap3d.ecef2geodetic(x, y, z, WGS84, deg=False)
    return _stack(lat, wrap_lon(lon), h)


def ecef2enu(xyz: ArrayLike, ref_llh: ArrayLike) -> Metres:
    """ECEF points ``(..., 3)`` to ENU ``(..., 3)`` about ``ref_llh`` (geodetic, broadcastable)."""
    x, y, z = _cols(xyz)
    lat0, lon0, h0 = _cols(ref_llh)
    return _stack(*pymap3d.ecef2enu(x, y, z, lat0, lon0, h0, WGS84, deg=False))


def enu2ecef(enu: ArrayLike, ref_llh: ArrayLike) -> Metres:
    """ENU points ``(..., 3)`` about ``ref_llh`` to ECEF ``(..., 3)``."""
    e, n, u = _cols(enu)
    lat0, lon0, h0 = _cols(ref_llh)
    return _stack(*pymap3d.enu2ecef(e, n, u, lat0, lon0, h0, WGS84, deg=False))


def ecef2aer(xyz: ArrayLike, ref_llh: ArrayLike) -> Array:
    """ECEF points to [azimuth rad, elevation rad, slant range m] seen from ``ref_llh``."""
    x, y, z = _cols(xyz)
    lat0, lon0, h0 = _cols(ref_llh)
    az, el, rng = pymap3d.ecef2aer(x, y, z, lat0, lon0, h0, WGS84, deg=False)
    return _stack(np.mod(az, TWO_PI), el, rng)


def aer2ecef(aer: ArrayLike, ref_llh: ArrayLike) -> Metres:
    """[azimuth rad, elevation rad, slant range m] seen from ``ref_llh`` to ECEF points."""
    az, el, rng = _cols(aer)
    lat0, lon0, h0 = _cols(ref_llh)
    return _stack(*pymap3d.aer2ecef(az, el, rng, lat0, lon0, h0, WGS84, deg=False))


def enu2ecefv(enu: ArrayLike, ref_ll: ArrayLike) -> Array:
    """Rotate ENU vectors (e.g. velocities) ``(..., 3)`` at ``ref_ll`` [lat, lon] into ECEF."""
    e, n, u = _cols(enu)
    ref = np.asarray(ref_ll, dtype=np.float64)
    return _stack(*pymap3d.enu2uvw(e, n, u, ref[..., 0], ref[..., 1], deg=False))


def ecef2enuv(uvw: ArrayLike, ref_ll: ArrayLike) -> Array:
    """Rotate ECEF vectors ``(..., 3)`` into ENU at ``ref_ll`` [lat, lon]."""
    u, v, w = _cols(uvw)
    ref = np.asarray(ref_ll, dtype=np.float64)
    return _stack(*pymap3d.uvw2enu(u, v, w, ref[..., 0], ref[..., 1], deg=False))


def ecef2enu_rotation(ref_ll: ArrayLike) -> Array:
    """Rotation matrices ``(..., 3, 3)`` taking ECEF vectors to ENU at ``ref_ll`` [lat, lon].

    ``R @ v_ecef = v_enu``; the transpose takes ENU to ECEF (e.g. ``C_ecef = R.T @ C_enu @ R``).
    """
    ref = np.asarray(ref_ll, dtype=np.float64)
    lat, lon = ref[..., 0], ref[..., 1]
    rows = [
        _stack(*pymap3d.uvw2enu(*basis, lat, lon, deg=False))
        for basis in ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0))
    ]
    # rows[j] is the ENU image of ECEF unit vector j: it is column j of the rotation.
    return np.stack(rows, axis=-1)


def up_vectors(lat: ArrayLike, lon: ArrayLike) -> Array:
    """Unit ellipsoid normals ``(..., 3)`` in ECEF at geodetic ``lat``, ``lon`` (rad)."""
    return _stack(*pymap3d.enu2uvw(0.0, 0.0, 1.0, lat, lon, deg=False))


def mean_earth_radius(lat: ArrayLike) -> Metres:
    """Gaussian mean radius of curvature ``sqrt(M N)`` of WGS84 at ``lat`` (rad), metres."""
    lat_arr = np.asarray(lat, dtype=np.float64)
    m = pymap3d.rcurve.meridian(lat_arr, WGS84, deg=False)
    n = pymap3d.rcurve.transverse(lat_arr, WGS84, deg=False)
    return np.sqrt(np.asarray(m) * np.asarray(n))


def radar_horizon_range(
    sensor_height: ArrayLike, target_height: ArrayLike, k: float = FOUR_THIRDS, lat: float = 0.0
) -> Metres:
    """Largest slant range (m) at which a target at ``target_height`` is above the horizon.

    Tangent-ray distances over an effective earth of radius ``k * R`` (R the mean radius of
    curvature at ``lat``): ``sqrt(2 k R hs + hs^2) + sqrt(2 k R ht + ht^2)``.
    """
    kr = k * mean_earth_radius(lat)
    hs = np.maximum(np.asarray(sensor_height, dtype=np.float64), 0.0)
    ht = np.maximum(np.asarray(target_height, dtype=np.float64), 0.0)
    return np.sqrt(2.0 * kr * hs + hs**2) + np.sqrt(2.0 * kr * ht + ht**2)


def effective_elevation(
    sensor_llh: ArrayLike, target_llh: ArrayLike, k: float = FOUR_THIRDS
) -> Radians:
    """Elevation (rad) of targets above the sensor's horizon over a k-factor effective earth.

    The earth is replaced by a sphere of radius ``k R`` (R the mean radius of curvature at the
    sensor) on which rays are straight. With central angle ``theta`` between the sensor and the
    target normals, ``a = kR + hs`` and ``b = kR + ht``, the elevation of the target is
    ``atan2(cos(theta / k) - a / b, sin(theta / k))``. With ``k = 1`` this is the geometric
    elevation over the sphere; refraction (``k = 4/3``) lifts distant targets.
    """
    s = np.asarray(sensor_llh, dtype=np.float64)
    t = np.asarray(target_llh, dtype=np.float64)
    n_s = up_vectors(s[..., 0], s[..., 1])
    n_t = up_vectors(t[..., 0], t[..., 1])
    cos_theta = np.clip(np.sum(n_s * n_t, axis=-1), -1.0, 1.0)
    theta = np.arccos(cos_theta)
    kr = k * mean_earth_radius(s[..., 0])
    a = kr + s[..., 2]
    b = kr + t[..., 2]
    theta_k = theta / k
    return np.arctan2(np.cos(theta_k) - a / b, np.sin(theta_k))


def line_of_sight(
    sensor_llh: ArrayLike,
    target_llh: ArrayLike,
    k: float = FOUR_THIRDS,
    min_elevation: float | ArrayLike = 0.0,
) -> NDArray[np.bool_]:
    """True where a target is visible from the sensor: refracted elevation >= ``min_elevation``.

    Uses :func:`effective_elevation`; a target exactly at the horizon (elevation 0) is visible
    when ``min_elevation`` is 0.
    """
    return np.asarray(effective_elevation(sensor_llh, target_llh, k) >= min_elevation)
