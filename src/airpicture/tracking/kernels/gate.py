"""Compiled IMM prediction and chi-square gate of (track, plot) pairs, fused, with a cheap
exact rejection before the covariance work.

A pair is inside the gate ``G`` when ``y^T S^-1 y < G`` for the combined (moment-matched)
prediction or for the prediction of one of the models: the combined gate shrinks to the CV
prediction while the turn modes are unlikely, so the plots at the onset of a manoeuvre fall
outside it, and a turn model's own gate keeps them (see
:func:`airpicture.tracking.gating.imm_gate`). Every prediction of a pair is linearised at the
combined state (one Jacobian ``H``): a model's gate uses its own predicted measurement
``h(x_j)`` and ``S_j = H P_j H^T + R``.

For each candidate pair the track's mode probabilities and *means* are mixed and each model's
mean predicted to the plot time; a one-position-component bound on the exact ``y^T S^-1 y``,
which needs neither mixed nor predicted covariances (:mod:`.bound`), rejects most pairs. Only
the pairs that it does not reject for the combined prediction or for some model pay the mixed
covariances, the model-wise ``F P0 F^T + Q``, the moment matching and the full
``y^T S^-1 y``; the result is the same set of gated pairs as predicting and gating every pair.
"""

from __future__ import annotations

import math

import numba
import numpy as np
from numpy.typing import NDArray

from airpicture.tracking.kernels import imm, linalg
from airpicture.tracking.kernels.bound import outside
from airpicture.tracking.kernels.ekf import (
    FULL_SIZE,
    RADAR,
    h_full,
    innovation_covariance,
    scratch,
    select,
)
from airpicture.tracking.kernels.inline import inlined, without_runtime
from airpicture.tracking.kernels.linalg import TWO_PI

cholesky, mahalanobis = inlined(linalg.cholesky), inlined(linalg.mahalanobis)
combine_cov, combine_mean = inlined(imm.combine_cov), inlined(imm.combine_mean)
mix_means, mix_covs = imm.mix_means, imm.mix_covs
mode_transition = inlined(imm.mode_transition)
predict_cov, predict_mean = inlined(imm.predict_cov), inlined(imm.predict_mean)
transition = inlined(imm.transition)

Array = NDArray[np.float64]
Index = NDArray[np.intp]


@numba.njit(cache=True, inline="always")
def _model_distance(
    layout: int, code: int, x: Array, P: Array, z: Array, H: Array, Rs: Array, m: int,
    site: Array, rot: Array, work: Array, y: Array, S: Array, L: Array, u: Array,
) -> tuple[float, float]:
    """``d2`` and ``log det S`` of the model prediction ``x``, ``P`` linearised with the
    combined prediction's ``H`` (``inf`` when ``S`` is not positive definite)."""
    h = work[0, 0]
    h_full(layout, x, site, rot, h, work[1], work[2])
    k = 0
    for a in range(FULL_SIZE[layout]):
        if (code >> a) & 1:
            d = z[a] - h[a]
            if layout == RADAR and a == 1:
                d = (d + math.pi) % TWO_PI - math.pi
            y[k] = d
            k += 1
    innovation_covariance(P, H, Rs, m, work[3], S)
    if not cholesky(S, m, L):
        return math.inf, 0.0
    return mahalanobis(L, m, y, u)


