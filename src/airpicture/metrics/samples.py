"""Labelled point samples over time: the one input form of the metrics, validated once.

Truth and tracks both enter the metrics as :class:`Samples`: one row per (time, label) with an
ECEF position and velocity. Rows are kept in canonical order (time, then input order), which
lets every metric find the rows of one time step as a contiguous slice, and a
:class:`TimeGrid` maps the sample times of two sets onto one integer step index.

Times are matched exactly (float equality): a truth sample and a track sample are compared
only when their times are equal. Tracks reported at other times are first brought onto the
truth times with :func:`airpicture.metrics.align.align_tracks`.
"""

from __future__ import annotations

import dataclasses
import functools

import numba
import numpy as np
from numpy.typing import ArrayLike, NDArray

from airpicture.truth_table import TruthTable

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]


@dataclasses.dataclass(frozen=True)
class Samples:
    """Labelled ECEF samples ``(N,)`` in time order; build with :func:`make_samples`.

    Attributes
    ----------
    time : ndarray, shape (N,)
        Sample time (s, Unix UTC), non-decreasing.
    label : ndarray, shape (N,), int64
        Object id (truth) or track number (tracks); unique within one time.
    position : ndarray, shape (N, 3)
        ECEF position (m), finite.
    velocity : ndarray, shape (N, 3)
        ECEF velocity (m/s); NaN where unknown (velocity scores then skip the row).
    covariance : ndarray, shape (N, 6, 6) or None
        State covariance of ``[position, velocity]`` (m, m/s), when known.
    """

    time: FloatArray
    label: IntArray
    position: FloatArray
    velocity: FloatArray
    covariance: FloatArray | None = None

    def __len__(self) -> int:
        return len(self.time)

    @functools.cached_property
    def groups(self) -> tuple[IntArray, IntArray, IntArray, IntArray]:
        """Rows grouped by label, computed once: ``(distinct (G,), dense (N,), order (N,),
        starts (G + 1,))`` (see :func:`dense_labels`, :func:`group_order`); each group is in
        time order."""
        distinct, dense = dense_labels(self.label)
        order, starts = group_order(dense, len(distinct))
        return distinct, dense, order, starts

    def take(self, index: NDArray[np.int64] | BoolArray) -> Samples:
        """Rows selected by an index or mask (keeps time order when the index is sorted)."""
        cov = None if self.covariance is None else self.covariance[index]
        return Samples(
            self.time[index], self.label[index], self.position[index], self.velocity[index], cov
        )


def make_samples(
    time: ArrayLike,
    label: ArrayLike,
    position: ArrayLike,
    velocity: ArrayLike | None = None,
    covariance: ArrayLike | None = None,
    *,
    name: str = "samples",
) -> Samples:
    """Validate arrays and return them as :class:`Samples` in time order.

    Parameters
    ----------
    time : array_like, shape (N,)
        Sample times (s). Must be finite.
    label : array_like, shape (N,)
        Integer labels; a label may appear at most once per time.
    position : array_like, shape (N, 3)
        ECEF positions (m). Must be finite.
    velocity : array_like, shape (N, 3), optional
        ECEF velocities (m/s); NaN marks an unknown velocity. Default: all NaN.
    covariance : array_like, shape (N, 6, 6), optional
        State covariances (m, m/s); may hold NaN (such rows are skipped by NEES).
    name : str
        Name used in error messages (``"truth"``, ``"tracks"``...).

    Returns
    -------
    Samples
        The rows, stably sorted by time.

    Raises
    ------
    ValueError
        On a wrong shape, a non-finite time or position, or a label repeated within one time;
        the message names ``name``, the column and the first bad row.
    """
    t = np.asarray(time, dtype=np.float64)
    n = t.shape[0] if t.ndim == 1 else -1
    if t.ndim != 1:
        raise ValueError(f"{name}: time must have shape (N,), got {t.shape}")
    lab = np.asarray(label)
    if lab.shape != (n,) or (n and lab.dtype.kind not in "iu"):
        raise ValueError(
            f"{name}: label must be integers of shape ({n},), got {lab.dtype} {lab.shape}"
        )
    lab = lab.astype(np.int64, copy=False)
    pos = np.asarray(position, dtype=np.float64)
    if pos.shape != (n, 3):
        raise ValueError(f"{name}: position must have shape ({n}, 3), got {pos.shape}")
    vel = (
        np.full((n, 3), np.nan) if velocity is None else np.asarray(velocity, dtype=np.float64)
    )
    if vel.shape != (n, 3):
        raise ValueError(f"{name}: velocity must have shape ({n}, 3), got {vel.shape}")
    cov = None
    if covariance is not None:
        cov = np.asarray(covariance, dtype=np.float64)
        if cov.shape != (n, 6, 6):
            raise ValueError(f"{name}: covariance must have shape ({n}, 6, 6), got {cov.shape}")
    _check_finite(t, name, "time")
    _check_finite(pos, name, "position")
    if np.isinf(vel).any():
        raise ValueError(f"{name}: velocity row {_first_bad(np.isinf(vel))} is infinite")
    if n and np.any(np.diff(t) < 0):
        order = np.argsort(t, kind="stable")
        t, lab, pos, vel = t[order], lab[order], pos[order], vel[order]
        cov = None if cov is None else cov[order]
    dup = _duplicate_row(t, lab)
    if dup >= 0:
        raise ValueError(
            f"{name}: label {int(lab[dup])} appears twice at time {float(t[dup])!r} (row {dup})"
        )
    return Samples(t, lab, pos, vel, cov)


