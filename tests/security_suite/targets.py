"""Fuzz targets: every decoder entry point of the node and its envelope path, with seed
inputs to mutate. Shared by the hypothesis tests of this suite and ``benchmarks/fuzz.py``.

A target takes bytes and either returns (the input was used or rejected and counted) or
raises. Only the documented refusals count as handled: ``Rejected`` from the verifier,
``SensorConfigError`` from the sensor config, ``ValueError('not a pcap file ...')`` for a file
that is not a pcap. Anything else raised is a crash.

Seeds are the shared real recordings when they are present (``../shared/data``) and small
synthetic messages always.
"""

from __future__ import annotations

import io
import math
import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np

from airpicture.fusion import Picture, local_tracks_to_table
from airpicture.io.asterix import AsterixDecoder
from airpicture.io.asterix_blocks import DatablockStream, make_datablock, split_stream
from airpicture.io.asterix_cat021 import decode_cat021
from airpicture.io.asterix_cat048 import decode_cat048
from airpicture.io.asterix_cat062_decode import decode_cat062
from airpicture.io.asterix_status import decode_cat034, decode_cat063, decode_cat065
from airpicture.io.beast import BeastStream, encode_beast
from airpicture.io.modes import ModeSDecoder
from airpicture.io.pcap import Datagram, read_pcap, write_pcap
from airpicture.io.rejections import Rejections
from airpicture.io.sbs import SbsDecoder
from airpicture.io.sensor_config import SensorConfigError, parse_sensors
from airpicture.messages import (
    Envelope,
    LocalTrack,
    SensorInfo,
    SensorKind,
    TrackStatus,
    decode_msgpack,
)
from airpicture.node.wire import KIND_BATCH, decode_batch, encode_batches
from airpicture.policy import LocalTrackColumns
from airpicture.security import (
    Rejected,
    Sealer,
    Verifier,
    VerifierConfig,
    new_private_key,
    signed_bytes,
)

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
T0 = 1_700_000_000.0
RX = [SensorInfo(id="rx", nation="FR", kind=SensorKind.ADSB, lat_deg=48.9, lon_deg=2.5,
                 alt_m=100.0, max_range_m=4e5, period_s=1.0)]
SENSORS_TOML = """nation = "HR"
[[sensor]]
id = "HR-11"
kind = "ssr"
lat_deg = 45.9
lon_deg = 15.97
alt_m = 1030.0
sac = 25
sic = 11
"""
CAT048_RECORD = bytes.fromhex("fdf70219c9356d4da0c5aff1e00200052802d6e6b3b5c4e3b8ea")
MODE_S = ("8d48520a58c3849c784990179ae0", "8D406B9058B975870B738754F480",
          "8D406B909945DE10000405999BE4", "5d48520a5d4a12")
SBS = (b"MSG,3,1,1,4CA2D6,1,2024/07/06,12:00:00.000,2024/07/06,12:00:00.000,,37000,,,"
       b"48.5,2.5,,,0,0,0,0\nMSG,4,1,1,4CA2D6,1,,,,,,,450,90,,,0,,,,,0\n")
NATIONS = ("JPN", "USA", "AUS", "PHL")
KEYS = {n: new_private_key() for n in NATIONS}


def local_tracks(nation: str, n: int, t: float, seed: int = 0) -> list[LocalTrack]:
    """``n`` plausible local tracks of ``nation`` at data time ``t``."""
    rng = np.random.default_rng(seed)
    cov = np.diag([150.0**2] * 3 + [5.0**2] * 3).ravel().tolist()
    return [LocalTrack(nation=nation, track_id=i, time=t,
                       state=[-3.9e6 + 1e3 * i + float(rng.normal()), 3.4e6, 3.7e6, 100.0, 0.0,
                              0.0],
                       covariance=cov, status=TrackStatus.CONFIRMED, quality=0.9)
            for i in range(n)]


def _columns(tracks: list[LocalTrack]) -> LocalTrackColumns:
    """Release columns of ``tracks`` (two IMM modes, two sensors) for the wire."""
    n = len(tracks)
    return LocalTrackColumns(
        table=local_tracks_to_table(tracks), sensors=np.arange(n, dtype=np.uint64) % 4,
        mode_probabilities=np.full((n, 2), 0.5), last_update=np.array([t.time for t in tracks]),
        sensor_ids=("JPN-R1", "JPN-A1"))


