"""Coarse pre-gate of one sensor's plots against all tracks (see :mod:`.gating`).

Tracks are extrapolated to the mean plot time ``t_ref``; each gets a radius of ``k`` sigma of
its predicted position plus the distance it may travel within the plots' time span. Plots with
a position (radar, SSR, ADS-B) are compared in ECEF metres; bearings-only ESM plots on the unit
circle of azimuths seen from the sensor, for tracks inside its range.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from airpicture.messages import SensorKind
from airpicture.tracking import kernels, measurement
from airpicture.tracking.gating import candidate_pairs
from airpicture.tracking.state import DELETED, TrackArrays

Array = NDArray[np.float64]
Index = NDArray[np.intp]

MARGIN_M = 200.0
"""Slack (m) added to every track radius for unmodelled motion within a batch."""


def track_balls(
    tracks: TrackArrays, t_ref: float, half_span: float, k: float, q: float
) -> tuple[Array, Array]:
    """Predicted positions ``(N, 3)`` at ``t_ref`` and gate radii ``(N,)`` (m) of tracks.

    ``radius = k sqrt((s_pos + s_vel (|dt| + half_span))^2 + q |dt|^3) + speed half_span
    + MARGIN_M`` from the IMM-combined estimate; deleted (free) rows get radius -1.
    """
    return kernels.track_balls(tracks.xc, tracks.pos_var, tracks.vel_var, tracks.time,
                               tracks.status != DELETED, t_ref, half_span, k, q, MARGIN_M)


def pregate(
    kind: SensorKind,
    zf: Array,
    sf: Array,
    R: Array,
    site: Array,
    rot: Array,
    site_height: float,
    max_range: float,
    track_pos: Array,
    track_radius: Array,
    k: float,
) -> tuple[Index, Index]:
    """Candidate (track, plot) pairs for ``M`` plots of one sensor.

    Parameters
    ----------
    kind : SensorKind
    zf, sf : (M, m) arrays
        Full measurement vectors and sigmas of the plots.
    R : (M, m, m) array
        Their noise covariances (ECEF for ADS-B, whose position block is the plot's position
        covariance).
    site, rot : (3,), (3, 3) arrays
        Sensor ECEF position and ECEF-to-ENU rotation.
    site_height, max_range : float
        Sensor height above the ellipsoid and maximum range (m).
    track_pos, track_radius : (N, 3), (N,) arrays
        From :func:`track_balls`.
    k : float
        Gate width in sigmas.

    Returns
    -------
    track, plot : (K,) integer arrays
        The candidate pairs; a plot's ball has the radius ``k sqrt(trace C)``, ``C`` the
        covariance of its position (:func:`airpicture.tracking.measurement.plot_spread`).
    """
    if kind is not SensorKind.ESM:
        pos, trace = measurement.plot_spread(kind, zf, sf, R, site, rot, site_height)
        return candidate_pairs(track_pos, track_radius, pos, k * np.sqrt(trace))
    rel = (track_pos - site) @ rot.T
    rng = np.linalg.norm(rel, axis=1)
    near = np.flatnonzero((rng <= max_range + track_radius) & (track_radius >= 0.0))
    az_t = np.arctan2(rel[near, 0], rel[near, 1])
    ang_radius = np.minimum(track_radius[near] / np.maximum(rng[near], 1.0), np.pi)
    t_points = np.stack([np.sin(az_t), np.cos(az_t)], axis=1)
    p_points = np.stack([np.sin(zf[:, 0]), np.cos(zf[:, 0])], axis=1)
    t, p = candidate_pairs(t_points, ang_radius, p_points, k * sf[:, 0])
    return near[t], p
