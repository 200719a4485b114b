"""ASTERIX datablock framing: split datagrams and byte streams into datablocks.

Wire layout of one datablock (EUROCONTROL ASTERIX Part 1)::

    octet 0      CAT   category, 1..255
    octets 1-2   LEN   length of the whole datablock in octets, big-endian, >= 3
    octets 3..   records, each an FSPEC followed by the items it announces

A UDP datagram carries one or more whole datablocks back to back; a TCP stream or a raw
``.ast`` file carries them with no other framing. :func:`split_datagram` rejects a datagram's
tail from the first bad header on (a datagram cannot be resynchronised reliably);
:class:`DatablockStream` resynchronises a byte stream by accepting a header only when the
datablock it announces is followed by another plausible header or ends exactly where the
input received so far ends, skipping one byte at a time otherwise (so a datablock directly
followed by garbage is dropped with it: it cannot be confirmed). Every rejection is counted in
a :class:`Rejections`.
"""

from __future__ import annotations

from dataclasses import dataclass

from airpicture.io.rejections import Rejections

STANDARD_CATEGORIES: frozenset[int] = frozenset(
    {1, 2, 4, 8, 9, 10, 11, 15, 16, 17, 18, 19, 20, 21, 23, 24, 25, 30, 31, 32, 34, 48, 62,
     63, 65, 150, 151, 152, 205, 240, 247, 252}
)
"""Categories a stream resynchroniser treats as plausible headers."""

MIN_BLOCK = 4
"""Smallest useful datablock: header plus a one-octet record."""


@dataclass(frozen=True, slots=True)
class Datablock:
    """One framed datablock: its category and the record octets after the header."""

    category: int
    records: bytes

    def to_bytes(self) -> bytes:
        """The datablock on the wire (header included)."""
        return bytes([self.category]) + (len(self.records) + 3).to_bytes(2, "big") + self.records


def make_datablock(category: int, records: bytes) -> bytes:
    """Frame concatenated ``records`` as one datablock of ``category``."""
    if not 0 < category < 256:
        raise ValueError(f"category must be 1..255, got {category}")
    if len(records) + 3 > 0xFFFF:
        raise ValueError(f"datablock too long: {len(records) + 3} octets > 65535")
    return Datablock(category, bytes(records)).to_bytes()


def split_datagram(data: bytes, rejections: Rejections, source: str = "") -> list[Datablock]:
    """The datablocks of one datagram, in order.

    Rejected and counted: a header cut short (``asterix.truncated_header``), a length below 4
    (``asterix.bad_length``) or past the end of the datagram (``asterix.truncated_block``); the
    rest of the datagram after such a header is dropped.
    """
    out: list[Datablock] = []
    pos, n = 0, len(data)
    while pos < n:
        if n - pos < 3:
            rejections.skip(n - pos, "asterix.truncated_header", source)
            break
        length = (data[pos + 1] << 8) | data[pos + 2]
        if length < MIN_BLOCK:
            rejections.skip(n - pos, "asterix.bad_length", source)
            break
        if pos + length > n:
            rejections.skip(n - pos, "asterix.truncated_block", source)
            break
        out.append(Datablock(data[pos], bytes(data[pos + 3 : pos + length])))
        pos += length
    return out


class DatablockStream:
    """Incremental framing of an ASTERIX byte stream (TCP, raw ``.ast`` file) with resync.

    Feed chunks with :meth:`feed`; call :meth:`flush` at the end of the input. ``categories``
    are the categories accepted as plausible headers while scanning.
    """

    def __init__(
        self,
        rejections: Rejections,
        source: str = "",
        categories: frozenset[int] = STANDARD_CATEGORIES,
        max_length: int = 0xFFFF,
    ) -> None:
        self._buf = bytearray()
        self._rej = rejections
        self._source = source
        self._cats = categories
        self._max = max_length
        self._skipped = 0

    def _plausible(self, pos: int) -> bool:
        b = self._buf
        if b[pos] not in self._cats:
            return False
        length = (b[pos + 1] << 8) | b[pos + 2]
        return MIN_BLOCK <= length <= self._max

    def _settle(self) -> None:
        if self._skipped:
            self._rej.skip(self._skipped, "asterix.resync", self._source)
            self._skipped = 0

    def feed(self, chunk: bytes, final: bool = False) -> list[Datablock]:
        """Append ``chunk`` and return the datablocks now complete and confirmed."""
        self._buf += chunk
        out: list[Datablock] = []
        b = self._buf
        pos, n = 0, len(b)
        while n - pos >= 3:
            if not self._plausible(pos):
                pos += 1
                self._skipped += 1
                continue
            length = (b[pos + 1] << 8) | b[pos + 2]
            rest = n - pos - length
            if (rest < 0 or 0 < rest < 3) and not final:
                break  # wait for the rest, or for the next header that confirms this one
            if rest < 0 or (rest >= 3 and not self._plausible(pos + length)):
                pos += 1
                self._skipped += 1
                continue
            self._settle()
            out.append(Datablock(b[pos], bytes(b[pos + 3 : pos + length])))
            pos += length
        if final:
            self._skipped += n - pos
            pos = n
            self._settle()
        del b[:pos]
        return out

    def flush(self) -> list[Datablock]:
        """End of input: return what is left that frames cleanly, count the rest."""
        return self.feed(b"", final=True)


def split_stream(data: bytes, rejections: Rejections, source: str = "") -> list[Datablock]:
    """All datablocks of a complete byte stream (for example a raw ``.ast`` file)."""
    stream = DatablockStream(rejections, source)
    return stream.feed(data) + stream.flush()
