"""The bus over NATS JetStream: streams, publishing and consumers, on a
:class:`~airpicture.bus.nats_connection.NatsConnection` (credentials, TLS, backoff). With
that module, the only ones that import ``nats``.

Each audience is a stream ``<stream_prefix>_<audience>`` (file storage) on the subject
``<subject_prefix>.<audience>``; the stream's sequence number is the log's sequence number.
Publishing sets the ``Nats-Msg-Id`` header, so the server drops a record it already holds
(within ``duplicate_window_s``) and answers with the earlier sequence: a publish retried after
a lost acknowledgement appends nothing. Reading uses pull consumers with explicit acks; a
durable one keeps its position on the server across restarts of the reader. Redeliveries
(a record at or before one already returned) are dropped, so a subscription yields each
record once, in log order.

With ``nation`` set, the node publishes on ``<subject_prefix>.<audience>.<nation>``, so the
server's subject permissions (per user or per nkey) can let each nation publish only as
itself; each audience's stream holds both ``<subject_prefix>.<audience>`` and its per-nation
subjects, and readers read the whole stream. A publish or stream request that the server
refuses for want of permission fails at once with :class:`~airpicture.bus.base.BusError`
(not retried). A publish that fails while the client reconnects is retried (same message id,
so no duplicate) up to ``publish_attempts`` times.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import nats.errors
import nats.js.errors
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, StorageType

from airpicture.bus.base import BusError, LogRecord, check_audience
from airpicture.bus.nats_connection import RETRYABLE, NatsConnection

__all__ = ["NatsBus"]


class NatsBus(NatsConnection):
    """Ordered logs per audience on NATS JetStream (see the module docstring); the
    connection options (``nation``, ``user``, ``password``, ``nkeys_seed``, ``tls_*``,
    backoff) are :class:`~airpicture.bus.nats_connection.NatsConnection`'s."""

    def __init__(
        self,
        url: str = "nats://127.0.0.1:4222",
        *,
        stream_prefix: str = "AIRPICTURE",
        subject_prefix: str = "airpicture",
        duplicate_window_s: float = 120.0,
        publish_attempts: int = 6,
        request_timeout_s: float = 5.0,
        fetch_batch: int = 32,
        idle_consumer_s: float = 60.0,
        **connection: Any,
    ) -> None:
        self.stream_prefix = stream_prefix
        self.subject_prefix = subject_prefix
        self.duplicate_window_s = duplicate_window_s
        self.publish_attempts = publish_attempts
        self.request_timeout_s = request_timeout_s
        self.fetch_batch = fetch_batch
        """Most records one pull asks for: with records up to 1 MiB, 32 stay well under the
        server's 64 MiB per-client pending limit (beyond it the server cuts the client)."""
        self.idle_consumer_s = idle_consumer_s
        """The server removes an ephemeral consumer nobody pulled from for this long (s);
        a subscription whose consumer is gone makes it anew (see ``_NatsSubscription``)."""
        self._streams: set[str] = set()
        super().__init__(url, **connection)
        self._js = self._nc_checked().jetstream(timeout=request_timeout_s)

    # -- streams ------------------------------------------------------------------------

    def _stream(self, audience: str) -> str:
        return f"{self.stream_prefix}_{check_audience(audience)}"

    def _subject(self, audience: str) -> str:
        return f"{self.subject_prefix}.{audience}"

    def _publish_subject(self, audience: str) -> str:
        base = self._subject(audience)
        return base if self.nation is None else f"{base}.{self.nation}"

    async def _ensure_stream(self, audience: str) -> str:
        name = self._stream(audience)
        if name in self._streams:
            return name
        info = f"$JS.API.STREAM.INFO.{name}"
        try:
            await self._request(info, self._js.stream_info(name))
        except nats.js.errors.NotFoundError:
            subject = self._subject(audience)
            try:
                await self._request(
                    f"$JS.API.STREAM.CREATE.{name}",
                    self._js.add_stream(
                        name=name,
                        subjects=[subject, f"{subject}.*"],
                        storage=StorageType.FILE,
                        duplicate_window=self.duplicate_window_s,
                    ),
                )
            except nats.js.errors.BadRequestError:
                await self._request(info, self._js.stream_info(name))  # made meanwhile
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
        subject = self._publish_subject(audience)
        seqs: list[int] = []
        # One at a time in order: JetStream orders by arrival, so a pipeline of publishes
        # would keep the order too, but a retry in the middle of one could not.
        for data, msg_id in items:
            for attempt in range(self.publish_attempts):
                try:
                    ack = await self._request(
                        subject,
                        self._js.publish(
                            subject, data, stream=stream, headers={"Nats-Msg-Id": msg_id}
                        ),
                    )
                    seqs.append(int(ack.seq))
                    break
                except RETRYABLE as exc:
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
        psub, before = await self._pull(stream, durable, start_seq, resume=True)
        return _NatsSubscription(self, psub, stream, durable, before)

    async def _pull(
        self, stream: str, durable: str | None, start_seq: int, resume: bool
    ) -> tuple[Any, int]:
        """A pull subscription on the whole stream (every nation's subject: no filter, so
        made here rather than by ``pull_subscribe``, which filters on one subject), and the
        sequence number after which it starts. A durable consumer that exists is resumed
        (after its acknowledged floor), or (``resume=False``) made anew from ``start_seq``."""
        if durable is not None:
            try:
                info = await self._js.consumer_info(stream, durable)
            except nats.js.errors.NotFoundError:
                pass
            else:
                if resume:
                    psub = await self._js.pull_subscribe_bind(durable=durable, stream=stream)
                    return psub, int(info.ack_floor.stream_seq if info.ack_floor else 0)
                await self._js.delete_consumer(stream, durable)
        name = durable or self._nc_checked().new_inbox().rsplit(".", 1)[-1]
        config = ConsumerConfig(
            name=name,
            durable_name=durable,
            deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
            opt_start_seq=start_seq,
            ack_policy=AckPolicy.EXPLICIT,
            ack_wait=30.0,
            inactive_threshold=None if durable else self.idle_consumer_s,
        )
        await self._request(
            f"$JS.API.CONSUMER.CREATE.{stream}.{name}", self._js.add_consumer(stream, config)
        )
        return await self._js.pull_subscribe_bind(name, stream=stream), start_seq - 1


