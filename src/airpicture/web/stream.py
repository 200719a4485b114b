"""The WebSocket stream of picture deltas: one reader and one writer task per client.

The client sends ``{"type": "subscribe", "view": "picture", "bbox": [w, s, e, n] | null,
"alt_m": [lo, hi] | null, "format": "json" | "compact"}`` (again at any time to change it;
``bbox`` in degrees, ``w > e`` crosses the antimeridian; ``alt_m`` metres HAE). The server
answers ``{"type": "snapshot", ...}`` with every track in the subscription, then per new
picture ``{"type": "delta", "upsert": [...], "remove": [keys]}`` (JSON) or one binary frame
(``compact``, :mod:`airpicture.web.compact`). A malformed subscription is answered with
``{"type": "error"}`` and close code 4400 (4413: a message over ``MAX_WS_MESSAGE_BYTES``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from typing import Any

import msgspec
from starlette.websockets import WebSocket, WebSocketDisconnect

from airpicture.messages import encode_json
from airpicture.web.compact import CompactEncoder
from airpicture.web.hub import PICTURE, Hub
from airpicture.web.views import Area, TrackView, filter_views

__all__ = ["FORMATS", "MAX_WS_MESSAGE_BYTES", "Subscribe", "stream"]

MAX_WS_MESSAGE_BYTES = 4096
FORMATS = ("json", "compact")


class Subscribe(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A WebSocket client's subscription (module docstring)."""

    type: str
    view: str = PICTURE
    bbox: list[float] | None = None
    alt_m: list[float] | None = None
    format: str = "json"


def json_delta(sent: Mapping[str, TrackView], now: list[TrackView]
               ) -> tuple[list[TrackView], list[str]]:
    """The views of ``now`` that differ from ``sent`` (upsert) and the keys gone (remove)."""
    keys = {v.key for v in now}
    upsert = [v for v in now if sent.get(v.key) != v]
    remove = [k for k in sent if k not in keys]
    return upsert, remove


def _parse(raw: bytes, hub: Hub) -> tuple[Subscribe, Area]:
    """A subscription and its area, or ``ValueError`` naming what is wrong."""
    try:
        sub = msgspec.json.decode(raw, type=Subscribe)
    except msgspec.DecodeError as exc:
        raise ValueError(str(exc)) from None
    if sub.type != "subscribe":
        raise ValueError(f"unknown message type {sub.type!r} (subscribe)")
    if sub.format not in FORMATS:
        raise ValueError(f"unknown format {sub.format[:32]!r} (json, compact)")
    area = Area(bbox=sub.bbox, alt_m=sub.alt_m).validate()
    current = hub.current
    if current is not None and current.view(sub.view) is None:
        raise ValueError(f"no view {sub.view!r}")
    return sub, area


async def stream(websocket: WebSocket, hub: Hub) -> None:
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
                sub, area = _parse(raw, hub)
            except ValueError as exc:
                await fail(4400, f"bad subscription: {exc}")
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
                    upsert, remove = json_delta(sent, now)
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
