"""Seeded synthetic scenes for tracker tests and benchmarks: targets in a radar's ENU frame.

Targets fly in the local east/north/up frame of a reference site (where the first radar
stands); truth is converted to ECEF with :mod:`airpicture.geo`. Radar plots are exact
range/azimuth/elevation(/range-rate) plus Gaussian noise, each target detected once per
antenna revolution at the time the beam passes its azimuth. Nothing here is used by the
tracker itself.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from airpicture import geo
from airpicture.messages import SensorInfo, SensorKind
from airpicture.plot_table import KIND_CODE, PlotTable

Array = NDArray[np.float64]
Trajectory = Callable[[Array], Array]
"""Maps times ``(T, N)`` (s, one per target) to ENU states ``(T, N, 6)`` of ``N`` targets."""

SITE = (50.0, 4.0, 60.0)
"""Reference site: latitude, longitude (deg), height (m)."""
RADAR_SIGMA = (40.0, math.radians(0.08), math.radians(0.12), 3.0)


def radar(
    id: str = "r1", max_range: float = 250e3, period: float = 5.0, site: tuple[float, ...] = SITE,
    kind: SensorKind = SensorKind.RADAR,
) -> SensorInfo:
    """A sensor at ``site`` with the standard test sigmas."""
    return SensorInfo(id=id, nation="A", kind=kind, lat_deg=site[0], lon_deg=site[1],
                      alt_m=site[2], max_range_m=max_range, period_s=period,
                      sigma=list(RADAR_SIGMA))


def site_llh(site: tuple[float, ...] = SITE) -> Array:
    """Geodetic site (rad, rad, m)."""
    return np.array([math.radians(site[0]), math.radians(site[1]), site[2]])


def linear(p0: Array, v0: Array) -> Trajectory:
    """Constant-velocity ENU targets from ``p0 (N, 3)`` (m) at t=0 with ``v0 (N, 3)`` (m/s)."""

    def f(t: Array) -> Array:
        p = p0[None] + t[:, :, None] * v0[None]
        return np.concatenate([p, np.broadcast_to(v0, p.shape)], axis=2)

    return f


def turning(p0: Array, v0: Array, t_on: float, t_off: float, omega: float) -> Trajectory:
    """Targets flying straight, turning at ``omega`` (rad/s, left positive) in [t_on, t_off]."""

    def f(t: Array) -> Array:
        tt = t
        a = np.clip(tt, None, t_on)
        b = np.clip(tt, t_on, t_off) - t_on
        c = np.clip(tt - t_off, 0.0, None)
        ang = omega * b
        vx, vy = v0[None, :, 0], v0[None, :, 1]
        cs, sn = np.cos(ang), np.sin(ang)
        ve, vn = cs * vx - sn * vy, sn * vx + cs * vy
        ie = (np.sin(ang) * vx - (1 - np.cos(ang)) * vy) / omega
        in_ = ((1 - np.cos(ang)) * vx + np.sin(ang) * vy) / omega
        pe = p0[None, :, 0] + a * vx + ie + c * ve
        pn = p0[None, :, 1] + a * vy + in_ + c * vn
        pu = p0[None, :, 2] + (a + b + c) * v0[None, :, 2]
        return np.stack([pe, pn, pu, ve, vn, np.broadcast_to(v0[None, :, 2], pe.shape)], axis=2)

    return f


def to_ecef(enu: Array, site: tuple[float, ...] = SITE) -> Array:
    """ENU states ``(..., 6)`` at ``site`` to ECEF states."""
    llh = site_llh(site)
    pos = geo.enu2ecef(enu[..., :3], llh)
    vel = geo.enu2ecefv(enu[..., 3:], llh[:2])
    return np.concatenate([pos, vel], axis=-1)


@dataclasses.dataclass(frozen=True)
class Scan:
    """Plots of several scans and the truth at each plot (NaN for clutter)."""

    plots: PlotTable
    truth_ecef: Array


def radar_scans(
    traj: Trajectory, n_scans: int, rng: np.random.Generator, *, period: float = 5.0,
    t0: float = 1.7e9, pd: float = 1.0, clutter: float = 0.0, max_range: float = 250e3,
    range_rate: bool = False, sensor: int = 0, visible: Callable[[Array], NDArray[np.bool_]]
    | None = None,
) -> Scan:
    """Radar plots of ``n_scans`` revolutions of a radar at :data:`SITE`.

    ``traj`` times are relative to ``t0``. ``clutter`` is the mean number of false plots per
    scan, uniform in range, azimuth and elevation in [0, 0.2] rad. ``visible`` maps ENU
    states ``(N, 6)`` to a detectability mask (default: inside ``max_range``).
    """
    n = traj(np.zeros((1, 1))).shape[1]
    tables: list[PlotTable] = []
    truths: list[Array] = []
    for k in range(n_scans):
        start = k * period
        s0 = traj(np.full((1, n), start))[0]
        az0 = np.mod(np.arctan2(s0[:, 0], s0[:, 1]), 2 * np.pi)
        t = start + az0 / (2 * np.pi) * period
        s = traj(t[None])[0]
        rng_true = np.linalg.norm(s[:, :3], axis=1)
        seen = rng.random(n) < pd
        seen &= visible(s) if visible is not None else rng_true <= max_range
        s, t = s[seen], t[seen]
        z = _rae(s)
        z += rng.normal(size=z.shape) * np.array(RADAR_SIGMA)
        z[:, 1] = np.mod(z[:, 1], 2 * np.pi)
        n_fa = int(rng.poisson(clutter)) if clutter else 0
        fa = np.stack([rng.uniform(5e3, max_range, n_fa), rng.uniform(0, 2 * np.pi, n_fa),
                       rng.uniform(0, 0.2, n_fa), rng.uniform(-300, 300, n_fa)], axis=1)
        t_fa = start + fa[:, 1] / (2 * np.pi) * period
        zz = np.concatenate([z, fa])
        table = PlotTable.blank(len(zz))
        table.time[:] = t0 + np.concatenate([t, t_fa])
        table.sensor[:] = sensor
        table.kind[:] = KIND_CODE[SensorKind.RADAR]
        table.z[:, :4] = zz
        table.sigma[:, :4] = RADAR_SIGMA
        if not range_rate:
            table.z[:, 3] = np.nan
            table.sigma[:, 3] = np.nan
        table.truth[:] = np.concatenate([np.flatnonzero(seen), np.full(n_fa, -1)])
        tables.append(table)
        truths.append(np.concatenate([to_ecef(s), np.full((n_fa, 6), np.nan)]))
    plots = PlotTable.concat(tables)
    order = np.argsort(plots.time, kind="stable")
    return Scan(plots.take(order), np.concatenate(truths)[order])


def _rae(s: Array) -> Array:
    e, n, u = s[:, 0], s[:, 1], s[:, 2]
    r = np.linalg.norm(s[:, :3], axis=1)
    return np.stack([r, np.mod(np.arctan2(e, n), 2 * np.pi), np.arcsin(u / r),
                     np.einsum("ka,ka->k", s[:, :3], s[:, 3:]) / r], axis=1)
