"""What every simulated sensor shares: the step context, site geometry and the plot builder.

Sensors of one kind are simulated together, as a group: their parameters are arrays with one
row per sensor, and each step works on the (sensor, object) pairs that are in range, so the
cost per step does not grow with the number of sensors times Python overhead.

A group observes the truth over one step ``[t, t + dt)``. Within the step an object moves on
``p + v tau + a tau^2 / 2`` (ECEF), so a sensor samples it at the exact instant its beam or a
broadcast falls. Periodic events (a rotating beam crossing the object's azimuth, an ADS-B
broadcast, an ESM intercept) happen at ``phase + k * period``; :func:`event_offsets` finds the
one inside the step.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Protocol

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from airpicture.geo import (
    TWO_PI,
    ecef2enu_rotation,
    geodetic2ecef,
    mean_earth_radius,
    up_vectors,
)
from airpicture.messages import SensorInfo, SensorKind
from airpicture.plot_table import KIND_CODE, PlotTable
from airpicture.scenario.config import SensorConfig
from airpicture.scenario.sensors.pair_geometry import first_visible, pair_geometry
from airpicture.truth_table import ObjectTable

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
Mask = NDArray[np.bool_]


class SpatialIndex:
    """A k-d tree over all objects' ECEF positions and their ellipsoid normals, reused for
    ``max_age_s``: searches widen by :data:`STALE_MARGIN_M` to cover what moved since, and the
    exact ranges are applied per pair afterwards. The normals serve only to turn motion within
    one step into height change, where 10 s of motion tilts them by less than 2 mrad."""

    max_age_s = 10.0
    STALE_MARGIN_M = 10.0 * 1000.0
    """Fastest object (1 km/s) times ``max_age_s``."""

    def __init__(self, time: float, llh: F64, position: F64) -> None:
        self.time = time
        self.tree = cKDTree(position)
        self.up = up_vectors(llh[:, 0], llh[:, 1])

    def fresh(self, time: float) -> bool:
        """Still usable at ``time`` (and the same objects)."""
        return 0.0 <= time - self.time < self.max_age_s


@dataclasses.dataclass(frozen=True)
class StepContext:
    """Truth over one step: states at ``time`` and accelerations over ``[time, time + dt)``.

    Arrays are indexed by object id; ``position``/``velocity``/``acceleration`` are ECEF
    ``(n, 3)`` in m, m/s, m/s^2; ``llh`` geodetic (rad, rad, m).
    """

    time: float
    dt: float
    active: Mask
    llh: F64
    position: F64
    velocity: F64
    acceleration: F64
    objects: ObjectTable
    index: SpatialIndex
    """Where the objects were at most ``SpatialIndex.max_age_s`` ago, and their normals."""

    @classmethod
    def build(cls, time: float, dt: float, active: Mask, llh: F64, position: F64,
              velocity: F64, acceleration: F64, objects: ObjectTable,
              index: SpatialIndex | None = None) -> StepContext:
        """A context; the spatial index is rebuilt unless a recent enough one is given."""
        if index is None or not index.fresh(time):
            index = SpatialIndex(time, llh, position)
        return cls(time, dt, active, llh, position, velocity, acceleration, objects, index)

    @property
    def up(self) -> F64:
        """Unit ellipsoid normals ``(n, 3)`` at the objects (as of the index)."""
        return self.index.up

    @property
    def height(self) -> F64:
        """Heights (m) above the ellipsoid at the step start, contiguous."""
        return np.ascontiguousarray(self.llh[:, 2])


@dataclasses.dataclass(frozen=True)
class Pairs:
    """(sensor, object) pairs: ``sensor`` is the row in the group, ``obj`` the object id."""

    sensor: I64
    obj: I64

    def take(self, keep: Mask | I64) -> Pairs:
        return Pairs(self.sensor[keep], self.obj[keep])

    def __len__(self) -> int:
        return len(self.obj)


class SensorGroup(Protocol):
    """All simulated sensors of one kind."""

    infos: list[SensorInfo]

    def observe(self, ctx: StepContext) -> PlotTable:
        """Plots produced during the step (any order; the simulator sorts)."""
        ...

    def covers(self, ctx: StepContext) -> Pairs:
        """(sensor, object) pairs inside coverage at ``ctx.time`` (geometry and kind only)."""
        ...


class Sites:
    """Places, limits and geometry of a group's sensors (radians and metres, one row each)."""

    def __init__(self, cfgs: Sequence[SensorConfig], indices: Sequence[int]) -> None:
        self.index = np.asarray(indices, np.int32)
        self.llh = np.array([[np.radians(c.lat_deg), np.radians(c.lon_deg), c.alt_m]
                             for c in cfgs]).reshape(-1, 3)
        self.ecef = geodetic2ecef(self.llh)
        self.max_range = np.array([c.max_range_km * 1e3 for c in cfgs])
        self.min_elevation = np.radians([c.min_elevation_deg for c in cfgs])
        self.k = np.array([c.refraction_k for c in cfgs])
        self.sector = np.array([
            np.radians(c.sector_deg) if c.sector_deg else [np.nan, np.nan] for c in cfgs
        ]).reshape(-1, 2)
        self.rotation = ecef2enu_rotation(self.llh[:, :2])
        self.radius = mean_earth_radius(self.llh[:, 0])
        self.min_range = np.zeros(len(self.index))
        self._candidates: tuple[SpatialIndex, float, Pairs] | None = None
        self._trees = {
            float(r): (np.flatnonzero(self.max_range == r).astype(np.int64),
                       cKDTree(self.ecef[self.max_range == r]))
            for r in np.unique(self.max_range)
        }

    def pairs(self, ctx: StepContext, eligible: Mask, margin: float) -> Pairs:
        """Eligible active objects within ``max_range + margin`` (straight line) of each site,
        ordered by site. The candidates are found once per spatial index (widened by what
        objects can move while it is in use) and filtered each step."""
        if len(ctx.active) == 0 or len(self.index) == 0:
            return Pairs(np.zeros(0, np.int64), np.zeros(0, np.int64))
        cached = self._candidates
        if cached is None or cached[0] is not ctx.index or cached[1] != margin:
            cached = self._candidates = (ctx.index, margin, self._search(ctx.index, margin))
        near = cached[2]
        keep = eligible[near.obj] & ctx.active[near.obj]
        return near.take(keep)

    def _search(self, index: SpatialIndex, margin: float) -> Pairs:
        sensors, objs = [], []
        # Sites of equal range share one tree query, all in C.
        margin += SpatialIndex.STALE_MARGIN_M
        for radius, (rows, tree) in self._trees.items():
            found = tree.sparse_distance_matrix(index.tree, radius + margin,
                                                output_type="ndarray")
            sensors.append(rows[found["i"]])
            objs.append(found["j"].astype(np.int64))
        s = np.concatenate(sensors)
        order = np.argsort(s.astype(np.int16), kind="stable")  # radix sort by site
        return Pairs(s[order], np.concatenate(objs)[order])

    def sample(self, ctx: StepContext, pairs: Pairs, tau: F64
               ) -> tuple[F64, F64, F64, F64, Mask]:
        """Pairs sampled at ``ctx.time + tau``: object positions and velocities (ECEF),
        [az, el, range] from the sites, heights (m), and visibility (range limits, sector,
        4/3-earth line of sight, elevation mask); see :mod:`.pair_geometry`."""
        return pair_geometry(
            pairs.sensor, pairs.obj, tau, *self._geometry_args(ctx))

    def first_visible(self, ctx: StepContext, pairs: Pairs, tau: F64, group: I64,
                      n_groups: int, candidate: Mask) -> I64:
        """Per ``group`` (pairs in order of preference): the index of the first candidate
        pair whose object the site can see at ``ctx.time + tau``."""
        return first_visible(
            group, n_groups, candidate, pairs.sensor, pairs.obj, tau,
            *self._geometry_args(ctx))

    def _geometry_args(self, ctx: StepContext) -> tuple[F64, ...]:
        return (ctx.position, ctx.velocity, ctx.acceleration, ctx.up, ctx.height, self.ecef,
                self.rotation, self.llh[:, 2], self.radius, self.k, self.max_range,
                self.min_range, self.min_elevation, self.sector)

    def covered(self, ctx: StepContext, eligible: Mask) -> Pairs:
        """Eligible objects each site could see at ``ctx.time`` (geometry only)."""
        pairs = self.pairs(ctx, eligible, 0.0)
        return pairs.take(self.sample(ctx, pairs, np.zeros(len(pairs)))[4])

    def sector_of(self, row: int) -> list[float]:
        """The sector of one site as ``SensorInfo`` writes it (empty for all round)."""
        s = self.sector[row]
        return [] if np.isnan(s[0]) else [float(s[0]), float(s[1])]


