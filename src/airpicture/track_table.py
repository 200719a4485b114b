"""Tracks as columns: a tracker's or the picture's output, one row per (time, track).

Used for recordings (``tracks.parquet``), for evaluation, and between tracker, fusion and the
edges. ``state`` is ECEF ``[x, y, z, vx, vy, vz]`` (m, m/s) ``(N, 6)``, ``covariance`` its
``(N, 6, 6)`` covariance. ``track`` is the local track id (or the system track number for the
picture); ``source`` names who holds the track (a nation, or ``picture`` / a node name).
``status`` and ``identity`` are indices into :class:`airpicture.messages.TrackStatus` and
:class:`airpicture.messages.Identity` in declaration order. Missing integers are -1.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from numpy.typing import NDArray

from airpicture.columns import ColumnTable
from airpicture.messages import Identity, TrackStatus

STATUS_CODES: tuple[TrackStatus, ...] = tuple(TrackStatus)
IDENTITY_CODES: tuple[Identity, ...] = tuple(Identity)

POSITION_LIMIT_M = 1e8
"""Largest ECEF position component a track may have (m; geostationary orbit is 4.2e7)."""
VELOCITY_LIMIT_M_S = 1e5
"""Largest ECEF velocity component (m/s; escape velocity is 1.1e4)."""
COVARIANCE_LIMIT = 1e14
"""Largest covariance entry (m^2, m^2/s, m^2/s^2: a standard deviation of 1e7 m or m/s)."""
TIME_LIMIT_S = 1e11
"""Largest data time magnitude (s since the Unix epoch; the year 5138)."""


def physical_rows(
    time: NDArray[np.float64], state: NDArray[np.float64], covariance: NDArray[np.float64]
) -> NDArray[np.bool_]:
    """Rows whose time, ECEF state ``(N, 6)`` and covariance ``(N, 6, 6)`` are finite and
    inside the limits above (``False`` for NaN): what fusion and the picture's hash can
    represent. A finite but absurd value (1e300 m) is as much a bad row as a NaN."""
    return (
        (np.abs(time) <= TIME_LIMIT_S)
        & (np.abs(state[:, :3]) <= POSITION_LIMIT_M).all(axis=1)
        & (np.abs(state[:, 3:]) <= VELOCITY_LIMIT_M_S).all(axis=1)
        & (np.abs(covariance) <= COVARIANCE_LIMIT).all(axis=(1, 2))
    )


@dataclasses.dataclass(frozen=True)
class TrackTable(ColumnTable):
    """Track states over time (see the module docstring)."""

    time: NDArray[np.float64]
    track: NDArray[np.int64]
    source: NDArray[np.bytes_]
    state: NDArray[np.float64]
    covariance: NDArray[np.float64]
    status: NDArray[np.uint8]
    quality: NDArray[np.float64]
    identity: NDArray[np.uint8]
    icao: NDArray[np.int32]
    mode3a: NDArray[np.int16]
    callsign: NDArray[np.bytes_]

    @classmethod
    def empty(cls) -> TrackTable:
        return cls.blank(0)

    @classmethod
    def blank(cls, n: int) -> TrackTable:
        """``n`` rows: zero state, identity covariance, confirmed, pending, no identifiers."""
        return cls(
            time=np.zeros(n),
            track=np.zeros(n, np.int64),
            source=np.zeros(n, "S16"),
            state=np.zeros((n, 6)),
            covariance=np.broadcast_to(np.eye(6), (n, 6, 6)).copy(),
            status=np.full(n, STATUS_CODES.index(TrackStatus.CONFIRMED), np.uint8),
            quality=np.zeros(n),
            identity=np.full(n, IDENTITY_CODES.index(Identity.PENDING), np.uint8),
            icao=np.full(n, -1, np.int32),
            mode3a=np.full(n, -1, np.int16),
            callsign=np.zeros(n, "S8"),
        )
