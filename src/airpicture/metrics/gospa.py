r"""GOSPA (alpha = 2) with its decomposition and a switching penalty, and OSPA.

For finite sets :math:`X` (truth, ``n`` points) and :math:`Y` (tracks, ``m`` points), the GOSPA
metric of order :math:`p \ge 1`, cut-off :math:`c > 0` and :math:`\alpha = 2` is [1]_

.. math::
    d_p^{(c,2)}(X, Y) = \Bigl(\min_{\gamma} \sum_{(i,j) \in \gamma} d(x_i, y_j)^p
        + \frac{c^p}{2} \bigl(n + m - 2 |\gamma|\bigr)\Bigr)^{1/p}

over partial assignments :math:`\gamma` (one-to-one) with :math:`d(x_i, y_j) < c`, ``d`` the
Euclidean distance of ECEF positions (m). The three terms of the sum are reported as they are
(in m\ :sup:`p`): **localisation** :math:`\sum_\gamma d^p`, **missed** :math:`c^p/2` per
unassigned truth, **false** :math:`c^p/2` per unassigned track. They add up to
:math:`d_p^{(c,2)}{}^p`.

Over time, the optional **switching** term [2]_ adds :math:`\gamma_s^p\,s(t)` inside the sum,
where :math:`\gamma_s` is the switching penalty (m) and :math:`s(t)` counts, over the truths
present at ``t``, a change of assigned track as 1 and a change between assigned and
unassigned as 1/2 (a truth's first assignment is not a switch; a step with no track at all is
a gap in the track data and changes nothing). With ``p = 2`` this equals
Stone Soup's ``GOSPAMetric(switching_penalty=...)``.

**OSPA** [3]_ of order ``p`` and cut-off ``c`` is
:math:`\bigl(\frac{1}{\max(n,m)}(\min_\pi \sum_i \min(d, c)^p + c^p |n - m|)\bigr)^{1/p}`, and 0
when both sets are empty. Its optimal assignment is GOSPA's (pairs at or beyond ``c`` cost
:math:`c^p` either way), so both come from one solve. (Stone Soup's ``OSPAMetric`` minimises
:math:`\sum \min(d,c)` and then raises to ``p``; the two agree for ``p = 1``.)

The assignment per time step uses only pairs closer than ``c``
(:func:`airpicture.metrics.pairs.close_pairs`); the bipartite graph of those pairs falls into
connected components that are solved separately: a component with one truth or one track
takes its shortest edge, any other goes to :func:`scipy.optimize.linear_sum_assignment`.

References
----------
.. [1] A. S. Rahmathullah, A. F. García-Fernández, L. Svensson, "Generalized optimal
   sub-pattern assignment metric", FUSION 2017, arXiv:1601.05585.
.. [2] MathWorks, ``trackGOSPAMetric`` (switching penalty); Stone Soup ``GOSPAMetric``.
.. [3] D. Schuhmacher, B.-T. Vo, B.-N. Vo, "A consistent metric for performance evaluation of
   multi-object filters", IEEE Trans. Signal Process. 56(8), 2008.
"""

from __future__ import annotations

import dataclasses

import numba
import numpy as np
from numpy.typing import ArrayLike
from scipy.optimize import linear_sum_assignment

from airpicture.metrics.assignment import assign_pairs
from airpicture.metrics.pairs import Pairs, close_pairs, within
from airpicture.metrics.samples import (
    FloatArray,
    IntArray,
    Samples,
    TimeGrid,
    time_grid,
)


def _check_params(c: float, p: float) -> None:
    if not (np.isfinite(c) and c > 0):
        raise ValueError(f"cut-off c must be finite and > 0, got {c!r}")
    if not (np.isfinite(p) and p >= 1):
        raise ValueError(f"order p must be finite and >= 1, got {p!r}")


def _points(a: ArrayLike, name: str) -> FloatArray:
    x = np.asarray(a, dtype=np.float64)
    if x.size == 0:
        return np.zeros((0, 3))
    if x.ndim != 2:
        raise ValueError(f"{name} must have shape (n, d), got {x.shape}")
    if not np.isfinite(x).all():
        row = int(np.argwhere(~np.isfinite(x))[0, 0])
        raise ValueError(f"{name} has a non-finite value in row {row}")
    return x


@dataclasses.dataclass(frozen=True)
class GOSPAParts:
    """GOSPA of one pair of sets (see the module docstring); parts in m^p.

    ``assignment[i]`` is the track index assigned to truth ``i`` (-1 when missed).
    """

    distance: float
    localisation: float
    missed: float
    false: float
    assignment: IntArray


