"""Fused Numba kernels for the per-pair hot path: IMM predict, EKF gate and update, pre-gate.

Each kernel loops over (track, plot) pairs, or over tracks, doing the small-matrix algebra of
one pair in registers instead of stacking ``(K, 6, 6)`` temporaries; the equations are those of
:mod:`.imm`, :mod:`.motion`, :mod:`.measurement` and :mod:`.filters`, which stay the reference
(and the path for the UKF and for SSR/ESM plots). The kernels are compiled with ``cache=True``
and without ``fastmath``, so results are deterministic and agree with the NumPy path to
rounding.

Measurement layouts handled here (EKF only): radar ``[range, azimuth, elevation, range-rate]``
in the sensor's ENU frame and ADS-B ``[x, y, z, vx, vy, vz]`` ECEF. A plot uses the components
whose bits are set in its group code (bit ``i``: component ``i``).
"""

from __future__ import annotations

import math

import numba
import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]
Index = NDArray[np.intp]

RADAR = 0
"""Layout code of radar plots for :func:`ekf_gate` and :func:`ekf_update`."""
ADSB = 1
"""Layout code of ADS-B plots."""

_BLOCKS = 1
"""Pairs are cut into this many contiguous blocks, each with its own scratch space. Every
pair's result depends on that pair alone, so the blocks could run on threads (``prange``);
they run serially because the tracker may share a process with other threaded components
and Numba's default threading layer does not support concurrent launches."""
_LOG_2PI = math.log(2.0 * math.pi)
_TWO_PI = 2.0 * math.pi


@numba.njit(cache=True)
def _mix_predict(
    x: Array, P: Array, mu: Array, i: int, dt: float, omegas: Array, qs: Array,
    sojourn: float, xp: Array, Pp: Array, c: Array, k: int, x0: Array, P0: Array, w: Array,
    B: Array, Rm: Array, E: Array,
) -> None:
    """IMM mixing and model-wise prediction of track ``i`` into row ``k`` of ``xp``, ``Pp``, ``c``.

    With ``P = [[A, C], [C^T, D]]`` (3x3 blocks) and ``F = [[I, B], [0, Rm]]`` (CV:
    ``B = dt I``, ``Rm = I``), ``F P F^T = [[A + E B^T + B C^T, E Rm^T], [., Rm D Rm^T]]``,
    ``E = C + B D``. ``x0 (r, 6)``, ``P0 (r, 6, 6)``, ``w (r,)``, ``B``, ``Rm``, ``E (3, 3)``
    are scratch space.
    """
    r = x.shape[1]
    if r == 1:
        c[k, 0] = mu[i, 0]
        for a in range(6):
            x0[0, a] = x[i, 0, a]
            for b in range(6):
                P0[0, a, b] = P[i, 0, a, b]
    else:
        leave = 1.0 - math.exp(-abs(dt) / sojourn)
        off = leave / (r - 1)
        for j in range(r):
            cj = 0.0
            for m in range(r):
                cj += (1.0 - leave if m == j else off) * mu[i, m]
            c[k, j] = cj
        for j in range(r):
            den = max(c[k, j], 1e-300)
            for m in range(r):
                w[m] = (1.0 - leave if m == j else off) * mu[i, m] / den
            for a in range(6):
                acc = 0.0
                for m in range(r):
                    acc += w[m] * x[i, m, a]
                x0[j, a] = acc
            for a in range(6):
                for b in range(a, 6):
                    acc = 0.0
                    for m in range(r):
                        acc += w[m] * (P[i, m, a, b]
                                       + (x[i, m, a] - x0[j, a]) * (x[i, m, b] - x0[j, b]))
                    P0[j, a, b] = acc
                    P0[j, b, a] = acc
    ad = abs(dt)
    for j in range(r):
        om = omegas[j]
        if om == 0.0:
            for a in range(3):
                for b in range(3):
                    B[a, b] = dt if a == b else 0.0
                    Rm[a, b] = 1.0 if a == b else 0.0
        else:
            px, py, pz = x0[j, 0], x0[j, 1], x0[j, 2]
            nrm = math.sqrt(px * px + py * py + pz * pz)
            u3 = (px / nrm, py / nrm, pz / nrm)
            ang = om * dt
            sn, co = math.sin(ang), math.cos(ang)
            for a in range(3):  # K = [u]x, K^2 = u u^T - I
                for b in range(3):
                    eye = 1.0 if a == b else 0.0
                    if a == b:
                        kab = 0.0
                    elif (b - a) % 3 == 1:  # K[0,1] = -uz, K[1,2] = -ux, K[2,0] = -uy
                        kab = -u3[(a + 2) % 3]
                    else:  # K[1,0] = uz, K[2,1] = ux, K[0,2] = uy
                        kab = u3[(b + 2) % 3]
                    k2 = u3[a] * u3[b] - eye
                    Rm[a, b] = eye + sn * kab + (1.0 - co) * k2
                    B[a, b] = dt * eye + (1.0 - co) / om * kab + (dt - sn / om) * k2
        for a in range(3):
            accp = x0[j, a]
            accv = 0.0
            for b in range(3):
                accp += B[a, b] * x0[j, 3 + b]
                accv += Rm[a, b] * x0[j, 3 + b]
            xp[k, j, a] = accp
            xp[k, j, 3 + a] = accv
        for a in range(3):  # E = C + B D
            for b in range(3):
                acc = P0[j, a, 3 + b]
                for t in range(3):
                    acc += B[a, t] * P0[j, 3 + t, 3 + b]
                E[a, b] = acc
        q = qs[j]
        for a in range(3):
            for b in range(3):
                tl = P0[j, a, b]  # A + E B^T + B C^T
                tr = 0.0  # E Rm^T
                br = 0.0  # Rm D Rm^T
                for t in range(3):
                    tl += E[a, t] * B[b, t] + B[a, t] * P0[j, b, 3 + t]
                    tr += E[a, t] * Rm[b, t]
                    inner = 0.0
                    for v in range(3):
                        inner += P0[j, 3 + t, 3 + v] * Rm[b, v]
                    br += Rm[a, t] * inner
                Pp[k, j, a, b] = tl
                Pp[k, j, a, 3 + b] = tr
                Pp[k, j, 3 + b, a] = tr
                Pp[k, j, 3 + a, 3 + b] = br
        for a in range(3):  # + Q, continuous white acceleration
            Pp[k, j, a, a] += q * ad**3 / 3.0
            Pp[k, j, a, a + 3] += q * ad**2 / 2.0
            Pp[k, j, a + 3, a] += q * ad**2 / 2.0
            Pp[k, j, a + 3, a + 3] += q * ad


