"""Compiled IMM kernels: mixing, model-wise prediction and moment matching of one pair at a
time, and per-track summaries (pre-gate balls, combined variances).

The equations are those of :mod:`airpicture.tracking.imm` and :mod:`.motion` (the reference,
and the path of the UKF and of SSR/ESM plots). A model's transition is written
``F = [[I, B], [0, Rm]]`` (3x3 blocks; CV: ``B = dt I``, ``Rm = I``; a horizontal turn at
``omega`` about the local up ``u``: ``Rm = I + sin(omega dt) [u]x + (1 - cos(omega dt))
[u]x^2`` and ``B = dt I + (1 - cos(omega dt)) / omega [u]x + (dt - sin(omega dt) / omega)
[u]x^2``), so that with ``P = [[A, C], [C^T, D]]``::

    F P F^T = [[A + E B^T + B C^T, E Rm^T], [Rm E^T, Rm D Rm^T]],   E = C + B D

and the continuous white-acceleration noise ``Q = q [[dt^3/3 I, dt^2/2 I], [dt^2/2 I, dt I]]``.
"""

from __future__ import annotations

import math

import numba
import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]
Index = NDArray[np.intp]


@numba.njit(cache=True)
def mode_transition(dt: float, sojourn: Array, Pi: Array) -> None:
    """Mode-transition probabilities ``Pi (r, r)`` over ``dt`` (s) for CV (mode 0) and turns
    with mean sojourn times ``sojourn = [tau_cv, tau_turn]`` (s), as
    :func:`airpicture.tracking.imm.mode_transition`."""
    r = Pi.shape[0]
    if r == 1:
        Pi[0, 0] = 1.0
        return
    stay_cv = math.exp(-abs(dt) / sojourn[0])
    stay_turn = math.exp(-abs(dt) / sojourn[1])
    for i in range(r):
        for j in range(r):
            if i == 0:
                Pi[i, j] = stay_cv if j == 0 else (1.0 - stay_cv) / (r - 1)
            elif j == 0:
                Pi[i, j] = 1.0 - stay_turn
            else:
                Pi[i, j] = stay_turn if i == j else 0.0


@numba.njit(cache=True, inline="always")
def mix_means(x: Array, mu: Array, i: int, Pi: Array, c: Array, W: Array, x0: Array) -> None:
    """The mean half of :func:`mix` for track ``i`` with mode transitions ``Pi (r, r)``:
    predicted mode probabilities ``c (r,)``, mixing weights ``W[m, j]`` (the probability of
    model ``m`` given mode ``j`` next) and mixed means ``x0 (r, 6)``."""
    r = x.shape[1]
    for j in range(r):
        cj = 0.0
        for m in range(r):
            cj += Pi[m, j] * mu[i, m]
        c[j] = cj
    for j in range(r):
        den = max(c[j], 1e-300)
        for m in range(r):
            W[m, j] = Pi[m, j] * mu[i, m] / den
        for a in range(6):
            acc = 0.0
            for m in range(r):
                acc += W[m, j] * x[i, m, a]
            x0[j, a] = acc


@numba.njit(cache=True, inline="always")
def mix_covs(x: Array, P: Array, i: int, W: Array, x0: Array, P0: Array) -> None:
    """The covariance half of :func:`mix`: mixed covariances ``P0 (r, 6, 6)`` of track ``i``
    from the weights ``W`` and means ``x0`` of :func:`mix_means`."""
    r = x.shape[1]
    for j in range(r):
        for a in range(6):
            for b in range(a, 6):
                P0[j, a, b] = 0.0
        for m in range(r):  # in the same order per entry; a turn never feeds another: skip
            if W[m, j] == 0.0:
                continue
            for a in range(6):
                da = x[i, m, a] - x0[j, a]
                for b in range(a, 6):
                    P0[j, a, b] += W[m, j] * (P[i, m, a, b] + da * (x[i, m, b] - x0[j, b]))
        for a in range(6):
            for b in range(a + 1, 6):
                P0[j, b, a] = P0[j, a, b]


@numba.njit(cache=True)
def mix(
    x: Array, P: Array, mu: Array, i: int, dt: float, sojourn: Array, x0: Array, P0: Array,
    c: Array, W: Array, Pi: Array,
) -> None:
    """IMM mixing of track ``i`` over ``dt`` (s): predicted mode probabilities ``c (r,)`` and
    mixed model estimates ``x0 (r, 6)``, ``P0 (r, 6, 6)``; ``sojourn = [tau_cv, tau_turn]``
    (s); ``W (r, r)`` and ``Pi (r, r)`` are scratch space."""
    r = x.shape[1]
    if r == 1:
        c[0] = mu[i, 0]
        for a in range(6):
            x0[0, a] = x[i, 0, a]
            for b in range(6):
                P0[0, a, b] = P[i, 0, a, b]
        return
    mode_transition(dt, sojourn, Pi)
    mix_means(x, mu, i, Pi, c, W, x0)
    mix_covs(x, P, i, W, x0, P0)


