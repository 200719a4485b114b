"""Sensor coverage as GeoJSON: each sensor's range ring or sector, cut at the antimeridian."""

from __future__ import annotations

from typing import Any

import numpy as np

from airpicture import geo
from airpicture.messages import SensorInfo
from airpicture.web.basemap import split_line, split_ring

__all__ = ["coverage_geojson", "geo_wrap"]


def geo_wrap(lon_deg: np.ndarray) -> np.ndarray:
    """Longitudes (degrees) wrapped into [-180, 180)."""
    return np.asarray((lon_deg + 180.0) % 360.0 - 180.0, dtype=np.float64)


def coverage_geojson(sensors: list[SensorInfo], points: int = 96) -> dict[str, Any]:
    """Each sensor's coverage (range ring or sector at ``max_range_m``) as two GeoJSON
    features cut at the antimeridian: its area (``part: area``, polygons) and its edge
    (``part: edge``, lines, without the cut). Coordinates in degrees (lon, lat)."""
    features: list[dict[str, Any]] = []
    if not sensors:
        return {"type": "FeatureCollection", "features": features}
    site = np.radians([[s.lat_deg, s.lon_deg] for s in sensors])
    frac = np.linspace(0.0, 1.0, points)
    start = np.array([s.sector_rad[0] if len(s.sector_rad) == 2 else 0.0 for s in sensors])
    stop = np.array([s.sector_rad[1] if len(s.sector_rad) == 2 else 2 * np.pi for s in sensors])
    span = np.mod(stop - start, 2 * np.pi)
    span = np.where(span == 0.0, 2 * np.pi, span)
    bearing = start[:, None] + frac[None, :] * span[:, None]
    dist = np.array([s.max_range_m for s in sensors])[:, None] * np.ones_like(frac)
    pts = np.degrees(geo.destination_points(site[:, None, :], bearing, dist))
    for i, s in enumerate(sensors):
        ring = np.column_stack([pts[i, :, 1], pts[i, :, 0]])
        if len(s.sector_rad) == 2:
            centre = np.array([[s.lon_deg, s.lat_deg]])
            ring = np.vstack([centre, ring, centre])
        else:
            ring = np.vstack([ring, ring[:1]])
        parts = [p for p in split_ring(ring) if len(p) >= 4]
        props = {"id": s.id, "nation": s.nation, "kind": s.kind.value, "name": s.name,
                 "range_km": round(s.max_range_m / 1e3, 1)}
        features.append({
            "type": "Feature", "properties": props | {"part": "area"},
            "geometry": {"type": "MultiPolygon",
                         "coordinates": [[np.round(p, 4).tolist()] for p in parts]},
        })
        edge = split_line(np.column_stack([geo_wrap(ring[:, 0]), ring[:, 1]]))
        features.append({
            "type": "Feature", "properties": props | {"part": "edge"},
            "geometry": {"type": "MultiLineString",
                         "coordinates": [np.round(p, 4).tolist() for p in edge]},
        })
    return {"type": "FeatureCollection", "features": features}
