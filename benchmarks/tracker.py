"""Tracker throughput: 1,000 and 10,000 targets with one radar, and a mixed radar + ADS-B case.

Targets fly straight at 1-12 km altitude within 380 km of a 10 s radar (PD 0.95, 10 clutter
plots per scan); in the mixed case half of them also broadcast ADS-B every 2 s. The first
scans (initiation) are excluded; the rest are timed, in wall-clock seconds and in this
process's CPU seconds (the machine is shared: CPU time is what the tracker itself used).
Prints a table and, last, one JSON line for the 10,000-target radar case with the scaling
exponent of the cost per scan.

    .venv/bin/python benchmarks/tracker.py [--scans 6] [--cv]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from airpicture.messages import SensorKind
from airpicture.plot_table import KIND_CODE, PlotTable
from airpicture.tracking import Tracker, TrackerConfig

WARM_SCANS = 4
PERIOD = 10.0


def load_synth() -> ModuleType:
    """The seeded scene generator shared with the tests (``tests/tracking/synth.py``)."""
    path = Path(__file__).resolve().parents[1] / "tests" / "tracking" / "synth.py"
    spec = importlib.util.spec_from_file_location("tracking_synth", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def radar_scene(
    synth: ModuleType, n: int, scans: int, seed: int = 1
) -> tuple[Any, PlotTable, np.random.Generator]:
    """``n`` straight-flying targets (ENU trajectories), their radar plots over ``scans``
    revolutions, and the generator to go on drawing from."""
    rng = np.random.default_rng(seed)
    r = 3.8e5 * np.sqrt(rng.uniform(0.01, 1.0, n))
    th = rng.uniform(0, 2 * np.pi, n)
    p0 = np.column_stack([r * np.sin(th), r * np.cos(th), rng.uniform(1e3, 1.2e4, n)])
    v0 = np.column_stack([rng.uniform(-200, 200, (n, 2)), np.zeros(n)])
    traj = synth.linear(p0, v0)
    radar = synth.radar_scans(traj, scans, rng, period=PERIOD, pd=0.95, clutter=10.0,
                              max_range=4e5).plots
    return traj, radar, rng


def scene(synth: ModuleType, n: int, scans: int, mixed: bool, seed: int = 1) -> PlotTable:
    """Plots of ``n`` straight-flying targets over ``scans`` radar revolutions."""
    traj, radar, rng = radar_scene(synth, n, scans, seed)
    if not mixed:
        return radar  # type: ignore[no-any-return]
    cooperative = np.flatnonzero(rng.random(n) < 0.5)
    times = np.arange(0.0, scans * PERIOD, 2.0)
    t = times[:, None] + rng.uniform(0, 2.0, (len(times), n))
    truth = synth.to_ecef(traj(t))[:, cooperative].reshape(-1, 6)
    t = t[:, cooperative]
    adsb = PlotTable.blank(len(truth))
    adsb.time[:] = 1.7e9 + t.ravel()
    adsb.sensor[:] = 1
    adsb.kind[:] = KIND_CODE[SensorKind.ADSB]
    adsb.z[:] = truth + rng.normal(size=truth.shape) * [30, 30, 30, 1, 1, 1]
    adsb.sigma[:] = [30, 30, 45, 1, 1, 1.5]
    adsb.icao[:] = 0x400000 + np.tile(cooperative, len(times))
    return PlotTable.concat([radar, adsb]).sorted_by_time()


def measure(synth: ModuleType, n: int, scans: int, mixed: bool, cv: bool) -> dict[str, float]:
    """Time the tracker over the scans after the warm-up; returns the figures."""
    sensors = [synth.radar(max_range=4e5, period=PERIOD)]
    if mixed:
        sensors.append(synth.radar(id="a1", kind=SensorKind.ADSB, period=2.0, max_range=4e5))
    cfg = TrackerConfig(sensors=sensors, nation="A", **({"turn_rates": ()} if cv else {}))
    plots = scene(synth, n, WARM_SCANS + scans, mixed)
    tracker = Tracker(cfg)
    split = 1.7e9 + WARM_SCANS * PERIOD
    tracker.process(plots.take(plots.time < split))
    timed = plots.take(plots.time >= split)
    chunks = np.floor((timed.time - split) / PERIOD)
    started, cpu = time.perf_counter(), time.process_time()
    for k in range(scans):
        tracker.process(timed.take(chunks == k))
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu
    return {"targets": n, "plots": len(timed), "plots_per_s": len(timed) / elapsed,
            "s_per_scan": elapsed / scans, "cpu_plots_per_s": len(timed) / cpu,
            "tracks": len(tracker.tracks)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scans", type=int, default=6, help="timed scans per case")
    parser.add_argument("--cv", action="store_true", help="CV only instead of the 3-model IMM")
    args = parser.parse_args()
    synth = load_synth()
    measure(synth, 200, 1, True, args.cv)  # loads the compiled kernels outside the timing
    cases = [("radar", 1000, False), ("radar", 10000, False), ("radar + ADS-B", 10000, True)]
    results = [(name, measure(synth, n, args.scans, mixed, args.cv)) for name, n, mixed in cases]
    table = Table(title=f"tracker throughput ({'CV' if args.cv else 'IMM CV+2CT'}, EKF, GNN)")
    for col in ("case", "targets", "plots", "plots/s", "plots/CPU s", "s/scan", "live tracks"):
        table.add_column(col, justify="right")
    for name, r in results:
        table.add_row(name, f"{r['targets']:,.0f}", f"{r['plots']:,.0f}",
                      f"{r['plots_per_s']:,.0f}", f"{r['cpu_plots_per_s']:,.0f}",
                      f"{r['s_per_scan']:.3f}", f"{r['tracks']:,.0f}")
    Console().print(table)
    small, big = results[0][1], results[1][1]
    exponent = math.log(big["s_per_scan"] / small["s_per_scan"]) / math.log(10.0)
    Console().print(f"cost per scan grows as N^{exponent:.2f} from 1,000 to 10,000 targets")
    print(json.dumps({"targets": big["targets"], "plots": big["plots"],
                      "plots_per_s": round(big["plots_per_s"]),
                      "s_per_scan": round(big["s_per_scan"], 4),
                      "cpu_plots_per_s": round(big["cpu_plots_per_s"]),
                      "scaling_exponent": round(exponent, 3)}))


if __name__ == "__main__":
    main()
