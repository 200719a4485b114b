"""Scenario events applied to the simulated plots: emergency squawks and ADS-B spoofing.

Pure: :func:`apply_events` takes a plot table and returns a new one. A ``squawk`` event sets
the Mode 3/A code of every plot of its object from its time on; a ``spoof`` event shifts the
object's ADS-B positions by a fixed east/north offset (the aircraft broadcasts a false
position; radar still sees it where it is).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from airpicture.geo import ecef2geodetic, enu2ecefv
from airpicture.messages import SensorKind
from airpicture.plot_table import KIND_CODE, PlotTable
from airpicture.scenario.config import Event

__all__ = ["apply_events"]


def apply_events(plots: PlotTable, events: Sequence[Event], t0: float) -> PlotTable:
    """Plots with ``events`` applied (times of events are seconds after ``t0``)."""
    if not events or len(plots) == 0:
        return plots
    mode3a, z = plots.mode3a.copy(), plots.z.copy()
    adsb = plots.kind == KIND_CODE[SensorKind.ADSB]
    for e in events:  # a handful per scenario
        rows = (plots.truth == e.object) & (plots.time >= t0 + e.time_s)
        if e.kind == "squawk" and e.code is not None:
            mode3a[rows] = int(e.code, 8)
        elif e.kind == "spoof" and e.offset_m is not None:
            rows &= adsb
            if rows.any():
                ll = ecef2geodetic(z[rows, :3])[:, :2]
                enu = np.array([e.offset_m[0], e.offset_m[1], 0.0])
                z[rows, :3] += enu2ecefv(np.broadcast_to(enu, (len(ll), 3)), ll)
    return PlotTable(**{**plots.columns(), "mode3a": mode3a, "z": z})
