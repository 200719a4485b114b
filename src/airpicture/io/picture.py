"""Picture forms at the edge: system or local track messages to and from :class:`TrackTable`.

Exporters take a list of :class:`airpicture.messages.SystemTrack`; recordings hold
:class:`airpicture.track_table.TrackTable` rows. :func:`snapshot` picks, from a recording, the
latest row of each track at or before a time, which is what a snapshot exporter sends.
Contributors and nations are not columns of a TrackTable; tracks rebuilt from a table carry
only the table's ``source`` as their single nation.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from airpicture.messages import LocalTrack, SystemTrack
from airpicture.track_table import IDENTITY_CODES, STATUS_CODES, TrackTable


def tracks2table(tracks: Sequence[SystemTrack | LocalTrack], source: str = "picture") -> TrackTable:
    """Rows of system tracks (``track`` = STN, ``source`` given) or local tracks (``track`` =
    local id, ``source`` = nation)."""
    t = TrackTable.blank(len(tracks))
    for i, tr in enumerate(tracks):
        t.time[i] = tr.time
        if isinstance(tr, SystemTrack):
            t.track[i] = tr.stn
            t.source[i] = source.encode("ascii")[:16]
        else:
            t.track[i] = tr.track_id
            t.source[i] = tr.nation.encode("ascii")[:16]
        t.state[i] = tr.state
        t.covariance[i] = np.asarray(tr.covariance, dtype=np.float64).reshape(6, 6)
        t.status[i] = STATUS_CODES.index(tr.status)
        t.quality[i] = tr.quality
        t.identity[i] = IDENTITY_CODES.index(tr.identity)
        t.icao[i] = -1 if tr.icao is None else tr.icao
        t.mode3a[i] = -1 if tr.mode3a is None else tr.mode3a
        t.callsign[i] = (tr.callsign or "").encode("ascii", "replace")[:8]
    return t


def table2tracks(table: TrackTable) -> list[SystemTrack]:
    """System tracks of table rows (``track`` read as the STN)."""
    out: list[SystemTrack] = []
    for i in range(len(table)):
        src = bytes(table.source[i]).decode("ascii", "replace")
        icao, m3a = int(table.icao[i]), int(table.mode3a[i])
        out.append(SystemTrack(
            stn=int(table.track[i]), time=float(table.time[i]),
            state=[float(v) for v in table.state[i]],
            covariance=[float(v) for v in table.covariance[i].ravel()],
            status=STATUS_CODES[int(table.status[i])], quality=float(table.quality[i]),
            identity=IDENTITY_CODES[int(table.identity[i])],
            nations=[src] if src else [],
            icao=None if icao < 0 else icao, mode3a=None if m3a < 0 else m3a,
            callsign=bytes(table.callsign[i]).decode("ascii", "replace") or None,
        ))
    return out


def snapshot(table: TrackTable, time: float | None = None) -> TrackTable:
    """The latest row of each (source, track) at or before ``time`` (default: the last time)."""
    if len(table) == 0:
        return table
    t_max = float(np.max(table.time)) if time is None else time
    rows = table.take(table.time <= t_max)
    if len(rows) == 0:
        return rows
    order = np.lexsort((rows.time, rows.track, rows.source))
    rows = rows.take(order)
    key_change = np.ones(len(rows), bool)
    key_change[:-1] = (rows.source[1:] != rows.source[:-1]) | (rows.track[1:] != rows.track[:-1])
    return rows.take(key_change)
