"""A TCP proxy on 127.0.0.1 that delays one direction of a link: a slow partner link.

Bytes from the client (a node) to the server (``nats-server``) are held ``delay_s`` seconds
from their arrival, in order (a TCP link delays, it cannot reorder); bytes back pass at once.
``delay_s`` may change while connections are open; what arrived before the change keeps its
due time.
"""

from __future__ import annotations

import queue
import socket
import threading
import time


class DelayProxy:
    """Listens on ``port`` and forwards to ``127.0.0.1:target``."""

    def __init__(self, target: int) -> None:
        self.target = target
        self.delay_s = 0.0
        self.held_chunks = 0
        """Chunks that were held (arrived while ``delay_s`` > 0)."""
        # bound to a port the kernel picks, here: a port picked first and bound later can be
        # taken in between by a server of a coalition running alongside
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._stop = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(("127.0.0.1", self.target))
            except OSError:
                client.close()
                continue
            due: queue.Queue[tuple[float, bytes]] = queue.Queue()
            threading.Thread(target=self._read_up, args=(client, due), daemon=True).start()
            threading.Thread(target=self._send_up, args=(server, due), daemon=True).start()
            threading.Thread(target=self._pipe, args=(server, client), daemon=True).start()

    def _read_up(self, client: socket.socket, due: queue.Queue[tuple[float, bytes]]) -> None:
        while data := self._recv(client):
            delay = self.delay_s
            self.held_chunks += delay > 0
            due.put((time.monotonic() + delay, data))
        due.put((0.0, b""))

    def _send_up(self, server: socket.socket, due: queue.Queue[tuple[float, bytes]]) -> None:
        while True:
            at, data = due.get()
            if not data:
                break
            time.sleep(max(at - time.monotonic(), 0.0))
            try:
                server.sendall(data)
            except OSError:
                break
        server.close()

    def _pipe(self, src: socket.socket, dst: socket.socket) -> None:
        while data := self._recv(src):
            try:
                dst.sendall(data)
            except OSError:
                break
        dst.close()

    @staticmethod
    def _recv(sock: socket.socket) -> bytes:
        try:
            return sock.recv(65536)
        except OSError:
            return b""

    def close(self) -> None:
        self._stop.set()
        self._listener.close()