def in_sector(azimuth: F64, sector: F64) -> Mask:
    """True where ``azimuth`` lies in the clockwise sector ``[from, to]`` (rad); rows of
    ``sector`` that are NaN mean all round."""
    width = np.mod(sector[..., 1] - sector[..., 0], TWO_PI)
    inside = np.mod(azimuth - sector[..., 0], TWO_PI) <= width
    return np.asarray(np.isnan(sector[..., 0]) | inside)


def event_offsets(
    phase: F64, period: F64 | float, t: float, dt: F64 | float
) -> tuple[F64, Mask]:
    """Offsets ``tau`` in ``[0, period)`` from ``t`` to the next event at ``phase + k period``,
    and whether that event falls inside the step (``tau < dt``)."""
    tau = np.mod(phase - np.mod(t, period), period)
    return tau, tau < dt


def state_at(ctx: StepContext, ids: I64, tau: F64) -> tuple[F64, F64]:
    """ECEF positions and velocities of objects ``ids`` at ``ctx.time + tau``."""
    t = tau[:, None]
    a = ctx.acceleration[ids]
    p = ctx.position[ids] + ctx.velocity[ids] * t + 0.5 * a * t * t
    v = ctx.velocity[ids] + a * t
    return p, v


def plots(
    kind: SensorKind,
    sensor: NDArray[np.int32],
    time: F64,
    z: F64,
    sigma: F64,
    truth: I64,
    objects: ObjectTable | None = None,
    baro_alt: F64 | None = None,
) -> PlotTable:
    """Assemble a :class:`PlotTable`; ``z``/``sigma`` are ``(m, k)``, k <= 6.

    With ``objects``, the ICAO address, Mode 3/A code and callsign (and for ADS-B the NACp and
    NACv) are copied for rows whose ``truth`` is an object.
    """
    out = PlotTable.blank(len(time))
    out.time[:] = time
    out.sensor[:] = sensor
    out.kind[:] = KIND_CODE[kind]
    out.z[:, : z.shape[1]] = z
    out.sigma[:, : sigma.shape[1]] = sigma
    out.truth[:] = truth
    if baro_alt is not None:
        out.baro_alt[:] = baro_alt
    if objects is not None:
        real = truth >= 0
        ids = truth[real]
        out.icao[real] = objects.icao[ids]
        out.mode3a[real] = objects.mode3a[ids]
        out.callsign[real] = objects.callsign[ids]
        if kind is SensorKind.ADSB:
            out.nacp[real] = objects.nacp[ids]
            out.nacv[real] = objects.nacv[ids]
    return out


