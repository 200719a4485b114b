"""Releasability: what a nation lets each partner see, enforced before anything is published.

A :class:`ReleasePolicy` (one per partner audience, from the node's TOML config) says:

- **which tracks** leave: inside one of ``areas`` (empty: anywhere) and inside none of
  ``withheld_areas``; height within ``[min_alt_m, max_alt_m]``; identity in ``identities``
  (empty: any); supported by at least one sensor of a kind in ``sensor_kinds`` (empty: any);
  status in ``statuses``;
- **which fields** are withheld (``withheld_fields``): they are blanked before encoding, so
  their values never reach the bytes;
- **what precision**: positions (``precision_m``) and velocities (``velocity_precision_mps``)
  are snapped to a grid of that step on each ECEF axis, so each released component is within
  half a step of the truth, and the covariance of those components grows by the variance of
  the rounding, ``step**2 / 12`` (uniform quantisation noise);
- **when**: ``delay_s`` holds releases back by that much data time (:class:`ReleaseQueue`).

Areas are polygons of ``[lat_deg, lon_deg]`` vertices with straight edges in latitude and
longitude; a polygon may cross the antimeridian (its vertices are unwrapped so each edge is
the short way round, and points are compared on the polygon's side of the date line).
"""

from __future__ import annotations

import collections
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import msgspec
import numpy as np
from numpy.typing import NDArray

from airpicture.geo import ecef2geodetic
from airpicture.messages import Identity, LocalTrack, SensorKind, TrackStatus

__all__ = [
    "WITHHOLDABLE",
    "Area",
    "ReleasePolicy",
    "ReleaseQueue",
    "coarsen",
    "in_polygon",
    "policy_from_mapping",
    "release",
    "release_mask",
]

WithheldField = Literal[
    "sensors", "mode_probabilities", "callsign", "icao", "mode3a", "identity", "last_update"
]
WITHHOLDABLE: tuple[str, ...] = WithheldField.__args__  # type: ignore[attr-defined]
"""The fields of :class:`~airpicture.messages.LocalTrack` a policy may withhold."""

_BLANK: dict[str, Any] = {
    "sensors": [],
    "mode_probabilities": [],
    "callsign": None,
    "icao": None,
    "mode3a": None,
    "identity": Identity.PENDING,
    "last_update": None,
}


