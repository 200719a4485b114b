"""Sensor models against their configuration: horizon, noise, detection, clutter, biases."""

from __future__ import annotations

import msgspec
import numpy as np
import pytest

from airpicture import geo
from airpicture.plot_table import PlotTable
from airpicture.scenario.config import AdsbConfig, EsmConfig, RadarConfig, SsrConfig
from airpicture.scenario.sensors.adsb import NACP_EPU_M, RAYLEIGH_95, AdsbReceivers
from airpicture.scenario.sensors.esm import EsmSites
from airpicture.scenario.sensors.radar import Radars
from airpicture.scenario.sensors.ssr import Ssrs
from tests.scenario.helpers import T0, around, context, objects

SITE = (20.0, 130.0, 30.0)
RADAR = RadarConfig(id="R1", nation="JPN", lat_deg=SITE[0], lon_deg=SITE[1], alt_m=SITE[2],
                    max_range_km=400.0, rotation_period_s=1.0, sigma_range_m=50.0,
                    sigma_azimuth_deg=0.2, sigma_elevation_deg=0.3, sigma_range_rate_mps=2.0,
                    pd_ref=0.8, ref_range_km=150.0, ref_rcs_m2=1.0)


def run(group: Radars | Ssrs | AdsbReceivers | EsmSites, llh: np.ndarray, objs: object,
        steps: int, dt: float = 1.0) -> PlotTable:
    out = [group.observe(context(T0 + k * dt, llh, objs, dt)) for k in range(steps)]  # type: ignore[arg-type]
    return PlotTable.concat(out)


def truth_aer(llh: np.ndarray) -> np.ndarray:
    site = np.array([np.radians(SITE[0]), np.radians(SITE[1]), SITE[2]])
    return geo.ecef2aer(geo.geodetic2ecef(llh), site)


def test_target_below_the_radar_horizon_is_never_detected() -> None:
    # Sensor 30 m up, targets 500 m up: the 4/3-earth horizon is at 22.6 + 92.2 = 115 km.
    horizon = float(geo.radar_horizon_range(30.0, 500.0, lat=np.radians(20.0)))
    ranges = np.array([0.5, 0.9, 1.05, 1.2, 2.0]) * horizon
    llh = around(SITE, np.array([10.0, 80.0, 150.0, 220.0, 300.0]), ranges,
                 np.full(5, 500.0))
    cfg = msgspec.structs.replace(RADAR, pd_ref=0.99, ref_range_km=400.0)
    plots = run(Radars([cfg], [0], np.random.default_rng(1)), llh, objects(5, rcs=1e4), 300)
    per_target = np.bincount(plots.truth, minlength=5)
    assert per_target[0] > 280 and per_target[1] > 280
    assert per_target[2] == 0 and per_target[3] == 0 and per_target[4] == 0
    adsb = AdsbReceivers([AdsbConfig(id="A1", nation="JPN", lat_deg=SITE[0], lon_deg=SITE[1],
                                     alt_m=SITE[2], max_range_km=450.0)], [0],
                         np.random.default_rng(2))
    got = run(adsb, llh, objects(5), 300)
    assert set(np.unique(got.truth)) <= {0, 1}


@pytest.fixture(scope="module")
def radar_plots() -> tuple[PlotTable, np.ndarray, int]:
    n = 100
    llh = around(SITE, np.linspace(0, 356.4, n), np.full(n, 150e3), np.full(n, 8000.0))
    steps = 125
    plots = run(Radars([RADAR], [0], np.random.default_rng(7)), llh, objects(n), steps)
    return plots, truth_aer(llh), n * steps


def test_radar_noise_matches_configured_sigmas(radar_plots: tuple) -> None:
    plots, aer, _ = radar_plots
    assert len(plots) > 10_000 * 0.8
    err_r = plots.z[:, 0] - aer[plots.truth, 2]
    err_az = geo.wrap_angle(plots.z[:, 1] - aer[plots.truth, 0])
    err_el = plots.z[:, 2] - aer[plots.truth, 1]
    err_rr = plots.z[:, 3]
    for err, sigma in ((err_r, 50.0), (err_az, np.radians(0.2)), (err_el, np.radians(0.3)),
                       (err_rr, 2.0)):
        assert np.std(err) == pytest.approx(sigma, rel=0.05)
        assert abs(np.mean(err)) < 4 * sigma / np.sqrt(len(err))
    np.testing.assert_allclose(plots.sigma[:, :4], [[50.0, np.radians(0.2), np.radians(0.3),
                                                      2.0]] * len(plots))


def test_radar_detection_rate_matches_configured_pd(radar_plots: tuple) -> None:
    plots, _, opportunities = radar_plots
    # Targets at the reference range with the reference RCS: Pd is pd_ref by construction.
    assert len(plots) / opportunities == pytest.approx(0.8, abs=0.02 * 0.8)


def test_clutter_count_matches_its_poisson_mean() -> None:
    cfg = msgspec.structs.replace(RADAR, rotation_period_s=10.0, clutter_per_scan=12.0)
    radars = Radars([cfg], [0], np.random.default_rng(11))
    objs = objects(0)
    empty = np.zeros((0, 3))
    counts = np.array([len(radars.observe(context(T0 + k, empty, objs))) for k in range(5000)])
    # Per 1 s step: Poisson with mean 12 * 1 / 10 = 1.2; per scan (10 steps): mean 12.
    assert counts.mean() == pytest.approx(1.2, abs=4 * np.sqrt(1.2 / 5000))
    assert counts.var() / counts.mean() == pytest.approx(1.0, abs=0.08)
    per_scan = counts.reshape(-1, 10).sum(axis=1)
    assert per_scan.mean() == pytest.approx(12.0, abs=4 * np.sqrt(12.0 / 500))
    clutter = PlotTable.concat([radars.observe(context(T0 + k, empty, objs)) for k in range(500)])
    assert np.all(clutter.truth == -1)
    # Uniform in area between the minimum and maximum range: E[r^2] = (rmin^2 + rmax^2) / 2.
    r2 = np.mean(clutter.z[:, 0] ** 2)
    assert r2 == pytest.approx((500.0**2 + 400e3**2) / 2, rel=0.1)


