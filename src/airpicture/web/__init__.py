"""The common operational picture (COP): an HTTP + WebSocket server and its map page.

A node hands the server a :class:`PictureSource` (see :mod:`airpicture.web.source`) and calls
:func:`start_server` (a thread) or :func:`serve` (blocking); :func:`create_app` gives the ASGI
app itself. The page's packages (MapLibre GL JS, milsymbol, world-atlas) are installed from
npm into ``node_modules`` next to this package and served from there: the page loads nothing
from the internet. Nothing is imported from Starlette or uvicorn until these are used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airpicture.web.source import (
    IdentityBook,
    IdentityChange,
    PartnerStatus,
    PictureSnapshot,
    PictureSource,
)

if TYPE_CHECKING:
    from airpicture.web.app import create_app
    from airpicture.web.recording import RecordedSource, simulate_recording
    from airpicture.web.server import ServerHandle, serve, start_server

__all__ = [
    "IdentityBook",
    "IdentityChange",
    "PartnerStatus",
    "PictureSnapshot",
    "PictureSource",
    "RecordedSource",
    "ServerHandle",
    "create_app",
    "serve",
    "simulate_recording",
    "start_server",
]

_LAZY = {
    "create_app": "airpicture.web.app",
    "RecordedSource": "airpicture.web.recording",
    "simulate_recording": "airpicture.web.recording",
    "ServerHandle": "airpicture.web.server",
    "serve": "airpicture.web.server",
    "start_server": "airpicture.web.server",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'airpicture.web' has no attribute {name!r}")
