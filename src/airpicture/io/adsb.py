"""ADS-B reports to plot rows: WGS84 position and velocity to ECEF, quality to sigmas.

Shared by the CAT021, Beast/Mode S and SBS decoders. An ADS-B plot (see
:mod:`airpicture.plot_table`) has ``z = [x, y, z, vx, vy, vz]`` in ECEF (m, m/s; velocity NaN
when not reported) and ``sigma`` along local east, north, up.

Sigmas from the DO-260B quality indicators: NACp gives the 95 % horizontal position bound EPU,
and ``sigma_h = EPU / 2.448`` (the 95 % radius of a circular Gaussian); NACv gives the 95 %
horizontal velocity bound HFOMr and ``sigma_v = HFOMr / 2.448``. Vertical sigmas are fixed
defaults (geometric height 15 m, barometric 30 m; vertical rate 1.5 m/s). Unknown quality
(NACp 0 or absent) falls back to ``DEFAULT_SIGMA_H``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from airpicture import geo
from airpicture.io.asterix_common import NM

R95 = 2.448
EPU_M = np.array(
    [np.nan, 10 * NM, 4 * NM, 2 * NM, 1 * NM, 0.5 * NM, 0.3 * NM, 0.1 * NM, 0.05 * NM, 30.0,
     10.0, 3.0, np.nan, np.nan, np.nan, np.nan]
)
"""95 % horizontal position bound by NACp 0..11 (m); NaN for unknown or reserved."""
HFOM_MS = np.array([np.nan, 10.0, 3.0, 1.0, 0.3, np.nan, np.nan, np.nan])
"""95 % horizontal velocity bound by NACv 0..4 (m/s)."""
DEFAULT_SIGMA_H = 150.0
DEFAULT_SIGMA_V = 5.0
SIGMA_UP_GEOMETRIC = 15.0
SIGMA_UP_BARO = 30.0
SIGMA_VRATE = 1.5


def sigma_from_nacp(nacp: ArrayLike) -> NDArray[np.float64]:
    """One-sigma horizontal position noise (m) per NACp (-1 or 0: the default)."""
    n = np.asarray(nacp, dtype=np.int64)
    epu = EPU_M[np.clip(n, 0, 15)]
    return np.where(np.isnan(epu), DEFAULT_SIGMA_H, epu / R95)


def sigma_from_nacv(nacv: ArrayLike) -> NDArray[np.float64]:
    """One-sigma horizontal velocity noise (m/s) per NACv (-1 or 0: the default)."""
    n = np.asarray(nacv, dtype=np.int64)
    hfom = HFOM_MS[np.clip(n, 0, 7)]
    return np.where(np.isnan(hfom), DEFAULT_SIGMA_V, hfom / R95)


def adsb_z_sigma(
    lat_deg: ArrayLike,
    lon_deg: ArrayLike,
    height_m: ArrayLike,
    gs_ms: ArrayLike,
    track_deg: ArrayLike,
    vrate_ms: ArrayLike,
    nacp: ArrayLike,
    nacv: ArrayLike,
    geometric: ArrayLike = True,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """``z (N, 6)`` ECEF position and velocity and ``sigma (N, 6)`` along E, N, U.

    ``height_m`` is above the WGS84 ellipsoid (or a barometric stand-in where ``geometric``
    is false, which widens the vertical sigma). Velocity is NaN where ``gs_ms`` is NaN; a
    missing vertical rate is taken as zero with a widened sigma.
    """
    lat = np.deg2rad(np.asarray(lat_deg, dtype=np.float64))
    lon = np.deg2rad(np.asarray(lon_deg, dtype=np.float64))
    h = np.asarray(height_m, dtype=np.float64)
    n = lat.shape[0]
    z = np.full((n, 6), np.nan)
    sigma = np.full((n, 6), np.nan)
    z[:, :3] = geo.geodetic2ecef(np.stack([lat, lon, h], axis=-1))
    gs = np.broadcast_to(np.asarray(gs_ms, dtype=np.float64), (n,))
    trk = np.deg2rad(np.broadcast_to(np.asarray(track_deg, dtype=np.float64), (n,)))
    vr = np.broadcast_to(np.asarray(vrate_ms, dtype=np.float64), (n,))
    enu = np.stack([gs * np.sin(trk), gs * np.cos(trk), np.nan_to_num(vr)], axis=-1)
    z[:, 3:] = geo.enu2ecefv(enu, np.stack([lat, lon], axis=-1))
    has_v = ~np.isnan(gs) & ~np.isnan(trk)
    z[~has_v, 3:] = np.nan
    sh = sigma_from_nacp(nacp)
    sv = sigma_from_nacv(nacv)
    geometric_a = np.broadcast_to(np.asarray(geometric, dtype=bool), (n,))
    sigma[:, 0] = sh
    sigma[:, 1] = sh
    sigma[:, 2] = np.where(geometric_a, SIGMA_UP_GEOMETRIC, SIGMA_UP_BARO)
    sigma[:, 3] = np.where(has_v, sv, np.nan)
    sigma[:, 4] = np.where(has_v, sv, np.nan)
    sigma[:, 5] = np.where(has_v, np.where(np.isnan(vr), 3 * SIGMA_VRATE, SIGMA_VRATE), np.nan)
    return z, sigma
