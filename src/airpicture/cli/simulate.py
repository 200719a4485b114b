"""``airpicture simulate``: run a scenario and write truth, plots and sensors to a directory."""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

from airpicture.cli.progress import progress_bar
from airpicture.scenario.config import ScenarioError, load_scenario, with_duration

DEFAULT_DATA_DIR = Path("../shared/data/traffic_samples")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--scenario", default="western-pacific",
                   help="built-in scenario name or path to a TOML file")
    p.add_argument("--duration", type=float, help="override the scenario's duration (s)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", type=Path, required=True, help="output directory")
    p.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR,
                   help="where recorded flights are looked up (default %(default)s)")
    p.add_argument("--json", action="store_true", help="print the summary as one JSON line")
    p.add_argument("--no-map", action="store_true", help="do not draw DIR/scenario.png")


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from airpicture.scenario.output import ParquetSink
    from airpicture.scenario.simulator import Simulation
    from airpicture.scenario.summary_table import summary_tables

    err = Console(stderr=True)
    try:
        scenario = load_scenario(args.scenario)
        if args.duration is not None:
            scenario = with_duration(scenario, args.duration)
    except (ScenarioError, ValueError) as exc:
        err.print(f"[red]error:[/red] {exc}")
        return 2
    sim = Simulation(scenario, args.seed, args.data_dir)
    sink = ParquetSink(args.out)
    try:
        with progress_bar("simulating", quiet=args.json) as advance:
            summary = sim.run(sink, advance)
        sink.finish(sim.sensor_infos, sim.objects, sim.nations, summary)
    except BaseException:
        sink.abort()
        raise
    if args.json:
        print(json.dumps(dataclasses.asdict(summary), sort_keys=True))
    else:
        out = Console()
        for table in summary_tables(summary):
            out.print(table)
        for note in summary.notes:
            out.print(f"[yellow]note:[/yellow] {note}")
        out.print(f"written to {args.out}")
    if not args.no_map:
        from airpicture.io.parquet import read_table
        from airpicture.scenario.figure import scenario_figure
        from airpicture.truth_table import TruthTable

        truth = read_table(args.out / "truth.parquet", TruthTable)
        scenario_figure(args.out / "scenario.png", sim.sensor_infos, sim.nations, truth,
                        f"{scenario.scenario.name}: {len(sim.objects):,} objects, "
                        f"{len(sim.sensor_infos)} sensors, seed {args.seed}")
    return 0
