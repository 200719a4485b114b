"""The region's airports, from the package's ``data/airports.csv`` (see ``data/SOURCE.md``)."""

from __future__ import annotations

import csv
import dataclasses
import io
from functools import cache
from importlib import resources

import numpy as np


@dataclasses.dataclass(frozen=True)
class Airport:
    """One airport: position in radians and field elevation in metres."""

    icao: str
    name: str
    country: str
    lat: float
    lon: float
    elevation_m: float


@cache
def airports() -> dict[str, Airport]:
    """All known airports by ICAO code (read once, on first call)."""
    text = (resources.files("airpicture") / "data" / "airports.csv").read_text("utf-8")
    out: dict[str, Airport] = {}
    for row in csv.DictReader(io.StringIO(text)):
        out[row["icao"]] = Airport(
            icao=row["icao"],
            name=row["name"],
            country=row["country"],
            lat=float(np.radians(float(row["lat_deg"]))),
            lon=float(np.radians(float(row["lon_deg"]))),
            elevation_m=float(row["elevation_m"]),
        )
    return out