def _real(*parts: str) -> bytes:
    path = DATA.joinpath(*parts)
    return path.read_bytes() if path.exists() else b""


class Targets:
    """The decoders and the envelope path, each as ``name -> callable(bytes)``, with seeds."""

    def __init__(self) -> None:
        self.rejections = Rejections()
        rej = self.rejections
        self.sensors = parse_sensors(SENSORS_TOML) + RX
        self.asterix = AsterixDecoder(self.sensors, rej)
        self.modes = ModeSDecoder(RX, 0, rej)
        self.sbs = SbsDecoder(RX, 0, rej)
        self.verifier = Verifier({n: k.public_key() for n, k in KEYS.items()}, ["coalition"],
                                 VerifierConfig(max_bytes=1 << 16))
        self.picture = Picture()
        self.accepted = 0
        self.batch_rejections: Counter[str] = Counter()
        self.sealers = {n: Sealer(n, k) for n, k in KEYS.items()}
        self.targets: dict[str, Callable[[bytes], None]] = {
            "asterix_datagram": self.asterix_datagram,
            "asterix_records": self.asterix_records,
            "beast_mode_s": self.beast_mode_s,
            "mode_s_hex": self.mode_s_hex,
            "sbs": self.sbs_lines,
            "pcap": self.pcap,
            "sensor_config": self.sensor_config,
            "envelope": self.envelope,
            "batch_payload": self.batch_payload,
        }
        self.seeds = self._seeds()
        self.genuine = {signed_bytes(decode_msgpack(e, Envelope)) for e in self.seeds["envelope"]}
        """What the partners really sealed: anything else accepted is a forgery."""

    # -- targets ---------------------------------------------------------------------

    def asterix_datagram(self, data: bytes) -> None:
        self.asterix.decode([Datagram(1.46e9, data)])
        stream = DatablockStream(self.rejections)
        stream.feed(data)
        stream.flush()

    def asterix_records(self, data: bytes) -> None:
        """The record bytes of one datablock, through every category's decoder."""
        rej, blocks = self.rejections, [data]
        decode_cat048(blocks, rej)
        decode_cat021(blocks, self.sensors, 1.46e9, rej)
        decode_cat062(blocks, rej)
        decode_cat034(blocks, rej)
        decode_cat063(blocks, rej)
        decode_cat065(blocks, rej)

    def beast_mode_s(self, data: bytes) -> None:
        stream = BeastStream(self.rejections)
        for k in range(0, len(data), 97):
            hexes = stream.feed(data[k:k + 97]).hex_frames()
            self.modes.decode(hexes, 1.72e9 + np.arange(len(hexes)) * 0.01)
        stream.flush()

    def mode_s_hex(self, data: bytes) -> None:
        text = data.decode("latin-1")
        frames = [text[k:k + 28] for k in range(0, len(text), 28)]
        frames += [data.hex()[:28], data.hex()[:14]]
        self.modes.decode(frames, 1.72e9 + np.arange(len(frames)) * 0.5)

    def sbs_lines(self, data: bytes) -> None:
        self.sbs.feed(data + b"\n", 1.72e9)

    def pcap(self, data: bytes) -> None:
        try:
            for d in read_pcap(io.BytesIO(data), self.rejections):
                self.asterix.decode([d])
        except ValueError as exc:
            if not str(exc).startswith("not a pcap file"):
                raise

    def sensor_config(self, data: bytes) -> None:
        try:
            parse_sensors(data.decode("utf-8", "replace"))
        except SensorConfigError:
            pass

    def envelope(self, data: bytes) -> None:
        """The node's read path: verify, decode the ``local_track_batch`` payload (validated
        whole, the signer's own tracks only), fuse. Nothing but a counted rejection may come
        of bad input."""
        try:
            env = self.verifier.verify(data)
        except Rejected:
            return
        self.accepted += 1
        if signed_bytes(env) not in self.genuine:
            raise AssertionError(f"an envelope nobody sealed was accepted: {env!r:.200}")
        if env.kind != KIND_BATCH:
            return
        table, rejected = decode_batch(env.payload, env.sender, env.time)
        self.batch_rejections.update(rejected)
        self.picture.ingest(table)

    def batch_payload(self, data: bytes) -> None:
        """A batch payload under a valid signature (a partner's own bug, or its stolen key):
        rejected whole and counted by reason, or fused."""
        table, rejected = decode_batch(data, "JPN")
        self.batch_rejections.update(rejected)
        self.picture.ingest(table)

    # -- seeds -----------------------------------------------------------------------

    def _seeds(self) -> dict[str, list[bytes]]:
        rej = Rejections()
        pcaps = [_real("asterix_croatiacontrol", f) for f in
                 ("cat_034_048.pcap", "cat_062_065.pcap", "cat_001_002.pcap")]
        datagrams: list[bytes] = [make_datablock(48, CAT048_RECORD),
                                  make_datablock(34, b"\xf0\x19\x0d\x02\x35\x6d\x4d\x00")]
        for blob in pcaps:
            if blob:
                datagrams += [d.payload for d in read_pcap(io.BytesIO(blob), rej)][:60]
        raws = [_real("asterix_croatiacontrol", f) for f in
                ("cat034.raw", "cat048.raw", "cat062cat065.raw", "cat21_re.ast")]
        records = [CAT048_RECORD] + [b.records for raw in raws if raw
                                     for b in split_stream(raw, rej)[:40]]
        beast = b"".join(encode_beast(0x33 if len(f) == 28 else 0x32, 1000 * i, 0x1A,
                                      bytes.fromhex(f)) for i, f in enumerate(MODE_S * 4))
        dump = _real("traffic_samples", "sample_dump1090.bin")
        beasts = [beast] + [dump[k:k + 600] for k in range(0, min(len(dump), 60_000), 600)]
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "seed.pcap"
            write_pcap(path, [Datagram(1.46e9 + i, d) for i, d in enumerate(datagrams[:5])])
            written = path.read_bytes()
        t = T0
        envelopes, batches = [], []
        for k, nation in enumerate(NATIONS * 3):
            t += 0.25
            payload, count = encode_batches(_columns(local_tracks(nation, 1 + k % 4, t, k)),
                                            nation, 8)[0]
            envelopes.append(self.sealers[nation].seal("coalition", t, KIND_BATCH, payload,
                                                       count))
            if nation == "JPN":
                batches.append(payload)
        return {
            "asterix_datagram": datagrams,
            "asterix_records": records,
            "beast_mode_s": beasts,
            "mode_s_hex": [bytes.fromhex(f) for f in MODE_S] + [f.encode() for f in MODE_S],
            "sbs": [SBS, SBS.replace(b"MSG,3", b"MSG,1")],
            "pcap": [written] + [p[:1500] for p in pcaps if p],
            "sensor_config": [SENSORS_TOML.encode()],
            "envelope": envelopes,
            "batch_payload": batches,
        }

    def run(self, name: str, data: bytes) -> None:
        self.targets[name](data)


