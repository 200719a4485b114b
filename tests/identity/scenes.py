"""Small seeded scenarios for the identity, alert and registration tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from airpicture.plot_table import PlotTable
from airpicture.scenario.config import Scenario, parse_scenario
from airpicture.scenario.simulator import Simulation
from airpicture.truth_table import CoverageTable, TruthTable

__all__ = ["Collect", "Simulation", "TruthTable", "chunks", "scenario", "simulate"]

CENTRAL_JAPAN = """
[scenario]
name = "central-japan"
start = 2026-06-01T00:00:00Z
duration_s = {duration}
step_s = 1.0

[region]
lat_min_deg = 33.0
lat_max_deg = 38.5
lon_west_deg = 134.0
lon_east_deg = 142.0

[traffic]
airliners = {airliners}
noncooperative = {noncoop}
airborne_fraction = 1.0
min_route_km = 150.0
max_route_km = 1000.0
noncooperative_anchors = ["A-R"]

[traffic.airports]
RJTT = 3
RJBB = 2
RJGG = 2

[nations.AAA]
name = "Nation A"

[nations.BBB]
name = "Nation B"

[[sensors]]
id = "A-R"
nation = "AAA"
kind = "radar"
lat_deg = 35.2
lon_deg = 137.0
alt_m = 300.0
max_range_km = 300
sigma_range_m = 50
sigma_azimuth_deg = 0.08
pd_ref = 0.95
{bias_a}

[[sensors]]
id = "B-R"
nation = "BBB"
kind = "radar"
lat_deg = 36.2
lon_deg = 139.2
alt_m = 300.0
max_range_km = 300
sigma_range_m = 50
sigma_azimuth_deg = 0.08
pd_ref = 0.95
{bias_b}

[[sensors]]
id = "A-S"
nation = "AAA"
kind = "ssr"
lat_deg = 35.2
lon_deg = 137.0
alt_m = 300.0
max_range_km = 300

[[sensors]]
id = "A-ADSB"
nation = "AAA"
kind = "adsb"
lat_deg = 35.5
lon_deg = 138.0
alt_m = 500.0
max_range_km = 400
"""

BIAS = "bias_range_m = 300.0\nbias_azimuth_deg = 0.3\nbias_time_s = 0.5"


def scenario(duration: float = 600.0, airliners: int = 20, noncoop: int = 0,
             biased: bool = False, extra: str = "") -> Scenario:
    text = CENTRAL_JAPAN.format(duration=duration, airliners=airliners, noncoop=noncoop,
                                bias_a=BIAS if biased else "", bias_b=BIAS if biased else "")
    return parse_scenario(text + extra, "central-japan")


class Collect:
    """A simulator sink that keeps everything."""

    def __init__(self) -> None:
        self.plot_parts: list[PlotTable] = []
        self.truth_parts: list[TruthTable] = []

    def plots(self, table: PlotTable) -> None:
        self.plot_parts.append(table)

    def truth(self, table: TruthTable) -> None:
        self.truth_parts.append(table)

    def coverage(self, table: CoverageTable) -> None:
        pass


def simulate(sc: Scenario, seed: int = 1) -> tuple[Simulation, Collect]:
    sim = Simulation(sc, seed, Path("/nonexistent"))
    sink = Collect()
    sim.run(sink)
    return sim, sink


def chunks(parts: list[PlotTable], seconds: float) -> list[PlotTable]:
    """The plots re-cut into batches of ``seconds`` of data time."""
    plots = PlotTable.concat(parts).sorted_by_time()
    if len(plots) == 0:
        return []
    edges = np.arange(plots.time[0], plots.time[-1] + seconds, seconds)
    cuts = np.searchsorted(plots.time, edges[1:])
    out, start = [], 0
    for c in cuts:
        out.append(plots.take(slice(start, int(c))))
        start = int(c)
    return [p for p in out if len(p)]
