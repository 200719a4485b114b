"""The tracker: plots of one nation's sensors in, local track updates out.

Plots are validated (bad ones rejected and counted per sensor), buffered and processed in data
time order in batches ``[b batch_s, (b + 1) batch_s)``. A batch is processed once a plot at or
after its end has been seen (or on :meth:`Tracker.flush`); inside a batch each sensor's plots
form one round (:func:`airpicture.tracking.scan.process_round`), sensors in the order of their
first plot, then missed opportunities are counted and track status updated at the batch end.

Late plots: the tracker keeps a snapshot of the tracks before one batch in every ``lag_s``
seconds (enough to reach back ``lag_s``) and the plots processed since the oldest. A plot
older than the processed data time but within ``lag_s`` rolls the tracks back to the newest
snapshot at or before its batch and re-processes the buffered plots with it, so the result is
the one an in-order run gives; older plots are rejected as ``late``. Output rows of
re-processed batches are emitted again and supersede the earlier ones.

Deleted tracks leave their rows as free slots that new tracks reuse (the table grows by half
when they run out), so no batch copies every track; :attr:`Tracker.tracks` lists the live
ones in track-number order.

The tracker reads no clock: "far in the future" is judged against ``now`` when the caller
gives it, else against the end of the run of the call's plot times that holds their median
(sorted times up to the first gap longer than ``max_future_s``): a call may carry a long
recording, and a far-future plot stands apart from the rest.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
from numpy.typing import NDArray

from airpicture.plot_table import PlotTable
from airpicture.track_table import TrackTable
from airpicture.tracking.config import TrackerConfig
from airpicture.tracking.imm import imm_combine, imm_predict
from airpicture.tracking.management import record_misses, update_status
from airpicture.tracking.motion import MotionModel
from airpicture.tracking.pairs import Context
from airpicture.tracking.scan import process_round
from airpicture.tracking.sensors import SensorArrays
from airpicture.tracking.state import CONFIRMED, DELETED, TrackArrays
from airpicture.tracking.validation import REASON, REASONS, validate


@dataclasses.dataclass(frozen=True)
class TrackerOutput:
    """What one call of :meth:`Tracker.process` produced.

    Attributes
    ----------
    tracks : TrackTable
        One row per track updated or changed in status, per processed batch, at the track's
        own time (deleted tracks appear once with status ``deleted``).
    rejected : (len(REASONS), n_sensors + 1) int64 array
        Plots rejected by this call per reason (:data:`REASONS`) and sensor (last column:
        unknown sensor).
    processed_until : float
        Data time (s) up to which plots have been processed.
    """

    tracks: TrackTable
    rejected: NDArray[np.int64]
    processed_until: float


@dataclasses.dataclass(frozen=True)
class _Snapshot:
    start: float
    tracks: TrackArrays
    next_id: int


class Tracker:
    """Multi-sensor IMM tracker over struct-of-arrays tracks (see the module docstring).

    Parameters
    ----------
    config : TrackerConfig

    Examples
    --------
    >>> from airpicture.messages import SensorInfo, SensorKind
    >>> radar = SensorInfo(id="r1", nation="A", kind=SensorKind.RADAR, lat_deg=50.0,
    ...                    lon_deg=4.0, alt_m=50.0, max_range_m=2e5, period_s=5.0)
    >>> tracker = Tracker(TrackerConfig(sensors=[radar], nation="A"))
    >>> len(tracker.process(PlotTable.empty()).tracks)
    0
    """

    def __init__(self, config: TrackerConfig) -> None:
        self.config = config
        models = (
            MotionModel(omega=0.0, q=config.q_cv),
            *(MotionModel(omega=w, q=config.q_ct) for w in config.turn_rates),
        )
        self._ctx = Context(config, SensorArrays.from_config(config), models)
        self._tracks = TrackArrays.blank(0, len(models))
        self._next_id = 1
        self._done = -math.inf
        self._max_seen = -math.inf
        self._pending = PlotTable.empty()
        self._history = PlotTable.empty()
        self._snapshots: list[_Snapshot] = []
        self._spare: list[TrackArrays] = []  # dropped snapshots' tables, to copy into
        self.rejected = np.zeros((len(REASONS), len(config.sensors) + 1), np.int64)
        """Cumulative rejected plots per reason and sensor."""

    @property
    def tracks(self) -> TrackArrays:
        """The live tracks, in track-number order (a copy)."""
        t = self._tracks
        live = np.flatnonzero(t.status != DELETED)
        return t.take(live[np.argsort(t.id[live], kind="stable")])

    def process(self, plots: PlotTable, now: float | None = None) -> TrackerOutput:
        """Validate and buffer ``plots``, then process every batch that is complete.

        Parameters
        ----------
        plots : PlotTable
            Plots of the configured sensors, in any order.
        now : float, optional
            Reference data time (s) for rejecting plots from the future.
        """
        cfg = self.config
        ref = now if now is not None else _reference_time(plots, self._done, cfg.max_future_s)
        reason, counts = validate(plots, self._ctx.sensors.kind, ref, cfg.max_future_s)
        late = (reason < 0) & (plots.time < self._done - cfg.lag_s)
        reason[late] = REASON["late"]
        np.add.at(counts[REASON["late"]], plots.sensor[late].astype(np.intp), 1)
        good = plots.take(reason < 0)
        tables: list[TrackTable] = []
        if len(good):
            self._max_seen = max(self._max_seen, float(good.time.max()))
            if float(good.time.min()) < self._done:
                self._roll_back(float(good.time.min()))
            self._pending = PlotTable.concat([self._pending, good])
        tables, more = self._run(self._max_seen)
        self.rejected += counts + more
        return TrackerOutput(TrackTable.concat(tables), counts + more, self._done)

    def flush(self) -> TrackerOutput:
        """Process every buffered plot, including the last, incomplete batch."""
        tables, counts = self._run(math.inf)
        self.rejected += counts
        return TrackerOutput(TrackTable.concat(tables), counts, self._done)

    def picture(self, time: float, confirmed_only: bool = True) -> TrackTable:
        """Live tracks predicted to data time ``time`` (s), one row each; tracks unchanged."""
        t = self.tracks
        if confirmed_only:
            t = t.take(t.status == CONFIRMED)
        dt = time - t.time
        x, P, c = imm_predict(t.x, t.P, t.mu, dt, self._ctx.models, self._ctx.sojourns)
        xc, Pc = imm_combine(x, P, c)
        table = t.to_table(self.config.nation)
        return dataclasses.replace(table, time=np.full(len(t), time), state=xc, covariance=Pc)

    def _roll_back(self, earliest: float) -> None:
        """Restore the snapshot before the batch of ``earliest`` and re-queue later plots.

        That is the latest snapshot taken at or before the batch's start (or the first after
        it, when none is older: nothing was processed in between).
        """
        start = self._batch(np.array([earliest]))[0] * self.config.batch_s
        if not self._snapshots:
            return
        before = [i for i, s in enumerate(self._snapshots) if s.start <= start]
        at = before[-1] if before else 0
        snap = self._snapshots[at]
        self._tracks, self._next_id, self._done = snap.tracks, snap.next_id, snap.start
        self._snapshots = self._snapshots[:at]
        back = self._history.time >= snap.start
        self._pending = PlotTable.concat([self._history.take(back), self._pending])
        self._history = self._history.take(~back)

    def _batch(self, time: NDArray[np.float64]) -> NDArray[np.int64]:
        return np.floor(time / self.config.batch_s).astype(np.int64)

    def _run(self, watermark: float) -> tuple[list[TrackTable], NDArray[np.int64]]:
        """Process the complete batches of the pending plots, in data-time order."""
        counts = np.zeros_like(self.rejected)
        tables: list[TrackTable] = []
        if len(self._pending) == 0:
            return tables, counts
        dt = self.config.batch_s
        pending = self._pending.take(np.lexsort((self._pending.z[:, 1], self._pending.z[:, 0],
                                                 self._pending.sensor, self._pending.time)))
        batch = self._batch(pending.time)
        ready = (batch + 1) * dt <= watermark
        bounds = np.flatnonzero(np.diff(batch[ready])) + 1
        for rows in np.split(np.flatnonzero(ready), bounds) if ready.any() else []:
            start = float(batch[rows[0]] * dt)
            tables.append(self._process_batch(pending.take(rows), start, start + dt, counts))
        done = pending.take(ready)
        self._pending = pending.take(~ready)
        self._history = PlotTable.concat([self._history, done])
        horizon = self._trim_snapshots()
        keep_from = self._snapshots[0].start if self._snapshots else horizon
        self._history = self._history.take(self._history.time >= min(keep_from, horizon))
        return tables, counts

    def _trim_snapshots(self) -> float:
        """Drop the snapshots no late plot can need any more (keeping the newest at or before
        the horizon ``processed time - lag_s - batch_s`` and all later ones), their tables
        kept as spares for the next snapshots; returns the horizon (s)."""
        horizon = self._done - self.config.lag_s - self.config.batch_s
        older = [i for i, s in enumerate(self._snapshots) if s.start <= horizon]
        if older:
            dropped = [s.tracks for s in self._snapshots[:older[-1]]]
            self._spare = (self._spare + dropped)[-2:]
            self._snapshots = self._snapshots[older[-1]:]
        return horizon

    def _process_batch(
        self, plots: PlotTable, start: float, end: float, counts: NDArray[np.int64]
    ) -> TrackTable:
        """All rounds of one batch, then management at ``end``; returns the output rows."""
        every = max(self.config.lag_s, self.config.batch_s)
        if self.config.lag_s > 0.0 and (not self._snapshots
                                        or start >= self._snapshots[-1].start + every):
            self._trim_snapshots()
            copy = self._tracks.copy(into=self._spare.pop() if self._spare else None)
            self._snapshots.append(_Snapshot(start, copy, self._next_id))
        sensors, first = np.unique(plots.sensor, return_index=True)
        touched = np.zeros(len(self._tracks), bool)
        for s in sensors[np.argsort(first, kind="stable")]:
            rows = plots.take(plots.sensor == s)
            try:
                result = process_round(self._tracks, rows, int(s), self._ctx, self._next_id)
            except np.linalg.LinAlgError:
                counts[REASON["numerical"], int(s)] += len(rows)
                continue
            self._tracks, self._next_id = result.tracks, result.next_id
            touched = np.concatenate([touched, np.zeros(len(result.touched) - len(touched),
                                                         bool)]) | result.touched
        before = self._tracks.status.copy()
        pd = float(self._ctx.sensors.pd.min()) if len(self._ctx.sensors.pd) else 0.9
        record_misses(self._tracks, end, self.config, np.full(len(self._tracks),
                                                              math.log(1.0 - pd)))
        update_status(self._tracks, end, self.config)
        changed = touched | (before != self._tracks.status)
        emit = np.flatnonzero(changed)
        out = self._tracks.to_table(self.config.nation,
                                    emit[np.argsort(self._tracks.id[emit], kind="stable")])
        self._done = end  # deleted rows stay as free slots for new tracks (scan.place)
        return out


def _reference_time(plots: PlotTable, fallback: float, max_gap: float) -> float:
    """End (s) of the run of the plots' sorted finite times, without a gap over ``max_gap``
    (s), that holds their median; ``fallback`` without finite times."""
    t = np.sort(plots.time[np.isfinite(plots.time)])
    if not len(t):
        return fallback
    mid = len(t) // 2
    gaps = np.flatnonzero(np.diff(t[mid:]) > max_gap)
    return float(t[mid + gaps[0]]) if len(gaps) else float(t[-1])
