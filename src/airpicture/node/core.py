"""The national node: its sensors' plots -> tracker -> policy -> signed envelopes on the bus;
the shared log -> verification -> fusion -> the system picture.

A :class:`Node` has no thread and reads no clock. The driver calls :meth:`Node.feed` with the
nation's plots in data-time order (any chunking) and :meth:`Node.poll` to read the shared log;
so one process can run several nodes in lock-step on data time (the embedded demo), and a
node process can run one over NATS (``airpicture node``), pacing itself at the edge.

Releases: after each :meth:`feed`, once ``release_interval_s`` of data time has passed since
the last release, the node takes the tracker's live tracks predicted to the processed data
time as columns, keeps those a policy lets out, and publishes them to each policy's audience
as columnar ``LocalTrackBatch`` messages in signed envelopes of at most ``chunk_tracks``
tracks. Every release tick sends at least one envelope (an empty batch is the node's
heartbeat), so partners see its data time advance.

Reading: every record of the audience's log is verified (rejections counted by reason and
sender); a ``local_track_batch`` envelope's batch is validated whole and checked to belong to
its signer (a bad batch is counted and dropped whole), then given as columns to
:meth:`airpicture.fusion.Picture.ingest`, once per record, in log order. So every node
reading the same log holds the same picture, epoch by epoch, and a restarted node rebuilds it
by reading the log from its start.

Restart: while reading the log a node notes its own last sequence number, data time and
track ids. A node started on a log that already holds its releases (:meth:`catch_up`) goes on
from there: its sequence numbers continue (partners would reject repeats as replays), it
publishes nothing for data times it had already released, and its new tracker's ids are
shifted past the old ones (a new tracker numbers from 1 again).
"""

from __future__ import annotations

import collections
import dataclasses
import hashlib
import math
from collections.abc import Callable, Mapping, Sequence

import numpy as np
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from airpicture.audit import AuditLog
from airpicture.bus import Bus, Subscription
from airpicture.fusion import EpochResult, Picture
from airpicture.messages import SensorInfo
from airpicture.node.config import NodeConfig, partner_names
from airpicture.node.status import Counters, LinkState, NodeStatus
from airpicture.node.wire import (
    KIND_BATCH,
    KIND_END,
    decode_batch,
    encode_batches,
    snapshot_columns,
)
from airpicture.plot_table import PlotTable
from airpicture.policy import LocalTrackColumns, ReleaseQueue, release
from airpicture.security import Sealer, Verifier
from airpicture.track_table import TrackTable
from airpicture.tracking import REASONS, Tracker, TrackerConfig

__all__ = ["LinkState", "Node", "NodeStatus"]

_ID_SHIFT = 32


