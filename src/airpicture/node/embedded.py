"""Several nodes in one process, in lock-step on data time: the embedded demo.

The simulator streams plots in data-time order; they are cut into slices of
``release_interval_s``; for each slice every node tracks its own nation's plots and releases
(in the scenario's nation order), then every node reads the shared log and fuses. The bus is
the in-process one (optionally persisted), the keys are the run's deterministic demo keys.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np

from airpicture.bus import Bus, InProcessBus
from airpicture.fusion import EpochResult
from airpicture.node.config import NodeConfig, demo_keys
from airpicture.node.core import Node, split_by_nation
from airpicture.node.summary import Recorder, RunSummary, score_run
from airpicture.plot_table import PlotTable
from airpicture.policy import ReleasePolicy
from airpicture.scenario.config import Scenario
from airpicture.scenario.simulator import Simulation, Sink, Summary
from airpicture.track_table import TrackTable
from airpicture.truth_table import CoverageTable, TruthTable

__all__ = ["EmbeddedRun", "Outage", "run_embedded"]


@dataclasses.dataclass(frozen=True)
class Outage:
    """Nation ``nation`` publishes nothing for data times in ``[start, end)`` (its link is
    down; its tracker keeps running)."""

    nation: str
    start: float
    end: float


@dataclasses.dataclass
class EmbeddedRun:
    """The nodes after a run, the simulator's summary and the scored summary."""

    nodes: dict[str, Node]
    simulation: Summary
    summary: RunSummary
    epochs: dict[str, list[EpochResult]]


class _Driver:
    """The simulator's sink: slices plots and drives the nodes in lock-step."""

    def __init__(
        self,
        sim: Simulation,
        nodes: dict[str, Node],
        recorder: Recorder,
        step_s: float,
        outages: Sequence[Outage],
        progress: Callable[[float, float], None] | None,
        start: float,
        duration: float,
        tap: Sink | None = None,
    ) -> None:
        self.sim = sim
        self.tap = tap
        self.nodes = nodes
        self.recorder = recorder
        self.step_s = step_s
        self.outages = list(outages)
        self.progress = progress
        self.start = start
        self.duration = duration

    def plots(self, table: PlotTable) -> None:
        if self.tap is not None:
            self.tap.plots(table)
        if not len(table):
            return
        slot = np.floor(table.time / self.step_s).astype(np.int64)
        bounds = np.flatnonzero(np.diff(slot)) + 1
        for rows in np.split(np.arange(len(table)), bounds):
            part = table.take(rows)
            now = float(slot[rows[0]] * self.step_s)
            by_nation = split_by_nation(part, self.sim.sensor_infos, self.sim.nations)
            for nation, node in self.nodes.items():
                node.muted = any(o.nation == nation and o.start <= now < o.end
                                 for o in self.outages)
                node.feed(by_nation[nation])
            for node in self.nodes.values():
                node.poll(1 << 20)
            if self.progress is not None:
                self.progress(min(now - self.start, self.duration), self.duration)

    def truth(self, table: TruthTable) -> None:
        self.recorder.truth(table)
        if self.tap is not None:
            self.tap.truth(table)

    def coverage(self, table: CoverageTable) -> None:
        self.recorder.coverage(table)
        if self.tap is not None:
            self.tap.coverage(table)


def run_embedded(
    scenario: Scenario,
    seed: int = 1,
    data_dir: Path | None = None,
    *,
    bus: Bus | None = None,
    policies: Mapping[str, Sequence[ReleasePolicy]] | None = None,
    outages: Sequence[Outage] = (),
    warmup_s: float = 60.0,
    keep_epochs: bool = False,
    progress: Callable[[float, float], None] | None = None,
    tap: Sink | None = None,
    on_epoch: Callable[[str, EpochResult], None] | None = None,
) -> EmbeddedRun:
    """Simulate ``scenario`` and run one node per nation on it (module docstring).

    ``policies`` maps a nation to its release policies (default: everything to
    ``coalition``); ``outages`` cut nations' links for a while; the summary is scored from
    ``warmup_s`` after the start. ``keep_epochs`` keeps every node's epoch results (memory:
    the whole picture of every epoch; for small scenarios). ``tap`` also receives everything
    the simulator emits (plots before the nodes get them); ``on_epoch`` is called with
    ``(nation, result)`` for every epoch a node closes.
    """
    started = time.perf_counter()
    sim = Simulation(scenario, seed, data_dir)
    nations = list(sim.nations)
    keys = demo_keys(nations, seed)
    partners = {n: k.public_key() for n, k in keys.items()}
    the_bus = bus if bus is not None else InProcessBus()
    sc = scenario.scenario
    start = sc.start.timestamp()
    recorder = Recorder(start, sc.coverage_interval_s, min(warmup_s, 0.5 * sc.duration_s))
    epochs: dict[str, list[EpochResult]] = {n: [] for n in nations}
    nodes: dict[str, Node] = {}
    for nation in nations:
        config = NodeConfig(nation=nation, policies=tuple((policies or {}).get(nation, ())))
        sensors = [s for s in sim.sensor_infos if s.nation == nation]

        def record_epoch(result: EpochResult, nation: str = nation) -> None:
            if keep_epochs:
                epochs[nation].append(result)
            recorder.epoch(nation, result)
            if on_epoch is not None:
                on_epoch(nation, result)

        def on_release(t: float, tracks: TrackTable, nation: str = nation) -> None:
            recorder.local(nation, t, tracks)

        nodes[nation] = Node(config, sensors, the_bus, keys[nation], partners,
                             on_epoch=record_epoch, on_release=on_release)
    driver = _Driver(sim, nodes, recorder, 1.0, outages, progress, start, sc.duration_s, tap)
    sim_summary = sim.run(driver)
    for node in nodes.values():
        node.muted = False
        node.finish()
    for node in nodes.values():
        node.drain()
        node.flush_picture()
    final = {}
    rejections: dict[str, int] = {}
    for nation, node in nodes.items():
        last = node.last_result
        final[nation] = (0, "") if last is None else (len(last.picture), last.hash)
        for reason, count in node.status().rejections().items():
            rejections[reason] = rejections.get(reason, 0) + count
    summary = score_run(
        recorder, nations, scenario=sc.name, seed=seed, duration_s=sc.duration_s,
        objects=len(sim.objects), final=final,
        envelopes=sum(n.published for n in nodes.values()), rejections=rejections,
        wall_s=time.perf_counter() - started, notes=list(sim_summary.notes),
    )
    return EmbeddedRun(nodes, sim_summary, summary, epochs)
