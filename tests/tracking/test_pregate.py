"""The coarse pre-gate of ADS-B plots: it takes the round's noise covariance as is."""

from __future__ import annotations

import numpy as np

from airpicture import geo
from airpicture.messages import SensorKind
from airpicture.tracking import measurement
from airpicture.tracking.pairs import sigma_of
from airpicture.tracking.pregate import pregate

from .synth import site_llh


def test_adsb_pregate_pairs_by_the_rounds_noise_covariance() -> None:
    """ADS-B plots' balls come from the position block of the round's ECEF noise covariance
    ``R`` (no second ENU-to-ECEF rotation): radius ``k sqrt(trace R_pos)``, the radius that
    rotating the ECEF-diagonal sigmas again gave (a trace does not change under rotation),
    and the candidates are exactly the pairs of touching balls."""
    rng = np.random.default_rng(21)
    llh = site_llh()
    site = geo.geodetic2ecef(llh)
    rot = geo.ecef2enu_rotation(llh[:2])
    m, n, k = 300, 400, 3.5
    enu = np.column_stack([rng.uniform(-2e5, 2e5, (m, 2)), rng.uniform(1e3, 1.2e4, m)])
    z = np.concatenate([geo.enu2ecef(enu, llh), rng.normal(0, 150, (m, 3))], axis=1)
    sigma = np.broadcast_to([30.0, 30.0, 45.0, 1.0, 1.0, 1.5], (m, 6)) * rng.uniform(1, 20, (m, 1))
    R = measurement.noise_covariance(SensorKind.ADSB, z, sigma)
    track_pos = z[rng.integers(0, m, n), :3] + rng.normal(0, 2e3, (n, 3))
    track_radius = rng.uniform(100.0, 3e3, n)
    track_radius[::7] = -1.0  # free rows
    ti, pj = pregate(SensorKind.ADSB, z, sigma_of(z, R), R, site, rot, float(llh[2]), 4e5,
                     track_pos, track_radius, k)
    pos, trace = measurement.plot_spread(SensorKind.ADSB, z, sigma_of(z, R), R, site, rot,
                                         float(llh[2]))
    np.testing.assert_array_equal(trace, np.trace(R[:, :3, :3], axis1=1, axis2=2))
    np.testing.assert_array_equal(pos, z[:, :3])
    radius = k * np.sqrt(trace)
    twice = measurement.noise_covariance(SensorKind.ADSB, z, sigma_of(z, R))
    np.testing.assert_allclose(radius, k * np.sqrt(np.trace(twice[:, :3, :3], axis1=1, axis2=2)),
                               rtol=1e-12)
    dist = np.linalg.norm(track_pos[:, None] - z[None, :, :3], axis=2)
    touch = (dist <= track_radius[:, None] + radius[None]) & (track_radius >= 0.0)[:, None]
    bt, bp = np.nonzero(touch)
    assert len(bt) > 100, len(bt)
    assert set(zip(ti.tolist(), pj.tolist(), strict=True)) == set(
        zip(bt.tolist(), bp.tolist(), strict=True))
