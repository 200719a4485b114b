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
    return kernels.ball_pairs(np.ascontiguousarray(track_points, np.float64),
                              np.ascontiguousarray(track_radius, np.float64),
                              np.ascontiguousarray(plot_points, np.float64),
                              np.ascontiguousarray(plot_radius, np.float64))


def imm_gate(
    d2: Array, logdet: Array, d2_models: Array, logdet_models: Array, gate: Array
) -> tuple[NDArray[np.bool_], Array, Array]:
    """The IMM gate of ``K`` pairs: inside when the combined prediction or one model's own
    prediction puts the plot inside ``gate``.

    The combined (moment-matched) prediction shrinks to the CV model's while the turn modes
    are unlikely, so the plots at the onset of a manoeuvre fall outside its gate; the turn
    model's own gate keeps them.

    Parameters
    ----------
    d2, logdet : (K,) arrays
        ``y^T S^-1 y`` and ``log det S`` of the combined prediction (``inf`` where ``S`` is not
        positive definite).
    d2_models, logdet_models : (K, r) arrays
        The same for each model's prediction (``inf`` where not computed).
    gate : (K,) array
        Chi-square gate of each pair.

    Returns
    -------
    inside : (K,) bool array
    d2, logdet : (K,) arrays
        Those of the combined prediction where it gates the plot, else those of the model with
        the smallest ``d2 + log det S`` among the models that do.
    """
    combined = d2 < gate
    own = d2_models < gate[:, None]
    best = np.argmin(np.where(own, d2_models + logdet_models, np.inf), axis=1)
    use = ~combined & own.any(axis=1)
    rows = np.flatnonzero(use)
    d2_out, logdet_out = d2.copy(), logdet.copy()
    d2_out[rows] = d2_models[rows, best[rows]]
    logdet_out[rows] = logdet_models[rows, best[rows]]
    return combined | use, d2_out, logdet_out
