"""Vectorised geodesy over pymap3d: WGS84 geodetic, ECEF, local ENU and AER frames.

All functions take and return NumPy arrays, in radians and metres (the core's units):

- geodetic ``(..., 3)``: latitude (rad), longitude (rad, wrapped to ``[-pi, pi)``), height above
  the WGS84 ellipsoid (m);
- ECEF ``(..., 3)``: x, y, z (m);
- ENU ``(..., 3)``: east, north, up (m or m/s) about a reference point;
- AER ``(..., 3)``: azimuth (rad, clockwise from north, in ``[0, 2 pi)``), elevation (rad),
  slant range (m).

The transformations are pymap3d's, except ECEF to geodetic and the ENU rotation matrices, which
are ours (closed forms in :mod:`airpicture.geo_kernels`, checked against pymap3d); also ours
are the stacking, the wrapping, and the radar horizon / line-of-sight model over the ellipsoid
with k-factor (4/3-earth) refraction.
"""

from __future__ import annotations

from typing import Annotated

import numpy as np
import pymap3d
import pymap3d.vincenty
from numpy.typing import ArrayLike, NDArray

from airpicture.geo_kernels import ecef_to_geodetic

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


def _stack(a: ArrayLike, b: ArrayLike, c: ArrayLike) -> Array:
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
    out = ecef_to_geodetic(np.asarray(_stack(*_cols(xyz))))
    out[..., 1] = wrap_lon(out[..., 1])
    return out


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
    slat, clat = np.sin(ref[..., 0]), np.cos(ref[..., 0])
    slon, clon = np.sin(ref[..., 1]), np.cos(ref[..., 1])
    rot = np.empty((*ref.shape[:-1], 3, 3))
    rot[..., 0, :] = _stack(-slon, clon, 0.0)  # east
    rot[..., 1, :] = _stack(-slat * clon, -slat * slon, clat)  # north
    rot[..., 2, :] = _stack(clat * clon, clat * slon, slat)  # up
    return rot


def up_vectors(lat: ArrayLike, lon: ArrayLike) -> Array:
    """Unit ellipsoid normals ``(..., 3)`` in ECEF at geodetic ``lat``, ``lon`` (rad)."""
    return _stack(*pymap3d.enu2uvw(0.0, 0.0, 1.0, lat, lon, deg=False))


def mean_earth_radius(lat: ArrayLike) -> Metres:
    """Gaussian mean radius of curvature ``sqrt(M N)`` of WGS84 at ``lat`` (rad), metres."""
    lat_arr = np.asarray(lat, dtype=np.float64)
    m = pymap3d.rcurve.meridian(lat_arr, WGS84, deg=False)
    n = pymap3d.rcurve.transverse(lat_arr, WGS84, deg=False)
    return np.asarray(np.sqrt(np.asarray(m) * np.asarray(n)), dtype=np.float64)


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
    return np.asarray(np.sqrt(2.0 * kr * hs + hs**2) + np.sqrt(2.0 * kr * ht + ht**2))


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
    return np.asarray(np.arctan2(np.cos(theta_k) - a / b, np.sin(theta_k)), dtype=np.float64)


def bearing_distance(from_ll: ArrayLike, to_ll: ArrayLike) -> tuple[Radians, Metres]:
    """Initial bearing (rad, clockwise from north) and ground distance (m) between points.

    ``from_ll`` and ``to_ll`` are ``(..., 2)`` [lat, lon] (rad), broadcastable. The bearing is
    the azimuth of the chord in the local ENU frame (pymap3d), which on the ellipsoid is the
    normal-section azimuth (within a few hundredths of a degree of the geodesic's); the
    distance is the chord turned into an arc on the mean radius of curvature at ``from_ll``.
    """
    a = np.asarray(from_ll, dtype=np.float64)
    b = np.asarray(to_ll, dtype=np.float64)
    az, _el, chord = pymap3d.geodetic2aer(
        b[..., 0], b[..., 1], 0.0, a[..., 0], a[..., 1], 0.0, WGS84, deg=False
    )
    radius = mean_earth_radius(a[..., 0])
    arc = 2.0 * radius * np.arcsin(np.clip(np.asarray(chord) / (2.0 * radius), 0.0, 1.0))
    return np.mod(np.asarray(az), TWO_PI), arc


def great_circle_points(from_ll: ArrayLike, to_ll: ArrayLike, fraction: ArrayLike) -> Array:
    """Points ``(..., 2)`` [lat, lon] (rad) at ``fraction`` of the way along great circles.

    Spherical interpolation of the n-vectors (pymap3d) of the end points; ``fraction`` 0 gives
    ``from_ll`` and 1 gives ``to_ll``. Crossing the antimeridian needs no special case.
    """
    a = np.asarray(from_ll, dtype=np.float64)
    b = np.asarray(to_ll, dtype=np.float64)
    f = np.asarray(fraction, dtype=np.float64)
    na = _stack(*pymap3d.geodetic2nvector(a[..., 0], a[..., 1], deg=False))
    nb = _stack(*pymap3d.geodetic2nvector(b[..., 0], b[..., 1], deg=False))
    omega = np.arccos(np.clip(np.sum(na * nb, axis=-1), -1.0, 1.0))
    sin_omega = np.where(omega > 1e-12, np.sin(omega), 1.0)
    wa = np.where(omega > 1e-12, np.sin((1.0 - f) * omega) / sin_omega, 1.0 - f)
    wb = np.where(omega > 1e-12, np.sin(f * omega) / sin_omega, f)
    n = wa[..., None] * na + wb[..., None] * nb
    n /= np.linalg.norm(n, axis=-1, keepdims=True)
    lat, lon = pymap3d.nvector2geodetic(n[..., 0], n[..., 1], n[..., 2], deg=False)
    return _stack(lat, wrap_lon(lon), 0.0)[..., :2]