@numba.njit(cache=True)
def transition(x0: Array, dt: float, omega: float, B: Array, Rm: Array) -> None:
    """Blocks ``B``, ``Rm (3, 3)`` of the transition over ``dt`` of the model turning at
    ``omega`` (rad/s, 0 for CV) about the local up of the ECEF position ``x0[:3]``."""
    if omega == 0.0:
        for a in range(3):
            for b in range(3):
                B[a, b] = dt if a == b else 0.0
                Rm[a, b] = 1.0 if a == b else 0.0
        return
    px, py, pz = x0[0], x0[1], x0[2]
    nrm = math.sqrt(px * px + py * py + pz * pz)
    u3 = (px / nrm, py / nrm, pz / nrm)
    ang = omega * dt
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
            B[a, b] = dt * eye + (1.0 - co) / omega * kab + (dt - sn / omega) * k2


@numba.njit(cache=True)
def predict_mean(x0: Array, B: Array, Rm: Array, out: Array) -> None:
    """``out = F x0`` for ``F = [[I, B], [0, Rm]]``."""
    for a in range(3):
        accp = x0[a]
        accv = 0.0
        for b in range(3):
            accp += B[a, b] * x0[3 + b]
            accv += Rm[a, b] * x0[3 + b]
        out[a] = accp
        out[3 + a] = accv


@numba.njit(cache=True)
def predict_cov(P0: Array, B: Array, Rm: Array, q: float, dt: float, E: Array,
                out: Array) -> None:
    """``out = F P0 F^T + Q`` (module docstring); ``E (3, 3)`` is scratch space."""
    for a in range(3):  # E = C + B D
        for b in range(3):
            acc = P0[a, 3 + b]
            for t in range(3):
                acc += B[a, t] * P0[3 + t, 3 + b]
            E[a, b] = acc
    for a in range(3):
        for b in range(3):
            tl = P0[a, b]  # A + E B^T + B C^T
            tr = 0.0  # E Rm^T
            br = 0.0  # Rm D Rm^T
            for t in range(3):
                tl += E[a, t] * B[b, t] + B[a, t] * P0[b, 3 + t]
                tr += E[a, t] * Rm[b, t]
                inner = 0.0
                for v in range(3):
                    inner += P0[3 + t, 3 + v] * Rm[b, v]
                br += Rm[a, t] * inner
            out[a, b] = tl
            out[a, 3 + b] = tr
            out[3 + b, a] = tr
            out[3 + a, 3 + b] = br
    ad = abs(dt)
    for a in range(3):  # + Q, continuous white acceleration
        out[a, a] += q * ad**3 / 3.0
        out[a, a + 3] += q * ad**2 / 2.0
        out[a + 3, a] += q * ad**2 / 2.0
        out[a + 3, a + 3] += q * ad


@numba.njit(cache=True)
def combine_mean(xm: Array, w: Array, xc: Array) -> None:
    """Mixture mean ``xc (6,)`` of model states ``xm (r, 6)`` with weights ``w (r,)``."""
    r = xm.shape[0]
    for a in range(6):
        acc = 0.0
        for j in range(r):
            acc += w[j] * xm[j, a]
        xc[a] = acc


@numba.njit(cache=True)
def combine_cov(xm: Array, Pm: Array, w: Array, xc: Array, Pc: Array) -> None:
    """Moment-matched covariance ``Pc (6, 6)`` of the mixture with mean ``xc``."""
    r = xm.shape[0]
    for a in range(6):
        for b in range(a, 6):
            acc = 0.0
            for j in range(r):
                acc += w[j] * (Pm[j, a, b] + (xm[j, a] - xc[a]) * (xm[j, b] - xc[b]))
            Pc[a, b] = acc
            Pc[b, a] = acc


@numba.njit(cache=True)
def imm_predict_pairs(
    x: Array, P: Array, mu: Array, track: Index, dt: Array, omegas: Array, qs: Array,
    sojourn: Array,
) -> tuple[Array, Array, Array, Array, Array]:
    """IMM prediction of track ``track[k]`` over ``dt[k]`` (s) for every pair ``k``; models
    turning at ``omegas (r,)`` (rad/s) with noise densities ``qs``; ``sojourn = [tau_cv,
    tau_turn]`` (s).

    Returns the model states ``(K, r, 6)``, covariances ``(K, r, 6, 6)``, predicted mode
    probabilities ``(K, r)`` and the combined state ``(K, 6)`` and covariance ``(K, 6, 6)``.
    """
    K, r = len(track), x.shape[1]
    xp = np.empty((K, r, 6))
    Pp = np.empty((K, r, 6, 6))
    c = np.empty((K, r))
    xc = np.empty((K, 6))
    Pc = np.empty((K, 6, 6))
    x0 = np.empty((r, 6))
    P0 = np.empty((r, 6, 6))
    W = np.empty((r, r))
    Pi = np.empty((r, r))
    B = np.empty((3, 3))
    Rm = np.empty((3, 3))
    E = np.empty((3, 3))
    for k in range(K):
        mix(x, P, mu, track[k], dt[k], sojourn, x0, P0, c[k], W, Pi)
        for j in range(r):
            transition(x0[j], dt[k], omegas[j], B, Rm)
            predict_mean(x0[j], B, Rm, xp[k, j])
            predict_cov(P0[j], B, Rm, qs[j], dt[k], E, Pp[k, j])
        combine_mean(xp[k], c[k], xc[k])
        combine_cov(xp[k], Pp[k], c[k], xc[k], Pc[k])
    return xp, Pp, c, xc, Pc


