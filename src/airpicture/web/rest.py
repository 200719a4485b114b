"""The REST handlers of the COP server (the table is in :mod:`airpicture.web.app`).

Answers are JSON; errors are ``{"error": "..."}`` with a 4xx status (5xx only when the npm
packages are missing). :class:`Limits` refuses long URLs and large bodies before routing.
"""

from __future__ import annotations

import asyncio
import math
from pathlib import Path
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from airpicture.messages import Identity, IdentityOverride, encode_json
from airpicture.web.basemap import RESOLUTIONS, basemap_layers
from airpicture.web.coverage import coverage_geojson
from airpicture.web.hub import PICTURE, Hub, SnapshotViews
from airpicture.web.source import PictureSource
from airpicture.web.views import Area, filter_views

__all__ = ["MAX_BODY_BYTES", "MAX_URL_BYTES", "STATIC", "VENDOR", "Limits", "Rest",
           "error", "provenance"]

STATIC = Path(__file__).parent / "static"
MAX_BODY_BYTES = 4096
MAX_URL_BYTES = 2048

VENDOR: dict[str, tuple[str, str]] = {
    "maplibre-gl.js": ("maplibre-gl/dist/maplibre-gl.js", "text/javascript"),
    "maplibre-gl.css": ("maplibre-gl/dist/maplibre-gl.css", "text/css"),
    "milsymbol.js": ("milsymbol/dist/milsymbol.js", "text/javascript"),
}
"""Files the page loads from the npm packages, by the name it asks for."""


class IdentityRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    identity: Identity
    operator: str
    reason: str = ""


def _json(obj: Any, status: int = 200) -> Response:
    return Response(encode_json(obj), status_code=status, media_type="application/json")


def error(status: int, message: str) -> Response:
    """A JSON error answer ``{"error": message}``."""
    return _json({"error": message}, status)


