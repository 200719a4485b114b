"""The server's view of the source: the current snapshot, its track views, change signals.

One :class:`Hub` per app polls :meth:`PictureSource.snapshot` (a new object means a new
picture) and caches what every client needs from it: the system-track views, each nation's
local-track views, and the index of local tracks by (nation, id). WebSocket writers wait on
:meth:`Hub.changed` and compute their own deltas from the cached views.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence

from airpicture.messages import LocalTrack
from airpicture.web.source import PictureSnapshot, PictureSource
from airpicture.web.views import TrackView, local_views, system_views

__all__ = ["Hub", "SnapshotViews", "views_of"]

PICTURE = "picture"
"""Name of the shared picture's view (the others are named by nation)."""


@dataclasses.dataclass
class SnapshotViews:
    """A snapshot with its views (computed once, on first use)."""

    snapshot: PictureSnapshot
    picture: list[TrackView]
    stn_of: dict[tuple[str, int], int]
    local_index: dict[tuple[str, int], LocalTrack]
    _nations: dict[str, list[TrackView]] = dataclasses.field(default_factory=dict)

    @property
    def nations(self) -> list[str]:
        return sorted(self.snapshot.local)

    def view(self, name: str) -> list[TrackView] | None:
        """The views of ``picture`` or of one nation's own tracks (``None``: no such view)."""
        if name == PICTURE:
            return self.picture
        if name not in self.snapshot.local:
            return None
        if name not in self._nations:
            self._nations[name] = local_views(self.snapshot.local[name], self.stn_of)
        return self._nations[name]


def views_of(snapshot: PictureSnapshot) -> SnapshotViews:
    stn_of = {(c.nation, c.track_id): t.stn for t in snapshot.tracks for c in t.contributors}
    index = {(t.nation, t.track_id): t for tracks in snapshot.local.values() for t in tracks}
    return SnapshotViews(snapshot, system_views(snapshot.tracks), stn_of, index)


class Hub:
    """Polls the source; holds the current :class:`SnapshotViews` (module docstring)."""

    def __init__(self, source: PictureSource, poll_s: float = 0.2) -> None:
        self.source = source
        self.poll_s = poll_s
        self.current: SnapshotViews | None = None
        self.version = 0
        self._changed = asyncio.Event()
        self._history: dict[int, SnapshotViews] = {}

    def refresh(self) -> bool:
        """Read the source now; ``True`` when the picture changed."""
        snap = self.source.snapshot()
        if snap is None or (self.current is not None and self.current.snapshot is snap):
            return False
        self.current = views_of(snap)
        self.version += 1
        self._changed.set()
        self._changed = asyncio.Event()
        return True

    def changed(self) -> asyncio.Event:
        """An event set at the next change (take it before reading :attr:`current`)."""
        return self._changed

    async def run(self) -> None:
        """Poll forever (cancelled when the app shuts down)."""
        while True:
            self.refresh()
            await asyncio.sleep(self.poll_s)

    def at(self, time: float) -> SnapshotViews | None:
        """The recorded picture at ``time`` with its views (a small cache)."""
        snap = self.source.snapshot_at(time)
        if snap is None:
            return None
        key = id(snap)
        hit = self._history.get(key)
        if hit is None or hit.snapshot is not snap:
            if len(self._history) > 64:
                self._history.clear()
            hit = self._history[key] = views_of(snap)
        return hit

    def trail_frames(self, seconds: float, points: int) -> Sequence[SnapshotViews]:
        """Up to ``points`` recorded pictures over the last ``seconds``, oldest first."""
        times = list(self.source.history())
        if not times:
            return []
        end = times[-1]
        recent = [t for t in times if t >= end - seconds]
        step = max(1, len(recent) // max(points, 1))
        picked = recent[::-1][::step][::-1]
        out = [self.at(t) for t in picked]
        return [v for v in out if v is not None]
