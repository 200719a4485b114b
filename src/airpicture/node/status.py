"""What a node shows of itself: its links and its counters (:meth:`Node.status`)."""

from __future__ import annotations

import dataclasses
from typing import Protocol

__all__ = ["Counters", "LinkState", "NodeStatus"]


@dataclasses.dataclass(frozen=True)
class LinkState:
    """What the node knows of one partner's feed on the shared log.

    ``state``: ``unknown`` (never heard), ``up``, ``down`` (silent for ``stale_s`` of the
    log's data time) or ``ended`` (it said its run is over).
    """

    nation: str
    state: str
    last_time: float | None
    last_seq: int
    accepted: int
    rejected: int


class Counters(Protocol):
    """Something at the node's edge that counts (a recorder): ``counters()`` by name."""

    def counters(self) -> dict[str, int]:
        """Every counter now, by name."""
        ...


@dataclasses.dataclass(frozen=True)
class NodeStatus:
    """A node at a glance: its picture, its links, its counters.

    Every rejection class has its counts here, by reason: ``feeds_rejected`` (plots refused
    at the edge, before the tracker: a decoder or a recorded feed), ``plots_rejected`` (by the
    tracker), ``envelopes_rejected`` (by the verifier; per sender in ``links``),
    ``reports_rejected`` (tracks of accepted envelopes dropped, and the picture's own
    refusals, ``picture_*``), ``late_reports``, and ``recorder`` (its written, pending,
    failed and dropped records per stream, see :meth:`airpicture.io.recorder.Recorder.counters`;
    empty without a recorder).
    """

    nation: str
    audience: str
    epoch: float | None
    hash: str | None
    epochs: int
    system_tracks: int
    published: int
    released_tracks: int
    log_records: int
    links: dict[str, LinkState]
    plots_rejected: dict[str, int]
    envelopes_rejected: dict[str, int]
    reports_rejected: dict[str, int]
    late_reports: int
    feeds_rejected: dict[str, int]
    recorder: dict[str, int]

    def as_dict(self) -> dict[str, object]:
        """Plain data (for JSON)."""
        return dataclasses.asdict(self)

    def rejections(self) -> dict[str, int]:
        """Every rejection class in one flat map, ``"<class>: <reason>"`` to count (zeros
        left out): ``feed``, ``plot``, ``envelope``, ``report`` (``late`` included) and
        ``recorder`` (failed part writes and dropped records per stream)."""
        out: dict[str, int] = {}
        for kind, group in (("feed", self.feeds_rejected), ("plot", self.plots_rejected),
                            ("envelope", self.envelopes_rejected),
                            ("report", {**self.reports_rejected, "late": self.late_reports}),
                            ("recorder", {k: v for k, v in self.recorder.items()
                                          if k.endswith(("_failures", "_dropped"))})):
            out.update({f"{kind}: {reason}": n for reason, n in group.items() if n})
        return out
