"""Registration through common objects: a radar no ADS-B receiver covers is registered from
its overlap with one that is."""

from __future__ import annotations

import numpy as np
import pytest

from airpicture import geo
from airpicture.fusion.registration import Registration, RegistrationConfig
from airpicture.messages import SensorKind
from airpicture.plot_table import KIND_CODE, PlotTable

from . import scenes

B_R_SITE = geo.geodetic2ecef(np.array([np.radians(36.2), np.radians(139.2), 300.0]))


def _without_adsb_near_b(batch: PlotTable) -> PlotTable:
    """The batch less every ADS-B report within 330 km of radar B-R (its range is 300 km)."""
    adsb = batch.kind == KIND_CODE[SensorKind.ADSB]
    near = np.linalg.norm(batch.z[:, :3] - B_R_SITE, axis=1) < 330e3
    return batch.take(~(adsb & near))


def _register(use_links: bool) -> Registration:
    sc = scenes.scenario(900.0, airliners=32, noncoop=0, biased=True)
    sim, sink = scenes.simulate(sc, seed=5)
    reg = Registration(sim.sensor_infos, RegistrationConfig(use_links=use_links))
    for batch in scenes.chunks(sink.plot_parts, 10.0):
        reg.update(_without_adsb_near_b(batch))
    return reg


@pytest.mark.slow
def test_a_radar_without_adsb_in_its_coverage_converges_through_its_overlap() -> None:
    est = _register(use_links=True).estimates
    b = est.sensor_ids.index("B-R")
    # Every pair behind B-R's estimate is against the other radar's linked plots.
    assert est.pairs[b] == est.link_pairs[b] > 500, (est.pairs[b], est.link_pairs[b])
    assert est.applied[b]
    # Measured (seed 5, 15 min): range offset 307.0 m (sd 21.9), azimuth 0.2900 deg
    # (sd 0.0031), time 0.496 s (sd 0.028), gain -4.4e-5 (sd 9.7e-5); A-R from ADS-B:
    # 287.5 m, 0.2972 deg, 0.508 s.
    for name in ("A-R", "B-R"):
        s = est.sensor_ids.index(name)
        r_off, gain, az, dt = est.theta[s]
        sd = np.sqrt(np.diag(est.covariance[s]))
        assert abs(r_off - 300.0) < 30.0, (name, r_off)
        assert abs(np.degrees(az) - 0.3) < 0.03, (name, np.degrees(az))
        assert abs(dt - 0.5) < 0.05, (name, dt)
        assert abs(gain) < 5e-4, (name, gain)
        # The stated uncertainty is honest: every error within four of its sigmas.
        err = np.abs(est.theta[s] - [300.0, 0.0, np.radians(0.3), 0.5])
        assert np.all(err < 4.0 * sd), (name, err / sd)


@pytest.mark.slow
def test_without_the_relative_terms_the_uncovered_radar_learns_nothing() -> None:
    est = _register(use_links=False).estimates
    b = est.sensor_ids.index("B-R")
    assert est.pairs[b] == 0 and not est.applied[b]
    assert np.allclose(est.theta[b], 0.0)