@numba.njit(cache=True)
def commit_updates(
    xu: Array, Pu: Array, c: Array, ll: Array, pick: Index, rows: Index, x: Array, P: Array,
    mu: Array,
) -> None:
    """Write the updated model estimates ``xu[pick[k]]``, ``Pu[pick[k]]`` of pairs into their
    tracks' rows ``rows[k]`` of ``x (N, r, 6)``, ``P``, and the posterior mode probabilities
    into ``mu (N, r)``, in place: from the pairs' predicted ones ``c[pick[k]]`` and model
    log-likelihoods ``ll[k]`` as :func:`airpicture.tracking.imm.imm_mode_update` (exp of
    ``log c + ll`` less its maximum, normalised, floored at 1e-12, normalised again)."""
    r = x.shape[1]
    logw = np.empty(r)
    for k in range(len(rows)):
        i, s = rows[k], pick[k]
        x[i] = xu[s]
        P[i] = Pu[s]
        if r == 1:
            mu[i, 0] = 1.0
            continue
        top = -math.inf
        for j in range(r):
            logw[j] = math.log(max(c[s, j], 1e-300)) + ll[k, j]
            top = max(top, logw[j])
        total = 0.0
        for j in range(r):
            logw[j] = math.exp(logw[j] - top)
            total += logw[j]
        floored = 0.0
        for j in range(r):
            logw[j] = max(logw[j] / total, 1e-12)
            floored += logw[j]
        for j in range(r):
            mu[i, j] = logw[j] / floored


@numba.njit(cache=True)
def track_balls(
    xc: Array, pos_var: Array, vel_var: Array, t_track: Array, live: NDArray[np.bool_],
    t_ref: float, half_span: float, k: float, q: float, margin: float,
) -> tuple[Array, Array]:
    """Positions at ``t_ref`` and pre-gate radii (m) of tracks; ``-1`` radius for dead rows.

    ``radius = k sqrt((s_pos + s_vel (|dt| + half_span))^2 + q |dt|^3) + speed half_span
    + margin`` from the IMM-combined estimate ``xc (N, 6)``, ``s_pos``, ``s_vel`` the roots of
    the traces ``pos_var``, ``vel_var`` of its position and velocity covariances
    (:func:`summarise`): the root of the trace of the predicted position covariance is at most
    ``s_pos + s_vel |dt|`` without process noise (Cauchy-Schwarz), and the white-acceleration
    noise of density ``q`` (m^2/s^3) adds ``q |dt|^3`` to that trace, independently.
    """
    N = xc.shape[0]
    pos = np.zeros((N, 3))
    radius = np.full(N, -1.0)
    for i in range(N):
        if not live[i]:
            continue
        dt = t_ref - t_track[i]
        speed = math.sqrt(xc[i, 3] ** 2 + xc[i, 4] ** 2 + xc[i, 5] ** 2)
        for a in range(3):
            pos[i, a] = xc[i, a] + xc[i, a + 3] * dt
        span = abs(dt) + half_span
        drift = math.sqrt(pos_var[i]) + math.sqrt(vel_var[i]) * span
        radius[i] = k * math.sqrt(drift * drift + q * abs(dt) ** 3) + speed * half_span + margin
    return pos, radius


@numba.njit(cache=True)
def summarise(
    x: Array, P: Array, mu: Array, rows: Index, xc: Array, pos_var: Array, vel_var: Array
) -> None:
    """IMM-combined state ``xc[i] (6,)`` and the traces (m^2, m^2/s^2) of the combined
    position and velocity covariances of the tracks ``rows``, in place."""
    r = x.shape[1]
    for i in rows:
        tp = 0.0
        tv = 0.0
        for a in range(6):
            xa = 0.0
            for j in range(r):
                xa += mu[i, j] * x[i, j, a]
            acc = 0.0
            for j in range(r):
                d = x[i, j, a] - xa
                acc += mu[i, j] * (P[i, j, a, a] + d * d)
            xc[i, a] = xa
            if a < 3:
                tp += acc
            else:
                tv += acc
        pos_var[i] = tp
        vel_var[i] = tv
