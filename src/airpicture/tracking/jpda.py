"""Joint probabilistic data association with Fitzgerald's cheap JPDA weights, vectorised.

For gated pairs with detection-weighted likelihoods ``g_ij = PD N(y_ij; 0, S_ij)`` and clutter
density ``lambda``, the association probabilities are (Fitzgerald, 1985)::

    beta_ij = g_ij / (T_i + U_j - g_ij + lambda),  T_i = sum_j g_ij,  U_j = sum_i g_ij
    beta_i0 = 1 - sum_j beta_ij

Each track is updated once, per IMM model, at the time of its most probable plot, with the
probabilistic data association (PDA) form::

    ybar = sum_j beta_ij y_ij
    x+   = x + K ybar
    P+   = beta_i0 P + (1 - beta_i0) P_joseph + K (sum_j beta_ij y_ij y_ij^T - ybar ybar^T) K^T

and the model likelihood ``(1 - PD) lambda + PD sum_j N(y_ij; 0, S)``. Plots of another
measurement layout than the track's most probable plot are left out of its update. A track
counts a hit when ``1 - beta_i0 >= 0.5``.

The round (:mod:`.scan`) gives this update the pairs of confirmed and coasting tracks only.
Tentative tracks are associated one-to-one (GNN) with the plots that no confirmed track took
as its most probable plot: under the PDA update a tentative track born from clutter moves to
the weighted mean of the clutter in its wide gate, keeps that gate wide through the spread
term and gathers a hit nearly every scan, so in heavy clutter JPDA confirmed several times
more false tracks than GNN (10 against 0 of 30 targets at 100 false plots per scan).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from airpicture.plot_table import PlotTable
from airpicture.tracking import filters, measurement
from airpicture.tracking.imm import imm_mode_update
from airpicture.tracking.pairs import Context, Pairs, group_columns, linearise_pairs
from airpicture.tracking.state import TrackArrays

Array = NDArray[np.float64]
Index = NDArray[np.intp]


def weights(track: Index, plot: Index, g: Array, clutter: Array) -> tuple[Array, Array]:
    """Cheap-JPDA ``beta (K,)`` per pair and ``beta0 (n_tracks,)`` per local track index."""
    n_t = int(track.max()) + 1 if len(track) else 0
    n_p = int(plot.max()) + 1 if len(plot) else 0
    T = np.bincount(track, g, n_t)
    U = np.bincount(plot, g, n_p)
    beta = g / (T[track] + U[plot] - g + clutter)
    beta0 = np.clip(1.0 - np.bincount(track, beta, n_t), 0.0, 1.0)
    return beta, beta0


def update(
    tracks: TrackArrays, pairs: Pairs, plots: PlotTable, sensor: int, ctx: Context, zf: Array,
    R: Array, group: NDArray[np.int64],
) -> tuple[Index, Index, Array]:
    """PDA updates of every gated track in place; returns hit rows, their main plots, gains."""
    kind = ctx.sensors.kinds[sensor]
    pd = float(ctx.sensors.pd[sensor])
    r = tracks.models
    if len(pairs.track) == 0:
        return np.zeros(0, np.intp), np.zeros(0, np.intp), np.zeros(0)
    codes = group[pairs.plot]
    dens = np.array([ctx.sensors.clutter_density(
        sensor, group_columns(int(c), measurement.FULL_SIZE[kind])) for c in codes])
    dims = np.bitwise_count(codes.astype(np.uint64)).astype(np.float64)
    g = pd * np.exp(-0.5 * (pairs.d2 + pairs.logdet + dims * filters.LOG_2PI))
    tu, tl = np.unique(pairs.track, return_inverse=True)
    _, pl = np.unique(pairs.plot, return_inverse=True)
    beta, beta0 = weights(tl, pl, g, dens)
    order = np.lexsort((-beta, tl))
    ref = order[np.flatnonzero(np.r_[True, np.diff(tl[order]) != 0])]  # best pair per track
    same = codes == codes[ref][tl]
    beta = np.where(same, beta, 0.0)
    nt = len(tu)
    x_new = np.empty((nt, r, 6))
    P_new = np.empty((nt, r, 6, 6))
    ll = np.zeros((nt, r))
    for code in np.unique(codes[ref]):
        sel_t = np.flatnonzero(codes[ref] == code)
        cols = group_columns(int(code), measurement.FULL_SIZE[kind])
        b = ref[sel_t]
        xm = pairs.x[b].reshape(-1, 6)
        Pm = pairs.P[b].reshape(-1, 6, 6)
        j = np.repeat(pairs.plot[b], r)
        lin, _ = linearise_pairs(kind, cols, xm, Pm, sensor, ctx, zf[j], R[j])
        lut = np.full(nt, -1, np.intp)
        lut[sel_t] = np.arange(len(sel_t))
        mine = np.flatnonzero(same & (lut[tl] >= 0))
        rows_m = (lut[tl[mine]][:, None] * r + np.arange(r)).ravel()  # (pairs * r,)
        zhat = lin.zhat[rows_m]
        y = filters.residual(kind, cols, np.repeat(zf[pairs.plot[mine]][:, cols], r, 0), zhat)
        d2, logdet = filters.mahalanobis(y, lin.S[rows_m])
        w = np.repeat(beta[mine], r)
        n_rows = len(sel_t) * r
        ybar = np.zeros((n_rows, len(cols)))
        np.add.at(ybar, rows_m, w[:, None] * y)
        yy = np.zeros((n_rows, len(cols), len(cols)))
        np.add.at(yy, rows_m, w[:, None, None] * y[:, :, None] * y[:, None, :])
        like = np.bincount(rows_m, pd * np.exp(filters.log_likelihood(d2, logdet, len(cols))),
                           n_rows)
        b0 = np.repeat(beta0[sel_t], r)
        xu, Pj = filters.joseph_update(xm, Pm, ybar, lin)
        gain = np.linalg.solve(lin.S, lin.Pxz.transpose(0, 2, 1)).transpose(0, 2, 1)
        spread = yy - ybar[:, :, None] * ybar[:, None, :]
        Pu = (b0[:, None, None] * Pm + (1.0 - b0)[:, None, None] * Pj
              + gain @ spread @ gain.transpose(0, 2, 1))
        x_new[sel_t] = xu.reshape(-1, r, 6)
        P_new[sel_t] = (0.5 * (Pu + Pu.transpose(0, 2, 1))).reshape(-1, r, 6, 6)
        lam = float(np.median(dens[b]))
        ll[sel_t] = np.log((1.0 - pd) * lam + like).reshape(-1, r)
    rows = pairs.track[ref]
    tracks.x[rows] = x_new
    tracks.P[rows] = P_new
    tracks.mu[rows] = imm_mode_update(pairs.c[ref], ll) if r > 1 else 1.0
    tracks.time[rows] = plots.time[pairs.plot[ref]]
    hit = (1.0 - beta0) >= 0.5
    gain_score = np.log(pd / dens[ref]) + filters.log_likelihood(
        pairs.d2[ref], pairs.logdet[ref], dims[ref].astype(np.intp))
    return rows[hit], pairs.plot[ref][hit], gain_score[hit]
