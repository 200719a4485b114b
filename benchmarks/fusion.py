"""Fusion benchmark: N nations x M tracks each, 1 s epochs, in process and over NATS.

    .venv/bin/python benchmarks/fusion.py [--nations 4] [--tracks 10000] [--epochs 8]
                                          [--nats-epochs 20] [--chunk 1000] [--no-nats]

Every nation reports every object once per second (a local track with its covariance,
errors drawn from it), as its tracker would hand its release to the node.

**Epoch processing time** (in process): the time of the ``Picture.ingest`` calls of one
epoch's records, including validation and the closing of the epoch (association, CI fusion,
numbering, hash); ``epoch_cpu`` is the process CPU time of the same (all threads), which other
load on a shared machine disturbs less. The first epoch, which associates every track from
scratch, is shown apart.

**Latency, plot in -> picture out**: the data of a scan of data time ``t`` is handed in at
wall time ``W(t)``; from then the nation's node applies its release, encodes the columnar
``LocalTrackBatch`` payloads of at most ``--chunk`` tracks, signs and publishes them; the
fusing node pulls, verifies, decodes and fuses. An epoch's picture can come out no earlier
than the hand-in of the scan that moves the watermark past the epoch's end (data time
``end + lateness_s``): latency is the wall time from that hand-in to the epoch's picture out
on the fusing node. (A plot's whole age at picture out adds its wait for the epoch's end,
at most ``epoch_s + lateness_s`` of data time, set by configuration, not by processing. The
local tracker's own time per scan is measured by ``benchmarks/tracker.py``, not here.)

- *In process*: one in-process bus; every record is read, verified, decoded and fused right
  after its publication; ``W(t)`` is when the nation starts its release.
- *Over NATS* (a ``nats-server`` started here on a free port): a second process publishes
  the four nations' scans paced on the wall clock (``W(t) = w0 + t - t0``, live mode), this
  process fuses them from JetStream as they come. The first two epochs (association from
  scratch) are left out of the figures.

Prints a table, then one JSON line.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import numpy as np
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from airpicture import geo
from airpicture.bus import Bus, InProcessBus
from airpicture.bus.jetstream import NatsBus
from airpicture.fusion import FusionConfig, Picture
from airpicture.node.wire import KIND_BATCH, decode_batch, encode_batches
from airpicture.policy import LocalTrackColumns
from airpicture.security import Sealer, Verifier
from airpicture.track_table import TrackTable

T0 = 1_700_000_000.0
AUDIENCE = "bench"


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


def columns(rec: TrackTable) -> LocalTrackColumns:
    """A nation's release as its node holds it: three IMM modes, one contributing sensor."""
    n = len(rec)
    mu = np.full((n, 3), 1.0 / 3.0)
    return LocalTrackColumns(rec, np.ones(n, np.uint64), mu, rec.time - 0.5, ("S1",))


def publish(sealer: Sealer, bus: Bus, rec: TrackTable, chunk: int) -> None:
    """A nation's release of one scan: encode, sign and publish its batches."""
    nation = sealer.nation
    items = []
    for payload, count in encode_batches(columns(rec), nation, chunk):
        data = sealer.seal(AUDIENCE, float(rec.time[0]), KIND_BATCH, payload, count)
        items.append((data, f"{nation}-{hashlib.blake2b(data, digest_size=12).hexdigest()}"))
    if isinstance(bus, NatsBus):
        bus.publish_many(AUDIENCE, items)
    else:
        for data, msg_id in items:
            bus.publish(AUDIENCE, data, msg_id)


class Fuser:
    """The receiving node: verify, decode, fuse; latency per closed epoch."""

    def __init__(self, keys: dict[str, Ed25519PrivateKey]) -> None:
        self.verifier = Verifier({n: k.public_key() for n, k in keys.items()}, [AUDIENCE])
        self.picture = Picture(FusionConfig())
        self.receive_s = 0.0
        self.fuse_s = 0.0
        self.rejected = 0
        self.closed: list[tuple[float, float, float]] = []
        """(closing record's data time, wall time its epoch came out, fuse CPU s)."""

    def take(self, data: bytes) -> None:
        t0 = time.perf_counter()
        env = self.verifier.verify(data)
        table, dropped = decode_batch(env.payload, env.sender, env.time)
        self.rejected += sum(dropped.values())
        t1, c1 = time.perf_counter(), time.process_time()
        epochs = self.picture.ingest(table)
        self.receive_s += t1 - t0
        self.fuse_s += time.perf_counter() - t1
        if epochs:
            self.closed.append((env.time, time.time(), time.process_time() - c1))


def keys_for(nations: int) -> dict[str, Ed25519PrivateKey]:
    """Each nation's signing key (deterministic: the sender and the fuser derive the same)."""
    names = [f"N{i:02d}".encode() for i in range(nations)]
    return {n.decode(): Ed25519PrivateKey.from_private_bytes(hashlib.sha256(n).digest())
            for n in names}


def latency_in_process(scene: Scene, epochs: int, chunk: int) -> dict[str, float]:
    keys = keys_for(len(scene.names))
    sealers = {n: Sealer(n, k) for n, k in keys.items()}
    fuser = Fuser(keys)
    bus = InProcessBus()
    sub = bus.subscribe(AUDIENCE)
    latency = []
    for k in range(epochs + 1):
        for rec in scene.epoch(k):
            handed_in = time.time()
            before = len(fuser.closed)
            publish(sealers[rec.source[0].decode()], bus, rec, chunk)
            for record in sub.fetch(1 << 20):
                fuser.take(record.data)
            if len(fuser.closed) > before and k >= 2:
                latency.append(fuser.closed[-1][1] - handed_in)
    return {"latency_p50_ms": pct(latency, 50) * 1e3, "latency_p99_ms": pct(latency, 99) * 1e3,
            "latency_max_ms": max(latency) * 1e3, "epochs": len(latency)}


