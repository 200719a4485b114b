"""The bus over a real NATS JetStream server started by this module on a free port."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import numpy as np
import pytest

from airpicture.bus.jetstream import NatsBus
from airpicture.fusion import Picture, local_tracks_to_table, table_to_local_tracks
from airpicture.messages import LocalTrack, decode_msgpack, encode_msgpack
from airpicture.security import Sealer, Verifier, new_private_key

from ..fusion.synth import coalition, log
from .nats_server import NatsServer


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsServer]:
    srv = NatsServer(tmp_path_factory.mktemp("jetstream"))
    srv.start()
    yield srv
    srv.stop()


def test_ordered_deduplicated_and_durable(server: NatsServer) -> None:
    with NatsBus(server.url) as bus:
        seqs = [bus.publish("t1", b"%d" % i, f"JPN.t1.{i}") for i in range(20)]
        assert seqs == list(range(1, 21))
        assert bus.publish("t1", b"retry", "JPN.t1.7") == 8  # Nats-Msg-Id de-duplication
        sub = bus.subscribe("t1", durable="reader")
        first = sub.fetch(8, timeout=2.0)
        sub.close()
    # The consumer restarts on a new connection mid-stream and carries on where it was.
    with NatsBus(server.url) as bus:
        sub = bus.subscribe("t1", durable="reader")
        rest: list = []
        while len(first) + len(rest) < 20:
            got = sub.fetch(100, timeout=2.0)
            assert got, "stream ran dry early"
            rest += got
        assert [r.seq for r in first + rest] == list(range(1, 21))
        fresh = bus.subscribe("t1").fetch(100, timeout=2.0)
        assert [(r.seq, r.msg_id, r.data) for r in fresh] == [
            (r.seq, r.msg_id, r.data) for r in first + rest
        ]
        assert [r.data for r in fresh] == [b"%d" % i for i in range(20)]


def test_reconnects_with_backoff_and_loses_nothing(server: NatsServer) -> None:
    with NatsBus(server.url, backoff_s=0.05, max_backoff_s=0.5) as bus:
        bus.publish("t2", b"before", "a")
        server.stop()
        restart = threading.Timer(1.0, server.start)
        restart.start()
        seq = bus.publish("t2", b"during", "b")  # retried until the server is back
        restart.join()
        assert seq == 2 and bus.reconnects >= 1
        assert bus.publish("t2", b"during", "b") == 2  # still de-duplicated after restart
        assert [r.data for r in bus.subscribe("t2").fetch(10, 2.0)] == [b"before", b"during"]


def read_picture(url: str, partners: dict, durable: str | None, stop_after: int | None = None):  # type: ignore[no-untyped-def]
    """A node's read side: verify, decode, fuse; returns epoch hashes (and records read)."""
    verifier, picture = Verifier(partners), Picture()
    hashes: list[str] = []
    seen = 0
    with NatsBus(url) as bus:
        sub = bus.subscribe("t3", durable=durable)
        while True:
            batch = sub.fetch(64, timeout=1.0)
            if not batch:
                break
            for rec in batch:
                env = verifier.accept(rec.data)
                if env is not None:
                    tracks = decode_msgpack(env.payload, list[LocalTrack])
                    hashes += [r.hash for r in picture.ingest(local_tracks_to_table(tracks))]
                seen += 1
            if stop_after is not None and seen >= stop_after:
                break
        sub.close()
    return hashes + [r.hash for r in picture.flush()], seen


def test_nodes_reading_the_same_stream_hold_the_same_picture(server: NatsServer) -> None:
    c = coalition(60, seed=5)
    keys = {n.decode(): new_private_key() for n in c.nations}
    sealers = {n: Sealer(n, k) for n, k in keys.items()}
    partners = {n: k.public_key() for n, k in keys.items()}
    with NatsBus(server.url) as bus:
        for rec in log(c, 12, seed=6):
            nation = rec.source[0].decode()
            data = sealers[nation].seal(
                "t3", float(rec.time[0]), "local_tracks", encode_msgpack(table_to_local_tracks(rec))
            )
            bus.publish("t3", data, f"{nation}.t3.{time.monotonic_ns()}")
    a, n = read_picture(server.url, partners, durable=None)
    b, _ = read_picture(server.url, partners, durable=None)
    assert n == 48 and len(a) == 12 and a == b
    # A node that stops half way and restarts from the stream's start rebuilds the same.
    partial, _ = read_picture(server.url, partners, durable="node-x", stop_after=20)
    assert partial[: len(partial) - 1] == a[: len(partial) - 1]
    rebuilt, _ = read_picture(server.url, partners, durable=None)
    assert rebuilt == a
    assert np.unique(a).size == len(a)


def test_a_reader_stalled_past_the_idle_limit_loses_nothing(server: NatsServer) -> None:
    """The server drops an ephemeral consumer nobody pulled from for ``idle_consumer_s``;
    the subscription finds it gone and carries on from the next record."""
    with NatsBus(server.url, idle_consumer_s=1.0) as bus:
        sub = bus.subscribe("stall")
        bus.publish("stall", b"first", "m1")
        assert [r.data for r in sub.fetch(10, 2.0)] == [b"first"]
        time.sleep(4.0)  # a node busy elsewhere: the server removes the consumer
        for i in range(2, 6):
            bus.publish("stall", f"rec{i}".encode(), f"m{i}")
        got: list[bytes] = []
        deadline = time.monotonic() + 15.0
        while len(got) < 4 and time.monotonic() < deadline:
            got += [r.data for r in sub.fetch(10, 0.5)]
        assert got == [b"rec2", b"rec3", b"rec4", b"rec5"]
        assert sub.recreated == 1
