"""The NATS subscription never skips a record: one delivered after a gap (an earlier record
lost in flight when the server cut a slow consumer, to come back only after ``ack_wait``)
makes it re-create the consumer from the first missing sequence; a gap still there after
that is real (records removed) and passed."""

from __future__ import annotations

import asyncio
import types
from typing import Any

from airpicture.bus.jetstream import _NatsSubscription


class FakeMsg:
    def __init__(self, seq: int) -> None:
        self.metadata = types.SimpleNamespace(sequence=types.SimpleNamespace(stream=seq))
        self.headers = {"Nats-Msg-Id": f"m{seq}"}
        self.data = b"%d" % seq
        self.acked = False

    async def ack(self) -> None:
        self.acked = True


class FakePull:
    def __init__(self, batches: list[list[int]]) -> None:
        self.batches = batches

    async def fetch(self, batch: int, timeout: float) -> list[FakeMsg]:
        if not self.batches:
            raise TimeoutError
        return [FakeMsg(s) for s in self.batches.pop(0)]

    async def unsubscribe(self) -> None:
        return None


class FakeBus:
    """The consumer as the server has it: ``log`` in order from a start sequence."""

    fetch_batch = 32

    def __init__(self, log: list[int]) -> None:
        self.log = log
        self.pulls: list[int] = []

    async def _pull(self, stream: str, durable: str | None, start: int, resume: bool) -> Any:
        self.pulls.append(start)
        return FakePull([[s for s in self.log if s >= start]]), start - 1


def fetch_all(sub: _NatsSubscription) -> list[int]:
    got: list[int] = []
    while batch := asyncio.run(sub._fetch(32, 0.0)):
        got += [r.seq for r in batch]
    return got


def test_a_record_lost_in_flight_is_fetched_again_not_skipped() -> None:
    bus = FakeBus(log=list(range(1, 11)))
    # Delivered: 1..3, then 5.. (4 lost in flight, would be redelivered after ack_wait).
    sub = _NatsSubscription(bus, FakePull([[1, 2, 3], [5, 6], [4]]), "S", None, 0)  # type: ignore[arg-type]
    assert fetch_all(sub) == list(range(1, 11))
    assert bus.pulls == [4] and sub.restarts == 1


def test_a_real_gap_is_passed_after_one_check() -> None:
    bus = FakeBus(log=[1, 2, 5, 6])  # 3 and 4 were removed from the stream
    sub = _NatsSubscription(bus, FakePull([[1, 2, 5, 6]]), "S", None, 0)  # type: ignore[arg-type]
    assert fetch_all(sub) == [1, 2, 5, 6]
    assert bus.pulls == [3]
