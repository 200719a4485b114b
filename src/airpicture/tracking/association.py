"""Plot-to-track association over gated pairs: identity first, then GNN per cluster.

Pairs are given as parallel arrays ``track (K,)``, ``plot (K,)`` (local indices) with a cost
``c = d2 + log det S`` (the negative log-likelihood up to a constant). The bipartite graph of
gated pairs splits into independent clusters (union-find in a compiled kernel). A cluster of
one track takes its cheapest pair; clusters of up to :data:`SMALL_CLUSTER` tracks are solved
exactly by a compiled shortest-augmenting-path (Hungarian) kernel, larger ones by
``scipy.optimize.linear_sum_assignment`` (the two are cross-checked in the tests); both solve
the dense ``n_t x (n_p + n_t)`` matrix:
``+inf`` for gated-out pairs, and one finite dummy "miss" column per track, so the problem is
always feasible. The tracker gives every track the same miss cost, above every gated pair's
(:func:`airpicture.tracking.scan._associate`), so that tracks competing for a plot are ranked
by likelihood.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import linear_sum_assignment

from airpicture.tracking import kernels

Array = NDArray[np.float64]
Index = NDArray[np.intp]

SMALL_CLUSTER = 32
"""Clusters of up to this many tracks are solved by the compiled Hungarian kernel."""


def first_per_key(keys: Index) -> NDArray[np.bool_]:
    """True at the first occurrence of each key in ``keys (K,)``."""
    first = np.zeros(len(keys), bool)
    first[np.unique(keys, return_index=True)[1]] = True
    return first


def identity_first(
    track: Index, plot: Index, cost: Array, track_key: NDArray[np.int64],
    plot_key: NDArray[np.int64],
) -> NDArray[np.bool_]:
    """Pairs to assign by identity before kinematics: ``(K,)`` boolean mask.

    A pair qualifies when its plot and track carry the same non-negative identity key (ICAO
    address, or a Mode 3/A code held by one track only). Each track and each plot keeps its
    cheapest qualifying pair.
    """
    match = (plot_key >= 0) & (plot_key == track_key)
    candidates = np.flatnonzero(match)
    candidates = candidates[np.argsort(cost[candidates], kind="stable")]
    candidates = candidates[first_per_key(track[candidates])]
    candidates = candidates[first_per_key(plot[candidates])]
    out = np.zeros(len(track), bool)
    out[candidates] = True
    return out


def gnn(
    track: Index, plot: Index, cost: Array, miss_cost: Array, max_tracks: int = SMALL_CLUSTER
) -> tuple[Index, Index]:
    """Global nearest-neighbour assignment of gated pairs.

    Parameters
    ----------
    track, plot : (K,) integer arrays
        Local indices of gated pairs (each pair at most once).
    cost : (K,) array
        Finite assignment costs.
    miss_cost : (K,) array
        For each pair, a finite cost of leaving its track unassigned; a track's dummy column
        gets the largest over its pairs.
    max_tracks : int
        Clusters of up to this many tracks are solved in the compiled kernel, larger ones by
        ``linear_sum_assignment`` (0: every cluster of two or more tracks by SciPy).

    Returns
    -------
    pair : (A,) integer array
        Indices into the pair arrays of the chosen assignments.
    cluster : (K,) integer array
        Cluster label of every pair.
    """
    K = len(track)
    if K == 0:
        return np.zeros(0, np.intp), np.zeros(0, np.intp)
    tu, t_local = np.unique(track, return_inverse=True)
    pu, p_local = np.unique(plot, return_inverse=True)
    chosen, label, big = kernels.gnn_assign(
        t_local.astype(np.intp), p_local.astype(np.intp), len(tu), len(pu),
        np.asarray(cost, np.float64), np.asarray(miss_cost, np.float64), max_tracks)
    out: list[Index] = [np.flatnonzero(chosen)]
    rest = np.flatnonzero(big)
    rest = rest[np.argsort(label[rest], kind="stable")]
    bounds = np.flatnonzero(np.diff(label[rest])) + 1
    for group in np.split(rest, bounds) if rest.size else []:
        out.append(solve_cluster(group, t_local[group], p_local[group], cost[group],
                                 miss_cost[group]))
    return np.sort(np.concatenate(out)), label.astype(np.intp)


def solve_cluster(pairs: Index, t: Index, p: Index, cost: Array, miss: Array) -> Index:
    """``linear_sum_assignment`` on one cluster; returns the chosen pair indices."""
    tu, ti = np.unique(t, return_inverse=True)
    pu, pi = np.unique(p, return_inverse=True)
    nt, npl = len(tu), len(pu)
    C = np.full((nt, npl + nt), np.inf)
    C[ti, pi] = cost
    dummy = np.full(nt, -np.inf)
    np.maximum.at(dummy, ti, miss)
    C[np.arange(nt), npl + np.arange(nt)] = dummy
    rows, cols = linear_sum_assignment(C)
    real = cols < npl
    lookup = np.full((nt, npl), -1, np.intp)
    lookup[ti, pi] = pairs
    return np.asarray(lookup[rows[real], cols[real]], np.intp)
