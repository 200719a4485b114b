"""Covariance intersection (CI): fusing estimates whose cross-correlation is unknown.

Partner tracks of one object share information (common sensors, common history, earlier
rounds of fusion), so the Kalman combination that assumes independence would count it twice
and become overconfident. CI (Julier & Uhlmann 1997) fuses ``(x_a, P_a)`` and ``(x_b, P_b)``
as a convex combination in information form::

    Y = w P_a^-1 + (1 - w) P_b^-1,   P = Y^-1
    x = P (w P_a^-1 x_a + (1 - w) P_b^-1 x_b)
      = x_a + P (1 - w) P_b^-1 (x_b - x_a)

which is consistent (``P`` bounds the true error covariance) for every ``w`` in ``[0, 1]``,
whatever the correlation. ``w`` is chosen to make ``P`` small: ``g(w) = log det Y(w)`` is
concave, and is maximised by a Newton step (``g' = tr Z``, ``g'' = -|Z|_F^2`` with
``Z = L^-1 (P_a^-1 - P_b^-1) L^-T``, ``Y = L L^T``) started from the closed form of improved
fast CI (Franken & Hupper 2005); on random anisotropic pairs the result is within 0.1 % of
the optimal ``det P`` at the 90th percentile, about 10 % at worst (tests/fusion)::

    w0 = (1 + r_a - r_b) / 2,   r_i = det(P_i^-1) / det(P_a^-1 + P_b^-1)

Fusing an estimate with itself gives ``w = 1/2`` and the estimate back: nothing is double
counted.

More than two estimates are folded in order: ``CI(CI(CI(e0, e1), e2), e3)``.

The kernels are Numba loops over groups with hand-written Cholesky factorisations of the 6x6
state covariances (a fixed size, so loops unroll; batched LAPACK calls cost about a
microsecond per small matrix, which is the whole budget).
"""

from __future__ import annotations

import numba as nb
import numpy as np
from numpy.typing import NDArray

__all__ = ["ci_fuse", "ci_fuse_groups", "is_spd"]

_NEWTON_STEPS = 1
_DIM = 6
"""State dimension the kernels are compiled for (fixed, so loops unroll)."""

Array = NDArray[np.float64]


@nb.njit(cache=True, nogil=True)
def _cholesky(A: Array, L: Array) -> bool:  # pragma: no cover - compiled
    """Lower-triangular ``L`` with ``L L^T = A``; False when ``A`` is not positive definite."""
    n = _DIM
    for j in range(n):
        s = A[j, j]
        for k in range(j):
            s -= L[j, k] * L[j, k]
        if not s > 0.0:
            return False
        d = np.sqrt(s)
        L[j, j] = d
        for i in range(j + 1, n):
            s = A[i, j]
            for k in range(j):
                s -= L[i, k] * L[j, k]
            L[i, j] = s / d
        for i in range(j):
            L[i, j] = 0.0
    return True


@nb.njit(cache=True, nogil=True)
def _logdet_of_factor(L: Array) -> float:  # pragma: no cover - compiled
    s = 0.0
    for i in range(_DIM):
        s += np.log(L[i, i])
    return 2.0 * s


@nb.njit(cache=True, nogil=True)
def _inverse_spd(A: Array, out: Array, L: Array, M: Array) -> float:  # pragma: no cover
    """``out = A^-1`` for symmetric positive definite ``A``; returns ``log det A`` (NaN if not
    positive definite). ``L`` and ``M`` are scratch (the factor and its inverse)."""
    if not _cholesky(A, L):
        return np.nan
    n = _DIM
    for j in range(n):  # M = L^-1 (lower triangular), column by column
        for i in range(j):
            M[i, j] = 0.0
        M[j, j] = 1.0 / L[j, j]
        for i in range(j + 1, n):
            s = 0.0
            for k in range(j, i):
                s -= L[i, k] * M[k, j]
            M[i, j] = s / L[i, i]
    for i in range(n):  # A^-1 = M^T M
        for j in range(i + 1):
            s = 0.0
            for k in range(i, n):
                s += M[k, i] * M[k, j]
            out[i, j] = s
            out[j, i] = s
    return _logdet_of_factor(L)


