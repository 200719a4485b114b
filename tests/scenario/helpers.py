"""Building blocks for sensor tests: static objects placed where a test wants them."""

from __future__ import annotations

import numpy as np

from airpicture import geo
from airpicture.scenario.sensors.base import StepContext
from airpicture.truth_table import ObjectTable

T0 = 1_780_272_000.0


def objects(n: int, *, transponder: bool = True, adsb: bool = True, emitter: bool = True,
            rcs: float = 1.0, nacp: int = 9, nacv: int = 2) -> ObjectTable:
    return ObjectTable(
        id=np.arange(n, dtype=np.int64), cls=np.zeros(n, np.uint8),
        icao=np.arange(0x400000, 0x400000 + n, dtype=np.int32),
        mode3a=np.full(n, 0o1234, np.int16), callsign=np.full(n, b"TST1", "S8"),
        transponder=np.full(n, transponder), adsb=np.full(n, adsb), emitter=np.full(n, emitter),
        rcs=np.full(n, rcs), nacp=np.full(n, nacp, np.int8), nacv=np.full(n, nacv, np.int8),
    )


def around(site_deg: tuple[float, float, float], bearings_deg: np.ndarray,
           ranges_m: np.ndarray, heights_m: np.ndarray) -> np.ndarray:
    """Geodetic positions (rad, rad, m) at ground ranges and bearings from a site."""
    ll = np.radians(site_deg[:2])
    pts = geo.destination_points(np.broadcast_to(ll, (len(bearings_deg), 2)),
                                 np.radians(bearings_deg), ranges_m)
    return np.column_stack([pts, heights_m])


def context(t: float, llh: np.ndarray, objs: ObjectTable, dt: float = 1.0,
            velocity: np.ndarray | None = None) -> StepContext:
    pos = geo.geodetic2ecef(llh)
    vel = np.zeros_like(pos) if velocity is None else velocity
    return StepContext.build(t, dt, np.ones(len(pos), bool), llh, pos, vel, np.zeros_like(pos),
                             objs)
