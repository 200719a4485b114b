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
from airpicture.tracking.state import COASTING, CONFIRMED, DELETED, TENTATIVE, TrackArrays

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
) -> NDArray[np.bool_]:
    """Count missed opportunities up to data time ``time``, in place; returns who missed.

    ``miss_gain (N,)`` is each track's SLLR score change per miss, ``log(1 - PD)``.
    """
    late = time - tracks.t_check - config.miss_tolerance * tracks.period
    missed: NDArray[np.bool_] = np.asarray((late > 0.0) & (tracks.status != DELETED), bool)
    k = np.where(missed, 1 + np.floor(np.maximum(late, 0.0) / tracks.period), 0).astype(np.int32)
    k = np.minimum(k, 32)
    tracks.hits[:] = np.where(k >= 32, np.uint32(0), tracks.hits << np.minimum(k, 31).astype(
        np.uint32))
    tracks.opportunities[:] += k
    tracks.misses[:] += k
    tracks.t_check[:] += k * tracks.period
    tracks.score[:] += k * miss_gain
    return missed


def update_status(tracks: TrackArrays, time: float, config: TrackerConfig) -> None:
    """Confirm, coast, re-confirm and delete in place (see the module docstring)."""
    s = tracks.status
    tentative = s == TENTATIVE
    live = (s == CONFIRMED) | (s == COASTING)
    if config.logic is Logic.M_OF_N:
        window = np.uint32((1 << config.confirm_n) - 1)
        recent = np.bitwise_count(tracks.hits & window)
        confirm = tentative & (recent >= config.confirm_m)
        just_hit = (tracks.hits & np.uint32(1)) != 0
        drop = tentative & ~confirm & ~just_hit & (tracks.opportunities >= config.confirm_n)
        fade = np.zeros(len(s), bool)
    else:
        upper = math.log((1.0 - config.sllr_beta) / config.sllr_alpha)
        lower = math.log(config.sllr_beta / (1.0 - config.sllr_alpha))
        confirm = tentative & (tracks.score >= upper)
        drop = tentative & (tracks.score <= lower)
        fade = live & (tracks.score < tracks.score_max - config.sllr_drop)
    pos_var, vel_var = kernels.combined_variances(tracks.x, tracks.P, tracks.mu, s != DELETED)
    dt = time - tracks.time
    var = pos_var + vel_var * dt**2
    diverged = var > config.max_position_sigma_m**2
    lost = live & (tracks.misses >= config.delete_misses)
    s[confirm] = CONFIRMED
    s[live & (tracks.misses > 0)] = COASTING
    s[live & (tracks.misses == 0)] = CONFIRMED
    s[drop | fade | lost | diverged] = DELETED
