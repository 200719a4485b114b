"""Soak benchmark: four nodes over a real NATS JetStream server for a long run: memory
growth, message loss and end-to-end latency over time.

    .venv/bin/python benchmarks/soak.py [--duration 3600] [--tracks 10000] [--outage-s 0]

Each of the four nations runs as two processes (its publishing side and its fusing side):
the publisher releases, once per wall-clock second, the local tracks of the objects its
sensors see (a seeded synthetic coalition of ``--tracks`` objects, each seen by about 60 % of
the nations; tracks on straight lines, errors drawn from their covariances) as columnar
``LocalTrackBatch`` payloads in signed envelopes of at most ``--chunk`` tracks; the fusing side
reads the shared log, verifies every envelope, decodes and validates each batch, fuses
(``airpicture.fusion.Picture``) and measures, per ``--window-s``, the latency (p50, p99, max)
from a scan's hand-in (its data time, paced on the wall clock) to its batch fused, the
envelopes received and its resident memory. At the
end every fusing side checks that each nation's sequence numbers are complete (no loss) and
all four must hold the same final picture hash. ``--outage-s`` stops the NATS server that
long (kill -9) half way through the run and restarts it.

Prints a table per window and a summary table, then one JSON line.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

NATIONS = ("AUS", "JPN", "PHL", "USA")
AUDIENCE = "soak"


def _rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _key(nation: str):  # type: ignore[no-untyped-def]
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    return Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"soak-" + nation.encode()).digest())


def publisher(args: argparse.Namespace) -> int:
    from tests.fusion.synth import coalition, record

    from airpicture.bus.jetstream import NatsBus
    from airpicture.node.wire import KIND_BATCH, encode_batches
    from airpicture.policy import LocalTrackColumns
    from airpicture.security import Sealer

    i = NATIONS.index(args.nation)
    c = coalition(args.tracks, seed=11, nations=tuple(n.encode() for n in NATIONS))
    bus = NatsBus(args.url, nation=args.nation, publish_attempts=10_000, max_backoff_s=1.0)
    sealer = Sealer(args.nation, _key(args.nation))
    rng = np.random.default_rng(i)
    print("ready", flush=True)  # the run's start and end come back on stdin
    start, end = (float(v) for v in sys.stdin.readline().split())
    start += 0.1 * i
    second = 0
    seq = 0
    while True:
        t = start + second
        if t > end:
            break
        time.sleep(max(0.0, t - time.time()))
        table = record(c, i, t, rng)
        n = len(table)
        tracks = LocalTrackColumns(table, np.zeros(n, np.uint64), np.full((n, 3), 1 / 3),
                                   table.time, ())
        items = []
        for payload, count in encode_batches(tracks, args.nation, args.chunk):
            seq += 1
            data = sealer.seal(AUDIENCE, t, KIND_BATCH, payload, count)
            items.append((data, f"{args.nation}.{seq}.{time.time_ns()}"))
        bus.publish_many(AUDIENCE, items)
        second += 1
    data = sealer.seal(AUDIENCE, start + second, "end", b"", 0)
    bus.publish(AUDIENCE, data, f"{args.nation}.{seq + 1}.{time.time_ns()}")
    bus.close()
    return 0


def fuser(args: argparse.Namespace) -> int:
    from tests.fusion.synth import coalition, log

    from airpicture.bus.jetstream import NatsBus
    from airpicture.fusion import FusionConfig, Picture
    from airpicture.node.wire import decode_batch
    from airpicture.security import Verifier

    bus = NatsBus(args.url)
    verifier = Verifier({n: _key(n).public_key() for n in NATIONS}, [AUDIENCE])
    picture = Picture(FusionConfig(lateness_s=args.lateness_s))
    sub = bus.subscribe(AUDIENCE)
    warm = Picture(FusionConfig(lateness_s=args.lateness_s))  # load the compiled kernels now
    for table in log(coalition(50, seed=3), 6, seed=3):
        warm.ingest(table)
    print("ready", flush=True)
    seqs: dict[str, set[int]] = {n: set() for n in NATIONS}
    end: dict[str, int] = {}
    window: list[float] = []
    envelopes = bad_batches = 0
    t_window = time.time()
    final = None
    rss0 = None
    while not all(n in end and len(seqs[n]) == end[n] for n in NATIONS):
        for rec in sub.fetch(256, 0.5):
            env = verifier.accept(rec.data, now=time.time())
            if env is None:
                continue
            envelopes += 1
            seqs[env.sender].add(env.seq)
            if env.kind == "end":
                end[env.sender] = env.seq
                continue
            table, dropped = decode_batch(env.payload, env.sender, env.time)
            bad_batches += sum(dropped.values())
            for r in picture.ingest(table):
                final = r.hash
            window.append(time.time() - env.time)  # data time = the scan's wall time
        now = time.time()
        if now - t_window >= args.window_s:
            rss = _rss_mib(os.getpid())
            rss0 = rss if rss0 is None else rss0
            lat = np.array(window or [np.nan])
            print(json.dumps({"node": args.name, "t": round(now, 1), "envelopes": envelopes,
                              "p50_ms": float(np.percentile(lat, 50) * 1e3),
                              "p99_ms": float(np.percentile(lat, 99) * 1e3),
                              "max_ms": float(np.max(lat) * 1e3), "rss_mib": rss,
                              "system_tracks": len(picture.state.systems)}), flush=True)
            window, t_window = [], now
    for r in picture.flush():
        final = r.hash
    lost = {n: end[n] - len(seqs[n]) for n in NATIONS}
    print(json.dumps({"node": args.name, "done": True, "envelopes": envelopes, "lost": lost,
                      "final": final, "rejections": dict(verifier.rejections),
                      "bad_batches": bad_batches,
                      "late": picture.late, "rss_mib": _rss_mib(os.getpid())}), flush=True)
    bus.close()
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=float, default=3600.0, help="seconds (default 1 h)")
    ap.add_argument("--tracks", type=int, default=10_000)
    ap.add_argument("--chunk", type=int, default=1000, help="tracks per envelope")
    ap.add_argument("--window-s", type=float, default=10.0)
    ap.add_argument("--lateness-s", type=float, default=2.0)
    ap.add_argument("--outage-s", type=float, default=0.0)
    ap.add_argument("--role", choices=["publisher", "fuser"], help=argparse.SUPPRESS)
    ap.add_argument("--url", help=argparse.SUPPRESS)
    ap.add_argument("--nation", help=argparse.SUPPRESS)
    ap.add_argument("--name", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.role == "publisher":
        return publisher(args)
    if args.role == "fuser":
        return fuser(args)

    from rich.console import Console
    from rich.table import Table
    from tests.faults.servers import BINARY, Server

    if BINARY is None:
        print("soak needs nats-server (Debian package nats-server)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="airpicture-soak-") as tmp:
        server = Server(Path(tmp) / "nats")
        server.config.write_text(server.config.read_text() + "max_payload: 8MB\n")
        server.start()
        common = [sys.executable, __file__, "--url", server.url, "--tracks", str(args.tracks),
                  "--chunk", str(args.chunk), "--window-s", str(args.window_s),
                  "--lateness-s", str(args.lateness_s)]
        fusers = {n: subprocess.Popen([*common, "--role", "fuser", "--name", n],
                                      stdout=subprocess.PIPE, text=True, cwd=ROOT)
                  for n in NATIONS}
        pubs = {n: subprocess.Popen([*common, "--role", "publisher", "--nation", n],
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                    cwd=ROOT) for n in NATIONS}
        for p in [*fusers.values(), *pubs.values()]:  # start-up (imports) is not the run
            assert p.stdout is not None and p.stdout.readline().strip() == "ready"
        start = float(np.ceil(time.time())) + 1.0
        end = start + args.duration
        for p in pubs.values():
            assert p.stdin is not None
            p.stdin.write(f"{start!r} {end!r}\n")
            p.stdin.close()
        outage: dict[str, float] = {}
        if args.outage_s > 0:
            time.sleep(max(0.0, end - args.duration / 2 - time.time()))
            outage["start"] = time.time()
            server.stop(hard=True)
            time.sleep(args.outage_s)
            server.start()
            outage["end"] = time.time()
        for p in pubs.values():
            p.wait()
        lines: dict[str, list[dict[str, object]]] = {}
        for n, p in fusers.items():
            out, _ = p.communicate(timeout=600)
            lines[n] = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
        server.stop()
    windows = [x for n in NATIONS for x in lines[n] if "done" not in x]
    done = {n: next(x for x in lines[n] if x.get("done")) for n in NATIONS}
    console = Console()
    table = Table(title="soak: per window (all four nodes)")
    for col in ("t (s)", "node", "envelopes", "p50 ms", "p99 ms", "max ms", "RSS MiB", "STNs"):
        table.add_column(col, justify="right")
    t0 = min(float(w["t"]) for w in windows) if windows else 0.0  # type: ignore[arg-type]
    for w in sorted(windows, key=lambda w: (float(w["t"]), str(w["node"]))):  # type: ignore[arg-type]
        table.add_row(f"{float(w['t']) - t0:.0f}", str(w["node"]), str(w["envelopes"]),  # type: ignore[arg-type]
                      f"{w['p50_ms']:.0f}", f"{w['p99_ms']:.0f}", f"{w['max_ms']:.0f}",
                      f"{w['rss_mib']:.0f}", str(w["system_tracks"]))
    console.print(table)
    growth = {}
    for n in NATIONS:
        rss = [float(w["rss_mib"]) for w in lines[n] if "done" not in w]  # type: ignore[arg-type]
        warm = rss[len(rss) // 5] if rss else float("nan")  # after the first fifth: warm-up
        growth[n] = round(float(done[n]["rss_mib"]) - warm, 1)  # type: ignore[arg-type]
    p99 = [float(w["p99_ms"]) for w in windows if w["p99_ms"] == w["p99_ms"]]  # type: ignore[arg-type]
    result = {
        "duration_s": args.duration,
        "tracks": args.tracks,
        "nodes": len(NATIONS),
        "envelopes_per_node": {n: done[n]["envelopes"] for n in NATIONS},
        "messages_lost": sum(sum(dict(done[n]["lost"]).values()) for n in NATIONS),  # type: ignore[call-overload]
        "rejections": {n: done[n]["rejections"] for n in NATIONS},
        "same_final_picture": len({done[n]["final"] for n in NATIONS}) == 1,
        "late_reports": {n: done[n]["late"] for n in NATIONS},
        "rss_growth_mib_after_warmup": growth,
        "latency_p99_ms_max_window": max(p99) if p99 else None,
        "latency_p99_ms_median_window": float(np.median(p99)) if p99 else None,
        "outage_s": args.outage_s,
    }
    summary = Table(title="soak summary")
    summary.add_column("measure")
    summary.add_column("value", justify="right")
    for k, v in result.items():
        summary.add_row(k, json.dumps(v))
    console.print(summary)
    print(json.dumps(result, sort_keys=True))
    ok = result["messages_lost"] == 0 and result["same_final_picture"]
    return 0 if ok else 1


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.default_int_handler)
    raise SystemExit(main())
