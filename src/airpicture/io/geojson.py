"""A GeoJSON (RFC 7946) snapshot of the picture: one Point feature per live system track.

Coordinates are ``[longitude, latitude, height]`` (degrees, metres above the WGS84 ellipsoid).
Properties: ``stn``, ``time`` (ISO 8601 UTC), ``identity``, ``status``, ``quality``,
``nations``, ``callsign``, ``icao`` (six hex digits), ``mode3a`` (four octal digits),
``course_deg`` (from true north), ``speed_ms``, ``vertical_rate_ms``, ``sigma_h_m`` (one-sigma
horizontal, root sum of the east and north variances). Absent values are ``null``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import msgspec
import numpy as np

from airpicture import geo
from airpicture.io.cot import cot_time
from airpicture.messages import SystemTrack, TrackStatus


def geojson_snapshot(tracks: Sequence[SystemTrack]) -> dict[str, Any]:
    """The FeatureCollection of the non-deleted tracks."""
    live = [t for t in tracks if t.status is not TrackStatus.DELETED]
    features: list[dict[str, Any]] = []
    if live:
        state = np.array([t.state for t in live], dtype=np.float64).reshape(-1, 6)
        cov = np.array([t.covariance for t in live], dtype=np.float64).reshape(-1, 6, 6)
        llh = geo.ecef2geodetic(state[:, :3])
        rot = geo.ecef2enu_rotation(llh[:, :2])
        v = np.einsum("nij,nj->ni", rot, state[:, 3:])
        p = np.einsum("nij,njk,nlk->nil", rot, cov[:, :3, :3], rot)
        sigma_h = np.sqrt(np.abs(p[:, 0, 0]) + np.abs(p[:, 1, 1]))
        course = np.mod(np.rad2deg(np.arctan2(v[:, 0], v[:, 1])), 360.0)
        for i, t in enumerate(live):
            features.append({
                "type": "Feature",
                "id": t.stn,
                "geometry": {
                    "type": "Point",
                    "coordinates": [round(float(np.rad2deg(llh[i, 1])), 7),
                                    round(float(np.rad2deg(llh[i, 0])), 7),
                                    round(float(llh[i, 2]), 1)],
                },
                "properties": {
                    "stn": t.stn,
                    "time": cot_time(t.time),
                    "identity": t.identity.value,
                    "status": t.status.value,
                    "quality": t.quality,
                    "nations": list(t.nations),
                    "callsign": t.callsign,
                    "icao": None if t.icao is None else f"{t.icao:06X}",
                    "mode3a": None if t.mode3a is None else f"{t.mode3a:04o}",
                    "course_deg": round(float(course[i]), 2),
                    "speed_ms": round(float(np.hypot(v[i, 0], v[i, 1])), 2),
                    "vertical_rate_ms": round(float(v[i, 2]), 2),
                    "sigma_h_m": round(float(sigma_h[i]), 1),
                },
            })
    return {"type": "FeatureCollection", "features": features}


def write_geojson(path: str | Path, tracks: Sequence[SystemTrack]) -> int:
    """Write the snapshot to ``path``; returns the number of features."""
    doc = geojson_snapshot(tracks)
    Path(path).write_bytes(msgspec.json.encode(doc))
    return len(doc["features"])
