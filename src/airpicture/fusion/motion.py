"""Constant-velocity prediction of ECEF tracks, batched.

Partner tracks arrive at their own times; fusion brings every estimate to the epoch time with
the nearly-constant-velocity model (white acceleration noise of power spectral density ``q``
in m^2/s^3 on each ECEF axis)::

    x' = F x,   F = [[I, dt I], [0, I]]
    P' = F P F^T + Q,   Q = q [[dt^3/3 I, dt^2/2 I], [dt^2/2 I, dt I]]

Straight lines in ECEF are good over the seconds a fusion epoch spans (an aircraft at 250 m/s
drifts 17 m from the great circle in a minute). The kernel is a Numba loop (one pass over
memory instead of a dozen NumPy temporaries).
"""

from __future__ import annotations

import numba as nb
import numpy as np
from numpy.typing import NDArray

__all__ = ["predict_cv"]

Array = NDArray[np.float64]


@nb.njit(cache=True, nogil=True)
def _predict(
    x: Array, P: Array, dt: Array, q: float, rows: NDArray[np.int64], xo: Array, Po: Array
) -> None:  # pragma: no cover - compiled
    for o in range(rows.shape[0]):
        r = rows[o]
        d = dt[o]
        for i in range(3):
            xo[o, i] = x[r, i] + d * x[r, i + 3]
            xo[o, i + 3] = x[r, i + 3]
        for i in range(3):
            for j in range(3):
                pp = P[r, i, j]
                pv = P[r, i, j + 3]
                vp = P[r, i + 3, j]
                vv = P[r, i + 3, j + 3]
                Po[o, i, j] = pp + d * (pv + vp) + d * d * vv
                Po[o, i, j + 3] = pv + d * vv
                Po[o, i + 3, j] = vp + d * vv
                Po[o, i + 3, j + 3] = vv
            Po[o, i, i] += q * d * d * d / 3.0
            Po[o, i, i + 3] += q * d * d / 2.0
            Po[o, i + 3, i] += q * d * d / 2.0
            Po[o, i + 3, i + 3] += q * d


def predict_cv(
    x: Array, P: Array, dt: Array, q: float, rows: NDArray[np.int64] | None = None
) -> tuple[Array, Array]:
    """Predict rows of ``x (N, 6)``, ``P (N, 6, 6)`` by ``dt`` seconds; returns new arrays.

    ``rows`` (int indices, default all) selects which rows; ``dt`` has one entry per selected
    row. The result has one row per selected row, in order.
    """
    x = np.ascontiguousarray(x, dtype=np.float64)
    P = np.ascontiguousarray(P, dtype=np.float64)
    idx = np.arange(len(x)) if rows is None else np.ascontiguousarray(rows, dtype=np.int64)
    dt = np.ascontiguousarray(np.broadcast_to(np.asarray(dt, np.float64), idx.shape))
    xo = np.empty((len(idx), 6))
    Po = np.empty((len(idx), 6, 6))
    _predict(x, P, dt, float(q), idx, xo, Po)
    return xo, Po
