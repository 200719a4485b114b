"""The scenario simulator: steps truth, lets every sensor observe it, hands out the results.

Pure: it writes nothing itself. Results go to a :class:`Sink` in data-time order (plots of
time-stamp-biased sensors included). The same scenario and seed give the same results: every
sensor and the truth draw from their own generator spawned from the seed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from airpicture.messages import SENSOR_KINDS, SensorInfo, SensorKind
from airpicture.plot_table import PlotTable
from airpicture.scenario.config import RadarConfig, Scenario
from airpicture.scenario.events import apply_events
from airpicture.scenario.sensors.base import StepContext
from airpicture.scenario.sensors.factory import GROUPS, build_groups
from airpicture.scenario.truth import TruthModel, TruthStep
from airpicture.truth_table import CoverageTable, ObjectClass, ObjectTable, TruthTable

CHUNK_STEPS = 60


class Sink(Protocol):
    """Receives the simulator's output, each stream in time order."""

    def plots(self, table: PlotTable) -> None: ...
    def truth(self, table: TruthTable) -> None: ...
    def coverage(self, table: CoverageTable) -> None: ...


@dataclasses.dataclass
class Summary:
    """What a run produced: counts and coverage (shares of object samples, 0..1)."""

    scenario: str
    seed: int
    duration_s: float
    objects: dict[str, int]
    plots: dict[str, int]
    plots_per_sensor: dict[str, int]
    coverage: dict[str, float]
    coverage_together: float
    notes: list[str]

    @property
    def total_plots(self) -> int:
        return sum(self.plots.values())


