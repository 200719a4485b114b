"""``airpicture demo``: the four-nation Western Pacific scenario, four nodes, one process.

Simulates the scenario; each nation's node tracks its own sensors' plots, releases its tracks
in signed envelopes to the shared ``coalition`` log on the in-process bus, and fuses that log
into the system picture, in lock-step on data time. At the end it prints, per nation, the
completeness of what it holds alone and of the shared picture (against the truth inside the
joint coverage), GOSPA, the commonality of system track numbers across nodes and the picture
hashes. ``--json`` prints the same summary as one JSON line. The default run is 300 s of data
time (the scenario is an hour: ``--duration 3600``), scored from 60 s on.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from airpicture.cli.simulate import DEFAULT_DATA_DIR
from airpicture.scenario.config import ScenarioError, load_scenario, with_duration

DEFAULT_DURATION_S = 300.0


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--scenario", default="western-pacific",
                   help="built-in scenario name or path to a TOML file")
    p.add_argument("--duration", type=float, default=DEFAULT_DURATION_S,
                   help="simulated seconds (default %(default)s)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--warmup", type=float, default=60.0,
                   help="data seconds before scoring starts (default %(default)s)")
    p.add_argument("--policy", action="append", default=[], metavar="NATION=FILE",
                   help="release policy TOML for one nation (repeatable; default: release "
                        "everything to coalition)")
    p.add_argument("--out", type=Path,
                   help="also persist the shared log (bus files) in this directory")
    p.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR,
                   help="where recorded flights are looked up (default %(default)s)")
    p.add_argument("--json", action="store_true", help="print the summary as one JSON line")


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from airpicture.bus import InProcessBus
    from airpicture.cli.progress import progress_bar
    from airpicture.node import load_policy_file
    from airpicture.node.embedded import run_embedded
    from airpicture.policy import ReleasePolicy

    err = Console(stderr=True)
    try:
        scenario = with_duration(load_scenario(args.scenario), args.duration)
        policies: dict[str, list[ReleasePolicy]] = {}
        for item in args.policy:
            nation, sep, path = str(item).partition("=")
            if not sep:
                raise ValueError(f"--policy {item}: write NATION=FILE")
            policies[nation] = load_policy_file(path)
    except (ScenarioError, ValueError) as exc:
        err.print(f"[red]error:[/red] {exc}")
        return 2
    bus = InProcessBus(args.out) if args.out else None
    with progress_bar("data seconds", quiet=args.json) as advance:
        result = run_embedded(
            scenario, args.seed, args.data_dir, bus=bus, policies=policies,
            warmup_s=args.warmup, progress=lambda done, total: advance(int(done), int(total)),
        )
    if bus is not None:
        bus.close()
    summary = result.summary
    if args.json:
        print(json.dumps(summary.as_dict(), sort_keys=True))
        return 0
    from airpicture.node.report import summary_tables

    out = Console()
    for table in summary_tables(summary):
        out.print(table)
    for note in summary.notes:
        out.print(f"[yellow]note:[/yellow] {note}")
    return 0
