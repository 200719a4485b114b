"""Compiled EKF kernels: measurement prediction and Jacobians, innovations and the
model-wise Joseph update of (track, plot) pairs.

Measurement layouts (EKF only): radar ``[range, azimuth, elevation, range-rate]`` in the
sensor's ENU frame and ADS-B ``[x, y, z, vx, vy, vz]`` ECEF. A plot uses the components whose
bits are set in its group code (bit ``i``: component ``i``). The equations are those of
:mod:`airpicture.tracking.measurement` and :mod:`airpicture.tracking.filters`, which stay the
reference (and the path of the UKF and of SSR/ESM plots); results agree with them to rounding
(no ``fastmath``).
"""

from __future__ import annotations

import math

import numba
import numpy as np
from numpy.typing import NDArray

from airpicture.tracking.kernels import linalg
from airpicture.tracking.kernels.inline import inlined, without_runtime
from airpicture.tracking.kernels.linalg import LOG_2PI, TWO_PI

cholesky = inlined(linalg.cholesky)
mahalanobis = inlined(linalg.mahalanobis)

Array = NDArray[np.float64]
Index = NDArray[np.intp]

RADAR = 0
"""Layout code of radar plots."""
ADSB = 1
"""Layout code of ADS-B plots."""
FULL_SIZE = (4, 6)
"""Full measurement size of each layout."""


@numba.njit(cache=True, inline="always")
def h_full(layout: int, x: Array, site: Array, rot: Array, h: Array, H: Array,
            He: Array) -> None:
    """Full predicted measurement ``h`` and Jacobian ``H`` (rows as in the module docstring).

    ``He (4, 6)`` is scratch space (the radar Jacobian in ENU coordinates).
    """
    if layout == ADSB:
        for a in range(6):
            h[a] = x[a]
            for b in range(6):
                H[a, b] = 1.0 if a == b else 0.0
        return
    dx, dy, dz = x[0] - site[0], x[1] - site[1], x[2] - site[2]
    e = rot[0, 0] * dx + rot[0, 1] * dy + rot[0, 2] * dz
    n = rot[1, 0] * dx + rot[1, 1] * dy + rot[1, 2] * dz
    u = rot[2, 0] * dx + rot[2, 1] * dy + rot[2, 2] * dz
    ve = rot[0, 0] * x[3] + rot[0, 1] * x[4] + rot[0, 2] * x[5]
    vn = rot[1, 0] * x[3] + rot[1, 1] * x[4] + rot[1, 2] * x[5]
    vu = rot[2, 0] * x[3] + rot[2, 1] * x[4] + rot[2, 2] * x[5]
    rho = math.hypot(e, n)
    rng = math.sqrt(rho * rho + u * u)
    rr = (e * ve + n * vn + u * vu) / rng
    h[0] = rng
    h[1] = math.atan2(e, n) % TWO_PI
    h[2] = math.atan2(u, rho)
    h[3] = rr
    for a in range(4):
        for b in range(6):
            He[a, b] = 0.0
    He[0, 0], He[0, 1], He[0, 2] = e / rng, n / rng, u / rng
    He[1, 0], He[1, 1] = n / rho**2, -e / rho**2
    He[2, 0] = -e * u / (rng**2 * rho)
    He[2, 1] = -n * u / (rng**2 * rho)
    He[2, 2] = rho / rng**2
    He[3, 0] = ve / rng - rr * e / rng**2
    He[3, 1] = vn / rng - rr * n / rng**2
    He[3, 2] = vu / rng - rr * u / rng**2
    He[3, 3], He[3, 4], He[3, 5] = e / rng, n / rng, u / rng
    for row in range(4):
        for b in range(3):
            H[row, b] = He[row, 0] * rot[0, b] + He[row, 1] * rot[1, b] + He[row, 2] * rot[2, b]
            H[row, 3 + b] = (He[row, 3] * rot[0, b] + He[row, 4] * rot[1, b]
                             + He[row, 5] * rot[2, b])


