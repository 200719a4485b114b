"""Track management: hits, missed opportunities, confirmation and deletion, vectorised.

A track has an *opportunity* each time one of its sensors could have seen it: a hit when a
plot is associated, a miss when ``miss_tolerance`` revisit periods pass without one (then one
miss per further period). The hit/miss history is kept as bits in ``hits``.

Life cycle (``tentative -> confirmed <-> coasting -> deleted``):

* M-of-N: a tentative track with ``m`` hits in its last ``n`` opportunities is confirmed; one
  that has had ``n`` opportunities without it is deleted at its next miss (a track just hit
  keeps its plot: hit-miss-miss-hit goes on, and confirms with one more hit, as a sliding
  window would have it).
* SLLR: the score adds ``log(PD / lambda) + log N(y; 0, S)`` per hit and ``log(1 - PD)`` per
  miss (``lambda`` the clutter density in measurement space); a tentative track is confirmed
  above ``log((1 - beta) / alpha)`` and deleted below ``log(beta / (1 - alpha))``; a confirmed
  track is deleted when the score falls ``sllr_drop`` below its maximum.
* Either way, a confirmed track coasts after a miss, is confirmed again by a hit, and is deleted
  after ``delete_misses`` consecutive misses or when its position sigma passes
  ``max_position_sigma_m``.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from airpicture.tracking import kernels
from airpicture.tracking.config import Logic, TrackerConfig
from airpicture.tracking.state import TrackArrays

Array = NDArray[np.float64]
Index = NDArray[np.intp]


def record_hits(
    tracks: TrackArrays, rows: Index, time: Array, period: Array, sensor: NDArray[np.int32],
    score_gain: Array,
) -> None:
    """Record hits in place for ``rows`` at plot times, with the hitting sensors' periods."""
    tracks.hits[rows] = (tracks.hits[rows] << np.uint32(1)) | np.uint32(1)
    tracks.opportunities[rows] += 1
    tracks.misses[rows] = 0
    tracks.t_check[rows] = time
    tracks.period[rows] = period
    tracks.updates[rows] += 1
    tracks.sensors[rows] |= np.left_shift(np.uint64(1), np.minimum(sensor, 63).astype(np.uint64))
    tracks.score[rows] += score_gain
    tracks.score_max[rows] = np.maximum(tracks.score_max[rows], tracks.score[rows])


def record_misses(
    tracks: TrackArrays, time: float, config: TrackerConfig, miss_gain: Array
) -> None:
    """Count missed opportunities up to data time ``time``, in place (one compiled pass,
    :func:`airpicture.tracking.kernels.count_misses`).

    ``miss_gain (N,)`` is each track's SLLR score change per miss, ``log(1 - PD)``.
    """
    kernels.count_misses(tracks.status, tracks.hits, tracks.opportunities, tracks.misses,
                         tracks.t_check, tracks.period, tracks.score, time,
                         config.miss_tolerance, np.asarray(miss_gain, np.float64))


def update_status(tracks: TrackArrays, time: float, config: TrackerConfig) -> None:
    """Confirm, coast, re-confirm and delete in place (see the module docstring; one compiled
    pass, :func:`airpicture.tracking.kernels.update_status`)."""
    upper = math.log((1.0 - config.sllr_beta) / config.sllr_alpha)
    lower = math.log(config.sllr_beta / (1.0 - config.sllr_alpha))
    kernels.update_status(
        tracks.status, tracks.hits, tracks.opportunities, tracks.misses, tracks.score,
        tracks.score_max, tracks.time, tracks.pos_var, tracks.vel_var, time,
        config.logic is Logic.M_OF_N, config.confirm_m, config.confirm_n, upper, lower,
        config.sllr_drop, config.delete_misses, config.max_position_sigma_m**2)
