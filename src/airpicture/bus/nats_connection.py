"""The connection under the NATS bus: credentials, TLS, connecting with backoff, and the
server's permission refusals. With :mod:`airpicture.bus.jetstream`, the only modules that
import ``nats``.

Credentials as deployed: ``tls_ca`` (and ``tls_cert``/``tls_key`` for mutual TLS) make the
client verify the server's certificate chain and host name (use a ``tls://`` URL or a server
that requires TLS). A node logs in either with a user and password, in the URL
(``nats://user:pass@host:port``) or as ``user``/``password``, or with an **nkey**:
``nkeys_seed`` is the path of a file holding the user's nkey seed (``SU...``, made with
``nk -gen user`` or the ``nkeys`` package); the server knows only the public key (``U...``,
``authorization { users = [ { nkey: U..., permissions: {...} } ] }``) and the client proves
it holds the seed by signing the server's nonce, so no secret crosses the wire (the
``nkeys`` package comes with airpicture, through nats-py's ``nkeys`` extra). These options
may also be URL query parameters: ``tls://host:4443?tls_ca=/etc/ap/ca.pem&nkeys_seed=/etc/ap/JPN.nk&nation=JPN``.

Connection: the first connect is retried with exponential backoff (``backoff_s`` doubling up
to ``max_backoff_s``, ``connect_attempts`` times), none more when the server is untrusted or
refuses the credentials; after that the client reconnects forever with the same backoff.

A request the server refuses for want of permission fails at once with
:class:`~airpicture.bus.base.BusError` (:meth:`NatsConnection._request`), and the subject is
noted in :attr:`NatsConnection.denied`.

The connection is synchronous to its callers: it runs its own asyncio loop in a daemon thread.
"""

from __future__ import annotations

import asyncio
import re
import ssl
import threading
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, Self, TypeVar
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import nats.errors
import nats.js.errors
from nats.aio.client import Client, Server

from airpicture.bus.base import BusError, check_audience

__all__ = ["RETRYABLE", "NatsConnection"]

T = TypeVar("T")
RETRYABLE = (
    TimeoutError,
    nats.errors.TimeoutError,
    nats.errors.ConnectionClosedError,
    nats.errors.ConnectionReconnectingError,
    nats.errors.NoRespondersError,
    nats.js.errors.NoStreamResponseError,
    nats.js.errors.ServiceUnavailableError,
)
"""Errors after which a publish is retried (same message id, so no duplicate)."""
_DENIED = re.compile(r'permissions violation for (publish|subscription) to "?([^"\s]+)', re.I)
_URL_OPTIONS = ("tls_ca", "tls_cert", "tls_key", "nation", "user", "password", "nkeys_seed")


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


def _nkeys_seed(path: str | None) -> str | None:
    """Check that ``path`` holds an nkey user seed; a clear error when it does not."""
    if path is None:
        return None
    import nkeys

    try:
        seed = Path(path).read_bytes().strip()
        nkeys.from_seed(bytearray(seed))
    except OSError as exc:
        raise BusError(f"cannot read the nkeys seed {path!r}: {exc.strerror}") from None
    except nkeys.NkeysError as exc:
        raise BusError(f"{path!r} holds no valid nkeys seed: {exc!r}") from None
    if not seed.startswith(b"SU"):
        raise BusError(f"{path!r} holds an nkeys seed, but not a user's (SU...)")
    return path


class NatsConnection:
    """A connection to one NATS server (see the module docstring)."""

    def __init__(
        self,
        url: str = "nats://127.0.0.1:4222",
        *,
        backoff_s: float = 0.1,
        max_backoff_s: float = 5.0,
        connect_attempts: int = 8,
        nation: str | None = None,
        user: str | None = None,
        password: str | None = None,
        nkeys_seed: str | None = None,
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
        self._nkeys_seed = _nkeys_seed(options.get("nkeys_seed", nkeys_seed))
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
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
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
        if self._nkeys_seed is not None:
            extra["nkeys_seed"] = self._nkeys_seed
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

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
