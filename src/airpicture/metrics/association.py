"""Track-to-truth association as in the SIAP metrics implementation report.

At every sample of a track, its *candidate* is the nearest truth (Euclidean ECEF position)
sampled at the same time and closer than ``threshold`` metres (strictly), or none. Per track,
in time order:

- **start**: without an association, an association with truth ``j`` starts when ``j`` has
  been the candidate on ``k`` consecutive samples of the track; it starts at the first of them;
- **hold**: while associated with ``j``, a sample whose candidate is ``j`` extends the
  association to that sample and clears the miss count; any other sample is a miss;
- **end**: after ``m`` consecutive misses the association ends at its last matching sample.
  If meanwhile another truth has been the candidate on ``k`` consecutive samples, the track
  is associated with it at once (from the first of those samples); otherwise it waits for a
  new start (a run of candidates in progress keeps counting).

A track holds at most one truth at a time; a truth may be held by several tracks (ambiguity).
Defaults ``k = 3``, ``m = 2`` (Votruba et al., *SIAP Metrics Implementation*, 2001).

``stonesoup_compat=True`` reproduces Stone Soup 1.9's ``TrackToTruth`` counters exactly, for
cross-checking: its miss count is not cleared when a new association starts, and its run of
other candidates is not cleared when the held truth matches again (so a later association can
overlap the end of the previous one). The default applies the rules as written above.
"""

from __future__ import annotations

import dataclasses

import numba
import numpy as np

from airpicture.metrics.pairs import Pairs, close_pairs, within
from airpicture.metrics.samples import (
    BoolArray,
    FloatArray,
    IntArray,
    Samples,
    TimeGrid,
    time_grid,
)


@dataclasses.dataclass(frozen=True)
class Association:
    """Result of :func:`associate`.

    Attributes
    ----------
    track_label, truth_label : ndarray, shape (K,), int64
        The track and truth of each association interval.
    start, end : ndarray, shape (K,)
        Time (s) of the first and last matching sample of each interval (inclusive).
    pair_track_row, pair_truth_row, pair_interval : ndarray, shape (Q,), int64
        Every (track row, truth row) held by an interval at a common sample time, with the
        interval's index; grouped by interval.
    track_truth_row : ndarray, shape (M,), int64
        For each track row, the truth row it holds (-1 when none).
    truth_held : ndarray, shape (N,), bool
        Whether each truth row is held by at least one track.
    """

    track_label: IntArray
    truth_label: IntArray
    start: FloatArray
    end: FloatArray
    pair_track_row: IntArray
    pair_truth_row: IntArray
    pair_interval: IntArray
    track_truth_row: IntArray
    truth_held: BoolArray


@numba.njit(cache=True)
def _nearest(
    pi: IntArray, pj: IntArray, pd: FloatArray, n_tracks: int
) -> IntArray:  # pragma: no cover - numba
    best = np.full(n_tracks, -1, np.int64)
    best_d = np.full(n_tracks, np.inf)
    for e in range(pi.shape[0]):
        if pd[e] < best_d[pj[e]]:
            best_d[pj[e]] = pd[e]
            best[pj[e]] = pi[e]
    return best


@numba.njit(cache=True)
def _state_machine(
    order: IntArray, starts: IntArray, cand: IntArray, k: int, m: int, compat: bool
) -> tuple[IntArray, IntArray, IntArray, IntArray]:  # pragma: no cover - numba
    """Intervals (group, truth label, first position, last position) in ``order``."""
    cap = 16
    out_g = np.empty(cap, np.int64)
    out_j = np.empty(cap, np.int64)
    out_a = np.empty(cap, np.int64)
    out_b = np.empty(cap, np.int64)
    n_out = 0
    for g in range(starts.shape[0] - 1):
        current = -1
        potential = -1
        n_pot = 0
        n_fail = 0
        pot_start = -1
        start = -1
        end = -1
        for u in range(starts[g], starts[g + 1]):
            mt = cand[order[u]]
            if current == -1:
                if mt == -1:
                    n_pot = 0
                    potential = -1
                    pot_start = -1
                elif potential != mt:
                    potential = mt
                    n_pot = 1
                    pot_start = u
                else:
                    n_pot += 1
                if n_pot >= k:
                    current = mt
                    start = pot_start
                    end = u
                    potential = -1
                    pot_start = -1
                    n_pot = 0
                    if not compat:
                        n_fail = 0
                continue
            if mt == current:
                n_fail = 0
                end = u
                if not compat:
                    potential = -1
                    n_pot = 0
            else:
                n_fail += 1
                if mt != -1 and mt == potential:
                    n_pot += 1
                elif mt == -1 and not compat:
                    potential = -1
                    n_pot = 0
                else:
                    potential = mt
                    pot_start = u
                    n_pot = 1
            if n_fail >= m:
                if n_out == cap:
                    cap *= 2
                    out_g = _grow(out_g, cap)
                    out_j = _grow(out_j, cap)
                    out_a = _grow(out_a, cap)
                    out_b = _grow(out_b, cap)
                out_g[n_out] = g
                out_j[n_out] = current
                out_a[n_out] = start
                out_b[n_out] = end
                n_out += 1
                if n_pot >= k:
                    current = potential
                    start = pot_start
                    end = u
                    if not compat:
                        n_fail = 0
                        potential = -1
                        n_pot = 0
                else:
                    current = -1
                    start = -1
                    end = -1
        if current != -1:
            if n_out == cap:
                cap *= 2
                out_g = _grow(out_g, cap)
                out_j = _grow(out_j, cap)
                out_a = _grow(out_a, cap)
                out_b = _grow(out_b, cap)
            out_g[n_out] = g
            out_j[n_out] = current
            out_a[n_out] = start
            out_b[n_out] = end
            n_out += 1
    return out_g[:n_out], out_j[:n_out], out_a[:n_out], out_b[:n_out]


