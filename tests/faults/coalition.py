"""A coalition of real ``airpicture node`` processes over a real ``nats-server``, for faults.

:class:`Coalition` starts a JetStream server on a free 127.0.0.1 port and one ``airpicture
node`` process per nation (same small scenario, same seed, each recording into its own
folder), lets a test inject a fault (kill -9 a node, stop the server, put a delaying proxy on
one node's link, pass fault options to one node), and collects what must be compared with a
fault-free run: every node's per-epoch hashes and final status, the log's envelopes in log
order, and the recordings.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from airpicture.bus import open_bus
from airpicture.messages import Envelope, decode_msgpack
from airpicture.security import new_private_key, private_key_pem, public_key_pem

from ..node.scenarios import write_small_scenario
from .servers import Server

ROOT = Path(__file__).resolve().parents[2]
NATIONS = ("JPN", "AUS", "USA")
DURATION_S = 60.0
COMMON = ("--seed", "4", "--json", "--max-lead", "2", "--lateness", "8", "--stall", "60",
          "--linger", "120", "--warm", "inf", "--record-part-s", "2")
"""Every node of every run: lateness above the disorder the faults cause (lead + reorder), a
stall longer than any fault (partners wait rather than pass a faulted node), and a restarted
node re-tracks from the start (``--warm inf``: the same tracks as before)."""


@contextlib.contextmanager
def small_disk(mount: Path, size_kib: int, taken_kib: int) -> Iterator[bool]:
    """A tmpfs of ``size_kib`` at ``mount`` (made) with ``taken_kib`` in ``mount/ballast``;
    yields whether it could be mounted (it needs root), unmounts after."""
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_kib}k", "tmpfs",
                           str(mount)], capture_output=True, check=False)
    if done.returncode != 0:
        yield False
        return
    try:
        (mount / "ballast").write_bytes(b"\0" * (taken_kib << 10))
        yield True
    finally:
        subprocess.run(["umount", str(mount)], check=False)


def write_inputs(directory: Path) -> tuple[Path, Path]:
    """The scenario file and a keys folder shared by every run."""
    scenario = write_small_scenario(directory / "small.toml", airliners=40, noncooperative=3,
                                    duration_s=DURATION_S)
    keys = directory / "keys"
    keys.mkdir()
    for nation in NATIONS:
        key = new_private_key()
        (keys / f"{nation}.key").write_bytes(private_key_pem(key))
        (keys / f"{nation}.pub").write_bytes(public_key_pem(key.public_key()))
    return scenario, keys


@dataclasses.dataclass
class Outcome:
    """What a run left: per nation its final status, epoch hashes and recording folder; the
    log's ``(sender, seq)`` in log order."""

    status: dict[str, dict[str, Any]]
    hashes: dict[str, list[str]]
    recordings: dict[str, Path]
    log: list[tuple[str, int]]
    logs: str
    held_chunks: int = 0
    """Chunks a delaying proxy held (its case only)."""
    disk_full: bool = False
    """Whether JPN recorded on a disk that filled (its case only)."""


class Coalition:
    """One run (see the module docstring); ``urls`` maps a nation to the bus URL it uses
    (default: the server's; a test points one at a proxy)."""

    def __init__(self, directory: Path, scenario: Path, keys: Path) -> None:
        self.dir = directory
        self.dir.mkdir(parents=True, exist_ok=True)
        self.scenario, self.keys = scenario, keys
        self.server = Server(directory / "nats")
        self.server.start()
        self.urls: dict[str, str] = {}
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.recordings = {n: directory / f"rec-{n}" for n in NATIONS}

    def start(self, nation: str, *extra: str) -> None:
        with (self.dir / f"{nation}.log").open("ab") as log:
            self.procs[nation] = subprocess.Popen(
                [sys.executable, "-m", "airpicture.cli.main", "node", "--nation", nation,
                 "--bus", self.urls.get(nation, self.server.url), "--keys", str(self.keys),
                 "--scenario", str(self.scenario), "--hashes", str(self.dir / f"{nation}.h"),
                 "--record", str(self.recordings[nation]), *COMMON, *extra],
                cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )

    def start_all(self, extra: dict[str, tuple[str, ...]] | None = None) -> None:
        for nation in NATIONS:
            self.start(nation, *(extra or {}).get(nation, ()))

    def kill9(self, nation: str) -> None:
        self.procs[nation].send_signal(signal.SIGKILL)
        self.procs[nation].wait(10)

    def envelopes(self) -> list[tuple[str, int]]:
        """``(sender, seq)`` of every record of the log now, in log order."""
        bus = open_bus(self.server.url)
        try:
            sub = bus.subscribe("coalition")
            out = []
            while batch := sub.fetch(4096, 0.3):
                for record in batch:
                    env = decode_msgpack(record.data, Envelope)
                    out.append((env.sender, env.seq))
            sub.close()
            return out
        finally:
            bus.close()

    def wait_published(self, nation: str, count: int, timeout: float = 400.0) -> None:
        """Until the log holds ``count`` envelopes of ``nation`` (read as they come)."""
        deadline = time.monotonic() + timeout
        bus = open_bus(self.server.url)
        try:
            sub = bus.subscribe("coalition")
            seen = 0
            while seen < count:
                assert time.monotonic() < deadline, f"{nation} never published {count}"
                assert all(p.poll() in (None, 0) for p in self.procs.values()), self.logs()
                seen += sum(decode_msgpack(r.data, Envelope).sender == nation
                            for r in sub.fetch(4096, 0.2))
            sub.close()
        finally:
            bus.close()

    def finish(self, timeout: float = 600.0) -> Outcome:
        deadline = time.monotonic() + timeout
        for nation, proc in self.procs.items():
            rc = proc.wait(max(deadline - time.monotonic(), 1.0))
            assert rc == 0, f"{nation} exited {rc}:\n{self.logs()}"
        status = {n: json.loads((self.dir / f"{n}.log").read_text().splitlines()[-1])
                  for n in NATIONS}
        hashes = {n: (self.dir / f"{n}.h").read_text().splitlines() for n in NATIONS}
        return Outcome(status, hashes, self.recordings, self.envelopes(), self.logs())

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text()[-2500:]}"
                         for p in sorted(self.dir.glob("*.log")))

    def close(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
        self.server.stop()
