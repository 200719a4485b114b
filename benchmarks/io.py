"""Interoperability benchmark: CAT048 decode, CAT062 encode, Beast decode, and a long fuzz run.

    .venv/bin/python benchmarks/io.py [--records 200000] [--tracks 10000] [--fuzz 100000]

- CAT048 decode: the 100 datagrams of the CroatiaControl capture (128 records from 7 radars)
  repeated to ``--records`` records, from datagram bytes to a PlotTable (framing, compiled
  record walk, scaling, sensor lookup); libasterix's own decoding of the same records is timed
  on a sample for comparison.
- CAT062 encode: ``--tracks`` system tracks to datablocks (geodesy and scaling vectorised):
  the NumPy encoder the exporter uses (``cat062_records_per_s``) and, for comparison, records
  built and unparsed by libasterix (``cat062_libasterix_records_per_s``, on at most 2,000
  tracks); the two outputs are checked to be identical.
- Beast decode: the 57,793 raw frames of ``full_flight_short`` in Beast framing (escapes
  included): framing alone, and framing plus Mode S decoding (CRC checks, rs1090, plots).
- Fuzz: ``--fuzz`` inputs (random bytes, and real datagrams and Beast/SBS streams with random
  corruptions, truncations and splices) through every decoder entry point; any exception is a
  crash. Rejections are counted.

Needs ../shared/data (see its README). Prints a table, then one JSON line.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from airpicture import geo
from airpicture.io.asterix import AsterixDecoder
from airpicture.io.asterix_blocks import DatablockStream, split_datagram
from airpicture.io.asterix_cat048 import decode_cat048, reports2plots
from airpicture.io.asterix_cat062 import SdpsIdentity, encode_cat062
from airpicture.io.asterix_cat062_fast import encode_cat062_fast
from airpicture.io.asterix_lib import cat048_reference_rows
from airpicture.io.beast import BeastStream, decode_beast, encode_beast
from airpicture.io.modes import ModeSDecoder
from airpicture.io.pcap import Datagram, read_pcap
from airpicture.io.rejections import Rejections
from airpicture.io.sbs import SbsDecoder
from airpicture.io.sensor_config import parse_sensors
from airpicture.messages import SensorInfo, SensorKind, SystemTrack, TrackStatus

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
SENSORS = "\n".join(
    f'[[sensor]]\nid = "HR-{sic}"\nnation = "HR"\nkind = "ssr"\nlat_deg = {45 + k * 0.3}\n'
    f"lon_deg = {15 + k * 0.4}\nsac = 25\nsic = {sic}\n"
    for k, sic in enumerate((11, 12, 13, 14, 201, 204, 205)))
RX = [SensorInfo(id="rx", nation="FR", kind=SensorKind.ADSB, lat_deg=49.0, lon_deg=2.55,
                 alt_m=120.0, max_range_m=4.5e5, period_s=1.0)]


def _best(fn: Callable[[], object], repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def bench_cat048(n_records: int) -> dict[str, float]:
    datagrams = list(read_pcap(DATA / "asterix_croatiacontrol" / "cat_034_048.pcap",
                               Rejections()))
    sensors = parse_sensors(SENSORS)
    only48 = [d for d in datagrams if d.payload[0] == 48]
    per_pass = 128
    reps = max(1, n_records // per_pass)
    payloads = [(d.time, d.payload) for d in only48] * reps

    def run() -> int:
        rej = Rejections()
        timed = [(t, b.records) for t, p in payloads for b in split_datagram(p, rej)]
        reports = decode_cat048([b for _, b in timed], rej)
        times = np.fromiter((t for t, _ in timed), np.float64, len(timed))
        return len(reports2plots(reports, sensors, times, rej))

    run()  # compile / warm
    elapsed = _best(run)
    sample = [b.records for _, p in payloads[:200] for b in split_datagram(p, Rejections())]
    t0 = time.perf_counter()
    ref, _ = cat048_reference_rows(sample)
    ref_elapsed = time.perf_counter() - t0
    return {"cat048_records": reps * per_pass, "cat048_records_per_s": reps * per_pass / elapsed,
            "cat048_libasterix_records_per_s": len(ref) / ref_elapsed}


def bench_cat062(n_tracks: int) -> dict[str, float]:
    rng = np.random.default_rng(0)
    llh = np.column_stack([np.deg2rad(rng.uniform(42, 47, n_tracks)),
                           np.deg2rad(rng.uniform(13, 19, n_tracks)),
                           rng.uniform(1000, 12000, n_tracks)])
    x = geo.geodetic2ecef(llh)
    v = geo.enu2ecefv(np.column_stack([rng.normal(0, 150, (n_tracks, 2)),
                                       rng.normal(0, 3, n_tracks)]), llh[:, :2])
    cov = list((np.eye(6) * 400.0).ravel())
    tracks = [SystemTrack(stn=i, time=1.72e9, state=[*x[i], *v[i]], covariance=cov,
                          status=TrackStatus.CONFIRMED, quality=0.9, icao=0x400000 + i,
                          mode3a=i % 4096, callsign=f"TST{i:04d}", nations=["HR"])
              for i in range(n_tracks)]
    ident = SdpsIdentity(sac=25, sic=100, ref_lat_deg=45.0, ref_lon_deg=16.0)
    elapsed = _best(lambda: encode_cat062_fast(tracks, ident))
    sample = tracks[:2_000]
    lib_elapsed = _best(lambda: encode_cat062(sample, ident), repeat=2)
    if encode_cat062_fast(sample, ident) != encode_cat062(sample, ident):
        raise AssertionError("CAT062: the NumPy encoder differs from libasterix")
    return {"cat062_tracks": n_tracks, "cat062_records_per_s": n_tracks / elapsed,
            "cat062_libasterix_records_per_s": len(sample) / lib_elapsed}


def _flight() -> list[dict[str, object]]:
    with gzip.open(DATA / "traffic_samples" / "full_flight_short.jsonl.gz", "rt") as fh:
        return [json.loads(line) for line in fh]


def bench_beast(rows: list[dict[str, object]]) -> dict[str, float]:
    t0 = float(rows[0]["timestamp"])  # type: ignore[arg-type]
    stream = b"".join(encode_beast(0x33 if len(str(r["frame"])) == 28 else 0x32,
                                   round((float(r["timestamp"]) - t0) * 12e6),  # type: ignore[arg-type]
                                   0x1A, bytes.fromhex(str(r["frame"]))) for r in rows)
    decode_beast(stream[:1000], Rejections())  # compile / warm
    framing = _best(lambda: decode_beast(stream, Rejections()))

    def full() -> int:
        rej = Rejections()
        frames = decode_beast(stream, rej)
        dec = ModeSDecoder(RX, 0, rej)
        hexes = frames.hex_frames()
        ts = t0 + frames.stamp / 12e6
        return sum(len(dec.decode(hexes[k:k + 5000], ts[k:k + 5000]))
                   for k in range(0, len(hexes), 5000))

    total = _best(full, repeat=2)
    n = len(rows)
    return {"beast_messages": n, "beast_framing_messages_per_s": n / framing,
            "beast_decode_messages_per_s": n / total}


def fuzz(n_inputs: int, rows: list[dict[str, object]], seed: int = 1) -> dict[str, object]:
    rng = np.random.default_rng(seed)
    datagrams = list(read_pcap(DATA / "asterix_croatiacontrol" / "cat_034_048.pcap",
                               Rejections()))
    datagrams += list(read_pcap(DATA / "asterix_croatiacontrol" / "cat_062_065.pcap",
                                Rejections()))
    real = [d.payload for d in datagrams]
    beast = b"".join(encode_beast(0x33 if len(str(r["frame"])) == 28 else 0x32, i * 1000, 0x1A,
                                  bytes.fromhex(str(r["frame"])))
                     for i, r in enumerate(rows[:2000]))
    sbs = (b"MSG,3,1,1,4CA2D6,1,2024/07/06,12:00:00.000,2024/07/06,12:00:00.000,,37000,,,"
           b"48.5,2.5,,,0,0,0,0\nMSG,4,1,1,4CA2D6,1,,,,,,,450,90,,,0,,,,,0\n")
    sensors = parse_sensors(SENSORS) + RX
    rej = Rejections()
    asterix = AsterixDecoder(sensors, rej)
    modes = ModeSDecoder(RX, 0, rej)
    sbs_dec = SbsDecoder(RX, 0, rej)
    crashes: list[str] = []

    def mutate(data: bytes) -> bytes:
        b = bytearray(data)
        for _ in range(int(rng.integers(0, 4))):
            if b:
                b[int(rng.integers(len(b)))] = int(rng.integers(256))
        if b and rng.random() < 0.3:
            b = b[: int(rng.integers(len(b) + 1))]
        if rng.random() < 0.2:
            b += rng.integers(0, 256, int(rng.integers(1, 20))).astype(np.uint8).tobytes()
        return bytes(b)

    for i in range(n_inputs):
        which = i % 10
        try:
            if which < 6:
                data = (mutate(real[int(rng.integers(len(real)))]) if which < 4
                        else rng.integers(0, 256, int(rng.integers(1, 120))).astype(
                            np.uint8).tobytes())
                asterix.decode([Datagram(1.46e9, data)])
                s = DatablockStream(rej)
                s.feed(data)
                s.flush()
            elif which < 9:
                start = int(rng.integers(0, len(beast) - 400))
                bs = BeastStream(rej)
                hexes = bs.feed(mutate(beast[start:start + 400])).hex_frames()
                modes.decode(hexes, 1.72e9 + np.arange(len(hexes)) * 0.01)
            else:
                sbs_dec.feed(mutate(sbs), 1.72e9)
        except Exception:
            crashes.append(traceback.format_exc(limit=3))
    return {"fuzz_inputs": n_inputs, "fuzz_crashes": len(crashes),
            "fuzz_rejections": rej.total(), "fuzz_first_crash": crashes[0] if crashes else ""}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=200_000)
    ap.add_argument("--tracks", type=int, default=10_000)
    ap.add_argument("--fuzz", type=int, default=100_000)
    args = ap.parse_args()
    if not DATA.exists():
        print(f"benchmarks/io.py needs the real recordings in {DATA}", file=sys.stderr)
        return 2
    results: dict[str, object] = {}
    t0 = time.perf_counter()
    results.update(bench_cat048(args.records))
    results.update(bench_cat062(args.tracks))
    rows = _flight()
    results.update(bench_beast(rows))
    results.update(fuzz(args.fuzz, rows))
    results["wall_s"] = time.perf_counter() - t0
    table = Table(title="airpicture io benchmark")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for key, value in results.items():
        if key == "fuzz_first_crash":
            continue
        table.add_row(key, f"{value:,.0f}" if isinstance(value, float) else str(value))
    Console().print(table)
    if results["fuzz_first_crash"]:
        print(results["fuzz_first_crash"], file=sys.stderr)
    results["goal_cat048_50k_met"] = float(results["cat048_records_per_s"]) >= 50_000  # type: ignore[arg-type]
    print(json.dumps(results, sort_keys=True))
    return 0 if results["fuzz_crashes"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
