"""Compiled moment matching of whole track rows: the IMM-combined estimate of every row (the
output step), as :func:`airpicture.tracking.imm.imm_combine` with one pass per row instead of
stacked ``(N, r, 6, 6)`` temporaries."""

from __future__ import annotations

import numba
import numpy as np
from numpy.typing import NDArray

from airpicture.tracking.kernels import imm
from airpicture.tracking.kernels.inline import inlined

Array = NDArray[np.float64]
Index = NDArray[np.intp]

combine_cov, combine_mean = inlined(imm.combine_cov), inlined(imm.combine_mean)


@numba.njit(cache=True)
def combine_rows(x: Array, P: Array, mu: Array, rows: Index) -> tuple[Array, Array]:
    """Combined states ``(len(rows), 6)`` and covariances ``(len(rows), 6, 6)`` (ECEF, m and
    m/s) of the model estimates ``x (N, r, 6)``, ``P`` of ``rows``, weighted by the mode
    probabilities ``mu (N, r)``."""
    xc = np.empty((len(rows), 6))
    Pc = np.empty((len(rows), 6, 6))
    for k in range(len(rows)):
        i = rows[k]
        combine_mean(x[i], mu[i], xc[k])
        combine_cov(x[i], P[i], mu[i], xc[k], Pc[k])
    return xc, Pc
