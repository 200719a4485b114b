"""Gating: a coarse spatial pre-gate with k-d trees, then chi-square gates on the survivors.

The pre-gate finds every (track, plot) pair whose spheres can overlap,
``|p_track - p_plot| <= r_track + r_plot``, without forming all N x M distances. Tracks are
hashed into a grid whose cell is twice the reach ``R`` (the largest plot radius plus the 95th
percentile of the track radii). A ball of radius ``R`` then meets at most two cells per axis,
the plot's own and its nearer neighbour, so each plot looks up ``2^d`` sorted cell keys; the
few tracks with larger radii query a k-d tree built over the plots. The cost is
``O(N log N + 2^d M log N + pairs)``, not ``N M``.
The exact test is the chi-square gate ``y^T S^-1 y < G``, ``G`` the ``gate_probability``
quantile of the chi-square law with ``m`` degrees of freedom.
"""

from __future__ import annotations

import functools
import itertools

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree
from scipy.stats import chi2

Array = NDArray[np.float64]
Index = NDArray[np.intp]


@functools.cache
def chi2_gate(probability: float, dof: int) -> float:
    """Chi-square gate ``G`` with ``P(chi2_dof < G) = probability``."""
    return float(chi2.ppf(probability, dof))


def candidate_pairs(
    track_points: Array, track_radius: Array, plot_points: Array, plot_radius: Array
) -> tuple[Index, Index]:
    """Pairs of tracks and plots whose balls overlap, found with a hash grid and a k-d tree.

    Parameters
    ----------
    track_points : (N, d) array
        Track positions in any metric space (ECEF metres, or unit vectors for bearings).
    track_radius : (N,) array
        Non-negative radius around each track, same units.
    plot_points : (M, d) array
    plot_radius : (M,) array

    Returns
    -------
    track, plot : (K,) integer arrays
        Indices of the overlapping pairs, sorted by plot then track.
    """
    if len(track_points) == 0 or len(plot_points) == 0:
        return np.zeros(0, np.intp), np.zeros(0, np.intp)
    reach = float(plot_radius.max() + np.quantile(track_radius, GRID_QUANTILE))
    small = track_radius + plot_radius.max() <= reach
    t_grid, p_grid = _grid_pairs(track_points[small], plot_points, 2.0 * reach)
    big = np.flatnonzero(~small)
    t_big, p_big = _tree_pairs(track_points[big], track_radius[big] + plot_radius.max(),
                               plot_points)
    t = np.concatenate([np.flatnonzero(small)[t_grid], big[t_big]])
    p = np.concatenate([p_grid, p_big])
    dist = np.linalg.norm(track_points[t] - plot_points[p], axis=1)
    keep = dist <= track_radius[t] + plot_radius[p]
    t, p = t[keep], p[keep]
    order = np.lexsort((t, p))
    return t[order], p[order]


GRID_QUANTILE = 0.95
"""Tracks with radii above this quantile (plus the largest plot radius) skip the grid."""
_BASE = np.int64(1 << 20)


def _cell_keys(cells: NDArray[np.int64]) -> NDArray[np.int64]:
    key = np.zeros(len(cells), np.int64)
    for axis in range(cells.shape[1]):
        key = key * (2 * _BASE) + (cells[:, axis] + _BASE)
    return key


def _grid_pairs(tracks: Array, plots: Array, cell: float) -> tuple[Index, Index]:
    """(track, plot) pairs in the ``2^d`` cells nearest each plot, on a grid of side ``cell``."""
    d = tracks.shape[1]
    t_keys = _cell_keys(np.floor(tracks / cell).astype(np.int64))
    order = np.argsort(t_keys, kind="stable")
    sorted_keys = t_keys[order]
    corners = np.stack(np.meshgrid(*[np.arange(2)] * d, indexing="ij"), -1).reshape(-1, d)
    scaled = plots / cell
    p_cells = np.floor(scaled).astype(np.int64)
    side = np.where(scaled - p_cells < 0.5, -1, 1)
    near = (p_cells[:, None, :] + corners[None, :, :] * side[:, None, :]).reshape(-1, d)
    offsets = corners
    keys = _cell_keys(near)
    lo = np.searchsorted(sorted_keys, keys, "left")
    counts = np.searchsorted(sorted_keys, keys, "right") - lo
    total = int(counts.sum())
    plot = np.repeat(np.repeat(np.arange(len(plots)), len(offsets)), counts)
    first = np.repeat(lo - (np.cumsum(counts) - counts), counts)
    return order[first + np.arange(total)], plot


def _tree_pairs(tracks: Array, reach: Array, plots: Array) -> tuple[Index, Index]:
    """Pairs within ``reach (N,)`` of each track, by a k-d tree over the plots."""
    if len(tracks) == 0:
        return np.zeros(0, np.intp), np.zeros(0, np.intp)
    found = cKDTree(plots).query_ball_point(tracks, reach, return_sorted=False)
    counts = np.fromiter(map(len, found), np.intp, len(found))
    flat = np.fromiter(itertools.chain.from_iterable(found), np.intp, int(counts.sum()))
    return np.repeat(np.arange(len(tracks)), counts), flat