@numba.njit(cache=True)
def imm_ekf_gate(
    layout: int, x: Array, P: Array, mu: Array, track: Index, plot: Index, dt: Array,
    omegas: Array, qs: Array, sojourn: Array, code: NDArray[np.int64], z: Array, R: Array,
    site: Array, rot: Array, gates: Array,
) -> tuple[Index, Array, Array, Array, Array, Array, Array]:
    """IMM prediction of ``track[k]`` over ``dt[k]`` (s) and EKF chi-square gate against
    ``plot[k]``, for the candidate pairs ``k`` (module docstring).

    ``x (N, r, 6)``, ``P``, ``mu`` are the tracks' ECEF model estimates and mode
    probabilities; ``omegas``, ``qs`` ``(r,)`` the models' turn rates (rad/s) and noise
    densities (m^2/s^3), ``sojourn = [tau_cv, tau_turn]`` (s); ``code``, ``z``, ``R`` the plots'
    group codes, full measurement vectors and noise covariances; ``site``, ``rot`` the
    sensor's ECEF position and ECEF-to-ENU rotation; ``gates[m]`` the gate for ``m``
    components. Returns, for the gated pairs only (in input order): their indices ``k``, the
    model predictions ``(n, r, 6)``, ``(n, r, 6, 6)``, the predicted mode probabilities
    ``(n, r)``, and ``d2``, ``log det S`` and the gate of the combined prediction (of the
    model with the smallest ``d2 + log det S`` among those whose own gate holds the plot, when
    the combined one does not). A prediction whose ``S`` is not positive definite does not
    gate.
    """
    K, r = len(track), x.shape[1]
    outputs = (np.empty(K, np.intp), np.empty((K, r, 6)), np.empty((K, r, 6, 6)),
               np.empty((K, r)), np.empty(K), np.empty(K), np.empty(K))
    az = np.empty((len(z), 2))
    if layout == RADAR:
        az[:, 0] = np.sin(z[:, 1])
        az[:, 1] = np.cos(z[:, 1])
    pair = (np.empty((r, 6)), np.empty((r, 6, 6)), np.empty((r, r)), np.empty((r, r)),
            np.empty((r, 3, 3)), np.empty((r, 3, 3)), np.empty((3, 3)), np.empty(6),
            np.empty((6, 6)), np.empty(6), np.empty((r + 1, 5)), np.empty((r + 1, 6)))
    n = _gate_pairs(layout, x, P, mu, track, plot, dt, omegas, qs, sojourn, code, z, R, site,
                    rot, gates, az, outputs, pair, scratch())
    keep, xp, Pp, c, d2, logdet, gate = outputs
    return keep[:n], xp[:n], Pp[:n], c[:n], d2[:n], logdet[:n], gate[:n]


@without_runtime
def _gate_pairs(
    layout: int, x: Array, P: Array, mu: Array, track: Index, plot: Index, dt: Array,
    omegas: Array, qs: Array, sojourn: Array, code: NDArray[np.int64], z: Array, R: Array,
    site: Array, rot: Array, gates: Array, az: Array,
    outputs: tuple[Index, Array, Array, Array, Array, Array, Array],
    pair: tuple[Array, ...], ekf: tuple[Array, ...],
) -> int:
    """The pair loop of :func:`imm_ekf_gate` into its preallocated ``outputs`` (returns
    how many pairs it kept), with ``az = [sin, cos]`` of the plots' azimuths and scratch
    space ``pair`` and ``ekf`` (:func:`.ekf.scratch`). Compiled without Numba's runtime: it
    allocates nothing, and the views it hands the inlined kernels then cost no atomic
    reference counting (with it, a third of the loop's time)."""
    K, r = len(track), x.shape[1]
    keep, xp, Pp, c, d2, logdet, gate = outputs
    x0, P0, W, Pi, B, Rm, E, xc, Pc, ym, geo, tmp = pair
    work, y, u, H, S, Rs, L = ekf
    n = 0
    for k in range(K):
        i, j = track[k], plot[k]
        mode_transition(dt[k], sojourn, Pi)
        mix_means(x, mu, i, Pi, c[n], W, x0)
        for mdl in range(r):
            transition(x0[mdl], dt[k], omegas[mdl], B[mdl], Rm[mdl])
            predict_mean(x0[mdl], B[mdl], Rm[mdl], xp[n, mdl])
        combine_mean(xp[n], c[n], xc)
        m = 0
        for a in range(FULL_SIZE[layout]):
            m += (code[j] >> a) & 1
        g = gates[m]
        out = outside(layout, code[j], x, P, i, W, x0, xp[n], xc, c[n], B, qs, dt[k], z[j], az[j],
                      R[j], site, rot, g, geo, tmp)
        if out == (2 << r) - 1:
            continue
        mix_covs(x, P, i, W, x0, P0)
        for mdl in range(r):
            predict_cov(P0[mdl], B[mdl], Rm[mdl], qs[mdl], dt[k], E, Pp[n, mdl])
        combine_cov(xp[n], Pp[n], c[n], xc, Pc)
        select(layout, code[j], xc, Pc, z[j], R[j], site, rot, work, y, H, S, Rs)
        dd, ld = math.inf, 0.0
        if not (out >> r) & 1 and cholesky(S, m, L):
            dd, ld = mahalanobis(L, m, y, u)
        for mdl in range(r if not dd < g and r > 1 else 0):  # the best model's own gate
            if (out >> mdl) & 1:  # outside by the bound
                continue
            dm, lm = _model_distance(layout, code[j], xp[n, mdl], Pp[n, mdl], z[j], H, Rs, m,
                                     site, rot, work, ym, S, L, u)
            if dm < g and (not dd < g or dm + lm < dd + ld):
                dd, ld = dm, lm
        if not dd < g:
            continue
        keep[n] = k
        d2[n] = dd
        logdet[n] = ld
        gate[n] = g
        n += 1
    return n
