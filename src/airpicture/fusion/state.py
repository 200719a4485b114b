"""The picture's state between epochs, an epoch's result, and the picture state hash.

:class:`PictureState` is everything fusion remembers: the newest report of every partner
track heard within ``memory_s`` with the system track number it is bound to
(``contributions``), and the system tracks of the last epoch (``systems``). It is immutable;
:func:`airpicture.fusion.epoch.fuse_epoch` returns a new one.

:func:`picture_hash` digests an epoch's picture canonically: numbers as little-endian
integers, positions and velocities rounded to millimetres (per second), covariances to
1e-3 m^2 (m^2/s^2 ...), so nodes on different CPUs, whose floating-point results may differ
in the last bits, still agree.
"""

from __future__ import annotations

import dataclasses
import hashlib

import numpy as np
from numpy.typing import NDArray

from airpicture.fusion.numbering import DEFAULT_MODULUS
from airpicture.track_table import TrackTable

__all__ = ["EpochResult", "FusionConfig", "PictureState", "picture_hash"]


@dataclasses.dataclass(frozen=True)
class FusionConfig:
    """Fusion parameters (times in seconds of data time).

    - ``epoch_s``: epoch length; epochs end at whole multiples of it.
    - ``lateness_s``: bounded lateness: an epoch closes once data time has passed its end by
      this much (the watermark).
    - ``q``: process noise density of the constant-velocity prediction (m^2/s^3).
    - ``gate_probability``: chi-square gate for association (3 dof, positions).
    - ``break_probability``: a bound partner track further than this gate from its system
      track (or with a conflicting ICAO address) is unbound and associated afresh.
    - ``max_age_s``: a partner track not updated for this long stops contributing.
    - ``current_s``: a partner track is *current* while its newest report is at most this
      much older than its nation's newest report (nodes report every track they hold at each
      release, so one left out of the latest release has been dropped). Only a current track
      keeps its nation's other tracks off its system track; a dropped one still contributes
      until ``max_age_s`` but lets the nation's new track on the same object join its system
      track instead of founding a duplicate. Keep it below the nations' release interval.
    - ``coast_s``: a system track with no contributor is kept (coasting) this long after its
      last report, then leaves the picture.
    - ``memory_s``: bindings of partner tracks to STNs are remembered this long after their
      last report, so a partner that drops out and rejoins gets its numbers back.
    - ``neighbours``, ``max_radius_m``: candidate search for association.
    - ``stn_modulus``: STNs run from 1 to ``stn_modulus - 1``.
    """

    epoch_s: float = 1.0
    lateness_s: float = 0.5
    q: float = 1.0
    gate_probability: float = 0.9999
    break_probability: float = 1.0 - 1e-7
    max_age_s: float = 10.0
    current_s: float = 0.5
    coast_s: float = 20.0
    memory_s: float = 600.0
    neighbours: int = 8
    max_radius_m: float = 100_000.0
    stn_modulus: int = DEFAULT_MODULUS

    def __post_init__(self) -> None:
        for name in ("epoch_s", "max_age_s", "memory_s", "max_radius_m"):
            if not getattr(self, name) > 0.0:
                raise ValueError(f"FusionConfig.{name} must be > 0, got {getattr(self, name)}")
        for name in ("lateness_s", "q", "coast_s", "current_s"):
            if not getattr(self, name) >= 0.0:
                raise ValueError(f"FusionConfig.{name} must be >= 0, got {getattr(self, name)}")
        if not 0.0 < self.gate_probability <= self.break_probability < 1.0:
            raise ValueError("need 0 < gate_probability <= break_probability < 1")
        if self.memory_s < self.max_age_s or self.neighbours < 1 or self.stn_modulus < 3:
            raise ValueError("need memory_s >= max_age_s, neighbours >= 1, stn_modulus >= 3")


@dataclasses.dataclass(frozen=True)
class PictureState:
    """What fusion carries from one epoch to the next (see the module docstring).

    ``nations``: every nation heard, sorted (``S16``). ``contributions``: newest report per
    partner track (``source`` = nation, ``track`` = local id), sorted by
    ``contribution_key = (index of nation in nations) << 40 | track``, with
    ``contribution_stn`` the STN it is bound to (0: none). ``systems``: the system tracks at
    ``time`` (``track`` = STN, sorted), with ``last_seen`` the newest contributing report time
    of each.
    """

    time: float
    nations: NDArray[np.bytes_]
    contributions: TrackTable
    contribution_key: NDArray[np.int64]
    contribution_stn: NDArray[np.int64]
    systems: TrackTable
    last_seen: NDArray[np.float64]

    @classmethod
    def empty(cls) -> PictureState:
        return cls(
            time=-np.inf,
            nations=np.zeros(0, "S16"),
            contributions=TrackTable.empty(),
            contribution_key=np.zeros(0, np.int64),
            contribution_stn=np.zeros(0, np.int64),
            systems=TrackTable.empty(),
            last_seen=np.zeros(0),
        )


@dataclasses.dataclass(frozen=True)
class EpochResult:
    """One closed epoch.

    ``picture``: the system tracks at ``time`` (``track`` = STN, ``source`` = ``picture``),
    sorted by STN. ``contributor_stn``, ``contributor_nation``, ``contributor_track``: which
    partner tracks each system track was fused from this epoch, sorted by STN then nation.
    ``hash``: :func:`picture_hash` of the above. ``counts``: reports in, late reports,
    reports dropped as stale, new system tracks, bindings broken, and so on.
    """

    time: float
    picture: TrackTable
    contributor_stn: NDArray[np.int64]
    contributor_nation: NDArray[np.bytes_]
    contributor_track: NDArray[np.int64]
    hash: str
    counts: dict[str, int]


def _rounded(a: NDArray[np.float64], scale: float) -> bytes:
    return np.round(a * scale).astype("<i8").tobytes()


def picture_hash(
    time: float,
    picture: TrackTable,
    contributor_stn: NDArray[np.int64],
    contributor_nation: NDArray[np.bytes_],
    contributor_track: NDArray[np.int64],
) -> str:
    """SHA-256 (hex) of an epoch's picture in canonical form (see the module docstring)."""
    h = hashlib.sha256()
    h.update(np.array([time], "<f8").tobytes())
    h.update(np.array([len(picture)], "<i8").tobytes())
    h.update(picture.track.astype("<i8").tobytes())
    h.update(_rounded(picture.state, 1e3))
    iu = np.triu_indices(6)
    h.update(_rounded(picture.covariance[:, iu[0], iu[1]], 1e3))
    for column in (picture.status, picture.identity, picture.icao, picture.mode3a):
        h.update(column.astype("<i8").tobytes())
    h.update(picture.callsign.astype("S8").tobytes())
    h.update(contributor_stn.astype("<i8").tobytes())
    h.update(contributor_nation.astype("S16").tobytes())
    h.update(contributor_track.astype("<i8").tobytes())
    return h.hexdigest()
