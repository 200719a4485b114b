"""The offline basemap: land, coastlines and country borders from the npm package world-atlas.

world-atlas ships Natural Earth outlines as TopoJSON in spherical coordinates: a ring that
crosses the antimeridian (Fiji, Chukotka, ...) simply jumps from +179.9 to -179.9 degrees,
which a web-Mercator map would draw as a band across the whole world. Here the TopoJSON is
decoded and every such ring is unwrapped and cut at the antimeridian into one part on each
side; lines are broken where they cross it. A ring that goes round a pole (Antarctica) is
closed along the pole before it is cut.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["RESOLUTIONS", "basemap_layers", "split_line", "split_ring", "topology_arcs"]

Ring = list[list[float]]

RESOLUTIONS = ("110m", "50m")
"""The world-atlas resolutions served: Natural Earth 1:110M (for whole regions) and 1:50M."""


def topology_arcs(topology: dict[str, Any]) -> list[NDArray[np.float64]]:
    """Decoded arcs ``(n, 2)`` [lon, lat] degrees of a (quantized or not) TopoJSON topology."""
    transform = topology.get("transform")
    arcs = []
    for arc in topology["arcs"]:
        a = np.asarray(arc, dtype=np.float64).reshape(-1, 2)
        if transform is not None:
            a = np.cumsum(a, axis=0) * transform["scale"] + transform["translate"]
        arcs.append(a)
    return arcs


def _ring(arcs: list[NDArray[np.float64]], refs: list[int]) -> NDArray[np.float64]:
    parts = []
    for k, i in enumerate(refs):
        a = arcs[i] if i >= 0 else arcs[~i][::-1]
        parts.append(a if k == 0 else a[1:])
    return np.concatenate(parts)


def _unwrap(lon: NDArray[np.float64]) -> NDArray[np.float64]:
    step = np.diff(lon)
    step = (step + 180.0) % 360.0 - 180.0
    return np.concatenate([lon[:1], lon[0] + np.cumsum(step)])


def _clip(ring: NDArray[np.float64], x: float, keep_below: bool) -> NDArray[np.float64]:
    """Sutherland-Hodgman clip of a closed ring against the meridian ``lon = x``."""
    out: list[NDArray[np.float64]] = []
    pts = ring[:-1] if len(ring) > 1 and np.array_equal(ring[0], ring[-1]) else ring
    n = len(pts)
    for i in range(n):
        cur, prev = pts[i], pts[i - 1]
        cur_in = cur[0] <= x if keep_below else cur[0] >= x
        prev_in = prev[0] <= x if keep_below else prev[0] >= x
        if cur_in != prev_in:
            t = (x - prev[0]) / (cur[0] - prev[0])
            out.append(np.array([x, prev[1] + t * (cur[1] - prev[1])]))
        if cur_in:
            out.append(cur)
    if len(out) < 3:
        return np.zeros((0, 2))
    arr = np.array(out)
    return np.vstack([arr, arr[:1]])


def split_ring(ring: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """A ring cut at the antimeridian: (part west of it, part east of it), degrees.

    The west part holds longitudes up to +180, the east part from -180; either may be empty
    (0 rows). A ring that does not cross comes back whole as one part. A ring around a pole
    (its unwrapped longitudes do not close, as Antarctica's) is closed along the pole first.
    """
    lon = _unwrap(ring[:, 0])
    u = np.column_stack([lon, ring[:, 1]])
    if abs(lon[-1] - lon[0]) > 180.0:  # goes round a pole: close it along the pole
        pole = -90.0 if ring[:, 1].mean() < 0.0 else 90.0
        u = np.vstack([u, [[lon[-1], pole], [lon[0], pole], u[0]]])
    shift = -360.0 * np.floor((u[:, 0].min() + u[:, 0].max()) / 720.0 + 0.5)
    u[:, 0] += shift  # centre the ring on [-180, 180]
    if u[:, 0].max() <= 180.0 and u[:, 0].min() >= -180.0:
        return u, np.zeros((0, 2))
    if u[:, 0].max() > 180.0:  # cut at +180: the eastern overhang moves to -180
        near_pos, near_neg = _clip(u, 180.0, True), _clip(u, 180.0, False)
        near_neg[:, 0] -= 360.0
    else:  # cut at -180: the western overhang moves to +180
        near_pos, near_neg = _clip(u, -180.0, True), _clip(u, -180.0, False)
        near_pos[:, 0] += 360.0
    return near_pos, near_neg


def split_line(line: NDArray[np.float64]) -> list[NDArray[np.float64]]:
    """A line broken where it crosses the antimeridian (interpolated end points at +-180)."""
    parts: list[NDArray[np.float64]] = []
    start = 0
    head = np.zeros((0, 2))
    for j in np.flatnonzero(np.abs(np.diff(line[:, 0])) > 180.0).tolist():
        a, b = line[j], line[j + 1]
        edge = 180.0 if a[0] > 0 else -180.0
        b_lon = b[0] + 2.0 * edge
        t = (edge - a[0]) / (b_lon - a[0]) if b_lon != a[0] else 0.0
        lat = a[1] + t * (b[1] - a[1])
        parts.append(np.vstack([head, line[start:j + 1], [[edge, lat]]]))
        head = np.array([[-edge, lat]])
        start = j + 1
    parts.append(np.vstack([head, line[start:]]))
    return [p for p in parts if len(p) >= 2]


def _polygons(arcs: list[NDArray[np.float64]], geometries: list[dict[str, Any]]
              ) -> list[list[Ring]]:
    polys: list[list[Ring]] = []
    for g in geometries:
        if g.get("type") == "Polygon":
            members = [g["arcs"]]
        elif g.get("type") == "MultiPolygon":
            members = g["arcs"]
        else:
            continue
        for rings in members:
            west: list[Ring] = []
            east: list[Ring] = []
            for refs in rings:
                a, b = split_ring(_ring(arcs, refs))
                if len(a) >= 4:
                    west.append(np.round(a, 4).tolist())
                if len(b) >= 4:
                    east.append(np.round(b, 4).tolist())
            for part in (west, east):
                if part:
                    polys.append(part)
    return polys


def _mesh(arcs: list[NDArray[np.float64]], geometries: list[dict[str, Any]], shared: bool
          ) -> list[Ring]:
    """Arcs used by two different geometries (``shared``) or all arcs, as split lines."""
    users: dict[int, set[int]] = {}
    for gi, g in enumerate(geometries):
        stack: list[Any] = [g.get("arcs", [])]
        while stack:
            item = stack.pop()
            if isinstance(item, int):
                users.setdefault(item if item >= 0 else ~item, set()).add(gi)
            else:
                stack.extend(item)
    lines: list[Ring] = []
    for i, who in sorted(users.items()):
        if shared and len(who) < 2:
            continue
        for part in split_line(arcs[i]):
            lines.append(np.round(part, 4).tolist())
    return lines


@functools.lru_cache(maxsize=4)
def basemap_layers(atlas_dir: Path, resolution: str = "50m") -> dict[str, bytes]:
    """GeoJSON (bytes) of ``land``, ``coast`` and ``borders`` from world-atlas in ``atlas_dir``,
    and ``all``: the three as one collection, each feature's ``layer`` property naming it (the
    page draws them from one map source: one set of tile clipping masks a frame, not three).
    """
    countries = json.loads((atlas_dir / f"countries-{resolution}.json").read_bytes())
    land = json.loads((atlas_dir / f"land-{resolution}.json").read_bytes())
    c_arcs = topology_arcs(countries)
    l_arcs = topology_arcs(land)
    land_geoms = land["objects"]["land"]["geometries"]
    land_polys = _polygons(l_arcs, land_geoms)
    coast = _mesh(l_arcs, land_geoms, shared=False)
    borders = _mesh(c_arcs, countries["objects"]["countries"]["geometries"], shared=True)

    geometries = {
        "land": {"type": "MultiPolygon", "coordinates": land_polys},
        "coast": {"type": "MultiLineString", "coordinates": coast},
        "borders": {"type": "MultiLineString", "coordinates": borders},
    }

    def collection(*names: str, tagged: bool = False) -> bytes:
        features = [{"type": "Feature", "properties": {"layer": name} if tagged else {},
                     "geometry": geometries[name]} for name in names]
        return json.dumps({"type": "FeatureCollection", "features": features},
                          separators=(",", ":")).encode()

    return {**{name: collection(name) for name in geometries},
            "all": collection(*geometries, tagged=True)}