@nb.njit(cache=True, nogil=True)
def _newton_weight(
    w: float, Ya: Array, Yb: Array, Y: Array, L: Array, T: Array
) -> float:  # pragma: no cover - compiled
    """Newton steps on the concave ``g(w) = log det Y(w)`` from ``w``, kept in [0, 1]:
    ``g' = tr Z``, ``g'' = -|Z|_F^2`` with ``Z = L^-1 (Ya - Yb) L^-T``, ``Y(w) = L L^T``."""
    n = _DIM
    for _ in range(_NEWTON_STEPS):
        for i in range(n):
            for j in range(n):
                Y[i, j] = w * Ya[i, j] + (1.0 - w) * Yb[i, j]
        if not _cholesky(Y, L):
            break
        for j in range(n):  # T = L^-1 D, column by column (D = Ya - Yb)
            for i in range(n):
                s = Ya[i, j] - Yb[i, j]
                for k in range(i):
                    s -= L[i, k] * T[k, j]
                T[i, j] = s / L[i, i]
        g1 = 0.0
        g2 = 0.0
        for j in range(n):  # Z = L^-1 T^T; only its trace and Frobenius norm are needed
            for i in range(n):
                s = T[j, i]
                for k in range(i):
                    s -= L[i, k] * Y[k, j]
                Y[i, j] = s / L[i, i]  # Y is free scratch here: it holds column j of Z
                g2 += Y[i, j] * Y[i, j]
            g1 += Y[j, j]
        if not g2 > 0.0:
            break
        step = g1 / g2
        w_new = min(max(w + step, 0.0), 1.0)
        if abs(w_new - w) < 1e-6:
            w = w_new
            break
        w = w_new
    return w


@nb.njit(cache=True, nogil=True)
def _fuse_groups(
    x: Array,
    P: Array,
    rows: NDArray[np.int64],
    starts: NDArray[np.int64],
    xf: Array,
    Pf: Array,
    ok: NDArray[np.bool_],
) -> None:  # pragma: no cover - compiled
    n = _DIM
    Ya = np.empty((n, n))
    Yb = np.empty((n, n))
    Y = np.empty((n, n))
    L = np.empty((n, n))
    M = np.empty((n, n))
    T = np.empty((n, n))
    v = np.empty(n)
    for g in range(starts.shape[0] - 1):
        first = rows[starts[g]]
        for i in range(n):
            xf[g, i] = x[first, i]
            for j in range(n):
                Pf[g, i, j] = P[first, i, j]
        ok[g] = True
        if starts[g + 1] - starts[g] == 1:
            continue
        ld_a = -_inverse_spd(P[first], Ya, L, M)
        for mi in range(starts[g] + 1, starts[g + 1]):
            m = rows[mi]
            ld_b = -_inverse_spd(P[m], Yb, L, M)
            for i in range(n):
                for j in range(n):
                    Y[i, j] = Ya[i, j] + Yb[i, j]
            if np.isnan(ld_a) or np.isnan(ld_b) or not _cholesky(Y, L):
                ok[g] = False
                break
            ld_sum = _logdet_of_factor(L)
            # Improved fast CI weight (Franken & Hupper 2005), ratios taken in log space ...
            w = 0.5 * (1.0 + np.exp(ld_a - ld_sum) - np.exp(ld_b - ld_sum))
            w = min(max(w, 0.0), 1.0)
            # ... refined by Newton steps on g(w) = log det(w Ya + (1 - w) Yb).
            w = _newton_weight(w, Ya, Yb, Y, L, T)
            for i in range(n):
                for j in range(n):
                    Y[i, j] = w * Ya[i, j] + (1.0 - w) * Yb[i, j]
            # x <- x + Y^-1 (1 - w) Yb (x_m - x), solved with the Cholesky factor of Y.
            for i in range(n):
                s = 0.0
                for k in range(n):
                    s += Yb[i, k] * (x[m, k] - xf[g, k])
                v[i] = (1.0 - w) * s
            if not _cholesky(Y, L):
                ok[g] = False
                break
            for i in range(n):  # forward: L u = v
                s = v[i]
                for k in range(i):
                    s -= L[i, k] * v[k]
                v[i] = s / L[i, i]
            for i in range(n - 1, -1, -1):  # backward: L^T d = u
                s = v[i]
                for k in range(i + 1, n):
                    s -= L[k, i] * v[k]
                v[i] = s / L[i, i]
            for i in range(n):
                xf[g, i] += v[i]
                for j in range(n):
                    Ya[i, j] = Y[i, j]
            ld_a = _logdet_of_factor(L)
        if ok[g] and np.isnan(_inverse_spd(Ya, Pf[g], L, M)):
            ok[g] = False
        if not ok[g]:
            xf[g] = x[first]
            Pf[g] = P[first]


@nb.njit(cache=True, nogil=True)
def _spd_status(P: Array, rel_tol: float, out: NDArray[np.int8]) -> None:  # pragma: no cover
    n = _DIM
    L = np.empty((n, n))
    for g in range(P.shape[0]):
        scale = 0.0
        asym = 0.0
        for i in range(n):
            for j in range(n):
                scale = max(scale, abs(P[g, i, j]))
                asym = max(asym, abs(P[g, i, j] - P[g, j, i]))
        # NaN fails every comparison, so it fails here; inf fails the factorisation.
        good = asym <= rel_tol * scale and scale < np.inf and _cholesky(P[g], L)
        out[g] = 0 if not good else (1 if asym == 0.0 else 2)


