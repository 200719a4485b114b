"""Plot validation at the tracker's entry: bad plots are rejected and counted per sensor.

Every plot gets at most one reason (the first that applies, in :data:`REASONS` order). Counts
are ``(len(REASONS), n_sensors + 1)`` integer arrays; the last column collects plots whose
sensor index names no configured sensor.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from airpicture.messages import SENSOR_KINDS, SensorKind
from airpicture.plot_table import PlotTable
from airpicture.tracking import measurement

REASONS: tuple[str, ...] = (
    "unknown_sensor",
    "kind_mismatch",
    "non_finite",
    "missing_component",
    "bad_sigma",
    "negative_range",
    "azimuth_range",
    "elevation_range",
    "position_range",
    "future",
    "late",
    "numerical",
)
"""Rejection reasons in test order; ``late`` and ``numerical`` are set by the tracker."""

REASON = {r: i for i, r in enumerate(REASONS)}

_EARTH_SHELL_M = (6.2e6, 6.5e6)
"""ADS-B positions must lie this far (m) from the earth's centre."""


def validate(
    plots: PlotTable, sensor_kinds: NDArray[np.uint8], reference_time: float, max_future_s: float
) -> tuple[NDArray[np.int8], NDArray[np.int64]]:
    """Check every plot; returns the reason code per plot (-1 when valid) and the counts.

    Parameters
    ----------
    plots : PlotTable
    sensor_kinds : (S,) uint8 array
        Kind code of each configured sensor.
    reference_time : float
        Data time (s) against which "far in the future" is judged.
    max_future_s : float

    Returns
    -------
    reason : (M,) int8 array
        Index into :data:`REASONS`, or -1.
    counts : (len(REASONS), S + 1) int64 array
    """
    M, S = len(plots), len(sensor_kinds)
    reason = np.full(M, -1, np.int8)

    def flag(mask: NDArray[np.bool_], name: str) -> None:
        reason[(reason < 0) & mask] = REASON[name]

    sensor = plots.sensor.astype(np.int64)
    known = (sensor >= 0) & (sensor < S)
    flag(~known, "unknown_sensor")
    safe_sensor = np.where(known, sensor, 0)
    flag(known & (sensor_kinds[safe_sensor] != plots.kind), "kind_mismatch")
    flag(~np.isfinite(plots.time), "non_finite")
    flag(np.isinf(plots.z).any(axis=1) | np.isinf(plots.sigma).any(axis=1)
         | np.isinf(plots.baro_alt), "non_finite")
    for code, kind in enumerate(SENSOR_KINDS):
        rows = np.flatnonzero((plots.kind == code) & (reason < 0))
        if rows.size:
            _check_kind(kind, plots, rows, reason)
    flag(plots.time > reference_time + max_future_s, "future")
    counts = np.zeros((len(REASONS), S + 1), np.int64)
    bad = reason >= 0
    np.add.at(counts, (reason[bad].astype(np.intp), np.where(known, sensor, S)[bad]), 1)
    return reason, counts


def _check_kind(kind: SensorKind, plots: PlotTable, rows: NDArray[np.intp],
                reason: NDArray[np.int8]) -> None:
    zf, sf = measurement.plot_vector(kind, plots.z[rows], plots.sigma[rows],
                                     plots.baro_alt[rows], 1.0)
    req = list(measurement.REQUIRED[kind])
    tests: list[tuple[NDArray[np.bool_], str]] = [
        (np.asarray(np.isnan(zf[:, req]).any(axis=1)), "missing_component"),
        (np.asarray(~(np.isfinite(zf) <= (np.isfinite(sf) & (sf > 0.0))).all(axis=1)),
         "bad_sigma"),
    ]
    if kind in (SensorKind.RADAR, SensorKind.SSR):
        tests.append((zf[:, 0] <= 0.0, "negative_range"))
    if kind is not SensorKind.ADSB:
        az = zf[:, measurement.ANGLES[kind][0]]
        tests.append(((az < -np.pi) | (az > 2.0 * np.pi), "azimuth_range"))
    el_col = {SensorKind.RADAR: 2, SensorKind.ESM: 1}.get(kind)
    if el_col is not None:
        el = zf[:, el_col]
        tests.append((np.abs(el) > np.pi / 2.0, "elevation_range"))
    if kind is SensorKind.ADSB:
        radius = np.linalg.norm(zf[:, :3], axis=1)
        tests.append(((radius < _EARTH_SHELL_M[0]) | (radius > _EARTH_SHELL_M[1]),
                      "position_range"))
    for mask, name in tests:
        sub = reason[rows]
        sub[(sub < 0) & mask] = REASON[name]
        reason[rows] = sub
