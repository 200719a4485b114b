"""Measurement models: predicted plots ``h(x)`` and their Jacobians, batched over pairs.

Each sensor kind has a full measurement vector (the components a plot of that kind can carry);
a plot uses the subset it actually holds (``cols``), so that e.g. a radar plot without
range-rate or an ADS-B report without velocity is a smaller measurement of the same model.

=====  ============================================  =====================================
kind   full vector                                   frame
=====  ============================================  =====================================
radar  range (m), azimuth (rad), elevation (rad),     sensor ENU: ``enu = C (p - s)``
       range-rate (m/s); elevation is NaN for 2-D
       radars (then range, azimuth, [range-rate])
ssr    range (m), azimuth (rad), height (m)           sensor ENU; height above the ellipsoid
                                                      from the plot's barometric altitude
adsb   x, y, z (m), vx, vy, vz (m/s)                  ECEF, linear
esm    azimuth (rad), elevation (rad)                 sensor ENU
=====  ============================================  =====================================

Azimuth is clockwise from north, ``atan2(e, n)``; elevation ``atan2(u, sqrt(e^2 + n^2))``;
range-rate ``enu . venu / |enu|``. ``C (K, 3, 3)`` rotates ECEF vectors into the sensor's ENU
frame and ``s (K, 3)`` is the sensor's ECEF position. The Jacobian of the height above the
ellipsoid with respect to the ECEF position is the ellipsoid normal at the point.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from airpicture import geo
from airpicture.messages import SensorKind

Array = NDArray[np.float64]

FULL_SIZE: dict[SensorKind, int] = {
    SensorKind.RADAR: 4,
    SensorKind.SSR: 3,
    SensorKind.ADSB: 6,
    SensorKind.ESM: 2,
}
"""Length of the full measurement vector of each kind."""

ANGLES: dict[SensorKind, tuple[int, ...]] = {
    SensorKind.RADAR: (1,),
    SensorKind.SSR: (1,),
    SensorKind.ADSB: (),
    SensorKind.ESM: (0,),
}
"""Components (of the full vector) that are azimuths and wrap at 2 pi."""

REQUIRED: dict[SensorKind, tuple[int, ...]] = {
    SensorKind.RADAR: (0, 1),
    SensorKind.SSR: (0, 1),
    SensorKind.ADSB: (0, 1, 2),
    SensorKind.ESM: (0,),
}
"""Components (of the full vector) a valid plot must carry (2-D radars have no elevation)."""

DEFAULT_HEIGHT_M = 6000.0
"""Height (m) assumed where a plot has none (SSR without Mode C, 2-D radar) for its position."""
DEFAULT_HEIGHT_SIGMA_M = 6000.0
"""One-sigma (m) of :data:`DEFAULT_HEIGHT_M`: covers the surface to the upper airspace."""


def _enu(x: Array, site: Array, rot: Array) -> tuple[Array, Array]:
    rel = np.einsum("kab,kb->ka", rot, x[:, :3] - site)
    vel = np.einsum("kab,kb->ka", rot, x[:, 3:])
    return rel, vel


def _angles(rel: Array) -> tuple[Array, Array, Array, Array]:
    e, n, u = rel[:, 0], rel[:, 1], rel[:, 2]
    rho = np.hypot(e, n)
    rng = np.sqrt(rho**2 + u**2)
    return np.mod(np.arctan2(e, n), geo.TWO_PI), np.arctan2(u, rho), rng, rho


def _height(x: Array) -> tuple[Array, Array]:
    llh = geo.ecef2geodetic(x[:, :3])
    return llh[:, 2], geo.up_vectors(llh[:, 0], llh[:, 1])


def predict(kind: SensorKind, x: Array, site: Array, rot: Array) -> Array:
    """Full predicted measurement ``(K, FULL_SIZE[kind])`` of ECEF states ``x (K, 6)``."""
    if kind is SensorKind.ADSB:
        return x.copy()
    rel, vel = _enu(x, site, rot)
    az, el, rng, _ = _angles(rel)
    if kind is SensorKind.ESM:
        return np.stack([az, el], axis=1)
    if kind is SensorKind.SSR:
        return np.stack([rng, az, _height(x)[0]], axis=1)
    rr = np.einsum("ka,ka->k", rel, vel) / rng
    return np.stack([rng, az, el, rr], axis=1)


def jacobian(kind: SensorKind, x: Array, site: Array, rot: Array) -> Array:
    """Jacobian ``H (K, FULL_SIZE[kind], 6)`` of :func:`predict` at ``x (K, 6)``."""
    K = len(x)
    if kind is SensorKind.ADSB:
        return np.broadcast_to(np.eye(6), (K, 6, 6)).copy()
    rel, vel = _enu(x, site, rot)
    _, _, rng, rho = _angles(rel)
    e, n, u = rel[:, 0], rel[:, 1], rel[:, 2]
    rows: list[Array] = []  # each (K, 6) in ENU coordinates of [rel, vel]
    zero = np.zeros(K)
    d_rng = np.stack([e / rng, n / rng, u / rng, zero, zero, zero], axis=1)
    d_az = np.stack([n / rho**2, -e / rho**2, zero, zero, zero, zero], axis=1)
    d_el = np.stack(
        [-e * u / (rng**2 * rho), -n * u / (rng**2 * rho), rho / rng**2, zero, zero, zero],
        axis=1,
    )
    if kind is SensorKind.ESM:
        rows = [d_az, d_el]
    elif kind is SensorKind.SSR:
        rows = [d_rng, d_az]
    else:
        rr = np.einsum("ka,ka->k", rel, vel) / rng
        d_rr = np.concatenate([vel / rng[:, None] - rr[:, None] * rel / rng[:, None] ** 2,
                               rel / rng[:, None]], axis=1)
        rows = [d_rng, d_az, d_el, d_rr]
    H_enu = np.stack(rows, axis=1)
    H = np.empty((K, len(rows), 6))
    H[:, :, :3] = H_enu[:, :, :3] @ rot
    H[:, :, 3:] = H_enu[:, :, 3:] @ rot
    if kind is SensorKind.SSR:
        _, up = _height(x)
        height_row = np.concatenate([up, np.zeros((K, 3))], axis=1)
        H = np.concatenate([H, height_row[:, None, :]], axis=1)
    return H


def plot_vector(
    kind: SensorKind, z: Array, sigma: Array, baro_alt: Array, baro_sigma: float
) -> tuple[Array, Array]:
    """Full measurement vectors and one-sigma noises ``(M, FULL_SIZE[kind])`` of plot rows.

    ``z``, ``sigma`` are the plot table's ``(M, 6)`` columns; SSR height comes from
    ``baro_alt (M,)`` with noise ``baro_sigma`` (m). Missing components are NaN.
    """
    m = FULL_SIZE[kind]
    if kind is not SensorKind.SSR:
        return z[:, :m].copy(), sigma[:, :m].copy()
    zz = np.concatenate([z[:, :2], baro_alt[:, None]], axis=1)
    ss = np.concatenate([sigma[:, :2], np.full((len(z), 1), baro_sigma)], axis=1)
    return zz, ss


def noise_covariance(kind: SensorKind, z: Array, sigma: Array) -> Array:
    """Full measurement noise ``R (M, m, m)`` from one-sigma noises ``sigma (M, m)``.

    For ADS-B the sigmas are along local east/north/up at the reported position and are
    rotated into ECEF: ``R = C^T diag(sigma^2) C`` per 3-block. Missing (NaN) components get
    unit variance; they are never selected.
    """
    var = np.where(np.isfinite(sigma), sigma, 1.0) ** 2
    R = np.zeros((len(z), var.shape[1], var.shape[1]))
    idx = np.arange(var.shape[1])
    R[:, idx, idx] = var
    if kind is SensorKind.ADSB:
        llh = geo.ecef2geodetic(z[:, :3])
        C = geo.ecef2enu_rotation(llh[:, :2])
        Ct = C.transpose(0, 2, 1)
        R[:, :3, :3] = Ct @ R[:, :3, :3] @ C
        R[:, 3:, 3:] = Ct @ R[:, 3:, 3:] @ C
    return R


def plot_position(
    kind: SensorKind, zf: Array, sf: Array, site: Array, rot: Array, site_height: Array
) -> tuple[Array, Array]:
    """Approximate ECEF position ``(M, 3)`` and its covariance ``(M, 3, 3)`` of plots.

    Inverts the position part of the measurement: radar from range/azimuth/elevation (2-D
    radar plots, without elevation, at :data:`DEFAULT_HEIGHT_M` with its sigma); SSR with the
    elevation that puts the plot at its barometric height over a spherical earth (0 and a
    0.1 rad sigma when the height is missing); ADS-B directly. ESM has no position (NaN).
    """
    M = len(zf)
    if kind is SensorKind.ADSB:
        R = noise_covariance(kind, zf, sf)
        return zf[:, :3].copy(), R[:, :3, :3]
    if kind is SensorKind.ESM:
        return np.full((M, 3), np.nan), np.full((M, 3, 3), np.nan)
    rng, az, el, s_rng, s_az, s_el = _spherical(kind, zf, sf, site_height)
    ce, se, ca, sa = np.cos(el), np.sin(el), np.cos(az), np.sin(az)
    J = np.stack(
        [
            np.stack([ce * sa, rng * ce * ca, -rng * se * sa], axis=1),
            np.stack([ce * ca, -rng * ce * sa, -rng * se * ca], axis=1),
            np.stack([se, np.zeros(M), rng * ce], axis=1),
        ],
        axis=1,
    )
    D = np.zeros((M, 3, 3))
    D[:, 0, 0], D[:, 1, 1], D[:, 2, 2] = s_rng**2, s_az**2, s_el**2
    C_enu = J @ D @ J.transpose(0, 2, 1)
    rt = rot.transpose(0, 2, 1)
    return _ecef(site, rot, rng, az, el), rt @ C_enu @ rot


def plot_spread(
    kind: SensorKind, zf: Array, sf: Array, R: Array, site: Array, rot: Array,
    site_height: float,
) -> tuple[Array, Array]:
    """ECEF positions ``(M, 3)`` of radar, SSR or ADS-B plots, as :func:`plot_position`, and
    the traces ``(M,)`` (m^2) of their position covariances, without forming those.

    ``sf`` are the plots' sigmas and ``R`` the round's noise covariance
    (:func:`noise_covariance`; for ADS-B its position block is the plot's covariance). A
    rotation keeps the trace, so for radar and SSR it is that of the spherical-to-ENU
    Jacobian's image, ``s_r^2 + (r cos(el) s_az)^2 + (r s_el)^2``.
    """
    if kind is SensorKind.ADSB:
        return zf[:, :3], np.trace(R[:, :3, :3], axis1=1, axis2=2)
    rng, az, el, s_rng, s_az, s_el = _spherical(kind, zf, sf, np.full(len(zf), site_height))
    trace = s_rng**2 + (rng * np.cos(el) * s_az) ** 2 + (rng * s_el) ** 2
    return _ecef(site, rot, rng, az, el), trace


def _spherical(
    kind: SensorKind, zf: Array, sf: Array, site_height: Array
) -> tuple[Array, Array, Array, Array, Array, Array]:
    """Range, azimuth, elevation and their sigmas of radar or SSR plots (:func:`plot_position`
    for the elevation of plots without one)."""
    M = len(zf)
    rng, az = zf[:, 0], zf[:, 1]
    s_rng, s_az = sf[:, 0], sf[:, 1]
    if kind is SensorKind.RADAR and np.isfinite(zf[:, 2]).all():
        return rng, az, zf[:, 2], s_rng, s_az, sf[:, 2]
    has = np.isfinite(zf[:, 2])
    if kind is SensorKind.RADAR:  # 2-D radar plots: elevation from an assumed height
        el_h, s_el_h = _elevation_from_height(rng, np.full(M, DEFAULT_HEIGHT_M),
                                              np.full(M, DEFAULT_HEIGHT_SIGMA_M), site_height)
        return rng, az, np.where(has, zf[:, 2], el_h), s_rng, s_az, np.where(has, sf[:, 2],
                                                                             s_el_h)
    el_h, s_el_h = _elevation_from_height(rng, np.where(has, zf[:, 2], 0.0), sf[:, 2],
                                          site_height)
    return rng, az, np.where(has, el_h, 0.0), s_rng, s_az, np.where(has, s_el_h, 0.1)


def _ecef(site: Array, rot: Array, rng: Array, az: Array, el: Array) -> Array:
    """ECEF positions ``(M, 3)`` of range/azimuth/elevation seen from ``site`` (``(3,)`` or
    ``(M, 3)``) with the ECEF-to-ENU rotation ``rot`` (``(3, 3)`` or ``(M, 3, 3)``)."""
    ce = np.cos(el)
    enu = rng[:, None] * np.stack([ce * np.sin(az), ce * np.cos(az), np.sin(el)], axis=1)
    return np.asarray(site + np.einsum("...ba,...b->...a", rot, enu), np.float64)


def _elevation_from_height(
    rng: Array, height: Array, s_height: Array, site_height: Array
) -> tuple[Array, Array]:
    """Elevation (rad) and its sigma of points at slant range ``rng`` and ``height`` (m).

    Spherical earth: the elevation that puts a point ``rng`` away from a site at
    ``site_height`` at ``height``; the height sigma maps to ``s_height / (rng cos el)``.
    """
    earth = geo.mean_earth_radius(0.0)
    a = earth + site_height
    b = earth + height
    sin_el = np.clip((b**2 - a**2 - rng**2) / (2.0 * rng * a), -1.0, 1.0)
    el = np.arcsin(sin_el)
    cos_el = np.maximum(np.cos(el), 1e-6)
    return el, s_height / np.maximum(rng * cos_el, 1.0)