def destination_points(from_ll: ArrayLike, bearing: ArrayLike, distance: ArrayLike) -> Array:
    """Points ``(..., 2)`` [lat, lon] (rad) reached after ``distance`` m along geodesics.

    Vincenty's direct problem (pymap3d); a negative distance goes the reverse bearing.
    """
    a = np.asarray(from_ll, dtype=np.float64)
    lat0, lon0, d, b = (np.array(x, dtype=np.float64) for x in np.broadcast_arrays(
        a[..., 0], a[..., 1], distance, bearing))
    b = np.mod(np.where(d < 0.0, b + np.pi, b), TWO_PI)
    lat, lon = pymap3d.vincenty.vreckon(lat0, lon0, np.maximum(np.abs(d), 1e-3), b, WGS84,
                                        deg=False)
    return _stack(np.reshape(lat, d.shape), wrap_lon(np.reshape(lon, d.shape)), 0.0)[..., :2]


def refracted_elevation(
    slant_range: ArrayLike,
    sensor_height: ArrayLike,
    target_height: ArrayLike,
    earth_radius: ArrayLike,
    k: ArrayLike = FOUR_THIRDS,
) -> Radians:
    """Elevation (rad) over a k-factor effective earth from heights and slant range.

    The same model as :func:`effective_elevation`, solved from the triangle (earth centre,
    sensor, target) on a sphere of radius ``k R``:
    ``sin(el) = ((kR + ht)^2 - (kR + hs)^2 - r^2) / (2 r (kR + hs))``. It needs no angles, so
    it is the cheap form for many (sensor, target) pairs.
    """
    r = np.maximum(np.asarray(slant_range, dtype=np.float64), 1e-3)
    kr = np.asarray(k) * np.asarray(earth_radius)
    a = kr + np.asarray(sensor_height)
    b = kr + np.asarray(target_height)
    return np.asarray(np.arcsin(np.clip((b * b - a * a - r * r) / (2.0 * r * a), -1.0, 1.0)))


def enu2aer(enu: ArrayLike) -> Array:
    """ENU vectors ``(..., 3)`` to [azimuth rad in ``[0, 2 pi)``, elevation rad, range m]."""
    e, n, u = _cols(enu)
    az, el, rng = pymap3d.enu2aer(e, n, u, deg=False)
    return _stack(np.mod(az, TWO_PI), el, rng)


def bearing_distance_ecef(
    from_ecef: ArrayLike, from_ll: ArrayLike, to_ecef: ArrayLike
) -> tuple[Radians, Metres]:
    """:func:`bearing_distance` for points already in ECEF (``from_ll`` [lat, lon] of the
    origins): the chord is rotated into the origin's ENU frame by pymap3d."""
    d = np.asarray(to_ecef, dtype=np.float64) - np.asarray(from_ecef, dtype=np.float64)
    ll = np.asarray(from_ll, dtype=np.float64)
    e, n, _u = pymap3d.uvw2enu(d[..., 0], d[..., 1], d[..., 2], ll[..., 0], ll[..., 1],
                               deg=False)
    chord = np.linalg.norm(d, axis=-1)
    radius = mean_earth_radius(ll[..., 0])
    arc = 2.0 * radius * np.arcsin(np.clip(chord / (2.0 * radius), 0.0, 1.0))
    return np.mod(np.arctan2(e, n), TWO_PI), arc


def line_of_sight(
    slant_range: ArrayLike,
    sensor_height: ArrayLike,
    target_height: ArrayLike,
    earth_radius: ArrayLike,
    k: ArrayLike = FOUR_THIRDS,
) -> NDArray[np.bool_]:
    """True where the straight ray over a k-factor effective earth clears the surface.

    On the effective sphere of radius ``kR`` the distance from the centre along the segment is
    smallest at an end point unless both ends look down at each other; then it is
    ``(kR + hs) cos(el_s)``. So the path is clear when either end's elevation to the other is
    non-negative, or that closest distance is at least ``kR``. This holds for ground, airborne
    and space-borne sensors alike; a site's own elevation mask is applied separately.
    """
    el_s = refracted_elevation(slant_range, sensor_height, target_height, earth_radius, k)
    el_t = refracted_elevation(slant_range, target_height, sensor_height, earth_radius, k)
    kr = np.asarray(k) * np.asarray(earth_radius)
    closest = (kr + np.asarray(sensor_height)) * np.cos(el_s)
    return np.asarray((el_s >= 0.0) | (el_t >= 0.0) | (closest >= kr))
