"""The GOSPA assignment over many time steps: components of the close-pair graph, solved apart.

Only pairs closer than the cut-off ``c`` can be assigned (a pair at ``c`` or beyond costs as much
as a miss and a false track). Per time step, the bipartite graph of those pairs falls into
connected components (union-find); each is an independent assignment problem maximising the
gain ``c^p - d^p`` of its chosen pairs:

- one truth or one track: its shortest edge (vectorised);
- two truths and two tracks: the better diagonal of the 2x2 gain matrix (vectorised);
- anything larger: :func:`scipy.optimize.linear_sum_assignment` on the component's dense gain
  matrix, absent edges at gain 0 (never +-inf, so the problem is always feasible).
"""

from __future__ import annotations

import numba
import numpy as np
from scipy.optimize import linear_sum_assignment

from airpicture.metrics.samples import BoolArray, FloatArray, IntArray, TimeGrid


def assign_pairs(
    pi: IntArray, pj: IntArray, pd: FloatArray, grid: TimeGrid, c: float, p: float
) -> BoolArray:
    """Which close pairs ``(P,)`` the optimal GOSPA assignment uses.

    Parameters
    ----------
    pi, pj : ndarray, shape (P,), int64
        Truth and track rows of pairs closer than ``c``, grouped by step (as from
        :func:`~airpicture.metrics.pairs.close_pairs`).
    pd : ndarray, shape (P,)
        Their distances (m).
    grid : TimeGrid
        The time grid the rows refer to.
    c, p : float
        Cut-off (m) and order.

    Returns
    -------
    ndarray, shape (P,), bool
    """
    if not len(pi):
        return np.zeros(0, bool)
    comp, hard, chosen = _components(pi, pj, pd, grid.truth_start, grid.track_start)
    _solve_hard(pi, pj, pd, comp, hard, chosen, c, p)
    return chosen


@numba.njit(cache=True)
def _find(parent: IntArray, a: int) -> int:  # pragma: no cover - numba
    while parent[a] != a:
        parent[a] = parent[parent[a]]
        a = parent[a]
    return a


@numba.njit(cache=True)
def _components(
    pi: IntArray, pj: IntArray, pd: FloatArray, tstart: IntArray, kstart: IntArray
) -> tuple[IntArray, BoolArray, BoolArray]:  # pragma: no cover - numba
    """Per pair: its component id, whether the component is hard, whether the pair is chosen
    (for components with one truth or one track: the shortest edge)."""
    n_pairs = pi.shape[0]
    comp = np.empty(n_pairs, np.int64)
    chosen = np.zeros(n_pairs, np.bool_)
    hard_of = np.zeros(n_pairs, np.bool_)
    n_steps = tstart.shape[0] - 1
    width = 1
    for s in range(n_steps):
        width = max(width, tstart[s + 1] - tstart[s] + kstart[s + 1] - kstart[s])
    parent = np.arange(width)
    root_comp = np.full(width, -1, np.int64)
    n_t = np.zeros(width, np.int64)
    n_k = np.zeros(width, np.int64)
    best = np.full(width, -1, np.int64)
    seen_t = np.zeros(width, np.bool_)
    seen_k = np.zeros(width, np.bool_)
    next_comp = 0
    a = 0
    while a < n_pairs:
        # pairs are grouped by step; the step of pair a holds its truth row
        b = a
        s = np.searchsorted(tstart, pi[a], side="right") - 1
        t0, t1 = tstart[s], tstart[s + 1]
        k0 = kstart[s]
        nt = t1 - t0
        while b < n_pairs and pi[b] >= t0 and pi[b] < t1:
            b += 1
        nodes = nt + kstart[s + 1] - k0
        for u in range(nodes):
            parent[u] = u
        for e in range(a, b):
            ru = _find(parent, pi[e] - t0)
            rv = _find(parent, nt + pj[e] - k0)
            if ru != rv:
                parent[ru] = rv
        for e in range(a, b):
            r = _find(parent, pi[e] - t0)
            if root_comp[r] == -1:
                root_comp[r] = next_comp
                next_comp += 1
            cid = root_comp[r]
            comp[e] = cid
            u = pi[e] - t0
            v = nt + pj[e] - k0
            if not seen_t[u]:
                seen_t[u] = True
                n_t[r] += 1
            if not seen_k[v]:
                seen_k[v] = True
                n_k[r] += 1
            if best[r] == -1 or pd[e] < pd[best[r]]:
                best[r] = e
        for e in range(a, b):
            r = _find(parent, pi[e] - t0)
            if n_t[r] > 1 and n_k[r] > 1:
                hard_of[e] = True
            elif best[r] == e:
                chosen[e] = True
        for e in range(a, b):  # reset the per-step scratch
            r = _find(parent, pi[e] - t0)
            root_comp[r] = -1
            n_t[r] = 0
            n_k[r] = 0
            best[r] = -1
            seen_t[pi[e] - t0] = False
            seen_k[nt + pj[e] - k0] = False
        a = b
    return comp, hard_of, chosen


