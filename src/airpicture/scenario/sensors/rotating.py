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
from airpicture.scenario.sensors.base import Pairs, Sites, StepContext, event_offsets

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
    ) -> tuple[Pairs, F64, F64, F64, F64, F64, NDArray[np.bool_]]:
        """Pairs whose beam crosses the object during the step.

        Returns those pairs, offsets ``tau`` (s) from ``ctx.time``, and what
        :meth:`Sites.sample` gives at ``ctx.time + tau``: positions, velocities, [az, el,
        range], heights and visibility.
        """
        az = sites.sample(ctx, pairs, np.zeros(len(pairs)))[2][:, 0]
        pairs, tau = self._crossing(ctx, pairs, az, ctx.dt + 0.05 * self.period[pairs.sensor])
        az = sites.sample(ctx, pairs, tau)[2][:, 0]
        pairs, tau = self._crossing(ctx, pairs, az, ctx.dt)
        return (pairs, tau, *sites.sample(ctx, pairs, tau))

    def _crossing(self, ctx: StepContext, pairs: Pairs, az: F64, window: F64 | float
                  ) -> tuple[Pairs, F64]:
        """Pairs whose beam reaches azimuth ``az`` within ``window`` s of ``ctx.time``."""
        period = self.period[pairs.sensor]
        phase = (az - self.beam0[pairs.sensor]) * period / TWO_PI
        tau, hit = event_offsets(phase, period, ctx.time, window)
        return pairs.take(hit), tau[hit]
