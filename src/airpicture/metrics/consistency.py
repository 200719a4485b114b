r"""Filter consistency: NEES and ANEES of associated track states against truth.

For a track state :math:`\hat x` with covariance :math:`P` holding a truth :math:`x`, the
normalised estimation error squared is :math:`\epsilon = (\hat x - x)^T P^{-1} (\hat x - x)`,
over the full state (``d = 6``) or the position (``d = 3``). A consistent filter gives
:math:`E[\epsilon] = d`; the average over ``n`` samples, divided by ``d``, is the ANEES, and
``n d`` ANEES is then :math:`\chi^2_{n d}`: its two-sided 95 % interval is reported. (Samples
along one track are correlated, so the interval is optimistic; it is the usual yardstick.)

Rows whose covariance is not finite or not positive definite are left out and counted
(``invalid``); rows without a finite truth velocity are left out of the full-state NEES.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from airpicture.metrics.association import Association
from airpicture.metrics.samples import FloatArray, Samples, TimeGrid


def nees(error: FloatArray, covariance: FloatArray) -> FloatArray:
    """NEES ``(n,)`` of errors ``(n, d)`` under covariances ``(n, d, d)``; NaN where the
    covariance is not finite or not positive definite."""
    e = np.asarray(error, np.float64)
    p = np.asarray(covariance, np.float64)
    if e.ndim != 2 or p.shape != (*e.shape, e.shape[1]):
        raise ValueError(f"error (n, d) and covariance (n, d, d) expected: {e.shape}, {p.shape}")
    out = np.full(len(e), np.nan)
    ok = np.isfinite(p).all(axis=(1, 2)) & np.isfinite(e).all(axis=1)
    if not ok.any():
        return out
    idx = np.flatnonzero(ok)
    sym = 0.5 * (p[idx] + np.swapaxes(p[idx], 1, 2))
    eig_min = np.linalg.eigvalsh(sym)[:, 0]
    good = eig_min > 0.0
    idx, sym = idx[good], sym[good]
    if len(idx):
        chol = np.linalg.cholesky(sym)
        w = np.linalg.solve(chol, e[idx][:, :, None])[:, :, 0]  # L w = e
        out[idx] = np.einsum("ij,ij->i", w, w)
    return out


def anees(
    truth: Samples, tracks: Samples, association: Association, grid: TimeGrid
) -> dict[str, object]:
    """ANEES (position and full state) over the associated pairs, with 95 % intervals.

    Parameters
    ----------
    truth, tracks : Samples
        Truth ``(N,)`` and tracks ``(M,)``; ``tracks.covariance`` must be given.
    association : Association
        Their association.
    grid : TimeGrid
        Their time grid (for the per-step series).

    Returns
    -------
    dict
        ``position`` and ``state`` entries, each with ``anees``, ``lower95``, ``upper95``,
        ``samples`` and ``invalid``; ``position_series`` ``(T,)`` (0 where a step has no valid
        pair). With no valid pair, ANEES is 0 and the interval ``[0, 0]``.
    """
    if tracks.covariance is None:
        raise ValueError("tracks have no covariance: NEES needs one per track sample")
    pk, pt = association.pair_track_row, association.pair_truth_row
    err = np.concatenate(
        [tracks.position[pk] - truth.position[pt], tracks.velocity[pk] - truth.velocity[pt]],
        axis=1,
    )
    cov = tracks.covariance[pk]
    out: dict[str, object] = {}
    series = np.zeros(grid.n_steps)
    for name, d in (("position", 3), ("state", 6)):
        e = nees(err[:, :d], cov[:, :d, :d])
        ok = np.isfinite(e)
        n = int(np.count_nonzero(ok))
        value = float(np.mean(e[ok]) / d) if n else 0.0
        lo = float(stats.chi2.ppf(0.025, n * d) / (n * d)) if n else 0.0
        hi = float(stats.chi2.ppf(0.975, n * d) / (n * d)) if n else 0.0
        out[name] = {"anees": value, "lower95": lo, "upper95": hi, "samples": n,
                     "invalid": int(len(e) - n)}
        if name == "position":
            steps = grid.track_step[pk[ok]]
            s = np.bincount(steps, weights=e[ok], minlength=grid.n_steps)
            c = np.bincount(steps, minlength=grid.n_steps)
            series = np.where(c > 0, s / np.maximum(c, 1) / d, 0.0)
    out["position_series"] = series
    return out
