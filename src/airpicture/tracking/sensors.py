"""Per-sensor constants as arrays: sites, ENU rotations, periods and filter settings."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
from numpy.typing import NDArray

from airpicture import geo
from airpicture.messages import SensorKind
from airpicture.plot_table import KIND_CODE
from airpicture.tracking.config import TrackerConfig
from airpicture.tracking.filters import FilterKind

Array = NDArray[np.float64]


@dataclasses.dataclass(frozen=True)
class SensorArrays:
    """The configured sensors as arrays indexed by a plot's ``sensor`` column.

    ``site (S, 3)`` ECEF (m), ``llh (S, 3)`` geodetic (rad, rad, m), ``rot (S, 3, 3)`` ECEF to
    ENU rotations at the sites, ``max_range (S,)`` m, ``period (S,)`` s, ``pd (S,)``,
    ``false_alarms (S,)`` per scan, ``kind (S,)`` kind codes, ``filter`` one per sensor.
    """

    kinds: tuple[SensorKind, ...]
    kind: NDArray[np.uint8]
    site: Array
    llh: Array
    rot: Array
    max_range: Array
    period: Array
    pd: Array
    false_alarms: Array
    filter: tuple[FilterKind, ...]

    @classmethod
    def from_config(cls, config: TrackerConfig) -> SensorArrays:
        s = config.sensors
        llh = np.array([[math.radians(i.lat_deg), math.radians(i.lon_deg), i.alt_m] for i in s])
        llh = llh.reshape(len(s), 3)
        params = [config.sensor_params(k) for k in range(len(s))]
        return cls(
            kinds=tuple(i.kind for i in s),
            kind=np.array([KIND_CODE[i.kind] for i in s], np.uint8),
            site=geo.geodetic2ecef(llh),
            llh=llh,
            rot=geo.ecef2enu_rotation(llh[:, :2]),
            max_range=np.array([i.max_range_m for i in s], float),
            period=np.array([max(i.period_s, 1e-3) for i in s], float),
            pd=np.array([p.pd for p in params], float),
            false_alarms=np.array([p.false_alarms_per_scan for p in params], float),
            filter=tuple(p.filter for p in params),
        )

    def clutter_density(self, sensor: int, cols: NDArray[np.intp]) -> float:
        """False-alarm density (per unit measurement volume) of the ``cols`` components.

        The volume is the sensor's measurement space: range up to ``max_range``, azimuth over
        2 pi, elevation over pi/2, range-rate over 1000 m/s, height over 20 km, ADS-B positions
        over a ``2 max_range`` square by 20 km and velocities over 600 m/s per axis.
        """
        r = float(self.max_range[sensor])
        span = {
            SensorKind.RADAR: [r, 2 * math.pi, math.pi / 2, 1000.0],
            SensorKind.SSR: [r, 2 * math.pi, 2e4],
            SensorKind.ADSB: [2 * r, 2 * r, 2e4, 600.0, 600.0, 600.0],
            SensorKind.ESM: [2 * math.pi, math.pi / 2],
        }[self.kinds[sensor]]
        volume = float(np.prod(np.asarray(span)[cols]))
        return max(float(self.false_alarms[sensor]), 1e-9) / volume