def test_biases_shift_range_azimuth_and_time_stamps() -> None:
    n = 100
    llh = around(SITE, np.linspace(0, 356.4, n), np.full(n, 150e3), np.full(n, 8000.0))
    biased = msgspec.structs.replace(RADAR, bias_range_m=300.0, bias_azimuth_deg=0.3,
                                     bias_time_s=0.5)
    a = run(Radars([RADAR], [0], np.random.default_rng(3)), llh, objects(n), 50)
    b = run(Radars([biased], [0], np.random.default_rng(3)), llh, objects(n), 50)
    assert np.array_equal(a.truth, b.truth)  # same draws, same detections
    np.testing.assert_allclose(b.z[:, 0] - a.z[:, 0], 300.0, atol=1e-6)
    np.testing.assert_allclose(geo.wrap_angle(b.z[:, 1] - a.z[:, 1]), np.radians(0.3),
                               atol=1e-9)
    np.testing.assert_allclose(b.time - a.time, 0.5, atol=1e-6)


def test_two_dimensional_radar_reports_no_elevation() -> None:
    cfg = msgspec.structs.replace(RADAR, measures_elevation=False, sigma_range_rate_mps=None)
    llh = around(SITE, np.array([45.0]), np.array([100e3]), np.array([5000.0]))
    plots = run(Radars([cfg], [0], np.random.default_rng(1)), llh, objects(1), 20)
    assert len(plots) > 0 and np.isnan(plots.z[:, 2:4]).all()


def test_ssr_answers_only_transponders_with_quantised_altitude() -> None:
    llh = around(SITE, np.array([0.0, 90.0]), np.array([100e3, 100e3]), np.array([9144.0, 3000.0]))
    objs = objects(2)
    objs.transponder[1] = False
    cfg = SsrConfig(id="S1", nation="JPN", lat_deg=SITE[0], lon_deg=SITE[1], alt_m=SITE[2],
                    max_range_km=400.0, rotation_period_s=2.0, pd=1.0)
    plots = run(Ssrs([cfg], [0], np.random.default_rng(1)), llh, objs, 40)
    assert set(plots.truth) == {0}
    assert len(plots) == 20
    assert np.all(np.abs(plots.baro_alt / 7.62 - np.round(plots.baro_alt / 7.62)) < 1e-9)
    assert np.all(np.abs(plots.baro_alt - 9144.0) < 4.0)
    assert np.all(plots.icao == 0x400000) and np.all(plots.mode3a == 0o1234)


def test_adsb_position_noise_matches_nacp() -> None:
    n = 100
    llh = around(SITE, np.linspace(0, 356.4, n), np.full(n, 200e3), np.full(n, 11000.0))
    cfg = AdsbConfig(id="A1", nation="JPN", lat_deg=SITE[0], lon_deg=SITE[1], alt_m=SITE[2],
                     max_range_km=450.0, pd=1.0, dropout_mean_s=0.0)
    plots = run(AdsbReceivers([cfg], [0], np.random.default_rng(5)), llh, objects(n, nacp=8),
                110)
    assert len(plots) == 11_000
    truth = geo.geodetic2ecef(llh)[plots.truth]
    enu_err = geo.ecef2enuv(plots.z[:, :3] - truth, llh[plots.truth, :2])
    sigma_h = NACP_EPU_M[8] / RAYLEIGH_95
    assert np.std(enu_err[:, 0]) == pytest.approx(sigma_h, rel=0.05)
    assert np.std(enu_err[:, 1]) == pytest.approx(sigma_h, rel=0.05)
    assert np.std(enu_err[:, 2]) == pytest.approx(15.0, rel=0.05)
    # 95 % of horizontal errors inside the NACp bound (EPU).
    assert np.mean(np.hypot(enu_err[:, 0], enu_err[:, 1]) < NACP_EPU_M[8]) == pytest.approx(
        0.95, abs=0.01)
    assert np.all(plots.nacp == 8) and np.all(plots.icao >= 0x400000)


def test_esm_sees_only_emitters_with_configured_bearing_noise() -> None:
    n = 200
    llh = around(SITE, np.linspace(0, 358.2, n), np.full(n, 150e3), np.full(n, 9000.0))
    objs = objects(n)
    objs.emitter[1::2] = False
    cfg = EsmConfig(id="E1", nation="JPN", lat_deg=SITE[0], lon_deg=SITE[1], alt_m=SITE[2],
                    max_range_km=400.0, period_s=1.0, pd=1.0, sigma_azimuth_deg=1.0)
    plots = run(EsmSites([cfg], [0], np.random.default_rng(9)), llh, objs, 100)
    assert np.all(plots.truth % 2 == 0) and len(plots) == 10_000
    err = geo.wrap_angle(plots.z[:, 0] - truth_aer(llh)[plots.truth, 0])
    assert np.std(err) == pytest.approx(np.radians(1.0), rel=0.05)
    assert np.isnan(plots.z[:, 1]).all()
