"""Geodesy: round trips at poles, equator, antimeridian and altitude; horizon and line of sight."""

from __future__ import annotations

import numpy as np
import pymap3d.vincenty
import pytest

from airpicture import geo

CASES_DEG = [
    (0.0, 0.0, 0.0),
    (0.0, 180.0, 0.0),
    (0.0, -179.999999, 10_000.0),
    (89.9999, 45.0, 0.0),
    (-89.9999, -120.0, 500.0),
    (90.0, 0.0, 1_000.0),
    (-90.0, 0.0, 0.0),
    (35.55, 139.78, 12_000.0),
    (-33.95, 151.18, 780_000.0),
    (13.48, 144.8, -100.0),
    (-17.75, 177.44, 36_000_000.0),
]


def _llh(cases: list[tuple[float, float, float]]) -> np.ndarray:
    a = np.array(cases, dtype=float)
    return np.stack([np.radians(a[:, 0]), np.radians(a[:, 1]), a[:, 2]], axis=1)


def test_geodetic_ecef_round_trip_is_sub_millimetre() -> None:
    llh = _llh(CASES_DEG)
    back = geo.ecef2geodetic(geo.geodetic2ecef(llh))
    ecef = geo.geodetic2ecef(llh)
    pos_err = np.linalg.norm(geo.geodetic2ecef(back) - ecef, axis=1)
    near = llh[:, 2] <= 100e3
    assert pos_err[near].max() < 1e-6  # sub-micrometre up to 100 km
    # pymap3d's inverse is approximate far out: 1.7 mm at 780 km, 6.7 m at 36,000 km.
    assert (pos_err[~near] / np.linalg.norm(ecef[~near], axis=1)).max() < 2e-7
    assert np.abs(back[:, 2] - llh[:, 2]).max() < 1e-6
    not_pole = np.abs(np.abs(llh[:, 0]) - np.pi / 2) > 1e-9
    assert np.abs(geo.wrap_angle(back[not_pole, 1] - llh[not_pole, 1])).max() < 1e-9


def test_equator_and_pole_ecef_values() -> None:
    ecef = geo.geodetic2ecef(_llh([(0, 0, 0), (90, 0, 0), (0, 90, 1000)]))
    np.testing.assert_allclose(ecef[0], [6378137.0, 0, 0], atol=1e-6)
    np.testing.assert_allclose(ecef[1], [0, 0, 6356752.314245], atol=1e-3)
    np.testing.assert_allclose(ecef[2], [0, 6379137.0, 0], atol=1e-6)


def test_longitude_wraps_across_the_antimeridian() -> None:
    out = geo.ecef2geodetic(geo.geodetic2ecef(_llh([(0, 180, 0), (0, -180, 0), (0, 179.5, 0)])))
    assert np.all(out[:, 1] >= -np.pi) and np.all(out[:, 1] < np.pi)
    np.testing.assert_allclose(geo.wrap_lon(np.radians([181.0, -181.0, 540.0])),
                               np.radians([-179.0, 179.0, -180.0]))


def test_enu_and_aer_round_trips_about_a_site_across_the_antimeridian() -> None:
    rng = np.random.default_rng(3)
    site = _llh([(-17.75, 179.99, 20.0)])[0]
    pts = np.column_stack([rng.uniform(-4e5, 4e5, 200), rng.uniform(-4e5, 4e5, 200),
                           rng.uniform(0, 15e3, 200)])
    ecef = geo.enu2ecef(pts, site)
    np.testing.assert_allclose(geo.ecef2enu(ecef, site), pts, atol=1e-6)
    aer = geo.ecef2aer(ecef, site)
    np.testing.assert_allclose(geo.aer2ecef(aer, site), ecef, atol=1e-6)
    assert np.all((aer[:, 0] >= 0) & (aer[:, 0] < 2 * np.pi))


def test_rotation_matrices_match_pymap3d_vector_rotation() -> None:
    rng = np.random.default_rng(4)
    ll = np.column_stack([rng.uniform(-1.5, 1.5, 50), rng.uniform(-np.pi, np.pi, 50)])
    v = rng.normal(size=(50, 3))
    rot = geo.ecef2enu_rotation(ll)
    np.testing.assert_allclose(np.einsum("nij,nj->ni", rot, v), geo.ecef2enuv(v, ll), atol=1e-12)
    np.testing.assert_allclose(np.einsum("nij,nik->njk", rot, rot), np.broadcast_to(np.eye(3),
                               (50, 3, 3)), atol=1e-12)


