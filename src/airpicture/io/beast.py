"""Beast binary framing (dump1090 / readsb, TCP port 30005): byte stream to Mode S frames.

Wire layout of one message::

    0x1a  type  timestamp (6 octets)  signal (1 octet)  payload
          '1' (0x31) Mode A/C, payload 2 octets
          '2' (0x32) Mode S short, payload 7 octets (56 bits)
          '3' (0x33) Mode S long, payload 14 octets (112 bits)

The timestamp is a 48-bit big-endian counter of the receiver's 12 MHz clock; the signal is
the RSSI octet. Every 0x1a inside timestamp, signal or payload is doubled (0x1a 0x1a).

Resynchronisation (all counted in a :class:`Rejections`): bytes before a 0x1a
(``beast.garbage``), an unknown type octet (``beast.unknown_type``), and a single 0x1a inside
a message (``beast.bad_escape``: the message is dropped and that 0x1a starts the next one).
A message cut by the end of the input waits for the next chunk. The scan is compiled (Numba).
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np
from numpy.typing import NDArray

from airpicture.io.rejections import Rejections

ESC = 0x1A
TYPE_MODE_AC, TYPE_SHORT, TYPE_LONG = 0x31, 0x32, 0x33
CLOCK_HZ = 12e6
_REASONS = ("beast.garbage", "beast.unknown_type", "beast.bad_escape")


@numba.njit(cache=True)
def _scan(
    buf: NDArray[np.uint8],
    kind: NDArray[np.uint8],
    stamp: NDArray[np.int64],
    signal: NDArray[np.uint8],
    payload: NDArray[np.uint8],
    errors: NDArray[np.int64],
) -> tuple[int, int]:
    """Frame ``buf``; returns ``(messages, octets consumed)``. ``errors``: counts, octets."""
    n_buf = buf.shape[0]
    tmp = np.empty(21, np.uint8)
    i = 0
    n = 0
    while i < n_buf:
        if buf[i] != ESC:
            j = i
            while j < n_buf and buf[j] != ESC:
                j += 1
            errors[0] += 1
            errors[3] += j - i
            i = j
            continue
        if i + 1 >= n_buf:
            break
        t = buf[i + 1]
        if t == TYPE_MODE_AC:
            size = 9
        elif t == TYPE_SHORT:
            size = 14
        elif t == TYPE_LONG:
            size = 21
        else:
            errors[1] += 1
            errors[3] += 1
            i += 1  # resync at the next 0x1a
            continue
        j = i + 2
        k = 0
        state = 0  # 0 reading, 1 complete, 2 broken escape, 3 need more input
        while k < size:
            if j >= n_buf:
                state = 3
                break
            b = buf[j]
            if b == ESC:
                if j + 1 >= n_buf:
                    state = 3
                    break
                if buf[j + 1] != ESC:
                    state = 2
                    break
                j += 2
            else:
                j += 1
            tmp[k] = b
            k += 1
        if state == 3:
            break
        if state == 2:
            errors[2] += 1
            errors[3] += j - i
            i = j
            continue
        kind[n] = t
        ts = 0
        for q in range(6):
            ts = (ts << 8) | tmp[q]
        stamp[n] = ts
        signal[n] = tmp[6]
        payload[n, :] = 0
        payload[n, : size - 7] = tmp[7:size]
        n += 1
        i = j
    return n, i


@dataclass(frozen=True)
class BeastFrames:
    """Framed messages: ``kind`` (0x31/0x32/0x33), 12 MHz ``stamp``, ``signal``, and
    ``payload`` ``(N, 14)`` (short frames in the first 7 octets, Mode A/C in the first 2)."""

    kind: NDArray[np.uint8]
    stamp: NDArray[np.int64]
    signal: NDArray[np.uint8]
    payload: NDArray[np.uint8]

    def __len__(self) -> int:
        return len(self.kind)

    def hex_frames(self) -> list[str]:
        """Mode S frames as hex strings (Mode A/C messages excluded)."""
        out: list[str] = []
        for k, p in zip(self.kind, self.payload, strict=True):
            if k == TYPE_SHORT:
                out.append(p[:7].tobytes().hex())
            elif k == TYPE_LONG:
                out.append(p.tobytes().hex())
        return out


class BeastStream:
    """Incremental Beast framing of a byte stream; :meth:`feed` returns complete messages."""

    def __init__(self, rejections: Rejections, source: str = "") -> None:
        self._tail = b""
        self._rej = rejections
        self._source = source

    def feed(self, chunk: bytes) -> BeastFrames:
        """Append ``chunk``; frame every complete message."""
        data = self._tail + chunk
        buf = np.frombuffer(data, np.uint8)
        cap = len(data) // 9 + 1
        kind = np.empty(cap, np.uint8)
        stamp = np.empty(cap, np.int64)
        signal = np.empty(cap, np.uint8)
        payload = np.empty((cap, 14), np.uint8)
        errors = np.zeros(4, np.int64)
        n, used = _scan(buf, kind, stamp, signal, payload, errors)
        self._tail = data[used:]
        for reason, count in zip(_REASONS, errors[:3], strict=True):
            self._rej.add(reason, int(count), self._source)
        self._rej.bytes_skipped += int(errors[3])
        return BeastFrames(kind[:n].copy(), stamp[:n].copy(), signal[:n].copy(),
                           payload[:n].copy())

    def flush(self) -> None:
        """End of input: count a message left incomplete."""
        if self._tail:
            self._rej.skip(len(self._tail), "beast.truncated", self._source)
            self._tail = b""


def encode_beast(kind: int, stamp: int, signal: int, payload: bytes) -> bytes:
    """One Beast message, 0x1a doubled (for recordings and tests)."""
    body = stamp.to_bytes(6, "big") + bytes([signal]) + payload
    return bytes([ESC, kind]) + body.replace(b"\x1a", b"\x1a\x1a")


def decode_beast(data: bytes, rejections: Rejections, source: str = "") -> BeastFrames:
    """All messages of a complete Beast byte string (for example a capture file)."""
    stream = BeastStream(rejections, source)
    frames = stream.feed(data)
    stream.flush()
    return frames
