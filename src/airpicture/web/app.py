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
``GET /api/basemap/{layer}?resolution=``       offline basemap from world-atlas (``land``,
                                               ``coast``, ``borders`` or ``all``, the three
                                               tagged; ``50m`` or ``110m``)
=============================================  ============================================

WebSocket ``/ws``: the client sends ``{"type": "subscribe", "view": "picture",
"bbox": [w, s, e, n] | null, "alt_m": [lo, hi] | null}`` (again at any time to change it);
the server answers ``{"type": "snapshot", ...}`` with every track in the subscription, then
``{"type": "delta", "upsert": [...], "remove": [keys]}`` per new picture. With
``"format": "compact"`` in the subscription, each delta is one binary frame instead: moving
tracks as columns of numbers, full rows only for new tracks and changed labels
(:mod:`airpicture.web.compact`; the page uses it). A malformed subscription is answered with
``{"type": "error"}`` and close code 4400 (4413: too large).

The handlers live by concept: REST in :mod:`airpicture.web.rest`, the WebSocket in
:mod:`airpicture.web.stream`; this module builds the app from them.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket

from airpicture.web.hub import Hub
from airpicture.web.rest import MAX_BODY_BYTES, STATIC, Limits, Rest, error
from airpicture.web.source import PictureSource
from airpicture.web.stream import MAX_WS_MESSAGE_BYTES, stream

__all__ = ["MAX_BODY_BYTES", "MAX_WS_MESSAGE_BYTES", "NODE_MODULES", "create_app"]

NODE_MODULES = Path(__file__).parent / "node_modules"

GET_ROUTES: tuple[tuple[str, str], ...] = (
    ("/", "index"), ("/vendor/{name}", "vendor"), ("/api/basemap/{layer}", "basemap"),
    ("/api/status", "status"), ("/api/tracks", "tracks"), ("/api/tracks/{stn}", "track"),
    ("/api/sensors", "sensors"), ("/api/coverage", "coverage"), ("/api/alerts", "alerts"),
    ("/api/picture.geojson", "picture_geojson"), ("/api/history", "history"),
    ("/api/replay", "replay"), ("/api/trails", "trails"),
)
"""The GET routes: path and the :class:`~airpicture.web.rest.Rest` handler's name."""


def create_app(source: PictureSource, *, node_modules: Path | None = None,
               poll_s: float = 0.2) -> Starlette:
    """The COP app over ``source`` (module docstring); the hub polls it every ``poll_s``
    seconds.

    ``node_modules`` is where the npm packages are installed (default: next to this module,
    as ``./dev`` installs them).
    """
    hub = Hub(source, poll_s)
    rest = Rest(hub, node_modules or NODE_MODULES)

    async def ws(websocket: WebSocket) -> None:
        await stream(websocket, hub)

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
        *(Route(path, getattr(rest, name)) for path, name in GET_ROUTES),
        Route("/api/tracks/{stn}/identity", rest.identity, methods=["POST"]),
        WebSocketRoute("/ws", ws),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    app = Starlette(routes=routes, lifespan=lifespan,
                    exception_handlers={404: _not_found, 405: _not_allowed})
    app.state.hub = hub
    app.add_middleware(Limits)
    return app


async def _not_found(request: Request, exc: Exception) -> Response:
    return error(404, f"no such resource {request.url.path[:100]!r}")


async def _not_allowed(request: Request, exc: Exception) -> Response:
    return error(405, f"method {request.method} not allowed on {request.url.path[:100]!r}")