def spd_status(P: Array, rel_tol: float = 0.0) -> NDArray[np.int8]:
    """Per ``P (N, 6, 6)``: 0 not usable, 1 symmetric positive definite, 2 the same but only
    symmetric to within ``rel_tol`` of its largest entry (use it symmetrised)."""
    P = np.ascontiguousarray(P, dtype=np.float64)
    if P.shape[1:] != (_DIM, _DIM):
        raise ValueError(f"expected P (N, 6, 6), got {P.shape}")
    out = np.empty(len(P), dtype=np.int8)
    _spd_status(P, float(rel_tol), out)
    return out


def is_spd(P: Array, rel_tol: float = 0.0) -> NDArray[np.bool_]:
    """Which of ``P (N, 6, 6)`` are finite, symmetric to within ``rel_tol`` of their largest
    entry, and positive definite (tested on the lower triangle)."""
    return spd_status(P, rel_tol) > 0


def ci_fuse_groups(
    x: Array, P: Array, starts: NDArray[np.int64], rows: NDArray[np.int64] | None = None
) -> tuple[Array, Array, NDArray[np.bool_]]:
    """Fuse consecutive runs of estimates by covariance intersection.

    Parameters
    ----------
    x : (M, 6) float64
        Estimates, grouped: group ``g`` is rows ``starts[g]:starts[g + 1]``, fused in order.
    P : (M, 6, 6) float64
        Their covariances (symmetric positive definite).
    starts : (G + 1,) int64
        Group boundaries, ``starts[0] == 0``, ``starts[-1] == len(rows)``, increasing.
    rows : (K,) int64, optional
        Rows of ``x`` and ``P`` in group order (default: all, in order), so groups can be
        formed without copying the estimates.

    Returns
    -------
    x_fused : (G, 6), P_fused : (G, 6, 6), ok : (G,) bool
        The fused estimates; ``ok`` is False for a group where a covariance was not positive
        definite (its first estimate is returned unchanged). A group of one is returned as is.
    """
    x = np.ascontiguousarray(x, dtype=np.float64)
    P = np.ascontiguousarray(P, dtype=np.float64)
    starts = np.ascontiguousarray(starts, dtype=np.int64)
    idx = np.arange(len(x)) if rows is None else np.ascontiguousarray(rows, dtype=np.int64)
    if x.ndim != 2 or x.shape[1] != _DIM or P.shape != (*x.shape, _DIM):
        raise ValueError(f"expected x (M, 6) and P (M, 6, 6), got {x.shape} and {P.shape}")
    if idx.size and (idx.min() < 0 or idx.max() >= len(x)):
        raise ValueError(f"rows must index the {len(x)} estimates")
    if starts.ndim != 1 or starts.size < 1 or starts[0] != 0 or starts[-1] != len(idx):
        raise ValueError(f"starts must run from 0 to {len(idx)}, got {starts[:1]}..{starts[-1:]}")
    if np.any(np.diff(starts) <= 0):
        raise ValueError("starts must be strictly increasing (no empty groups)")
    g = starts.size - 1
    xf = np.empty((g, x.shape[1]))
    Pf = np.empty((g, x.shape[1], x.shape[1]))
    ok = np.empty(g, dtype=np.bool_)
    _fuse_groups(x, P, idx, starts, xf, Pf, ok)
    return xf, Pf, ok


def ci_fuse(x_a: Array, P_a: Array, x_b: Array, P_b: Array) -> tuple[Array, Array]:
    """Pairwise covariance intersection of ``N`` pairs: ``x (N, 6)``, ``P (N, 6, 6)``."""
    x_a, x_b = np.asarray(x_a, dtype=np.float64), np.asarray(x_b, dtype=np.float64)
    if x_a.shape != x_b.shape:
        raise ValueError(f"x_a {x_a.shape} and x_b {x_b.shape} differ")
    n = len(x_a)
    x = np.stack([x_a, x_b], axis=1).reshape(2 * n, -1)
    P = np.stack([np.asarray(P_a), np.asarray(P_b)], axis=1).reshape(2 * n, *x.shape[1:], -1)
    xf, Pf, ok = ci_fuse_groups(x, P, np.arange(0, 2 * n + 1, 2))
    if not ok.all():
        bad = int(np.flatnonzero(~ok)[0])
        raise ValueError(f"covariance of pair {bad} is not positive definite")
    return xf, Pf
