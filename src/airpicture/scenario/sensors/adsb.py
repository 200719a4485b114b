"""ADS-B ground receivers: position and velocity broadcasts of equipped aircraft in sight.

Each aircraft broadcasts once per ``period_s`` at a fixed phase of its own; a receiver in line
of sight and range decodes a broadcast with probability ``pd``, except during reception
dropouts (starting at random, ``dropout_interval_s`` apart on average, lasting
``dropout_mean_s`` on average).

The error is in the broadcast, not in the receiver: it is the aircraft's own navigation error,
with the integrity categories it reports (horizontal position error with the NACp 95 % bound
``EPU``, sigma per axis ``EPU / 2.448``; horizontal velocity error with the NACv bound; the
vertical sigmas of the first receiver). Every receiver that decodes a broadcast gets the same
values. A nation's ADS-B network delivers each broadcast once (deduplicated, attributed to the
first of its receivers in scenario order that decoded it), as ADS-B networks do.
Plots: ``z = [x, y, z, vx, vy, vz]`` ECEF, ``sigma`` along local E, N, U.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from airpicture.geo_kernels import enu_to_ecef
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
        self.phase: F64 = np.zeros(0)
        self.infos = [sensor_info(c, SensorKind.ADSB, self.sites, i, c.period_s)
                      for i, c in enumerate(cfgs)]
        nations = sorted({c.nation for c in cfgs})
        self.nation = np.array([nations.index(c.nation) for c in cfgs], np.int64)
        self.n_nations = len(nations)

    def observe(self, ctx: StepContext) -> PlotTable:
        n_obj = len(ctx.active)
        if self.outage_until.shape[1] != n_obj:
            self.outage_until = np.zeros((len(self.period), n_obj))
            # Each aircraft's broadcast phase, as a fraction of the period: fixed for the run.
            self.phase = stable_phase(np.arange(n_obj, dtype=np.int64), 1.0, 0)
        pairs = self.sites.pairs(ctx, ctx.objects.adsb, 0.0)
        period = self.period[pairs.sensor]
        tau, now = event_offsets(self.phase[pairs.obj] * period, period, ctx.time, ctx.dt)
        pairs, tau = pairs.take(now), tau[now]
        # Walk each (aircraft, nation) group's receivers in scenario order; the first that
        # decodes the broadcast delivers it for its nation's network.
        s = pairs.sensor  # pairs come ordered by site: scenario order within the group
        group = pairs.obj * self.n_nations + self.nation[s]
        start = self.rng.random(len(pairs)) < self.dropout_rate[s]
        self.outage_until[s[start], pairs.obj[start]] = ctx.time + self.rng.exponential(
            self.dropout_mean[s[start]]
        )
        candidate = self.outage_until[s, pairs.obj] <= ctx.time
        candidate &= self.rng.random(len(pairs)) < self.pd[s]
        first = self.sites.first_visible(ctx, pairs, tau, group,
                                         len(ctx.active) * self.n_nations, candidate)
        pairs, tau = pairs.take(first), tau[first]
        # The broadcast itself, once per aircraft: the values every receiver decodes. (First
        # report per aircraft and the rank of each aircraft, in O(n) without sorting.)
        heard = np.zeros(n_obj, bool)
        heard[pairs.obj] = True
        obj = np.flatnonzero(heard)
        rank = np.cumsum(heard) - 1
        first = np.empty(n_obj, np.int64)
        first[pairs.obj[::-1]] = np.arange(len(pairs) - 1, -1, -1)
        first = first[obj]
        which = rank[pairs.obj]
        sent_z, sent_sigma = self._broadcast(ctx, obj, tau[first], pairs.sensor[first])
        return plots(SensorKind.ADSB, self.sites.index[pairs.sensor], ctx.time + tau,
                     sent_z[which], sent_sigma[which], pairs.obj, ctx.objects)

    def _broadcast(self, ctx: StepContext, obj: NDArray[np.int64], tau: F64,
                   receiver: NDArray[np.int64]) -> tuple[F64, F64]:
        """What aircraft ``obj`` broadcast at ``ctx.time + tau``: ECEF state with its own
        navigation error, and the sigmas (E, N, U) of that error."""
        p, v = state_at(ctx, obj, tau)
        ll = ctx.llh[obj, :2]
        s_h = NACP_EPU_M[np.clip(ctx.objects.nacp[obj], 1, 11)] / RAYLEIGH_95
        s_vh = NACV_BOUND_MPS[np.clip(ctx.objects.nacv[obj], 1, 4)] / RAYLEIGH_95
        up = self.sigma_up[receiver]
        sigma = np.stack([s_h, s_h, up[:, 0], s_vh, s_vh, up[:, 1]], axis=1)
        noise = sigma * self.rng.standard_normal(sigma.shape)
        # Position and velocity errors rotated together, one local frame per aircraft.
        error = enu_to_ecef(noise.reshape(-1, 2, 3), ll)
        return np.concatenate([p + error[:, 0], v + error[:, 1]], axis=1), sigma

    def covers(self, ctx: StepContext) -> Pairs:
        return self.sites.covered(ctx, ctx.objects.adsb)
