"""The bus: ordered logs per audience, in process or over NATS JetStream.

:class:`InProcessBus` is the embedded default. ``NatsBus`` (in :mod:`airpicture.bus.jetstream`,
the only module that imports ``nats``) is loaded only when asked for, via :func:`open_bus`.
"""

from __future__ import annotations

from airpicture.bus.base import Bus, BusError, LogRecord, Subscription, check_audience
from airpicture.bus.memory import InProcessBus

__all__ = [
    "Bus",
    "BusError",
    "InProcessBus",
    "LogRecord",
    "Subscription",
    "check_audience",
    "open_bus",
]


def open_bus(url: str | None) -> Bus:
    """``None``, ``""`` or ``memory://`` -> in-process; ``file:///dir`` -> in-process persisted
    in ``dir``; ``nats://host:port`` -> NATS JetStream."""
    if not url or url == "memory://":
        return InProcessBus()
    if url.startswith("file://"):
        return InProcessBus(url.removeprefix("file://"))
    if url.startswith(("nats://", "tls://")):
        from airpicture.bus.jetstream import NatsBus

        return NatsBus(url)
    raise ValueError(f"unknown bus URL {url!r}: use memory://, file:///DIR or nats://HOST:PORT")