def sensor_info(
    cfg: SensorConfig, kind: SensorKind, sites: Sites, row: int, period_s: float,
    sigma: Sequence[float] = (), min_range_m: float = 0.0,
) -> SensorInfo:
    """The published description of one simulated sensor."""
    return SensorInfo(
        id=cfg.id, nation=cfg.nation, kind=kind, name=cfg.name,
        lat_deg=cfg.lat_deg, lon_deg=cfg.lon_deg, alt_m=cfg.alt_m,
        max_range_m=float(sites.max_range[row]), min_range_m=min_range_m,
        min_elevation_rad=float(sites.min_elevation[row]), period_s=period_s,
        sigma=[0.0 if np.isnan(s) else float(s) for s in sigma], sector_rad=sites.sector_of(row),
        sac=cfg.sac, sic=cfg.sic,
    )


def stable_phase(ids: I64, period: F64 | float, salt: NDArray[np.integer] | int) -> F64:
    """A fixed pseudo-random phase in ``[0, period)`` per object id (and sensor ``salt``)."""
    x = (np.asarray(ids).astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
         + np.asarray(salt).astype(np.uint64) * np.uint64(7919) + np.uint64(1))
    x ^= x >> np.uint64(31)
    return (x % np.uint64(1 << 20)).astype(np.float64) / float(1 << 20) * period