@numba.njit(cache=True, inline="always")
def select(
    layout: int, code: int, x: Array, P: Array, z: Array, R: Array, site: Array, rot: Array,
    work: Array, y: Array, H: Array, S: Array, Rs: Array,
) -> int:
    """Innovation ``y``, ``H``, ``S`` (symmetrised) and ``R`` of the components in ``code``.

    Writes the leading ``m x ...`` blocks of the ``(6, ...)`` buffers and returns ``m``;
    ``work (4, 6, 6)`` is scratch space.
    """
    full = FULL_SIZE[layout]
    h = work[0, 0]
    cols = work[0, 1]
    Hf = work[1]
    h_full(layout, x, site, rot, h, Hf, work[2])
    m = 0
    for a in range(full):
        if (code >> a) & 1:
            cols[m] = a
            m += 1
    for a in range(m):
        ca = int(cols[a])
        d = z[ca] - h[ca]
        if layout == RADAR and ca == 1:
            d = (d + math.pi) % TWO_PI - math.pi
        y[a] = d
        for b in range(6):
            H[a, b] = Hf[ca, b]
        for b in range(m):
            Rs[a, b] = R[ca, int(cols[b])]
    innovation_covariance(P, H, Rs, m, work[3], S)
    return m


@numba.njit(cache=True, inline="always")
def _span(H: Array, row: int) -> tuple[int, int]:
    """``[lo, hi)`` outside which row ``row`` of ``H`` is exactly zero (a radar range, azimuth
    or elevation row has no velocity part; an ADS-B row is one unit entry)."""
    lo, hi = 0, 6
    while lo < hi and H[row, lo] == 0.0:
        lo += 1
    while hi > lo and H[row, hi - 1] == 0.0:
        hi -= 1
    return lo, hi


@numba.njit(cache=True, inline="always")
def innovation_covariance(P: Array, H: Array, Rs: Array, m: int, PHt: Array, S: Array) -> None:
    """``PHt = P H^T`` and ``S = H P H^T + R`` (symmetrised) on the leading ``m`` rows of
    ``H``; the sums skip the exact zeros of ``H`` (the same result, in fewer products)."""
    for b in range(m):
        lo, hi = _span(H, b)
        for a in range(6):
            acc = 0.0
            for k in range(lo, hi):
                acc += P[a, k] * H[b, k]
            PHt[a, b] = acc
    for a in range(m):
        lo, hi = _span(H, a)
        for b in range(m):
            acc = 0.0
            for k in range(lo, hi):
                acc += H[a, k] * PHt[k, b]
            S[a, b] = acc + Rs[a, b]
    for a in range(m):
        for b in range(a):
            sym = 0.5 * (S[a, b] + S[b, a])
            S[a, b] = sym
            S[b, a] = sym


@numba.njit(cache=True, inline="always")
def _gain(L: Array, m: int, PHt: Array, inv: Array, K: Array) -> None:
    """Kalman gain ``K (6, m) = P H^T S^-1`` from the Cholesky factor ``L`` of ``S``: forward
    then back substitution, all six rows at each step (they are independent), multiplying by
    the reciprocals ``inv (m,)`` of the diagonal of ``L`` (scratch)."""
    for b in range(m):
        inv[b] = 1.0 / L[b, b]
    for b in range(m):  # K <- (P H^T) L^-T, column b
        for a in range(6):
            acc = PHt[a, b]
            for t in range(b):
                acc -= L[b, t] * K[a, t]
            K[a, b] = acc * inv[b]
    for b in range(m - 1, -1, -1):  # K <- K L^-1
        for a in range(6):
            acc = K[a, b]
            for t in range(b + 1, m):
                acc -= L[t, b] * K[a, t]
            K[a, b] = acc * inv[b]


@numba.njit(cache=True)
def scratch() -> tuple[Array, Array, Array, Array, Array, Array, Array]:
    """Scratch buffers of :func:`select`, :func:`.linalg.cholesky` and
    :func:`.linalg.mahalanobis`: ``work (4, 6, 6)``, ``y``, ``u (6,)`` and ``H``, ``S``,
    ``Rs``, ``L (6, 6)``."""
    return (np.zeros((4, 6, 6)), np.zeros(6), np.zeros(6), np.zeros((6, 6)), np.zeros((6, 6)),
            np.zeros((6, 6)), np.zeros((6, 6)))


@numba.njit(cache=True, inline="always")
def _columns(H: Array, m: int) -> int:
    """Number of leading columns of ``H``'s first ``m`` rows outside which all are exactly
    zero (3 for radar plots without range-rate and ADS-B positions: no velocity part)."""
    hc = 0
    for a in range(m):
        hc = max(hc, _span(H, a)[1])
    return hc


