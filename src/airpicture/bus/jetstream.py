"""The bus over NATS JetStream: the only module that imports ``nats``.

Each audience is a stream ``<stream_prefix>_<audience>`` (file storage) on the subject
``<subject_prefix>.<audience>``; the stream's sequence number is the log's sequence number.
Publishing sets the ``Nats-Msg-Id`` header, so the server drops a record it already holds
(within ``duplicate_window_s``) and answers with the earlier sequence: a publish retried after
a lost acknowledgement appends nothing. Reading uses pull consumers with explicit acks; a
durable one keeps its position on the server across restarts of the reader. Redeliveries
(a record at or before one already returned) are dropped, so a subscription yields each
record once, in log order.

Security as deployed: ``tls_ca`` (and ``tls_cert``/``tls_key`` for mutual TLS) make the client
verify the server's certificate chain and host name (use a ``tls://`` URL or a server that
requires TLS); user and password ride in the URL (``nats://user:pass@host:port``) or come as
``user``/``password``. With ``nation`` set, the node publishes on ``<subject_prefix>.<audience>
.<nation>``, so the server's subject permissions can let each nation publish only as itself;
each audience's stream holds both ``<subject_prefix>.<audience>`` and its per-nation subjects,
and readers read the whole stream. A publish or stream request that the server refuses for
want of permission fails at once with :class:`~airpicture.bus.base.BusError` (not retried).
These options may also be given as URL query parameters:
``nats://JPN:secret@host:4443?tls_ca=/etc/ap/ca.pem&nation=JPN``.

Connection: the first connect is retried with exponential backoff (``backoff_s`` doubling up
to ``max_backoff_s``, ``connect_attempts`` times); after that the client reconnects forever
with the same backoff, and a publish that fails while it does is retried (same message id,
so no duplicate) up to ``publish_attempts`` times.

The adapter is synchronous to its callers: it runs its own asyncio loop in a daemon thread.
"""

from __future__ import annotations

import asyncio
import re
import ssl
import threading
import time
from collections.abc import Coroutine
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlsplit, urlunsplit

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
_DENIED = re.compile(r'permissions violation for (publish|subscription) to "?([^"\s]+)', re.I)
_URL_OPTIONS = ("tls_ca", "tls_cert", "tls_key", "nation", "user", "password")


def _split_url(url: str) -> tuple[str, dict[str, str]]:
    """The server URL without its query, and the options given in the query."""
    parts = urlsplit(url)
    options = dict(parse_qsl(parts.query, keep_blank_values=False))
    unknown = sorted(set(options) - set(_URL_OPTIONS))
    if unknown:
        raise ValueError(f"unknown NATS URL options {unknown} in {url!r}: use {_URL_OPTIONS}")
    return urlunsplit(parts._replace(query="", fragment="")), options


