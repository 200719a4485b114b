"""ADS-B ground receivers: position and velocity broadcasts of equipped aircraft in sight.

Each aircraft broadcasts once per ``period_s`` at a fixed phase of its own; a receiver in line
of sight and range decodes a broadcast with probability ``pd``, except during reception
dropouts (starting at random, ``dropout_interval_s`` apart on average, lasting
``dropout_mean_s`` on average). Noise follows the aircraft's integrity categories: the
horizontal position error has the NACp 95 % bound ``EPU`` (sigma per axis ``EPU / 2.448``), the
horizontal velocity error the NACv bound. Plots: ``z = [x, y, z, vx, vy, vz]`` ECEF, ``sigma``
along local E, N, U.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from airpicture.geo import enu2ecefv
from airpicture.messages import SensorKind
from airpicture.plot_table import PlotTable
from airpicture.scenario.config import AdsbConfig
from airpicture.scenario.sensors.base import (
    Pairs,
    Sites,
    StepContext,
    event_offsets,
    plots,
    sensor_info,
    stable_phase,
    state_at,
)

F64 = NDArray[np.float64]
RAYLEIGH_95 = float(np.sqrt(-2.0 * np.log(0.05)))
"""95 % radius of a circular 2-D Gaussian in sigmas (2.448)."""
NACP_EPU_M = np.array([np.nan, 18520.0, 7408.0, 3704.0, 1852.0, 926.0, 555.6, 185.2, 92.6,
                       30.0, 10.0, 3.0])
"""Horizontal 95 % position bound (m) for NACp 0..11 (0: unknown)."""
NACV_BOUND_MPS = np.array([np.nan, 10.0, 3.0, 1.0, 0.3])
"""Horizontal 95 % velocity bound (m/s) for NACv 0..4 (0: unknown)."""


class AdsbReceivers:
    """A group of simulated ADS-B receivers (see the module docstring)."""

    def __init__(
        self, cfgs: Sequence[AdsbConfig], indices: Sequence[int], rng: np.random.Generator
    ) -> None:
        self.rng = rng
        self.sites = Sites(cfgs, indices)
        self.period = np.array([c.period_s for c in cfgs])
        self.pd = np.array([c.pd for c in cfgs])
        self.sigma_up = np.array([[c.sigma_vertical_m, c.sigma_vertical_rate_mps]
                                  for c in cfgs]).reshape(-1, 2)
        self.dropout_rate = np.array([c.period_s / c.dropout_interval_s for c in cfgs])
        self.dropout_mean = np.array([c.dropout_mean_s for c in cfgs])
        self.outage_until = np.zeros((len(cfgs), 0))
        self.infos = [sensor_info(c, SensorKind.ADSB, self.sites, i, c.period_s)
                      for i, c in enumerate(cfgs)]

    def observe(self, ctx: StepContext) -> PlotTable:
        n_obj = len(ctx.active)
        if self.outage_until.shape[1] != n_obj:
            self.outage_until = np.zeros((len(self.period), n_obj))
        pairs = self.sites.pairs(ctx, ctx.objects.adsb, 0.0)
        period = self.period[pairs.sensor]
        tau, now = event_offsets(stable_phase(pairs.obj, period, 0), period, ctx.time, ctx.dt)
        pairs, tau = pairs.take(now), tau[now]
        s = pairs.sensor
        p, v = state_at(ctx, pairs.obj, tau)
        ok = self.sites.in_view(p, ctx.height_at(pairs.obj, p), s)
        start = self.rng.random(len(pairs)) < self.dropout_rate[s]
        self.outage_until[s[start], pairs.obj[start]] = ctx.time + self.rng.exponential(
            self.dropout_mean[s[start]]
        )
        ok &= self.outage_until[s, pairs.obj] <= ctx.time
        ok &= self.rng.random(len(pairs)) < self.pd[s]
        pairs, tau, p, v = pairs.take(ok), tau[ok], p[ok], v[ok]
        ll = ctx.llh[pairs.obj, :2]
        s = pairs.sensor
        nacp = np.clip(ctx.objects.nacp[pairs.obj], 1, 11)
        nacv = np.clip(ctx.objects.nacv[pairs.obj], 1, 4)
        s_h = NACP_EPU_M[nacp] / RAYLEIGH_95
        s_vh = NACV_BOUND_MPS[nacv] / RAYLEIGH_95
        sigma = np.stack([s_h, s_h, self.sigma_up[s, 0], s_vh, s_vh, self.sigma_up[s, 1]],
                         axis=1)
        noise = sigma * self.rng.standard_normal(sigma.shape)
        z = np.concatenate([p + enu2ecefv(noise[:, :3], ll), v + enu2ecefv(noise[:, 3:], ll)],
                           axis=1)
        return plots(SensorKind.ADSB, self.sites.index[s], ctx.time + tau, z, sigma, pairs.obj,
                     ctx.objects)

    def covers(self, ctx: StepContext) -> Pairs:
        pairs = self.sites.pairs(ctx, ctx.objects.adsb, 0.0)
        return pairs.take(self.sites.in_view(ctx.position[pairs.obj], ctx.llh[pairs.obj, 2],
                                             pairs.sensor))
