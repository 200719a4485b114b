"""A picture of a simulation run: every nation's sensor sites with their ranges, and the truth
tracks, on a longitude/latitude plot that runs continuously across the antimeridian."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from numpy.typing import NDArray

from airpicture.geo import destination_points, ecef2geodetic
from airpicture.messages import SensorInfo, SensorKind
from airpicture.truth_table import TruthTable

NATION_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")
MARKERS = {SensorKind.RADAR: "^", SensorKind.SSR: "s", SensorKind.ADSB: ".", SensorKind.ESM: "x"}


def _east(lon_deg: NDArray[np.float64], west_edge: float) -> NDArray[np.float64]:
    """Longitudes unwrapped to increase eastwards from ``west_edge`` (degrees)."""
    return np.asarray(west_edge + np.mod(lon_deg - west_edge, 360.0))


def scenario_figure(
    path: Path, sensors: list[SensorInfo], nations: list[str], truth: TruthTable,
    title: str, west_edge_deg: float = 100.0,
) -> None:
    """Write the picture to ``path`` (PNG): truth tracks grey, sites coloured by nation, the
    range ring of each radar and SSR, ADS-B receivers as dots."""
    fig = Figure(figsize=(12, 9), dpi=100)
    ax = fig.subplots()
    if len(truth):
        step = max(1, len(truth) // 400_000)
        llh = np.degrees(ecef2geodetic(truth.position[::step])[:, :2])
        ax.scatter(_east(llh[:, 1], west_edge_deg), llh[:, 0], s=0.2, c="0.6", linewidths=0,
                   rasterized=True, label="truth")
    for sensor in sensors:
        colour = NATION_COLOURS[nations.index(sensor.nation) % len(NATION_COLOURS)]
        lon = float(_east(np.array([sensor.lon_deg]), west_edge_deg)[0])
        ax.plot(lon, sensor.lat_deg, MARKERS[sensor.kind], color=colour, ms=5)
        if sensor.kind in (SensorKind.RADAR, SensorKind.SSR):
            lo, hi = sensor.sector_rad if sensor.sector_rad else (0.0, 2 * np.pi)
            bearings = lo + np.linspace(0.0, np.mod(hi - lo, 2 * np.pi) or 2 * np.pi, 73)
            site = np.radians([[sensor.lat_deg, sensor.lon_deg]])
            ring = np.degrees(destination_points(np.repeat(site, 73, axis=0), bearings,
                                                 np.full(73, sensor.max_range_m)))
            # Unwrapped about the site, so a ring that crosses the plot's edge stays whole.
            ring_lon = lon + np.mod(ring[:, 1] - sensor.lon_deg + 180.0, 360.0) - 180.0
            if sensor.sector_rad:
                ring_lon = np.concatenate([[lon], ring_lon, [lon]])
                ring_lat = np.concatenate([[sensor.lat_deg], ring[:, 0], [sensor.lat_deg]])
            else:
                ring_lat = ring[:, 0]
            ax.plot(ring_lon, ring_lat, color=colour, lw=0.6, alpha=0.6)
    for i, nation in enumerate(nations):
        ax.plot([], [], "o", color=NATION_COLOURS[i % len(NATION_COLOURS)], label=nation)
    ax.set_xlabel("longitude east (deg; 180 is the antimeridian)")
    ax.set_ylabel("latitude (deg)")
    ax.set_title(title)
    ax.set_aspect(1.0 / np.cos(np.radians(5.0)))
    ax.grid(True, lw=0.3)
    ax.legend(loc="lower left", fontsize=8, markerscale=2)
    fig.tight_layout()
    fig.savefig(path, metadata={"Software": None})
