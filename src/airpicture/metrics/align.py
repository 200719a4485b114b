"""Bring track reports onto the truth sample times, and coverage samples onto the truth.

Trackers report at their own times (scan times, fusion epochs); the metrics compare truth and
tracks at equal times. :func:`align_tracks` gives every track a sample at each grid time from
its first report to ``max_age`` seconds after its last: the latest report at or before that
time, extrapolated with constant velocity (``x + v dt``, covariance ``F P F^T`` without process
noise, since ``dt`` is below the report interval). A track is sampled only while its latest
report has an allowed status (confirmed or coasting by default): a tentative report, or a
deleted one, stops it until a later allowed report.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from typing import Any

import numba
import numpy as np
from numpy.typing import NDArray

from airpicture.messages import TrackStatus
from airpicture.metrics.samples import (
    BoolArray,
    FloatArray,
    IntArray,
    Samples,
    dense_labels,
    group_order,
    make_samples,
)
from airpicture.track_table import STATUS_CODES, TrackTable

HELD_STATUSES = (TrackStatus.CONFIRMED, TrackStatus.COASTING)
"""Statuses of the tracks that are evaluated (a coasting track is a confirmed track)."""


@dataclasses.dataclass(frozen=True)
class AlignedTracks:
    """Tracks on the grid: ``samples`` ``(M,)`` and, per row, the report row it comes from."""

    samples: Samples
    report_row: IntArray


@numba.njit(cache=True)
def _align_kernel(
    order: IntArray, starts: IntArray, t_rep: FloatArray, ok: BoolArray,
    grid: FloatArray, max_age: float,
) -> tuple[IntArray, IntArray]:  # pragma: no cover - numba
    cap = 1024
    out_s = np.empty(cap, np.int64)
    out_r = np.empty(cap, np.int64)
    n = 0
    for g in range(starts.shape[0] - 1):
        a, b = starts[g], starts[g + 1]
        if a == b:
            continue
        s = np.searchsorted(grid, t_rep[order[a]])
        last = t_rep[order[b - 1]] + max_age
        u = a
        while s < grid.shape[0] and grid[s] <= last:
            t = grid[s]
            while u + 1 < b and t_rep[order[u + 1]] <= t:
                u += 1
            row = order[u]
            if t_rep[row] <= t and t - t_rep[row] <= max_age and ok[row]:
                if n == cap:
                    cap *= 2
                    grow_s = np.empty(cap, np.int64)
                    grow_s[:n] = out_s[:n]
                    out_s = grow_s
                    grow_r = np.empty(cap, np.int64)
                    grow_r[:n] = out_r[:n]
                    out_r = grow_r
                out_s[n] = s
                out_r[n] = row
                n += 1
            s += 1
    return out_s[:n], out_r[:n]


def align_tracks(
    tracks: TrackTable,
    times: FloatArray,
    *,
    max_age: float,
    statuses: Iterable[TrackStatus] = HELD_STATUSES,
) -> AlignedTracks:
    """Sample tracks at grid ``times`` (module docstring).

    Parameters
    ----------
    tracks : TrackTable
        Reports of one source (track ids unique within it), any order.
    times : ndarray, shape (T,)
        Increasing grid times (s), normally the distinct truth times.
    max_age : float
        Longest extrapolation (s) from a report, >= 0.
    statuses : iterable of TrackStatus
        Statuses under which a track is evaluated.

    Returns
    -------
    AlignedTracks
        Samples labelled by track id, with covariance, in time order.

    Raises
    ------
    ValueError
        On a non-finite report time or state (naming the row), or a bad ``max_age``.
    """
    if not (np.isfinite(max_age) and max_age >= 0):
        raise ValueError(f"max_age must be finite and >= 0 s, got {max_age!r}")
    grid = np.asarray(times, np.float64)
    n = len(tracks)
    if n == 0 or len(grid) == 0:
        empty = make_samples(np.zeros(0), np.zeros(0, np.int64), np.zeros((0, 3)),
                             np.zeros((0, 3)), np.zeros((0, 6, 6)), name="tracks")
        return AlignedTracks(empty, np.zeros(0, np.int64))
    for name, col in (("time", tracks.time), ("state", tracks.state)):
        bad = ~np.isfinite(col.reshape(n, -1)).all(axis=1)
        if bad.any():
            raise ValueError(f"tracks: {name} is not finite in row {int(np.flatnonzero(bad)[0])}")
    codes = [STATUS_CODES.index(s) for s in statuses]
    ok = np.isin(tracks.status, codes)
    by_time = np.argsort(tracks.time, kind="stable")
    distinct, dense = dense_labels(tracks.track[by_time])
    order, starts = group_order(dense, len(distinct))
    order = by_time[order]
    step, row = _align_kernel(order, starts, tracks.time, ok, grid, float(max_age))
    o, _ = group_order(step, len(grid))
    step, row = step[o], row[o]
    dt = grid[step] - tracks.time[row]
    x = tracks.state[row]
    pos = x[:, :3] + dt[:, None] * x[:, 3:]
    f = np.broadcast_to(np.eye(6), (len(row), 6, 6)).copy()
    f[:, 0, 3] = f[:, 1, 4] = f[:, 2, 5] = dt
    cov = f @ tracks.covariance[row] @ np.swapaxes(f, 1, 2)
    samples = make_samples(grid[step], tracks.track[row], pos, x[:, 3:], cov, name="tracks")
    return AlignedTracks(samples, row)


def coverage_masks(
    truth: Samples,
    time: FloatArray,
    obj: IntArray,
    nations_mask: NDArray[np.integer[Any]],
    nations: Sequence[str],
) -> dict[str, BoolArray]:
    """Per-nation coverage of every truth row from coarser coverage samples.

    Parameters
    ----------
    truth : Samples
        Truth ``(N,)`` (label = object id).
    time, obj, nations_mask : ndarray, shape (C,)
        Coverage samples (as :class:`airpicture.truth_table.CoverageTable`): at ``time`` the
        object ``obj`` is covered by the nations whose bit is set in ``nations_mask`` (bit
        ``i`` for ``nations[i]``).
    nations : sequence of str
        Nation codes in bit order.

    Returns
    -------
    dict of str to ndarray (N,) bool
        One mask per nation, and ``"*"`` (any nation). A truth row takes the latest coverage
        sample of its object at or before its time (the first one before that); an object
        with no coverage sample is not covered.
    """
    t = np.asarray(time, np.float64)
    o = np.asarray(obj, np.int64)
    bits = np.asarray(nations_mask).astype(np.int64)
    n = len(truth)
    out = {name: np.zeros(n, bool) for name in [*nations, "*"]}
    if n == 0 or len(t) == 0:
        return out
    order = np.lexsort((t, o))
    t, o, bits = t[order], o[order], bits[order]
    # per truth row: the coverage rows of its object, then the latest at or before its time
    lo = np.searchsorted(o, truth.label, side="left")
    hi = np.searchsorted(o, truth.label, side="right")
    has = hi > lo
    t0, span = float(min(t.min(), truth.time.min())), 1.0
    span += float(max(t.max(), truth.time.max()) - t0)
    rank = np.searchsorted(np.unique(o), o)  # dense object index of each coverage row
    key = rank * span + (t - t0)
    t_rank = np.searchsorted(np.unique(o), truth.label)
    q = np.searchsorted(key, t_rank * span + (truth.time - t0), side="right") - 1
    row = np.clip(q, lo, np.maximum(hi - 1, lo))
    row = np.clip(row, 0, len(t) - 1)
    mask = np.where(has, bits[row], 0)
    for i, name in enumerate(nations):
        out[name] = (mask >> i) & 1 == 1
    out["*"] = mask != 0
    return out
