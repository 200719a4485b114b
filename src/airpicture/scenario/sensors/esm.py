"""Passive ESM sites: bearings (and optionally elevations) of emitting objects only.

Each emitter is intercepted once per ``period_s`` at a fixed phase of its own (per site), in
line of sight and range, with probability ``pd``. Plots: ``z = [azimuth rad, elevation rad]``
in the site's ENU frame (elevation NaN when not measured). ESM never gives range.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from airpicture.geo import TWO_PI
from airpicture.messages import SensorKind
from airpicture.plot_table import PlotTable
from airpicture.scenario.config import EsmConfig
from airpicture.scenario.sensors.base import (
    Pairs,
    Sites,
    StepContext,
    event_offsets,
    plots,
    sensor_info,
    stable_phase,
)


class EsmSites:
    """A group of simulated passive ESM sites (see the module docstring)."""

    def __init__(
        self, cfgs: Sequence[EsmConfig], indices: Sequence[int], rng: np.random.Generator
    ) -> None:
        self.rng = rng
        self.sites = Sites(cfgs, indices)
        self.period = np.array([c.period_s for c in cfgs])
        self.pd = np.array([c.pd for c in cfgs])
        self.sigma = np.array([[
            np.radians(c.sigma_azimuth_deg),
            np.radians(c.sigma_elevation_deg) if c.sigma_elevation_deg else np.nan,
        ] for c in cfgs]).reshape(-1, 2)
        self.infos = [sensor_info(c, SensorKind.ESM, self.sites, i, c.period_s, self.sigma[i])
                      for i, c in enumerate(cfgs)]

    def observe(self, ctx: StepContext) -> PlotTable:
        pairs = self.sites.pairs(ctx, ctx.objects.emitter, 0.0)
        period = self.period[pairs.sensor]
        phase = stable_phase(pairs.obj, period, self.sites.index[pairs.sensor] + 1)
        tau, now = event_offsets(phase, period, ctx.time, ctx.dt)
        pairs, tau = pairs.take(now), tau[now]
        _, _, aer, _, ok = self.sites.sample(ctx, pairs, tau)
        ok &= self.rng.random(len(pairs)) < self.pd[pairs.sensor]
        pairs, tau, aer = pairs.take(ok), tau[ok], aer[ok]
        sigma = self.sigma[pairs.sensor]
        z = aer[:, :2] + np.nan_to_num(sigma) * self.rng.standard_normal((len(pairs), 2))
        z[:, 0] = np.mod(z[:, 0], TWO_PI)
        z[:, 1] = np.where(np.isnan(sigma[:, 1]), np.nan, z[:, 1])
        return plots(SensorKind.ESM, self.sites.index[pairs.sensor], ctx.time + tau, z, sigma,
                     pairs.obj)

    def covers(self, ctx: StepContext) -> Pairs:
        return self.sites.covered(ctx, ctx.objects.emitter)
