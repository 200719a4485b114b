"""Compiled GNN association: clusters of gated pairs by union-find, and an exact
shortest-augmenting-path (Hungarian) assignment of the small ones (see
:mod:`airpicture.tracking.association`)."""

from __future__ import annotations

import numba
import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]
Index = NDArray[np.intp]


@numba.njit(cache=True)
def _hungarian(C: Array) -> NDArray[np.int64]:
    """Minimum-cost assignment of every row of ``C (n, m)``, ``n <= m``, to a distinct column.

    Shortest augmenting paths with row and column potentials; ``+inf`` entries are not edges.
    Returns the column of each row.
    """
    n, m = C.shape
    u = np.zeros(n + 1)
    v = np.zeros(m + 1)
    owner = np.zeros(m + 1, np.int64)  # 1-based row owning each column (0: none)
    way = np.zeros(m + 1, np.int64)
    for i in range(1, n + 1):
        owner[0] = i
        j0 = 0
        minv = np.full(m + 1, np.inf)
        used = np.zeros(m + 1, np.bool_)
        while True:
            used[j0] = True
            i0 = owner[j0]
            delta = np.inf
            j1 = -1
            for j in range(1, m + 1):
                if used[j]:
                    continue
                cij = C[i0 - 1, j - 1]
                if cij < np.inf:
                    cur = cij - u[i0] - v[j]
                    if cur < minv[j]:
                        minv[j] = cur
                        way[j] = j0
                if minv[j] < delta:
                    delta = minv[j]
                    j1 = j
            for j in range(m + 1):
                if used[j]:
                    u[owner[j]] += delta
                    v[j] -= delta
                else:
                    minv[j] -= delta
            j0 = j1
            if owner[j0] == 0:
                break
        while j0 != 0:
            j1 = way[j0]
            owner[j0] = owner[j1]
            j0 = j1
    col = np.full(n, -1, np.int64)
    for j in range(1, m + 1):
        if owner[j] != 0:
            col[owner[j] - 1] = j - 1
    return col


@numba.njit(cache=True)
def _find(parent: NDArray[np.int64], a: int) -> int:
    root = a
    while parent[root] != root:
        root = parent[root]
    while parent[a] != root:
        nxt = parent[a]
        parent[a] = root
        a = nxt
    return root


@numba.njit(cache=True)
def gnn_assign(
    t_local: Index, p_local: Index, n_t: int, n_p: int, cost: Array, miss: Array,
    max_tracks: int,
) -> tuple[NDArray[np.bool_], NDArray[np.int64], NDArray[np.bool_]]:
    """GNN over gated pairs in compact local indices.

    Clusters are the connected components of the bipartite pair graph (union-find). A cluster
    with one track takes its cheapest pair (if under its miss cost); one of up to
    ``max_tracks`` tracks is solved exactly by :func:`_hungarian` on ``[cost | diag(miss)]``,
    the track's miss cost the largest of its pairs'. Larger clusters are left to the caller.

    Returns the chosen mask ``(K,)``, the cluster label of each pair and a mask of the pairs
    of the clusters left to the caller.
    """
    K = len(t_local)
    parent = np.arange(n_t + n_p)
    for k in range(K):
        ra = _find(parent, t_local[k])
        rb = _find(parent, n_t + p_local[k])
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    label = np.empty(K, np.int64)
    for k in range(K):
        label[k] = _find(parent, t_local[k])
    chosen = np.zeros(K, np.bool_)
    big = np.zeros(K, np.bool_)
    order = np.argsort(label, kind="mergesort")
    start = 0
    t_map = np.full(n_t, -1, np.int64)
    p_map = np.full(n_p, -1, np.int64)
    while start < K:
        stop = start
        while stop < K and label[order[stop]] == label[order[start]]:
            stop += 1
        nt = 0
        npl = 0
        for s in range(start, stop):
            k = order[s]
            if t_map[t_local[k]] < 0:
                t_map[t_local[k]] = nt
                nt += 1
            if p_map[p_local[k]] < 0:
                p_map[p_local[k]] = npl
                npl += 1
        if nt == 1:
            best = order[start]
            worst_miss = miss[best]
            for s in range(start, stop):
                worst_miss = max(worst_miss, miss[order[s]])
                if cost[order[s]] < cost[best]:
                    best = order[s]
            if cost[best] < worst_miss:
                chosen[best] = True
        elif nt > max_tracks:
            for s in range(start, stop):
                big[order[s]] = True
        else:
            C = np.full((nt, npl + nt), np.inf)
            pair_at = np.full((nt, npl), -1, np.int64)
            dummy = np.full(nt, -np.inf)
            for s in range(start, stop):
                k = order[s]
                a, b = t_map[t_local[k]], p_map[p_local[k]]
                C[a, b] = cost[k]
                pair_at[a, b] = k
                dummy[a] = max(dummy[a], miss[k])
            for a in range(nt):
                C[a, npl + a] = dummy[a]
            col = _hungarian(C)
            for a in range(nt):
                if col[a] < npl:
                    chosen[pair_at[a, col[a]]] = True
        for s in range(start, stop):
            k = order[s]
            t_map[t_local[k]] = -1
            p_map[p_local[k]] = -1
        start = stop
    return chosen, label, big
