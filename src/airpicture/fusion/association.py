"""Track-to-track association: which partner track is which system track.

Two steps, both vectorised over tracks:

1. **Identity first** (:func:`match_identity`): a cooperative identity (ICAO 24-bit address)
   held by exactly one candidate system track binds to it, provided the positions are not
   absurdly apart (a loose chi-square gate).
2. **Gated assignment** (:func:`assign_gated`): for the rest, the squared Mahalanobis distance
   of the position difference, ``d2 = dx^T (P_r + P_s)^-1 dx`` (3 degrees of freedom), is
   computed only for the ``k`` nearest system tracks of each report (KD-tree); pairs over the
   chi-square gate are not edges. The globally cheapest one-to-one assignment (sum of ``d2``)
   is solved on the sparse graph with dummy "unassigned" nodes of cost ``gate / 2`` on each
   side, so a pair is kept only when ``d2 < gate`` and a full matching always exists
   (LAPJVsp, ``scipy.sparse.csgraph.min_weight_full_bipartite_matching``).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy import sparse
from scipy.sparse.csgraph import min_weight_full_bipartite_matching
from scipy.spatial import cKDTree
from scipy.stats import chi2

__all__ = ["assign_gated", "chi2_gate", "mahalanobis3", "match_identity"]

Array = NDArray[np.float64]
Index = NDArray[np.int64]


def chi2_gate(probability: float, dof: int = 3) -> float:
    """The chi-square gate holding ``probability`` of true pairs with ``dof`` components."""
    if not 0.0 < probability < 1.0:
        raise ValueError(f"gate probability must be in (0, 1), got {probability}")
    return float(chi2.ppf(probability, dof))


def mahalanobis3(d: Array, S: Array) -> Array:
    """``d^T S^-1 d`` for ``d (N, 3)`` and symmetric positive definite ``S (N, 3, 3)``.

    Closed-form 3x3 inverse (adjugate over determinant), elementwise over ``N``; a singular
    ``S`` gives ``inf``.
    """
    a, b, c = S[:, 0, 0], S[:, 0, 1], S[:, 0, 2]
    e, f, i = S[:, 1, 1], S[:, 1, 2], S[:, 2, 2]
    A = e * i - f * f
    B = c * f - b * i
    C = b * f - c * e
    E = a * i - c * c
    F = b * c - a * f
    Ii = a * e - b * b
    det = a * A + b * B + c * C
    x, y, z = d[:, 0], d[:, 1], d[:, 2]
    q = A * x * x + E * y * y + Ii * z * z + 2.0 * (B * x * y + C * x * z + F * y * z)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(det > 0.0, q / det, np.inf)
    return np.asarray(out, dtype=np.float64)


def match_identity(
    report_icao: NDArray[np.integer], system_icao: NDArray[np.integer]
) -> tuple[Index, Index]:
    """Pairs ``(report index, system index)`` sharing an ICAO address (``-1``: none).

    A system address held by more than one system track is ambiguous and matches nothing;
    of several reports with the same address, the first (in the given order) wins.
    """
    sys_ok = system_icao >= 0
    codes, counts = np.unique(system_icao[sys_ok], return_counts=True)
    unique_codes = codes[counts == 1]
    sys_index = np.flatnonzero(sys_ok)
    order = np.argsort(system_icao[sys_index], kind="stable")
    sorted_codes = system_icao[sys_index][order]
    r_ok = (report_icao >= 0) & np.isin(report_icao, unique_codes)
    r_idx = np.flatnonzero(r_ok)
    _, first = np.unique(report_icao[r_idx], return_index=True)
    r_idx = np.sort(r_idx[first])
    pos = np.searchsorted(sorted_codes, report_icao[r_idx])
    return r_idx.astype(np.int64), sys_index[order[pos]].astype(np.int64)


def assign_gated(
    xr: Array,
    Sr: Array,
    xs: Array,
    Ss: Array,
    gate: float,
    k: int = 8,
    max_radius_m: float = 100_000.0,
    report_icao: NDArray[np.integer] | None = None,
    system_icao: NDArray[np.integer] | None = None,
) -> tuple[Index, Index, Array]:
    """Optimal one-to-one gated assignment of reports to system tracks (positions only).

    Parameters
    ----------
    xr, Sr : (R, 3), (R, 3, 3)
        Report positions (ECEF m) and position covariances (m^2), at the common time.
    xs, Ss : (S, 3), (S, 3, 3)
        System track positions and covariances at the same time.
    gate : float
        Chi-square threshold on ``d2`` (see :func:`chi2_gate`).
    k, max_radius_m
        Candidate search: the ``k`` nearest system tracks within the radius a pair could
        pass the gate at (bounded by ``max_radius_m``).
    report_icao, system_icao : (R,), (S,) int, optional
        ICAO addresses (``-1``: none); a pair whose known addresses differ is no edge.

    Returns
    -------
    report_index, system_index : (A,) int64
        Assigned pairs, sorted by report index.
    d2 : (A,) float64
        Their squared Mahalanobis distances.
    """
    empty = np.zeros(0, np.int64)
    n_r, n_s = len(xr), len(xs)
    if n_r == 0 or n_s == 0:
        return empty, empty, np.zeros(0)
    spread = np.trace(Sr, axis1=1, axis2=2).max() + np.trace(Ss, axis1=1, axis2=2).max()
    radius = min(float(np.sqrt(gate * spread)), max_radius_m)
    k_eff = min(k, n_s)
    dist, nbr = cKDTree(xs).query(xr, k=k_eff, distance_upper_bound=radius * (1 + 1e-9))
    dist, nbr = dist.reshape(n_r, k_eff), nbr.reshape(n_r, k_eff)
    ri, col = np.nonzero(np.isfinite(dist))
    si = nbr[ri, col]
    d2 = mahalanobis3(xr[ri] - xs[si], Sr[ri] + Ss[si])
    keep = d2 < gate
    if report_icao is not None and system_icao is not None:
        a, b = report_icao[ri], system_icao[si]
        keep &= (a < 0) | (b < 0) | (a == b)
    ri, si, d2 = ri[keep], si[keep], d2[keep]
    if ri.size == 0:
        return empty, empty, np.zeros(0)
    # Compact to the reports and systems that have an edge at all.
    r_used, r_loc = np.unique(ri, return_inverse=True)
    s_used, s_loc = np.unique(si, return_inverse=True)
    nr, ns = len(r_used), len(s_used)
    half = gate / 2.0
    # Costs are shifted by +1 so that no edge weighs zero (zero entries are not edges).
    rows = np.concatenate([r_loc, np.arange(nr), nr + np.arange(ns), nr + s_loc])
    cols = np.concatenate([s_loc, ns + np.arange(nr), np.arange(ns), ns + r_loc])
    weights = np.concatenate(
        [d2 + 1.0, np.full(nr, half + 1.0), np.full(ns, half + 1.0), np.ones(len(d2))]
    )
    graph = sparse.csr_array((weights, (rows, cols)), shape=(nr + ns, ns + nr))
    row, matched = min_weight_full_bipartite_matching(graph)
    real = (row < nr) & (matched < ns)
    out_r = r_used[row[real]]
    out_s = s_used[matched[real]]
    pair_d2 = mahalanobis3(xr[out_r] - xs[out_s], Sr[out_r] + Ss[out_s])
    order = np.argsort(out_r, kind="stable")
    return out_r[order].astype(np.int64), out_s[order].astype(np.int64), pair_d2[order]
