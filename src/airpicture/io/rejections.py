"""Counted rejections: bad input never crashes a decoder and never vanishes silently.

Every decoder in :mod:`airpicture.io` takes a :class:`Rejections` and adds one count per rejected
unit (byte run, datablock, record, frame, line) under a short, stable reason such as
``asterix.truncated_block`` or ``beast.bad_escape``. Reasons are dotted: the first part names
the decoder, the rest the cause. Counts can be split per source (a sensor, a receiver, a socket
peer) so that an operator sees which feed is bad.
"""

from __future__ import annotations

from collections import Counter


class Rejections:
    """Counts of rejected input by ``(source, reason)``.

    ``bytes_skipped`` counts the bytes dropped while resynchronising a byte stream.
    """

    def __init__(self) -> None:
        self.counts: Counter[tuple[str, str]] = Counter()
        self.bytes_skipped = 0

    def add(self, reason: str, n: int = 1, source: str = "") -> None:
        """Count ``n`` rejections of ``reason`` (ignored when ``n`` is zero)."""
        if n:
            self.counts[(source, reason)] += n

    def skip(self, n_bytes: int, reason: str, source: str = "") -> None:
        """Count one resynchronisation that dropped ``n_bytes`` bytes."""
        if n_bytes > 0:
            self.bytes_skipped += n_bytes
            self.counts[(source, reason)] += 1

    def total(self) -> int:
        """All rejections counted so far."""
        return sum(self.counts.values())

    def by_reason(self) -> dict[str, int]:
        """Counts summed over sources, sorted by reason."""
        out: Counter[str] = Counter()
        for (_, reason), n in self.counts.items():
            out[reason] += n
        return dict(sorted(out.items()))

    def merge(self, other: Rejections) -> None:
        """Add the counts of ``other`` to these."""
        self.counts.update(other.counts)
        self.bytes_skipped += other.bytes_skipped

    def __repr__(self) -> str:
        return f"Rejections({self.by_reason()}, bytes_skipped={self.bytes_skipped})"
