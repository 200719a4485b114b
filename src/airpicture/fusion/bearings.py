"""ESM bearings against ADS-B reports: is a broadcast position on the line a passive sensor
sees the aircraft along?

A passive ESM plot measures the azimuth ``z[0]`` (rad, clockwise from north in the site's
ENU frame) of an emitter. An ADS-B report extrapolated to the plot's time predicts the
azimuth ``az`` and ground range ``rho`` from the site; the residual ``y = wrap(z[0] - az)``
has one-sigma noise ``sqrt(sigma_esm^2 + (sigma_h / rho)^2)`` (sensor, and the report's
horizontal error seen across the line of sight), and ``|y| rho`` is the report's distance
from the bearing line in metres.

Pairing, vectorised over (plot, aircraft): an ESM plot that carries an address (a bearing
taken on the aircraft's own 1090 MHz squitter) pairs with that aircraft's newest report; one
without pairs with the aircraft whose newest report lies nearest the bearing line in sigma,
within ``gate_m`` of it and within the site's range, and only when no other aircraft comes
within ``ambiguity_sigma`` of that (two aircraft near one line cannot be told apart by a
bearing).
"""

from __future__ import annotations

import dataclasses

import numpy as np
from numpy.typing import NDArray

from airpicture.fusion.reference import AdsbReports, Sites
from airpicture.geo import wrap_angle
from airpicture.messages import SensorKind
from airpicture.plot_table import KIND_CODE, PlotTable

__all__ = ["BearingPairs", "pair_bearings"]

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
_ESM = KIND_CODE[SensorKind.ESM]


@dataclasses.dataclass(frozen=True)
class BearingPairs:
    """ESM plot-report pairs: ``plot`` (row in the plot table), ``ref`` (row in the reports),
    ``sensor``; the azimuth residual ``y`` (rad), the predicted ground range ``rho`` (m) and
    the residual's one-sigma noise ``sigma`` (rad)."""

    plot: I64
    ref: I64
    sensor: I64
    y: F64
    rho: F64
    sigma: F64

    def __len__(self) -> int:
        return len(self.plot)


def pair_bearings(
    plots: PlotTable,
    reports: AdsbReports,
    sites: Sites,
    *,
    gate_m: float = 5000.0,
    max_dt_s: float = 2.0,
    ambiguity_sigma: float = 3.0,
) -> BearingPairs:
    """Pairs of the ESM plots of ``plots`` with ADS-B ``reports`` (module docstring)."""
    none = BearingPairs(*(np.zeros(0, np.int64),) * 3, *(np.zeros(0),) * 3)
    if len(plots) == 0 or len(reports) == 0 or len(sites.kind) == 0:
        return none
    rows = np.flatnonzero((sites.kind[plots.sensor] == _ESM) & np.isfinite(plots.z[:, 0]))
    if rows.size == 0:
        return none
    # The newest report of each aircraft (reports are sorted by address, then time).
    last = np.flatnonzero(np.r_[reports.icao[1:] != reports.icao[:-1], True])
    s = plots.sensor[rows].astype(np.int64)
    dt = plots.time[rows][:, None] - reports.time[last][None, :]
    p = reports.position[last][None] + reports.velocity[last][None] * dt[..., None]
    enu = np.einsum("mij,maj->mai", sites.rotation[s], p - sites.ecef[s][:, None, :])
    rho = np.maximum(np.hypot(enu[..., 0], enu[..., 1]), 1.0)
    y = wrap_angle(plots.z[rows, 0][:, None] - np.arctan2(enu[..., 0], enu[..., 1]))
    sigma = np.hypot(sites.sigma[s, 0][:, None], reports.sigma_h[last][None, :] / rho)
    icao = plots.icao[rows].astype(np.int64)[:, None]
    addressed = icao >= 0
    ok = np.abs(dt) <= max_dt_s
    ok &= np.linalg.norm(enu, axis=2) <= sites.max_range[s][:, None]
    ok &= np.where(addressed, icao == reports.icao[last][None, :], np.abs(y) * rho <= gate_m)
    cost = np.where(ok, np.abs(y) / sigma, np.inf)
    best = np.argmin(cost, axis=1)
    m = np.arange(rows.size)
    c_best = cost[m, best]
    cost[m, best] = np.inf
    second = cost.min(axis=1)
    keep = np.isfinite(c_best) & (addressed[:, 0] | (second >= c_best + ambiguity_sigma))
    m, a = m[keep], best[keep]
    return BearingPairs(rows[m], last[a], s[m], y[m, a], rho[m, a], sigma[m, a])
