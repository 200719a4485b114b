"""Primary surveillance radars: rotating beams, radar-equation detection, noise, biases, clutter.

Plots are ``z = [range m, azimuth rad, elevation rad, range-rate m/s]`` in the radar's ENU
frame (elevation NaN for a 2-D radar, range-rate NaN when not measured). Biases corrupt the
measurements: ``range * (1 + gain) + offset``, ``azimuth + bias``, and the time stamp is
``true time + time bias``. Clutter is a Poisson number of false plots per scan, uniform in
area between the minimum and maximum range, at the beam's azimuth. An over-the-horizon radar
sees past the horizon (no line-of-sight test) but not inside its minimum range.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from airpicture.geo import TWO_PI
from airpicture.messages import SensorKind
from airpicture.plot_table import PlotTable
from airpicture.scenario.config import RadarConfig
from airpicture.scenario.sensors.base import (
    Pairs,
    Sites,
    StepContext,
    in_sector,
    plots,
    sensor_info,
)
from airpicture.scenario.sensors.detection import (
    radar_equation_snr,
    reference_snr,
    swerling1_pd,
)
from airpicture.scenario.sensors.rotating import RotatingAntennas

F64 = NDArray[np.float64]


class Radars:
    """A group of simulated primary radars (see the module docstring)."""

    def __init__(
        self, cfgs: Sequence[RadarConfig], indices: Sequence[int], rng: np.random.Generator
    ) -> None:
        self.rng = rng
        self.sites = Sites(cfgs, indices)
        self.min_range = np.array([c.min_range_km * 1e3 for c in cfgs])
        self.sites.min_range = self.min_range
        # An over-the-horizon radar has no horizon: a flat effective earth (k -> infinity).
        self.sites.k = np.where([c.over_the_horizon for c in cfgs], 1e9, self.sites.k)
        self.antennas = RotatingAntennas(
            np.array([c.rotation_period_s for c in cfgs]), rng.uniform(0.0, TWO_PI, len(cfgs))
        )
        self.snr_ref = np.array([reference_snr(c.pd_ref, c.pfa) for c in cfgs])
        self.ref_rcs = np.array([c.ref_rcs_m2 for c in cfgs])
        self.ref_range = np.array([c.ref_range_km * 1e3 for c in cfgs])
        self.pfa = np.array([c.pfa for c in cfgs])
        self.sigma = np.array([[
            c.sigma_range_m,
            np.radians(c.sigma_azimuth_deg),
            np.radians(c.sigma_elevation_deg) if c.measures_elevation else np.nan,
            c.sigma_range_rate_mps if c.sigma_range_rate_mps is not None else np.nan,
        ] for c in cfgs]).reshape(-1, 4)
        self.bias = np.array([[c.bias_range_m, c.bias_range_gain, np.radians(c.bias_azimuth_deg),
                               c.bias_time_s] for c in cfgs]).reshape(-1, 4)
        self.clutter = np.array([c.clutter_per_scan for c in cfgs])
        self.clutter_el = np.radians([c.clutter_max_elevation_deg for c in cfgs])
        self.infos = [
            sensor_info(c, SensorKind.RADAR, self.sites, i, c.rotation_period_s,
                        self.sigma[i], c.min_range_km * 1e3)
            for i, c in enumerate(cfgs)
        ]

    def pd(self, sensor: NDArray[np.int64], rcs: F64, slant_range: F64) -> F64:
        """Detection probability of objects with ``rcs`` (m^2) at ``slant_range`` (m)."""
        snr = radar_equation_snr(self.snr_ref[sensor], rcs, self.ref_rcs[sensor], slant_range,
                                 self.ref_range[sensor])
        return swerling1_pd(snr, self.pfa[sensor])

    def observe(self, ctx: StepContext) -> PlotTable:
        pairs = self.sites.pairs(ctx, np.ones(len(ctx.active), bool), 2e4)
        pairs, tau, p, v, aer, _, seen = self.antennas.illuminated(self.sites, ctx, pairs)
        pd = self.pd(pairs.sensor, ctx.objects.rcs[pairs.obj], aer[:, 2])
        keep = seen & (self.rng.random(len(pairs)) < pd)
        pairs, tau, p, v, aer = pairs.take(keep), tau[keep], p[keep], v[keep], aer[keep]
        s = pairs.sensor
        rate = np.sum((p - self.sites.ecef[s]) * v, axis=1) / np.maximum(aer[:, 2], 1.0)
        z = np.stack([aer[:, 2], aer[:, 0], aer[:, 1], rate], axis=1)
        sigma = self.sigma[s]
        z += np.nan_to_num(sigma) * self.rng.standard_normal(z.shape)
        b = self.bias[s]
        z[:, 0] += aer[:, 2] * b[:, 1] + b[:, 0]
        z[:, 1] = np.mod(z[:, 1] + b[:, 2], TWO_PI)
        z[:, 2:] = np.where(np.isnan(sigma[:, 2:]), np.nan, z[:, 2:])
        target = plots(SensorKind.RADAR, self.sites.index[s], ctx.time + tau + b[:, 3], z,
                       sigma, pairs.obj)
        return PlotTable.concat([target, self._clutter(ctx)])

    def _clutter(self, ctx: StepContext) -> PlotTable:
        mean = self.clutter * ctx.dt / self.antennas.period
        counts = self.rng.poisson(mean)
        s = np.repeat(np.arange(len(counts)), counts)
        m = len(s)
        tau = self.rng.uniform(0.0, ctx.dt, m)
        r = np.sqrt(self.rng.uniform(self.min_range[s] ** 2, self.sites.max_range[s] ** 2))
        az = self.antennas.azimuth(s, ctx.time + tau)
        el = self.rng.uniform(0.0, self.clutter_el[s])
        sigma = self.sigma[s]
        rr = self.rng.normal(0.0, 3.0 * np.nan_to_num(sigma[:, 3], nan=1.0))
        z = np.stack([r, az, el, rr], axis=1)
        z[:, 2:] = np.where(np.isnan(sigma[:, 2:]), np.nan, z[:, 2:])
        keep = in_sector(az, self.sites.sector[s])
        return plots(SensorKind.RADAR, self.sites.index[s[keep]],
                     ctx.time + tau[keep] + self.bias[s[keep], 3], z[keep], sigma[keep],
                     np.full(int(keep.sum()), -1, np.int64))

    def covers(self, ctx: StepContext) -> Pairs:
        pairs = self.sites.covered(ctx, np.ones(len(ctx.active), bool))
        slant = np.linalg.norm(ctx.position[pairs.obj] - self.sites.ecef[pairs.sensor], axis=1)
        return pairs.take(self.pd(pairs.sensor, ctx.objects.rcs[pairs.obj], slant) >= 0.5)