def test_bearing_distance_agrees_with_vincenty_and_ecef_form() -> None:
    a = np.radians([[35.5533, 139.7811], [-17.7554, 177.4431], [14.5086, 121.0194]])
    b = np.radians([[-33.9461, 151.1772], [-13.8300, -172.0083], [13.4834, 144.7961]])
    brg, dist = geo.bearing_distance(a, b)
    ref_d, ref_az = pymap3d.vincenty.vdist(np.degrees(a[:, 0]), np.degrees(a[:, 1]),
                                           np.degrees(b[:, 0]), np.degrees(b[:, 1]))
    np.testing.assert_allclose(dist, ref_d, rtol=3e-3)  # Tokyo-Sydney 7,792 km
    assert np.abs(geo.wrap_angle(brg - np.radians(ref_az))).max() < np.radians(0.3)
    brg2, dist2 = geo.bearing_distance_ecef(
        geo.geodetic2ecef(np.column_stack([a, np.zeros(3)])), a,
        geo.geodetic2ecef(np.column_stack([b, np.zeros(3)])))
    np.testing.assert_allclose(dist2, dist, rtol=1e-12)
    np.testing.assert_allclose(brg2, brg, atol=1e-12)


def test_great_circle_midpoint_across_the_antimeridian() -> None:
    mid = geo.great_circle_points(np.radians([[0.0, 179.0]]), np.radians([[0.0, -179.0]]), 0.5)
    np.testing.assert_allclose(np.abs(mid[0]), [0.0, np.pi], atol=1e-12)
    end = geo.destination_points(np.radians([[0.0, 179.0]]), np.pi / 2, 222_639.0)
    assert np.degrees(end[0, 1]) == pytest.approx(-179.0, abs=1e-3)


def test_radar_horizon_closed_form() -> None:
    # 4/3-earth tangent distance: sqrt(2 k R h) for a sensor on the ground and a 10 km target.
    r = geo.radar_horizon_range(0.0, 10_000.0, lat=0.0)
    kr = 4.0 / 3.0 * float(geo.mean_earth_radius(0.0))
    assert r == pytest.approx(np.sqrt(2 * kr * 10_000.0 + 1e8), rel=1e-12)
    assert 410e3 < r < 415e3  # the textbook 4.12 sqrt(h) km rule gives 412 km


def test_refracted_elevation_agrees_with_angle_form_and_horizon() -> None:
    site = np.array([np.radians(24.78), np.radians(125.33), 110.0])
    rng = np.random.default_rng(5)
    n = 500
    tgt_ll = geo.destination_points(np.broadcast_to(site[:2], (n, 2)),
                                    rng.uniform(0, 2 * np.pi, n), rng.uniform(1e3, 6e5, n))
    tgt = np.column_stack([tgt_ll, rng.uniform(0, 15e3, n)])
    angle_form = geo.effective_elevation(site, tgt)
    slant = np.linalg.norm(geo.geodetic2ecef(tgt) - geo.geodetic2ecef(site), axis=1)
    radius = float(geo.mean_earth_radius(site[0]))
    height_form = geo.refracted_elevation(slant, site[2], tgt[:, 2], radius)
    # Two formulations of the 4/3-earth model: within 2 mrad over 600 km.
    assert np.abs(angle_form - height_form).max() < 2e-3
    visible = geo.line_of_sight(slant, site[2], tgt[:, 2], radius)
    horizon = geo.radar_horizon_range(site[2], tgt[:, 2], lat=site[0])
    clear = slant < 0.99 * horizon
    hidden = slant > 1.01 * horizon
    assert visible[clear].all() and not visible[hidden].any()


def test_line_of_sight_from_space_looks_down() -> None:
    radius = float(geo.mean_earth_radius(0.3))
    # A receiver 780 km up sees an aircraft 1,500 km away but not one beyond the earth's limb.
    assert geo.line_of_sight(1.5e6, 780e3, 10e3, radius)
    assert not geo.line_of_sight(4.5e6, 780e3, 10e3, radius)
    assert geo.refracted_elevation(1.5e6, 780e3, 10e3, radius) < 0
