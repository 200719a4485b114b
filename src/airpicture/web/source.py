"""The seam between a node (or a recording) and the COP server: :class:`PictureSource`.

The server only reads: it asks the source for its current :class:`PictureSnapshot` (a few
times a second; a new object means the picture changed), for the sensors, for the recorded
history (replay) and for the identity history of a track. Its one write is
:meth:`PictureSource.apply_identity`: an operator's :class:`~airpicture.messages.IdentityOverride`,
which a node publishes into the shared log so that every node applies it in log order.

Snapshots are immutable and swapped whole, so a node may build them on another thread.
:class:`IdentityBook` is the small piece of state a source needs to apply overrides to the
fused picture and to remember each track's identity history.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Mapping, Sequence
from typing import Protocol

import msgspec

from airpicture.messages import (
    Alert,
    Identity,
    IdentityOverride,
    LocalTrack,
    SensorInfo,
    SystemTrack,
)

__all__ = [
    "IdentityBook",
    "IdentityChange",
    "PartnerStatus",
    "PictureSnapshot",
    "PictureSource",
]


class PartnerStatus(msgspec.Struct, frozen=True, kw_only=True):
    """The link to one partner nation as a node sees it.

    ``link`` is ``up`` (reports arriving), ``stale`` (none for a while) or ``down``;
    ``last_report`` the data time (s) of its newest report; ``received`` and ``rejected``
    count its records.
    """

    nation: str
    link: str
    last_report: float | None = None
    received: int = 0
    rejected: int = 0


class IdentityChange(msgspec.Struct, frozen=True, kw_only=True):
    """One entry of a track's identity history: automatic (``operator`` empty) or manual."""

    time: float
    identity: Identity
    reason: str = ""
    operator: str = ""
    nation: str = ""


@dataclasses.dataclass(frozen=True)
class PictureSnapshot:
    """The picture at one closed epoch, as the COP shows it.

    Attributes
    ----------
    epoch : int
        Index of the epoch (its end time divided by the epoch length).
    time : float
        Data time (s) of the picture.
    hash : str
        The picture hash (:func:`airpicture.fusion.state.picture_hash`), the same on every node.
    tracks : sequence of SystemTrack
        The system tracks, identities with operator overrides applied.
    local : mapping of nation to sequence of LocalTrack
        Newest local tracks of each nation: the node's own tracker for its own nation, the
        released reports for partners. What one nation alone would see.
    alerts : sequence of Alert
    partners : sequence of PartnerStatus
    node : str
        The nation whose node serves this picture ("" for a recording).
    """

    epoch: int
    time: float
    hash: str
    tracks: Sequence[SystemTrack]
    local: Mapping[str, Sequence[LocalTrack]] = dataclasses.field(default_factory=dict)
    alerts: Sequence[Alert] = ()
    partners: Sequence[PartnerStatus] = ()
    node: str = ""


class PictureSource(Protocol):
    """What the COP server needs from a node or a recording (module docstring)."""

    def snapshot(self) -> PictureSnapshot | None:
        """The current picture (``None`` before the first epoch closes)."""
        ...

    def sensors(self) -> Sequence[SensorInfo]:
        """Every sensor contributing to the picture."""
        ...

    def history(self) -> Sequence[float]:
        """Data times (s, increasing) of the pictures available to :meth:`snapshot_at`."""
        ...

    def snapshot_at(self, time: float) -> PictureSnapshot | None:
        """The newest recorded picture at or before ``time`` (replay)."""
        ...

    def identity_history(self, stn: int) -> Sequence[IdentityChange]:
        """Identity changes of system track ``stn``, oldest first."""
        ...

    def apply_identity(self, override: IdentityOverride) -> None:
        """Record an operator's identity decision (a node publishes it into the log)."""
        ...


class IdentityBook:
    """Operator overrides in log order, applied over the fused picture; identity histories.

    Thread-safe: a node records overrides from its log thread while the server reads.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._overrides: dict[int, IdentityOverride] = {}
        self._history: dict[int, list[IdentityChange]] = {}
        self.revision = 0
        """Increases with every recorded override (a snapshot built earlier is out of date)."""

    def record(self, override: IdentityOverride) -> None:
        """Apply one override read from the log (the newest per track wins)."""
        with self._lock:
            self._overrides[override.stn] = override
            self._history.setdefault(override.stn, []).append(IdentityChange(
                time=override.time, identity=override.identity, reason=override.reason,
                operator=override.operator, nation=override.nation))
            self.revision += 1

    def override(self, stn: int) -> IdentityOverride | None:
        with self._lock:
            return self._overrides.get(stn)

    def apply(self, tracks: Sequence[SystemTrack]) -> list[SystemTrack]:
        """``tracks`` with overridden identities; notes automatic identity changes."""
        with self._lock:
            out = []
            for t in tracks:
                o = self._overrides.get(t.stn)
                if o is not None:
                    who = f"operator {o.operator}" + (f" ({o.nation})" if o.nation else "")
                    t = msgspec.structs.replace(
                        t, identity=o.identity,
                        identity_reason=f"{who}: {o.reason}" if o.reason else who)
                else:
                    hist = self._history.get(t.stn)
                    if hist is None or hist[-1].identity is not t.identity:
                        self._history.setdefault(t.stn, []).append(IdentityChange(
                            time=t.time, identity=t.identity, reason=t.identity_reason))
                out.append(t)
            return out

    def history(self, stn: int) -> list[IdentityChange]:
        with self._lock:
            return list(self._history.get(stn, ()))
