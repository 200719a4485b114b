"""Fusion benchmark: N nations x M tracks each, 1 s epochs, in process and over NATS.

    .venv/bin/python benchmarks/fusion.py [--nations 4] [--tracks 10000] [--epochs 8]
                                          [--nats-epochs 4] [--no-nats]

Every nation reports every object once per second (a local track with its covariance,
errors drawn from it). In process, the epoch processing time is the time of the ingest calls
of one epoch's records, including validation and the closing of the epoch (association, CI
fusion, numbering, hash); ``epoch_cpu`` is the process CPU time of the same, which other load
on a shared machine disturbs less. The first epoch, which associates every track from scratch, is
shown apart. Over NATS (a ``nats-server`` started here on a free port), each nation's batch
is converted to ``LocalTrack`` messages, sealed in signed envelopes of at most
``--chunk`` tracks, published on JetStream, pulled, verified, decoded and fused; latency is
from the publication of the record that closes an epoch to that epoch's picture.

Prints a table, then one JSON line.
"""

from __future__ import annotations

import argparse
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import numpy as np

from airpicture import geo
from airpicture.fusion import FusionConfig, Picture, local_tracks_to_table, table_to_local_tracks
from airpicture.messages import LocalTrack, decode_msgpack, encode_msgpack
from airpicture.security import Sealer, Verifier, new_private_key
from airpicture.track_table import TrackTable

T0 = 1_700_000_000.0


class Scene:
    def __init__(self, nations: int, tracks: int, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self.rng = rng
        self.names = [f"N{i:02d}".encode() for i in range(nations)]
        llh = np.stack(
            [
                np.radians(rng.uniform(0.0, 40.0, tracks)),
                np.radians(rng.uniform(110.0, 150.0, tracks)),
                rng.uniform(1000.0, 12000.0, tracks),
            ],
            axis=1,
        )
        speed, heading = rng.uniform(150, 250, tracks), rng.uniform(0, 2 * np.pi, tracks)
        enu = np.stack([speed * np.sin(heading), speed * np.cos(heading), 0 * speed], axis=1)
        self.x0 = geo.geodetic2ecef(llh)
        self.v = geo.enu2ecefv(enu, llh[:, :2])
        a = rng.normal(size=(nations, tracks, 6, 6)) * 0.3
        self.P = a @ a.transpose(0, 1, 3, 2) + np.diag([200.0**2] * 3 + [10.0**2] * 3)
        self.L = np.linalg.cholesky(self.P)
        self.ids = [rng.permutation(tracks).astype(np.int64) + 1 for _ in range(nations)]

    def record(self, nation: int, t: float) -> TrackTable:
        n = len(self.x0)
        truth = np.concatenate([self.x0 + self.v * (t - T0), self.v], axis=1)
        err = (self.L[nation] @ self.rng.normal(size=(n, 6, 1)))[..., 0]
        cols = TrackTable.blank(n).columns()
        cols.update(
            time=np.full(n, t),
            track=self.ids[nation],
            source=np.full(n, self.names[nation], "S16"),
            state=truth + err,
            covariance=self.P[nation],
            quality=np.full(n, 0.9),
        )
        return TrackTable(**cols)

    def epoch(self, k: int) -> list[TrackTable]:
        return [self.record(i, T0 + k + 0.2 + 0.05 * i) for i in range(len(self.names))]


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q)) if values else float("nan")


def warm_up() -> None:
    """Compile (or load) the Numba kernels before anything is timed."""
    small = Scene(2, 50, seed=9)
    picture = Picture(FusionConfig())
    for k in range(3):
        for rec in small.epoch(k):
            picture.ingest(rec)


def in_process(scene: Scene, epochs: int) -> dict[str, float]:
    picture = Picture(FusionConfig())
    times: list[float] = []
    cpu: list[float] = []
    first = float("nan")
    for k in range(epochs + 1):
        records = scene.epoch(k)
        start, start_cpu = time.perf_counter(), time.process_time()
        closed = []
        for rec in records:
            closed += picture.ingest(rec)
        elapsed = time.perf_counter() - start
        if closed and np.isnan(first):
            first = elapsed
        elif closed:
            times.append(elapsed)
            cpu.append(time.process_time() - start_cpu)
    return {
        "first_epoch_ms": first * 1e3,
        "epoch_p50_ms": pct(times, 50) * 1e3,
        "epoch_p99_ms": pct(times, 99) * 1e3,
        "epoch_max_ms": max(times) * 1e3,
        "epoch_cpu_p50_ms": pct(cpu, 50) * 1e3,
        "epochs": len(times),
        "system_tracks": len(picture.state.systems),
    }


