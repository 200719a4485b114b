"""The compiled WGS84 conversions of geo_kernels against pymap3d (through geo)."""

from __future__ import annotations

import numpy as np
import pymap3d

from airpicture import geo
from airpicture.geo_kernels import A, B, ecef_to_geodetic, enu_to_ecef, geodetic_state


def _states(n: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    lat = np.concatenate([rng.uniform(-np.pi / 2, np.pi / 2, n - 4),
                          [np.pi / 2, -np.pi / 2, 0.0, 0.0]])
    lon = np.concatenate([rng.uniform(-np.pi, np.pi, n - 4), [0.0, 1.0, np.pi, -np.pi]])
    h = np.concatenate([rng.uniform(-100.0, 40_000.0, n - 4), [0.0, 780e3, 35_786e3, 10.0]])
    return np.stack([lat, lon, h], axis=1), rng.normal(0.0, 300.0, (n, 3))


def test_positions_and_velocities_equal_pymap3d() -> None:
    llh, vel = _states(5000)
    pos, v = geodetic_state(llh, vel)
    # Poles, equator, antimeridian (both signs), GEO height: sub-micrometre, 1e-9 m/s.
    assert np.max(np.abs(pos - geo.geodetic2ecef(llh))) < 1e-6
    assert np.max(np.abs(v - geo.enu2ecefv(vel, llh[:, :2]))) < 1e-9


def test_enu_vectors_rotate_as_pymap3d_and_keep_their_length() -> None:
    llh, vel = _states(1000)
    vectors = np.stack([vel, 0.01 * vel[::-1]], axis=1)
    out = enu_to_ecef(vectors, llh[:, :2])
    ref = geo.enu2ecefv(vectors, llh[:, None, :2])
    assert np.max(np.abs(out - ref)) < 1e-9
    assert np.allclose(np.linalg.norm(out, axis=2), np.linalg.norm(vectors, axis=2), rtol=1e-12)


def test_ecef_to_geodetic_inverts_the_forward_conversion_everywhere() -> None:
    llh, _ = _states(20000)
    back = ecef_to_geodetic(geo.geodetic2ecef(llh))
    pole = np.abs(llh[:, 0]) > np.pi / 2 - 1e-9
    # Exact to rounding from 100 m below the ellipsoid to GEO, poles and antimeridian included
    # (pymap3d's own inverse is good to ~1e-6 rad and 1e-5 m over the same points).
    assert np.max(np.abs(back[:, 0] - llh[:, 0])) < 1e-14
    assert np.max(np.abs(back[:, 2] - llh[:, 2])) < 1e-7
    assert np.max(np.abs(geo.wrap_angle(back[~pole, 1] - llh[~pole, 1]))) < 1e-14
    ref = pymap3d.ecef2geodetic(*geo.geodetic2ecef(llh).T, deg=False)
    assert np.max(np.abs(back[:, 2] - ref[2])) < 1e-4


def test_ellipsoid_constants_are_wgs84() -> None:
    assert A == geo.WGS84.semimajor_axis
    assert abs(B - geo.WGS84.semiminor_axis) < 1e-8