class Node:
    """One nation's node (see the module docstring).

    Parameters
    ----------
    config : NodeConfig
    sensors : sequence of SensorInfo
        The nation's sensors; a fed plot's ``sensor`` indexes this list.
    bus : Bus
        Where the audiences' logs live.
    key : Ed25519PrivateKey
        The nation's signing key.
    partners : mapping of nation to Ed25519PublicKey
        Keys of every nation whose envelopes are accepted (the node's own included).
    tracker : TrackerConfig, optional
        Default: ``TrackerConfig(sensors=sensors, nation=config.nation)``.
    audit : AuditLog, optional
        Where releases are recorded (default: in memory).
    on_epoch : callable, optional
        Called with every closed epoch.
    on_release : callable, optional
        Called with ``(time, tracks)``: the node's own tracks of each release tick, before
        the policies (what the nation alone holds).
    """

    def __init__(
        self,
        config: NodeConfig,
        sensors: Sequence[SensorInfo],
        bus: Bus,
        key: Ed25519PrivateKey,
        partners: Mapping[str, Ed25519PublicKey],
        *,
        tracker: TrackerConfig | None = None,
        audit: AuditLog | None = None,
        on_epoch: Callable[[EpochResult], None] | None = None,
        on_release: Callable[[float, TrackTable], None] | None = None,
    ) -> None:
        wrong = [s.id for s in sensors if s.nation != config.nation]
        if wrong:
            raise ValueError(f"node {config.nation}: sensors of other nations: {wrong}")
        self.config = config
        self.nation = config.nation
        self.sensors = list(sensors)
        self.bus = bus
        self.partners = dict(partners)
        self.partners.setdefault(self.nation, key.public_key())
        self.tracker = Tracker(tracker or TrackerConfig(sensors=self.sensors, nation=self.nation))
        self.audit = audit if audit is not None else AuditLog()
        self._key = key
        self.sealer = Sealer(self.nation, key, self.audit)
        self.verifier = Verifier(self.partners, [config.audience], config.verifier)
        self.picture = Picture(config.fusion)
        self.on_epoch = on_epoch
        self.on_release = on_release
        self.hashes: list[tuple[float, str]] = []
        self.last_result: EpochResult | None = None
        self.published = 0
        self.released_tracks = 0
        self.log_records = 0
        self.report_rejections: collections.Counter[str] = collections.Counter()
        self.feed_rejections: collections.Counter[str] = collections.Counter()
        """Plots refused at the edge before :meth:`feed`, by reason (the driver counts)."""
        self.recorder: Counters | None = None
        """The recorder the driver attached, for :meth:`status`."""
        self._queues = {p.audience: ReleaseQueue(p.delay_s) for p in config.policies}
        self._statuses = frozenset(s for p in config.policies for s in p.statuses)
        self._kinds = {s.id: s.kind for s in self.sensors}
        self._sensor_ids = [s.id for s in self.sensors]
        self._last_release = -math.inf
        self._sub: Subscription = bus.subscribe(config.audience)
        self._newest_log_time = -math.inf
        self._link_time: dict[str, float] = {}
        self._link_seq: dict[str, int] = {}
        self._ended: set[str] = set()
        self._own_max_id = -1
        self._resume_after = -math.inf
        self._id_offset = 0
        self.ended = False
        self.muted = False
        """While set, nothing is published (a link outage; the tracker keeps running)."""
        self.muted_envelopes = 0

    # -- sending -----------------------------------------------------------------------

    def feed(self, plots: PlotTable) -> int:
        """Track ``plots`` (this nation's, data-time order); release when due.

        Returns the number of envelopes published.
        """
        out = self.tracker.process(plots)
        return self._maybe_release(out.processed_until)

    def finish(self) -> int:
        """End of the nation's data: process the last plots, release, and say ``end``."""
        out = self.tracker.flush()
        sent = self._maybe_release(out.processed_until, force=True)
        for audience in sorted(self._queues):
            for time, tracks in self._queues[audience].due(math.inf):
                sent += self._publish(audience, time, tracks)
            sent += self._send(audience, self._last_release, KIND_END, b"", 0)
        self.ended = True
        return sent

    def _maybe_release(self, until: float, force: bool = False) -> int:
        if not math.isfinite(until):
            return 0
        due = until >= self._last_release + self.config.release_interval_s - 1e-9
        if not (due or (force and until > self._last_release)):
            return 0
        self._last_release = until
        arrays = self.tracker.tracks
        snapshot = self.tracker.picture(until, confirmed_only=False)
        tracks = snapshot_columns(
            snapshot, arrays, self._sensor_ids, self._statuses, self._id_offset
        )
        if until <= self._resume_after:
            return 0  # released by this node's earlier run: already in the log
        if self.on_release is not None:
            self.on_release(until, tracks.table)
        sent = 0
        for policy in self.config.policies:
            out = release(tracks, policy, self._kinds)
            queue = self._queues[policy.audience]
            queue.push(until, out)
            for time, batch in queue.due(until):
                sent += self._publish(policy.audience, time, batch)
        return sent

    def _publish(self, audience: str, time: float, tracks: LocalTrackColumns) -> int:
        sent = 0
        for payload, count in encode_batches(tracks, self.nation, self.config.chunk_tracks):
            sent += self._send(audience, time, KIND_BATCH, payload, count)
        if sent:
            self.released_tracks += len(tracks)
        return sent

    def _send(self, audience: str, time: float, kind: str, payload: bytes, count: int) -> int:
        if self.muted:
            self.muted_envelopes += 1
            return 0
        data = self.sealer.seal(audience, time, kind, payload, count)
        digest = hashlib.blake2b(data, digest_size=12).hexdigest()
        self.bus.publish(audience, data, f"{self.nation}-{digest}")
        self.published += 1
        return 1

    # -- reading -----------------------------------------------------------------------

    def poll(self, max_records: int = 1024, timeout: float = 0.0) -> list[EpochResult]:
        """Read what the log holds next (waiting up to ``timeout`` s for the first record),
        verify it and fuse it; returns the epochs that closed."""
        results: list[EpochResult] = []
        for record in self._sub.fetch(max_records, timeout):
            self.log_records += 1
            envelope = self.verifier.accept(record.data)
            if envelope is None:
                continue
            sender = envelope.sender
            self._link_time[sender] = max(self._link_time.get(sender, -math.inf), envelope.time)
            self._link_seq[sender] = max(self._link_seq.get(sender, 0), envelope.seq)
            self._newest_log_time = max(self._newest_log_time, envelope.time)
            if envelope.kind == KIND_END:
                self._ended.add(sender)
                continue
            if envelope.kind != KIND_BATCH:
                self.report_rejections["unknown_kind"] += 1
                continue
            table, dropped = decode_batch(envelope.payload, sender, envelope.time)
            self.report_rejections.update(dropped)
            if sender == self.nation and len(table):
                self._own_max_id = max(self._own_max_id, int(table.track.max()))
            self._closed(self.picture.ingest(table), results)
        return results

    def _closed(self, epochs: list[EpochResult], results: list[EpochResult]) -> None:
        for result in epochs:
            self.hashes.append((result.time, result.hash))
            self.last_result = result
            if self.on_epoch is not None:
                self.on_epoch(result)
            results.append(result)

    def drain(self, timeout: float = 0.0, max_rounds: int = 1_000_000) -> list[EpochResult]:
        """Poll until the log has nothing more (each fetch waiting up to ``timeout`` s)."""
        results: list[EpochResult] = []
        for _ in range(max_rounds):
            before = self.log_records
            results.extend(self.poll(4096, timeout))
            if self.log_records == before:
                break
        return results

    def flush_picture(self) -> list[EpochResult]:
        """Close every epoch still holding reports (end of the run)."""
        results: list[EpochResult] = []
        self._closed(self.picture.flush(), results)
        return results

    def catch_up(self, timeout: float = 0.2, *, retrack_all: bool = False) -> bool:
        """Read the whole log before starting; returns whether it already held releases of
        this node (a restart), in which case sending resumes after them.

        ``retrack_all``: the driver feeds the new tracker every plot from the start of the
        nation's data again, so its track ids are the old run's and are kept (otherwise they
        are shifted past the old ones)."""
        self.drain(timeout)
        own_seq = self._link_seq.get(self.nation, 0)
        if own_seq == 0:
            return False
        self.sealer = Sealer(self.nation, self._key, self.audit, {self.config.audience: own_seq})
        self._resume_after = self._link_time.get(self.nation, -math.inf)
        if self._own_max_id >= 0 and not retrack_all:
            self._id_offset = ((self._own_max_id >> _ID_SHIFT) + 1) << _ID_SHIFT
        return True

    @property
    def released_until(self) -> float:
        """Data time of the node's newest release tick (-inf before the first)."""
        return self._last_release

    @property
    def resume_after(self) -> float:
        """Data time up to which this node's releases are already in the log."""
        return self._resume_after

    # -- status ------------------------------------------------------------------------

    def partner_time(self, nation: str) -> float | None:
        """Newest data time heard from ``nation`` (``None``: never)."""
        t = self._link_time.get(nation)
        return None if t is None else t

    @property
    def partners_ended(self) -> set[str]:
        """Partners that said their run is over."""
        return set(self._ended)

    def link(self, nation: str) -> LinkState:
        """The state of one partner's feed (see :class:`LinkState`)."""
        t = self._link_time.get(nation)
        if nation in self._ended:
            state = "ended"
        elif t is None:
            state = "unknown"
        elif t < self._newest_log_time - self.config.stale_s:
            state = "down"
        else:
            state = "up"
        rejected = sum(c for (s, _), c in self.verifier.rejections_by_sender.items() if s == nation)
        return LinkState(nation, state, t, self._link_seq.get(nation, 0),
                         self.verifier.accepted[nation], rejected)

    def status(self) -> NodeStatus:
        """Counters and picture state now."""
        last = self.last_result
        rejected = self.tracker.rejected.sum(axis=1)
        reports = dict(self.report_rejections)
        reports.update({f"picture_{k}": v for k, v in self.picture.rejected.items()})
        return NodeStatus(
            nation=self.nation,
            audience=self.config.audience,
            epoch=None if last is None else last.time,
            hash=None if last is None else last.hash,
            epochs=len(self.hashes),
            system_tracks=0 if last is None else len(last.picture),
            published=self.published,
            released_tracks=self.released_tracks,
            log_records=self.log_records,
            links={p: self.link(p) for p in [self.nation, *partner_names(self.partners,
                                                                        self.nation)]},
            plots_rejected={REASONS[i]: int(c) for i, c in enumerate(rejected) if c},
            envelopes_rejected=dict(self.verifier.rejections),
            reports_rejected=reports,
            late_reports=self.picture.late,
            feeds_rejected=dict(self.feed_rejections),
            recorder={} if self.recorder is None else self.recorder.counters(),
        )


def split_by_nation(
    plots: PlotTable, sensors: Sequence[SensorInfo], nations: Sequence[str]
) -> dict[str, PlotTable]:
    """Each nation's plots, with ``sensor`` re-indexed into that nation's own sensor list
    (the order of ``sensors`` restricted to the nation)."""
    nation_of = np.array([nations.index(s.nation) for s in sensors], np.int64)
    local = np.zeros(len(sensors), np.int32)
    for k in range(len(nations)):
        mine = np.flatnonzero(nation_of == k)
        local[mine] = np.arange(len(mine), dtype=np.int32)
    known = (plots.sensor >= 0) & (plots.sensor < len(sensors))
    plots = plots.take(known)
    owner = nation_of[plots.sensor]
    out = {}
    for k, nation in enumerate(nations):
        part = plots.take(owner == k)
        out[nation] = dataclasses.replace(part, sensor=local[part.sensor])
    return out