@numba.njit(cache=True)
def _combine(xm: Array, Pm: Array, w: Array, k: int, xc: Array, Pc: Array) -> None:
    """Moment-matched mixture of the ``r`` models of row ``k`` with weights ``w[k]``."""
    r = xm.shape[1]
    for a in range(6):
        acc = 0.0
        for j in range(r):
            acc += w[k, j] * xm[k, j, a]
        xc[k, a] = acc
    for a in range(6):
        for b in range(a, 6):
            acc = 0.0
            for j in range(r):
                acc += w[k, j] * (Pm[k, j, a, b]
                                  + (xm[k, j, a] - xc[k, a]) * (xm[k, j, b] - xc[k, b]))
            Pc[k, a, b] = acc
            Pc[k, b, a] = acc


@numba.njit(cache=True)
def imm_predict_pairs(
    x: Array, P: Array, mu: Array, track: Index, dt: Array, omegas: Array, qs: Array,
    sojourn: float,
) -> tuple[Array, Array, Array, Array, Array]:
    """IMM prediction of track ``track[k]`` over ``dt[k]`` for every pair ``k``.

    Returns the model states ``(K, r, 6)``, covariances ``(K, r, 6, 6)``, predicted mode
    probabilities ``(K, r)`` and the combined state ``(K, 6)`` and covariance ``(K, 6, 6)``.
    """
    K, r = len(track), x.shape[1]
    xp = np.empty((K, r, 6))
    Pp = np.empty((K, r, 6, 6))
    c = np.empty((K, r))
    xc = np.empty((K, 6))
    Pc = np.empty((K, 6, 6))
    for blk in range(_BLOCKS):
        x0 = np.empty((r, 6))
        P0 = np.empty((r, 6, 6))
        w = np.empty(r)
        B = np.empty((3, 3))
        Rm = np.empty((3, 3))
        E = np.empty((3, 3))
        for k in range(blk * K // _BLOCKS, (blk + 1) * K // _BLOCKS):
            _mix_predict(x, P, mu, track[k], dt[k], omegas, qs, sojourn, xp, Pp, c, k,
                         x0, P0, w, B, Rm, E)
            if r == 1:
                for a in range(6):
                    xc[k, a] = xp[k, 0, a]
                    for b in range(6):
                        Pc[k, a, b] = Pp[k, 0, a, b]
            else:
                _combine(xp, Pp, c, k, xc, Pc)
    return xp, Pp, c, xc, Pc


@numba.njit(cache=True)
def _h_full(layout: int, x: Array, site: Array, rot: Array, h: Array, H: Array,
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
    h[1] = math.atan2(e, n) % _TWO_PI
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


@numba.njit(cache=True)
def _select(
    layout: int, code: int, x: Array, P: Array, z: Array, R: Array, site: Array, rot: Array,
    work: Array, y: Array, H: Array, S: Array, Rs: Array,
) -> int:
    """Innovation ``y``, ``H``, ``S`` (symmetrised) and ``R`` of the components in ``code``.

    Writes the leading ``m x ...`` blocks of the ``(6, ...)`` buffers and returns ``m``;
    ``work (4, 6, 6)`` is scratch space.
    """
    full = 6 if layout == ADSB else 4
    h = work[0, 0]
    cols = work[0, 1]
    Hf = work[1]
    _h_full(layout, x, site, rot, h, Hf, work[2])
    m = 0
    for a in range(full):
        if (code >> a) & 1:
            cols[m] = a
            m += 1
    for a in range(m):
        ca = int(cols[a])
        d = z[ca] - h[ca]
        if layout == RADAR and ca == 1:
            d = (d + math.pi) % _TWO_PI - math.pi
        y[a] = d
        for b in range(6):
            H[a, b] = Hf[ca, b]
        for b in range(m):
            Rs[a, b] = R[ca, int(cols[b])]
    PHt = work[3]
    for a in range(6):
        for b in range(m):
            acc = 0.0
            for k in range(6):
                acc += P[a, k] * H[b, k]
            PHt[a, b] = acc
    for a in range(m):
        for b in range(m):
            acc = 0.0
            for k in range(6):
                acc += H[a, k] * PHt[k, b]
            S[a, b] = acc + Rs[a, b]
    for a in range(m):
        for b in range(a):
            sym = 0.5 * (S[a, b] + S[b, a])
            S[a, b] = sym
            S[b, a] = sym
    return m


@numba.njit(cache=True)
def _cholesky(S: Array, m: int, L: Array) -> bool:
    """Lower Cholesky factor of the leading ``m x m`` block of ``S`` into ``L``."""
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
def _forward(L: Array, m: int, v: Array, u: Array) -> None:
    """``u = L^-1 v`` for the lower-triangular leading ``m x m`` block of ``L``."""
    for a in range(m):
        acc = v[a]
        for k in range(a):
            acc -= L[a, k] * u[k]
        u[a] = acc / L[a, a]


@numba.njit(cache=True)
def _mahalanobis(L: Array, m: int, y: Array, u: Array) -> tuple[float, float]:
    """``y^T S^-1 y`` and ``log det S`` from the Cholesky factor ``L`` of ``S``."""
    _forward(L, m, y, u)
    d2 = 0.0
    logdet = 0.0
    for a in range(m):
        d2 += u[a] * u[a]
        logdet += 2.0 * math.log(L[a, a])
    return d2, logdet


@numba.njit(cache=True)
def ekf_gate(
    layout: int, xc: Array, Pc: Array, plot: Index, code: NDArray[np.int64], z: Array,
    R: Array, site: Array, rot: Array, gates: Array,
) -> tuple[Array, Array, Array, NDArray[np.bool_]]:
    """Chi-square gate of combined predictions ``xc (K, 6)``, ``Pc`` against plots ``plot``.

    ``gates[m]`` is the gate for ``m`` components. Returns ``d2``, ``log det S``, the gate
    of each pair and whether it passed; a non-positive-definite ``S`` fails the gate.
    """
    K = len(plot)
    d2 = np.full(K, np.inf)
    logdet = np.zeros(K)
    gate = np.zeros(K)
    ok = np.zeros(K, np.bool_)
    for blk in range(_BLOCKS):
        work = np.zeros((4, 6, 6))
        y = np.zeros(6)
        u = np.zeros(6)
        H = np.zeros((6, 6))
        S = np.zeros((6, 6))
        Rs = np.zeros((6, 6))
        L = np.zeros((6, 6))
        for k in range(blk * K // _BLOCKS, (blk + 1) * K // _BLOCKS):
            j = plot[k]
            m = _select(layout, code[j], xc[k], Pc[k], z[j], R[j], site, rot, work, y, H, S,
                        Rs)
            gate[k] = gates[m]
            if not _cholesky(S, m, L):
                continue
            d2[k], logdet[k] = _mahalanobis(L, m, y, u)
            ok[k] = d2[k] < gate[k]
    return d2, logdet, gate, ok


@numba.njit(cache=True)
def ekf_update(
    layout: int, xp: Array, Pp: Array, plot: Index, code: NDArray[np.int64], z: Array,
    R: Array, site: Array, rot: Array,
) -> tuple[Array, Array, Array, bool]:
    """Model-wise Joseph-form EKF updates of pairs (``xp (A, r, 6)``) with their plots.

    ``K = P H^T S^-1`` (through the Cholesky factor of ``S``), ``x+ = x + K y``,
    ``P+ = (I - K H) P (I - K H)^T + K R K^T``, symmetrised. Returns the updated states and
    covariances, the model log-likelihoods ``(A, r)`` and ``False`` when some innovation
    covariance was not positive definite.
    """
    A, r = xp.shape[0], xp.shape[1]
    x_new = np.empty_like(xp)
    P_new = np.empty_like(Pp)
    ll = np.zeros((A, r))
    bad = np.zeros(_BLOCKS, np.bool_)
    for blk in range(_BLOCKS):
        work = np.zeros((4, 6, 6))
        y = np.zeros(6)
        u = np.zeros(6)
        col = np.zeros(6)
        H = np.zeros((6, 6))
        S = np.zeros((6, 6))
        Rs = np.zeros((6, 6))
        L = np.zeros((6, 6))
        Kg = np.zeros((6, 6))
        G = np.zeros((6, 6))
        T = np.zeros((6, 6))
        KR = np.zeros((6, 6))
        for k in range(blk * A // _BLOCKS, (blk + 1) * A // _BLOCKS):
            j = plot[k]
            for mdl in range(r):
                x = xp[k, mdl]
                P = Pp[k, mdl]
                m = _select(layout, code[j], x, P, z[j], R[j], site, rot, work, y, H, S, Rs)
                if not _cholesky(S, m, L):
                    bad[blk] = True
                    x_new[k, mdl] = x
                    P_new[k, mdl] = P
                    continue
                d2, logdet = _mahalanobis(L, m, y, u)
                ll[k, mdl] = -0.5 * (d2 + logdet + m * _LOG_2PI)
                for a in range(6):  # row a of K solves S K[a]^T = (H P)[:, a]
                    for b in range(m):
                        acc = 0.0
                        for t in range(6):
                            acc += P[a, t] * H[b, t]
                        col[b] = acc
                    _forward(L, m, col, u)
                    for b in range(m - 1, -1, -1):  # back substitution with L^T
                        acc = u[b]
                        for t in range(b + 1, m):
                            acc -= L[t, b] * Kg[a, t]
                        Kg[a, b] = acc / L[b, b]
                for a in range(6):
                    acc = x[a]
                    for b in range(m):
                        acc += Kg[a, b] * y[b]
                    x_new[k, mdl, a] = acc
                for a in range(6):  # G = I - K H
                    for b in range(6):
                        acc = 1.0 if a == b else 0.0
                        for t in range(m):
                            acc -= Kg[a, t] * H[t, b]
                        G[a, b] = acc
                for a in range(6):  # T = G P
                    for b in range(6):
                        acc = 0.0
                        for t in range(6):
                            acc += G[a, t] * P[t, b]
                        T[a, b] = acc
                for a in range(6):
                    for b in range(m):
                        acc = 0.0
                        for t in range(m):
                            acc += Kg[a, t] * Rs[t, b]
                        KR[a, b] = acc
                out = P_new[k, mdl]
                for a in range(6):  # T G^T + K R K^T
                    for b in range(6):
                        acc = 0.0
                        for t in range(6):
                            acc += T[a, t] * G[b, t]
                        for t in range(m):
                            acc += KR[a, t] * Kg[b, t]
                        out[a, b] = acc
                for a in range(6):
                    for b in range(a):
                        sym = 0.5 * (out[a, b] + out[b, a])
                        out[a, b] = sym
                        out[b, a] = sym
    fine = not bad.any()
    return x_new, P_new, ll, fine


@numba.njit(cache=True)
def track_balls(
    x: Array, P: Array, mu: Array, t_track: Array, live: NDArray[np.bool_], t_ref: float,
    half_span: float, k: float, q: float, margin: float,
) -> tuple[Array, Array]:
    """Positions at ``t_ref`` and pre-gate radii of tracks; ``-1`` radius for dead rows.

    ``radius = k (s_pos + s_vel (|dt| + half_span) + sqrt(q |dt|^3)) + speed half_span
    + margin`` from the IMM-combined estimate, ``s_pos``, ``s_vel`` the roots of the traces of
    its position and velocity covariances.
    """
    N, r = x.shape[0], x.shape[1]
    pos = np.zeros((N, 3))
    radius = np.full(N, -1.0)
    for i in range(N):
        if not live[i]:
            continue
        xc = np.zeros(6)
        for j in range(r):
            for a in range(6):
                xc[a] += mu[i, j] * x[i, j, a]
        tp = 0.0
        tv = 0.0
        for j in range(r):
            for a in range(3):
                dp = x[i, j, a] - xc[a]
                dv = x[i, j, a + 3] - xc[a + 3]
                tp += mu[i, j] * (P[i, j, a, a] + dp * dp)
                tv += mu[i, j] * (P[i, j, a + 3, a + 3] + dv * dv)
        dt = t_ref - t_track[i]
        speed = math.sqrt(xc[3] ** 2 + xc[4] ** 2 + xc[5] ** 2)
        for a in range(3):
            pos[i, a] = xc[a] + xc[a + 3] * dt
        span = abs(dt) + half_span
        radius[i] = (k * (math.sqrt(tp) + math.sqrt(tv) * span + math.sqrt(q * abs(dt) ** 3))
                     + speed * half_span + margin)
    return pos, radius


@numba.njit(cache=True)
def combined_variances(
    x: Array, P: Array, mu: Array, live: NDArray[np.bool_]
) -> tuple[Array, Array]:
    """Traces of the IMM-combined position and velocity covariances of live rows (else 0)."""
    N, r = x.shape[0], x.shape[1]
    tp = np.zeros(N)
    tv = np.zeros(N)
    for i in range(N):
        if not live[i]:
            continue
        for a in range(6):
            xa = 0.0
            for j in range(r):
                xa += mu[i, j] * x[i, j, a]
            acc = 0.0
            for j in range(r):
                d = x[i, j, a] - xa
                acc += mu[i, j] * (P[i, j, a, a] + d * d)
            if a < 3:
                tp[i] += acc
            else:
                tv[i] += acc
    return tp, tv


@numba.njit(cache=True)
def _cell_key(cell: NDArray[np.int64]) -> np.int64:
    key = np.int64(0)
    for a in range(len(cell)):
        key = key * np.int64(1 << 21) + (cell[a] + np.int64(1 << 20))
    return key


@numba.njit(cache=True)
def ball_pairs(
    tracks: Array, t_radius: Array, plots: Array, p_radius: Array
) -> tuple[Index, Index]:
    """Every (track, plot) pair with ``|t - p| <= r_t + r_p``; tracks with ``r_t < 0`` skip.

    Plots are hashed into a grid of cells four times the largest plot radius (sorted cell
    keys); a track outside the plots' bounding box grown by its reach is skipped, any other
    visits the cells its ball, grown by the largest plot radius, can reach (at most two per
    axis for a track no wider than a plot), or, when those outnumber the plots, tests every
    plot. The result is exact: each candidate passes the distance test.
    """
    N, d = tracks.shape
    M = plots.shape[0]
    out_t = np.empty(max(4 * M, 16), np.intp)
    out_p = np.empty(max(4 * M, 16), np.intp)
    n_out = 0
    if N == 0 or M == 0:
        return out_t[:0], out_p[:0]
    rp_max = p_radius.max()
    lo = np.empty(d)
    hi = np.empty(d)
    for a in range(d):
        lo[a] = plots[:, a].min()
        hi[a] = plots[:, a].max()
    extent = 0.0
    for a in range(d):
        extent = max(extent, hi[a] - lo[a])
    cell = max(4.0 * rp_max, extent * 1e-5, 1e-12)
    for a in range(d):  # keep integer cell indices well inside the key range
        cell = max(cell, (abs(lo[a]) + abs(hi[a])) / float(1 << 19))
    keys = np.empty(M, np.int64)
    cidx = np.empty(d, np.int64)
    for j in range(M):
        for a in range(d):
            cidx[a] = np.int64(math.floor(plots[j, a] / cell))
        keys[j] = _cell_key(cidx)
    order = np.argsort(keys, kind="mergesort")
    sorted_keys = keys[order]
    c_lo = np.empty(d, np.int64)
    c_hi = np.empty(d, np.int64)
    for i in range(N):
        rt = t_radius[i]
        if rt < 0.0:
            continue
        reach = rt + rp_max
        outside = False
        for a in range(d):
            if tracks[i, a] + reach < lo[a] or tracks[i, a] - reach > hi[a]:
                outside = True
        if outside:
            continue
        n_cells = 1.0
        for a in range(d):
            c_lo[a] = np.int64(math.floor(max(tracks[i, a] - reach, lo[a]) / cell))
            c_hi[a] = np.int64(math.floor(min(tracks[i, a] + reach, hi[a]) / cell))
            n_cells *= float(c_hi[a] - c_lo[a] + 1)
        if n_cells * 4.0 > M:
            for j in range(M):
                if _close(tracks, i, plots, j, rt + p_radius[j]):
                    if n_out == len(out_t):
                        out_t, out_p = _grow(out_t, out_p)
                    out_t[n_out] = i
                    out_p[n_out] = j
                    n_out += 1
            continue
        cidx[:] = c_lo
        while True:
            key = _cell_key(cidx)
            s = np.searchsorted(sorted_keys, key)
            while s < M and sorted_keys[s] == key:
                j = order[s]
                if _close(tracks, i, plots, j, rt + p_radius[j]):
                    if n_out == len(out_t):
                        out_t, out_p = _grow(out_t, out_p)
                    out_t[n_out] = i
                    out_p[n_out] = j
                    n_out += 1
                s += 1
            a = d - 1  # odometer over the cell box
            while a >= 0:
                cidx[a] += 1
                if cidx[a] <= c_hi[a]:
                    break
                cidx[a] = c_lo[a]
                a -= 1
            if a < 0:
                break
    return out_t[:n_out].copy(), out_p[:n_out].copy()


@numba.njit(cache=True)
def _close(tracks: Array, i: int, plots: Array, j: int, reach: float) -> bool:
    acc = 0.0
    for a in range(tracks.shape[1]):
        dd = tracks[i, a] - plots[j, a]
        acc += dd * dd
    return math.sqrt(acc) <= reach


@numba.njit(cache=True)
def _grow(a: Index, b: Index) -> tuple[Index, Index]:
    na = np.empty(2 * len(a), np.intp)
    nb = np.empty(2 * len(b), np.intp)
    na[: len(a)] = a
    nb[: len(b)] = b
    return na, nb


@numba.njit(cache=True)
def _hungarian(C: Array) -> NDArray[np.int64]:
    """Minimum-cost assignment of every row of ``C (n, m)``, ``n <= m``, to a distinct column.

    Shortest augmenting paths with row and column potentials; ``+inf`` entries are not edges.
    Returns the column of each row.
    """
    n, m = C.shape
    u = np.zeros(n + 1)
    v = np.zeros(m + 1)
    owner = np.zeros(m + 1, np.int64)  # 1-based row owning each column (0: none)
    way = np.zeros(m + 1, np.int64)
    for i in range(1, n + 1):
        owner[0] = i
        j0 = 0
        minv = np.full(m + 1, np.inf)
        used = np.zeros(m + 1, np.bool_)
        while True:
            used[j0] = True
            i0 = owner[j0]
            delta = np.inf
            j1 = -1
            for j in range(1, m + 1):
                if used[j]:
                    continue
                cij = C[i0 - 1, j - 1]
                if cij < np.inf:
                    cur = cij - u[i0] - v[j]
                    if cur < minv[j]:
                        minv[j] = cur
                        way[j] = j0
                if minv[j] < delta:
                    delta = minv[j]
                    j1 = j
            for j in range(m + 1):
                if used[j]:
                    u[owner[j]] += delta
                    v[j] -= delta
                else:
                    minv[j] -= delta
            j0 = j1
            if owner[j0] == 0:
                break
        while j0 != 0:
            j1 = way[j0]
            owner[j0] = owner[j1]
            j0 = j1
    col = np.full(n, -1, np.int64)
    for j in range(1, m + 1):
        if owner[j] != 0:
            col[owner[j] - 1] = j - 1
    return col


@numba.njit(cache=True)
def _find(parent: NDArray[np.int64], a: int) -> int:
    root = a
    while parent[root] != root:
        root = parent[root]
    while parent[a] != root:
        nxt = parent[a]
        parent[a] = root
        a = nxt
    return root


@numba.njit(cache=True)
def gnn_assign(
    t_local: Index, p_local: Index, n_t: int, n_p: int, cost: Array, miss: Array,
    max_tracks: int,
) -> tuple[NDArray[np.bool_], NDArray[np.int64], NDArray[np.bool_]]:
    """GNN over gated pairs in compact local indices.

    Clusters are the connected components of the bipartite pair graph (union-find). A cluster
    with one track takes its cheapest pair (if under its miss cost); one of up to
    ``max_tracks`` tracks is solved exactly by :func:`_hungarian` on ``[cost | diag(miss)]``,
    the track's miss cost the largest of its pairs'. Larger clusters are left to the caller.

    Returns the chosen mask ``(K,)``, the cluster label of each pair and a mask of the pairs
    of the clusters left to the caller.
    """
    K = len(t_local)
    parent = np.arange(n_t + n_p)
    for k in range(K):
        ra = _find(parent, t_local[k])
        rb = _find(parent, n_t + p_local[k])
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    label = np.empty(K, np.int64)
    for k in range(K):
        label[k] = _find(parent, t_local[k])
    chosen = np.zeros(K, np.bool_)
    big = np.zeros(K, np.bool_)
    order = np.argsort(label, kind="mergesort")
    start = 0
    t_map = np.full(n_t, -1, np.int64)
    p_map = np.full(n_p, -1, np.int64)
    while start < K:
        stop = start
        while stop < K and label[order[stop]] == label[order[start]]:
            stop += 1
        nt = 0
        npl = 0
        for s in range(start, stop):
            k = order[s]
            if t_map[t_local[k]] < 0:
                t_map[t_local[k]] = nt
                nt += 1
            if p_map[p_local[k]] < 0:
                p_map[p_local[k]] = npl
                npl += 1
        if nt == 1:
            best = order[start]
            worst_miss = miss[best]
            for s in range(start, stop):
                worst_miss = max(worst_miss, miss[order[s]])
                if cost[order[s]] < cost[best]:
                    best = order[s]
            if cost[best] < worst_miss:
                chosen[best] = True
        elif nt > max_tracks:
            for s in range(start, stop):
                big[order[s]] = True
        else:
            C = np.full((nt, npl + nt), np.inf)
            pair_at = np.full((nt, npl), -1, np.int64)
            dummy = np.full(nt, -np.inf)
            for s in range(start, stop):
                k = order[s]
                a, b = t_map[t_local[k]], p_map[p_local[k]]
                C[a, b] = cost[k]
                pair_at[a, b] = k
                dummy[a] = max(dummy[a], miss[k])
            for a in range(nt):
                C[a, npl + a] = dummy[a]
            col = _hungarian(C)
            for a in range(nt):
                if col[a] < npl:
                    chosen[pair_at[a, col[a]]] = True
        for s in range(start, stop):
            k = order[s]
            t_map[t_local[k]] = -1
            p_map[p_local[k]] = -1
        start = stop
    return chosen, label, big

