"""A :class:`~airpicture.web.source.PictureSource` over recorded pictures, and a short
simulated run that records them.

:func:`simulate_recording` runs the whole chain in one process, small and fast: the
simulator, one :class:`~airpicture.tracking.Tracker` per nation over that nation's sensors,
and :class:`~airpicture.fusion.picture.Picture` over every nation's reports, one log record
per nation and second. :class:`RecordedSource` then serves the frames: the current one is
``position``; :meth:`RecordedSource.advance` (a test) or :meth:`RecordedSource.play` (a
demo) moves it on; replay reaches every frame up to the current one.
"""

from __future__ import annotations

import bisect
import dataclasses
import threading
from collections.abc import Sequence

import msgspec
import numpy as np

from airpicture.messages import (
    Alert,
    IdentityOverride,
    LocalTrack,
    SensorInfo,
    SystemTrack,
)
from airpicture.web.source import IdentityBook, IdentityChange, PartnerStatus, PictureSnapshot

__all__ = ["RecordedSource", "simulate_recording"]


class RecordedSource:
    """Recorded snapshots served as a live picture (see the module docstring)."""

    def __init__(self, frames: Sequence[PictureSnapshot], sensors: Sequence[SensorInfo],
                 position: int = 0) -> None:
        if not frames:
            raise ValueError("a recording needs at least one frame")
        self.frames = list(frames)
        self._sensors = list(sensors)
        self._lock = threading.Lock()
        self._position = min(max(position, 0), len(self.frames) - 1)
        self.book = IdentityBook()
        self.overrides: list[IdentityOverride] = []
        """Every override received, in order (what a node would publish into the log)."""
        self._cached: tuple[int, int, PictureSnapshot] | None = None
        self._stop = threading.Event()
        self._player: threading.Thread | None = None

    @property
    def position(self) -> int:
        return self._position

    def advance(self, steps: int = 1, loop: bool = False) -> bool:
        """Move the current frame on; ``False`` at the end (unless ``loop``)."""
        with self._lock:
            nxt = self._position + steps
            if nxt >= len(self.frames):
                if not loop:
                    return False
                nxt %= len(self.frames)
            self._position = nxt
            return True

    def play(self, period_s: float = 1.0, loop: bool = True) -> None:
        """Advance one frame every ``period_s`` wall seconds on a daemon thread."""
        def run() -> None:
            while not self._stop.wait(period_s):
                if not self.advance(loop=loop):
                    return
        self._player = threading.Thread(target=run, name="recording-player", daemon=True)
        self._player.start()

    def stop(self) -> None:
        self._stop.set()
        if self._player is not None:
            self._player.join(timeout=5)

    # -- PictureSource -------------------------------------------------------------------

    def snapshot(self) -> PictureSnapshot:
        with self._lock:
            pos, rev = self._position, self.book.revision
            if self._cached is not None and self._cached[:2] == (pos, rev):
                return self._cached[2]
            frame = self.frames[pos]
            snap = dataclasses.replace(frame, tracks=self.book.apply(frame.tracks))
            self._cached = (pos, rev, snap)
            return snap

    def sensors(self) -> Sequence[SensorInfo]:
        return self._sensors

    def history(self) -> Sequence[float]:
        return [f.time for f in self.frames[: self._position + 1]]

    def snapshot_at(self, time: float) -> PictureSnapshot | None:
        times = self.history()
        i = bisect.bisect_right(times, time) - 1
        return self.frames[i] if i >= 0 else None

    def identity_history(self, stn: int) -> Sequence[IdentityChange]:
        return self.book.history(stn)

    def apply_identity(self, override: IdentityOverride) -> None:
        self.overrides.append(override)
        self.book.record(override)


def _unidentified_alerts(tracks: Sequence[SystemTrack]) -> list[Alert]:
    return [
        Alert(id=f"noid-{t.stn}", kind="unidentified", time=t.time, stn=t.stn,
              reason="no cooperative identification",
              explanation="no ICAO address, Mode 3/A code or callsign from any partner's "
                          f"sensors; seen by {', '.join(t.nations) or 'nobody'}")
        for t in tracks if t.icao is None and t.mode3a is None and not t.callsign
    ]