class Simulation:
    """A scenario ready to run (see the module docstring)."""

    def __init__(self, scenario: Scenario, seed: int, data_dir: Path | None = None) -> None:
        self.scenario = scenario
        self.seed = seed
        children = np.random.SeedSequence(seed).spawn(1 + len(GROUPS))
        self.groups = build_groups(scenario.sensors, children[1:])
        # The group with the most sensors first: the simulation loop runs it on its own thread.
        self.groups.sort(key=lambda g: -len(g.infos))
        order = {c.id: i for i, c in enumerate(scenario.sensors)}
        self.infos = sorted((i for g in self.groups for i in g.infos), key=lambda i: order[i.id])
        by_id = {cfg.id: cfg for cfg in scenario.sensors}
        anchors = np.radians([
            [by_id[a].lat_deg, by_id[a].lon_deg]
            for a in scenario.traffic.noncooperative_anchors if a in by_id
        ]).reshape(-1, 2)
        self.truth = TruthModel(scenario, np.random.default_rng(children[0]), data_dir, anchors)
        self.nations = list(scenario.nations)
        self.max_lag = max(
            [abs(c.bias_time_s) for c in scenario.sensors if isinstance(c, RadarConfig)],
            default=0.0,
        )

    @property
    def sensor_infos(self) -> list[SensorInfo]:
        """Descriptions of the sensors, in scenario order (the plots' ``sensor`` index)."""
        return self.infos

    @property
    def objects(self) -> ObjectTable:
        return self.truth.objects

    def run(self, sink: Sink, progress: Callable[[int, int], None] | None = None) -> Summary:
        """Run every step; ``progress(done, total)`` is called once per chunk of steps."""
        sc = self.scenario.scenario
        dt = sc.step_s
        truth_every = round(sc.truth_interval_s / dt)
        cover_every = max(1, round(sc.coverage_interval_s / dt))
        n_obj = len(self.objects)
        covered = np.zeros(len(self.nations) + 1)
        samples = 0
        truth_rows: list[Future[TruthTable]] = []
        counts = np.zeros(len(self.infos), np.int64)
        steps = self.truth.steps()
        prev = next(steps)
        total = self.truth.n_steps
        index = None
        # Two threads (the kernels and most NumPy work release the GIL): the next truth step
        # and the sensor groups run side by side. Each group owns its generator and results
        # are gathered in a fixed order, so the output does not depend on thread timing.
        pool = ThreadPoolExecutor(max_workers=2)
        upcoming = pool.submit(next, steps, None)
        # Ordering plots and coverage bookkeeping also go to the pool, each chained after its
        # predecessor, so the sink sees the same calls in the same order.
        flushed: Future[list[PlotTable]] = pool.submit(list)
        accounted: Future[int] = pool.submit(int)
        for k in range(total):
            nxt = upcoming.result()
            assert nxt is not None
            upcoming = pool.submit(next, steps, None)
            both = prev.active & nxt.active
            acc = np.where(both[:, None], (nxt.velocity - prev.velocity) / dt, 0.0)
            ctx = StepContext.build(prev.time, dt, prev.active, prev.llh, prev.position,
                                    prev.velocity, acc, self.objects, index)
            index = ctx.index
            # The busiest group runs here while the pool takes the others.
            observed = [pool.submit(g.observe, ctx) for g in self.groups[1:]]
            tables = [self.groups[0].observe(ctx)] + [f.result() for f in observed]
            for table in tables:
                counts += np.bincount(table.sensor, minlength=len(counts))
            flushed = pool.submit(self._flush, sink, [*flushed.result(), *tables],
                                  nxt.time - self.max_lag, k + 1 == total)
            if k % truth_every == 0:
                truth_rows.append(pool.submit(_truth_rows, prev))
            if k % cover_every == 0:
                accounted.result()
                accounted = pool.submit(self._account, sink, ctx, covered)
                samples += int(prev.active.sum())
            prev = nxt
            if (k + 1) % CHUNK_STEPS == 0 or k + 1 == total:
                sink.truth(TruthTable.concat([f.result() for f in truth_rows]))
                truth_rows = []
                if progress:
                    progress(k + 1, total)
        upcoming.result()
        flushed.result()
        accounted.result()
        pool.shutdown()
        share = covered / max(samples, 1)
        by_kind = {kind.value: 0 for kind in SENSOR_KINDS}
        for info, c in zip(self.infos, counts, strict=True):
            by_kind[info.kind.value] += int(c)
        classes = self.objects.cls
        return Summary(
            scenario=sc.name, seed=self.seed, duration_s=sc.duration_s,
            objects={c.name.lower(): int(np.sum(classes == c)) for c in ObjectClass}
            | {"total": n_obj},
            plots=by_kind,
            plots_per_sensor={i.id: int(c) for i, c in zip(self.infos, counts, strict=True)},
            coverage={n: float(share[i]) for i, n in enumerate(self.nations)},
            coverage_together=float(share[-1]),
            notes=list(self.truth.notes),
        )

    def _account(self, sink: Sink, ctx: StepContext, covered: NDArray[np.float64]) -> int:
        """Coverage of one instant: handed to the sink and added to ``covered`` in place."""
        mask, counts = self._coverage(ctx)
        covered += counts
        sink.coverage(mask)
        return len(mask)

    def _coverage(self, ctx: StepContext) -> tuple[CoverageTable, np.ndarray]:
        """Per-object nation bit masks, and covered-sample counts per nation and together."""
        seen = np.zeros((len(self.nations), len(ctx.active)), bool)
        for group in self.groups:
            if group.infos[0].kind is SensorKind.ESM:
                continue
            pairs = group.covers(ctx)
            nation = np.array([self.nations.index(i.nation) for i in group.infos], np.int64)
            seen[nation[pairs.sensor], pairs.obj] = True
        ids = np.flatnonzero(ctx.active)
        covered = seen[:, ids]
        weights = (np.uint32(1) << np.arange(len(self.nations), dtype=np.uint32))[:, None]
        bits = np.asarray(np.sum(covered * weights, axis=0, dtype=np.uint32), np.uint32)
        counts = np.append(covered.sum(axis=1), covered.any(axis=0).sum()).astype(np.float64)
        return CoverageTable(np.full(len(ids), ctx.time), ids, bits), counts

    def _flush(
        self, sink: Sink, pending: list[PlotTable], safe_until: float, final: bool
    ) -> list[PlotTable]:
        """Hand plots older than ``safe_until`` to the sink in time order; keep the rest."""
        table = PlotTable.concat(pending).sorted_by_time()
        cut = len(table) if final else int(np.searchsorted(table.time, safe_until, "left"))
        sink.plots(apply_events(table.take(slice(0, cut)), self.scenario.events,
                                self.truth.t0))
        return [table.take(slice(cut, None))]


def _truth_rows(step: TruthStep) -> TruthTable:
    ids = np.flatnonzero(step.active)
    return TruthTable(np.full(len(ids), step.time), ids.astype(np.int64),
                      step.position[ids], step.velocity[ids])