def gospa(truth: ArrayLike, tracks: ArrayLike, c: float, p: float = 2.0) -> GOSPAParts:
    """GOSPA (alpha = 2) between two point sets at one time.

    Parameters
    ----------
    truth : array_like, shape (n, d)
        True positions (m), any dimension ``d`` shared with ``tracks``.
    tracks : array_like, shape (m, d)
        Estimated positions (m).
    c : float
        Cut-off distance (m), > 0.
    p : float
        Order, ``1 <= p < inf``.

    Returns
    -------
    GOSPAParts
        The distance (m) and its parts. Both sets empty give 0.

    Examples
    --------
    >>> r = gospa([[0.0, 0.0]], [[3.0, 4.0], [100.0, 0.0]], c=10.0, p=2)
    >>> round(r.distance ** 2, 6), r.localisation, r.missed, r.false
    (75.0, 25.0, 0.0, 50.0)
    """
    _check_params(c, p)
    x, y = _points(truth, "truth"), _points(tracks, "tracks")
    n, m = len(x), len(y)
    if n and m and x.shape[1] != y.shape[1]:
        raise ValueError(f"truth and tracks differ in dimension: {x.shape[1]} != {y.shape[1]}")
    assignment = np.full(n, -1, np.int64)
    loc = 0.0
    if n and m:
        d = np.linalg.norm(x[:, None, :] - y[None, :, :], axis=-1)
        cost = np.where(d < c, d**p - c**p, 0.0)  # gain of assigning, never +-inf
        rows, cols = linear_sum_assignment(cost)
        keep = cost[rows, cols] < 0.0
        assignment[rows[keep]] = cols[keep]
        loc = float(np.sum(d[rows[keep], cols[keep]] ** p))
    n_assigned = int(np.count_nonzero(assignment >= 0))
    half = c**p / 2.0
    missed = half * (n - n_assigned)
    false = half * (m - n_assigned)
    return GOSPAParts((loc + missed + false) ** (1.0 / p), loc, missed, false, assignment)


def ospa(truth: ArrayLike, tracks: ArrayLike, c: float, p: float = 1.0) -> float:
    """OSPA distance (m) between two point sets at one time; 0 when both are empty.

    Shapes and units as :func:`gospa`.

    Examples
    --------
    >>> ospa([[0.0, 0.0]], [[3.0, 4.0], [100.0, 0.0]], c=10.0, p=1)
    7.5
    """
    r = gospa(truth, tracks, c, p)
    x, y = _points(truth, "truth"), _points(tracks, "tracks")
    big = max(len(x), len(y))
    if big == 0:
        return 0.0
    a = int(np.count_nonzero(r.assignment >= 0))
    return float(((r.localisation + c**p * (big - a)) / big) ** (1.0 / p))


@dataclasses.dataclass(frozen=True)
class GOSPASeries:
    """GOSPA over time, one value per step of the time grid ``(T,)``.

    Attributes
    ----------
    times : ndarray, shape (T,)
        Step times (s).
    distance : ndarray, shape (T,)
        GOSPA with the switching term (m).
    localisation, missed, false, switching : ndarray, shape (T,)
        The terms of ``distance ** p`` (m^p).
    n_truth, n_tracks, n_assigned : ndarray, shape (T,), int
        Set sizes and number of assigned pairs per step.
    switches : ndarray, shape (T,)
        Switch count ``s(t)`` (a half per half switch).
    ospa : ndarray, shape (T,)
        OSPA of the same order and cut-off (m).
    truth_track : ndarray, shape (N,), int64
        For every truth row, the assigned track row (-1 when missed).
    c, p, switching_penalty : float
        The parameters.
    """

    times: FloatArray
    distance: FloatArray
    localisation: FloatArray
    missed: FloatArray
    false: FloatArray
    switching: FloatArray
    n_truth: IntArray
    n_tracks: IntArray
    n_assigned: IntArray
    switches: FloatArray
    ospa: FloatArray
    truth_track: IntArray
    c: float
    p: float
    switching_penalty: float

    def summary(self) -> dict[str, float]:
        """Time means (documented value 0.0 over an empty grid)."""
        def mean(a: FloatArray) -> float:
            return float(np.mean(a)) if len(a) else 0.0

        return {
            "gospa_mean_m": mean(self.distance),
            "gospa_rms_m": float(np.sqrt(mean(self.distance**2))),
            "localisation_mean": mean(self.localisation),
            "missed_mean": mean(self.missed),
            "false_mean": mean(self.false),
            "switching_mean": mean(self.switching),
            "switches_total": float(np.sum(self.switches)),
            "ospa_mean_m": mean(self.ospa),
        }


