"""The wire contracts of airpicture: versioned ``msgspec.Struct`` messages.

Every message carries ``v`` (its schema version). They are encoded as MessagePack on the bus
and as JSON at the web edge (:func:`encode_msgpack`, :func:`decode_msgpack`,
:func:`encode_json`, :func:`decode_json`).

Conventions (see DESIGN.md): time is float seconds since the Unix epoch (UTC, data time);
positions and velocities in the core are WGS84 ECEF metres and metres per second, states are
``[x, y, z, vx, vy, vz]``, covariances are 6x6 row-major in the same frame; angles are
radians. Sensor sites are given at the edge as latitude/longitude in degrees and height above
the ellipsoid in metres.

The per-plot :class:`Plot` is the edge form of one detection; inside the core, plots travel
as columns in :class:`airpicture.plot_table.PlotTable`.
"""

from __future__ import annotations

import enum
from typing import Any, TypeVar

import msgspec

SCHEMA_VERSION = 1
"""Schema version written into every message as ``v``."""

TRACK_ID_LIMIT = 1 << 40
"""Local track ids lie in ``[0, TRACK_ID_LIMIT)`` (fusion keys a partner track by its
nation's index above these 40 bits)."""


class SensorKind(enum.StrEnum):
    """The kinds of sensor a node ingests."""

    RADAR = "radar"
    """Primary surveillance radar: ``z = [range m, azimuth rad, elevation rad, range-rate m/s]``."""
    SSR = "ssr"
    """Secondary radar / Mode S: ``z = [range m, azimuth rad]`` plus barometric altitude."""
    ADSB = "adsb"
    """ADS-B ground receiver: ``z = [x, y, z, vx, vy, vz]`` ECEF (velocity NaN when absent)."""
    ESM = "esm"
    """Passive ESM: ``z = [azimuth rad, elevation rad]`` (elevation NaN when absent)."""


SENSOR_KINDS: tuple[SensorKind, ...] = tuple(SensorKind)
"""Kinds in code order: the index of a kind here is its integer code in plot tables."""


class Identity(enum.StrEnum):
    """Standard identities (APP-6 / STANAG 1241). Automatic rules never go past SUSPECT."""

    PENDING = "pending"
    UNKNOWN = "unknown"
    ASSUMED_FRIEND = "assumed_friend"
    FRIEND = "friend"
    NEUTRAL = "neutral"
    SUSPECT = "suspect"
    HOSTILE = "hostile"


class TrackStatus(enum.StrEnum):
    """Life-cycle state of a track."""

    TENTATIVE = "tentative"
    CONFIRMED = "confirmed"
    COASTING = "coasting"
    DELETED = "deleted"


class SensorInfo(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Description of one sensor: where it is, whose it is, how good it is.

    Sigmas are one standard deviation in the units of the plot's ``z`` components (metres,
    radians, metres per second); 0 for a component the sensor does not measure.
    ``period_s`` is the antenna rotation period for rotating sensors and the nominal update
    interval otherwise. ``sector_rad`` is the covered azimuth sector [from, to] clockwise from
    north (empty: all round).
    """

    id: str
    nation: str
    kind: SensorKind
    lat_deg: float
    lon_deg: float
    alt_m: float
    max_range_m: float
    period_s: float
    name: str = ""
    min_range_m: float = 0.0
    min_elevation_rad: float = 0.0
    sigma: list[float] = msgspec.field(default_factory=list)
    sector_rad: list[float] = msgspec.field(default_factory=list)
    sac: int | None = None
    sic: int | None = None
    v: int = SCHEMA_VERSION


class Plot(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One detection from one sensor.

    ``z`` and ``sigma`` follow the layout of :class:`SensorKind`; ``sigma`` is the one-sigma
    noise of each component. For ADS-B, ``z`` is ECEF but ``sigma`` is given along the local
    east/north/up axes at the reported position (position first, then velocity).
    """

    time: float
    sensor_id: str
    kind: SensorKind
    z: list[float]
    sigma: list[float]
    icao: int | None = None
    mode3a: int | None = None
    callsign: str | None = None
    baro_alt_m: float | None = None
    nacp: int | None = None
    nacv: int | None = None
    v: int = SCHEMA_VERSION


