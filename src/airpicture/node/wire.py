"""The node's edge conversions: tracker snapshot -> release columns -> ``LocalTrackBatch``
payloads, and a payload back to the columns fusion ingests.

An envelope of kind ``local_track_batch`` carries one MessagePack
:class:`~airpicture.messages.LocalTrackBatch` (columns as raw little-endian bytes, see its
docstring); kind ``end`` (empty payload) says the sender has finished its run, so partners
stop waiting for it. Neither direction builds a Python object per track.

Decoding validates the whole batch before any of it is used: every column the right number
of bytes for ``count`` rows, numbers finite and physical (``track_table.physical_rows``;
``last_update`` may be NaN: none), track times not after the envelope's, codes and
identifiers in range, callsigns printable ASCII, the nation the signer's. A batch failing any
check is rejected whole and counted by reason, so a bad batch never half-enters the picture.
"""

from __future__ import annotations

import math
from typing import Any

import msgspec
import numpy as np
from numpy.typing import NDArray

from airpicture.messages import (
    TRACK_ID_LIMIT,
    LocalTrackBatch,
    TrackStatus,
    decode_msgpack,
    encode_msgpack,
)
from airpicture.policy import LocalTrackColumns
from airpicture.track_table import IDENTITY_CODES, STATUS_CODES, TrackTable, physical_rows
from airpicture.tracking import TrackArrays

__all__ = [
    "AFTER_ENVELOPE_S",
    "BATCH_REJECTIONS",
    "KIND_BATCH",
    "KIND_END",
    "MAX_MODES",
    "decode_batch",
    "encode_batches",
    "snapshot_columns",
]

KIND_BATCH = "local_track_batch"
KIND_END = "end"
MAX_MODES = 16
"""Most IMM modes a batch may carry per track."""

BATCH_REJECTIONS: tuple[str, ...] = (
    "bad_payload",
    "nation_mismatch",
    "bad_batch_length",
    "bad_batch_value",
    "batch_after_envelope",
)
"""Why a batch is rejected: not a ``LocalTrackBatch``; another nation than the signer's; a
column whose byte length does not match ``count``; a non-finite or out-of-range value; a
track time later than the envelope's (by more than :data:`AFTER_ENVELOPE_S`)."""

AFTER_ENVELOPE_S = 1.0
"""How much later than its envelope's data time a batch's track times may be (s). A node
stamps each release with the time of its tracks; the receiver bounds the envelope's time
(``VerifierConfig.max_future_s``), and through this the tracks', so a signed batch cannot
move a partner's watermark past what the envelope says."""

_F8, _I8, _I4, _I2, _U8, _U1 = "<f8", "<i8", "<i4", "<i2", "<u8", "u1"