@numba.njit(cache=True, inline="always")
def _joseph(Kg: Array, H: Array, Rs: Array, m: int, hc: int, P: Array, G: Array, T: Array,
            KR: Array) -> None:
    """``P <- G P G^T + K R K^T``, ``G = I - K H``, in place (its upper triangle, mirrored),
    for ``H`` zero beyond its first ``hc`` columns: there ``G`` is ``I`` and the products with
    it are skipped (the same sums). ``G``, ``T``, ``KR (6, 6)`` are scratch space."""
    for a in range(6):  # G = I - K H, its first hc columns
        for b in range(hc):
            acc = 1.0 if a == b else 0.0
            for t in range(m):
                acc -= Kg[a, t] * H[t, b]
            G[a, b] = acc
    for a in range(6):  # T = G P
        for b in range(6):
            acc = 0.0
            for t in range(hc):
                acc += G[a, t] * P[t, b]
            T[a, b] = acc + P[a, b] if a >= hc else acc
    for a in range(6):
        for b in range(m):
            acc = 0.0
            for t in range(m):
                acc += Kg[a, t] * Rs[t, b]
            KR[a, b] = acc
    for a in range(6):  # T G^T + K R K^T, symmetric: upper triangle, mirrored
        for b in range(a, 6):
            acc = 0.0
            for t in range(hc):
                acc += T[a, t] * G[b, t]
            if b >= hc:
                acc += T[a, b]
            for t in range(m):
                acc += KR[a, t] * Kg[b, t]
            P[a, b] = acc
            P[b, a] = acc


@numba.njit(cache=True)
def ekf_update(
    layout: int, xp: Array, Pp: Array, pick: Index, plot: Index, code: NDArray[np.int64],
    z: Array, R: Array, site: Array, rot: Array,
) -> tuple[Array, bool]:
    """Model-wise Joseph-form EKF updates of the pairs ``pick`` (``xp (K, r, 6)``,
    ``Pp (K, r, 6, 6)`` their predictions) with their plots ``plot (len(pick),)``, in place.

    ``K = P H^T S^-1`` (through the Cholesky factor of ``S``), ``x+ = x + K y``,
    ``P+ = (I - K H) P (I - K H)^T + K R K^T`` (:func:`_joseph`). Returns the model
    log-likelihoods ``(len(pick), r)`` and ``False`` when some innovation covariance was not
    positive definite (that model's prediction is left as it was).
    """
    ll = np.zeros((len(pick), xp.shape[1]))
    fine = _update_pairs(layout, xp, Pp, pick, plot, code, z, R, site, rot, ll, scratch(),
                         np.zeros((4, 6, 6)))
    return ll, fine


@without_runtime
def _update_pairs(
    layout: int, xp: Array, Pp: Array, pick: Index, plot: Index, code: NDArray[np.int64],
    z: Array, R: Array, site: Array, rot: Array, ll: Array, ekf: tuple[Array, ...],
    joseph: Array,
) -> bool:
    """The pair loop of :func:`ekf_update` into ``ll``, with scratch space ``ekf``
    (:func:`scratch`) and ``joseph (4, 6, 6)``; compiled without Numba's runtime (no atomic
    reference counting of the views it hands the inlined kernels, as :mod:`.gate`)."""
    A, r = len(pick), xp.shape[1]
    bad = False
    work, y, u, H, S, Rs, L = ekf
    Kg, G, T, KR = joseph[0], joseph[1], joseph[2], joseph[3]
    for k in range(A):
        j = plot[k]
        for mdl in range(r):
            x = xp[pick[k], mdl]
            P = Pp[pick[k], mdl]
            m = select(layout, code[j], x, P, z[j], R[j], site, rot, work, y, H, S, Rs)
            if not cholesky(S, m, L):
                bad = True
                continue
            d2, logdet = mahalanobis(L, m, y, u)
            ll[k, mdl] = -0.5 * (d2 + logdet + m * LOG_2PI)
            PHt = work[3]  # P H^T, from select
            _gain(L, m, PHt, u, Kg)
            for a in range(6):
                acc = x[a]
                for b in range(m):
                    acc += Kg[a, b] * y[b]
                x[a] = acc
            if _columns(H, m) <= 3:  # literal bounds: compiled unrolled
                _joseph(Kg, H, Rs, m, 3, P, G, T, KR)
            else:
                _joseph(Kg, H, Rs, m, 6, P, G, T, KR)
    return not bad