class Area(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A polygon: ``vertices`` are ``[lat_deg, lon_deg]`` pairs, at least three, not closed."""

    vertices: list[tuple[float, float]]
    name: str = ""

    def __post_init__(self) -> None:
        if len(self.vertices) < 3:
            raise ValueError(f"area {self.name!r}: a polygon needs at least 3 vertices")
        for lat, lon in self.vertices:
            if not (-90.0 <= lat <= 90.0 and -360.0 <= lon <= 360.0):
                raise ValueError(f"area {self.name!r}: vertex ({lat}, {lon}) out of range")


class ReleasePolicy(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What one partner audience receives (see the module docstring)."""

    audience: str
    areas: list[Area] = msgspec.field(default_factory=list)
    withheld_areas: list[Area] = msgspec.field(default_factory=list)
    min_alt_m: float | None = None
    max_alt_m: float | None = None
    identities: list[Identity] = msgspec.field(default_factory=list)
    sensor_kinds: list[SensorKind] = msgspec.field(default_factory=list)
    statuses: list[TrackStatus] = msgspec.field(
        default_factory=lambda: [TrackStatus.CONFIRMED, TrackStatus.COASTING]
    )
    withheld_fields: list[WithheldField] = msgspec.field(default_factory=list)
    precision_m: float = 0.0
    velocity_precision_mps: float = 0.0
    delay_s: float = 0.0

    def __post_init__(self) -> None:
        for name in ("precision_m", "velocity_precision_mps", "delay_s"):
            value = getattr(self, name)
            if not (np.isfinite(value) and value >= 0.0):
                raise ValueError(f"{name} must be finite and >= 0, got {value}")


def policy_from_mapping(data: Mapping[str, Any], where: str) -> ReleasePolicy:
    """Validate a TOML table into a policy; ``ValueError`` names ``where`` and the bad key."""
    try:
        return msgspec.convert(dict(data), ReleasePolicy)
    except (msgspec.ValidationError, ValueError) as exc:
        raise ValueError(f"{where}: bad release policy: {exc}") from None


# -- geometry ------------------------------------------------------------------------------


def in_polygon(lat: NDArray[np.float64], lon: NDArray[np.float64], area: Area) -> NDArray[np.bool_]:
    """True where points (radians, any shape) are inside ``area`` (even-odd rule).

    Works across the antimeridian: vertex longitudes are unwrapped edge by edge, and each
    point's longitude is moved by whole turns next to the polygon's mean longitude.
    """
    v = np.radians(np.asarray(area.vertices, dtype=np.float64))
    vlat = v[:, 0]
    vlon = v[0, 1] + np.concatenate([[0.0], np.cumsum(_wrap(np.diff(v[:, 1])))])
    centre = vlon.mean()
    plon = centre + _wrap(np.asarray(lon) - centre)
    plat = np.asarray(lat)
    x0, y0 = vlon, vlat
    x1, y1 = np.roll(vlon, -1), np.roll(vlat, -1)
    px, py = plon[..., None], plat[..., None]
    crosses = (y0 > py) != (y1 > py)
    with np.errstate(divide="ignore", invalid="ignore"):
        x_at = x0 + (py - y0) * (x1 - x0) / (y1 - y0)
    inside: NDArray[np.bool_] = np.logical_xor.reduce(crosses & (px < x_at), axis=-1)
    return inside


def _wrap(angle: NDArray[np.float64]) -> NDArray[np.float64]:
    return (angle + np.pi) % (2.0 * np.pi) - np.pi


def release_mask(
    state: NDArray[np.float64],
    identity: Sequence[Identity],
    status: Sequence[TrackStatus],
    kinds: Sequence[frozenset[SensorKind]],
    policy: ReleasePolicy,
) -> NDArray[np.bool_]:
    """Which of ``N`` tracks (ECEF ``state (N, 6)``) the policy lets out."""
    n = len(state)
    llh = ecef2geodetic(state[:, :3]) if n else np.zeros((0, 3))
    lat, lon, h = llh[:, 0], llh[:, 1], llh[:, 2]
    keep = np.ones(n, bool)
    if policy.areas:
        keep &= np.logical_or.reduce([in_polygon(lat, lon, a) for a in policy.areas])
    for area in policy.withheld_areas:
        keep &= ~in_polygon(lat, lon, area)
    if policy.min_alt_m is not None:
        keep &= h >= policy.min_alt_m
    if policy.max_alt_m is not None:
        keep &= h <= policy.max_alt_m
    if policy.identities:
        allowed = set(policy.identities)
        keep &= np.fromiter((i in allowed for i in identity), bool, n)
    allowed_status = set(policy.statuses)
    keep &= np.fromiter((s in allowed_status for s in status), bool, n)
    if policy.sensor_kinds:
        wanted = frozenset(policy.sensor_kinds)
        keep &= np.fromiter((bool(k & wanted) for k in kinds), bool, n)
    return keep


def coarsen(
    state: NDArray[np.float64],
    covariance: NDArray[np.float64],
    precision_m: float,
    velocity_precision_mps: float = 0.0,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Snap ECEF positions / velocities to grids of the given steps; inflate the covariance.

    Returns new ``(state (N, 6), covariance (N, 6, 6))``: each snapped component is within
    half a step of the input, and its variance grows by ``step**2 / 12``. A step of 0 leaves
    that block unchanged.
    """
    x = state.copy()
    P = covariance.copy()
    for block, step in ((slice(0, 3), precision_m), (slice(3, 6), velocity_precision_mps)):
        if step > 0.0:
            x[:, block] = np.round(x[:, block] / step) * step
            i = np.arange(block.start, block.stop)
            P[:, i, i] += step * step / 12.0
    return x, P


# -- applying a policy to local tracks -----------------------------------------------------


def release(
    tracks: Sequence[LocalTrack],
    policy: ReleasePolicy,
    sensor_kinds: Mapping[str, SensorKind] | None = None,
) -> list[LocalTrack]:
    """The tracks ``policy`` lets out, with withheld fields blanked and precision coarsened.

    ``sensor_kinds`` maps the nation's sensor ids to their kinds (needed when the policy
    filters on kinds; an unknown id supports no kind). Order is preserved.
    """
    if not tracks:
        return []
    state = np.array([t.state for t in tracks], dtype=np.float64).reshape(len(tracks), 6)
    kinds_of = sensor_kinds or {}
    kinds = [frozenset(kinds_of[s] for s in t.sensors if s in kinds_of) for t in tracks]
    keep = release_mask(
        state, [t.identity for t in tracks], [t.status for t in tracks], kinds, policy
    )
    index = np.flatnonzero(keep)
    if index.size == 0:
        return []
    blank: dict[str, Any] = {name: _BLANK[name] for name in policy.withheld_fields}
    coarse = policy.precision_m > 0.0 or policy.velocity_precision_mps > 0.0
    if coarse:
        cov = np.array([tracks[i].covariance for i in index.tolist()], dtype=np.float64)
        new_x, new_P = coarsen(
            state[index],
            cov.reshape(-1, 6, 6),
            policy.precision_m,
            policy.velocity_precision_mps,
        )
        xs, Ps = new_x.tolist(), new_P.reshape(-1, 36).tolist()
    out = []
    for j, i in enumerate(index.tolist()):
        changes: dict[str, Any] = dict(blank)
        if coarse:
            changes["state"] = xs[j]
            changes["covariance"] = Ps[j]
        out.append(msgspec.structs.replace(tracks[i], **changes) if changes else tracks[i])
    return out


class ReleaseQueue:
    """Holds batches back by ``delay_s`` of data time: :meth:`due` gives what may leave now."""

    def __init__(self, delay_s: float) -> None:
        if not delay_s >= 0.0:
            raise ValueError(f"delay_s must be >= 0, got {delay_s}")
        self.delay_s = delay_s
        self._queue: collections.deque[tuple[float, list[LocalTrack]]] = collections.deque()

    def push(self, time: float, tracks: list[LocalTrack]) -> None:
        """Queue a batch valid at data ``time`` (batches must be pushed in time order)."""
        if self._queue and time < self._queue[-1][0]:
            raise ValueError(f"batch at {time} pushed after one at {self._queue[-1][0]}")
        self._queue.append((time, tracks))

    def due(self, now: float) -> list[tuple[float, list[LocalTrack]]]:
        """Pop every batch whose time is at least ``delay_s`` before ``now``, oldest first."""
        out = []
        while self._queue and self._queue[0][0] <= now - self.delay_s:
            out.append(self._queue.popleft())
        return out
