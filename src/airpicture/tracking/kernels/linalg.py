"""Small-matrix algebra in registers for the compiled kernels: Cholesky, forward
substitution and the Mahalanobis distance of an innovation, on the leading ``m x m`` block of
``(6, 6)`` scratch buffers."""

from __future__ import annotations

import math

import numba
import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]

LOG_2PI = math.log(2.0 * math.pi)
TWO_PI = 2.0 * math.pi


@numba.njit(cache=True)
def cholesky(S: Array, m: int, L: Array) -> bool:
    """Lower Cholesky factor of the leading ``m x m`` block of ``S`` into ``L``; False when
    that block is not positive definite."""
    for a in range(m):
        for b in range(a + 1):
            acc = S[a, b]
            for k in range(b):
                acc -= L[a, k] * L[b, k]
            if a == b:
                if acc <= 0.0:
                    return False
                L[a, a] = math.sqrt(acc)
            else:
                L[a, b] = acc / L[b, b]
    return True


@numba.njit(cache=True)
def forward(L: Array, m: int, v: Array, u: Array) -> None:
    """``u = L^-1 v`` for the lower-triangular leading ``m x m`` block of ``L``."""
    for a in range(m):
        acc = v[a]
        for k in range(a):
            acc -= L[a, k] * u[k]
        u[a] = acc / L[a, a]


@numba.njit(cache=True)
def mahalanobis(L: Array, m: int, y: Array, u: Array) -> tuple[float, float]:
    """``y^T S^-1 y`` and ``log det S`` from the Cholesky factor ``L`` of ``S``; ``u`` is
    scratch space."""
    forward(L, m, y, u)
    d2 = 0.0
    logdet = 0.0
    for a in range(m):
        d2 += u[a] * u[a]
        logdet += 2.0 * math.log(L[a, a])
    return d2, logdet
