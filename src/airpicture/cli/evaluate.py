"""``airpicture evaluate``: score tracks and pictures against truth; write an HTML report.

Reads ``--truth`` (``truth.parquet``) or, without simulated truth, ``--opportunity`` (a
``plots.parquet`` whose high-integrity ADS-B reports become the reference); ``--tracks``
(local tracks of one or more sources) and any ``--picture`` files (one node's system picture
each). ``objects.parquet``, ``sensors.json`` and ``coverage.parquet`` are read from beside the
truth file when present (or from ``--objects``, ``--sensors``, ``--coverage``).

The coverage file is either the simulator's :class:`~airpicture.truth_table.CoverageTable`
(nation bit masks per object over time, bit order in ``nations.json`` beside it), or one row
per truth row (same order) with a boolean column per sensor id: a nation's joint coverage is
the union of its sensors' columns, the picture's that of all sensors; a single column
``covered`` applies to every set. Without it, all truth counts as
covered (the report says so).

Writes ``--out`` (HTML) and the JSON summary beside it (same name, ``.json``). Exit status 0 on
success, 2 on unusable input (the message names the file and the reason).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import msgspec
import numpy as np

from airpicture.io.parquet import read_arrow
from airpicture.messages import SensorInfo
from airpicture.metrics.align import coverage_masks
from airpicture.metrics.evaluation import EvaluationConfig, evaluate
from airpicture.metrics.opportunity import opportunity_truth
from airpicture.metrics.report import render_html, summary
from airpicture.metrics.samples import Samples, samples_from_truth
from airpicture.plot_table import PlotTable
from airpicture.track_table import TrackTable
from airpicture.truth_table import CoverageTable, ObjectClass, ObjectTable, TruthTable


class InputError(Exception):
    """Unusable input: the message names the file and the reason."""


def add_arguments(p: argparse.ArgumentParser) -> None:
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--truth", type=Path, help="truth.parquet of a simulated run")
    src.add_argument("--opportunity", type=Path, metavar="PLOTS",
                     help="plots.parquet: use ADS-B reports with NACp >= --min-nacp as truth")
    p.add_argument("--tracks", type=Path, required=True, help="tracks.parquet (local tracks)")
    p.add_argument("--picture", type=Path, nargs="*", default=[],
                   help="system picture file(s), one per node")
    p.add_argument("--out", type=Path, required=True, help="report.html to write")
    p.add_argument("--objects", type=Path, help="objects.parquet (default: beside --truth)")
    p.add_argument("--sensors", type=Path, help="sensors.json (default: beside --truth)")
    p.add_argument("--coverage", type=Path, help="coverage.parquet (default: beside --truth)")
    p.add_argument("--cutoff", type=float, default=2000.0, help="GOSPA cut-off c (m)")
    p.add_argument("--order", type=float, default=2.0, help="GOSPA/OSPA order p")
    p.add_argument("--switching", type=float, default=0.0, help="GOSPA switching penalty (m)")
    p.add_argument("--threshold", type=float, default=2000.0, help="association threshold (m)")
    p.add_argument("--k", type=int, default=3, help="samples to start an association")
    p.add_argument("--m", type=int, default=2, help="misses to end an association")
    p.add_argument("--max-age", type=float, default=12.0, help="longest extrapolation (s)")
    p.add_argument("--q", type=float, default=1.0, help="PCRB process noise (m^2/s^3)")
    p.add_argument("--min-nacp", type=int, default=8, help="truth of opportunity: lowest NACp")


def _read(path: Path, cls: type, what: str) -> object:
    if not path.exists():
        raise InputError(f"{path}: no such file ({what})")
    try:
        return read_arrow(path)  # a file, or a recorder's folder of parts
    except Exception as exc:  # pyarrow raises several types for a bad file
        raise InputError(f"{path}: not a Parquet file ({what}): {exc}") from exc


def _table(path: Path, cls: type, what: str) -> object:
    from airpicture.io.parquet import from_arrow

    data = _read(path, cls, what)
    try:
        return from_arrow(data, cls)
    except (KeyError, ValueError, TypeError) as exc:
        raise InputError(f"{path}: not a {cls.__name__} file ({what}): {exc}") from exc


def _split_sources(tracks: TrackTable) -> dict[str, TrackTable]:
    names = np.unique(tracks.source)
    return {n.decode("ascii") or "tracks": tracks.take(np.flatnonzero(tracks.source == n))
            for n in names}


def _coverage(path: Path, truth: Samples, sensors: list[SensorInfo], nations: list[str]
              ) -> dict[str, np.ndarray]:
    data: Any = _read(path, object, "coverage")
    n = len(truth)
    if {"time", "object", "nations"} <= set(data.column_names):
        # the simulator's CoverageTable: nation bit masks sampled per object over time
        cov = _table(path, CoverageTable, "coverage")
        order_path = path.parent / "nations.json"
        if not order_path.is_file():
            raise InputError(f"{order_path}: no such file (nation order of {path.name})")
        order = msgspec.json.decode(order_path.read_bytes(), type=list[str])
        return coverage_masks(truth, cov.time, cov.object, cov.nations, order)  # type: ignore[attr-defined]
    cols = {c: data.column(c).to_numpy(zero_copy_only=False).astype(bool)
            for c in data.column_names}
    if any(len(v) != n for v in cols.values()):
        raise InputError(f"{path}: coverage has {len(next(iter(cols.values())))} rows, truth {n}")
    if "covered" in cols:
        return {"*": cols["covered"]}
    out = {"*": np.zeros(n, bool)}
    for s in sensors:
        if s.id in cols:
            out.setdefault(s.nation, np.zeros(n, bool))
            out[s.nation] |= cols[s.id]
            out["*"] |= cols[s.id]
    for nation in nations:
        out.setdefault(nation, out["*"])
    return out


def _opportunity_objects(icao: np.ndarray) -> ObjectTable:
    """Objects of a truth of opportunity: labelled by ICAO address, cooperative airliners."""
    n = len(icao)
    return ObjectTable(
        id=icao.astype(np.int64), cls=np.full(n, ObjectClass.AIRLINER, np.uint8),
        icao=icao.astype(np.int32), mode3a=np.full(n, -1, np.int16), callsign=np.zeros(n, "S8"),
        transponder=np.ones(n, bool), adsb=np.ones(n, bool), emitter=np.zeros(n, bool),
        rcs=np.zeros(n), nacp=np.full(n, -1, np.int8), nacv=np.full(n, -1, np.int8),
    )


def _load(args: argparse.Namespace) -> dict[str, object]:
    base = (args.truth or args.opportunity).parent
    objects = sensors = None
    if args.truth is not None:
        truth_table = _table(args.truth, TruthTable, "truth")
        try:
            truth: Samples = samples_from_truth(truth_table)  # type: ignore[arg-type]
        except ValueError as exc:
            raise InputError(f"{args.truth}: {exc}") from exc
        obj_path = args.objects or base / "objects.parquet"
        if obj_path.is_file():
            objects = _table(obj_path, ObjectTable, "objects")
    else:
        plots = _table(args.opportunity, PlotTable, "plots")
        truth = opportunity_truth(plots, min_nacp=args.min_nacp)  # type: ignore[arg-type]
        if len(truth) == 0:
            raise InputError(f"{args.opportunity}: no ADS-B report with NACp >= {args.min_nacp}")
        objects = _opportunity_objects(np.unique(truth.label))
    sens_path = args.sensors or base / "sensors.json"
    if sens_path.is_file():
        try:
            sensors = msgspec.json.decode(sens_path.read_bytes(), type=list[SensorInfo])
        except msgspec.ValidationError as exc:
            raise InputError(f"{sens_path}: not a sensor list: {exc}") from exc
    tracks = _table(args.tracks, TrackTable, "tracks")
    sources = _split_sources(tracks)  # type: ignore[arg-type]
    pictures = {}
    for path in args.picture:
        pictures[path.stem] = _table(path, TrackTable, "picture")
    coverage = None
    cov_path = args.coverage or (base / "coverage.parquet" if args.truth else None)
    if cov_path is not None and cov_path.is_file():
        coverage = _coverage(cov_path, truth, list(sensors or []), list(sources))
    return {"truth": truth, "objects": objects, "sensors": sensors or [],
            "sources": sources, "pictures": pictures, "coverage": coverage}


def run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    try:
        config = EvaluationConfig(c=args.cutoff, p=args.order, switching_penalty=args.switching,
                                  threshold=args.threshold, k=args.k, m=args.m,
                                  max_age=args.max_age, q=args.q)
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                      console=console, transient=True) as bar:
            task = bar.add_task("reading inputs")
            data = _load(args)

            def say(msg: str) -> None:
                bar.update(task, description=f"evaluating: {msg}")

            ev = evaluate(
                data["truth"], data["sources"], data["pictures"],  # type: ignore[arg-type]
                objects=data["objects"], coverage=data["coverage"],  # type: ignore[arg-type]
                sensors=data["sensors"], config=config, progress=say,  # type: ignore[arg-type]
            )
            if args.truth is None:
                ev.notes.append("truth of opportunity: ADS-B reports with NACp >= "
                                f"{args.min_nacp} as reference (cooperative traffic only)")
            say("report")
            page = render_html(ev)
            sm = summary(ev)
    except InputError as exc:
        print(f"evaluate: {exc}", file=sys.stderr)
        return 2
    except ValueError as exc:
        print(f"evaluate: bad input: {exc}", file=sys.stderr)
        return 2
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(page, encoding="utf-8")
    json_path = args.out.with_suffix(".json")
    json_path.write_text(json.dumps(sm, indent=1, allow_nan=False), encoding="utf-8")
    console.print(f"wrote {args.out} and {json_path}")
    for name, s in sm["sets"].items():
        print(f"{name}: completeness {s['siap']['completeness']:.3f}, "
              f"GOSPA {s['gospa']['gospa_mean_m']:.0f} m", file=sys.stdout)
    return 0
