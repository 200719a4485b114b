"""Running the COP server: :func:`serve` (blocking) and :func:`start_server` (a thread).

Both bind 127.0.0.1 by default; ``port=0`` picks a free port. A node or ``airpicture demo``
calls :func:`start_server` and keeps running its own loop; ``airpicture serve`` calls
:func:`serve`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import socket
import threading
import time

import uvicorn

from airpicture.web.app import MAX_WS_MESSAGE_BYTES, create_app
from airpicture.web.source import PictureSource

__all__ = ["ServerHandle", "serve", "start_server"]

DEFAULT_PORT = 8062


def _config(source: PictureSource, host: str, port: int, log_level: str) -> uvicorn.Config:
    return uvicorn.Config(create_app(source), host=host, port=port, log_level=log_level,
                          ws_max_size=MAX_WS_MESSAGE_BYTES, lifespan="on",
                          timeout_graceful_shutdown=2)


def serve(source: PictureSource, host: str = "127.0.0.1", port: int = DEFAULT_PORT,
          log_level: str = "warning") -> None:
    """Serve the COP over ``source`` until interrupted."""
    uvicorn.Server(_config(source, host, port, log_level)).run()


@dataclasses.dataclass
class ServerHandle:
    """A COP server running on a daemon thread."""

    host: str
    port: int
    server: uvicorn.Server
    thread: threading.Thread

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def stop(self, timeout: float = 10.0) -> None:
        self.server.should_exit = True
        self.thread.join(timeout)


def start_server(source: PictureSource, host: str = "127.0.0.1", port: int = 0,
                 log_level: str = "warning", timeout: float = 30.0) -> ServerHandle:
    """Start the COP server on a thread and wait until it accepts connections.

    ``port=0`` binds a free port (see :attr:`ServerHandle.port`).
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    bound = sock.getsockname()[1]
    server = uvicorn.Server(_config(source, host, bound, log_level))

    def run() -> None:
        asyncio.run(server.serve(sockets=[sock]))

    thread = threading.Thread(target=run, name=f"cop-server-{bound}", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError(f"COP server on {host}:{bound} did not start")
        time.sleep(0.02)
    return ServerHandle(host, bound, server, thread)