@numba.njit(cache=True)
def _grow(a: IntArray, cap: int) -> IntArray:  # pragma: no cover - numba
    out = np.empty(cap, np.int64)
    out[: a.shape[0]] = a
    return out


@numba.njit(cache=True)
def _expand(
    k_order: IntArray, k_step: IntArray, iv_truth: IntArray, iv_a: IntArray, iv_b: IntArray,
    t_order: IntArray, t_starts: IntArray, t_step: IntArray,
) -> tuple[IntArray, IntArray, IntArray]:  # pragma: no cover - numba
    total = 0
    for q in range(iv_a.shape[0]):
        total += iv_b[q] - iv_a[q] + 1
    out_k = np.empty(total, np.int64)
    out_t = np.empty(total, np.int64)
    out_q = np.empty(total, np.int64)
    n = 0
    for q in range(iv_a.shape[0]):
        lo, hi = t_starts[iv_truth[q]], t_starts[iv_truth[q] + 1]
        ptr = lo
        for u in range(iv_a[q], iv_b[q] + 1):
            row = k_order[u]
            s = k_step[row]
            while ptr < hi and t_step[t_order[ptr]] < s:
                ptr += 1
            if ptr < hi and t_step[t_order[ptr]] == s:
                out_k[n] = row
                out_t[n] = t_order[ptr]
                out_q[n] = q
                n += 1
    return out_k[:n], out_t[:n], out_q[:n]


def associate(
    truth: Samples,
    tracks: Samples,
    threshold: float,
    k: int = 3,
    m: int = 2,
    *,
    grid: TimeGrid | None = None,
    pairs: Pairs | None = None,
    stonesoup_compat: bool = False,
) -> Association:
    """Associate tracks with truth objects over time (rules in the module docstring).

    Parameters
    ----------
    truth : Samples
        Truth samples ``(N,)``; label = object id.
    tracks : Samples
        Track samples ``(M,)``; label = track number. Restrict to confirmed tracks first.
    threshold : float
        Association distance (m), > 0 (strict: a truth exactly at the threshold is not a
        candidate).
    k : int
        Consecutive candidate samples that start an association, >= 1.
    m : int
        Consecutive misses that end one, >= 1.
    grid : TimeGrid, optional
        Precomputed common time grid.
    pairs : Pairs, optional
        Precomputed :func:`~airpicture.metrics.pairs.close_pairs` on ``grid`` with a radius of
        at least ``threshold``.
    stonesoup_compat : bool
        Reproduce Stone Soup 1.9's counters (see the module docstring).

    Returns
    -------
    Association
    """
    if not (np.isfinite(threshold) and threshold > 0):
        raise ValueError(f"association threshold must be finite and > 0 m, got {threshold!r}")
    if int(k) < 1 or int(m) < 1:
        raise ValueError(f"k and m must be >= 1, got k={k!r}, m={m!r}")
    g = time_grid(truth, tracks) if grid is None else grid
    if pairs is None:
        pi, pj, pd = close_pairs(truth, tracks, g, threshold)
    else:
        pi, pj, pd = within(pairs, threshold)
    nearest_row = _nearest(pi, pj, pd, len(tracks)) if len(pi) else np.full(len(tracks), -1)
    t_distinct, t_dense, t_order, t_starts = truth.groups
    cand = np.full(len(tracks), -1, np.int64)
    found = nearest_row >= 0
    cand[found] = t_dense[nearest_row[found]]
    k_distinct, _, k_order, k_starts = tracks.groups
    iv_g, iv_j, iv_a, iv_b = _state_machine(k_order, k_starts, cand, int(k), int(m),
                                            bool(stonesoup_compat))
    prow_k, prow_t, pq = _expand(k_order, g.track_step, iv_j, iv_a, iv_b, t_order, t_starts,
                                 g.truth_step)
    track_truth_row = np.full(len(tracks), -1, np.int64)
    track_truth_row[prow_k] = prow_t
    truth_held = np.zeros(len(truth), bool)
    truth_held[prow_t] = True
    return Association(
        track_label=k_distinct[iv_g],
        truth_label=t_distinct[iv_j],
        start=tracks.time[k_order[iv_a]] if len(iv_a) else np.zeros(0),
        end=tracks.time[k_order[iv_b]] if len(iv_b) else np.zeros(0),
        pair_track_row=prow_k,
        pair_truth_row=prow_t,
        pair_interval=pq,
        track_truth_row=track_truth_row,
        truth_held=truth_held,
    )
