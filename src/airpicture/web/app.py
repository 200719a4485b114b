"""The COP server: REST, a WebSocket stream of picture deltas, the page and its packages.

REST (JSON; errors are ``{"error": "..."}`` with a 4xx status):

=============================================  ============================================
``GET /api/status``                            epoch, data time, hash, track count, partners
``GET /api/tracks?view=&bbox=&alt=``           track views (``view``: ``picture`` or a
                                               nation; ``bbox=w,s,e,n`` degrees, ``w > e``
                                               crosses the antimeridian; ``alt=lo,hi`` m)
``GET /api/tracks/{stn}``                      one system track with its provenance
``POST /api/tracks/{stn}/identity``            operator identity decision
                                               ``{"identity", "operator", "reason"}``
``GET /api/sensors``, ``/api/coverage``        sensors; their coverage as GeoJSON
``GET /api/alerts``                            alerts of the current picture
``GET /api/picture.geojson``                   GeoJSON export of the picture
``GET /api/history``, ``/api/replay?time=``    recorded times; the picture at a time
``GET /api/trails?view=&seconds=``             recent positions per track
``GET /api/basemap/{land,coast,borders}``      offline basemap from world-atlas
=============================================  ============================================

WebSocket ``/ws``: the client sends ``{"type": "subscribe", "view": "picture",
"bbox": [w, s, e, n] | null, "alt_m": [lo, hi] | null}`` (again at any time to change it);
the server answers ``{"type": "snapshot", ...}`` with every track in the subscription, then
``{"type": "delta", "upsert": [...], "remove": [keys]}`` per new picture. With
``"format": "compact"`` in the subscription, each delta is one binary frame instead: moving
tracks as columns of numbers, full rows only for new tracks and changed labels
(:mod:`airpicture.web.compact`; the page uses it). A malformed subscription is answered with
``{"type": "error"}`` and close code 4400 (4413: too large).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect

from airpicture import geo
from airpicture.messages import Identity, IdentityOverride, SensorInfo, encode_json
from airpicture.web.basemap import basemap_layers, split_line, split_ring
from airpicture.web.compact import CompactEncoder
from airpicture.web.hub import PICTURE, Hub, SnapshotViews
from airpicture.web.source import PictureSource
from airpicture.web.views import Area, TrackView, filter_views

__all__ = ["MAX_BODY_BYTES", "MAX_WS_MESSAGE_BYTES", "create_app"]

HERE = Path(__file__).parent
STATIC = HERE / "static"
NODE_MODULES = HERE / "node_modules"
MAX_BODY_BYTES = 4096
MAX_URL_BYTES = 2048
MAX_WS_MESSAGE_BYTES = 4096

VENDOR: dict[str, tuple[str, str]] = {
    "maplibre-gl.js": ("maplibre-gl/dist/maplibre-gl.js", "text/javascript"),
    "maplibre-gl.css": ("maplibre-gl/dist/maplibre-gl.css", "text/css"),
    "milsymbol.js": ("milsymbol/dist/milsymbol.js", "text/javascript"),
}
"""Files the page loads from the npm packages, by the name it asks for."""


class Subscribe(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A WebSocket client's subscription (module docstring)."""

    type: str
    view: str = PICTURE
    bbox: list[float] | None = None
    alt_m: list[float] | None = None
    format: str = "json"


FORMATS = ("json", "compact")


class IdentityRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    identity: Identity
    operator: str
    reason: str = ""


def _json(obj: Any, status: int = 200) -> Response:
    return Response(encode_json(obj), status_code=status, media_type="application/json")


def _error(status: int, message: str) -> Response:
    return _json({"error": message}, status)


