"""The bus contract: one ordered, append-only log per audience.

An **audience** is a named log (``[A-Za-z0-9_-]+``): everything released to that audience, in
one total order that every reader sees alike. Publishing appends a record and returns its
sequence number in that log (1, 2, ...); a record whose ``msg_id`` the log already holds is
not appended again (the earlier sequence number is returned), which makes retries safe.

Readers subscribe from a sequence number; a **durable** subscription (named) resumes after
the last record it fetched, across restarts of the reader, for as long as the bus keeps it.

Implementations: :class:`~airpicture.bus.memory.InProcessBus` (embedded, optional file
persistence) and :class:`~airpicture.bus.jetstream.NatsBus` (NATS JetStream).
"""

from __future__ import annotations

import re
from typing import NamedTuple, Protocol

__all__ = ["Bus", "BusError", "LogRecord", "Subscription", "check_audience"]

_AUDIENCE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class BusError(RuntimeError):
    """The bus could not do what was asked (after its retries)."""


class LogRecord(NamedTuple):
    """One record of an audience's log."""

    seq: int
    msg_id: str
    data: bytes


class Subscription(Protocol):
    """A reader's position in one audience's log."""

    def fetch(self, max_records: int = 1024, timeout: float = 0.0) -> list[LogRecord]:
        """The next records in log order (at most ``max_records``), waiting up to ``timeout``
        seconds for the first one; an empty list when there is none yet."""
        ...

    def close(self) -> None:
        """Stop reading (a durable subscription keeps its position on the bus)."""
        ...


class Bus(Protocol):
    """A set of ordered logs, one per audience (see the module docstring)."""

    def publish(self, audience: str, data: bytes, msg_id: str) -> int:
        """Append ``data`` to the audience's log; returns its sequence number."""
        ...

    def subscribe(
        self, audience: str, durable: str | None = None, start_seq: int = 1
    ) -> Subscription:
        """Read the audience's log from ``start_seq`` (a durable one: from where it left)."""
        ...

    def close(self) -> None:
        """Release connections and files."""
        ...


def check_audience(audience: str) -> str:
    """Return ``audience`` if it is a valid log name, else raise ``ValueError``."""
    if not _AUDIENCE.match(audience):
        raise ValueError(f"bad audience name {audience!r}: use 1-64 of A-Z a-z 0-9 _ -")
    return audience
