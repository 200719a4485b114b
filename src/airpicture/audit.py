"""The release audit: an append-only, hash-chained record of what was released to whom and when.

Each :class:`AuditEntry` names one sealed envelope (sender, audience, sequence number, data
time, kind, number of messages, SHA-256 of the payload) and carries ``prev``, the hash of the
entry before it (64 zeros for the first), and ``hash``, the SHA-256 of its own MessagePack
encoding with ``hash`` empty. Changing, inserting, dropping or reordering any entry breaks
the chain from that point on (:func:`verify_chain`).

:class:`AuditLog` keeps the entries in memory and, when given a path, appends each one as a
line of JSON (flushed) so the record survives the process.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path

import msgspec

from airpicture.messages import Envelope

__all__ = ["GENESIS", "AuditEntry", "AuditLog", "verify_chain"]

GENESIS = "0" * 64
"""The ``prev`` of the first entry."""


class AuditEntry(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One release: what (kind, count, payload digest), to whom (audience), when (data time)."""

    index: int
    sender: str
    audience: str
    seq: int
    time: float
    kind: str
    count: int
    payload_sha256: str
    prev: str
    hash: str = ""
    v: int = 1


def entry_hash(entry: AuditEntry) -> str:
    """SHA-256 (hex) of the entry's MessagePack encoding with an empty ``hash``."""
    body = msgspec.msgpack.encode(msgspec.structs.replace(entry, hash=""))
    return hashlib.sha256(body).hexdigest()


def verify_chain(entries: Sequence[AuditEntry]) -> int | None:
    """Index of the first entry that breaks the chain, or ``None`` when it all holds."""
    prev = GENESIS
    for i, entry in enumerate(entries):
        if entry.index != i or entry.prev != prev or entry.hash != entry_hash(entry):
            return i
        prev = entry.hash
    return None


class AuditLog:
    """An append-only audit chain, optionally persisted to ``path`` (JSON lines).

    An existing file is read back and verified on open; a broken chain raises ``ValueError``
    naming the file and the first bad line.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = None if path is None else Path(path)
        self.entries: list[AuditEntry] = []
        if self.path is not None and self.path.exists():
            self.entries = read_entries(self.path)
            bad = verify_chain(self.entries)
            if bad is not None:
                raise ValueError(f"{self.path}: audit chain broken at line {bad + 1}")

    @property
    def head(self) -> str:
        """Hash of the newest entry (``GENESIS`` when empty)."""
        return self.entries[-1].hash if self.entries else GENESIS

    def record_release(self, envelope: Envelope, count: int) -> AuditEntry:
        """Append the release of ``envelope`` (``count`` messages in its payload)."""
        entry = AuditEntry(
            index=len(self.entries),
            sender=envelope.sender,
            audience=envelope.audience,
            seq=envelope.seq,
            time=envelope.time,
            kind=envelope.kind,
            count=count,
            payload_sha256=hashlib.sha256(envelope.payload).hexdigest(),
            prev=self.head,
        )
        entry = msgspec.structs.replace(entry, hash=entry_hash(entry))
        self.entries.append(entry)
        if self.path is not None:
            with self.path.open("ab") as f:
                f.write(msgspec.json.encode(entry) + b"\n")
        return entry

    def verify(self) -> int | None:
        """See :func:`verify_chain`."""
        return verify_chain(self.entries)


def read_entries(path: Path) -> list[AuditEntry]:
    """The entries of an audit file, in order; ``ValueError`` naming the line if one is bad."""
    entries = []
    for n, line in enumerate(path.read_bytes().splitlines(), start=1):
        try:
            entries.append(msgspec.json.decode(line, type=AuditEntry))
        except msgspec.DecodeError as exc:
            raise ValueError(f"{path}:{n}: not an audit entry: {exc}") from None
    return entries
