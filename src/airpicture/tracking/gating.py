"""Gating: a coarse spatial pre-gate with a hash grid, then chi-square gates on the survivors.

The pre-gate finds every (track, plot) pair whose spheres can overlap,
``|p_track - p_plot| <= r_track + r_plot``, without forming all N x M distances. The batch's
plots are counting-sorted into a dense grid over their bounding box, with cells as large as
four plot radii or the median track reach, whichever is larger (so a track near small ADS-B
plots still visits a handful of cells); a track outside the box (grown by its reach) costs a
few comparisons, one inside it visits the cells its ball can reach, and a track whose ball
spans more cells than there are plots tests every plot
(:func:`airpicture.tracking.kernels.ball_pairs`). The cost is
``O(N + M + cells + (tracks near the plots) + pairs)``, not ``N M``.
The exact test is the chi-square gate ``y^T S^-1 y < G``, ``G`` the ``gate_probability``
quantile of the chi-square law with ``m`` degrees of freedom.
"""

from __future__ import annotations

import functools

import numpy as np
from numpy.typing import NDArray
from scipy.stats import chi2

from airpicture.tracking import kernels

Array = NDArray[np.float64]
Index = NDArray[np.intp]


@functools.cache
def chi2_gate(probability: float, dof: int) -> float:
    """Chi-square gate ``G`` with ``P(chi2_dof < G) = probability``."""
    return float(chi2.ppf(probability, dof))


def candidate_pairs(
    track_points: Array, track_radius: Array, plot_points: Array, plot_radius: Array
) -> tuple[Index, Index]:
    """Pairs of tracks and plots whose balls overlap, found with a hash grid of the plots.

    Parameters
    ----------
    track_points : (N, d) array
        Track positions in any metric space (ECEF metres, or unit vectors for bearings).
    track_radius : (N,) array
        Radius around each track, same units; a negative radius leaves the track out.
    plot_points : (M, d) array
    plot_radius : (M,) array
        Non-negative radius around each plot.

    Returns
    -------
    track, plot : (K,) integer arrays
        Indices of the overlapping pairs, sorted by plot then track.
    """
    if len(track_points) == 0 or len(plot_points) == 0:
        return np.zeros(0, np.intp), np.zeros(0, np.intp)
    t, p = kernels.ball_pairs(np.ascontiguousarray(track_points, np.float64),
                              np.ascontiguousarray(track_radius, np.float64),
                              np.ascontiguousarray(plot_points, np.float64),
                              np.ascontiguousarray(plot_radius, np.float64))
    order = np.lexsort((t, p))
    return t[order], p[order]
