"""Hostile input against a real ``airpicture node`` process, read back from its status.

A ``nats-server`` on a free 127.0.0.1 port holds, before JPN's node starts, a log of
partner traffic the test wrote: genuine AUS envelopes, replays of them, tampered copies,
forgeries (USA's name, AUS's key), an unknown sender, garbage bytes and an envelope for
another audience; the genuine ones are of a kind the node does not fuse, or a batch whose tracks are
later than its envelope. The node reads its
plots from a recorded run with rows no sensor made and rows with no time, and records. What
must hold: the node runs to the end, accepts only
the genuine envelopes, and its final status (``--json``) counts every rejection by reason,
per sender, exactly as many as were sent; the refused plots are counted by reason; the
recorder's counters equal what reads back from its recording.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import msgspec
import numpy as np
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from airpicture.bus import open_bus
from airpicture.io.parquet import read_table, write_table
from airpicture.io.recorder import read_recording
from airpicture.messages import Envelope, decode_msgpack, encode_msgpack
from airpicture.node import NodeStatus
from airpicture.node.wire import KIND_BATCH, encode_batches
from airpicture.plot_table import PlotTable
from airpicture.policy import LocalTrackColumns
from airpicture.security import Sealer, new_private_key, private_key_pem, public_key_pem
from airpicture.track_table import TrackTable

from ..faults.servers import Server
from ..node.scenarios import write_small_scenario

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
NATIONS = ("JPN", "AUS", "USA", "PHL")


def tampered(data: bytes) -> bytes:
    """The envelope with one more payload byte, its signature kept."""
    env = decode_msgpack(data, Envelope)
    changed: bytes = encode_msgpack(msgspec.structs.replace(env, payload=env.payload + b"\x00"))
    return changed


def hostile_log(t0: float, keys: dict[str, Ed25519PrivateKey]
                ) -> tuple[list[bytes], dict[str, int], dict[str, int]]:
    """The records, the rejections they must cause by reason, and by sender."""
    aus = Sealer("AUS", keys["AUS"])
    genuine = [aus.seal("coalition", t0 + i, "weather", encode_msgpack([]), 0)
               for i in range(3)]  # genuine, of a kind the node does not fuse
    # Genuine too, but its tracks claim a time 10,000 s after their envelope's (they would
    # make the node close ten thousand epochs): rejected whole.
    ahead = TrackTable.blank(2)
    ahead = TrackTable(**{**ahead.columns(), "time": np.full(2, t0 + 10_000.0),
                          "track": np.array([1, 2]), "source": np.full(2, b"AUS", "S16")})
    ((payload, _),) = encode_batches(LocalTrackColumns(
        ahead, np.zeros(2, np.uint64), np.ones((2, 1)), ahead.time, ()), "AUS", chunk=10)
    genuine.append(aus.seal("coalition", t0 + 3, KIND_BATCH, payload, 2))
    forger = Sealer("USA", keys["AUS"])
    mallory = Sealer("MALLORY", new_private_key())
    other = Sealer("AUS", keys["AUS"], start_seq={"other": 0})
    records = [
        *genuine,
        genuine[1], genuine[2],                              # replayed
        *(tampered(d) for d in genuine[:3]),                 # bad_signature
        *(forger.seal("coalition", t0, "local_tracks", b"\x90", 0) for _ in range(2)),
        *(mallory.seal("coalition", t0, "local_tracks", b"\x90", 0) for _ in range(4)),
        b"\x00garbage", b"\xdd\xff\xff\xff\xff", b"",         # malformed
        other.seal("other", t0, "local_tracks", b"\x90", 0),  # wrong_audience
    ]
    reasons = {"replayed": 2, "bad_signature": 3, "impersonation": 2, "unknown_sender": 4,
               "malformed": 3, "wrong_audience": 1}
    senders = {"AUS": 2 + 3 + 1, "USA": 2}
    return records, reasons, senders


def test_a_real_node_counts_every_rejection_in_its_status(tmp_path: Path) -> None:
    scenario = write_small_scenario(tmp_path / "small.toml", airliners=40, noncooperative=2,
                                    duration_s=20.0)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    run = tmp_path / "run"
    subprocess.run([sys.executable, "-m", "airpicture.cli.main", "simulate", "--scenario",
                    str(scenario), "--seed", "2", "--out", str(run)],
                   check=True, capture_output=True, env=env)
    plots = read_table(run / "plots.parquet", PlotTable)
    bad = PlotTable.concat([plots.take(np.arange(3)), plots.take(np.arange(3, 5))])
    bad.sensor[:3] = [999, -1, 10_000]
    bad.time[3:] = np.nan
    write_table(run / "plots.parquet", PlotTable.concat([plots, bad]))
    t0 = float(np.nanmin(plots.time))

    keys_dir = tmp_path / "keys"
    keys_dir.mkdir()
    keys = {n: new_private_key() for n in NATIONS}
    (keys_dir / "JPN.key").write_bytes(private_key_pem(keys["JPN"]))
    for n, k in keys.items():
        (keys_dir / f"{n}.pub").write_bytes(public_key_pem(k.public_key()))
    records, reasons, senders = hostile_log(t0, keys)

    with Server(tmp_path / "nats") as server:
        bus = open_bus(server.url)
        for i, data in enumerate(records):
            bus.publish("coalition", data, f"hostile-{i}")
        bus.close()
        done = subprocess.run(
            [sys.executable, "-m", "airpicture.cli.main", "node", "--nation", "JPN",
             "--bus", server.url, "--keys", str(keys_dir), "--plots", str(run), "--json",
             "--startup", "0", "--linger", "0", "--max-lead", "1e9",
             "--record", str(tmp_path / "rec")],
            capture_output=True, env=env, timeout=300, cwd=ROOT,
        )
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    status = json.loads(done.stdout.decode().splitlines()[-1])
    assert status["envelopes_rejected"] == reasons
    assert status["links"]["AUS"]["accepted"] == 4
    assert status["reports_rejected"] == {"unknown_kind": 3, "batch_after_envelope": 1}
    for nation in NATIONS[1:]:
        assert status["links"][nation]["rejected"] == senders.get(nation, 0), nation
    assert status["log_records"] == len(records) + status["published"]
    assert status["feeds_rejected"] == {"unknown_sensor": 3, "bad_time": 2}
    flat = NodeStatus(**status).rejections()  # what the node prints: every class, one map
    assert flat == {**{f"envelope: {r}": n for r, n in reasons.items()},
                    **{f"plot: {r}": n for r, n in status["plots_rejected"].items()},
                    "feed: unknown_sensor": 3, "feed: bad_time": 2,
                    "report: unknown_kind": 3, "report: batch_after_envelope": 1}
    recorder = status["recorder"]
    assert recorder["picture_failures"] == recorder["picture_pending"] == 0
    sensors, rec_plots, local, picture = read_recording(tmp_path / "rec")
    assert [s.nation for s in sensors] == ["JPN"] * len(sensors)
    assert len(rec_plots) == recorder["plots_rows"] > 0
    assert len(local) == recorder["local_tracks_rows"] > 0
    assert len(picture) == recorder["picture_rows"] > 0
    # One record per epoch with a picture: its tracks all carry the epoch's time.
    assert len(np.unique(picture.time)) == recorder["picture_records"] <= status["epochs"]
