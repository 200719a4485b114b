"""PCRB, NEES/ANEES, track alignment and truth of opportunity."""

from __future__ import annotations

import numpy as np
import pytest

from airpicture import geo
from airpicture.messages import SensorInfo, SensorKind, TrackStatus
from airpicture.metrics.align import align_tracks
from airpicture.metrics.association import associate
from airpicture.metrics.consistency import anees, nees
from airpicture.metrics.opportunity import opportunity_truth
from airpicture.metrics.pcrb import geometric_visibility, measurement_information, pcrb_position
from airpicture.metrics.samples import make_samples, time_grid
from airpicture.plot_table import KIND_CODE, PlotTable
from airpicture.track_table import STATUS_CODES, TrackTable

X0 = geo.geodetic2ecef(np.array([np.radians(50.0), np.radians(7.0), 3000.0]))
ADSB = SensorInfo(id="A", nation="X", kind=SensorKind.ADSB, lat_deg=50.0, lon_deg=7.0,
                  alt_m=0.0, max_range_m=400e3, period_s=1.0, sigma=[30.0, 30.0, 30.0])
RADAR = SensorInfo(id="R", nation="X", kind=SensorKind.RADAR, lat_deg=49.5, lon_deg=6.5,
                   alt_m=100.0, max_range_m=300e3, period_s=4.0,
                   sigma=[50.0, 0.001, 0.002, 1.0])


def static(n: int):
    return make_samples(np.arange(n, dtype=float), np.zeros(n, np.int64), np.tile(X0, (n, 1)),
                        np.zeros((n, 3)))


def test_pcrb_equals_least_squares_line_fit() -> None:
    """Pd = 1, no process noise, flat prior: the bound is the variance of a fitted line's end
    point, 3 sigma^2 (4k - 2) / (k (k + 1)) after k plots."""
    truth = static(20)
    b = pcrb_position(truth, [ADSB], np.ones((20, 1), bool), q=0.0, pd={"A": 1.0},
                      prior_sigma=(1e7, 1e7))
    k = np.arange(1, 21)
    expected = np.sqrt(3 * 900.0 * (4 * k - 2) / (k * (k + 1)))
    assert np.abs(b[1:] / expected[1:] - 1).max() < 1e-5
    # detection probability 1/2 halves the information: the bound grows by sqrt(2)
    b2 = pcrb_position(truth, [ADSB], np.ones((20, 1), bool), q=0.0, pd={"A": 0.5},
                       prior_sigma=(1e7, 1e7))
    assert np.abs(b2[1:] / b[1:] - np.sqrt(2)).max() < 1e-5
    # invisible: the bound stays near the prior, growing with process noise
    b3 = pcrb_position(truth, [ADSB], np.zeros((20, 1), bool), q=1.0)
    assert b3[0] == pytest.approx(np.sqrt(3) * 1000.0) and np.all(np.diff(b3) > 0)


def test_radar_information_matches_finite_differences() -> None:
    site = np.array([np.radians(49.5), np.radians(6.5), 100.0])
    x, v = X0[None], np.array([[100.0, -50.0, 20.0]])

    def z(x: np.ndarray, v: np.ndarray) -> np.ndarray:
        aer = geo.ecef2aer(x, site)[0]
        d = x[0] - geo.geodetic2ecef(site)
        return np.array([aer[2], aer[0], aer[1], d @ v[0] / np.linalg.norm(d)])

    h = np.zeros((4, 6))
    for i in range(6):
        dx = np.zeros(6)
        dx[i] = 1e-3
        h[:, i] = (z(x + dx[None, :3], v + dx[None, 3:]) - z(x - dx[None, :3], v - dx[None, 3:]))
        h[:, i] /= 2e-3
    expected = h.T @ np.diag(1 / np.array([50.0, 0.001, 0.002, 1.0]) ** 2) @ h
    got = measurement_information(RADAR, x, v)[0]
    assert np.abs(got - expected).max() / np.abs(expected).max() < 1e-8


def test_geometric_visibility() -> None:
    far = geo.geodetic2ecef(np.array([np.radians(60.0), np.radians(7.0), 3000.0]))
    truth = make_samples([0.0, 0.0], [1, 2], [X0, far], np.zeros((2, 3)))
    vis = geometric_visibility(truth, [ADSB, RADAR], adsb=np.array([True, True]))
    assert vis.tolist() == [[True, True], [False, False]]
    vis = geometric_visibility(truth, [ADSB], adsb=np.array([False, True]))
    assert vis[:, 0].tolist() == [False, False]


