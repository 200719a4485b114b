"""Compiled track management: missed opportunities and status updates in one pass over the
tracks each, as specified in :mod:`airpicture.tracking.management`."""

from __future__ import annotations

import math

import numba
import numpy as np
from numpy.typing import NDArray

from airpicture.messages import TrackStatus
from airpicture.track_table import STATUS_CODES

Array = NDArray[np.float64]

TENTATIVE = STATUS_CODES.index(TrackStatus.TENTATIVE)
CONFIRMED = STATUS_CODES.index(TrackStatus.CONFIRMED)
COASTING = STATUS_CODES.index(TrackStatus.COASTING)
DELETED = STATUS_CODES.index(TrackStatus.DELETED)


@numba.njit(cache=True)
def count_misses(
    status: NDArray[np.uint8], hits: NDArray[np.uint32], opportunities: NDArray[np.int32],
    misses: NDArray[np.int32], t_check: Array, period: Array, score: Array, time: float,
    tolerance: float, miss_gain: Array,
) -> None:
    """Missed opportunities up to ``time`` (s), in place: a live track whose last counted
    opportunity ``t_check`` lies more than ``tolerance`` periods back misses ``1 +
    floor(late / period)`` of them (at most 32), each shifting a 0 into ``hits``."""
    for i in range(len(status)):
        if status[i] == DELETED:
            continue
        late = time - t_check[i] - tolerance * period[i]
        if not late > 0.0:
            continue
        kf = 1.0 + math.floor(late / period[i])
        k = 32 if kf >= 32.0 else int(kf)
        if k >= 32:
            hits[i] = 0
        else:
            hits[i] = (np.uint64(hits[i]) << np.uint64(k)) & np.uint64(0xFFFFFFFF)
        opportunities[i] += k
        misses[i] += k
        t_check[i] += k * period[i]
        score[i] += k * miss_gain[i]


@numba.njit(cache=True)
def _ones(v: int) -> int:
    n = 0
    while v:
        v &= v - 1
        n += 1
    return n


@numba.njit(cache=True)
def update_status(
    status: NDArray[np.uint8], hits: NDArray[np.uint32], opportunities: NDArray[np.int32],
    misses: NDArray[np.int32], score: Array, score_max: Array, t_track: Array,
    pos_var: Array, vel_var: Array, time: float, m_of_n: bool, confirm_m: int, confirm_n: int,
    upper: float, lower: float, drop: float, delete_misses: int, max_var: float,
) -> None:
    """Confirm, coast, re-confirm and delete in place (M-of-N when ``m_of_n``, else SLLR with
    thresholds ``upper``, ``lower`` and fade ``drop``; divergence when the combined position
    variance ``pos_var + vel_var dt^2`` at ``time`` exceeds ``max_var``)."""
    window = (1 << confirm_n) - 1
    for i in range(len(status)):
        s = status[i]
        tentative = s == TENTATIVE
        live = s == CONFIRMED or s == COASTING
        if m_of_n:
            h = int(hits[i])
            confirm = tentative and _ones(h & window) >= confirm_m
            gone = (tentative and not confirm and (h & 1) == 0
                    and opportunities[i] >= confirm_n)
        else:
            confirm = tentative and score[i] >= upper
            gone = (tentative and score[i] <= lower) or (
                live and score[i] < score_max[i] - drop)
        dt = time - t_track[i]
        gone = gone or pos_var[i] + vel_var[i] * dt**2 > max_var
        gone = gone or (live and misses[i] >= delete_misses)
        if confirm:
            s = CONFIRMED
        if live:
            s = COASTING if misses[i] > 0 else CONFIRMED
        status[i] = DELETED if gone else s