class Limits:
    """Answers 413 for bodies over ``MAX_BODY_BYTES`` and 414 for long URLs, before routing."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            target = len(scope.get("raw_path", b"")) + len(scope.get("query_string", b""))
            length = dict(scope.get("headers", [])).get(b"content-length")
            if target > MAX_URL_BYTES:
                await error(414, f"request target over {MAX_URL_BYTES} bytes")(
                    scope, receive, send)
                return
            if length is not None and (not length.isdigit() or int(length) > MAX_BODY_BYTES):
                await error(413, f"request body over {MAX_BODY_BYTES} bytes")(
                    scope, receive, send)
                return
        await self.app(scope, receive, send)


def _floats(text: str | None, n: int, name: str) -> list[float] | None:
    if text is None or text == "":
        return None
    try:
        values = [float(x) for x in text.split(",")]
    except ValueError:
        raise ValueError(f"{name} must be {n} comma-separated numbers") from None
    if len(values) != n:
        raise ValueError(f"{name} must be {n} comma-separated numbers, got {len(values)}")
    return values


def _area(request: Request) -> Area:
    return Area(bbox=_floats(request.query_params.get("bbox"), 4, "bbox"),
                alt_m=_floats(request.query_params.get("alt"), 2, "alt")).validate()


def _stn(request: Request) -> int:
    raw = request.path_params["stn"]
    if not raw.isdigit() or len(raw) > 12:
        raise ValueError(f"track number must be a positive integer, got {raw[:32]!r}")
    return int(raw)


def provenance(v: SnapshotViews, stn: int, source: PictureSource) -> dict[str, Any] | None:
    """System track ``stn`` with its view, contributors (sensors, ages in seconds, quality),
    identity history and alerts; ``None`` when the picture has no such track."""
    snap = v.snapshot
    track = next((t for t in snap.tracks if t.stn == stn), None)
    view = next((x for x in v.picture if x.stn == stn), None)
    if track is None or view is None:
        return None
    by_id = {s.id: s for s in source.sensors()}
    contributors = []
    for ref in track.contributors:
        lt = v.local_index.get((ref.nation, ref.track_id))
        entry: dict[str, Any] = {"nation": ref.nation, "track_id": ref.track_id}
        if lt is not None:
            updated = lt.last_update if lt.last_update is not None else lt.time
            entry |= {
                "time": lt.time, "age_s": round(max(snap.time - updated, 0.0), 1),
                "quality": round(lt.quality, 3), "status": lt.status.value,
                "identity": lt.identity.value, "callsign": lt.callsign,
                "sensors": [{"id": sid, "kind": by_id[sid].kind.value if sid in by_id else "",
                             "name": by_id[sid].name if sid in by_id else ""}
                            for sid in lt.sensors],
            }
        contributors.append(entry)
    return {
        "epoch": snap.epoch, "time": snap.time, "view": view, "system": track,
        "age_s": round(max(snap.time - track.time, 0.0), 1),
        "contributors": contributors,
        "identity_history": list(source.identity_history(stn)),
        "alerts": [a for a in snap.alerts if a.stn == stn],
    }


class Rest:
    """The REST handlers over one hub and its source; ``modules`` is the npm install."""

    def __init__(self, hub: Hub, modules: Path) -> None:
        self.hub = hub
        self.source = hub.source
        self.modules = modules
        self._coverage: bytes | None = None

    def current(self) -> SnapshotViews | None:
        self.hub.refresh()
        return self.hub.current

    async def index(self, request: Request) -> Response:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    async def vendor(self, request: Request) -> Response:
        name = request.path_params["name"]
        if name not in VENDOR:
            return error(404, f"no vendored file {name!r}")
        rel, media = VENDOR[name]
        path = self.modules / rel
        if not path.is_file():
            return error(503, f"{path} is missing: run `npm ci` in src/airpicture/web "
                              "(./dev does it)")
        return FileResponse(path, media_type=media)

    async def basemap(self, request: Request) -> Response:
        layer = request.path_params["layer"]
        atlas = self.modules / "world-atlas"
        if not atlas.is_dir():
            return error(503, f"{atlas} is missing: run `npm ci` in src/airpicture/web")
        resolution = request.query_params.get("resolution", "50m")
        if resolution not in RESOLUTIONS:
            return error(400, f"basemap resolution must be one of {', '.join(RESOLUTIONS)}, "
                              f"got {resolution[:16]!r}")
        layers = await asyncio.to_thread(basemap_layers, atlas, resolution)
        if layer not in layers:
            return error(404, f"no basemap layer {layer[:32]!r} (land, coast, borders, all)")
        return Response(layers[layer], media_type="application/geo+json",
                        headers={"Cache-Control": "max-age=86400"})

    async def status(self, request: Request) -> Response:
        v = self.current()
        times = self.source.history()
        if v is None:
            return _json({"epoch": None, "time": None, "hash": None, "tracks": 0,
                          "partners": [], "nations": [], "history": {"count": len(times)}})
        snap = v.snapshot
        return _json({
            "epoch": snap.epoch, "time": snap.time, "hash": snap.hash, "node": snap.node,
            "tracks": len(v.picture), "alerts": len(snap.alerts), "partners": snap.partners,
            "nations": v.nations, "own_tracks": {n: len(v.view(n) or []) for n in v.nations},
            "history": {"count": len(times), "start": times[0] if times else None,
                        "end": times[-1] if times else None},
        })

    def _tracks_of(self, v: SnapshotViews | None, request: Request) -> Response:
        try:
            area = _area(request)
        except ValueError as exc:
            return error(400, str(exc))
        name = request.query_params.get("view", PICTURE)
        if v is None:
            return _json({"epoch": None, "time": None, "view": name, "tracks": []})
        views = v.view(name)
        if views is None:
            return error(404, f"no view {name!r} (picture or one of {v.nations})")
        snap = v.snapshot
        return _json({"epoch": snap.epoch, "time": snap.time, "hash": snap.hash, "view": name,
                      "tracks": filter_views(views, area)})

    async def tracks(self, request: Request) -> Response:
        return self._tracks_of(self.current(), request)

    async def track(self, request: Request) -> Response:
        try:
            stn = _stn(request)
        except ValueError as exc:
            return error(400, str(exc))
        v = self.current()
        detail = None if v is None else provenance(v, stn, self.source)
        if detail is None:
            return error(404, f"no system track {stn} in the current picture")
        return _json(detail)

    async def identity(self, request: Request) -> Response:
        try:
            stn = _stn(request)
        except ValueError as exc:
            return error(400, str(exc))
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            return error(413, f"request body over {MAX_BODY_BYTES} bytes")
        try:
            req = msgspec.json.decode(body, type=IdentityRequest)
        except msgspec.DecodeError as exc:
            return error(400, f"bad identity request: {exc}")
        operator = req.operator.strip()
        if not operator or len(operator) > 64 or len(req.reason) > 256:
            return error(400, "operator must be 1 to 64 characters, reason at most 256")
        v = self.current()
        if v is None or not any(t.stn == stn for t in v.snapshot.tracks):
            return error(404, f"no system track {stn} in the current picture")
        override = IdentityOverride(stn=stn, identity=req.identity, operator=operator,
                                    nation=v.snapshot.node, time=v.snapshot.time,
                                    reason=req.reason)
        await asyncio.to_thread(self.source.apply_identity, override)
        self.hub.refresh()
        return _json({"accepted": override}, 202)

    async def sensors(self, request: Request) -> Response:
        return _json(list(self.source.sensors()))

    async def coverage(self, request: Request) -> Response:
        if self._coverage is None:
            self._coverage = encode_json(coverage_geojson(list(self.source.sensors())))
        return Response(self._coverage, media_type="application/geo+json")

    async def alerts(self, request: Request) -> Response:
        v = self.current()
        return _json([] if v is None else list(v.snapshot.alerts))

    async def picture_geojson(self, request: Request) -> Response:
        from airpicture.io.geojson import geojson_snapshot

        v = self.current()
        doc = geojson_snapshot([] if v is None else list(v.snapshot.tracks))
        return Response(encode_json(doc), media_type="application/geo+json")

    async def history(self, request: Request) -> Response:
        return _json({"times": list(self.source.history())})

    async def replay(self, request: Request) -> Response:
        try:
            t = float(request.query_params.get("time", "nan"))
        except ValueError:
            t = math.nan
        if not math.isfinite(t):
            return error(400, "time must be a finite number of seconds (data time)")
        v = self.hub.at(t)
        if v is None:
            return error(404, f"nothing recorded at or before {t}")
        return self._tracks_of(v, request)

    async def trails(self, request: Request) -> Response:
        try:
            seconds = float(request.query_params.get("seconds", "120"))
            points = int(request.query_params.get("points", "24"))
        except ValueError:
            return error(400, "seconds and points must be numbers")
        if not (0 < seconds <= 3600 and 1 <= points <= 120):
            return error(400, "need 0 < seconds <= 3600 and 1 <= points <= 120")
        name = request.query_params.get("view", PICTURE)
        frames = await asyncio.to_thread(self.hub.trail_frames, seconds, points)
        out: dict[str, list[list[float]]] = {}
        for f in frames:
            for tv in f.view(name) or []:
                out.setdefault(tv.key, []).append([tv.lon, tv.lat])
        return _json(out)
