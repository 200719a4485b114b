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

import functools

import numba as nb
import numpy as np
from numpy.typing import NDArray
from scipy import sparse
from scipy.sparse.csgraph import min_weight_full_bipartite_matching
from scipy.spatial import cKDTree
from scipy.stats import chi2

__all__ = ["assign_gated", "chi2_gate", "mahalanobis3", "mahalanobis3_pairs", "match_identity"]

Array = NDArray[np.float64]
Index = NDArray[np.int64]


@functools.lru_cache(maxsize=64)
def chi2_gate(probability: float, dof: int = 3) -> float:
    """The chi-square gate holding ``probability`` of true pairs with ``dof`` components."""
    if not 0.0 < probability < 1.0:
        raise ValueError(f"gate probability must be in (0, 1), got {probability}")
    return float(chi2.ppf(probability, dof))


@nb.njit(cache=True, nogil=True, inline="always")
def _d2(
    x: float, y: float, z: float, a: float, b: float, c: float, e: float, f: float, i: float
) -> float:  # pragma: no cover - compiled
    """``d^T S^-1 d`` for ``d = [x, y, z]`` and ``S = [[a, b, c], [b, e, f], [c, f, i]]``:
    the closed-form inverse (adjugate over determinant); ``inf`` unless ``det S > 0``."""
    A = e * i - f * f
    B = c * f - b * i
    C = b * f - c * e
    E = a * i - c * c
    F = b * c - a * f
    Iz = a * e - b * b
    det = a * A + b * B + c * C
    q = A * x * x + E * y * y + Iz * z * z + 2.0 * (B * x * y + C * x * z + F * y * z)
    return q / det if det > 0.0 else np.inf


@nb.njit(cache=True, nogil=True)
def _rows_d2(d: Array, S: Array, out: Array) -> None:  # pragma: no cover - compiled
    for k in range(d.shape[0]):
        out[k] = _d2(d[k, 0], d[k, 1], d[k, 2], S[k, 0, 0], S[k, 0, 1], S[k, 0, 2],
                     S[k, 1, 1], S[k, 1, 2], S[k, 2, 2])


@nb.njit(cache=True, nogil=True)
def _pairs_d2(
    xa: Array, Pa: Array, ia: Index, xb: Array, Pb: Array, ib: Index, out: Array
) -> None:  # pragma: no cover - compiled
    for k in range(ia.shape[0]):
        i, j = ia[k], ib[k]
        out[k] = _d2(
            xa[i, 0] - xb[j, 0], xa[i, 1] - xb[j, 1], xa[i, 2] - xb[j, 2],
            Pa[i, 0, 0] + Pb[j, 0, 0], Pa[i, 0, 1] + Pb[j, 0, 1], Pa[i, 0, 2] + Pb[j, 0, 2],
            Pa[i, 1, 1] + Pb[j, 1, 1], Pa[i, 1, 2] + Pb[j, 1, 2], Pa[i, 2, 2] + Pb[j, 2, 2],
        )


def mahalanobis3(d: Array, S: Array) -> Array:
    """``d^T S^-1 d`` for ``d (N, 3)`` and symmetric positive definite ``S (N, 3, 3)``.

    Closed-form 3x3 inverse (adjugate over determinant), one pass over ``N``; a singular
    ``S`` gives ``inf``. Only the upper triangle of ``S`` is read.
    """
    d = np.ascontiguousarray(d, dtype=np.float64)
    S = np.ascontiguousarray(S, dtype=np.float64)
    if d.shape[1:] != (3,) or S.shape != (len(d), 3, 3):
        raise ValueError(f"expected d (N, 3) and S (N, 3, 3), got {d.shape} and {S.shape}")
    out = np.empty(len(d))
    _rows_d2(d, S, out)
    return out


def mahalanobis3_pairs(
    xa: Array, Pa: Array, ia: Index, xb: Array, Pb: Array, ib: Index
) -> Array:
    """:func:`mahalanobis3` of pairs of rows without gathering them first: entry ``k`` is
    ``d^T S^-1 d`` with ``d = xa[ia[k], :3] - xb[ib[k], :3]`` and
    ``S = Pa[ia[k], :3, :3] + Pb[ib[k], :3, :3]`` (``xa (N, >=3)``, ``Pa (N, >=3, >=3)``;
    the same for ``b``). The same arithmetic as :func:`mahalanobis3`, in one pass.
    """
    ia = np.ascontiguousarray(ia, dtype=np.int64)
    ib = np.ascontiguousarray(ib, dtype=np.int64)
    if ia.shape != ib.shape:
        raise ValueError(f"index arrays differ in shape: {ia.shape} and {ib.shape}")
    out = np.empty(len(ia))
    _pairs_d2(
        np.ascontiguousarray(xa, dtype=np.float64),
        np.ascontiguousarray(Pa, dtype=np.float64),
        ia,
        np.ascontiguousarray(xb, dtype=np.float64),
        np.ascontiguousarray(Pb, dtype=np.float64),
        ib,
        out,
    )
    return out


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
    d2 = mahalanobis3_pairs(xr, Sr, ri, xs, Ss, si)
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
    pair_d2 = mahalanobis3_pairs(xr, Sr, out_r, xs, Ss, out_s)
    order = np.argsort(out_r, kind="stable")
    return out_r[order].astype(np.int64), out_s[order].astype(np.int64), pair_d2[order]
