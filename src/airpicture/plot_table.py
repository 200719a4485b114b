"""Plots as columns: the form in which detections travel through the core.

One row per plot. ``z`` and ``sigma`` are ``(M, 6)`` and NaN-padded; their layout depends on the
sensor kind (``kind`` is the index into :data:`airpicture.messages.SENSOR_KINDS`):

=====  ==========================================================  =========================
kind   ``z``                                                        frame
=====  ==========================================================  =========================
radar  range (m), azimuth (rad), elevation (rad), range-rate (m/s)  sensor ENU (range-rate NaN
                                                                    when not measured)
ssr    range (m), azimuth (rad)                                     sensor ENU; height in
                                                                    ``baro_alt`` (m)
adsb   x, y, z (m), vx, vy, vz (m/s)                                ECEF; ``sigma`` along local
                                                                    E, N, U (velocity NaN when
                                                                    not reported)
esm    azimuth (rad), elevation (rad)                               sensor ENU (elevation NaN
                                                                    when not measured)
=====  ==========================================================  =========================

``sigma`` holds the one-sigma noise of each ``z`` component. ``sensor`` indexes the list of
:class:`airpicture.messages.SensorInfo` the table travels with. Missing integers are -1,
missing floats NaN. ``truth`` is the simulated object that caused the plot (-1 for clutter and
for real data); trackers must not read it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from airpicture.columns import ColumnTable
from airpicture.messages import SENSOR_KINDS, Plot, SensorInfo, SensorKind

Z_WIDTH = 6
KIND_CODE: dict[SensorKind, int] = {k: i for i, k in enumerate(SENSOR_KINDS)}
Z_SIZE: dict[SensorKind, int] = {
    SensorKind.RADAR: 4,
    SensorKind.SSR: 2,
    SensorKind.ADSB: 6,
    SensorKind.ESM: 2,
}
"""Number of meaningful leading components of ``z`` per kind."""


@dataclasses.dataclass(frozen=True)
class PlotTable(ColumnTable):
    """Plots of one or more sensors, one row per plot (see the module docstring)."""

    time: NDArray[np.float64]
    sensor: NDArray[np.int32]
    kind: NDArray[np.uint8]
    z: NDArray[np.float64]
    sigma: NDArray[np.float64]
    icao: NDArray[np.int32]
    mode3a: NDArray[np.int16]
    callsign: NDArray[np.bytes_]
    baro_alt: NDArray[np.float64]
    nacp: NDArray[np.int8]
    nacv: NDArray[np.int8]
    truth: NDArray[np.int64]

    @classmethod
    def empty(cls) -> PlotTable:
        return cls.blank(0)

    @classmethod
    def blank(cls, n: int) -> PlotTable:
        """``n`` rows with every optional field missing (NaN / -1 / empty)."""
        return cls(
            time=np.zeros(n),
            sensor=np.zeros(n, np.int32),
            kind=np.zeros(n, np.uint8),
            z=np.full((n, Z_WIDTH), np.nan),
            sigma=np.full((n, Z_WIDTH), np.nan),
            icao=np.full(n, -1, np.int32),
            mode3a=np.full(n, -1, np.int16),
            callsign=np.zeros(n, "S8"),
            baro_alt=np.full(n, np.nan),
            nacp=np.full(n, -1, np.int8),
            nacv=np.full(n, -1, np.int8),
            truth=np.full(n, -1, np.int64),
        )

    def sorted_by_time(self) -> PlotTable:
        """Rows in data-time order (stable, so equal times keep their order)."""
        return self.take(np.argsort(self.time, kind="stable"))

    def to_messages(self, sensors: Sequence[SensorInfo]) -> list[Plot]:
        """Edge conversion to :class:`Plot` messages (one per row)."""
        out: list[Plot] = []
        for i in range(len(self)):
            kind = SENSOR_KINDS[int(self.kind[i])]
            m = Z_SIZE[kind]
            out.append(
                Plot(
                    time=float(self.time[i]),
                    sensor_id=sensors[int(self.sensor[i])].id,
                    kind=kind,
                    z=[float(v) for v in self.z[i, :m]],
                    sigma=[float(v) for v in self.sigma[i, :m]],
                    icao=_opt_int(self.icao[i]),
                    mode3a=_opt_int(self.mode3a[i]),
                    callsign=self.callsign[i].decode("ascii") or None,
                    baro_alt_m=None if np.isnan(self.baro_alt[i]) else float(self.baro_alt[i]),
                    nacp=_opt_int(self.nacp[i]),
                    nacv=_opt_int(self.nacv[i]),
                )
            )
        return out

    @classmethod
    def from_messages(cls, plots: Sequence[Plot], sensors: Sequence[SensorInfo]) -> PlotTable:
        """Edge conversion from :class:`Plot` messages; unknown sensor ids raise ``KeyError``."""
        index = {s.id: i for i, s in enumerate(sensors)}
        t = cls.blank(len(plots))
        for i, p in enumerate(plots):
            if p.sensor_id not in index:
                raise KeyError(f"plot {i}: unknown sensor id {p.sensor_id!r}")
            t.time[i] = p.time
            t.sensor[i] = index[p.sensor_id]
            t.kind[i] = KIND_CODE[p.kind]
            t.z[i, : len(p.z)] = p.z
            t.sigma[i, : len(p.sigma)] = p.sigma
            t.icao[i] = -1 if p.icao is None else p.icao
            t.mode3a[i] = -1 if p.mode3a is None else p.mode3a
            t.callsign[i] = (p.callsign or "").encode("ascii")
            t.baro_alt[i] = np.nan if p.baro_alt_m is None else p.baro_alt_m
            t.nacp[i] = -1 if p.nacp is None else p.nacp
            t.nacv[i] = -1 if p.nacv is None else p.nacv
        return t


def _opt_int(value: np.integer) -> int | None:
    v = int(value)
    return None if v < 0 else v