def mutate(data: bytes, rng: np.random.Generator) -> bytes:
    """A random corruption of ``data``: byte flips, insertions, deletions, truncation,
    splices of itself, extension with noise, or interesting values (0, 0xff, lengths)."""
    b = bytearray(data)
    for _ in range(int(rng.integers(1, 5))):
        op = int(rng.integers(8))
        n = len(b)
        if op == 0 and n:
            b[int(rng.integers(n))] = int(rng.integers(256))
        elif op == 1 and n:
            b[int(rng.integers(n))] ^= 1 << int(rng.integers(8))
        elif op == 2:
            b.insert(int(rng.integers(n + 1)), int(rng.integers(256)))
        elif op == 3 and n:
            k = int(rng.integers(n))
            del b[k:k + int(rng.integers(1, 9))]
        elif op == 4 and n:
            b = b[: int(rng.integers(n + 1))]
        elif op == 5 and n:
            k, m = int(rng.integers(n)), int(rng.integers(n))
            b[k:k] = b[m:m + int(rng.integers(1, 32))]
        elif op == 6:
            b += rng.integers(0, 256, int(rng.integers(1, 24))).astype(np.uint8).tobytes()
        elif op == 7 and n:
            k = int(rng.integers(n))
            value = [0x00, 0xFF, 0x7F, 0x80, n & 0xFF, (n >> 8) & 0xFF][int(rng.integers(6))]
            b[k] = value
    return bytes(b)


def random_bytes(rng: np.random.Generator, max_size: int = 300) -> bytes:
    size = int(rng.integers(0, max_size + 1)) if rng.random() < 0.9 else int(
        math.exp(rng.uniform(0, math.log(20_000))))
    return rng.integers(0, 256, size).astype(np.uint8).tobytes()