@numba.njit(cache=True)
def _switch_counts(
    order: IntArray, starts: IntArray, assigned_label: IntArray, step: IntArray,
    n_tracks: IntArray,
) -> FloatArray:  # pragma: no cover - numba
    out = np.zeros(n_tracks.shape[0], np.float64)
    for g in range(starts.shape[0] - 1):
        started = False
        prev = -1
        for u in range(starts[g], starts[g + 1]):
            row = order[u]
            if n_tracks[step[row]] == 0:
                continue  # a step without tracks is a gap in the track data
            a = assigned_label[row]
            if not started:
                if a < 0:
                    continue
                started = True
                prev = a
                continue
            if a != prev:
                out[step[row]] += 1.0 if (a >= 0 and prev >= 0) else 0.5
                prev = a
    return out


def gospa_series(
    truth: Samples,
    tracks: Samples,
    c: float,
    p: float = 2.0,
    switching_penalty: float = 0.0,
    grid: TimeGrid | None = None,
    pairs: Pairs | None = None,
) -> GOSPASeries:
    """GOSPA and OSPA at every step of the common time grid of ``truth`` and ``tracks``.

    Parameters
    ----------
    truth, tracks : Samples
        Truth objects and tracks (``N`` and ``M`` rows); compared where times are equal.
    c : float
        Cut-off (m), > 0.
    p : float
        Order, ``1 <= p < inf``.
    switching_penalty : float
        :math:`\\gamma_s` (m), >= 0; 0 disables the switching term. Switches are counted
        between track labels, in truth-label order over time.
    grid : TimeGrid, optional
        Precomputed :func:`~airpicture.metrics.samples.time_grid` of the two sets.
    pairs : Pairs, optional
        Precomputed :func:`~airpicture.metrics.pairs.close_pairs` on ``grid`` with a radius of
        at least ``c`` (pairs at ``c`` or beyond are dropped here).

    Returns
    -------
    GOSPASeries
        One value per step; steps where only one set has samples count all of it as missed
        (or false).
    """
    _check_params(c, p)
    if not (np.isfinite(switching_penalty) and switching_penalty >= 0):
        raise ValueError(f"switching_penalty must be finite and >= 0, got {switching_penalty!r}")
    g = time_grid(truth, tracks) if grid is None else grid
    pi, pj, pd = close_pairs(truth, tracks, g, c) if pairs is None else within(pairs, c)
    chosen = assign_pairs(pi, pj, pd, g, c, p)
    ai, aj, ad = pi[chosen], pj[chosen], pd[chosen]
    n_steps = g.n_steps
    step = g.truth_step[ai]
    loc = np.bincount(step, weights=ad**p, minlength=n_steps).astype(np.float64)
    n_assigned = np.bincount(step, minlength=n_steps).astype(np.int64)
    n_truth = np.diff(g.truth_start).astype(np.int64)
    n_tracks = np.diff(g.track_start).astype(np.int64)
    half = c**p / 2.0
    missed = half * (n_truth - n_assigned)
    false = half * (n_tracks - n_assigned)
    truth_track = np.full(len(truth), -1, np.int64)
    truth_track[ai] = aj
    switches = np.zeros(n_steps)
    if switching_penalty > 0 and len(truth):
        assigned_label = np.where(truth_track >= 0, tracks.label[truth_track], -1)
        # track labels may be negative: shift them to be >= 0 so -1 means "unassigned"
        if len(tracks) and tracks.label.min() < 0:
            assigned_label = np.where(
                truth_track >= 0, tracks.label[truth_track] - tracks.label.min(), -1
            )
        _, _, order, starts = truth.groups
        switches = _switch_counts(order, starts, assigned_label, g.truth_step, n_tracks)
    switching = switching_penalty**p * switches
    distance = (loc + missed + false + switching) ** (1.0 / p)
    big = np.maximum(n_truth, n_tracks)
    ospa_p = np.where(big > 0, (loc + c**p * (big - n_assigned)) / np.maximum(big, 1), 0.0)
    return GOSPASeries(
        times=g.times, distance=distance, localisation=loc, missed=missed, false=false,
        switching=switching, n_truth=n_truth, n_tracks=n_tracks, n_assigned=n_assigned,
        switches=switches, ospa=ospa_p ** (1.0 / p), truth_track=truth_track, c=float(c),
        p=float(p), switching_penalty=float(switching_penalty),
    )