class _Limits:
    """Answers 413 for bodies over ``MAX_BODY_BYTES`` and 414 for long URLs, before routing."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            target = len(scope.get("raw_path", b"")) + len(scope.get("query_string", b""))
            length = dict(scope.get("headers", [])).get(b"content-length")
            if target > MAX_URL_BYTES:
                await _error(414, f"request target over {MAX_URL_BYTES} bytes")(
                    scope, receive, send)
                return
            if length is not None and (not length.isdigit() or int(length) > MAX_BODY_BYTES):
                await _error(413, f"request body over {MAX_BODY_BYTES} bytes")(
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


def coverage_geojson(sensors: list[SensorInfo], points: int = 96) -> dict[str, Any]:
    """Each sensor's coverage (range ring or sector at ``max_range_m``) as two GeoJSON
    features cut at the antimeridian: its area (``part: area``, polygons) and its edge
    (``part: edge``, lines, without the cut)."""
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


def geo_wrap(lon_deg: np.ndarray) -> np.ndarray:
    """Longitudes (degrees) wrapped into [-180, 180)."""
    return np.asarray((lon_deg + 180.0) % 360.0 - 180.0, dtype=np.float64)


def _provenance(v: SnapshotViews, stn: int, source: PictureSource) -> dict[str, Any] | None:
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


def create_app(source: PictureSource, *, node_modules: Path | None = None,
               poll_s: float = 0.2) -> Starlette:
    """The COP app over ``source`` (module docstring).

    ``node_modules`` is where the npm packages are installed (default: next to this module,
    as ``./dev`` installs them).
    """
    modules = node_modules or NODE_MODULES
    hub = Hub(source, poll_s)

    def current() -> SnapshotViews | None:
        hub.refresh()
        return hub.current

    async def index(request: Request) -> Response:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    async def vendor(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in VENDOR:
            return _error(404, f"no vendored file {name!r}")
        rel, media = VENDOR[name]
        path = modules / rel
        if not path.is_file():
            return _error(503, f"{path} is missing: run `npm ci` in src/airpicture/web "
                               "(./dev does it)")
        return FileResponse(path, media_type=media)

    async def basemap(request: Request) -> Response:
        layer = request.path_params["layer"]
        atlas = modules / "world-atlas"
        if not atlas.is_dir():
            return _error(503, f"{atlas} is missing: run `npm ci` in src/airpicture/web")
        layers = await asyncio.to_thread(basemap_layers, atlas)
        if layer not in layers:
            return _error(404, f"no basemap layer {layer!r} (land, coast, borders)")
        return Response(layers[layer], media_type="application/geo+json",
                        headers={"Cache-Control": "max-age=86400"})

    async def status(request: Request) -> Response:
        v = current()
        times = source.history()
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

    def tracks_of(v: SnapshotViews | None, request: Request) -> Response:
        try:
            area = _area(request)
        except ValueError as exc:
            return _error(400, str(exc))
        name = request.query_params.get("view", PICTURE)
        if v is None:
            return _json({"epoch": None, "time": None, "view": name, "tracks": []})
        views = v.view(name)
        if views is None:
            return _error(404, f"no view {name!r} (picture or one of {v.nations})")
        snap = v.snapshot
        return _json({"epoch": snap.epoch, "time": snap.time, "hash": snap.hash, "view": name,
                      "tracks": filter_views(views, area)})

    async def tracks(request: Request) -> Response:
        return tracks_of(current(), request)

    def stn_param(request: Request) -> int:
        raw = request.path_params["stn"]
        if not raw.isdigit() or len(raw) > 12:
            raise ValueError(f"track number must be a positive integer, got {raw[:32]!r}")
        return int(raw)

    async def track(request: Request) -> Response:
        try:
            stn = stn_param(request)
        except ValueError as exc:
            return _error(400, str(exc))
        v = current()
        detail = None if v is None else _provenance(v, stn, source)
        if detail is None:
            return _error(404, f"no system track {stn} in the current picture")
        return _json(detail)

    async def identity(request: Request) -> Response:
        try:
            stn = stn_param(request)
        except ValueError as exc:
            return _error(400, str(exc))
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            return _error(413, f"request body over {MAX_BODY_BYTES} bytes")
        try:
            req = msgspec.json.decode(body, type=IdentityRequest)
        except msgspec.DecodeError as exc:
            return _error(400, f"bad identity request: {exc}")
        operator = req.operator.strip()
        if not operator or len(operator) > 64 or len(req.reason) > 256:
            return _error(400, "operator must be 1 to 64 characters, reason at most 256")
        v = current()
        if v is None or not any(t.stn == stn for t in v.snapshot.tracks):
            return _error(404, f"no system track {stn} in the current picture")
        override = IdentityOverride(stn=stn, identity=req.identity, operator=operator,
                                    nation=v.snapshot.node, time=v.snapshot.time,
                                    reason=req.reason)
        await asyncio.to_thread(source.apply_identity, override)
        hub.refresh()
        return _json({"accepted": override}, 202)

    async def sensors(request: Request) -> Response:
        return _json(list(source.sensors()))

    coverage_cache: dict[str, bytes] = {}

    async def coverage(request: Request) -> Response:
        if "doc" not in coverage_cache:
            coverage_cache["doc"] = encode_json(coverage_geojson(list(source.sensors())))
        return Response(coverage_cache["doc"], media_type="application/geo+json")

    async def alerts(request: Request) -> Response:
        v = current()
        return _json([] if v is None else list(v.snapshot.alerts))

    async def picture_geojson(request: Request) -> Response:
        from airpicture.io.geojson import geojson_snapshot

        v = current()
        doc = geojson_snapshot([] if v is None else list(v.snapshot.tracks))
        return Response(encode_json(doc), media_type="application/geo+json")

    async def history(request: Request) -> Response:
        return _json({"times": list(source.history())})

    async def replay(request: Request) -> Response:
        try:
            t = float(request.query_params.get("time", "nan"))
        except ValueError:
            t = math.nan
        if not math.isfinite(t):
            return _error(400, "time must be a finite number of seconds (data time)")
        v = hub.at(t)
        if v is None:
            return _error(404, f"nothing recorded at or before {t}")
        return tracks_of(v, request)

    async def trails(request: Request) -> Response:
        try:
            seconds = float(request.query_params.get("seconds", "120"))
            points = int(request.query_params.get("points", "24"))
        except ValueError:
            return _error(400, "seconds and points must be numbers")
        if not (0 < seconds <= 3600 and 1 <= points <= 120):
            return _error(400, "need 0 < seconds <= 3600 and 1 <= points <= 120")
        name = request.query_params.get("view", PICTURE)
        frames = await asyncio.to_thread(hub.trail_frames, seconds, points)
        out: dict[str, list[list[float]]] = {}
        for f in frames:
            for tv in f.view(name) or []:
                out.setdefault(tv.key, []).append([tv.lon, tv.lat])
        return _json(out)

    async def ws(websocket: WebSocket) -> None:
        await _stream(websocket, hub)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        task = asyncio.create_task(hub.run())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    routes = [
        Route("/", index),
        Route("/vendor/{name}", vendor),
        Route("/api/basemap/{layer}", basemap),
        Route("/api/status", status),
        Route("/api/tracks", tracks),
        Route("/api/tracks/{stn}", track),
        Route("/api/tracks/{stn}/identity", identity, methods=["POST"]),
        Route("/api/sensors", sensors),
        Route("/api/coverage", coverage),
        Route("/api/alerts", alerts),
        Route("/api/picture.geojson", picture_geojson),
        Route("/api/history", history),
        Route("/api/replay", replay),
        Route("/api/trails", trails),
        WebSocketRoute("/ws", ws),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    app = Starlette(routes=routes, lifespan=lifespan,
                    exception_handlers={404: _not_found, 405: _not_allowed})
    app.state.hub = hub
    app.add_middleware(_Limits)
    return app


async def _not_found(request: Request, exc: Exception) -> Response:
    return _error(404, f"no such resource {request.url.path[:100]!r}")


async def _not_allowed(request: Request, exc: Exception) -> Response:
    return _error(405, f"method {request.method} not allowed on {request.url.path[:100]!r}")


def _delta(sent: Mapping[str, TrackView], now: list[TrackView]
           ) -> tuple[list[TrackView], list[str]]:
    keys = {v.key for v in now}
    upsert = [v for v in now if sent.get(v.key) != v]
    remove = [k for k in sent if k not in keys]
    return upsert, remove


async def _stream(websocket: WebSocket, hub: Hub) -> None:
    """One WebSocket client: read subscriptions, write snapshots and deltas."""
    await websocket.accept()
    subscription: dict[str, Any] = {}
    resubscribed = asyncio.Event()

    async def fail(code: int, message: str) -> None:
        with contextlib.suppress(Exception):
            await websocket.send_text(encode_json({"type": "error", "error": message}).decode())
            await websocket.close(code=code, reason=message[:120])

    async def reader() -> None:
        while True:
            msg = await websocket.receive()
            if msg["type"] == "websocket.disconnect":
                return
            data = msg.get("text") or msg.get("bytes") or b""
            raw = data.encode() if isinstance(data, str) else data
            if len(raw) > MAX_WS_MESSAGE_BYTES:
                await fail(4413, f"message over {MAX_WS_MESSAGE_BYTES} bytes")
                return
            try:
                sub = msgspec.json.decode(raw, type=Subscribe)
                if sub.type != "subscribe":
                    raise ValueError(f"unknown message type {sub.type!r} (subscribe)")
                if sub.format not in FORMATS:
                    raise ValueError(f"unknown format {sub.format[:32]!r} (json, compact)")
                area = Area(bbox=sub.bbox, alt_m=sub.alt_m).validate()
            except (msgspec.DecodeError, ValueError) as exc:
                await fail(4400, f"bad subscription: {exc}")
                return
            current = hub.current
            if current is not None and current.view(sub.view) is None:
                await fail(4400, f"bad subscription: no view {sub.view!r}")
                return
            subscription.update(view=sub.view, area=area, format=sub.format)
            resubscribed.set()

    async def writer() -> None:
        sent: dict[str, TrackView] = {}
        compact = CompactEncoder()
        fresh = True
        while True:
            changed = hub.changed()
            if "view" in subscription and hub.current is not None:
                v = hub.current
                views = v.view(subscription["view"]) or []
                now = filter_views(views, subscription["area"])
                snap = v.snapshot
                head = {"epoch": snap.epoch, "time": snap.time, "hash": snap.hash,
                        "view": subscription["view"], "count": len(views)}
                if fresh:
                    msg: dict[str, Any] = {"type": "snapshot", **head, "tracks": now}
                    await websocket.send_text(encode_json(msg).decode())
                    compact.snapshot(now)
                elif subscription["format"] == "compact":
                    await websocket.send_bytes(compact.delta(now, head))
                else:
                    upsert, remove = _delta(sent, now)
                    msg = {"type": "delta", **head, "upsert": upsert, "remove": remove}
                    await websocket.send_text(encode_json(msg).decode())
                sent = {x.key: x for x in now}
                fresh = False
            waiter = asyncio.ensure_future(changed.wait())
            resub = asyncio.ensure_future(resubscribed.wait())
            done, pending = await asyncio.wait({waiter, resub},
                                               return_when=asyncio.FIRST_COMPLETED)
            for p in pending:
                p.cancel()
            if resub in done:
                resubscribed.clear()
                fresh = True

    tasks = [asyncio.create_task(reader()), asyncio.create_task(writer())]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for t in tasks:
            t.cancel()
        for t in tasks:
            with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, Exception):
                await t