def simulate_recording(
    duration_s: float = 40.0,
    *,
    scenario: str = "western-pacific",
    airliners: int = 60,
    noncooperative: int = 6,
    seed: int = 1,
    warmup_s: float = 15.0,
) -> RecordedSource:
    """Simulate, track per nation and fuse a short run; one frame per closed epoch after
    ``warmup_s`` (tracks need a few scans to confirm). Recorded real flights are left out.
    """
    from airpicture.fusion.picture import Picture
    from airpicture.fusion.reports import system_tracks, table_to_local_tracks
    from airpicture.plot_table import PlotTable
    from airpicture.scenario.config import load_scenario, with_duration
    from airpicture.scenario.simulator import Simulation
    from airpicture.track_table import TrackTable
    from airpicture.tracking import Tracker, TrackerConfig
    from airpicture.tracking.state import CONFIRMED

    sc = with_duration(load_scenario(scenario), duration_s)
    traffic = msgspec.structs.replace(
        sc.traffic, airliners=airliners, noncooperative=noncooperative, recorded=None)
    sim = Simulation(msgspec.structs.replace(sc, traffic=traffic), seed, None)

    class _Plots:
        def __init__(self) -> None:
            self.tables: list[PlotTable] = []

        def plots(self, table: PlotTable) -> None:
            self.tables.append(table)

        def truth(self, table: object) -> None:
            pass

        def coverage(self, table: object) -> None:
            pass

    sink = _Plots()
    sim.run(sink)
    plots = PlotTable.concat(sink.tables).sorted_by_time()
    infos = sim.sensor_infos
    nations = list(sim.nations)
    per_nation = {}
    for nation in nations:
        keep = np.array([s.nation == nation for s in infos], bool)
        mine = [s for s in infos if s.nation == nation]
        p = plots.take(keep[plots.sensor])
        p.sensor[:] = (np.cumsum(keep) - 1)[p.sensor]
        per_nation[nation] = (Tracker(TrackerConfig(sensors=mine, nation=nation)), p, mine)
    picture = Picture()
    received = dict.fromkeys(nations, 0)
    last_report: dict[str, float] = {}
    local: dict[str, list[LocalTrack]] = {n: [] for n in nations}
    frames: list[PictureSnapshot] = []
    t0 = float(np.floor(plots.time.min()))
    t_end = float(plots.time.max())
    k = t0 + 1.0
    while k <= t_end + 1.0:
        for nation, (tracker, p, mine) in per_nation.items():
            rows = (p.time >= k - 1.0) & (p.time < k)
            tracker.process(p.take(rows))
            live = tracker.tracks
            live = live.take(live.status == CONFIRMED)
            report: TrackTable = tracker.picture(k - 0.5)
            bits = live.sensors.tolist()
            sensors = [[s.id for j, s in enumerate(mine) if b >> j & 1] for b in bits]
            tracks = table_to_local_tracks(report, sensors)
            local[nation] = [msgspec.structs.replace(t, last_update=float(u))
                             for t, u in zip(tracks, live.time.tolist(), strict=True)]
            received[nation] += 1
            if len(report):
                last_report[nation] = k - 0.5
            for result in picture.ingest(report):
                if result.time < t0 + warmup_s:
                    continue
                sys_tracks = system_tracks(result)
                frames.append(PictureSnapshot(
                    epoch=round(result.time / picture.config.epoch_s),
                    time=result.time, hash=result.hash, tracks=sys_tracks,
                    local={n: list(v) for n, v in local.items()},
                    alerts=_unidentified_alerts(sys_tracks),
                    partners=[PartnerStatus(nation=n, link="up", last_report=last_report.get(n),
                                            received=received[n]) for n in nations],
                ))
        k += 1.0
    return RecordedSource(frames, infos)
