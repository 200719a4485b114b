"""A minimal coalition over NATS as separate processes, for fault injection.

Written against the committed pieces only (bus, Sealer/Verifier, fusion ``Picture``, the
Parquet ``Recorder``) because the node process was not committed when this suite was
written; the node's own read path is the same (verify, decode, keep the signer's tracks,
``Picture.ingest`` once per record in log order).

    python -m tests.faults.harness publish --url URL --nation JPN [--delay-s 5 --reorder 4]
    python -m tests.faults.harness fuse --url URL --out FILE [--record DIR] [--durable NAME]

``publish``: one nation's node: deterministic local tracks of the synthetic coalition
(``tests/fusion/synth.py``), one signed envelope per data second, paced at ``--pace-s`` wall
seconds per data second on its own (optionally skewed) clock. On start it reads the log and
resumes: sequence numbers already there are not sent again, missing ones are (same bytes,
same message id, so a copy the bus already holds is dropped). ``--delay-s``/``--reorder``
hold each envelope that long and release them shuffled in groups (a slow, reordering link).

``fuse``: a fusing node: reads the log from its start (or a durable consumer), verifies
against the partners' keys with ``now`` from its own (optionally skewed) clock, fuses, and
when every nation has said ``end`` writes a JSON summary to ``--out``: epoch hashes, final
hash, the (sender, seq) list in log order, rejections, recorder errors. ``--record`` streams
each closed epoch's picture with :class:`airpicture.io.recorder.Recorder`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
import time
from collections import deque
from pathlib import Path

import numpy as np
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from airpicture.bus import open_bus
from airpicture.bus.jetstream import NatsBus
from airpicture.messages import LocalTrack, TrackStatus, decode_msgpack, encode_msgpack
from airpicture.security import Sealer, Verifier

from ..fusion.synth import NATIONS, coalition, record

AUDIENCE = "coalition"
NATION_NAMES = [n.decode() for n in NATIONS]
LATENESS_S = 120.0
"""Fusion lateness covering every disorder the faults cause (a 10 s outage at five times
real time is 50 data seconds): the picture then depends on the log's content, not on the
order of arrival."""


def key(nation: str) -> Ed25519PrivateKey:
    seed = hashlib.sha256(b"fault-" + nation.encode()).digest()
    return Ed25519PrivateKey.from_private_bytes(seed)


def envelope(sealer: Sealer, nation: str, second: int, t0: float, objects: int) -> bytes:
    """Nation's envelope for data second ``second`` (seq ``second + 1``): the same bytes on
    every run (Ed25519 signatures are deterministic)."""
    c = coalition(objects, seed=5)
    i = NATION_NAMES.index(nation)
    rng = np.random.default_rng([7, i, second])
    table = record(c, i, t0 + second + 0.1 + 0.1 * i, rng)
    tracks = [
        LocalTrack(nation=nation, track_id=int(tid), time=float(t), state=x.tolist(),
                   covariance=p.ravel().tolist(), status=TrackStatus.CONFIRMED, quality=0.9,
                   icao=None if icao < 0 else int(icao))
        for tid, t, x, p, icao in zip(table.track, table.time, table.state, table.covariance,
                                      table.icao, strict=True)
    ]
    return sealer.seal(AUDIENCE, float(table.time[0]), "local_tracks", encode_msgpack(tracks),
                       len(tracks))


def own_seqs(bus: NatsBus, nation: str, verifier: Verifier) -> set[int]:
    """This nation's sequence numbers the log holds now (read up to the log's current end:
    waiting for the log to go quiet would never end while partners publish)."""
    async def last() -> int:
        info = await bus._js.stream_info(await bus._ensure_stream(AUDIENCE))
        return int(info.state.last_seq)

    end = bus._run(last())
    sub = bus.subscribe(AUDIENCE)
    seen: set[int] = set()
    seq = 0
    while seq < end and (batch := sub.fetch(1024, 2.0)):
        for rec in batch:
            seq = rec.seq
            env = verifier.accept(rec.data)
            if env is not None and env.sender == nation:
                seen.add(env.seq)
    sub.close()
    return seen


def publish(args: argparse.Namespace) -> int:
    nation = args.nation
    bus = NatsBus(args.url, nation=nation, publish_attempts=10_000, backoff_s=0.05,
                  max_backoff_s=0.5, request_timeout_s=2.0)
    partners = {n: key(n).public_key() for n in NATION_NAMES}
    done = own_seqs(bus, nation, Verifier(partners))
    print(f"{nation}: log holds {len(done)} of mine", flush=True)
    clock = lambda: time.monotonic() + args.skew_s  # noqa: E731 - this node's clock
    start = clock()
    held: deque[tuple[float, int, bytes]] = deque()
    rnd = random.Random(nation)
    sent = 0

    def release(now: float, final: bool = False) -> None:
        nonlocal sent
        due = [h for h in held if h[0] <= now or final]
        while due:
            group = due[: args.reorder]
            del due[: args.reorder]
            rnd.shuffle(group)
            for item in group:
                held.remove(item)
                bus.publish(AUDIENCE, item[2], f"{nation}.{item[1]}")
                sent += 1
                print(f"{nation}: published {item[1]}", flush=True)

    for second in range(args.seconds + 1):
        seq = second + 1
        sealer = Sealer(nation, key(nation), start_seq={AUDIENCE: seq - 1})
        data = (envelope(sealer, nation, second, args.t0, args.objects) if second < args.seconds
                else sealer.seal(AUDIENCE, args.t0 + args.seconds, "end", b"", 0))
        if seq in done:
            continue
        wait = start + second * args.pace_s - clock()
        if wait > 0:
            time.sleep(wait)
        held.append((clock() + args.delay_s, seq, data))
        release(clock())
    while held:
        time.sleep(0.05)
        release(clock(), final=args.delay_s == 0)
    print(f"{nation}: sent {sent}", flush=True)
    bus.close()
    return 0


def fuse(args: argparse.Namespace) -> int:
    from airpicture.fusion import FusionConfig, Picture, local_tracks_to_table
    from airpicture.io.recorder import Recorder

    bus = open_bus(args.url)
    partners = {n: key(n).public_key() for n in NATION_NAMES}
    verifier = Verifier(partners, [AUDIENCE])
    picture = Picture(FusionConfig(lateness_s=LATENESS_S))
    recorder = Recorder(args.record, []) if args.record else None
    recorder_errors: list[str] = []
    sub = bus.subscribe(AUDIENCE, durable=args.durable)
    print("fuse: reading", flush=True)
    order: list[tuple[str, int]] = []
    hashes: list[str] = []
    seqs: dict[str, set[int]] = {n: set() for n in NATION_NAMES}
    end_seq: dict[str, int] = {}
    records = 0

    def complete() -> bool:
        return all(n in end_seq and len(seqs[n]) == end_seq[n] for n in NATION_NAMES)

    def closed(results: list) -> None:  # type: ignore[type-arg]
        nonlocal recorder
        for r in results:
            hashes.append(r.hash)
            if recorder is not None:
                try:
                    recorder.picture(r.picture)
                except OSError as exc:  # disk full: keep fusing, count, stop recording
                    recorder_errors.append(repr(exc))
                    try:
                        recorder.close()
                    except OSError as exc2:
                        recorder_errors.append(repr(exc2))
                    recorder = None

    deadline = time.monotonic() + args.timeout_s
    while not complete() and time.monotonic() < deadline:
        for rec in sub.fetch(256, 0.5):
            records += 1
            env = verifier.accept(rec.data, now=time.time() + args.skew_s)
            if env is None:
                continue
            order.append((env.sender, env.seq))
            seqs[env.sender].add(env.seq)
            if env.kind == "end":
                end_seq[env.sender] = env.seq
                continue
            tracks = decode_msgpack(env.payload, list[LocalTrack])
            mine = [t for t in tracks if t.nation == env.sender]
            closed(picture.ingest(local_tracks_to_table(mine)))
    closed(picture.flush())
    if recorder is not None:
        recorder.close()
    summary = {
        "hashes": hashes,
        "final": hashes[-1] if hashes else None,
        "order": order,
        "records": records,
        "complete": complete(),
        "rejections": dict(verifier.rejections),
        "late": picture.late,
        "recorder_errors": recorder_errors,
    }
    Path(args.out).write_text(json.dumps(summary))
    sub.close()
    bus.close()
    return 0 if complete() else 3


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="fault-injection harness")
    sp = ap.add_subparsers(dest="cmd", required=True)
    for name in ("publish", "fuse"):
        p = sp.add_parser(name)
        p.add_argument("--url", required=True)
        p.add_argument("--skew-s", type=float, default=0.0)
        p.add_argument("--t0", type=float, default=1_700_000_000.0)
    p = sp.choices["publish"]
    p.add_argument("--nation", required=True, choices=NATION_NAMES)
    p.add_argument("--seconds", type=int, default=32)
    p.add_argument("--objects", type=int, default=30)
    p.add_argument("--pace-s", type=float, default=0.2)
    p.add_argument("--delay-s", type=float, default=0.0)
    p.add_argument("--reorder", type=int, default=1)
    p = sp.choices["fuse"]
    p.add_argument("--out", required=True)
    p.add_argument("--record")
    p.add_argument("--durable")
    p.add_argument("--timeout-s", type=float, default=90.0)
    args = ap.parse_args(argv)
    return publish(args) if args.cmd == "publish" else fuse(args)


if __name__ == "__main__":
    sys.exit(main())
