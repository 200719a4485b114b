"""Between wire messages and fusion's columns: ``LocalTrack`` batches to a ``TrackTable`` and
an epoch's picture to ``SystemTrack`` messages.

These loops over messages sit at the edge (decoding an envelope, publishing the picture);
everything inside fusion works on the columns.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from airpicture.fusion.state import EpochResult
from airpicture.messages import LocalTrack, LocalTrackRef, SystemTrack
from airpicture.track_table import IDENTITY_CODES, STATUS_CODES, TrackTable

__all__ = ["local_tracks_to_table", "system_tracks", "table_to_local_tracks"]

_STATUS = {s: i for i, s in enumerate(STATUS_CODES)}
_IDENTITY = {s: i for i, s in enumerate(IDENTITY_CODES)}


def local_tracks_to_table(tracks: Sequence[LocalTrack]) -> TrackTable:
    """Columns of a batch of local tracks (``source`` = nation, ``track`` = local id).

    A state or covariance of the wrong length becomes NaN, so the picture's validation
    rejects that row instead of the whole batch failing.
    """
    n = len(tracks)
    table = TrackTable.blank(n)
    if n == 0:
        return table
    state = np.full((n, 6), np.nan)
    cov = np.full((n, 36), np.nan)
    ok_s = np.fromiter((len(t.state) == 6 for t in tracks), bool, n)
    ok_c = np.fromiter((len(t.covariance) == 36 for t in tracks), bool, n)
    if ok_s.any():
        state[ok_s] = [t.state for t, ok in zip(tracks, ok_s, strict=True) if ok]
    if ok_c.any():
        cov[ok_c] = [t.covariance for t, ok in zip(tracks, ok_c, strict=True) if ok]
    return TrackTable(
        time=np.fromiter((t.time for t in tracks), np.float64, n),
        track=np.fromiter((t.track_id for t in tracks), np.int64, n),
        source=np.array([t.nation.encode() for t in tracks], "S16"),
        state=state,
        covariance=cov.reshape(n, 6, 6),
        status=np.fromiter((_STATUS[t.status] for t in tracks), np.uint8, n),
        quality=np.fromiter((t.quality for t in tracks), np.float64, n),
        identity=np.fromiter((_IDENTITY[t.identity] for t in tracks), np.uint8, n),
        icao=np.fromiter((-1 if t.icao is None else t.icao for t in tracks), np.int32, n),
        mode3a=np.fromiter((-1 if t.mode3a is None else t.mode3a for t in tracks), np.int16, n),
        callsign=np.array([(t.callsign or "").encode() for t in tracks], "S8"),
    )


def table_to_local_tracks(
    table: TrackTable, sensors: Sequence[list[str]] | None = None
) -> list[LocalTrack]:
    """Local-track messages from columns (``sensors``: contributing sensor ids per row)."""
    cols = {k: v.tolist() for k, v in table.columns().items() if k not in ("covariance",)}
    cov = table.covariance.reshape(len(table), 36).tolist()
    out = []
    for i in range(len(table)):
        out.append(
            LocalTrack(
                nation=cols["source"][i].decode(),
                track_id=cols["track"][i],
                time=cols["time"][i],
                state=cols["state"][i],
                covariance=cov[i],
                status=STATUS_CODES[cols["status"][i]],
                quality=cols["quality"][i],
                identity=IDENTITY_CODES[cols["identity"][i]],
                icao=None if cols["icao"][i] < 0 else cols["icao"][i],
                mode3a=None if cols["mode3a"][i] < 0 else cols["mode3a"][i],
                callsign=cols["callsign"][i].decode() or None,
                sensors=list(sensors[i]) if sensors is not None else [],
            )
        )
    return out


def system_tracks(result: EpochResult) -> list[SystemTrack]:
    """The epoch's picture as ``SystemTrack`` messages, with their contributors."""
    pic = result.picture
    starts = np.searchsorted(result.contributor_stn, pic.track, side="left").tolist()
    stops = np.searchsorted(result.contributor_stn, pic.track, side="right").tolist()
    nations = [n.decode() for n in result.contributor_nation.tolist()]
    tracks = result.contributor_track.tolist()
    cols = {k: v.tolist() for k, v in pic.columns().items() if k != "covariance"}
    cov = pic.covariance.reshape(len(pic), 36).tolist()
    out = []
    for i in range(len(pic)):
        refs = [
            LocalTrackRef(nation=nations[j], track_id=tracks[j]) for j in range(starts[i], stops[i])
        ]
        out.append(
            SystemTrack(
                stn=cols["track"][i],
                time=cols["time"][i],
                state=cols["state"][i],
                covariance=cov[i],
                status=STATUS_CODES[cols["status"][i]],
                quality=cols["quality"][i],
                identity=IDENTITY_CODES[cols["identity"][i]],
                nations=sorted({r.nation for r in refs}),
                contributors=refs,
                icao=None if cols["icao"][i] < 0 else cols["icao"][i],
                mode3a=None if cols["mode3a"][i] < 0 else cols["mode3a"][i],
                callsign=cols["callsign"][i].decode() or None,
            )
        )
    return out