class LocalTrack(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One nation's track of one air object, as its local tracker holds it.

    ``state`` is ECEF ``[x, y, z, vx, vy, vz]`` (m, m/s) at ``time``; ``covariance`` is the 6x6
    state covariance, row-major, 36 values. ``quality`` is in [0, 1].
    """

    nation: str
    track_id: int
    time: float
    state: list[float]
    covariance: list[float]
    status: TrackStatus
    quality: float
    identity: Identity = Identity.PENDING
    icao: int | None = None
    mode3a: int | None = None
    callsign: str | None = None
    sensors: list[str] = msgspec.field(default_factory=list)
    mode_probabilities: list[float] = msgspec.field(default_factory=list)
    last_update: float | None = None
    v: int = SCHEMA_VERSION


class LocalTrackBatch(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Many local tracks of one nation as columns: the bus form of a release.

    The fields and units are those of :class:`LocalTrack`, one column each, ``count`` rows.
    Numeric columns are raw little-endian bytes of ``count`` rows (shapes per row below), so
    encoding and decoding cost one copy, not one Python object per track:

    ======================  =======  ==========  ==============================================
    field                   dtype    per row     meaning
    ======================  =======  ==========  ==============================================
    ``time``                ``<f8``  1           data time of the state (s, Unix epoch, UTC)
    ``track_id``            ``<i8``  1           local track id
    ``state``               ``<f8``  6           ECEF ``[x, y, z, vx, vy, vz]`` (m, m/s)
    ``covariance``          ``<f8``  36          6x6 state covariance, row-major (m, m/s)
    ``status``              ``u1``   1           index into :class:`TrackStatus` (declaration
                                                 order)
    ``quality``             ``<f8``  1           in [0, 1]
    ``identity``            ``u1``   1           index into :class:`Identity`
    ``icao``                ``<i4``  1           24-bit ICAO address, -1: none
    ``mode3a``              ``<i2``  1           Mode 3/A code (0..4095), -1: none
    ``callsign``            ``S8``   8 bytes     ASCII, NUL padded; empty: none
    ``sensor_mask``         ``<u8``  1           bit ``i``: ``sensors[i]`` contributed
    ``mode_probabilities``  ``<f8``  ``modes``   IMM mode probabilities at the last update
    ``last_update``         ``<f8``  1           data time of the last update (s), NaN: none
    ======================  =======  ==========  ==============================================

    A field a release policy withholds is ``None``: absent from the bytes (``sensors`` and
    ``sensor_mask`` go together). ``sensors`` lists only the sensor ids some row refers to.
    Receivers validate lengths, finiteness and ranges and reject a bad batch whole
    (``airpicture.node.wire.decode_batch``).
    """

    nation: str
    count: int
    time: bytes
    track_id: bytes
    state: bytes
    covariance: bytes
    status: bytes
    quality: bytes
    identity: bytes | None = None
    icao: bytes | None = None
    mode3a: bytes | None = None
    callsign: bytes | None = None
    sensors: list[str] | None = None
    sensor_mask: bytes | None = None
    modes: int = 0
    mode_probabilities: bytes | None = None
    last_update: bytes | None = None
    v: int = SCHEMA_VERSION


class LocalTrackRef(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A pointer from a system track to a contributing local track."""

    nation: str
    track_id: int


class SystemTrack(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A track of the shared system picture, fused from the partners' local tracks.

    ``stn`` is the system track number: stable over time and the same on every node.
    """

    stn: int
    time: float
    state: list[float]
    covariance: list[float]
    status: TrackStatus
    quality: float
    identity: Identity = Identity.PENDING
    identity_reason: str = ""
    nations: list[str] = msgspec.field(default_factory=list)
    contributors: list[LocalTrackRef] = msgspec.field(default_factory=list)
    icao: int | None = None
    mode3a: int | None = None
    callsign: str | None = None
    v: int = SCHEMA_VERSION


class Alert(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """An operator alert about one system track (or a sensor or partner when ``stn`` is None)."""

    id: str
    kind: str
    time: float
    reason: str
    explanation: str
    stn: int | None = None
    source: str | None = None
    acknowledged: bool = False
    v: int = SCHEMA_VERSION


class IdentityOverride(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """An operator's decision on the standard identity of one system track.

    Published into the shared log (like any other record) so every node applies it in log
    order and agrees; it holds until another override for the same ``stn``. ``time`` is the
    data time at which the operator acted; ``operator`` and ``nation`` say who decided.
    Automatic rules never go past SUSPECT: HOSTILE only ever comes from one of these.
    """

    stn: int
    identity: Identity
    operator: str
    nation: str
    time: float
    reason: str = ""
    v: int = SCHEMA_VERSION


class AlertAck(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """An operator's acknowledgement of one alert (by its ``alert_id``).

    Published into the shared log like :class:`IdentityOverride`, so every node marks the same
    alerts acknowledged.
    """

    alert_id: str
    operator: str
    nation: str
    time: float
    v: int = SCHEMA_VERSION


class BiasEstimate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A registration estimate of one sensor's systematic errors, as published.

    The sensor measures ``range * (1 + range_gain) + range_offset_m`` and
    ``azimuth + azimuth_rad`` and stamps its plots ``time_s`` late. ``sigma`` holds the
    one-sigma uncertainty of ``[range_offset_m, range_gain, azimuth_rad, time_s]``;
    ``samples`` is the number of reference pairs behind the estimate.
    """

    sensor_id: str
    time: float
    range_offset_m: float
    range_gain: float
    azimuth_rad: float
    time_s: float
    sigma: list[float] = msgspec.field(default_factory=list)
    samples: int = 0
    v: int = SCHEMA_VERSION


class Envelope(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A signed unit of publication on the bus.

    ``payload`` is the MessagePack encoding of the carried message(s) of type ``kind``;
    ``signature`` is an Ed25519 signature by ``sender`` over the envelope's other fields
    (see ``airpicture.security``). ``seq`` increases by one per sender and audience.
    """

    sender: str
    audience: str
    seq: int
    time: float
    kind: str
    payload: bytes
    signature: bytes = b""
    v: int = SCHEMA_VERSION


Message = (
    SensorInfo | Plot | LocalTrack | LocalTrackBatch | SystemTrack | Alert | IdentityOverride
    | AlertAck | BiasEstimate | Envelope
)
T = TypeVar("T")

_msgpack_encoder = msgspec.msgpack.Encoder()
_json_encoder = msgspec.json.Encoder()


def encode_msgpack(message: Any) -> bytes:
    """Encode a message (or a list of messages) as MessagePack bytes."""
    return _msgpack_encoder.encode(message)


def decode_msgpack(data: bytes, type_: type[T]) -> T:
    """Decode MessagePack bytes into ``type_``; raises ``msgspec.ValidationError`` on bad input."""
    return msgspec.msgpack.decode(data, type=type_)


def encode_json(message: Any) -> bytes:
    """Encode a message (or a list of messages) as JSON bytes (the web edge)."""
    return _json_encoder.encode(message)


def decode_json(data: bytes | str, type_: type[T]) -> T:
    """Decode JSON into ``type_``; raises ``msgspec.ValidationError`` on bad input."""
    return msgspec.json.decode(data, type=type_)