def test_nees_and_anees() -> None:
    rng = np.random.default_rng(3)
    n = 4000
    cov = np.broadcast_to(np.diag([4.0, 9.0, 16.0, 1.0, 1.0, 1.0]), (n, 6, 6)).copy()
    err = rng.multivariate_normal(np.zeros(6), cov[0], n)
    e = nees(err[:2, :3], cov[:2, :3, :3])
    assert e == pytest.approx(np.sum(err[:2, :3] ** 2 / [4.0, 9.0, 16.0], axis=1))
    bad = cov[:3].copy()
    bad[0, 0, 0] = -1.0
    bad[1, 2, 2] = np.nan
    assert np.isnan(nees(err[:3], bad)[:2]).all() and np.isfinite(nees(err[:3], bad)[2])
    t = np.repeat(np.arange(n // 4, dtype=float), 4)
    lab = np.tile(np.arange(4), n // 4)
    pos = X0 + np.tile(np.arange(4)[:, None] * 1e4, (n // 4, 3))
    truth = make_samples(t, lab, pos, np.zeros((n, 3)))
    tracks = make_samples(t, lab, pos + err[:, :3], err[:, 3:], cov)
    grid = time_grid(truth, tracks)
    out = anees(truth, tracks, associate(truth, tracks, 100.0, grid=grid), grid)
    pos_anees = out["position"]
    assert isinstance(pos_anees, dict)
    assert pos_anees["lower95"] < pos_anees["anees"] < pos_anees["upper95"]
    assert pos_anees["samples"] == n  # held from the first of the k samples that start it


def _reports() -> TrackTable:
    t = TrackTable.blank(4)
    t.time[:] = [0.5, 4.5, 8.5, 20.0]
    t.track[:] = 7
    t.state[:] = [[X0[0], X0[1], X0[2], 10.0, 0.0, 0.0]] * 4
    t.state[:, 0] += 10.0 * t.time
    t.status[:] = [STATUS_CODES.index(s) for s in (TrackStatus.TENTATIVE, TrackStatus.CONFIRMED,
                                                   TrackStatus.COASTING, TrackStatus.DELETED)]
    return t


def test_align_tracks_extrapolates_and_respects_status() -> None:
    a = align_tracks(_reports(), np.arange(25.0), max_age=6.0)
    # tentative at 0.5 is not evaluated; confirmed from 4.5 on; stale after 8.5 + 6; deleted
    assert a.samples.time.tolist() == [5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0]
    assert np.allclose(a.samples.position[:, 0], X0[0] + 10.0 * a.samples.time)
    assert a.report_row.tolist() == [1, 1, 1, 1, 2, 2, 2, 2, 2, 2]
    cov = a.samples.covariance
    assert cov is not None and cov[0, 0, 0] == pytest.approx(1.0 + 0.5**2)
    bad = _reports()
    bad.state[2, 1] = np.nan
    with pytest.raises(ValueError, match="state is not finite in row 2"):
        align_tracks(bad, np.arange(25.0), max_age=6.0)


def test_truth_of_opportunity_interpolates_high_integrity_reports() -> None:
    p = PlotTable.blank(6)
    p.kind[:] = KIND_CODE[SensorKind.ADSB]
    p.time[:] = [0.2, 1.7, 2.9, 0.5, 1.5, 2.5]
    p.icao[:] = [0xABC, 0xABC, 0xABC, 0x123, 0x123, 0x123]
    p.nacp[:] = [9, 9, 9, 7, 7, 7]  # the second aircraft's reports are not accurate enough
    p.z[:, :3] = X0 + np.outer(p.time, [100.0, 0.0, 0.0])
    p.z[:, 3:6] = np.nan  # no velocity reported
    truth = opportunity_truth(p, min_nacp=8, step=1.0, max_gap=2.0)
    assert truth.time.tolist() == [1.0, 2.0]
    assert truth.label.tolist() == [0xABC, 0xABC]
    assert np.allclose(truth.position, X0 + np.outer(truth.time, [100.0, 0.0, 0.0]))
    assert np.allclose(truth.velocity, [[100.0, 0.0, 0.0]] * 2)
    assert len(opportunity_truth(p, min_nacp=10)) == 0


def test_coverage_masks_from_coarse_nation_bits() -> None:
    from airpicture.metrics.align import coverage_masks

    truth = make_samples(np.repeat(np.arange(0.0, 30.0, 5.0), 2), np.tile([3, 9], 6),
                         np.zeros((12, 3)))
    # object 3 covered by nation 0 (bit 1) until 10 s, then by both (bits 1 + 2) from 20 s;
    # object 9 has no coverage sample at all
    masks = coverage_masks(truth, np.array([20.0, 0.0, 10.0]), np.array([3, 3, 3]),
                           np.array([3, 1, 0]), ["AAA", "BBB"])
    obj3 = truth.label == 3
    assert masks["AAA"][obj3].tolist() == [True, True, False, False, True, True]
    assert masks["BBB"][obj3].tolist() == [False, False, False, False, True, True]
    assert masks["*"][obj3].tolist() == [True, True, False, False, True, True]
    assert not masks["*"][~obj3].any()


def test_two_dimensional_radar_measures_no_elevation() -> None:
    radar_2d = SensorInfo(id="R2", nation="X", kind=SensorKind.RADAR, lat_deg=49.5,
                          lon_deg=6.5, alt_m=100.0, max_range_m=300e3, period_s=4.0,
                          sigma=[60.0, 0.0017, 0.0, 0.0])
    info = measurement_information(radar_2d, X0[None], np.zeros((1, 3)))
    assert np.isfinite(info).all()
    assert np.linalg.matrix_rank(info[0]) == 2  # range and azimuth only
