"""``airpicture node``: one nation's node as its own process, on a shared bus (NATS JetStream).

The node's plots come from simulating the shared scenario (``--scenario``, ``--seed``,
``--duration``: every node process simulates the same world and keeps its own nation's
sensors) or from a recorded run (``--plots DIR`` written by ``airpicture simulate``). It runs
as fast as it can on data time, but not more than ``--max-lead`` data seconds ahead of a
partner that is still advancing (a partner silent for ``--stall`` wall seconds, or never
heard for ``--startup`` seconds, is passed by until it is heard again), so the partners'
releases reach the log in time for the epochs.

Started on a log that already holds its releases (a restart), it rebuilds the picture from
the log, resumes its sequence numbers, warms its tracker on the last ``--warm`` data seconds
of plots (``--warm inf``: every plot from the start, so that its tracker and track ids are
exactly the old run's) and publishes from where it stopped. At the end it says ``end``,
waits (at most ``--linger`` s) for its partners to end, closes the last epochs and prints its
status with every rejection counter (``--json``: one JSON line); ``--hashes FILE`` writes
every epoch's ``time hash``. ``--record DIR`` records its plots, its own tracks and the
picture (:class:`airpicture.io.recorder.Recorder`: small complete Parquet parts; a full disk
is counted in the status and the node runs on).

Fault injection, for tests: ``--outage`` (publish nothing for a while), ``--reorder N``
(the node's link reorders: each group of ``N`` envelopes reaches the bus in reverse order)
and ``--clock-offset-s`` (the node's wall clock, which paces it, is off by that much). The
picture is closed on data time, never on the wall clock, so the last changes nothing in it.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path

import msgspec
import numpy as np

from airpicture.bus import Bus, Subscription
from airpicture.cli.simulate import DEFAULT_DATA_DIR
from airpicture.fusion import FusionConfig
from airpicture.io.parquet import read_table
from airpicture.messages import SensorInfo
from airpicture.node import Node, NodeStatus
from airpicture.plot_table import PlotTable


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--nation", required=True, help="this node's nation code, e.g. JPN")
    p.add_argument("--bus", default="nats://127.0.0.1:4222",
                   help="nats://HOST:PORT (or tls://; credentials as USER:PASS@ or the query "
                   "options tls_ca, nkeys_seed=PATH, nation), file:///DIR or memory:// "
                   "(default %(default)s)")
    p.add_argument("--keys", type=Path, help="directory of NATION.key and partners' *.pub "
                   "(from `airpicture keys new`)")
    p.add_argument("--demo-keys", type=int, metavar="SEED",
                   help="use the demo's deterministic keys for SEED instead (not secret)")
    p.add_argument("--policy", type=Path, help="release policy TOML ([[release]] tables)")
    p.add_argument("--audience", default="coalition", help="log read and fused")
    p.add_argument("--scenario", default="western-pacific",
                   help="built-in scenario name or TOML file to simulate")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--duration", type=float, help="simulated seconds")
    p.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    p.add_argument("--plots", type=Path, help="read plots.parquet and sensors.json from this "
                   "directory instead of simulating")
    p.add_argument("--max-lead", type=float, default=0.5, help="data seconds (default 0.5)")
    p.add_argument("--stall", type=float, default=5.0, help="wall seconds (default 5)")
    p.add_argument("--startup", type=float, default=60.0,
                   help="wall seconds to wait for a partner never heard (default 60)")
    p.add_argument("--linger", type=float, default=60.0,
                   help="wall seconds to wait for partners to end (default 60)")
    p.add_argument("--warm", type=float, default=60.0,
                   help="data seconds of plots re-tracked before resuming (default 60; inf: "
                        "all, the same track ids as before)")
    p.add_argument("--lateness", type=float, default=FusionConfig().lateness_s,
                   help="fusion lateness, data seconds (default %(default)s; the same on "
                        "every node)")
    p.add_argument("--bus-patience", type=float, default=60.0,
                   help="wall seconds a publish keeps retrying while NATS is unreachable "
                        "(default 60)")
    p.add_argument("--record", type=Path, help="record plots, own tracks and the picture here")
    p.add_argument("--record-part-s", type=float, default=10.0,
                   help="wall seconds per recorded part, at most (default 10)")
    p.add_argument("--reorder", type=int, default=1, metavar="N",
                   help="reverse each group of N envelopes on the way out (a fault, for tests)")
    p.add_argument("--clock-offset-s", type=float, default=0.0,
                   help="skew this node's wall clock by that much (a fault, for tests)")
    p.add_argument("--outage", metavar="START:SECONDS",
                   help="publish nothing from START for SECONDS (data seconds from the "
                        "scenario start): a link outage, for tests")
    p.add_argument("--hashes", type=Path, help="write 'time hash' per epoch to this file")
    p.add_argument("--json", action="store_true", help="print the final status as JSON")


def _load_plots(directory: Path) -> tuple[list[SensorInfo], PlotTable, dict[str, int]]:
    """Sensors and time-sorted plots of a recorded run, and the plots refused by reason
    (``unknown_sensor``: an index outside ``sensors.json``; ``bad_time``: not finite)."""
    sensors = msgspec.json.decode((directory / "sensors.json").read_bytes(),
                                  type=list[SensorInfo])
    plots = read_table(directory / "plots.parquet", PlotTable)
    unknown = (plots.sensor < 0) | (plots.sensor >= len(sensors))
    bad_time = ~np.isfinite(plots.time) & ~unknown
    refused = {"unknown_sensor": int(unknown.sum()), "bad_time": int(bad_time.sum())}
    plots = plots.take(~(unknown | bad_time)).sorted_by_time()
    return list(sensors), plots, {k: v for k, v in refused.items() if v}


class _Reordering:
    """A bus whose outgoing link reverses each group of ``group`` publishes (a fault)."""

    def __init__(self, bus: Bus, group: int) -> None:
        self.bus = bus
        self.group = group
        self.held: list[tuple[str, bytes, str]] = []

    def publish(self, audience: str, data: bytes, msg_id: str) -> int:
        self.held.append((audience, data, msg_id))
        if len(self.held) >= self.group:
            self.flush()
        return 0

    def flush(self) -> None:
        for item in reversed(self.held):
            self.bus.publish(*item)
        self.held.clear()

    def subscribe(self, audience: str, durable: str | None = None,
                  start_seq: int = 1) -> Subscription:
        return self.bus.subscribe(audience, durable, start_seq)

    def close(self) -> None:
        self.flush()
        self.bus.close()


class _Feed:
    """A simulator sink (or a recorded table) -> the node, in 1 s slices of data time."""

    def __init__(self, handle: Callable[[float, PlotTable], None]) -> None:
        self.handle = handle

    def plots(self, table: PlotTable) -> None:
        if not len(table):
            return
        slot = np.floor(table.time).astype(np.int64)
        for rows in np.split(np.arange(len(table)), np.flatnonzero(np.diff(slot)) + 1):
            self.handle(float(slot[rows[0]]), table.take(rows))

    def truth(self, table: object) -> None:
        pass

    def coverage(self, table: object) -> None:
        pass


class _Pacer:
    """Keeps the node within ``max_lead`` data seconds of its advancing partners: a partner
    never heard is waited for ``startup`` wall seconds (from the node's first release on, so
    that nodes started together release their first data and then find each other), a
    partner heard before for ``stall`` seconds of silence."""

    def __init__(self, node: Node, partners: list[str], max_lead: float, stall: float,
                 startup: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.node = node
        self.partners = partners
        self.max_lead = max_lead
        self.stall = stall
        self.startup = startup
        self.clock = clock
        self.heard: dict[str, tuple[float, float]] = {}
        self.down: dict[str, float] = {}

    def _update(self) -> None:
        now = self.clock()
        for p in self.partners:
            t = self.node.partner_time(p)
            t = -math.inf if t is None else t
            if p not in self.heard or t > self.heard[p][0]:
                self.heard[p] = (t, now)
            if p in self.down and t > self.down[p]:
                del self.down[p]

    def wait(self) -> None:
        mine = self.node.released_until
        while True:
            self.node.poll(4096, 0.0)
            self._update()
            ended = self.node.partners_ended
            lagging = [p for p in self.partners if p not in ended and p not in self.down
                       and self.heard[p][0] < mine - self.max_lead]
            if not lagging:
                return
            now = self.clock()
            for p in lagging:
                t, since = self.heard[p]
                if now - since > (self.startup if t == -math.inf else self.stall):
                    self.down[p] = t
            self.node.poll(4096, 0.05)

    def linger(self, seconds: float) -> None:
        deadline = self.clock() + seconds
        while self.clock() < deadline:
            self._update()
            if set(self.partners) <= self.node.partners_ended:
                break
            self.node.poll(4096, 0.2)
        self.node.drain(0.2)


def run(args: argparse.Namespace) -> int:
    from airpicture.bus import open_bus
    from airpicture.io.recorder import Recorder
    from airpicture.node import Node, NodeConfig, demo_keys, load_keys, load_policy_file
    from airpicture.node.core import split_by_nation
    from airpicture.scenario.config import ScenarioError, load_scenario, with_duration
    from airpicture.scenario.simulator import Simulation

    nation = str(args.nation)
    sim: Simulation | None = None
    refused: dict[str, int] = {}
    try:
        policies = tuple(load_policy_file(args.policy)) if args.policy else ()
        if args.plots is not None:
            sensors, recorded, refused = _load_plots(args.plots)
            start = float(recorded.time[0]) if len(recorded) else 0.0
        else:
            scenario = load_scenario(args.scenario)
            if args.duration is not None:
                scenario = with_duration(scenario, args.duration)
            sim = Simulation(scenario, args.seed, args.data_dir)
            sensors, start = list(sim.sensor_infos), scenario.scenario.start.timestamp()
        nations = list(dict.fromkeys(s.nation for s in sensors))
        if nation not in nations:
            raise ValueError(f"no sensor of nation {nation!r} (nations: {nations})")
        if args.keys is not None:
            key, partners = load_keys(args.keys, nation)
        elif args.demo_keys is not None:
            keys = demo_keys(nations, int(args.demo_keys))
            key, partners = keys[nation], {n: k.public_key() for n, k in keys.items()}
        else:
            raise ValueError("give --keys DIR (see `airpicture keys new`) or --demo-keys SEED")
        own = [s for s in sensors if s.nation == nation]
        recorder = (Recorder(args.record, own, part_s=args.record_part_s)
                    if args.record is not None else None)
    except (ScenarioError, ValueError, OSError) as exc:
        print(f"node: {exc}", file=sys.stderr)
        return 2
    outage = (math.inf, math.inf)
    if args.outage:
        a, _, b = str(args.outage).partition(":")
        outage = (start + float(a), start + float(a) + float(b))
    bus: Bus = open_bus(args.bus, **_bus_options(args))
    if args.reorder > 1:
        bus = _Reordering(bus, args.reorder)
    config = NodeConfig(nation=nation, audience=args.audience, policies=policies,
                        fusion=FusionConfig(lateness_s=args.lateness))
    node = Node(config, own, bus, key, partners,
                on_epoch=None if recorder is None else lambda r: recorder.picture(r.picture),
                on_release=None if recorder is None else lambda t, x: recorder.local_tracks(x))
    node.feed_rejections.update(refused)
    node.recorder = recorder
    offset = float(args.clock_offset_s)
    pacer = _Pacer(node, sorted(p for p in partners if p != nation), args.max_lead, args.stall,
                   args.startup, lambda: time.monotonic() + offset)
    if node.catch_up(0.5, retrack_all=math.isinf(args.warm)):
        print(f"node {nation}: resuming after {node.resume_after - start:.0f} s of data "
              f"(picture rebuilt from the log: {len(node.hashes)} epochs)", file=sys.stderr)
    warm_from = node.resume_after - args.warm
    ended_before = nation in node.partners_ended  # killed after its end: nothing to send

    def handle(now: float, part: PlotTable) -> None:
        if now < warm_from:
            return
        node.muted = outage[0] <= now < outage[1]
        mine = split_by_nation(part, sensors, nations)[nation]
        if recorder is not None:
            recorder.plots(mine)
        node.feed(mine)
        pacer.wait()

    if not ended_before:
        feed = _Feed(handle)
        if sim is not None:
            sim.run(feed)
        else:
            feed.plots(recorded)
        node.muted = False
        node.finish()
    if isinstance(bus, _Reordering):
        bus.flush()
    pacer.linger(args.linger)
    node.flush_picture()
    if recorder is not None:
        recorder.close()
    status = node.status()
    if args.hashes is not None:
        args.hashes.write_text("".join(f"{t!r} {h}\n" for t, h in node.hashes))
    bus.close()
    if args.json:
        print(json.dumps(status.as_dict(), sort_keys=True))
    else:
        _print_status(status)
    return 0


def _print_status(status: NodeStatus) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"airpicture node {status.nation} ({status.audience})")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("epochs", f"{status.epochs:,}")
    table.add_row("last epoch hash", (status.hash or "-")[:16])
    table.add_row("system tracks", f"{status.system_tracks:,}")
    table.add_row("envelopes published", f"{status.published:,}")
    table.add_row("log records read", f"{status.log_records:,}")
    for p, link in status.links.items():
        table.add_row(f"link {p}", f"{link.state} seq {link.last_seq} ok {link.accepted} "
                                   f"rejected {link.rejected}")
    for what, count in sorted(status.rejections().items()):
        table.add_row(f"rejected {what}", f"{count:,}")
    r = status.recorder
    for stream in sorted({k.rsplit("_", 1)[0] for k in r}):
        table.add_row(f"recorded {stream}", f"{r[f'{stream}_records']:,} records in "
                      f"{r[f'{stream}_parts']:,} parts, {r[f'{stream}_pending']:,} pending")
    Console().print(table)


def _bus_options(args: argparse.Namespace) -> dict[str, float]:
    """NATS retry options: a publish is retried for at least ``--bus-patience`` wall s."""
    if not str(args.bus).startswith(("nats://", "tls://")):
        return {}
    timeout_s, max_backoff_s = 10.0, 1.0  # an ack may take a slow link's delay
    attempts = max(1, math.ceil(float(args.bus_patience) / max_backoff_s))
    return {"publish_attempts": attempts, "request_timeout_s": timeout_s,
            "max_backoff_s": max_backoff_s}
