"""One-plot track initiation: a tentative track per unassociated plot that can start one.

Radar plots with elevation, SSR plots with a barometric height and ADS-B reports start
tracks; ESM bearings, SSR plots without height and 2-D radar plots (no elevation) never do:
they update tracks started by other sensors, whose height they keep. The position and its
covariance come from inverting the plot (:func:`airpicture.tracking.measurement.plot_position`);
the velocity is the reported one (ADS-B) or zero with ``init_speed_sigma`` per axis. Every IMM
model starts from the same estimate, with the CV model favoured.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from airpicture.messages import SensorKind
from airpicture.tracking.state import TrackArrays

Array = NDArray[np.float64]

CV_PRIOR = 0.8
"""Initial probability of the constant-velocity model when there are turn models."""


def can_initiate(kind: SensorKind, zf: Array) -> NDArray[np.bool_]:
    """Which plots ``(M,)`` of full measurement vectors ``zf`` may start a track."""
    if kind is SensorKind.ESM:
        return np.zeros(len(zf), bool)
    if kind in (SensorKind.SSR, SensorKind.RADAR):
        return np.isfinite(zf[:, 2])
    return np.ones(len(zf), bool)


def initiate(
    time: Array,
    position: Array,
    position_cov: Array,
    velocity: Array,
    velocity_cov: Array,
    models: int,
) -> TrackArrays:
    """New tentative tracks from plots.

    Parameters
    ----------
    time : (M,) array
        Plot times, s.
    position, position_cov : (M, 3), (M, 3, 3) arrays
        ECEF position (m) and its covariance.
    velocity, velocity_cov : (M, 3), (M, 3, 3) arrays
        ECEF velocity (m/s) and its covariance.
    models : int
        Number of IMM models ``r``.

    Returns
    -------
    TrackArrays
        ``M`` tentative tracks with ``id`` 0 (the caller numbers them).
    """
    M = len(time)
    t = TrackArrays.blank(M, models)
    x = np.concatenate([position, velocity], axis=1)
    P = np.zeros((M, 6, 6))
    P[:, :3, :3] = position_cov
    P[:, 3:, 3:] = velocity_cov
    t.x[:] = x[:, None, :]
    t.P[:] = P[:, None, :, :]
    if models > 1:
        t.mu[:, 0] = CV_PRIOR
        t.mu[:, 1:] = (1.0 - CV_PRIOR) / (models - 1)
    t.time[:] = time
    t.t_check[:] = time
    t.refresh()
    return t
