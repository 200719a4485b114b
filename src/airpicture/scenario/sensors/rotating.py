"""Rotating antennas, shared by primary and secondary radars.

A beam points at azimuth ``beam0 + 2 pi t / T`` (clockwise from north, ``t`` in Unix seconds),
so it crosses an object at azimuth ``az`` at times ``(az - beam0) T / (2 pi) + k T``. The
crossing instant is found from the azimuth at the start of the step and refined once with the
azimuth at that instant.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from airpicture.geo import TWO_PI
from airpicture.scenario.sensors.base import Pairs, Sites, StepContext, event_offsets, state_at

F64 = NDArray[np.float64]


class RotatingAntennas:
    """Beams turning clockwise, ``period`` seconds per revolution, from ``beam0`` (one per row)."""

    def __init__(self, period: F64, beam0: F64) -> None:
        self.period = period
        self.beam0 = beam0

    def azimuth(self, sensor: NDArray[np.int64], t: F64) -> F64:
        """Beam azimuths (rad) of sensors ``sensor`` at times ``t``."""
        period = self.period[sensor]
        return np.mod(self.beam0[sensor] + TWO_PI * (np.mod(t, period) / period), TWO_PI)

    def illuminated(
        self, sites: Sites, ctx: StepContext, pairs: Pairs
    ) -> tuple[Pairs, F64, F64, F64, F64]:
        """Pairs whose beam crosses the object during the step.

        Returns those pairs, offsets ``tau`` (s) from ``ctx.time``, the objects' ECEF position
        and velocity at ``ctx.time + tau``, and their [az, el, range] from the site then.
        """
        period = self.period[pairs.sensor]
        enu = sites.enu(ctx.position[pairs.obj], pairs.sensor)
        az = np.arctan2(enu[:, 0], enu[:, 1])
        phase = (az - self.beam0[pairs.sensor]) * period / TWO_PI
        tau, hit = event_offsets(phase, period, ctx.time, ctx.dt + 0.05 * period)
        pairs, tau = pairs.take(hit), tau[hit]
        p, _ = state_at(ctx, pairs.obj, tau)
        period = self.period[pairs.sensor]
        enu = sites.enu(p, pairs.sensor)
        az = np.arctan2(enu[:, 0], enu[:, 1])
        tau, hit = event_offsets((az - self.beam0[pairs.sensor]) * period / TWO_PI, period,
                                 ctx.time, ctx.dt)
        pairs, tau = pairs.take(hit), tau[hit]
        p, v = state_at(ctx, pairs.obj, tau)
        return pairs, tau, p, v, sites.aer(p, pairs.sensor)
