"""Releasability: what a nation lets each partner see, enforced before anything is published.

A :class:`ReleasePolicy` (one per partner audience, from the node's TOML config) says:

- **which tracks** leave: inside one of ``areas`` (empty: anywhere) and inside none of
  ``withheld_areas``; height within ``[min_alt_m, max_alt_m]``; identity in ``identities``
  (empty: any); supported by at least one sensor of a kind in ``sensor_kinds`` (empty: any);
  status in ``statuses``;
- **which fields** are withheld (``withheld_fields``): they are blanked in the released
  columns and named in :attr:`LocalTrackColumns.withheld`, so the wire leaves them out of the
  ``LocalTrackBatch`` and their values never reach the bytes;
- **what precision**: positions (``precision_m``) and velocities (``velocity_precision_mps``)
  are snapped to a grid of that step on each ECEF axis, so each released component is within
  half a step of the truth, and the covariance of those components grows by the variance of
  the rounding, ``step**2 / 12`` (uniform quantisation noise);
- **when**: ``delay_s`` holds releases back by that much data time (:class:`ReleaseQueue`).

:func:`release` works on a nation's tracks as columns (:class:`LocalTrackColumns`), with no
Python object per track.

Areas are polygons of ``[lat_deg, lon_deg]`` vertices with straight edges in latitude and
longitude; a polygon may cross the antimeridian (its vertices are unwrapped so each edge is
the short way round, and points are compared on the polygon's side of the date line).
"""

from __future__ import annotations

import collections
import dataclasses
from collections.abc import Mapping
from typing import Any, Literal

import msgspec
import numpy as np
from numpy.typing import NDArray

from airpicture.geo import ecef2geodetic
from airpicture.messages import SENSOR_KINDS, Identity, SensorKind, TrackStatus
from airpicture.track_table import IDENTITY_CODES, STATUS_CODES, TrackTable

__all__ = [
    "WITHHOLDABLE",
    "Area",
    "LocalTrackColumns",
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

_PENDING = IDENTITY_CODES.index(Identity.PENDING)


@dataclasses.dataclass(frozen=True)
class LocalTrackColumns:
    """One nation's local tracks at one release tick, as columns: what a policy filters and
    the wire encodes (:class:`~airpicture.messages.LocalTrackBatch`).

    ``table`` holds the tracks (``source``: the nation; ECEF state (m, m/s) and covariance).
    Per row: ``sensors`` is a bit mask (bit ``i``: ``sensor_ids[i]`` contributed),
    ``mode_probabilities (N, M)`` the IMM mode probabilities at the last update and
    ``last_update (N,)`` that update's data time (s; NaN: none). ``withheld`` names the
    fields a policy blanked: the wire leaves them out.
    """

    table: TrackTable
    sensors: NDArray[np.uint64]
    mode_probabilities: NDArray[np.float64]
    last_update: NDArray[np.float64]
    sensor_ids: tuple[str, ...]
    withheld: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        n = len(self.table)
        if not (len(self.sensors) == len(self.last_update) == len(self.mode_probabilities) == n):
            raise ValueError(f"LocalTrackColumns: columns differ in length from the {n} tracks")

    def __len__(self) -> int:
        return len(self.table)

    def take(self, index: NDArray[Any] | slice) -> LocalTrackColumns:
        """Rows selected by an integer index, a boolean mask or a slice."""
        return dataclasses.replace(
            self,
            table=self.table.take(index),
            sensors=self.sensors[index],
            mode_probabilities=self.mode_probabilities[index],
            last_update=self.last_update[index],
        )


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
    identity: NDArray[np.uint8],
    status: NDArray[np.uint8],
    kind_bits: NDArray[np.uint64],
    policy: ReleasePolicy,
) -> NDArray[np.bool_]:
    """Which of ``N`` tracks the policy lets out.

    ``state (N, 6)`` is ECEF; ``identity`` and ``status`` are codes (indices into
    :data:`~airpicture.track_table.IDENTITY_CODES` / ``STATUS_CODES``); ``kind_bits`` has
    bit ``k`` set where a sensor of kind ``SENSOR_KINDS[k]`` supports the track.
    """
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
        keep &= np.isin(identity, [IDENTITY_CODES.index(i) for i in policy.identities])
    keep &= np.isin(status, [STATUS_CODES.index(s) for s in policy.statuses])
    if policy.sensor_kinds:
        wanted = sum(1 << SENSOR_KINDS.index(k) for k in set(policy.sensor_kinds))
        keep &= (kind_bits & np.uint64(wanted)) != 0
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


