"""Byte transports at the edge: UDP (unicast and multicast) and TCP, in and out.

Blocking sockets with timeouts, so that a CLI loop or a node's edge thread can poll them and
stop cleanly; framing is the caller's (ASTERIX datablocks, Beast, SBS lines, CoT events).

- :class:`UdpReceiver` binds a port, joins a multicast group when given one, and yields
  :class:`airpicture.io.pcap.Datagram` values stamped with the receive time.
- :class:`UdpSender` sends datagrams to a unicast or multicast address (TTL settable).
- :class:`TcpClient` connects to a server (a dump1090 30005/30003 port, a TAK server, an
  ASTERIX TCP feed) and reads or writes a byte stream, reconnecting when asked.
- :class:`TcpServer` accepts any number of clients and sends every chunk to all of them
  (an ASTERIX or CoT feed others connect to); clients that fail are dropped.
"""

from __future__ import annotations

import select
import socket
import struct
import time
from collections.abc import Callable, Iterator

from airpicture.io.pcap import Datagram

Clock = Callable[[], float]


def parse_endpoint(text: str, default_host: str = "0.0.0.0") -> tuple[str, int]:
    """``host:port`` or ``:port`` or ``port`` to ``(host, port)``."""
    host, sep, port = text.rpartition(":")
    if not sep:
        host, port = default_host, text
    try:
        number = int(port)
    except ValueError:
        raise ValueError(f"bad endpoint {text!r}: port {port!r} is not a number") from None
    if not 0 <= number < 65536:
        raise ValueError(f"bad endpoint {text!r}: port out of range")
    return host or default_host, number


def _is_multicast(host: str) -> bool:
    try:
        first = int(host.split(".")[0])
    except ValueError:
        return False
    return 224 <= first <= 239


class UdpReceiver:
    """Receives datagrams on ``host:port``; joins ``host`` when it is a multicast group."""

    def __init__(self, host: str, port: int, interface: str = "0.0.0.0",
                 clock: Clock = time.time) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._clock = clock
        if _is_multicast(host):
            self.sock.bind(("", port))
            mreq = struct.pack("4s4s", socket.inet_aton(host), socket.inet_aton(interface))
            self.sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
        else:
            self.sock.bind((host, port))
        self.port = self.sock.getsockname()[1]

    def receive(self, timeout: float = 1.0) -> Datagram | None:
        """The next datagram, or ``None`` when none came within ``timeout`` seconds."""
        ready, _, _ = select.select([self.sock], [], [], timeout)
        if not ready:
            return None
        data, (src, sport) = self.sock.recvfrom(65535)
        return Datagram(self._clock(), data, src, "", sport, self.port)

    def __iter__(self) -> Iterator[Datagram]:
        while True:
            d = self.receive()
            if d is not None:
                yield d

    def close(self) -> None:
        self.sock.close()


class UdpSender:
    """Sends datagrams to ``host:port`` (unicast or multicast, with ``ttl``)."""

    def __init__(self, host: str, port: int, ttl: int = 1) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        if _is_multicast(host):
            self.sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, ttl)
        self.target = (host, port)

    def send(self, payload: bytes) -> None:
        self.sock.sendto(payload, self.target)

    def close(self) -> None:
        self.sock.close()


class TcpClient:
    """A TCP byte stream to ``host:port``."""

    def __init__(self, host: str, port: int, connect_timeout: float = 5.0) -> None:
        self.target = (host, port)
        self.connect_timeout = connect_timeout
        self.sock: socket.socket | None = None
        self.connect()

    def connect(self) -> None:
        """(Re)connect; raises ``OSError`` when the server cannot be reached."""
        self.close()
        self.sock = socket.create_connection(self.target, timeout=self.connect_timeout)

    def read(self, timeout: float = 1.0) -> bytes | None:
        """Bytes received (``b""`` when the peer closed), or ``None`` on timeout."""
        if self.sock is None:
            return b""
        ready, _, _ = select.select([self.sock], [], [], timeout)
        if not ready:
            return None
        return self.sock.recv(65536)

    def send(self, payload: bytes) -> None:
        if self.sock is None:
            raise OSError("not connected")
        self.sock.sendall(payload)

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None


class TcpServer:
    """Accepts clients on ``host:port`` and sends each chunk to all of them."""

    def __init__(self, host: str, port: int) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        self.sock.listen(16)
        self.sock.setblocking(False)
        self.port = self.sock.getsockname()[1]
        self.clients: list[socket.socket] = []

    def accept(self, timeout: float = 0.0) -> int:
        """Accept waiting clients; returns how many are connected."""
        while True:
            ready, _, _ = select.select([self.sock], [], [], timeout)
            if not ready:
                return len(self.clients)
            conn, _ = self.sock.accept()
            conn.setblocking(True)
            conn.settimeout(5.0)
            self.clients.append(conn)
            timeout = 0.0

    def send(self, payload: bytes) -> int:
        """Send to every client (dropping those that fail); returns how many got it."""
        self.accept()
        alive: list[socket.socket] = []
        for c in self.clients:
            try:
                c.sendall(payload)
                alive.append(c)
            except OSError:
                c.close()
        self.clients = alive
        return len(alive)

    def close(self) -> None:
        for c in self.clients:
            c.close()
        self.clients = []
        self.sock.close()
