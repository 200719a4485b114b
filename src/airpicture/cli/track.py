"""``airpicture track``: run the tracker over recorded plots and write the track updates.

Reads ``plots.parquet`` (:class:`airpicture.plot_table.PlotTable`) and ``sensors.json`` (a JSON
list of :class:`airpicture.messages.SensorInfo`), feeds the plots to
:class:`airpicture.tracking.Tracker` in data-time chunks and streams its output to a Parquet
file with the :class:`airpicture.track_table.TrackTable` schema: one row per track update or
status change (``time`` the track's own time, ``state`` ECEF x, y, z, vx, vy, vz, ``covariance``
p00..p55, ``status`` index into tentative/confirmed/coasting/deleted, ``quality`` in [0, 1],
``icao``/``mode3a``/``callsign`` when known). With ``--nation`` only that nation's sensors and
their plots are used.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import msgspec
import numpy as np
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from airpicture.io.parquet import TableWriter, read_table
from airpicture.messages import SensorInfo, TrackStatus
from airpicture.plot_table import PlotTable
from airpicture.track_table import STATUS_CODES, TrackTable
from airpicture.tracking import REASONS, Association, Logic, Tracker, TrackerConfig


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``airpicture track``."""
    parser.add_argument("--plots", type=Path, required=True, help="plots.parquet")
    parser.add_argument("--sensors", type=Path, required=True, help="sensors.json")
    parser.add_argument("--out", type=Path, required=True, help="tracks.parquet to write")
    parser.add_argument("--nation", default=None, help="use only this nation's sensors")
    parser.add_argument("--association", choices=[a.value for a in Association], default="gnn")
    parser.add_argument("--logic", choices=[x.value for x in Logic], default="m_of_n")
    parser.add_argument("--batch-s", type=float, default=1.0, help="batch length (s)")
    parser.add_argument("--lag-s", type=float, default=5.0, help="late-plot lag (s)")
    parser.add_argument("--chunk-s", type=float, default=60.0,
                        help="data seconds handed to the tracker per call")


def run(args: argparse.Namespace) -> int:
    """Track, write, and print a summary; returns the exit status."""
    console = Console()
    sensors = msgspec.json.decode(args.sensors.read_bytes(), type=list[SensorInfo])
    plots = read_table(args.plots, PlotTable)
    if args.nation is not None:
        keep = np.array([s.nation == args.nation for s in sensors], bool)
        if not keep.any():
            console.print(f"[red]no sensor of nation {args.nation!r} in {args.sensors}")
            return 2
        new_index = np.cumsum(keep) - 1
        known = (plots.sensor >= 0) & (plots.sensor < len(sensors))
        plots = plots.take(known & keep[np.where(known, plots.sensor, 0)])
        plots.sensor[:] = new_index[plots.sensor]
        sensors = [s for s, k in zip(sensors, keep, strict=True) if k]
    nation = args.nation or (sensors[0].nation if sensors else "")
    config = TrackerConfig(sensors=sensors, nation=nation, association=Association(
        args.association), logic=Logic(args.logic), batch_s=args.batch_s, lag_s=args.lag_s)
    tracker = Tracker(config)
    plots = plots.sorted_by_time()
    chunk = np.floor((plots.time - plots.time.min()) / args.chunk_s) if len(plots) else plots.time
    bounds = np.flatnonzero(np.diff(chunk)) + 1
    started = time.perf_counter()
    confirmed: set[int] = set()
    with TableWriter(args.out, TrackTable) as writer, Progress(console=console) as progress:
        task = progress.add_task("tracking", total=len(plots))
        for rows in np.split(np.arange(len(plots)), bounds):
            out = tracker.process(plots.take(rows))
            _write(writer, out.tracks, confirmed)
            progress.advance(task, len(rows))
        _write(writer, tracker.flush().tracks, confirmed)
        written = writer.rows
    elapsed = time.perf_counter() - started
    _summary(console, tracker, sensors, len(plots), written, len(confirmed), elapsed)
    return 0


def _write(writer: TableWriter, tracks: TrackTable, confirmed: set[int]) -> None:
    writer.write(tracks)
    code = STATUS_CODES.index(TrackStatus.CONFIRMED)
    confirmed.update(int(t) for t in np.unique(tracks.track[tracks.status == code]))


def _summary(console: Console, tracker: Tracker, sensors: list[SensorInfo], n_plots: int,
             rows: int, confirmed: int, elapsed: float) -> None:
    table = Table(title="airpicture track")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("plots", f"{n_plots:,}")
    table.add_row("output rows", f"{rows:,}")
    table.add_row("tracks ever confirmed", f"{confirmed:,}")
    table.add_row("live tracks at end", f"{len(tracker.tracks):,}")
    table.add_row("seconds", f"{elapsed:.2f}")
    table.add_row("plots per second", f"{n_plots / max(elapsed, 1e-9):,.0f}")
    names = [s.id for s in sensors] + ["(unknown)"]
    for r, s in zip(*np.nonzero(tracker.rejected), strict=True):
        table.add_row(f"rejected {REASONS[r]} / {names[s]}", f"{tracker.rejected[r, s]:,}")
    console.print(table)