def _tls_context(ca: str | None, cert: str | None, key: str | None) -> ssl.SSLContext | None:
    """A client TLS context that verifies the server against ``ca`` (and presents ``cert``)."""
    if ca is None and cert is None:
        return None
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=ca)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if cert is not None:
        context.load_cert_chain(cert, key)
    return context


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
        fetch_batch: int = 32,
        nation: str | None = None,
        user: str | None = None,
        password: str | None = None,
        tls_ca: str | None = None,
        tls_cert: str | None = None,
        tls_key: str | None = None,
    ) -> None:
        server_url, options = _split_url(url)
        self._server_url = server_url
        parts = urlsplit(server_url)
        self.url = server_url if parts.password is None else urlunsplit(
            parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@"))
        )
        """The server URL, password masked (for messages)."""
        self.nation = options.get("nation", nation)
        if self.nation is not None:
            check_audience(self.nation)
        self._user = options.get("user", user)
        self._password = options.get("password", password)
        self._tls = _tls_context(
            options.get("tls_ca", tls_ca),
            options.get("tls_cert", tls_cert),
            options.get("tls_key", tls_key),
        )
        self.denied: list[str] = []
        """Subjects (lower case) the server refused this client, in order."""
        self._denied_waiters: dict[str, list[asyncio.Future[str]]] = {}
        self._connect_errors: list[Exception] = []
        self._connect_fatal: asyncio.Future[Exception] | None = None
        self.stream_prefix = stream_prefix
        self.subject_prefix = subject_prefix
        self.duplicate_window_s = duplicate_window_s
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self.publish_attempts = publish_attempts
        self.request_timeout_s = request_timeout_s
        self.fetch_batch = fetch_batch
        """Most records one pull asks for: with records up to 1 MiB, 32 stay well under the
        server's 64 MiB per-client pending limit (beyond it the server cuts the client)."""
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
        fatal = self._connect_fatal
        if fatal is not None:  # the first connect
            self._connect_errors.append(error)
            refused = isinstance(error, (ssl.SSLError, nats.errors.AuthorizationError))
            if (refused or "authorization" in str(error).lower()) and not fatal.done():
                fatal.set_result(error)  # retrying cannot help
            return
        # Reconnects are handled by the client and other errors surface on use; a refused
        # publish only shows here, so wake the request that waits for its answer.
        match = _DENIED.search(str(error))
        if match is None:
            return
        subject = match.group(2).lower()  # the client reports the subject in lower case
        self.denied.append(subject)
        for waiter in self._denied_waiters.pop(subject, []):
            if not waiter.done():
                waiter.set_result(str(error))

    async def _request(self, subject: str, coro: Coroutine[Any, Any, T]) -> T:
        """Await ``coro`` (a request on ``subject``) unless the server refuses the subject."""
        key = subject.lower()
        denied: asyncio.Future[str] = self._loop.create_future()
        self._denied_waiters.setdefault(key, []).append(denied)
        task = asyncio.ensure_future(coro)
        try:
            pending: set[asyncio.Future[Any]] = {task, denied}
            await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiters = self._denied_waiters.get(key, [])
            if denied in waiters:
                waiters.remove(denied)
            if not waiters:
                self._denied_waiters.pop(key, None)
        if not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            raise BusError(f"not permitted on {subject}: {denied.result()}")
        return task.result()

    async def _connect(self, attempts: int) -> Client:
        """The first connect: ``attempts`` tries with exponential backoff, none more when the
        server is untrusted or refuses the credentials; once connected, the client reconnects
        for ever (left to itself, it would also retry a first connect for ever)."""
        failure: BaseException | None = None
        for attempt in range(max(attempts, 1)):
            nc, failure = await self._connect_once()
            if nc is not None:
                return nc
            if self._connect_fatal is not None and self._connect_fatal.done():
                break
            await asyncio.sleep(self._backoff(attempt))
        raise BusError(f"cannot connect to {self.url}: {failure!r}")

    async def _connect_once(self) -> tuple[Client | None, BaseException | None]:
        extra: dict[str, Any] = {}
        if self._tls is not None:
            extra["tls"] = self._tls
        if self._user is not None:
            extra["user"] = self._user
        if self._password is not None:
            extra["password"] = self._password
        extra["reconnect_time_wait"] = self.backoff_s  # seconds; typed int by nats-py
        errors = self._connect_errors = []
        fatal = self._connect_fatal = self._loop.create_future()
        nc = Client()
        connect = asyncio.ensure_future(
            nc.connect(
                self._server_url,
                connect_timeout=2,
                allow_reconnect=True,
                max_reconnect_attempts=1,
                reconnect_to_server_handler=self._reconnect_handler,
                error_cb=self._on_error,
                name=f"airpicture-{self.nation}" if self.nation else "airpicture",
                **extra,
            )
        )
        budget = 2 * (2.0 + self.backoff_s) + 5.0
        waiting: set[asyncio.Future[Any]] = {connect, fatal}
        await asyncio.wait(waiting, timeout=budget, return_when=asyncio.FIRST_COMPLETED)
        failure: BaseException | None = None
        if fatal.done():
            failure = fatal.result()
        elif not connect.done():
            failure = errors[-1] if errors else TimeoutError(f"no answer in {budget:.0f} s")
        elif connect.exception() is not None:
            failure = errors[-1] if errors else connect.exception()
        if failure is not None:
            connect.cancel()
            await asyncio.gather(connect, return_exceptions=True)
            try:
                await nc.close()
            except Exception:  # never connected: nothing to close
                pass
            return None, failure
        nc.options["max_reconnect_attempts"] = -1
        self._connect_fatal = None
        return nc, None

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
            inactive_threshold=None if durable else 60.0,
        )
        await self._request(
            f"$JS.API.CONSUMER.CREATE.{stream}.{name}", self._js.add_consumer(stream, config)
        )
        return await self._js.pull_subscribe_bind(name, stream=stream), start_seq - 1

    def _nc_checked(self) -> Client:
        if self._nc is None:
            raise BusError("the bus is closed")
        return self._nc

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
    """Records strictly in log order, none skipped.

    A consumer may hand out a record out of order: one lost in flight (a connection cut by the
    server as a slow consumer, a reconnect) comes back only after ``ack_wait``, when later
    ones have been delivered. So a record after a gap is not returned; the consumer is made
    anew from the first missing sequence. A gap still there after that is real (records
    removed from the stream) and is passed.
    """

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

    async def _restart(self) -> None:
        self.restarts += 1
        self._restarted_for = self.last_seq
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
