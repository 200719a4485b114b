"""ADS-B reports as a position reference for radar plots: the pairing that sensor registration
and the ADS-B consistency check share.

A radar or secondary-radar plot measures ``z = [range, azimuth]`` (slant range in m, azimuth
in rad clockwise from north, in the site's ENU frame). An ADS-B report gives the aircraft's
ECEF position and velocity at its own time; extrapolated to the plot's time stamp it predicts
``h = [r, az]``. The residual ``y = z - h`` is what both users work on, with the range rate
``rdot`` and azimuth rate ``azdot`` that turn a time-stamp error into a residual.

Pairs come two ways, vectorised over plots:

- **by address**: a Mode S plot carries the aircraft's 24-bit address, so it pairs with the
  nearest-in-time report of that address (no position gate: exactly what a spoofing check
  needs);
- **by position**: a plot without address is placed in ECEF (its elevation, else its
  barometric height, else ``assumed_height_m``) and paired with the nearest report (position
  and time) within a gate, then with the candidate of smallest residual after the caller's
  bias correction; one aircraft takes at most one plot per sensor and call.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from airpicture.geo import ecef2enu_rotation, geodetic2ecef, mean_earth_radius, wrap_angle
from airpicture.messages import SensorInfo, SensorKind
from airpicture.plot_table import KIND_CODE, PlotTable

__all__ = [
    "AdsbReports",
    "RadarPairs",
    "Sites",
    "pair_by_address",
    "pair_by_position",
    "plot_positions",
]

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
RAYLEIGH_95 = float(np.sqrt(-2.0 * np.log(0.05)))
_NACP_EPU_M = np.array([5000.0, 18520.0, 7408.0, 3704.0, 1852.0, 926.0, 555.6, 185.2, 92.6,
                        30.0, 10.0, 3.0])
_RADAR, _SSR, _ADSB = KIND_CODE[SensorKind.RADAR], KIND_CODE[SensorKind.SSR], KIND_CODE[
    SensorKind.ADSB]
TIME_SCALE_MPS = 250.0
"""Metres per second of time difference in the pairing search (a fast airliner)."""


@dataclasses.dataclass(frozen=True)
class Sites:
    """The sensors of a plot table as arrays: ECEF sites, ECEF-to-ENU rotations, kinds, the
    first two noise sigmas (``[range m, azimuth rad]``; ESM: ``[azimuth, elevation]`` rad),
    periods (s) and maximum ranges (m), one row per sensor, as the plots index them."""

    ids: tuple[str, ...]
    llh: F64
    ecef: F64
    rotation: F64
    kind: NDArray[np.uint8]
    sigma: F64
    period: F64
    max_range: F64

    @classmethod
    def from_sensors(cls, sensors: Sequence[SensorInfo]) -> Sites:
        llh = np.array([[np.radians(s.lat_deg), np.radians(s.lon_deg), s.alt_m]
                        for s in sensors], np.float64).reshape(-1, 3)
        sig = np.array([[*s.sigma, 0.0, 0.0][:2] for s in sensors],
                       np.float64).reshape(-1, 2)
        return cls(
            ids=tuple(s.id for s in sensors), llh=llh, ecef=geodetic2ecef(llh).reshape(-1, 3),
            rotation=ecef2enu_rotation(llh[:, :2]).reshape(-1, 3, 3),
            kind=np.array([KIND_CODE[s.kind] for s in sensors], np.uint8),
            sigma=sig, period=np.array([s.period_s for s in sensors], np.float64),
            max_range=np.array([s.max_range_m for s in sensors], np.float64),
        )


@dataclasses.dataclass(frozen=True)
class AdsbReports:
    """ADS-B reports usable as reference: ``time``, ``icao``, ECEF ``position`` and
    ``velocity`` ``(N, 3)``, horizontal one-sigma ``sigma_h`` (m), sorted by (icao, time)."""

    time: F64
    icao: I64
    position: F64
    velocity: F64
    sigma_h: F64

    @classmethod
    def empty(cls) -> AdsbReports:
        return cls(np.zeros(0), np.zeros(0, np.int64), np.zeros((0, 3)), np.zeros((0, 3)),
                   np.zeros(0))

    @classmethod
    def from_plots(cls, plots: PlotTable) -> AdsbReports:
        """The ADS-B rows with an address, a position and a velocity."""
        ok = (plots.kind == _ADSB) & (plots.icao >= 0) & np.isfinite(plots.z).all(axis=1)
        rows = np.flatnonzero(ok)
        sigma = plots.sigma[rows, 0]
        nacp = plots.nacp[rows].astype(np.int64)
        sigma = np.where(np.isfinite(sigma), sigma,
                         _NACP_EPU_M[np.clip(nacp, 0, 11)] / RAYLEIGH_95)
        return cls(plots.time[rows], plots.icao[rows].astype(np.int64), plots.z[rows, :3],
                   plots.z[rows, 3:6], sigma).sorted()

    def sorted(self) -> AdsbReports:
        order = np.lexsort((self.time, self.icao))
        return AdsbReports(self.time[order], self.icao[order], self.position[order],
                           self.velocity[order], self.sigma_h[order])

    def __len__(self) -> int:
        return len(self.time)

    def merged(self, other: AdsbReports, since: float) -> AdsbReports:
        """Both sets of reports, without those older than ``since``."""
        parts = [self, other]
        keep = [p.time >= since for p in parts]
        return AdsbReports(
            *(np.concatenate([getattr(p, f)[k] for p, k in zip(parts, keep, strict=True)])
              for f in ("time", "icao", "position", "velocity", "sigma_h"))
        ).sorted()


@dataclasses.dataclass(frozen=True)
class RadarPairs:
    """Plot-report pairs: ``plot`` (row in the plot table), ``ref`` (row in the reports),
    ``sensor``; the residual ``y`` ``(P, 2)`` [m, rad] of the plot against the report
    extrapolated to the plot's time stamp; the predicted range ``r``, range rate ``rdot``
    (m/s) and azimuth rate ``azdot`` (rad/s); the one-sigma noise ``sigma`` ``(P, 2)`` of the
    residual (sensor and reference together, m and rad)."""

    plot: I64
    ref: I64
    sensor: I64
    y: F64
    r: F64
    rdot: F64
    azdot: F64
    sigma: F64

    def take(self, keep: NDArray[np.bool_] | I64) -> RadarPairs:
        return RadarPairs(**{f.name: getattr(self, f.name)[keep]
                             for f in dataclasses.fields(self)})

    def __len__(self) -> int:
        return len(self.plot)

    def H(self) -> F64:
        """Jacobians ``(P, 2, 4)`` of the residual in the biases ``[range offset, range gain,
        azimuth, time stamp]``: ``y_r = b_r + r g - rdot b_t``, ``y_az = b_az - azdot b_t``."""
        n = len(self)
        H = np.zeros((n, 2, 4))
        H[:, 0, 0] = 1.0
        H[:, 0, 1] = self.r
        H[:, 0, 3] = -self.rdot
        H[:, 1, 2] = 1.0
        H[:, 1, 3] = -self.azdot
        return H


def _residuals(
    plots: PlotTable, rows: I64, reports: AdsbReports, ref: I64, sites: Sites
) -> RadarPairs:
    s = plots.sensor[rows].astype(np.int64)
    dt = plots.time[rows] - reports.time[ref]
    p = reports.position[ref] + reports.velocity[ref] * dt[:, None]
    R = sites.rotation[s]
    enu = np.einsum("nij,nj->ni", R, p - sites.ecef[s])
    venu = np.einsum("nij,nj->ni", R, reports.velocity[ref])
    r = np.linalg.norm(enu, axis=1)
    az = np.mod(np.arctan2(enu[:, 0], enu[:, 1]), 2 * np.pi)
    rho2 = np.maximum(enu[:, 0] ** 2 + enu[:, 1] ** 2, 1.0)
    rdot = np.sum(enu * venu, axis=1) / np.maximum(r, 1.0)
    azdot = (enu[:, 1] * venu[:, 0] - enu[:, 0] * venu[:, 1]) / rho2
    y = np.stack([plots.z[rows, 0] - r, wrap_angle(plots.z[rows, 1] - az)], axis=1)
    sh = reports.sigma_h[ref]
    sigma = np.stack([np.hypot(sites.sigma[s, 0], sh),
                      np.hypot(sites.sigma[s, 1], sh / np.maximum(np.sqrt(rho2), 1.0))], axis=1)
    return RadarPairs(rows, ref, s, y, r, rdot, azdot, sigma)


def _measuring(plots: PlotTable, sites: Sites) -> NDArray[np.bool_]:
    kind = sites.kind[plots.sensor] if len(sites.kind) else np.zeros(len(plots), np.uint8)
    return np.asarray(((kind == _RADAR) | (kind == _SSR)) & np.isfinite(plots.z[:, :2]).all(1))


def pair_by_address(
    plots: PlotTable, reports: AdsbReports, sites: Sites, max_dt_s: float = 2.0
) -> RadarPairs:
    """Pairs of Mode S plots (radar or SSR rows with an address) with the nearest-in-time
    report of the same address within ``max_dt_s``."""
    rows = np.flatnonzero(_measuring(plots, sites) & (plots.icao >= 0))
    if rows.size == 0 or len(reports) == 0:
        return _residuals(plots, rows[:0], reports, np.zeros(0, np.int64), sites)
    icao, t = plots.icao[rows].astype(np.int64), plots.time[rows]
    # Reports are sorted by (icao, time): a lexicographic search gives the neighbours.
    t0 = min(float(reports.time.min()), float(t.min())) - 1.0
    span = max(float(reports.time.max()), float(t.max())) - t0 + 1.0
    key_r = reports.icao.astype(np.float64) * span + (reports.time - t0)
    key_p = icao.astype(np.float64) * span + (t - t0)
    hi = np.clip(np.searchsorted(key_r, key_p), 0, len(reports) - 1)
    lo = np.clip(hi - 1, 0, len(reports) - 1)
    d_hi = np.where(reports.icao[hi] == icao, np.abs(reports.time[hi] - t), np.inf)
    d_lo = np.where(reports.icao[lo] == icao, np.abs(reports.time[lo] - t), np.inf)
    ref = np.where(d_lo <= d_hi, lo, hi)
    ok = np.minimum(d_lo, d_hi) <= max_dt_s
    return _residuals(plots, rows[ok], reports, ref[ok], sites)


def plot_positions(plots: PlotTable, rows: I64, sites: Sites, assumed_height_m: float) -> F64:
    """Approximate ECEF positions ``(len(rows), 3)`` of radar plots ``rows``: range and
    azimuth with the measured elevation, else the elevation that puts the plot at its
    barometric height, else at ``assumed_height_m`` (spherical earth of the local radius)."""
    s = plots.sensor[rows].astype(np.int64)
    r, az, el = plots.z[rows, 0], plots.z[rows, 1], plots.z[rows, 2]
    h = np.where(np.isfinite(plots.baro_alt[rows]), plots.baro_alt[rows], assumed_height_m)
    R0 = mean_earth_radius(sites.llh[s, 0])
    a, b = R0 + sites.llh[s, 2], R0 + h
    sin_el = np.clip((b**2 - a**2 - r**2) / (2.0 * a * np.maximum(r, 1.0)), -1.0, 1.0)
    el = np.where(np.isfinite(el), el, np.arcsin(sin_el))
    enu = np.stack([r * np.cos(el) * np.sin(az), r * np.cos(el) * np.cos(az), r * np.sin(el)], 1)
    return np.asarray(sites.ecef[s] + np.einsum("nji,nj->ni", sites.rotation[s], enu))


def pair_by_position(
    plots: PlotTable,
    reports: AdsbReports,
    sites: Sites,
    *,
    gate_m: float = 6000.0,
    max_dt_s: float = 2.0,
    bias: F64 | None = None,
    candidates: int = 4,
    assumed_height_m: float = 8000.0,
    ref_sensor: I64 | None = None,
) -> RadarPairs:
    """Pairs of radar and SSR plots with the ADS-B report that explains them best.

    Candidates are the ``candidates`` nearest reports within ``gate_m`` in (position, time
    scaled by :data:`TIME_SCALE_MPS`) and ``max_dt_s``; a plot with an address only takes
    reports of that address. The best candidate has the smallest normalised residual after
    subtracting ``H @ bias[sensor]`` (``bias`` ``(S, 4)``, the current estimates). Each
    (sensor, aircraft, antenna turn) keeps its best plot. With ``ref_sensor`` (the sensor
    each report came from, for references made of plots), a plot only takes reports of
    sensors before its own in the list.
    """
    rows = np.flatnonzero(_measuring(plots, sites))
    none = _residuals(plots, rows[:0], reports, np.zeros(0, np.int64), sites)
    if rows.size == 0 or len(reports) == 0:
        return none
    t_ref = float(reports.time.min())
    tree = cKDTree(np.column_stack([reports.position, TIME_SCALE_MPS * (reports.time - t_ref)]))
    q = np.column_stack([plot_positions(plots, rows, sites, assumed_height_m),
                         TIME_SCALE_MPS * (plots.time[rows] - t_ref)])
    k = min(candidates, len(reports))
    _, idx = tree.query(q, k=k, distance_upper_bound=gate_m)
    idx = np.asarray(idx).reshape(len(rows), k)
    pr, cand = np.nonzero(idx < len(reports))
    if pr.size == 0:
        return none
    ref = idx[pr, cand].astype(np.int64)
    p_rows = rows[pr]
    ok = np.abs(plots.time[p_rows] - reports.time[ref]) <= max_dt_s
    p_icao = plots.icao[p_rows].astype(np.int64)
    ok &= (p_icao < 0) | (p_icao == reports.icao[ref])
    if ref_sensor is not None:
        ok &= ref_sensor[ref] < plots.sensor[p_rows]
    if not ok.any():
        return none
    pairs = _residuals(plots, p_rows[ok], reports, ref[ok], sites)
    y = pairs.y
    if bias is not None:
        y = y - np.einsum("nij,nj->ni", pairs.H(), bias[pairs.sensor])
    d2 = np.sum((y / pairs.sigma) ** 2, axis=1)
    # Best candidate per plot, then best plot per (sensor, aircraft, antenna turn).
    order = np.lexsort((d2, pairs.plot))
    first = order[np.r_[True, pairs.plot[order][1:] != pairs.plot[order][:-1]]]
    pairs, d2 = pairs.take(first), d2[first]
    turn = np.floor(plots.time[pairs.plot] / sites.period[pairs.sensor]).astype(np.int64)
    aircraft = reports.icao[pairs.ref]
    order = np.lexsort((d2, turn, aircraft, pairs.sensor))
    a, tn, sn = aircraft[order], turn[order], pairs.sensor[order]
    lead = np.r_[True, (a[1:] != a[:-1]) | (tn[1:] != tn[:-1]) | (sn[1:] != sn[:-1])]
    return pairs.take(np.sort(order[lead]))
