"""The fused pair-geometry kernel against the NumPy/pymap3d path it replaces."""

from __future__ import annotations

import numpy as np

from airpicture import geo
from airpicture.scenario.config import RadarConfig
from airpicture.scenario.sensors.base import Pairs, Sites, in_sector
from tests.scenario.helpers import T0, context, objects


def test_kernel_matches_pymap3d_and_the_numpy_line_of_sight() -> None:
    rng = np.random.default_rng(12)
    cfgs = [
        RadarConfig(id=f"R{i}", nation="JPN", lat_deg=lat, lon_deg=lon, alt_m=alt,
                    max_range_km=rmax, sector_deg=sector)
        for i, (lat, lon, alt, rmax, sector) in enumerate([
            (20.0, 130.0, 30.0, 400.0, None),
            (-17.7, 179.9, 1500.0, 450.0, [300.0, 60.0]),  # sector across north
            (-14.3, -170.7, 780e3, 2000.0, None),          # a space-borne receiver
        ])
    ]
    sites = Sites(cfgs, [0, 1, 2])
    n = 3000
    sensor = rng.integers(0, 3, n)
    ll = geo.destination_points(sites.llh[sensor, :2], rng.uniform(0, 2 * np.pi, n),
                                rng.uniform(1e3, 2.5e6, n))
    llh = np.column_stack([ll, rng.uniform(0, 15e3, n)])
    velocity = rng.normal(0, 200, (n, 3))
    ctx = context(T0, llh, objects(n), velocity=velocity)
    tau = rng.uniform(0, 1, n)
    pairs = Pairs(sensor.astype(np.int64), np.arange(n, dtype=np.int64))
    p, v, aer, h, ok = sites.sample(ctx, pairs, tau)

    np.testing.assert_allclose(p, ctx.position + velocity * tau[:, None], atol=1e-6)
    np.testing.assert_allclose(v, velocity, atol=1e-12)
    ref = geo.ecef2aer(p, sites.llh[sensor])
    np.testing.assert_allclose(aer[:, 2], ref[:, 2], rtol=1e-9)
    np.testing.assert_allclose(aer[:, 1], ref[:, 1], atol=1e-9)
    np.testing.assert_allclose(geo.wrap_angle(aer[:, 0] - ref[:, 0]), 0.0, atol=1e-9)
    # Height by the local normal within a second's motion: within centimetres of pymap3d.
    np.testing.assert_allclose(h, geo.ecef2geodetic(p)[:, 2], atol=0.05)
    radius = geo.mean_earth_radius(sites.llh[sensor, 0])
    expected = geo.line_of_sight(ref[:, 2], sites.llh[sensor, 2], h, radius)
    expected &= ref[:, 2] <= sites.max_range[sensor]
    expected &= in_sector(ref[:, 0], sites.sector[sensor])
    assert np.array_equal(ok, expected)
    assert 0.1 < ok.mean() < 0.9  # both outcomes exercised
