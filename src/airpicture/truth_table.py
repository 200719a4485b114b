"""Simulated truth as columns: object states over time, and the objects' fixed attributes."""

from __future__ import annotations

import dataclasses
import enum

import numpy as np
from numpy.typing import NDArray

from airpicture.columns import ColumnTable


class ObjectClass(enum.IntEnum):
    """What kind of air object a truth object is."""

    AIRLINER = 0
    """Scheduled traffic on a great-circle route between two of the region's airports."""
    RECORDED = 1
    """A real recorded flight replayed as truth (time-shifted, optionally relocated)."""
    NONCOOPERATIVE = 2
    """No transponder: low flyers, fast high flyers and manoeuvring objects."""


@dataclasses.dataclass(frozen=True)
class TruthTable(ColumnTable):
    """Object states sampled over time: one row per (time, object).

    ``position`` is ECEF (m), ``velocity`` ECEF (m/s), both ``(N, 3)``; ``time`` in Unix
    seconds (UTC). Rows are ordered by time, then object id.
    """

    time: NDArray[np.float64]
    object: NDArray[np.int64]
    position: NDArray[np.float64]
    velocity: NDArray[np.float64]

    @classmethod
    def empty(cls) -> TruthTable:
        return cls(np.zeros(0), np.zeros(0, np.int64), np.zeros((0, 3)), np.zeros((0, 3)))


@dataclasses.dataclass(frozen=True)
class ObjectTable(ColumnTable):
    """Fixed attributes of the truth objects, one row per object id.

    ``icao`` is the 24-bit address (-1 without transponder), ``mode3a`` the Mode 3/A code as an
    integer of its four octal digits (-1 when none), ``rcs`` the mean radar cross-section (m^2).
    ``transponder``: replies to secondary radar; ``adsb``: broadcasts ADS-B; ``emitter``: radiates
    and is visible to passive ESM.
    """

    id: NDArray[np.int64]
    cls: NDArray[np.uint8]
    icao: NDArray[np.int32]
    mode3a: NDArray[np.int16]
    callsign: NDArray[np.bytes_]
    transponder: NDArray[np.bool_]
    adsb: NDArray[np.bool_]
    emitter: NDArray[np.bool_]
    rcs: NDArray[np.float64]
    nacp: NDArray[np.int8]
    nacv: NDArray[np.int8]

    @classmethod
    def empty(cls) -> ObjectTable:
        return cls(
            np.zeros(0, np.int64), np.zeros(0, np.uint8), np.zeros(0, np.int32),
            np.zeros(0, np.int16), np.zeros(0, "S8"), np.zeros(0, bool), np.zeros(0, bool),
            np.zeros(0, bool), np.zeros(0), np.zeros(0, np.int8), np.zeros(0, np.int8),
        )


@dataclasses.dataclass(frozen=True)
class CoverageTable(ColumnTable):
    """Which nations' sensors cover each object, sampled every coverage interval.

    ``nations`` is a bit mask: bit ``i`` is set when a position-measuring sensor (radar, SSR,
    ADS-B) of the scenario's ``i``-th nation covers the object at ``time``.
    """

    time: NDArray[np.float64]
    object: NDArray[np.int64]
    nations: NDArray[np.uint32]

    @classmethod
    def empty(cls) -> CoverageTable:
        return cls(np.zeros(0), np.zeros(0, np.int64), np.zeros(0, np.uint32))
