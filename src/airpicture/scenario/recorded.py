"""Real recorded flights replayed as truth: time-shifted and, optionally, moved into the region.

Reads the gzip JSON state-vector lists of the ``traffic`` package samples (timestamp in ms,
latitude/longitude in degrees, altitude in feet, groundspeed in knots, track in degrees,
vertical rate in ft/min; see ``../shared/data/traffic_samples/SOURCE.txt``). A flight is a run
of airborne state vectors of one address and callsign without gaps over 60 s. Relocation keeps
the flight's shape: positions are expressed in the local ENU frame of its first point and laid
down again in the ENU frame of the new origin (pymap3d).
"""

from __future__ import annotations

import dataclasses
import gzip
import json
from pathlib import Path
from typing import Any

import numpy as np
import pymap3d
from numpy.typing import NDArray

from airpicture.geo import WGS84, wrap_lon

F64 = NDArray[np.float64]
FT, KT, FPM = 0.3048, 1852.0 / 3600.0, 0.3048 / 60.0
MAX_GAP_S = 60.0


@dataclasses.dataclass(frozen=True)
class Flight:
    """One recorded flight: times (s) and states in radians, metres and m/s (ENU velocity)."""

    icao: int
    callsign: str
    squawk: int
    time: F64
    llh: F64
    velocity_enu: F64


def load_flights(path: Path, min_duration_s: float) -> list[Flight]:
    """Airborne flights of at least ``min_duration_s`` from a state-vector file."""
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        rows = json.load(fh)
    good = [
        r for r in rows
        if not r.get("onground") and all(isinstance(r.get(k), int | float) for k in _COLUMNS)
    ]
    good.sort(key=lambda r: (r["icao24"], r.get("callsign") or "", r["timestamp"]))
    flights: list[Flight] = []
    start = 0
    for i in range(1, len(good) + 1):
        split = i == len(good) or (
            good[i]["icao24"] != good[i - 1]["icao24"]
            or good[i].get("callsign") != good[i - 1].get("callsign")
            or good[i]["timestamp"] - good[i - 1]["timestamp"] > MAX_GAP_S * 1000
        )
        if split:
            seg = good[start:i]
            start = i
            if seg and (seg[-1]["timestamp"] - seg[0]["timestamp"]) / 1000 >= min_duration_s:
                flights.append(_flight(seg))
    return flights


_COLUMNS = ("timestamp", "latitude", "longitude", "altitude", "groundspeed", "track")


def _flight(seg: list[dict[str, Any]]) -> Flight:
    a = np.array(
        [[float(r[k]) for k in _COLUMNS] + [float(r.get("vertical_rate") or 0.0)] for r in seg]
    )
    t, time_unique = np.unique(a[:, 0] / 1000.0, return_index=True)
    a = a[time_unique]
    trk = np.radians(a[:, 5])
    gs = a[:, 4] * KT
    vel = np.stack([gs * np.sin(trk), gs * np.cos(trk), a[:, 6] * FPM], axis=1)
    llh = np.stack([np.radians(a[:, 1]), np.radians(a[:, 2]), a[:, 3] * FT], axis=1)
    squawk = str(seg[0].get("squawk") or "")
    return Flight(
        icao=int(str(seg[0]["icao24"]), 16),
        callsign=str(seg[0].get("callsign") or "")[:8],
        squawk=int(squawk, 8) if squawk.isdigit() and "8" not in squawk and "9" not in squawk
        else -1,
        time=t,
        llh=llh,
        velocity_enu=vel,
    )


def relocate(flight: Flight, origin_ll: F64) -> Flight:
    """The same flight with its first point moved to ``origin_ll`` [lat, lon] (rad)."""
    lat0, lon0, h0 = flight.llh[0]
    e, n, u = pymap3d.geodetic2enu(
        flight.llh[:, 0], flight.llh[:, 1], flight.llh[:, 2], lat0, lon0, h0, WGS84, deg=False
    )
    lat, lon, h = pymap3d.enu2geodetic(
        e, n, u, origin_ll[0], origin_ll[1], h0, WGS84, deg=False
    )
    llh = np.stack([lat, wrap_lon(lon), h], axis=1)
    return dataclasses.replace(flight, llh=llh)


class Recorded:
    """Replayed flights resampled on the scenario's step grid (one row per flight)."""

    def __init__(self, flights: list[Flight], starts: F64, grid: F64) -> None:
        n, k = len(flights), len(grid)
        self.llh = np.zeros((k, n, 3))
        self.velocity_enu = np.zeros((k, n, 3))
        self.valid = np.zeros((k, n), bool)
        for j, (f, s) in enumerate(zip(flights, starts, strict=True)):
            local = grid - s + f.time[0]
            ok = (local >= f.time[0]) & (local <= f.time[-1])
            self.valid[:, j] = ok
            lon = np.unwrap(f.llh[:, 1])
            cols = [f.llh[:, 0], lon, f.llh[:, 2], *f.velocity_enu.T]
            vals = [np.interp(local, f.time, c) for c in cols]
            self.llh[:, j] = np.stack([vals[0], wrap_lon(vals[1]), vals[2]], axis=1)
            self.velocity_enu[:, j] = np.stack(vals[3:], axis=1)
        self.step = 0
        self.active = self.valid[0] if k else np.zeros(n, bool)

    def advance(self, step: int) -> None:
        """Move to grid index ``step``."""
        self.step = step
        self.active = self.valid[step]
