"""The tracker's struct-of-arrays track table: one row per live track, ``r`` IMM models each.

States are ECEF ``[x, y, z, vx, vy, vz]`` (m, m/s) at ``time`` (s, data time) per model:
``x (N, r, 6)``, ``P (N, r, 6, 6)``, mode probabilities ``mu (N, r)``. ``status`` indexes
:data:`airpicture.track_table.STATUS_CODES`. ``hits`` is the hit/miss history of the last
opportunities as bits (bit 0 the latest, 1 a hit); ``opportunities`` counts them since birth
and ``misses`` counts consecutive misses. ``t_check`` is the time up to which opportunities
have been counted and ``period`` the expected revisit (s) of the last sensor that hit the
track. ``score`` is the SLLR score (and ``score_max`` its maximum so far). ``sensors`` is a bit
mask of contributing sensor indices (indices >= 64 share bit 63). ``xc (N, 6)`` is the
IMM-combined state and ``pos_var``, ``vel_var`` the traces of its position and velocity
covariances: a summary kept by :meth:`TrackArrays.refresh` whenever ``x``, ``P`` or ``mu``
change, so that the per-batch steps over every track (pre-gate balls, divergence) need not
combine the models again.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from numpy.typing import NDArray

from airpicture.columns import ColumnTable
from airpicture.messages import Identity, TrackStatus
from airpicture.track_table import IDENTITY_CODES, STATUS_CODES, TrackTable
from airpicture.tracking import kernels
from airpicture.tracking.kernels.combine import combine_rows

TENTATIVE = STATUS_CODES.index(TrackStatus.TENTATIVE)
CONFIRMED = STATUS_CODES.index(TrackStatus.CONFIRMED)
COASTING = STATUS_CODES.index(TrackStatus.COASTING)
DELETED = STATUS_CODES.index(TrackStatus.DELETED)


@dataclasses.dataclass(frozen=True)
class TrackArrays(ColumnTable):
    """Live tracks as columns (see the module docstring)."""

    id: NDArray[np.int64]
    time: NDArray[np.float64]
    x: NDArray[np.float64]
    P: NDArray[np.float64]
    mu: NDArray[np.float64]
    status: NDArray[np.uint8]
    hits: NDArray[np.uint32]
    opportunities: NDArray[np.int32]
    misses: NDArray[np.int32]
    t_check: NDArray[np.float64]
    period: NDArray[np.float64]
    score: NDArray[np.float64]
    score_max: NDArray[np.float64]
    updates: NDArray[np.int32]
    sensors: NDArray[np.uint64]
    icao: NDArray[np.int32]
    mode3a: NDArray[np.int16]
    callsign: NDArray[np.bytes_]
    xc: NDArray[np.float64]
    pos_var: NDArray[np.float64]
    vel_var: NDArray[np.float64]

    @classmethod
    def blank(cls, n: int, r: int) -> TrackArrays:
        """``n`` tentative tracks of ``r`` models with zero state and identity covariance."""
        return cls(
            id=np.zeros(n, np.int64),
            time=np.zeros(n),
            x=np.zeros((n, r, 6)),
            P=np.broadcast_to(np.eye(6), (n, r, 6, 6)).copy(),
            mu=np.full((n, r), 1.0 / r),
            status=np.full(n, TENTATIVE, np.uint8),
            hits=np.zeros(n, np.uint32),
            opportunities=np.zeros(n, np.int32),
            misses=np.zeros(n, np.int32),
            t_check=np.zeros(n),
            period=np.ones(n),
            score=np.zeros(n),
            score_max=np.zeros(n),
            updates=np.zeros(n, np.int32),
            sensors=np.zeros(n, np.uint64),
            icao=np.full(n, -1, np.int32),
            mode3a=np.full(n, -1, np.int16),
            callsign=np.zeros(n, "S8"),
            xc=np.zeros((n, 6)),
            pos_var=np.full(n, 3.0),  # the summary of x = 0, P = I
            vel_var=np.full(n, 3.0),
        )

    @property
    def models(self) -> int:
        """Number of IMM models ``r``."""
        return int(self.x.shape[1])

    def refresh(self, rows: NDArray[np.intp] | None = None) -> None:
        """Recompute ``xc``, ``pos_var``, ``vel_var`` of ``rows`` (all when None), in place."""
        kernels.summarise(self.x, self.P, self.mu, self._rows(rows), self.xc, self.pos_var,
                          self.vel_var)

    def copy(self, into: TrackArrays | None = None) -> TrackArrays:
        """A deep copy (a snapshot for re-processing), written into the arrays of ``into``
        when its columns have the same shapes (memory a dropped snapshot no longer needs:
        no fresh pages to fault in), else new ones."""
        mine = self.columns()
        if into is None or any(v.shape != mine[k].shape for k, v in into.columns().items()):
            return type(self)(**{k: v.copy() for k, v in mine.items()})
        for k, v in into.columns().items():
            np.copyto(v, mine[k])
        return into

    def combined(
        self, rows: NDArray[np.intp] | None = None
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """IMM-combined states ``(n, 6)`` and covariances ``(n, 6, 6)`` at :attr:`time` of
        ``rows`` (all when None)."""
        return combine_rows(self.x, self.P, self.mu, self._rows(rows))

    def quality(self) -> NDArray[np.float64]:
        """Track quality in [0, 1]: recent hit ratio times a position-accuracy factor.

        ``q = (hits in the last 8 opportunities / min(8, opportunities))
        * 1 km / (1 km + position sigma)``, position sigma the root of the trace of the
        combined position covariance.
        """
        rows = self._rows(None)
        return self._quality(self.combined(rows)[1], rows)

    def _quality(self, P: NDArray[np.float64], rows: NDArray[np.intp]) -> NDArray[np.float64]:
        """:meth:`quality` of ``rows`` from their combined covariances ``P (n, 6, 6)``."""
        sigma = np.sqrt(np.trace(P[:, :3, :3], axis1=1, axis2=2))
        recent = np.bitwise_count(self.hits[rows] & np.uint32(0xFF)).astype(np.float64)
        ratio = recent / np.maximum(np.minimum(self.opportunities[rows], 8), 1)
        return np.asarray(np.clip(ratio, 0.0, 1.0) * 1000.0 / (1000.0 + sigma), np.float64)

    def to_table(self, nation: str, rows: NDArray[np.intp] | None = None) -> TrackTable:
        """``rows`` of the tracks (all when None), in that order, as output rows (combined
        state at each track's own ``time``)."""
        index = self._rows(rows)
        x, P = self.combined(index)
        return TrackTable(
            time=self.time[index],
            track=self.id[index],
            source=np.full(len(index), nation.encode("ascii"), "S16"),
            state=x,
            covariance=P,
            status=self.status[index],
            quality=self._quality(P, index),
            identity=np.full(len(index), IDENTITY_CODES.index(Identity.PENDING), np.uint8),
            icao=self.icao[index],
            mode3a=self.mode3a[index],
            callsign=self.callsign[index],
        )

    def _rows(self, rows: NDArray[np.intp] | None) -> NDArray[np.intp]:
        return np.arange(len(self), dtype=np.intp) if rows is None else np.asarray(rows, np.intp)
