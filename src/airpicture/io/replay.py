"""Recordings of raw feeds and their replay at real or accelerated speed.

Files: a pcap capture (datagrams with capture times, see :mod:`airpicture.io.pcap`) or a raw
``.ast`` byte stream of datablocks, which has no times (each datablock gets ``start_time``).
:func:`read_asterix_file` tells them apart by the pcap magic number.

:func:`paced` replays timed items on the wall clock: item ``k`` is released at
``wall0 + (t_k - t_0) / speed``; ``speed = inf`` releases everything at once (replay as fast
as the machine allows, the data-time path of DESIGN.md). Clock and sleep are injectable so
tests run instantly.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TypeVar

from airpicture.io.asterix_blocks import split_stream
from airpicture.io.pcap import Datagram, read_pcap
from airpicture.io.rejections import Rejections

T = TypeVar("T")
PCAP_MAGICS = (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")


def paced(
    items: Iterable[tuple[float, T]],
    speed: float = 1.0,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[tuple[float, T]]:
    """Yield ``(data_time, item)`` pairs no earlier than their scaled offsets allow."""
    if not speed > 0:
        raise ValueError(f"speed must be > 0 (inf for as fast as possible), got {speed}")
    t0: float | None = None
    wall0 = 0.0
    for t, item in items:
        if t0 is None:
            t0, wall0 = t, clock()
        if not math.isinf(speed):
            delay = wall0 + (t - t0) / speed - clock()
            if delay > 0:
                sleep(delay)
        yield t, item


def is_pcap(path: str | Path) -> bool:
    """Whether the file starts with a pcap magic number."""
    with open(path, "rb") as fh:
        return fh.read(4) in PCAP_MAGICS


def read_asterix_file(
    path: str | Path, rejections: Rejections, start_time: float = 0.0
) -> list[Datagram]:
    """The datagrams of a pcap, or the datablocks of a raw ``.ast`` file as datagrams."""
    if is_pcap(path):
        return list(read_pcap(path, rejections))
    data = Path(path).read_bytes()
    blocks = split_stream(data, rejections, str(path))
    return [Datagram(start_time, b.to_bytes()) for b in blocks]


def write_raw(path: str | Path, payloads: Iterable[bytes]) -> int:
    """Write datablocks back to back as a raw ``.ast`` file; returns octets written."""
    n = 0
    with open(path, "wb") as fh:
        for p in payloads:
            fh.write(p)
            n += len(p)
    return n
