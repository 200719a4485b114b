"""Four node processes over a real NATS JetStream server (started here on a free port): the
same picture hash at every epoch on every node, with one node killed and restarted mid-run
(it rebuilds the picture from JetStream and resumes). (The 60 s link outage is tested in
process, in test_embedded.py, where the STN bindings can be checked epoch by epoch.)"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from airpicture.security import new_private_key, private_key_pem, public_key_pem

from ..bus.nats_server import NatsServer
from .scenarios import write_small_scenario

NATIONS = ("JPN", "AUS", "USA", "PHL")
DURATION_S = 120.0


def _keys(directory: Path) -> Path:
    directory.mkdir()
    for nation in NATIONS:
        key = new_private_key()
        (directory / f"{nation}.key").write_bytes(private_key_pem(key))
        (directory / f"{nation}.pub").write_bytes(public_key_pem(key.public_key()))
    return directory


def _hashes(path: Path) -> dict[float, str]:
    out = {}
    for line in path.read_text().splitlines():
        t, h = line.split()
        out[float(t)] = h
    return out


@pytest.fixture
def server(tmp_path: Path):  # type: ignore[no-untyped-def]
    srv = NatsServer(tmp_path / "js")
    srv.start()
    yield srv
    srv.stop()


def test_four_processes_same_picture_with_a_restart(
    server: NatsServer, tmp_path: Path
) -> None:
    scenario = write_small_scenario(tmp_path / "small.toml", airliners=120, noncooperative=8,
                                    duration_s=DURATION_S)
    keys = _keys(tmp_path / "keys")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}

    def start(nation: str, *extra: str) -> subprocess.Popen[bytes]:
        with (tmp_path / f"{nation}.log").open("ab") as log:
            return subprocess.Popen(
                [sys.executable, "-m", "airpicture.cli.main", "node", "--nation", nation,
                 "--bus", server.url, "--keys", str(keys), "--scenario", str(scenario),
                 "--seed", "3", "--hashes", str(tmp_path / f"{nation}.hashes"), "--json",
                 "--stall", "15", "--linger", "90", *extra],
                stdout=log, stderr=subprocess.STDOUT, env=env,
            )

    procs = {n: start(n) for n in NATIONS}
    try:
        # Kill JPN once it has published a good part of the run, then restart it.
        deadline = time.monotonic() + 120.0
        killed = False
        while time.monotonic() < deadline:
            if any(p.poll() not in (None, 0) for p in procs.values()):
                break
            if _published_enough(server, "JPN"):
                procs["JPN"].send_signal(signal.SIGKILL)
                procs["JPN"].wait(10)
                killed = True
                break
            time.sleep(2.0)
        assert killed, _logs(tmp_path)
        procs["JPN"] = start("JPN")
        for nation, proc in procs.items():
            assert proc.wait(240) == 0, f"{nation} failed:\n{_logs(tmp_path)}"
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
    assert "resuming after" in (tmp_path / "JPN.log").read_text()
    final = [json.loads((tmp_path / f"{n}.log").read_text().splitlines()[-1]) for n in NATIONS]
    for status in final:
        assert status["envelopes_rejected"] == {}
        assert {link["state"] for link in status["links"].values()} == {"ended"}
    hashes = {n: _hashes(tmp_path / f"{n}.hashes") for n in NATIONS}
    times = set.intersection(*(set(h) for h in hashes.values()))
    assert len(times) >= DURATION_S - 5
    for nation in NATIONS[1:]:
        assert hashes[nation] == hashes["JPN"], nation


def _published_enough(server: NatsServer, nation: str) -> bool:
    """Whether the coalition log holds at least 30 releases (about 30 s) of ``nation``."""
    from airpicture.bus import open_bus
    from airpicture.messages import Envelope, decode_msgpack

    bus = open_bus(server.url)
    try:
        sub = bus.subscribe("coalition")
        count = 0
        while True:
            records = sub.fetch(4096, 0.2)
            if not records:
                break
            for r in records:
                if decode_msgpack(r.data, Envelope).sender == nation:
                    count += 1
        sub.close()
        return count >= 30
    finally:
        bus.close()


def _logs(tmp_path: Path) -> str:
    return "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}" for p in tmp_path.glob("*.log"))
