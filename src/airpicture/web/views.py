"""Tracks as the page shows them: geodetic position, flight level, speed, 2-sigma ellipse.

Conversion is vectorised over all tracks of a snapshot (one ``ecef2geodetic`` and one
rotation per call). Display units (degrees, feet, knots) appear only here, at the edge.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import msgspec
import numpy as np
from numpy.typing import NDArray

from airpicture import geo
from airpicture.messages import LocalTrack, SystemTrack

__all__ = ["Area", "TrackView", "filter_views", "local_views", "system_views"]

FT = 0.3048
KT = 1852.0 / 3600.0
SIGMA2_SCALE = 2.0  # 2-sigma ellipses


class TrackView(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One track on the page.

    ``key`` is unique in its view (``S<stn>`` for system tracks, ``<nation>:<id>`` for a
    nation's local tracks); ``stn`` is the system track number (for a local track: the one it
    is fused into, if any). ``lat``/``lon`` degrees, ``alt_m`` metres HAE, ``fl`` flight
    level (hundreds of feet), ``speed_kt`` ground speed, ``course_deg`` from true north,
    ``vrate_ms`` vertical rate; ``ell`` the horizontal 2-sigma ellipse [semi-major m,
    semi-minor m, orientation of the major axis in degrees from north].
    """

    key: str
    time: float
    lat: float
    lon: float
    alt_m: float
    fl: int
    speed_kt: float
    course_deg: float
    vrate_ms: float
    ell: list[float]
    identity: str
    status: str
    quality: float
    stn: int | None = None
    nations: list[str] = msgspec.field(default_factory=list)
    callsign: str | None = None
    icao: str | None = None
    mode3a: str | None = None
    local_id: int | None = None


class _Kinematics(msgspec.Struct, frozen=True):
    lat: list[float]
    lon: list[float]
    alt: list[float]
    speed: list[float]
    course: list[float]
    vrate: list[float]
    ell: list[list[float]]


def _kinematics(state: NDArray[np.float64], cov: NDArray[np.float64]) -> _Kinematics:
    """Display kinematics of ECEF states ``(N, 6)`` and covariances ``(N, 6, 6)``."""
    llh = geo.ecef2geodetic(state[:, :3])
    rot = geo.ecef2enu_rotation(llh[:, :2])
    v = np.einsum("nij,nj->ni", rot, state[:, 3:])
    p = np.einsum("nij,njk,nlk->nil", rot, cov[:, :3, :3], rot)[:, :2, :2]
    # eigen-decomposition of the horizontal (east, north) covariance
    a, b, c = p[:, 0, 0], p[:, 0, 1], p[:, 1, 1]
    mean = 0.5 * (a + c)
    dev = np.sqrt(np.maximum(0.25 * (a - c) ** 2 + b**2, 0.0))
    l1, l2 = mean + dev, np.maximum(mean - dev, 0.0)
    # major axis direction (east, north) -> bearing from north
    angle = 0.5 * np.arctan2(2.0 * b, a - c)  # from east, counter-clockwise
    bearing = np.mod(90.0 - np.degrees(angle), 180.0)
    ell = np.column_stack([SIGMA2_SCALE * np.sqrt(np.maximum(l1, 0.0)),
                           SIGMA2_SCALE * np.sqrt(l2), bearing])
    return _Kinematics(
        lat=np.round(np.degrees(llh[:, 0]), 6).tolist(),
        lon=np.round(np.degrees(llh[:, 1]), 6).tolist(),
        alt=np.round(llh[:, 2], 1).tolist(),
        speed=np.round(np.hypot(v[:, 0], v[:, 1]) / KT, 1).tolist(),
        course=np.round(np.mod(np.degrees(np.arctan2(v[:, 0], v[:, 1])), 360.0), 1).tolist(),
        vrate=np.round(v[:, 2], 1).tolist(),
        ell=np.round(np.nan_to_num(ell), 1).tolist(),
    )


