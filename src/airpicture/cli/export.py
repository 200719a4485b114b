"""``airpicture export cot|asterix|geojson``: send a recorded picture to other systems.

Input is a picture recording (``picture.parquet``, a :class:`TrackTable` of system tracks, as
written by the recorder). ``--time`` sends one snapshot (the latest state of each track at that
time); otherwise every picture update is sent in data-time order, paced by ``--speed``.

- ``cot``: Cursor-on-Target events over UDP (``--udp``, default TAK multicast 239.2.3.1:6969),
  to a TCP server (``--tcp``, e.g. a TAK server's streaming port) or to a file (``--out``).
- ``asterix``: CAT062 (plus a CAT065 end-of-batch per update) over UDP, to a TCP server, as a
  TCP server others connect to (``--listen``), or to a ``.ast`` or ``.pcap`` file (``--out``).
- ``geojson``: one snapshot to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np

from airpicture.io.asterix_cat062 import SdpsIdentity
from airpicture.io.asterix_cat062_fast import encode_cat062_fast
from airpicture.io.asterix_common import unix2tod
from airpicture.io.asterix_status import ServiceStatus, encode_cat065
from airpicture.io.cot import TAK_MULTICAST, cot_events
from airpicture.io.geojson import write_geojson
from airpicture.io.parquet import read_table
from airpicture.io.pcap import Datagram, PcapWriter
from airpicture.io.picture import snapshot, table2tracks
from airpicture.io.replay import paced
from airpicture.io.transports import TcpClient, TcpServer, UdpSender, parse_endpoint
from airpicture.track_table import TrackTable


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("format", choices=("cot", "asterix", "geojson"), help="output format")
    parser.add_argument("--picture", type=Path, required=True, help="picture.parquet")
    parser.add_argument("--time", type=float, help="send one snapshot at this Unix time")
    out = parser.add_mutually_exclusive_group()
    out.add_argument("--udp", metavar="HOST:PORT", help="send datagrams (multicast allowed)")
    out.add_argument("--tcp", metavar="HOST:PORT", help="connect to a TCP server and send")
    out.add_argument("--listen", metavar="HOST:PORT", help="serve TCP clients (asterix)")
    out.add_argument("--out", type=Path, help="write a file (.geojson, .xml, .ast, .pcap)")
    parser.add_argument("--speed", type=float, default=math.inf,
                        help="pacing of updates: 1 real time, inf as fast as possible (default)")
    parser.add_argument("--sac", type=int, default=0, help="our SAC (asterix)")
    parser.add_argument("--sic", type=int, default=1, help="our SIC (asterix)")
    parser.add_argument("--ref", default="0,0", help="lat,lon (deg) of the I062/100 plane origin")
    parser.add_argument("--update-interval", type=float, default=4.0,
                        help="picture update interval in s (CoT stale time)")


def _updates(table: TrackTable, at: float | None) -> list[tuple[float, TrackTable]]:
    if at is not None:
        return [(at, snapshot(table, at))]
    times = np.unique(table.time)
    return [(float(t), table.take(table.time == t)) for t in times]


def run(args: argparse.Namespace) -> int:
    try:
        table = read_table(args.picture, TrackTable)
    except (OSError, KeyError) as exc:
        print(f"export: cannot read {args.picture}: {exc}", file=sys.stderr)
        return 2
    if args.format == "geojson":
        if args.out is None:
            print("export geojson: give --out FILE", file=sys.stderr)
            return 2
        n = write_geojson(args.out, table2tracks(snapshot(table, args.time)))
        print(json.dumps({"format": "geojson", "features": n, "out": str(args.out)}))
        return 0
    lat, lon = (float(v) for v in args.ref.split(","))
    ident = SdpsIdentity(sac=args.sac, sic=args.sic, ref_lat_deg=lat, ref_lon_deg=lon)
    sent = {"updates": 0, "messages": 0, "octets": 0}
    udp = tcp = server = pcap = None
    raw = None
    try:
        if args.udp or (args.format == "cot" and not (args.tcp or args.listen or args.out)):
            host, port = parse_endpoint(args.udp) if args.udp else TAK_MULTICAST
            udp = UdpSender(host, port)
        elif args.tcp:
            tcp = TcpClient(*parse_endpoint(args.tcp, "127.0.0.1"))
        elif args.listen:
            server = TcpServer(*parse_endpoint(args.listen))
        elif args.out and args.out.suffix == ".pcap":
            pcap = PcapWriter(args.out)
        elif args.out:
            raw = open(args.out, "wb")
        else:
            print("export asterix: give --udp, --tcp, --listen or --out", file=sys.stderr)
            return 2
        for batch_no, (t, rows) in enumerate(paced(_updates(table, args.time), args.speed)):
            tracks = table2tracks(rows)
            if args.format == "cot":
                messages = cot_events(tracks, args.update_interval)
            else:
                messages = encode_cat062_fast(tracks, ident)
                messages.append(encode_cat065(ServiceStatus(
                    sac=args.sac, sic=args.sic, service=1, tod_s=float(unix2tod(t)),
                    message_type=2, batch=batch_no & 0xFF)))
            for m in messages:
                if udp is not None:
                    udp.send(m)
                elif tcp is not None:
                    tcp.send(m if args.format == "asterix" else m + b"\n")
                elif server is not None:
                    server.send(m)
                elif pcap is not None:
                    pcap.write(Datagram(t, m, dst_port=8600))
                elif raw is not None:
                    raw.write(m if args.format == "asterix" else m + b"\n")
                sent["messages"] += 1
                sent["octets"] += len(m)
            sent["updates"] += 1
    except OSError as exc:
        print(f"export: {exc}", file=sys.stderr)
        return 1
    finally:
        for sink in (udp, tcp, server, pcap, raw):
            if sink is not None:
                sink.close()
    print(json.dumps({"format": args.format, **sent}))
    return 0
