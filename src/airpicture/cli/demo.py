"""``airpicture demo``: the built-in four-nation scenario, simulated in one process.

Prints the run's summary: objects, plots per sensor type, and coverage of each nation alone and
of all together. ``--json`` prints the same summary as one JSON line.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

from airpicture.cli.progress import progress_bar
from airpicture.cli.simulate import DEFAULT_DATA_DIR
from airpicture.scenario.config import ScenarioError, load_scenario, with_duration


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--scenario", default="western-pacific",
                   help="built-in scenario name or path to a TOML file")
    p.add_argument("--duration", type=float, help="simulated seconds (default: the scenario's)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", type=Path, help="also write the run (truth, plots) to this directory")
    p.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR,
                   help="where recorded flights are looked up (default %(default)s)")
    p.add_argument("--json", action="store_true", help="print the summary as one JSON line")


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from airpicture.scenario.output import DiscardSink, ParquetSink
    from airpicture.scenario.simulator import Simulation
    from airpicture.scenario.summary_table import summary_tables

    try:
        scenario = load_scenario(args.scenario)
        if args.duration is not None:
            scenario = with_duration(scenario, args.duration)
    except (ScenarioError, ValueError) as exc:
        Console(stderr=True).print(f"[red]error:[/red] {exc}")
        return 2
    sim = Simulation(scenario, args.seed, args.data_dir)
    sink = ParquetSink(args.out) if args.out else DiscardSink()
    try:
        with progress_bar("simulating", quiet=args.json) as advance:
            summary = sim.run(sink, advance)
        if isinstance(sink, ParquetSink):
            sink.finish(sim.sensor_infos, sim.objects, sim.nations, summary)
    except BaseException:
        if isinstance(sink, ParquetSink):
            sink.abort()
        raise
    if args.json:
        print(json.dumps(dataclasses.asdict(summary), sort_keys=True))
        return 0
    out = Console()
    for table in summary_tables(summary):
        out.print(table)
    for note in summary.notes:
        out.print(f"[yellow]note:[/yellow] {note}")
    return 0
