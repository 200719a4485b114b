"""The in-process bus: the embedded default. Logs live in memory, optionally in files.

With a ``directory``, each audience's log is appended to ``<directory>/<audience>.log`` as
frames of a 4-byte big-endian length followed by the MessagePack array ``[msg_id, data]``,
flushed on every publish, and read back on open (a frame cut short by a crash is dropped and
the file truncated to the last whole frame). Durable positions are kept in memory only.

Thread-safe: several nodes in one process may publish and read from their own threads.
"""

from __future__ import annotations

import os
import struct
import threading
import time
from pathlib import Path
from typing import BinaryIO

import msgspec

from airpicture.bus.base import LogRecord, check_audience

__all__ = ["InProcessBus"]

_HEADER = struct.Struct(">I")


class _Log:
    def __init__(self) -> None:
        self.records: list[LogRecord] = []
        self.ids: dict[str, int] = {}
        self.file: BinaryIO | None = None


class InProcessBus:
    """Ordered logs per audience in this process (see the module docstring)."""

    def __init__(self, directory: str | os.PathLike[str] | None = None) -> None:
        self.directory = None if directory is None else Path(directory)
        self._logs: dict[str, _Log] = {}
        self._durable: dict[tuple[str, str], int] = {}
        self._cond = threading.Condition()
        self._closed = False
        if self.directory is not None:
            self.directory.mkdir(parents=True, exist_ok=True)
            for path in sorted(self.directory.glob("*.log")):
                self._load(path.stem, path)

    def _load(self, audience: str, path: Path) -> None:
        log = self._log(audience)
        raw = path.read_bytes()
        pos = 0
        while pos + _HEADER.size <= len(raw):
            (size,) = _HEADER.unpack_from(raw, pos)
            end = pos + _HEADER.size + size
            if end > len(raw):
                break
            msg_id, data = msgspec.msgpack.decode(
                raw[pos + _HEADER.size : end], type=tuple[str, bytes]
            )
            seq = len(log.records) + 1
            log.records.append(LogRecord(seq, msg_id, data))
            log.ids[msg_id] = seq
            pos = end
        if pos != len(raw):
            with path.open("r+b") as f:
                f.truncate(pos)

    def _log(self, audience: str) -> _Log:
        log = self._logs.get(audience)
        if log is None:
            log = self._logs[check_audience(audience)] = _Log()
        return log

    def publish(self, audience: str, data: bytes, msg_id: str) -> int:
        """Append to the audience's log; a known ``msg_id`` returns its earlier sequence."""
        with self._cond:
            if self._closed:
                raise RuntimeError("bus is closed")
            log = self._log(audience)
            known = log.ids.get(msg_id)
            if known is not None:
                return known
            seq = len(log.records) + 1
            log.records.append(LogRecord(seq, msg_id, bytes(data)))
            log.ids[msg_id] = seq
            if self.directory is not None:
                if log.file is None:
                    log.file = (self.directory / f"{audience}.log").open("ab")
                frame = msgspec.msgpack.encode((msg_id, bytes(data)))
                log.file.write(_HEADER.pack(len(frame)) + frame)
                log.file.flush()
            self._cond.notify_all()
            return seq

    def subscribe(
        self, audience: str, durable: str | None = None, start_seq: int = 1
    ) -> _Subscription:
        """A reader from ``start_seq`` (or, for a known durable name, from where it left)."""
        check_audience(audience)
        if start_seq < 1:
            raise ValueError(f"start_seq must be >= 1, got {start_seq}")
        with self._cond:
            if durable is not None:
                start_seq = self._durable.setdefault((audience, durable), start_seq)
        return _Subscription(self, audience, durable, start_seq)

    def records(self, audience: str) -> list[LogRecord]:
        """A copy of the whole log of ``audience`` (empty if unknown)."""
        with self._cond:
            log = self._logs.get(audience)
            return [] if log is None else list(log.records)

    def close(self) -> None:
        with self._cond:
            self._closed = True
            for log in self._logs.values():
                if log.file is not None:
                    log.file.close()
                    log.file = None
            self._cond.notify_all()

    def _fetch(
        self, audience: str, durable: str | None, next_seq: int, max_records: int, timeout: float
    ) -> list[LogRecord]:
        deadline = time.monotonic() + max(timeout, 0.0)
        with self._cond:
            while True:
                log = self._logs.get(audience)
                count = 0 if log is None else len(log.records)
                if count >= next_seq or self._closed:
                    break
                left = deadline - time.monotonic()
                if left <= 0:
                    return []
                self._cond.wait(left)
            if log is None:
                return []
            out = log.records[next_seq - 1 : next_seq - 1 + max_records]
            if durable is not None and out:
                self._durable[(audience, durable)] = out[-1].seq + 1
            return out


class _Subscription:
    def __init__(self, bus: InProcessBus, audience: str, durable: str | None, start: int) -> None:
        self._bus = bus
        self.audience = audience
        self.durable = durable
        self.next_seq = start

    def fetch(self, max_records: int = 1024, timeout: float = 0.0) -> list[LogRecord]:
        out = self._bus._fetch(self.audience, self.durable, self.next_seq, max_records, timeout)
        if out:
            self.next_seq = out[-1].seq + 1
        return out

    def close(self) -> None:
        pass