def samples_from_truth(truth: TruthTable) -> Samples:
    """:class:`Samples` of a :class:`~airpicture.truth_table.TruthTable` (label = object id)."""
    return make_samples(truth.time, truth.object, truth.position, truth.velocity, name="truth")


def _check_finite(a: FloatArray, name: str, column: str) -> None:
    bad = ~np.isfinite(a)
    if bad.any():
        raise ValueError(f"{name}: {column} is not finite in row {_first_bad(bad)}")


def _first_bad(bad: BoolArray) -> int:
    return int(np.flatnonzero(bad.reshape(len(bad), -1).any(axis=1))[0])


@numba.njit(cache=True)
def _duplicate_row_kernel(t: FloatArray, lab: IntArray) -> int:  # pragma: no cover - numba
    # Within each run of equal times, labels must be unique. Runs are short (one time step),
    # so sort each run's labels.
    n = t.shape[0]
    i = 0
    while i < n:
        j = i + 1
        while j < n and t[j] == t[i]:
            j += 1
        if j - i > 1:
            order = np.argsort(lab[i:j])
            for k in range(1, j - i):
                if lab[i + order[k]] == lab[i + order[k - 1]]:
                    return int(i + order[k])
        i = j
    return -1


def _duplicate_row(t: FloatArray, lab: IntArray) -> int:
    if not len(t):
        return -1
    row: int = _duplicate_row_kernel(t, lab)
    return row


@dataclasses.dataclass(frozen=True)
class TimeGrid:
    """The union of the sample times of a truth and a track set, as integer steps.

    Attributes
    ----------
    times : ndarray, shape (T,)
        Distinct sample times (s), increasing.
    truth_step, track_step : ndarray, shape (N,) and (M,)
        Step index of every truth / track row.
    truth_start, track_start : ndarray, shape (T + 1,)
        Rows of step ``s`` are ``truth_start[s]:truth_start[s + 1]`` (likewise for tracks).
    """

    times: FloatArray
    truth_step: IntArray
    track_step: IntArray
    truth_start: IntArray
    track_start: IntArray

    @property
    def n_steps(self) -> int:
        return len(self.times)


def _own_steps(t: FloatArray) -> tuple[FloatArray, IntArray]:
    if len(t) == 0:
        return np.zeros(0), np.zeros(0, np.int64)
    new = np.empty(len(t), bool)
    new[0] = True
    np.not_equal(t[1:], t[:-1], out=new[1:])
    idx = np.cumsum(new) - 1
    return t[new], idx


def time_grid(truth: Samples, tracks: Samples, *, require_overlap: bool = True) -> TimeGrid:
    """The :class:`TimeGrid` of two sample sets (each already in time order).

    Raises
    ------
    ValueError
        When ``require_overlap`` and both sets are non-empty but share no sample time: the
        tracks were not brought onto the truth times (see
        :func:`airpicture.metrics.align.align_tracks`).
    """
    ut, it = _own_steps(truth.time)
    uk, ik = _own_steps(tracks.time)
    if require_overlap and len(ut) and len(uk) and not np.intersect1d(ut, uk).size:
        raise ValueError(
            "truth and tracks share no sample time: bring the tracks onto the truth times "
            "first (airpicture.metrics.align.align_tracks)"
        )
    times = np.union1d(ut, uk)
    truth_step = np.searchsorted(times, ut)[it] if len(it) else np.zeros(0, np.int64)
    track_step = np.searchsorted(times, uk)[ik] if len(ik) else np.zeros(0, np.int64)
    steps = np.arange(len(times) + 1)
    return TimeGrid(
        times=times,
        truth_step=truth_step.astype(np.int64),
        track_step=track_step.astype(np.int64),
        truth_start=np.searchsorted(truth_step, steps).astype(np.int64),
        track_start=np.searchsorted(track_step, steps).astype(np.int64),
    )


@numba.njit(cache=True)
def _counting_order(dense: IntArray, n_groups: int) -> IntArray:  # pragma: no cover - numba
    counts = np.zeros(n_groups + 1, np.int64)
    for g in dense:
        counts[g + 1] += 1
    for g in range(n_groups):
        counts[g + 1] += counts[g]
    order = np.empty(dense.shape[0], np.int64)
    for i in range(dense.shape[0]):
        g = dense[i]
        order[counts[g]] = i
        counts[g] += 1
    return order


def dense_labels(label: IntArray) -> tuple[IntArray, IntArray]:
    """Distinct labels ``(G,)`` increasing, and each row's index into them ``(N,)``."""
    if len(label) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    lo, hi = int(label.min()), int(label.max())
    if hi - lo < 4 * len(label) + 1024:
        present = np.zeros(hi - lo + 1, bool)
        present[label - lo] = True
        distinct = np.flatnonzero(present).astype(np.int64) + lo
        lookup = np.cumsum(present) - 1
        return distinct, lookup[label - lo].astype(np.int64)
    distinct, inverse = np.unique(label, return_inverse=True)
    return distinct.astype(np.int64), inverse.astype(np.int64)


def group_order(dense: IntArray, n_groups: int) -> tuple[IntArray, IntArray]:
    """Rows grouped by ``dense`` label (stable), and group starts ``(G + 1,)``.

    A counting sort: ``O(N)``. With time-ordered rows, each group comes out in time order.
    """
    order = _counting_order(dense, n_groups) if len(dense) else np.zeros(0, np.int64)
    starts = np.zeros(n_groups + 1, np.int64)
    np.cumsum(np.bincount(dense, minlength=n_groups), out=starts[1:])
    return order, starts
