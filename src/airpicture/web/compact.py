"""The compact WebSocket delta: moving tracks as binary columns, the rest as JSON rows.

A client that subscribes with ``"format": "compact"`` gets the usual JSON ``snapshot`` (text)
and then, per new picture, one **binary** frame (little-endian)::

    uint32   H                     length of the JSON header
    H bytes  header (UTF-8 JSON)   {"type": "delta", "format": "compact", epoch, time, hash,
                                    view, count, "remove": [keys], "upsert": [full rows],
                                    "slots": [slot of each upsert row], "n": moves,
                                    "columns": [[name, scale], ...]}
    padding  to a multiple of 8
    float64[n]                     time of each moved track
    uint32[n]                      slot of each moved track
    int32[n] per column            value * scale, rounded (``columns``, in order)

Every track of the subscription has a *slot*, a small integer the moves refer to: in the
snapshot, a track's slot is its index in ``tracks``; an upsert row carries its slot in
``slots`` (a slot freed by a removal may be given to a new track in the same delta, so a
client applies ``remove``, then ``upsert``, then the moves). A track goes as a full row when
it is new or anything but its kinematics changed (identity, status, labels, numbers); or when
a value does not fit its column. The columns carry the values the JSON views are rounded to
(degrees to 1e-6, metres and knots to 0.1, quality to 0.001), so ``int / scale`` gives back
exactly the number the JSON API shows.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from airpicture.messages import encode_json
from airpicture.web.views import TrackView

__all__ = ["COLUMNS", "CompactEncoder", "decode_delta"]

COLUMNS: tuple[tuple[str, int], ...] = (
    ("lat", 1_000_000), ("lon", 1_000_000), ("alt_m", 10), ("fl", 1), ("speed_kt", 10),
    ("course_deg", 10), ("vrate_ms", 10), ("ell0", 10), ("ell1", 10), ("ell2", 10),
    ("quality", 1000),
)
"""The int32 columns of the moves: name and scale (``ell0..2`` are ``ell[0..2]``)."""

_SCALE = np.array([s for _, s in COLUMNS], dtype=np.float64)
_INT32_MAX = float(2**31 - 1)


def _labels(v: TrackView) -> tuple[Any, ...]:
    """What a move leaves as it was (a change here sends the full row)."""
    return (v.stn, v.identity, v.status, v.nations, v.callsign, v.icao, v.mode3a,
            v.local_id, len(v.ell))


class CompactEncoder:
    """One client's compact deltas: the views it holds and their slots (module docstring)."""

    def __init__(self) -> None:
        self.sent: dict[str, TrackView] = {}
        self.slots: dict[str, int] = {}
        self._free: list[int] = []
        self._next = 0

    def snapshot(self, now: Sequence[TrackView]) -> None:
        """The client was sent ``now`` as a snapshot: slots are the indices."""
        self.sent = {v.key: v for v in now}
        self.slots = {v.key: i for i, v in enumerate(now)}
        self._free = []
        self._next = len(now)

    def _slot(self) -> int:
        if self._free:
            return self._free.pop()
        self._next += 1
        return self._next - 1

    def delta(self, now: Sequence[TrackView], head: Mapping[str, Any]) -> bytes:
        """The binary delta from what the client holds to ``now`` (and hold ``now``)."""
        sent, slots = self.sent, self.slots
        keys = {v.key for v in now}
        remove = [k for k in sent if k not in keys]
        for k in remove:
            self._free.append(slots.pop(k))
        self._free.sort(reverse=True)  # lowest slot first
        upsert: list[TrackView] = []
        moves: list[TrackView] = []
        for v in now:
            old = sent.get(v.key)
            if old is None:
                slots[v.key] = self._slot()
                upsert.append(v)
            elif old == v:
                continue
            elif _labels(old) != _labels(v):
                upsert.append(v)
            else:
                moves.append(v)
        if moves:
            values = np.array([(v.lat, v.lon, v.alt_m, v.fl, v.speed_kt, v.course_deg,
                                v.vrate_ms, *v.ell, v.quality) for v in moves],
                              dtype=np.float64).reshape(len(moves), len(COLUMNS))
            scaled = np.rint(values * _SCALE)
            with np.errstate(invalid="ignore"):
                fits = np.all(np.isfinite(scaled) & (np.abs(scaled) <= _INT32_MAX), axis=1)
            if not fits.all():
                upsert += [v for v, ok in zip(moves, fits.tolist(), strict=True) if not ok]
                moves = [v for v, ok in zip(moves, fits.tolist(), strict=True) if ok]
                scaled = scaled[fits]
        else:
            scaled = np.zeros((0, len(COLUMNS)))
        header = encode_json({
            "type": "delta", "format": "compact", **head, "remove": remove, "upsert": upsert,
            "slots": [slots[v.key] for v in upsert], "n": len(moves),
            "columns": [list(c) for c in COLUMNS],
        })
        pad = -(4 + len(header)) % 8
        times = np.array([v.time for v in moves], dtype="<f8")
        moved_slots = np.array([slots[v.key] for v in moves], dtype="<u4")
        columns = np.ascontiguousarray(scaled.T, dtype="<i4")
        self.sent = {v.key: v for v in now}
        return b"".join([struct.pack("<I", len(header)), header, b"\0" * pad,
                         times.tobytes(), moved_slots.tobytes(), columns.tobytes()])


def decode_delta(frame: bytes) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A binary delta's header and its moves (each ``{"slot", "time", <column>: value}``,
    ``ell`` as a list); what the page does, in Python (tests, other clients)."""
    import json

    (size,) = struct.unpack_from("<I", frame, 0)
    header: dict[str, Any] = json.loads(frame[4:4 + size])
    n = header["n"]
    at = 4 + size + (-(4 + size) % 8)
    times = np.frombuffer(frame, dtype="<f8", count=n, offset=at).tolist()
    at += 8 * n
    slots = np.frombuffer(frame, dtype="<u4", count=n, offset=at).tolist()
    at += 4 * n
    names = [c[0] for c in header["columns"]]
    cols = np.frombuffer(frame, dtype="<i4", count=n * len(names), offset=at)
    cols = cols.reshape(len(names), n)
    values = {name: [x / scale for x in cols[i].tolist()]
              for i, (name, scale) in enumerate(header["columns"])}
    moves = []
    for j in range(n):
        m: dict[str, Any] = {"slot": slots[j], "time": times[j]}
        for name in names:
            m[name] = values[name][j]
        m["fl"] = int(m["fl"])
        m["ell"] = [m.pop("ell0"), m.pop("ell1"), m.pop("ell2")]
        moves.append(m)
    return header, moves