class _BadBatch(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def snapshot_columns(
    snapshot: TrackTable,
    arrays: TrackArrays,
    sensor_ids: list[str],
    statuses: frozenset[TrackStatus],
    id_offset: int = 0,
) -> LocalTrackColumns:
    """The rows of ``snapshot`` whose status is in ``statuses``, as release columns.

    ``snapshot`` is the tracker's picture at one time and ``arrays`` its live tracks, row for
    row; local track ids are shifted by ``id_offset`` (a restarted node's new ids). A row
    with a non-finite state or covariance (a diverged track) is not released: receivers
    would reject its whole batch.
    """
    codes = np.array([STATUS_CODES.index(s) for s in statuses], np.uint8)
    finite = np.isfinite(snapshot.state).all(axis=1) & np.isfinite(snapshot.covariance).all(
        axis=(1, 2)
    )
    keep = np.isin(snapshot.status, codes) & finite
    table = snapshot.take(keep)
    if id_offset:
        table = TrackTable(**{**table.columns(), "track": table.track + id_offset})
    return LocalTrackColumns(
        table=table,
        sensors=arrays.sensors[keep].astype(np.uint64),
        mode_probabilities=np.asarray(arrays.mu[keep], np.float64),
        last_update=np.asarray(arrays.time[keep], np.float64),
        sensor_ids=tuple(sensor_ids),
    )


def _used_sensors(
    mask: NDArray[np.uint64], sensor_ids: tuple[str, ...]
) -> tuple[list[str], NDArray[np.uint64]]:
    """Only the sensor ids some row refers to, and the masks renumbered onto that list."""
    present = np.bitwise_or.reduce(mask) if len(mask) else np.uint64(0)
    used = [b for b in range(min(len(sensor_ids), 64)) if (int(present) >> b) & 1]
    out = np.zeros(len(mask), np.uint64)
    for new, old in enumerate(used):  # one pass per sensor, not per track
        out |= ((mask >> np.uint64(old)) & np.uint64(1)) << np.uint64(new)
    return [sensor_ids[b] for b in used], out


def _batch(tracks: LocalTrackColumns, nation: str) -> LocalTrackBatch:
    t, withheld = tracks.table, tracks.withheld

    def col(name: str, values: NDArray[np.generic], dtype: str) -> bytes | None:
        return None if name in withheld else np.ascontiguousarray(values, dtype).tobytes()

    sensors, mask = (None, None)
    if "sensors" not in withheld:
        ids, renumbered = _used_sensors(tracks.sensors, tracks.sensor_ids)
        sensors, mask = ids, renumbered.astype(_U8).tobytes()
    modes = 0 if "mode_probabilities" in withheld else tracks.mode_probabilities.shape[1]
    return LocalTrackBatch(
        nation=nation,
        count=len(t),
        time=np.ascontiguousarray(t.time, _F8).tobytes(),
        track_id=np.ascontiguousarray(t.track, _I8).tobytes(),
        state=np.ascontiguousarray(t.state, _F8).tobytes(),
        covariance=np.ascontiguousarray(t.covariance, _F8).tobytes(),
        status=np.ascontiguousarray(t.status, _U1).tobytes(),
        quality=np.ascontiguousarray(t.quality, _F8).tobytes(),
        identity=col("identity", t.identity, _U1),
        icao=col("icao", t.icao, _I4),
        mode3a=col("mode3a", t.mode3a, _I2),
        callsign=col("callsign", t.callsign, "S8"),
        sensors=sensors,
        sensor_mask=mask,
        modes=modes,
        mode_probabilities=col("mode_probabilities", tracks.mode_probabilities, _F8)
        if modes
        else None,
        last_update=col("last_update", tracks.last_update, _F8),
    )


def encode_batches(tracks: LocalTrackColumns, nation: str, chunk: int) -> list[tuple[bytes, int]]:
    """Payloads of at most ``chunk`` tracks each, with their track counts (at least one
    payload: an empty batch is the node's heartbeat)."""
    if chunk < 1:
        raise ValueError(f"chunk must be >= 1, got {chunk}")
    starts = range(0, max(len(tracks), 1), chunk)
    parts = [tracks.take(slice(a, a + chunk)) for a in starts]
    return [(encode_msgpack(_batch(p, nation)), len(p)) for p in parts]


def _column(data: bytes | None, n: int, dtype: str, width: int = 1) -> NDArray[Any] | None:
    if data is None:
        return None
    size = np.dtype(dtype).itemsize * width
    if len(data) != n * size:
        raise _BadBatch("bad_batch_length")
    array = np.frombuffer(data, dtype).copy()  # a writable, aligned, native-order copy
    return array.reshape(n, width) if width > 1 else array


def _required(data: bytes, n: int, dtype: str, width: int = 1) -> NDArray[Any]:
    array = _column(data, n, dtype, width)
    assert array is not None
    return array


def _check(ok: bool | np.bool_) -> None:
    if not ok:
        raise _BadBatch("bad_batch_value")


def _table(b: LocalTrackBatch, sender: str) -> TrackTable:
    n = b.count
    if b.nation != sender:
        raise _BadBatch("nation_mismatch")
    _check(0 <= n <= 1 << 24 and 0 <= b.modes <= MAX_MODES and len(sender.encode()) <= 16)
    if (b.sensors is None) != (b.sensor_mask is None) or (b.modes > 0) != (
        b.mode_probabilities is not None
    ):
        raise _BadBatch("bad_batch_length")
    time = _required(b.time, n, _F8)
    track = _required(b.track_id, n, _I8)
    state = _required(b.state, n, _F8, 6)
    cov = _required(b.covariance, n, _F8, 36)
    status = _required(b.status, n, _U1)
    quality = _required(b.quality, n, _F8)
    identity = _column(b.identity, n, _U1)
    icao = _column(b.icao, n, _I4)
    mode3a = _column(b.mode3a, n, _I2)
    callsign = _column(b.callsign, n, "u1", 8)
    mask = _column(b.sensor_mask, n, _U8)
    mu = _column(b.mode_probabilities, n, _F8, max(b.modes, 1))
    last = _column(b.last_update, n, _F8)
    _check(physical_rows(time, state, cov.reshape(n, 6, 6)).all())
    _check(((quality >= 0.0) & (quality <= 1.0)).all())  # False for NaN
    _check(((track >= 0) & (track < TRACK_ID_LIMIT)).all() and (status < len(STATUS_CODES)).all())
    _check(identity is None or (identity < len(IDENTITY_CODES)).all())
    _check(icao is None or ((icao >= -1) & (icao < 1 << 24)).all())
    _check(mode3a is None or ((mode3a >= -1) & (mode3a < 4096)).all())
    _check(callsign is None or (((callsign >= 32) & (callsign < 127)) | (callsign == 0)).all())
    _check(mu is None or ((mu >= 0.0) & (mu <= 1.0)).all())
    _check(last is None or (np.isfinite(last) | np.isnan(last)).all())
    if mask is not None and b.sensors is not None:
        _check(len(b.sensors) <= 64 and (mask >> np.uint64(len(b.sensors)) == 0).all())
    blank = TrackTable.blank(n)
    return TrackTable(
        time=time,
        track=track,
        source=np.full(n, sender.encode(), "S16"),
        state=state,
        covariance=cov.reshape(n, 6, 6),
        status=status,
        quality=quality,
        identity=blank.identity if identity is None else identity,
        icao=blank.icao if icao is None else icao,
        mode3a=blank.mode3a if mode3a is None else mode3a,
        callsign=blank.callsign if callsign is None else callsign.view("S8").ravel(),
    )


def decode_batch(
    payload: bytes, sender: str, envelope_time: float = math.inf
) -> tuple[TrackTable, dict[str, int]]:
    """The columns of a ``local_track_batch`` payload signed by ``sender`` in an envelope of
    data time ``envelope_time`` (s since the Unix epoch, UTC), validated.

    Returns the table and, for a rejected batch, an empty table and ``{reason: 1}`` with a
    reason of :data:`BATCH_REJECTIONS`.
    """
    try:
        batch = decode_msgpack(payload, LocalTrackBatch)
    except (msgspec.MsgspecError, ValueError):
        return TrackTable.empty(), {"bad_payload": 1}
    try:
        table = _table(batch, sender)
    except _BadBatch as exc:
        return TrackTable.empty(), {exc.reason: 1}
    if len(table) and float(table.time.max()) > envelope_time + AFTER_ENVELOPE_S:
        return TrackTable.empty(), {"batch_after_envelope": 1}
    return table, {}
