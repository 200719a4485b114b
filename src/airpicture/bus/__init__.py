"""The bus: ordered logs per audience, in process or over NATS JetStream.

:class:`InProcessBus` is the embedded default. ``NatsBus`` (in :mod:`airpicture.bus.jetstream`,
the only module that imports ``nats``) is loaded only when asked for, via :func:`open_bus`.
"""

from __future__ import annotations

from typing import Any

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


def open_bus(url: str | None, **options: Any) -> Bus:
    """``None``, ``""`` or ``memory://`` -> in-process; ``file:///dir`` -> in-process persisted
    in ``dir``; ``nats://host:port`` or ``tls://host:port`` -> NATS JetStream, with
    ``options`` (or the URL's query: ``tls_ca``, ``tls_cert``, ``tls_key``, ``nation``, and
    ``user:password@`` before the host) passed to
    :class:`~airpicture.bus.jetstream.NatsBus`."""
    if options and not (url or "").startswith(("nats://", "tls://")):
        raise ValueError(f"bus options {sorted(options)} apply to nats:// URLs only")
    if not url or url == "memory://":
        return InProcessBus()
    if url.startswith("file://"):
        return InProcessBus(url.removeprefix("file://"))
    if url.startswith(("nats://", "tls://")):
        from airpicture.bus.jetstream import NatsBus

        return NatsBus(url, **options)
    raise ValueError(f"unknown bus URL {url!r}: use memory://, file:///DIR or nats://HOST:PORT")