def over_nats(scene: Scene, epochs: int, chunk: int) -> dict[str, float] | None:
    binary = shutil.which("nats-server") or "/usr/sbin/nats-server"
    if shutil.which(binary) is None:
        return None
    from airpicture.bus.jetstream import NatsBus

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    store = tempfile.mkdtemp(prefix="airpicture-bench-")
    server = subprocess.Popen(
        [binary, "-js", "-a", "127.0.0.1", "-p", str(port), "-sd", store],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(0.5)
        keys = {n: new_private_key() for n in scene.names}
        sealers = {n: Sealer(n.decode(), k) for n, k in keys.items()}
        verifier = Verifier({n.decode(): k.public_key() for n, k in keys.items()})
        picture = Picture(FusionConfig())
        send, recv, fuse, latency = [], [], [], []
        with NatsBus(f"nats://127.0.0.1:{port}") as bus:
            sub = bus.subscribe("bench")
            for k in range(epochs + 1):
                t_send = time.perf_counter()
                for rec in scene.epoch(k):
                    msgs = table_to_local_tracks(rec)
                    name = rec.source[0]
                    items = []
                    for i in range(0, len(msgs), chunk):
                        part = msgs[i : i + chunk]
                        data = sealers[name].seal(
                            "bench", float(rec.time[0]), "local_tracks", encode_msgpack(part)
                        )
                        items.append((data, f"{name.decode()}.{k}.{i}"))
                    bus.publish_many("bench", items)
                published = time.perf_counter()
                send.append(published - t_send)
                t_recv, t_fuse, closed_at = 0.0, 0.0, None
                expected = len(scene.names) * -(-len(scene.x0) // chunk)
                got = 0
                while got < expected:
                    batch = sub.fetch(64, timeout=5.0)
                    if not batch:
                        raise RuntimeError("NATS stream ran dry")
                    for record in batch:
                        t1 = time.perf_counter()
                        env = verifier.verify(record.data)
                        table = local_tracks_to_table(decode_msgpack(env.payload, list[LocalTrack]))
                        t2 = time.perf_counter()
                        if picture.ingest(table):
                            closed_at = time.perf_counter()
                        t3 = time.perf_counter()
                        t_recv += t2 - t1
                        t_fuse += t3 - t2
                        got += 1
                if k >= 2:  # epoch 0 closes nothing; epoch 1 associates from scratch
                    recv.append(t_recv)
                    fuse.append(t_fuse)
                    if closed_at is not None:
                        latency.append(closed_at - published)
    finally:
        server.terminate()
        server.wait(10)
        shutil.rmtree(store, ignore_errors=True)
    return {
        "send_ms": pct(send[2:], 50) * 1e3,
        "receive_verify_decode_ms": pct(recv, 50) * 1e3,
        "fuse_ms": pct(fuse, 50) * 1e3,
        "latency_p50_ms": pct(latency, 50) * 1e3,
        "latency_p99_ms": pct(latency, 99) * 1e3,
        "epochs": len(recv),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nations", type=int, default=4)
    parser.add_argument("--tracks", type=int, default=10_000)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--nats-epochs", type=int, default=4)
    parser.add_argument("--chunk", type=int, default=1000, help="tracks per envelope")
    parser.add_argument("--no-nats", action="store_true")
    args = parser.parse_args(argv)
    warm_up()
    scene = Scene(args.nations, args.tracks)
    local = in_process(scene, args.epochs)
    nats = None
    if not args.no_nats:
        nats = over_nats(Scene(args.nations, args.tracks, 1), args.nats_epochs, args.chunk)
    print(f"fusion: {args.nations} nations x {args.tracks} tracks, 1 s epochs")
    print(f"{'measure':<44}{'value':>12}")
    rows = [("in-process " + k, v) for k, v in local.items()]
    if nats is None:
        rows.append(("over NATS", "skipped (no nats-server)"))
    else:
        rows += [("NATS " + k, v) for k, v in nats.items()]
    for name, value in rows:
        shown = f"{value:12.1f}" if isinstance(value, float) else f"{value!s:>12}"
        print(f"{name:<44}{shown}")
    goal = local["epoch_p50_ms"] <= 100.0
    print(f"goal epoch <= 100 ms in process: {'met' if goal else 'NOT met'} (p50 wall time)")
    summary = {
        "nations": args.nations,
        "tracks_per_nation": args.tracks,
        "in_process": local,
        "nats": nats,
        "goal_epoch_ms": 100.0,
        "goal_met": goal,
    }
    print(json.dumps(summary, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
