"""Candidate truth-track pairs: all pairs closer than a radius at the same time step.

Both GOSPA (pairs beyond the cut-off ``c`` cost as much as a miss plus a false track, so they
never need to be assigned) and the SIAP association (a track is compared with truths within the
threshold only) need just the pairs closer than some radius. Finding them by a dense
``(N, M)`` distance matrix per step costs ``O(N M)``; here a spatial hash per time step finds
them in ``O(N + M)``.

Method: per step the truth positions are binned into cubic cells of side ``L = 2 r``; a track
position can only be within ``r`` of truths in its own cell or, along each axis, in the one
neighbouring cell on the side it is nearer to (``r = L / 2``), so 8 cells are probed. Cells are
keyed by their wrapped integer coordinates in an open-addressing hash table that holds a chain
of the cell's truths; a wrapped key can only add candidates, which the exact distance test
then removes.
"""

from __future__ import annotations

import numba
import numpy as np

from airpicture.metrics.samples import FloatArray, IntArray, Samples, TimeGrid

Pairs = tuple[IntArray, IntArray, FloatArray]
"""``(truth_row, track_row, distance)`` as returned by :func:`close_pairs`."""

_BITS = 21
_MASK = (1 << _BITS) - 1


@numba.njit(cache=True)
def _cell_key(cx: int, cy: int, cz: int) -> int:  # pragma: no cover - numba
    return ((cx & _MASK) << (2 * _BITS)) | ((cy & _MASK) << _BITS) | (cz & _MASK)


@numba.njit(cache=True)
def _slot(key: int, mask: int) -> int:  # pragma: no cover - numba
    h = key * -7046029254386353131  # 0x9E3779B97F4A7C15 as int64 (wraps)
    return (h >> 29) & mask


@numba.njit(cache=True)
def _pairs_kernel(
    tpos: FloatArray,
    tstart: IntArray,
    kpos: FloatArray,
    kstart: IntArray,
    radius: float,
) -> tuple[IntArray, IntArray, FloatArray]:  # pragma: no cover - numba
    n_steps = tstart.shape[0] - 1
    side = 2.0 * radius
    r2 = radius * radius
    cap = max(16, min(tpos.shape[0], kpos.shape[0]) + 1024)
    out_i = np.empty(cap, np.int64)
    out_j = np.empty(cap, np.int64)
    out_d = np.empty(cap, np.float64)
    n_out = 0
    max_n = 1
    for s in range(n_steps):
        max_n = max(max_n, tstart[s + 1] - tstart[s])
    size = 1
    while size < 2 * max_n:
        size *= 2
    mask = size - 1
    h_key = np.full(size, -1, np.int64)
    h_head = np.zeros(size, np.int64)
    nxt = np.empty(max_n, np.int64)
    used = np.empty(size, np.int64)
    for s in range(n_steps):
        a, b = tstart[s], tstart[s + 1]
        c, d = kstart[s], kstart[s + 1]
        if a == b or c == d:
            continue
        # bin the truths: one chain of rows per occupied cell
        n_used = 0
        for i in range(b - a):
            key = _cell_key(
                int(np.floor(tpos[a + i, 0] / side)),
                int(np.floor(tpos[a + i, 1] / side)),
                int(np.floor(tpos[a + i, 2] / side)),
            )
            h = _slot(key, mask)
            while h_key[h] != -1 and h_key[h] != key:
                h = (h + 1) & mask
            if h_key[h] == -1:
                h_key[h] = key
                nxt[i] = -1
                used[n_used] = h
                n_used += 1
            else:
                nxt[i] = h_head[h]
            h_head[h] = i
        for k in range(c, d):
            x, y, z = kpos[k, 0], kpos[k, 1], kpos[k, 2]
            fx, fy, fz = x / side, y / side, z / side
            cx, cy, cz = int(np.floor(fx)), int(np.floor(fy)), int(np.floor(fz))
            ox = 1 if fx - cx >= 0.5 else -1
            oy = 1 if fy - cy >= 0.5 else -1
            oz = 1 if fz - cz >= 0.5 else -1
            for q in range(8):
                key = _cell_key(
                    cx + (ox if q & 1 else 0), cy + (oy if q & 2 else 0), cz + (oz if q & 4 else 0)
                )
                h = _slot(key, mask)
                while h_key[h] != -1 and h_key[h] != key:
                    h = (h + 1) & mask
                if h_key[h] == -1:
                    continue
                i = h_head[h]
                while i != -1:
                    t = a + i
                    dx = tpos[t, 0] - x
                    dy = tpos[t, 1] - y
                    dz = tpos[t, 2] - z
                    dd = dx * dx + dy * dy + dz * dz
                    if dd < r2:
                        if n_out == cap:
                            cap *= 2
                            out_i = _grow_i(out_i, cap)
                            out_j = _grow_i(out_j, cap)
                            out_d = _grow_f(out_d, cap)
                        out_i[n_out] = t
                        out_j[n_out] = k
                        out_d[n_out] = np.sqrt(dd)
                        n_out += 1
                    i = nxt[i]
        for u in range(n_used):
            h_key[used[u]] = -1
    return out_i[:n_out], out_j[:n_out], out_d[:n_out]


@numba.njit(cache=True)
def _grow_i(a: IntArray, cap: int) -> IntArray:  # pragma: no cover - numba
    out = np.empty(cap, np.int64)
    out[: a.shape[0]] = a
    return out


@numba.njit(cache=True)
def _grow_f(a: FloatArray, cap: int) -> FloatArray:  # pragma: no cover - numba
    out = np.empty(cap, np.float64)
    out[: a.shape[0]] = a
    return out


def close_pairs(
    truth: Samples, tracks: Samples, grid: TimeGrid, radius: float
) -> Pairs:
    """All (truth row, track row) pairs at the same step with distance below ``radius``.

    Parameters
    ----------
    truth, tracks : Samples
        Time-ordered samples (``N`` and ``M`` rows).
    grid : TimeGrid
        Their common time grid (:func:`airpicture.metrics.samples.time_grid`).
    radius : float
        Strict upper bound on the Euclidean position distance (m), > 0.

    Returns
    -------
    truth_row, track_row : ndarray, shape (P,), int64
        Row indices into ``truth`` and ``tracks``, grouped by step (step order).
    distance : ndarray, shape (P,)
        Position distance (m) of each pair, ``< radius``.
    """
    if not radius > 0 or not np.isfinite(radius):
        raise ValueError(f"radius must be finite and > 0, got {radius!r}")
    if len(truth) == 0 or len(tracks) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    i, j, d = _pairs_kernel(
        np.ascontiguousarray(truth.position),
        grid.truth_start,
        np.ascontiguousarray(tracks.position),
        grid.track_start,
        float(radius),
    )
    return i, j, d


def within(pairs: Pairs, radius: float) -> Pairs:
    """The pairs closer than ``radius`` (m); all of them when they all are."""
    i, j, d = pairs
    if len(d) == 0 or d.max() < radius:
        return i, j, d
    keep = d < radius
    return i[keep], j[keep], d[keep]
