"""The node's edge conversions: tracker snapshot -> ``LocalTrack`` messages, payload -> columns.

An envelope of kind ``local_tracks`` carries a MessagePack list of
:class:`~airpicture.messages.LocalTrack`; kind ``end`` (empty payload) says the sender has
finished its run, so partners stop waiting for it.
"""

from __future__ import annotations

import msgspec
import numpy as np

from airpicture.fusion import local_tracks_to_table, table_to_local_tracks
from airpicture.messages import LocalTrack, TrackStatus, decode_msgpack
from airpicture.track_table import STATUS_CODES, TrackTable
from airpicture.tracking import TrackArrays

__all__ = ["KIND_END", "KIND_TRACKS", "decode_tracks", "snapshot_messages"]

KIND_TRACKS = "local_tracks"
KIND_END = "end"


def _sensor_lists(mask: np.ndarray, sensor_ids: list[str]) -> list[list[str]]:
    """Sensor id lists of per-track bit masks (bit i = i-th sensor of the nation)."""
    masks, inverse = np.unique(mask.astype(np.uint64), return_inverse=True)
    bits = np.arange(min(len(sensor_ids), 64), dtype=np.uint64)
    lists = [
        [sensor_ids[int(b)] for b in bits[((m >> bits) & np.uint64(1)) == 1]] for m in masks
    ]
    return [lists[i] for i in inverse.tolist()]


def snapshot_messages(
    snapshot: TrackTable,
    arrays: TrackArrays,
    sensor_ids: list[str],
    statuses: frozenset[TrackStatus],
    id_offset: int = 0,
) -> tuple[TrackTable, list[LocalTrack]]:
    """The rows of ``snapshot`` whose status is in ``statuses``, as a table and as messages.

    ``snapshot`` is the tracker's picture at one time and ``arrays`` its live tracks, row for
    row; local track ids are shifted by ``id_offset`` (a restarted node's new ids).
    """
    codes = np.array([STATUS_CODES.index(s) for s in statuses], np.uint8)
    keep = np.isin(snapshot.status, codes)
    table = snapshot.take(keep)
    if id_offset:
        table = TrackTable(**{**table.columns(), "track": table.track + id_offset})
    sensors = _sensor_lists(arrays.sensors[keep], sensor_ids)
    return table, table_to_local_tracks(table, sensors)


def decode_tracks(payload: bytes, sender: str) -> tuple[TrackTable, dict[str, int]]:
    """Columns of a ``local_tracks`` payload, keeping only tracks of nation ``sender``.

    Returns the table and the rows dropped per reason (``bad_payload``: not a list of local
    tracks; ``nation_mismatch``: a track claiming another nation than the signer).
    """
    try:
        tracks = decode_msgpack(payload, list[LocalTrack])
    except (msgspec.MsgspecError, ValueError):
        return TrackTable.empty(), {"bad_payload": 1}
    mine = [t for t in tracks if t.nation == sender]
    dropped = {"nation_mismatch": len(tracks) - len(mine)} if len(mine) != len(tracks) else {}
    return local_tracks_to_table(mine), dropped
