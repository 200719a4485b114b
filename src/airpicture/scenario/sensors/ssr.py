"""Secondary surveillance radars / Mode S: replies only from transponder-equipped aircraft.

Plots are ``z = [range m, azimuth rad]`` in the site's ENU frame, with the barometric altitude
(quantised to 25 ft as Mode S reports it), the Mode 3/A code and, with Mode S, the 24-bit
address. No clutter; a reply is received with probability ``pd``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from airpicture.geo import TWO_PI
from airpicture.messages import SensorKind
from airpicture.plot_table import PlotTable
from airpicture.scenario.config import SsrConfig
from airpicture.scenario.sensors.base import (
    Pairs,
    Sites,
    StepContext,
    plots,
    sensor_info,
)
from airpicture.scenario.sensors.rotating import RotatingAntennas

BARO_QUANTUM_M = 25 * 0.3048


class Ssrs:
    """A group of simulated secondary radars (see the module docstring)."""

    def __init__(
        self, cfgs: Sequence[SsrConfig], indices: Sequence[int], rng: np.random.Generator
    ) -> None:
        self.rng = rng
        self.sites = Sites(cfgs, indices)
        self.antennas = RotatingAntennas(
            np.array([c.rotation_period_s for c in cfgs]), rng.uniform(0.0, TWO_PI, len(cfgs))
        )
        self.sigma = np.array([[c.sigma_range_m, np.radians(c.sigma_azimuth_deg)]
                               for c in cfgs]).reshape(-1, 2)
        self.pd = np.array([c.pd for c in cfgs])
        self.mode_s = np.array([c.mode_s for c in cfgs], bool)
        self.infos = [sensor_info(c, SensorKind.SSR, self.sites, i, c.rotation_period_s,
                                  self.sigma[i]) for i, c in enumerate(cfgs)]

    def observe(self, ctx: StepContext) -> PlotTable:
        pairs = self.sites.pairs(ctx, ctx.objects.transponder, 2e4)
        pairs, tau, _, _, aer, height, ok = self.antennas.illuminated(self.sites, ctx, pairs)
        ok &= self.rng.random(len(pairs)) < self.pd[pairs.sensor]
        pairs, tau, aer, height = pairs.take(ok), tau[ok], aer[ok], height[ok]
        s = pairs.sensor
        z = np.stack([aer[:, 2], aer[:, 0]], axis=1)
        z += self.sigma[s] * self.rng.standard_normal(z.shape)
        z[:, 1] = np.mod(z[:, 1], TWO_PI)
        baro = np.round(height / BARO_QUANTUM_M) * BARO_QUANTUM_M
        out = plots(SensorKind.SSR, self.sites.index[s], ctx.time + tau, z, self.sigma[s],
                    pairs.obj, ctx.objects, baro)
        no_mode_s = ~self.mode_s[s]
        out.icao[no_mode_s] = -1
        out.callsign[no_mode_s] = b""
        return out

    def covers(self, ctx: StepContext) -> Pairs:
        return self.sites.covered(ctx, ctx.objects.transponder)