def _solve_two_by_two(
    pi: IntArray, pj: IntArray, gain: FloatArray, idx: IntArray, bounds: IntArray,
    chosen: BoolArray,
) -> BoolArray:
    """Solve the components with two truths and two tracks at once; return which are done.

    ``idx`` holds the pairs of hard components grouped by component, ``gain`` their gains,
    ``bounds`` the group starts. With gains ``g = c^p - d^p > 0`` (0 for an absent edge), the
    best assignment is the better diagonal of the 2x2 gain matrix (its edges of positive
    gain).
    """
    starts = np.concatenate([[0], bounds])
    sizes = np.diff(np.concatenate([starts, [len(idx)]]))
    first = idx[starts]
    t0, k0 = pi[first], pj[first]
    comp_of = np.repeat(np.arange(len(starts)), sizes)
    ti, kj = pi[idx], pj[idx]
    t_other = np.full(len(starts), -1, np.int64)
    k_other = np.full(len(starts), -1, np.int64)
    np.maximum.at(t_other, comp_of[ti != t0[comp_of]], ti[ti != t0[comp_of]])
    np.maximum.at(k_other, comp_of[kj != k0[comp_of]], kj[kj != k0[comp_of]])
    # a 2x2 component has exactly one other truth and one other track
    n_t = np.ones(len(starts), np.int64)
    n_k = np.ones(len(starts), np.int64)
    extra_t = (ti != t0[comp_of]) & (ti != t_other[comp_of])
    extra_k = (kj != k0[comp_of]) & (kj != k_other[comp_of])
    n_t += (t_other >= 0) + np.bincount(comp_of[extra_t], minlength=len(starts)).clip(0, 1)
    n_k += (k_other >= 0) + np.bincount(comp_of[extra_k], minlength=len(starts)).clip(0, 1)
    small = (n_t == 2) & (n_k == 2)
    r = (ti != t0[comp_of]).astype(np.int64)  # 0 for the first truth, 1 for the other
    q = (kj != k0[comp_of]).astype(np.int64)
    g = np.zeros((len(starts), 2, 2))
    sel = small[comp_of]
    g[comp_of[sel], r[sel], q[sel]] = gain[sel]
    diag = g[:, 0, 0] + g[:, 1, 1] >= g[:, 0, 1] + g[:, 1, 0]
    on_diag = (r == q) == diag[comp_of]
    chosen[idx[sel & on_diag]] = True
    return np.asarray(small, dtype=bool)


def _solve_hard(
    pi: IntArray, pj: IntArray, pd: FloatArray, comp: IntArray, hard: BoolArray,
    chosen: BoolArray, c: float, p: float,
) -> None:
    idx = np.flatnonzero(hard)
    if not len(idx):
        return
    idx = idx[np.argsort(comp[idx], kind="stable")]
    bounds = np.flatnonzero(np.diff(comp[idx])) + 1
    done = _solve_two_by_two(pi, pj, c**p - pd[idx] ** p, idx, bounds, chosen)
    groups = np.split(idx, bounds)
    for group in (groups[i] for i in np.flatnonzero(~done)):
        rows, r_inv = np.unique(pi[group], return_inverse=True)
        cols, c_inv = np.unique(pj[group], return_inverse=True)
        cost = np.zeros((len(rows), len(cols)))
        cost[r_inv, c_inv] = pd[group] ** p - c**p
        r, k = linear_sum_assignment(cost)
        lookup = np.full((len(rows), len(cols)), -1, np.int64)
        lookup[r_inv, c_inv] = group
        sel = lookup[r, k]
        chosen[sel[(sel >= 0) & (cost[r, k] < 0.0)]] = True
