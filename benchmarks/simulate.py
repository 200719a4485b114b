"""Simulation throughput: the default scenario's sensors with N objects for D seconds.

Usage: ``.venv/bin/python benchmarks/simulate.py [--objects 10000] [--duration 3600]``.
Prints a table and, last, one JSON line with ``objects``, ``plots``, ``plots_per_s``,
``realtime_factor`` (simulated seconds per wall second). Output goes to a counting sink: the
figure is the simulator's, not the disk's.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import msgspec
from rich.console import Console
from rich.table import Table

from airpicture.cli.progress import progress_bar
from airpicture.plot_table import PlotTable
from airpicture.scenario.config import load_scenario, with_duration
from airpicture.scenario.simulator import Simulation
from airpicture.truth_table import CoverageTable, TruthTable


class CountingSink:
    """Counts rows instead of writing them."""

    def __init__(self) -> None:
        self.rows = {"plots": 0, "truth": 0, "coverage": 0}

    def plots(self, table: PlotTable) -> None:
        self.rows["plots"] += len(table)

    def truth(self, table: TruthTable) -> None:
        self.rows["truth"] += len(table)

    def coverage(self, table: CoverageTable) -> None:
        self.rows["coverage"] += len(table)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--objects", type=int, default=10_000)
    ap.add_argument("--duration", type=float, default=3600.0)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    sc = with_duration(load_scenario("western-pacific"), args.duration)
    nc = max(1, args.objects // 50)
    traffic = msgspec.structs.replace(
        sc.traffic, airliners=args.objects - nc, noncooperative=nc, recorded=None
    )
    sc = msgspec.structs.replace(sc, traffic=traffic)
    t0 = time.perf_counter()
    sim = Simulation(sc, args.seed, Path("."))
    setup = time.perf_counter() - t0
    sink = CountingSink()
    t1 = time.perf_counter()
    with progress_bar("simulating") as advance:
        summary = sim.run(sink, advance)
    wall = time.perf_counter() - t1
    table = Table(title=f"simulate: {len(sim.objects):,} objects, {args.duration:.0f} s, "
                        f"{len(sim.sensor_infos)} sensors")
    table.add_column("figure")
    table.add_column("value", justify="right")
    rows = {
        "set-up (s)": f"{setup:.2f}",
        "run (s)": f"{wall:.2f}",
        "plots": f"{summary.total_plots:,}",
        "truth rows": f"{sink.rows['truth']:,}",
        "plots per second": f"{summary.total_plots / wall:,.0f}",
        "real-time factor": f"{args.duration / wall:.1f}x",
    } | {f"plots: {k}": f"{v:,}" for k, v in summary.plots.items()}
    for k, v in rows.items():
        table.add_row(k, v)
    Console().print(table)
    print(json.dumps({
        "objects": len(sim.objects),
        "sensors": len(sim.sensor_infos),
        "duration_s": args.duration,
        "plots": summary.total_plots,
        "plots_per_s": round(summary.total_plots / wall),
        "realtime_factor": round(args.duration / wall, 1),
        "wall_s": round(wall, 2),
    }))


if __name__ == "__main__":
    main()
