"""Areas: protected zones (polygons on the ellipsoid with an altitude band) and the coverage of
the position-measuring sensors; which points lie inside.

Pure and vectorised over points (one small loop over zones, which are configuration). A
polygon is given by its vertices (latitude, longitude in radians). Longitudes are unwrapped
relative to the first vertex, each edge taking the short way round, so a polygon that crosses
the antimeridian works; a point's longitude is unwrapped about the same vertex. Edges are
straight in latitude/longitude (rhumb-like), which is how zones are drawn on charts; a zone
spanning 180 degrees of longitude or more is not supported.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from airpicture.geo import ecef2geodetic, geodetic2ecef, radar_horizon_range, wrap_angle
from airpicture.messages import SensorInfo, SensorKind

__all__ = ["Coverage", "ZoneLike", "ZoneSet", "points_in_polygon"]

F64 = NDArray[np.float64]


class ZoneLike(Protocol):
    """What a zone from a configuration file provides (degrees and metres)."""

    @property
    def name(self) -> str: ...
    @property
    def vertices_deg(self) -> list[list[float]]: ...
    @property
    def min_alt_m(self) -> float: ...
    @property
    def max_alt_m(self) -> float: ...


def points_in_polygon(lat: F64, lon: F64, vertices: F64) -> NDArray[np.bool_]:
    """Whether points ``(lat, lon)`` (rad, ``(N,)``) lie inside the polygon ``vertices``
    (``(V, 2)`` [lat, lon] rad, not closed), by even-odd ray casting along latitude.

    >>> sq = np.radians([[0, 179], [0, -179], [2, -179], [2, 179]])
    >>> points_in_polygon(np.radians([1.0, 1.0]), np.radians([-179.5, 0.0]), sq).tolist()
    [True, False]
    """
    lon0 = vertices[0, 1]
    vx = lon0 + np.concatenate([[0.0], np.cumsum(wrap_angle(np.diff(vertices[:, 1])))])
    vy = vertices[:, 0]
    x = lon0 + wrap_angle(lon - lon0)
    x1, y1 = vx[None, :], vy[None, :]
    x2, y2 = np.roll(vx, -1)[None, :], np.roll(vy, -1)[None, :]
    py, px = lat[:, None], x[:, None]
    straddles = (y1 > py) != (y2 > py)
    with np.errstate(divide="ignore", invalid="ignore"):
        cross_x = x1 + (py - y1) * (x2 - x1) / (y2 - y1)
    crossings = np.count_nonzero(straddles & (px < cross_x), axis=1)
    return np.asarray(crossings % 2 == 1)


@dataclasses.dataclass(frozen=True)
class ZoneSet:
    """Protected zones: ``names``, polygon ``vertices`` (rad, one ``(V, 2)`` array each) and
    altitude bands ``min_alt``/``max_alt`` (m above the ellipsoid)."""

    names: tuple[str, ...]
    vertices: tuple[F64, ...]
    min_alt: F64
    max_alt: F64

    @classmethod
    def empty(cls) -> ZoneSet:
        return cls((), (), np.zeros(0), np.zeros(0))

    @classmethod
    def from_config(cls, zones: Sequence[ZoneLike]) -> ZoneSet:
        """Zones as configuration files write them (degrees, metres)."""
        return cls(
            names=tuple(z.name for z in zones),
            vertices=tuple(np.radians(np.asarray(z.vertices_deg, np.float64)) for z in zones),
            min_alt=np.array([z.min_alt_m for z in zones], np.float64),
            max_alt=np.array([z.max_alt_m for z in zones], np.float64),
        )

    def __len__(self) -> int:
        return len(self.names)

    def inside(self, position: F64) -> NDArray[np.bool_]:
        """``(N, Z)``: whether each ECEF ``position`` ``(N, 3)`` (m) is inside each zone."""
        out = np.zeros((len(position), len(self)), bool)
        if len(position) == 0 or len(self) == 0:
            return out
        llh = ecef2geodetic(position).reshape(-1, 3)
        for k, poly in enumerate(self.vertices):  # zones are few; points are vectorised
            band = (llh[:, 2] >= self.min_alt[k]) & (llh[:, 2] <= self.max_alt[k])
            out[:, k] = band & points_in_polygon(llh[:, 0], llh[:, 1], poly)
        return out


@dataclasses.dataclass(frozen=True)
class Coverage:
    """Where the position-measuring sensors (radar, secondary radar) can see: within range
    (times ``margin``) and above the 4/3-earth radar horizon of at least one site."""

    ecef: F64
    height: F64
    lat: F64
    max_range: F64
    min_range: F64

    @classmethod
    def from_sensors(cls, sensors: Sequence[SensorInfo]) -> Coverage:
        keep = [s for s in sensors if s.kind in (SensorKind.RADAR, SensorKind.SSR)]
        llh = np.radians([[s.lat_deg, s.lon_deg] for s in keep]).reshape(-1, 2)
        h = np.array([s.alt_m for s in keep], np.float64)
        return cls(
            ecef=geodetic2ecef(np.column_stack([llh, h])).reshape(-1, 3), height=h,
            lat=llh[:, 0], max_range=np.array([s.max_range_m for s in keep], np.float64),
            min_range=np.array([s.min_range_m for s in keep], np.float64),
        )

    def contains(self, position: F64, margin: float = 0.9) -> NDArray[np.bool_]:
        """Whether ECEF positions ``(N, 3)`` are covered (``margin`` shrinks the ranges)."""
        if len(position) == 0 or len(self.ecef) == 0:
            return np.zeros(len(position), bool)
        h = ecef2geodetic(position).reshape(-1, 3)[:, 2]
        d = np.linalg.norm(position[:, None, :] - self.ecef[None, :, :], axis=2)
        horizon = radar_horizon_range(self.height[None, :], h[:, None])
        ok = (d <= margin * np.minimum(self.max_range, horizon)) & (d >= self.min_range)
        return np.asarray(ok.any(axis=1))