def sender(url: str, nations: int, tracks: int, epochs: int, chunk: int, w0: float) -> int:
    """The publishing process: every nation's scans, paced on the wall clock from ``w0``."""
    scene = Scene(nations, tracks, 1)
    sealers = {n: Sealer(n, k) for n, k in keys_for(nations).items()}
    spent = []
    with NatsBus(url) as bus:
        for k in range(epochs + 1):
            for rec in scene.epoch(k):
                time.sleep(max(0.0, w0 + float(rec.time[0]) - T0 - time.time()))
                c0 = time.process_time()
                publish(sealers[rec.source[0].decode()], bus, rec, chunk)
                spent.append(time.process_time() - c0)
    print(json.dumps({"send_cpu_p50_ms": pct(spent, 50) * 1e3}), flush=True)
    return 0


def over_nats(tracks: int, nations: int, epochs: int, chunk: int) -> dict[str, float] | None:
    binary = shutil.which("nats-server") or "/usr/sbin/nats-server"
    if shutil.which(binary) is None:
        return None
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    store = tempfile.mkdtemp(prefix="airpicture-bench-")
    server = subprocess.Popen(
        [binary, "-js", "-a", "127.0.0.1", "-p", str(port), "-sd", store],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"nats://127.0.0.1:{port}"
    fuser = Fuser(keys_for(nations))
    try:
        time.sleep(0.5)
        with NatsBus(url) as bus:
            sub = bus.subscribe(AUDIENCE)
            w0 = time.time() + 3.0  # the sender's start-up (imports, scene) fits in this
            args = [str(a) for a in (url, nations, tracks, epochs, chunk, repr(w0))]
            proc = subprocess.Popen([sys.executable, __file__, "--sender", *args],
                                    stdout=subprocess.PIPE, text=True)
            expected = nations * (epochs + 1) * -(-tracks // chunk)
            got = 0
            while got < expected:
                batch = sub.fetch(64, timeout=30.0)
                if not batch:
                    raise RuntimeError("NATS stream ran dry")
                for record in batch:
                    fuser.take(record.data)
                    got += 1
            out, _ = proc.communicate(timeout=60)
    finally:
        server.terminate()
        server.wait(10)
        shutil.rmtree(store, ignore_errors=True)
    closed = fuser.closed[1:]  # the first epoch associates every track from scratch
    latency = [out_at - (w0 + t - T0) for t, out_at, _ in closed]
    return {
        **json.loads(out.splitlines()[-1]),
        "receive_verify_decode_ms_per_epoch": fuser.receive_s / max(len(fuser.closed), 1) * 1e3,
        "fuse_cpu_p50_ms": pct([c for _, _, c in closed], 50) * 1e3,
        "latency_p50_ms": pct(latency, 50) * 1e3,
        "latency_p99_ms": pct(latency, 99) * 1e3,
        "latency_max_ms": max(latency) * 1e3,
        "batches_rejected": fuser.rejected,
        "epochs": len(latency),
    }


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--sender"]:
        url, nations, tracks, epochs, chunk, w0 = argv[1:]
        return sender(url, int(nations), int(tracks), int(epochs), int(chunk), float(w0))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nations", type=int, default=4)
    parser.add_argument("--tracks", type=int, default=10_000)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--nats-epochs", type=int, default=20)
    parser.add_argument("--chunk", type=int, default=1000, help="tracks per envelope")
    parser.add_argument("--no-nats", action="store_true")
    args = parser.parse_args(argv)
    warm_up()
    scene = Scene(args.nations, args.tracks)
    local = in_process(scene, args.epochs)
    local_latency = latency_in_process(Scene(args.nations, args.tracks, 2), args.epochs, args.chunk)
    nats = None
    if not args.no_nats:
        nats = over_nats(args.tracks, args.nations, args.nats_epochs, args.chunk)
    print(f"fusion: {args.nations} nations x {args.tracks} tracks, 1 s epochs")
    print(f"{'measure':<44}{'value':>12}")
    rows = [("in-process " + k, v) for k, v in {**local, **local_latency}.items()]
    if nats is None:
        rows.append(("over NATS", "skipped (no nats-server)"))
    else:
        rows += [("NATS " + k, v) for k, v in nats.items()]
    for name, value in rows:
        shown = f"{value:12.1f}" if isinstance(value, float) else f"{value!s:>12}"
        print(f"{name:<44}{shown}")
    goal = local["epoch_p50_ms"] <= 100.0
    print(f"goal epoch <= 100 ms in process: {'met' if goal else 'NOT met'} (p50 wall time)")
    goal_latency = nats is not None and nats["latency_p99_ms"] <= 250.0
    print(f"goal latency p99 <= 250 ms over NATS: {'met' if goal_latency else 'NOT met'}")
    summary = {
        "nations": args.nations,
        "tracks_per_nation": args.tracks,
        "in_process": {**local, **local_latency},
        "nats": nats,
        "goal_epoch_ms": 100.0,
        "goal_met": goal,
        "goal_latency_p99_ms": 250.0,
        "goal_latency_met": goal_latency,
    }
    print(json.dumps(summary, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
