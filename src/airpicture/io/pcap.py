"""pcap captures of UDP feeds: read the datagrams out, write datagrams in.

File layout (libpcap, little- or big-endian, microsecond or nanosecond stamps)::

    global header 24 octets: magic a1b2c3d4 (us) | a1b23c4d (ns), version 2.4, thiszone,
                             sigfigs, snaplen, link type (1 Ethernet, 113 Linux SLL,
                             276 Linux SLL2, 101/228 raw IPv4, 0 BSD loopback)
    per packet 16 octets:    ts_sec, ts_frac, captured length, original length; then the frame

    Ethernet 14 octets (+4 per 802.1Q tag) -> IPv4 (IHL x 4 octets, protocol 17) or IPv6
    (40 octets, next header 17) -> UDP 8 octets (source port, destination port, length,
    checksum) -> payload of length - 8 octets (Ethernet padding ignored)

Packets that are not UDP, are IP fragments, or are cut short by the snap length are counted
in a :class:`Rejections` and skipped. The writer makes Ethernet/IPv4/UDP frames with a valid
IPv4 header checksum and a zero (absent) UDP checksum.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from airpicture.io.rejections import Rejections

LINK_ETHERNET, LINK_SLL, LINK_SLL2, LINK_RAW, LINK_RAW4, LINK_NULL = 1, 113, 276, 101, 228, 0


@dataclass(frozen=True, slots=True)
class Datagram:
    """One UDP datagram with its capture (or receive) time, Unix seconds."""

    time: float
    payload: bytes
    src: str = ""
    dst: str = ""
    src_port: int = 0
    dst_port: int = 0


def _ip(data: bytes, pos: int, rej: Rejections) -> tuple[str, str, int, int, bytes] | None:
    if len(data) < pos + 1:
        rej.add("pcap.truncated_frame")
        return None
    version = data[pos] >> 4
    if version == 4:
        if len(data) < pos + 20:
            rej.add("pcap.truncated_frame")
            return None
        ihl = (data[pos] & 0x0F) * 4
        flags_frag = (data[pos + 6] << 8) | data[pos + 7]
        if flags_frag & 0x3FFF:
            rej.add("pcap.ip_fragment")
            return None
        if data[pos + 9] != 17:
            rej.add("pcap.not_udp")
            return None
        src = ".".join(str(b) for b in data[pos + 12 : pos + 16])
        dst = ".".join(str(b) for b in data[pos + 16 : pos + 20])
        udp = pos + ihl
    elif version == 6:
        if len(data) < pos + 40:
            rej.add("pcap.truncated_frame")
            return None
        if data[pos + 6] != 17:
            rej.add("pcap.not_udp")
            return None
        src, dst = data[pos + 8 : pos + 24].hex(), data[pos + 24 : pos + 40].hex()
        udp = pos + 40
    else:
        rej.add("pcap.not_ip")
        return None
    if len(data) < udp + 8:
        rej.add("pcap.truncated_frame")
        return None
    sport, dport, length = struct.unpack_from(">HHH", data, udp)
    if length < 8 or udp + length > len(data):
        rej.add("pcap.truncated_frame")
        return None
    return src, dst, sport, dport, bytes(data[udp + 8 : udp + length])


def _network_offset(link: int, frame: bytes) -> int | None:
    if link == LINK_ETHERNET:
        pos, ethertype = 12, -1
        while len(frame) >= pos + 2:
            ethertype = (frame[pos] << 8) | frame[pos + 1]
            if ethertype in (0x8100, 0x88A8):
                pos += 4
                continue
            break
        return pos + 2 if ethertype in (0x0800, 0x86DD) else None
    if link == LINK_SLL:
        return 16
    if link == LINK_SLL2:
        return 20
    if link in (LINK_RAW, LINK_RAW4):
        return 0
    if link == LINK_NULL:
        return 4
    return None


def read_pcap(source: str | Path | BinaryIO, rejections: Rejections) -> Iterator[Datagram]:
    """The UDP datagrams of a pcap file, in capture order."""
    if isinstance(source, (str, Path)):
        with open(source, "rb") as fh:
            yield from read_pcap(fh, rejections)
        return
    head = source.read(24)
    if len(head) < 24:
        raise ValueError("not a pcap file: shorter than its 24-octet header")
    magic = head[:4]
    formats = {b"\xd4\xc3\xb2\xa1": ("<", 1e-6), b"\xa1\xb2\xc3\xd4": (">", 1e-6),
               b"\x4d\x3c\xb2\xa1": ("<", 1e-9), b"\xa1\xb2\x3c\x4d": (">", 1e-9)}
    if magic not in formats:
        raise ValueError(f"not a pcap file: magic {magic.hex()} (pcapng is not supported)")
    endian, frac = formats[magic]
    link = struct.unpack(endian + "I", head[20:24])[0] & 0xFFFF
    while True:
        rec = source.read(16)
        if len(rec) < 16:
            if rec:
                rejections.add("pcap.truncated_packet")
            return
        sec, sub, incl, _orig = struct.unpack(endian + "IIII", rec)
        frame = source.read(incl)
        if len(frame) < incl:
            rejections.add("pcap.truncated_packet")
            return
        pos = _network_offset(link, frame)
        if pos is None:
            rejections.add("pcap.not_ip")
            continue
        ip = _ip(frame, pos, rejections)
        if ip is not None:
            yield Datagram(sec + sub * frac, ip[4], ip[0], ip[1], ip[2], ip[3])


def _checksum(header: bytes) -> int:
    total = sum(struct.unpack(f">{len(header) // 2}H", header))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return int(~total & 0xFFFF)


def _frame(d: Datagram) -> bytes:
    src = bytes(int(x) for x in (d.src or "127.0.0.1").split("."))
    dst = bytes(int(x) for x in (d.dst or "127.0.0.1").split("."))
    udp = struct.pack(">HHHH", d.src_port, d.dst_port, 8 + len(d.payload), 0) + d.payload
    ip = bytearray(struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0x4000, 64, 17, 0,
                               src, dst))
    ip[10:12] = _checksum(bytes(ip)).to_bytes(2, "big")
    eth = b"\x01\x00\x5e\x00\x00\x01" + b"\x02\x00\x00\x00\x00\x01" + b"\x08\x00"
    return eth + bytes(ip) + udp


class PcapWriter:
    """Writes UDP datagrams to a microsecond pcap file (Ethernet/IPv4/UDP frames)."""

    def __init__(self, path: str | Path) -> None:
        self._fh = open(path, "wb")
        self._fh.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, LINK_ETHERNET))
        self.packets = 0

    def write(self, d: Datagram) -> None:
        """Append one datagram; IPv4 dotted addresses only (empty means 127.0.0.1)."""
        frame = _frame(d)
        sec = int(d.time)
        usec = min(round((d.time - sec) * 1e6), 999_999)
        self._fh.write(struct.pack("<IIII", sec, usec, len(frame), len(frame)) + frame)
        self.packets += 1

    def close(self) -> None:
        self._fh.close()

    def __enter__(self) -> PcapWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def write_pcap(path: str | Path, datagrams: Iterable[Datagram]) -> int:
    """Write ``datagrams`` to a new pcap file; returns the number written."""
    with PcapWriter(path) as w:
        for d in datagrams:
            w.write(d)
        return w.packets
