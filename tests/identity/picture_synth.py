"""Synthetic local tracks moving in straight lines, fed to the picture epoch by epoch."""

from __future__ import annotations

import dataclasses

import numpy as np
from numpy.typing import NDArray

from airpicture import geo
from airpicture.fusion import EpochResult, Picture
from airpicture.track_table import TrackTable

T0 = 1_780_272_000.0
F64 = NDArray[np.float64]


@dataclasses.dataclass
class Obj:
    """One object: where it starts (deg, deg, m), its ENU velocity (m/s), its identifiers."""

    lat: float
    lon: float
    alt: float
    v_enu: tuple[float, float, float]
    icao: int = -1
    mode3a: int = -1
    callsign: bytes = b""


def reports(objs: list[Obj], t: float, nation: bytes = b"AAA",
            mode3a: dict[int, int] | None = None) -> TrackTable:
    """Local tracks of ``objs`` at time ``t`` (track id = index + 1)."""
    n = len(objs)
    llh = np.array([[np.radians(o.lat), np.radians(o.lon), o.alt] for o in objs])
    v_enu = np.array([o.v_enu for o in objs], np.float64)
    v = geo.enu2ecefv(v_enu, llh[:, :2])
    x = geo.geodetic2ecef(llh) + v * (t - T0)
    table = TrackTable.blank(n)
    table.time[:] = t
    table.track[:] = np.arange(1, n + 1)
    table.source[:] = nation
    table.state[:] = np.column_stack([x, v])
    table.covariance[:] = np.diag([100.0**2] * 3 + [5.0**2] * 3)
    table.quality[:] = 1.0
    table.icao[:] = [o.icao for o in objs]
    table.mode3a[:] = [o.mode3a for o in objs]
    for k, code in (mode3a or {}).items():
        table.mode3a[k] = code
    table.callsign[:] = [o.callsign for o in objs]
    return table


def run(picture: Picture, objs: list[Obj], seconds: int, start: int = 0) -> list[EpochResult]:
    """Feed one record per second for ``seconds`` seconds; the closed epochs."""
    out: list[EpochResult] = []
    for k in range(start, start + seconds):
        out += picture.ingest(reports(objs, T0 + k + 0.25))
    return out


def rows_of(result: EpochResult, n: int) -> NDArray[np.int64]:
    """Picture rows of objects ``0 .. n-1`` (one nation; track id = index + 1; -1 if absent)."""
    out = np.full(n, -1, np.int64)
    k = result.contributor_track - 1
    ok = (k >= 0) & (k < n)
    out[k[ok]] = np.searchsorted(result.picture.track, result.contributor_stn[ok])
    return out