def _arrays(tracks: Sequence[SystemTrack] | Sequence[LocalTrack]
            ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    n = len(tracks)
    state = np.array([t.state for t in tracks], dtype=np.float64).reshape(n, 6)
    cov = np.array([t.covariance for t in tracks], dtype=np.float64).reshape(n, 6, 6)
    return state, cov


def _fl(alt_m: float) -> int:
    return round(alt_m / FT / 100.0) if math.isfinite(alt_m) else 0


def system_views(tracks: Sequence[SystemTrack]) -> list[TrackView]:
    """Views of system tracks (deleted ones left out)."""
    tracks = [t for t in tracks if t.status != "deleted"]
    if not tracks:
        return []
    k = _kinematics(*_arrays(tracks))
    return [
        TrackView(
            key=f"S{t.stn}", stn=t.stn, time=t.time, lat=k.lat[i], lon=k.lon[i],
            alt_m=k.alt[i], fl=_fl(k.alt[i]), speed_kt=k.speed[i], course_deg=k.course[i],
            vrate_ms=k.vrate[i], ell=k.ell[i], identity=t.identity.value,
            status=t.status.value, quality=round(t.quality, 3), nations=list(t.nations),
            callsign=t.callsign, icao=None if t.icao is None else f"{t.icao:06X}",
            mode3a=None if t.mode3a is None else f"{t.mode3a:04o}",
        )
        for i, t in enumerate(tracks)
    ]


def local_views(tracks: Sequence[LocalTrack], stn_of: dict[tuple[str, int], int]
                ) -> list[TrackView]:
    """Views of one nation's local tracks; ``stn_of`` maps (nation, id) to the bound STN."""
    tracks = [t for t in tracks if t.status != "deleted"]
    if not tracks:
        return []
    k = _kinematics(*_arrays(tracks))
    return [
        TrackView(
            key=f"{t.nation}:{t.track_id}", stn=stn_of.get((t.nation, t.track_id)),
            local_id=t.track_id, time=t.time, lat=k.lat[i], lon=k.lon[i], alt_m=k.alt[i],
            fl=_fl(k.alt[i]), speed_kt=k.speed[i], course_deg=k.course[i], vrate_ms=k.vrate[i],
            ell=k.ell[i], identity=t.identity.value, status=t.status.value,
            quality=round(t.quality, 3), nations=[t.nation], callsign=t.callsign,
            icao=None if t.icao is None else f"{t.icao:06X}",
            mode3a=None if t.mode3a is None else f"{t.mode3a:04o}",
        )
        for i, t in enumerate(tracks)
    ]


class Area(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """An area and altitude band a client subscribes to.

    ``bbox`` is ``[west, south, east, north]`` in degrees as in RFC 7946: ``west > east``
    means the box crosses the antimeridian. ``alt_m`` is ``[low, high]`` metres HAE.
    """

    bbox: list[float] | None = None
    alt_m: list[float] | None = None

    def validate(self) -> Area:
        """Return self, or raise ``ValueError`` naming what is wrong."""
        if self.bbox is not None:
            if len(self.bbox) != 4 or not all(math.isfinite(x) for x in self.bbox):
                raise ValueError("bbox must be 4 finite numbers [west, south, east, north]")
            w, s, e, n = self.bbox
            if not (-180.0 <= w <= 180.0 and -180.0 <= e <= 180.0):
                raise ValueError("bbox longitudes must be within [-180, 180]")
            if not -90.0 <= s <= n <= 90.0:
                raise ValueError("bbox latitudes must satisfy -90 <= south <= north <= 90")
        if self.alt_m is not None:
            if len(self.alt_m) != 2 or not all(math.isfinite(x) for x in self.alt_m):
                raise ValueError("alt_m must be 2 finite numbers [low, high]")
            if self.alt_m[0] > self.alt_m[1]:
                raise ValueError("alt_m low must not exceed high")
        return self

    def contains(self, view: TrackView) -> bool:
        if self.bbox is not None:
            w, s, e, n = self.bbox
            if not s <= view.lat <= n:
                return False
            inside = w <= view.lon <= e if w <= e else (view.lon >= w or view.lon <= e)
            if not inside:
                return False
        if self.alt_m is not None:
            return self.alt_m[0] <= view.alt_m <= self.alt_m[1]
        return True


def filter_views(views: Sequence[TrackView], area: Area | None) -> list[TrackView]:
    """The views inside ``area`` (all when ``None``)."""
    if area is None or (area.bbox is None and area.alt_m is None):
        return list(views)
    return [v for v in views if area.contains(v)]