class _NatsSubscription:
    """Records strictly in log order, none skipped.

    A consumer may hand out a record out of order: one lost in flight (a connection cut by the
    server as a slow consumer, a reconnect) comes back only after ``ack_wait``, when later
    ones have been delivered. So a record after a gap is not returned; the consumer is made
    anew from the first missing sequence. A gap still there after that is real (records
    removed from the stream) and is passed.

    A consumer can also vanish: the server removes an ephemeral one that nobody pulled from
    for its inactive threshold (a reader stalled that long), and then every pull just times
    out. So while pulls come back empty, the consumer is looked up (at most every
    ``CONSUMER_CHECK_S`` wall seconds) and made anew from the next sequence if it is gone.
    """

    CONSUMER_CHECK_S = 2.0

    def __init__(
        self, bus: NatsBus, psub: Any, stream: str, durable: str | None, before: int
    ) -> None:
        self._bus = bus
        self._psub = psub
        self._stream = stream
        self._durable = durable
        self._restarted_for = -1
        self.last_seq = before
        """The last sequence number returned (or before the first to return)."""
        self.restarts = 0
        """How often the consumer was made anew to close a gap."""
        self.recreated = 0
        """How often the consumer was found gone and made anew."""
        self._checked = time.monotonic()

    def fetch(self, max_records: int = 1024, timeout: float = 0.0) -> list[LogRecord]:
        """Up to ``max_records`` next records, waiting at most ``timeout`` (>= 50 ms)."""
        wait = max(timeout, 0.05)
        batch = min(max(max_records, 1), self._bus.fetch_batch)
        return self._bus._run(self._fetch(batch, wait), wait + 30.0)

    async def _fetch(self, max_records: int, timeout: float) -> list[LogRecord]:
        deadline = time.monotonic() + timeout
        while True:
            try:
                msgs = await self._psub.fetch(batch=max_records, timeout=timeout)
            except (TimeoutError, nats.errors.TimeoutError):
                if await self._consumer_gone():
                    self.recreated += 1
                    await self._remake()
                    continue
                return []
            out = []
            restarted = False
            for msg in msgs:
                seq = int(msg.metadata.sequence.stream)
                if seq <= self.last_seq:
                    await msg.ack()
                    continue  # a redelivery of a record already returned
                if seq != self.last_seq + 1 and self._restarted_for != self.last_seq:
                    await self._restart()  # a record before this one is still to come
                    restarted = True
                    break
                await msg.ack()
                self.last_seq = seq
                headers = msg.headers or {}
                out.append(LogRecord(seq, str(headers.get("Nats-Msg-Id", "")), bytes(msg.data)))
            if out or (time.monotonic() >= deadline and not restarted):
                return out

    async def _consumer_gone(self) -> bool:
        now = time.monotonic()
        if now - self._checked < self.CONSUMER_CHECK_S:
            return False
        self._checked = now
        try:
            await self._psub.consumer_info()
        except nats.js.errors.NotFoundError:
            return True
        except RETRYABLE:  # the server is away: ask again later
            return False
        return False

    async def _restart(self) -> None:
        self.restarts += 1
        self._restarted_for = self.last_seq
        await self._remake()

    async def _remake(self) -> None:
        """The consumer made anew from the record after the last one returned."""
        try:
            await self._psub.unsubscribe()
        except Exception:  # the connection may have been cut
            pass
        self._psub, _ = await self._bus._pull(
            self._stream, self._durable, self.last_seq + 1, resume=False
        )

    def close(self) -> None:
        """Stop pulling; a durable consumer keeps its position on the server."""
        try:
            self._bus._run(self._psub.unsubscribe(), 10.0)
        except Exception:  # the connection may be gone already
            pass