# -- applying a policy to a nation's local tracks ------------------------------------------


def release(
    tracks: LocalTrackColumns,
    policy: ReleasePolicy,
    sensor_kinds: Mapping[str, SensorKind] | None = None,
) -> LocalTrackColumns:
    """The tracks ``policy`` lets out, with withheld fields blanked and precision coarsened.

    ``sensor_kinds`` maps the nation's sensor ids to their kinds (needed when the policy
    filters on kinds; an unknown id supports no kind). Order is preserved. The result names
    the withheld fields (``withheld``), so the wire leaves them out.
    """
    kinds_of = sensor_kinds or {}
    kind_bits = np.zeros(len(tracks), np.uint64)
    for bit, sensor in enumerate(tracks.sensor_ids[:64]):
        if sensor in kinds_of:
            has = ((tracks.sensors >> np.uint64(bit)) & np.uint64(1)).astype(bool)
            kind_bits[has] |= np.uint64(1 << SENSOR_KINDS.index(kinds_of[sensor]))
    t = tracks.table
    keep = release_mask(t.state, t.identity, t.status, kind_bits, policy)
    out = tracks.take(keep)
    cols = out.table.columns()
    if policy.precision_m > 0.0 or policy.velocity_precision_mps > 0.0:
        cols["state"], cols["covariance"] = coarsen(
            cols["state"], cols["covariance"], policy.precision_m, policy.velocity_precision_mps
        )
    withheld = frozenset(policy.withheld_fields)
    n = len(out)
    blank = TrackTable.blank(n).columns()
    for name in withheld & {"identity", "icao", "mode3a", "callsign"}:
        cols[name] = blank[name]
    return dataclasses.replace(
        out,
        table=TrackTable(**cols),
        sensors=np.zeros(n, np.uint64) if "sensors" in withheld else out.sensors,
        mode_probabilities=(
            np.zeros((n, 0)) if "mode_probabilities" in withheld else out.mode_probabilities
        ),
        last_update=np.full(n, np.nan) if "last_update" in withheld else out.last_update,
        sensor_ids=() if "sensors" in withheld else out.sensor_ids,
        withheld=withheld | out.withheld,
    )


class ReleaseQueue:
    """Holds batches back by ``delay_s`` of data time: :meth:`due` gives what may leave now."""

    def __init__(self, delay_s: float) -> None:
        if not delay_s >= 0.0:
            raise ValueError(f"delay_s must be >= 0, got {delay_s}")
        self.delay_s = delay_s
        self._queue: collections.deque[tuple[float, LocalTrackColumns]] = collections.deque()

    def push(self, time: float, tracks: LocalTrackColumns) -> None:
        """Queue a batch valid at data ``time`` (batches must be pushed in time order)."""
        if self._queue and time < self._queue[-1][0]:
            raise ValueError(f"batch at {time} pushed after one at {self._queue[-1][0]}")
        self._queue.append((time, tracks))

    def due(self, now: float) -> list[tuple[float, LocalTrackColumns]]:
        """Pop every batch whose time is at least ``delay_s`` before ``now``, oldest first."""
        out = []
        while self._queue and self._queue[0][0] <= now - self.delay_s:
            out.append(self._queue.popleft())
        return out
