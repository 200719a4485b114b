"""``airpicture ingest asterix|beast|sbs``: decode a real feed into plots.

Sources: a file (pcap or raw ``.ast`` for ASTERIX, Beast binary, SBS text), a UDP port
(ASTERIX; multicast groups are joined), or a TCP server to connect to (ASTERIX stream, Beast
on dump1090's port 30005, SBS on 30003). Radars and receivers come from a sensor TOML file
(see :mod:`airpicture.io.sensor_config`). Plots go to a Parquet file; a summary of what was
decoded and what was rejected, by reason, is printed at the end, then one JSON line.

Examples::

    airpicture ingest asterix --file cat_034_048.pcap --sensors hr.toml --out plots.parquet
    airpicture ingest asterix --udp 232.1.1.1:21000 --sensors hr.toml --duration 60
    airpicture ingest beast --tcp 127.0.0.1:30005 --sensors rx.toml --receiver RX1
    airpicture ingest sbs --file feed.sbs --sensors rx.toml --receiver RX1 --start-time 0
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from airpicture.io.asterix import SUPPORTED, AsterixDecoder
from airpicture.io.asterix_blocks import DatablockStream
from airpicture.io.beast import BeastStream, decode_beast
from airpicture.io.modes import ModeSDecoder
from airpicture.io.parquet import TableWriter
from airpicture.io.pcap import Datagram, PcapWriter
from airpicture.io.rejections import Rejections
from airpicture.io.replay import paced, read_asterix_file
from airpicture.io.sbs import SbsDecoder
from airpicture.io.sensor_config import SensorConfigError, load_sensors
from airpicture.io.transports import TcpClient, UdpReceiver, parse_endpoint
from airpicture.messages import SensorInfo
from airpicture.plot_table import PlotTable


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("protocol", choices=("asterix", "beast", "sbs"), help="feed format")
    src = parser.add_mutually_exclusive_group(required=True)
    src.add_argument("--file", type=Path, help="read a recording")
    src.add_argument("--udp", metavar="HOST:PORT", help="listen for UDP (asterix only)")
    src.add_argument("--tcp", metavar="HOST:PORT", help="connect to a TCP server")
    parser.add_argument("--sensors", type=Path, required=True, help="sensor TOML file")
    parser.add_argument("--receiver", help="sensor id of the receiver (beast, sbs)")
    parser.add_argument("--out", type=Path, help="write plots to this Parquet file")
    parser.add_argument("--record", type=Path, help="also record the raw ASTERIX feed (pcap)")
    parser.add_argument("--speed", type=float, default=math.inf,
                        help="replay speed for files: 1 real time, 10 ten times, inf (default)")
    parser.add_argument("--start-time", type=float, default=None,
                        help="Unix time of the start of a file without absolute times "
                             "(raw .ast, Beast, SBS without dates; default: the file's mtime)")
    parser.add_argument("--duration", type=float, default=math.inf,
                        help="stop a live feed after this many seconds (default: Ctrl-C)")
    parser.add_argument("--utc-offset", type=float, default=0.0,
                        help="seconds the SBS clock is ahead of UTC (dump1090 writes local time)")


def _live_chunks(args: argparse.Namespace) -> Iterator[tuple[float, bytes]]:
    deadline = time.monotonic() + args.duration
    if args.udp:
        host, port = parse_endpoint(args.udp)
        rx = UdpReceiver(host, port)
        try:
            while time.monotonic() < deadline:
                d = rx.receive(timeout=min(1.0, max(deadline - time.monotonic(), 0.0)))
                if d is not None:
                    yield d.time, d.payload
        finally:
            rx.close()
        return
    host, port = parse_endpoint(args.tcp, "127.0.0.1")
    client = TcpClient(host, port)
    try:
        while time.monotonic() < deadline:
            chunk = client.read(timeout=min(1.0, max(deadline - time.monotonic(), 0.0)))
            if chunk == b"":
                print(f"ingest: {host}:{port} closed the connection", file=sys.stderr)
                return
            if chunk is not None:
                yield time.time(), chunk
    finally:
        client.close()


def _asterix(args: argparse.Namespace, sensors: list[SensorInfo], rej: Rejections,
             emit: Callable[[PlotTable], None]) -> dict[str, int]:
    decoder = AsterixDecoder(sensors, rej)
    counts: dict[str, int] = {}
    recorder = PcapWriter(args.record) if args.record else None

    def handle(datagrams: list[Datagram]) -> None:
        batch = decoder.decode(datagrams)
        emit(batch.plots)
        for cat, n in batch.records.items():
            counts[f"cat{cat:03d}_blocks"] = counts.get(f"cat{cat:03d}_blocks", 0) + n
        counts["sensor_status"] = counts.get("sensor_status", 0) + len(batch.sensor_status)
        counts["system_tracks"] = counts.get("system_tracks", 0) + len(batch.system_tracks)
        if recorder is not None:
            for d in datagrams:
                recorder.write(d)

    try:
        if args.file:
            start = args.start_time if args.start_time is not None else args.file.stat().st_mtime
            datagrams = read_asterix_file(args.file, rej, start)
            for _, d in paced(((d.time, d) for d in datagrams), args.speed):
                handle([d])
        elif args.udp:
            for t, payload in _live_chunks(args):
                handle([Datagram(t, payload)])
        else:
            # Only the categories we decode count as plausible headers while resynchronising.
            stream = DatablockStream(rej, args.tcp, categories=frozenset(SUPPORTED))
            t = time.time()
            for t, chunk in _live_chunks(args):
                handle([Datagram(t, b.to_bytes()) for b in stream.feed(chunk)])
            handle([Datagram(t, b.to_bytes()) for b in stream.flush()])
    finally:
        if recorder is not None:
            recorder.close()
    return counts


def _receiver_index(args: argparse.Namespace, sensors: list[SensorInfo]) -> int:
    ids = [s.id for s in sensors]
    if args.receiver is None:
        if len(sensors) == 1:
            return 0
        raise SensorConfigError(str(args.sensors), "--receiver", f"choose one of {ids}")
    if args.receiver not in ids:
        raise SensorConfigError(str(args.sensors), "--receiver",
                                f"no sensor {args.receiver!r} (have {ids})")
    return ids.index(args.receiver)


def _beast(args: argparse.Namespace, sensors: list[SensorInfo], rej: Rejections,
           emit: Callable[[PlotTable], None]) -> dict[str, int]:
    decoder = ModeSDecoder(sensors, _receiver_index(args, sensors), rej)
    if args.file:
        start = args.start_time if args.start_time is not None else args.file.stat().st_mtime
        frames = decode_beast(args.file.read_bytes(), rej, str(args.file))
        modes = (frames.kind == 0x32) | (frames.kind == 0x33)
        stamps = frames.stamp[modes]
        times = start + (stamps - (stamps[0] if len(stamps) else 0)) / 12e6
        hexes = frames.hex_frames()
        for k in range(0, len(hexes), 5000):
            emit(decoder.decode(hexes[k:k + 5000], times[k:k + 5000]))
    else:
        stream = BeastStream(rej, args.tcp)
        for t, chunk in _live_chunks(args):
            hexes = stream.feed(chunk).hex_frames()
            emit(decoder.decode(hexes, np.full(len(hexes), t)))
    return {"messages": decoder.messages, "aircraft": len(decoder.aircraft)}


def _sbs(args: argparse.Namespace, sensors: list[SensorInfo], rej: Rejections,
         emit: Callable[[PlotTable], None]) -> dict[str, int]:
    decoder = SbsDecoder(sensors, _receiver_index(args, sensors), rej, args.utc_offset)
    if args.file:
        start = args.start_time if args.start_time is not None else args.file.stat().st_mtime
        emit(decoder.feed(args.file.read_bytes() + b"\n", start))
    else:
        for t, chunk in _live_chunks(args):
            emit(decoder.feed(chunk, t))
    return {"aircraft": len(decoder.aircraft)}


def run(args: argparse.Namespace) -> int:
    if args.udp and args.protocol != "asterix":
        print("ingest: --udp is for asterix; beast and sbs are TCP streams", file=sys.stderr)
        return 2
    try:
        sensors = load_sensors(args.sensors)
    except SensorConfigError as exc:
        print(f"ingest: {exc}", file=sys.stderr)
        return 2
    rej = Rejections()
    writer = TableWriter(args.out, PlotTable) if args.out else None
    plots = {"n": 0}

    def emit(table: PlotTable) -> None:
        plots["n"] += len(table)
        if writer is not None:
            writer.write(table)

    handler = {"asterix": _asterix, "beast": _beast, "sbs": _sbs}[args.protocol]
    try:
        counts = handler(args, sensors, rej, emit)
    except SensorConfigError as exc:
        print(f"ingest: {exc}", file=sys.stderr)
        return 2
    except (OSError, ValueError) as exc:
        print(f"ingest: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        counts = {}
    finally:
        if writer is not None:
            writer.close()
    summary = {"protocol": args.protocol, "plots": plots["n"], **counts,
               "rejected": rej.by_reason(), "bytes_skipped": rej.bytes_skipped}
    print(f"{args.protocol}: {plots['n']} plots" + (f" -> {args.out}" if args.out else ""))
    for key, value in counts.items():
        print(f"  {key}: {value}")
    for reason, n in rej.by_reason().items():
        print(f"  rejected {reason}: {n}")
    print(json.dumps(summary, sort_keys=True))
    return 0
