"""Compiled coarse pre-gate: every (track, plot) pair whose balls overlap, through a hash
grid of the plots (see :mod:`airpicture.tracking.gating`)."""

from __future__ import annotations

import math

import numba
import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]
Index = NDArray[np.intp]


MAX_CELLS_PER_PLOT = 64
"""The grid has at most this many cells per plot (plus 4096); cells grow to stay under it."""


@numba.njit(cache=True)
def ball_pairs(
    tracks: Array, t_radius: Array, plots: Array, p_radius: Array
) -> tuple[Index, Index]:
    """Every (track, plot) pair with ``|t - p| <= r_t + r_p``; tracks with ``r_t < 0`` skip.

    The plots' bounding box is cut into a dense grid of cells, the plots counting-sorted by
    cell (compressed rows: the plots of cell ``c`` are ``order[start[c]:start[c + 1]]``). The
    cell is the larger of four times the largest plot radius and the median track reach
    (track radius plus largest plot radius), grown where the grid would exceed
    :data:`MAX_CELLS_PER_PLOT` cells per plot: cells sized by the plots alone would make a
    track near small plots (ADS-B: a few hundred metres) span thousands of cells. A track
    outside the box grown by its reach is skipped; any other visits the cells its ball, grown
    by the largest plot radius, reaches inside the box (at most two per axis for a track of
    median reach), or, when those outnumber the plots, tests every plot. The result is exact:
    each candidate passes the distance test. Pairs come sorted by plot, then track.
    """
    N, d = tracks.shape
    M = plots.shape[0]
    out_t = np.empty(max(4 * M, 16), np.intp)
    out_p = np.empty(max(4 * M, 16), np.intp)
    n_out = 0
    if N == 0 or M == 0:
        return out_t[:0], out_p[:0]
    rp_max = p_radius.max()
    lo = np.empty(d)
    hi = np.empty(d)
    for a in range(d):
        lo[a] = plots[:, a].min()
        hi[a] = plots[:, a].max()
    extent = 0.0
    for a in range(d):
        extent = max(extent, hi[a] - lo[a])
    live = t_radius[t_radius >= 0.0]
    median_reach = np.median(live) + rp_max if len(live) else 0.0
    cell = max(4.0 * rp_max, median_reach, extent * 1e-6, 1e-12)
    size = np.empty(d, np.int64)
    while True:
        total = 1.0
        for a in range(d):
            total *= math.floor((hi[a] - lo[a]) / cell) + 1.0
        if total <= MAX_CELLS_PER_PLOT * M + 4096:
            break
        cell *= 1.25
    n_cells = 1
    for a in range(d):
        size[a] = np.int64(math.floor((hi[a] - lo[a]) / cell)) + 1
        n_cells *= size[a]
    start = np.zeros(n_cells + 1, np.int64)
    cell_of = np.empty(M, np.int64)
    for j in range(M):
        c = 0
        for a in range(d):
            c = c * size[a] + min(np.int64((plots[j, a] - lo[a]) / cell), size[a] - 1)
        cell_of[j] = c
        start[c + 1] += 1
    for c in range(n_cells):
        start[c + 1] += start[c]
    fill = start[:-1].copy()
    order = np.empty(M, np.int64)
    for j in range(M):
        order[fill[cell_of[j]]] = j
        fill[cell_of[j]] += 1
    c_lo = np.empty(d, np.int64)
    c_hi = np.empty(d, np.int64)
    cidx = np.empty(d, np.int64)
    for i in range(N):
        rt = t_radius[i]
        if rt < 0.0:
            continue
        reach = rt + rp_max
        outside = False
        for a in range(d):
            if tracks[i, a] + reach < lo[a] or tracks[i, a] - reach > hi[a]:
                outside = True
        if outside:
            continue
        visits = 1.0
        for a in range(d):
            c_lo[a] = min(np.int64(max(tracks[i, a] - reach - lo[a], 0.0) / cell), size[a] - 1)
            c_hi[a] = min(np.int64((min(tracks[i, a] + reach, hi[a]) - lo[a]) / cell),
                          size[a] - 1)
            visits *= float(c_hi[a] - c_lo[a] + 1)
        if visits * 4.0 > M:
            for j in range(M):
                if _close(tracks, i, plots, j, rt + p_radius[j]):
                    out_t, out_p, n_out = _push(out_t, out_p, n_out, i, j)
            continue
        cidx[:] = c_lo
        while True:
            c = 0
            for a in range(d):
                c = c * size[a] + cidx[a]
            for s in range(start[c], start[c + 1]):
                j = order[s]
                if _close(tracks, i, plots, j, rt + p_radius[j]):
                    out_t, out_p, n_out = _push(out_t, out_p, n_out, i, j)
            a = d - 1  # odometer over the cell box
            while a >= 0:
                cidx[a] += 1
                if cidx[a] <= c_hi[a]:
                    break
                cidx[a] = c_lo[a]
                a -= 1
            if a < 0:
                break
    by_plot = np.zeros(M + 1, np.int64)  # counting sort by plot; tracks ascend within one
    for k in range(n_out):
        by_plot[out_p[k] + 1] += 1
    for j in range(M):
        by_plot[j + 1] += by_plot[j]
    pair_t = np.empty(n_out, np.intp)
    pair_p = np.empty(n_out, np.intp)
    for k in range(n_out):
        at = by_plot[out_p[k]]
        pair_t[at] = out_t[k]
        pair_p[at] = out_p[k]
        by_plot[out_p[k]] = at + 1
    return pair_t, pair_p


@numba.njit(cache=True, inline="always")
def _close(tracks: Array, i: int, plots: Array, j: int, reach: float) -> bool:
    """``|tracks[i] - plots[j]| <= reach``; the root only near the edge."""
    acc = 0.0
    for a in range(tracks.shape[1]):
        dd = tracks[i, a] - plots[j, a]
        acc += dd * dd
    return acc <= reach * reach * (1.0 + 1e-9) and math.sqrt(acc) <= reach


@numba.njit(cache=True, inline="always")
def _push(a: Index, b: Index, n: int, i: int, j: int) -> tuple[Index, Index, int]:
    """Append the pair ``(i, j)`` at row ``n`` of ``a``, ``b`` (doubled when full)."""
    if n == len(a):
        na = np.empty(2 * len(a), np.intp)
        nb = np.empty(2 * len(b), np.intp)
        na[: len(a)] = a
        nb[: len(b)] = b
        a, b = na, nb
    a[n] = i
    b[n] = j
    return a, b, n + 1
