"""The bus over NATS JetStream: the only module that imports ``nats``.

Each audience is a stream ``<stream_prefix>_<audience>`` (file storage) on the subject
``<subject_prefix>.<audience>``; the stream's sequence number is the log's sequence number.
Publishing sets the ``Nats-Msg-Id`` header, so the server drops a record it already holds
(within ``duplicate_window_s``) and answers with the earlier sequence: a publish retried after
a lost acknowledgement appends nothing. Reading uses pull consumers with explicit acks; a
durable one keeps its position on the server across restarts of the reader. Redeliveries
(a record at or before one already returned) are dropped, so a subscription yields each
record once, in log order.

Connection: the first connect is retried with exponential backoff (``backoff_s`` doubling up
to ``max_backoff_s``, ``connect_attempts`` times); after that the client reconnects forever
with the same backoff, and a publish that fails while it does is retried (same message id,
so no duplicate) up to ``publish_attempts`` times.

The adapter is synchronous to its callers: it runs its own asyncio loop in a daemon thread.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Coroutine
from typing import Any, TypeVar

import nats
import nats.errors
import nats.js.errors
from nats.aio.client import Client, Server
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, StorageType

from airpicture.bus.base import BusError, LogRecord, check_audience

__all__ = ["NatsBus"]

T = TypeVar("T")
_RETRYABLE = (
    TimeoutError,
    nats.errors.TimeoutError,
    nats.errors.ConnectionClosedError,
    nats.errors.ConnectionReconnectingError,
    nats.errors.NoRespondersError,
    nats.js.errors.NoStreamResponseError,
    nats.js.errors.ServiceUnavailableError,
)


class NatsBus:
    """Ordered logs per audience on NATS JetStream (see the module docstring)."""

    def __init__(
        self,
        url: str = "nats://127.0.0.1:4222",
        *,
        stream_prefix: str = "AIRPICTURE",
        subject_prefix: str = "airpicture",
        duplicate_window_s: float = 120.0,
        backoff_s: float = 0.1,
        max_backoff_s: float = 5.0,
        connect_attempts: int = 8,
        publish_attempts: int = 6,
        request_timeout_s: float = 5.0,
    ) -> None:
        self.url = url
        self.stream_prefix = stream_prefix
        self.subject_prefix = subject_prefix
        self.duplicate_window_s = duplicate_window_s
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self.publish_attempts = publish_attempts
        self.request_timeout_s = request_timeout_s
        self.reconnects = 0
        self._streams: set[str] = set()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="airpicture-nats", daemon=True
        )
        self._thread.start()
        self._nc: Client | None = None
        try:
            self._nc = self._run(self._connect(connect_attempts), None)
        except BaseException:
            self._stop_loop()
            raise
        self._js = self._nc.jetstream(timeout=request_timeout_s)

    # -- plumbing -----------------------------------------------------------------------

    def _run(self, coro: Coroutine[Any, Any, T], timeout: float | None = 60.0) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def _backoff(self, attempt: int) -> float:
        return float(min(self.backoff_s * 2.0**attempt, self.max_backoff_s))

    def _reconnect_handler(
        self, servers: list[Server], info: dict[str, Any]
    ) -> tuple[Server | None, float]:
        server = min(servers, key=lambda s: s.reconnects)
        self.reconnects += 1
        return server, self._backoff(server.reconnects)

    async def _on_error(self, error: Exception) -> None:
        return None  # reconnects are handled by the client; errors surface on use

    async def _connect(self, attempts: int) -> Client:
        last: Exception | None = None
        for attempt in range(max(attempts, 1)):
            try:
                return await nats.connect(
                    self.url,
                    connect_timeout=2,
                    allow_reconnect=True,
                    max_reconnect_attempts=-1,
                    reconnect_to_server_handler=self._reconnect_handler,
                    error_cb=self._on_error,
                    name="airpicture",
                )
            except (TimeoutError, OSError, nats.errors.Error) as exc:
                last = exc
                await asyncio.sleep(self._backoff(attempt))
        raise BusError(f"cannot connect to {self.url}: {last}")

    def _stream(self, audience: str) -> str:
        return f"{self.stream_prefix}_{check_audience(audience)}"

    def _subject(self, audience: str) -> str:
        return f"{self.subject_prefix}.{audience}"

    async def _ensure_stream(self, audience: str) -> str:
        name = self._stream(audience)
        if name in self._streams:
            return name
        try:
            await self._js.stream_info(name)
        except nats.js.errors.NotFoundError:
            try:
                await self._js.add_stream(
                    name=name,
                    subjects=[self._subject(audience)],
                    storage=StorageType.FILE,
                    duplicate_window=self.duplicate_window_s,
                )
            except nats.js.errors.BadRequestError:
                await self._js.stream_info(name)  # created meanwhile by another node
        self._streams.add(name)
        return name

    # -- Bus ----------------------------------------------------------------------------

    def publish(self, audience: str, data: bytes, msg_id: str) -> int:
        """Append to the audience's stream; returns the stream sequence (retries on loss)."""
        return self.publish_many(audience, [(data, msg_id)])[0]

    def publish_many(self, audience: str, items: list[tuple[bytes, str]]) -> list[int]:
        """Publish several records in order, pipelined; returns their sequence numbers."""
        return self._run(self._publish_many(audience, items), None)

    async def _publish_many(self, audience: str, items: list[tuple[bytes, str]]) -> list[int]:
        stream = await self._ensure_stream(audience)
        subject = self._subject(audience)
        seqs: list[int] = []
        # One at a time in order: JetStream orders by arrival, so a pipeline of publishes
        # would keep the order too, but a retry in the middle of one could not.
        for data, msg_id in items:
            for attempt in range(self.publish_attempts):
                try:
                    ack = await self._js.publish(
                        subject, data, stream=stream, headers={"Nats-Msg-Id": msg_id}
                    )
                    seqs.append(int(ack.seq))
                    break
                except _RETRYABLE as exc:
                    if attempt + 1 == self.publish_attempts:
                        raise BusError(f"publish to {audience} failed: {exc!r}") from exc
                    await asyncio.sleep(self._backoff(attempt))
        return seqs

    def subscribe(
        self, audience: str, durable: str | None = None, start_seq: int = 1
    ) -> _NatsSubscription:
        """A pull consumer from ``start_seq`` (a durable one resumes where it left off)."""
        if start_seq < 1:
            raise ValueError(f"start_seq must be >= 1, got {start_seq}")
        if durable is not None:
            check_audience(durable)
        return self._run(self._subscribe(audience, durable, start_seq))

    async def _subscribe(
        self, audience: str, durable: str | None, start_seq: int
    ) -> _NatsSubscription:
        stream = await self._ensure_stream(audience)
        config = ConsumerConfig(
            deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
            opt_start_seq=start_seq,
            ack_policy=AckPolicy.EXPLICIT,
            ack_wait=30.0,
            inactive_threshold=None if durable else 60.0,
        )
        psub = await self._js.pull_subscribe(
            self._subject(audience), durable=durable, stream=stream, config=config
        )
        return _NatsSubscription(self, psub)

    def close(self) -> None:
        """Drain and close the connection, then stop the loop thread."""
        if self._nc is not None:
            nc, self._nc = self._nc, None
            try:
                self._run(nc.close(), 10.0)
            except Exception:  # a broken connection: nothing more to close
                pass
        self._stop_loop()

    def _stop_loop(self) -> None:
        if self._loop.is_closed():
            return

        async def _cancel_rest() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        try:
            self._run(_cancel_rest(), 10.0)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10.0)
            self._loop.close()

    def __enter__(self) -> NatsBus:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _NatsSubscription:
    def __init__(self, bus: NatsBus, psub: Any) -> None:
        self._bus = bus
        self._psub = psub
        self.last_seq = 0

    def fetch(self, max_records: int = 1024, timeout: float = 0.0) -> list[LogRecord]:
        """Up to ``max_records`` next records, waiting at most ``timeout`` (>= 50 ms)."""
        wait = max(timeout, 0.05)
        return self._bus._run(self._fetch(max(max_records, 1), wait), wait + 30.0)

    async def _fetch(self, max_records: int, timeout: float) -> list[LogRecord]:
        deadline = time.monotonic() + timeout
        while True:
            try:
                msgs = await self._psub.fetch(batch=max_records, timeout=timeout)
            except (TimeoutError, nats.errors.TimeoutError):
                return []
            out = []
            for msg in msgs:
                seq = int(msg.metadata.sequence.stream)
                await msg.ack()
                if seq <= self.last_seq:
                    continue  # a redelivery of a record already returned
                self.last_seq = seq
                headers = msg.headers or {}
                out.append(LogRecord(seq, str(headers.get("Nats-Msg-Id", "")), bytes(msg.data)))
            if out or time.monotonic() >= deadline:
                return out

    def close(self) -> None:
        """Stop pulling; a durable consumer keeps its position on the server."""
        try:
            self._bus._run(self._psub.unsubscribe(), 10.0)
        except Exception:  # the connection may be gone already
            pass
