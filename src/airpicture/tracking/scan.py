"""One round: the plots of one sensor within one batch against all tracks.

Steps, all vectorised over tracks, plots and pairs:

1. pre-gate (a hash grid, :mod:`.gating`) to candidate pairs, dropping pairs whose ICAO
   addresses differ and pairs of an addressed plot with another track than the live one that
   holds its address;
2. per pair, IMM prediction of the track to the plot's own time and a chi-square gate on the
   combined prediction or on one model's own (:func:`.gating.imm_gate`: the onset of a
   manoeuvre), with the sensor's filter (EKF or UKF; the compiled EKF rejects most
   candidates exactly before any predicted covariance, :mod:`.kernels.gate`);
3. association: identity first (ICAO, then unique Mode 3/A), then GNN per cluster (or JPDA
   for confirmed and coasting tracks, GNN for tentative ones, :mod:`.jpda`), tracks that
   compete for a plot ranked by likelihood (:func:`_associate`);
4. model-wise Joseph updates of the associated tracks and their mode probabilities (tracks
   updated by 2-D radar plots, without elevation, then hold their height: a vertical-rate
   pseudo-measurement, :func:`hold_height`);
5. one-plot initiation from plots that are neither associated nor inside the gate of a
   confirmed or coasting track, and whose ICAO address (if any) no live track holds (one
   track per address: a plot of a known address outside its track's gate is left unused).

Track rows are updated in place; new tracks are appended.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
from numpy.typing import NDArray

from airpicture import geo
from airpicture.messages import SensorKind
from airpicture.plot_table import PlotTable
from airpicture.tracking import association, filters, jpda, kernels, measurement
from airpicture.tracking.config import Association
from airpicture.tracking.filters import FilterKind
from airpicture.tracking.gating import chi2_gate, imm_gate
from airpicture.tracking.initiation import can_initiate, initiate
from airpicture.tracking.management import record_hits
from airpicture.tracking.pairs import (
    Context,
    Pairs,
    group_columns,
    linearise_pairs,
    model_distances,
    sigma_of,
)
from airpicture.tracking.pregate import pregate, track_balls
from airpicture.tracking.state import COASTING, CONFIRMED, DELETED, TrackArrays

Array = NDArray[np.float64]
Index = NDArray[np.intp]


@dataclasses.dataclass(frozen=True)
class Round:
    """A round's result: the tracks (new ones appended), who changed, the next free id."""

    tracks: TrackArrays
    touched: NDArray[np.bool_]
    next_id: int


def process_round(
    tracks: TrackArrays, plots: PlotTable, sensor: int, ctx: Context, next_id: int
) -> Round:
    """Associate, update and initiate with ``plots`` of ``sensor`` (time-sorted, validated)."""
    cfg, sens = ctx.config, ctx.sensors
    kind = sens.kinds[sensor]
    m = measurement.FULL_SIZE[kind]
    zf, sf = measurement.plot_vector(kind, plots.z, plots.sigma, plots.baro_alt,
                                     cfg.baro_sigma_m)
    R = measurement.noise_covariance(kind, zf, sf)
    group = (np.isfinite(zf) * (1 << np.arange(m))).sum(axis=1)
    pairs = _gate(tracks, plots, sensor, ctx, zf, R, group)
    held = np.isin(tracks.status[pairs.track], (CONFIRMED, COASTING))
    if cfg.association is Association.JPDA:
        held_rows, held_plots, held_gain = jpda.update(
            tracks, pairs.take(held), plots, sensor, ctx, zf, R, group)
        rest = pairs.take(~held & ~np.isin(pairs.plot, held_plots))
        chosen = _associate(tracks, plots, rest)
        new_rows, new_gain = _update(tracks, rest, chosen, plots, sensor, ctx, zf, R, group)
        hit_rows = np.concatenate([held_rows, new_rows])
        hit_plots = np.concatenate([held_plots, rest.plot[chosen]])
        gain = np.concatenate([held_gain, new_gain])
    else:
        chosen = _associate(tracks, plots, pairs)
        hit_rows, gain = _update(tracks, pairs, chosen, plots, sensor, ctx, zf, R, group)
        hit_plots = pairs.plot[chosen]
    if kind is SensorKind.RADAR and cfg.height_hold_sigma_mps > 0.0:
        flat = np.isnan(zf[hit_plots, 2])
        hold_height(tracks, hit_rows[flat], cfg.height_hold_sigma_mps)
    tracks.refresh(hit_rows)
    record_hits(tracks, hit_rows, plots.time[hit_plots], np.full(len(hit_rows),
                sens.period[sensor]), np.full(len(hit_rows), sensor, np.int32), gain)
    _adopt_identity(tracks, hit_rows, plots, hit_plots)
    touched = np.zeros(len(tracks), bool)
    touched[hit_rows] = True
    free = np.ones(len(plots), bool)
    free[hit_plots] = False
    free[pairs.plot[held]] = False
    free &= can_initiate(kind, zf)
    addressed = np.flatnonzero(free & (plots.icao >= 0))
    if len(addressed):  # never a second track for an address: one per new address
        free[addressed[_owned(tracks, plots.icao[addressed])]] = False
        addressed = np.flatnonzero(free & (plots.icao >= 0))
        free[addressed[~association.first_per_key(plots.icao[addressed].astype(np.int64))]] = False
    born = _initiate(plots, np.flatnonzero(free), sensor, ctx, zf, sf, R, next_id)
    if len(born) == 0:
        return Round(tracks, touched, next_id)
    out, rows = place(tracks, born)
    touched = np.concatenate([touched, np.zeros(len(out) - len(tracks), bool)])
    touched[rows] = True
    return Round(out, touched, next_id + len(born))


def hold_height(tracks: TrackArrays, rows: Index, sigma: float) -> None:
    """Update every model of ``rows`` with the pseudo-measurement "vertical rate = 0".

    The measurement is ``u . v`` with ``u`` the local up (ellipsoid normal at the track's
    position, held fixed), noise ``sigma`` (m/s); a scalar Joseph update per model, in place.
    """
    if len(rows) == 0:
        return
    x, P = tracks.x[rows], tracks.P[rows]  # (A, r, 6), (A, r, 6, 6)
    llh = geo.ecef2geodetic(np.einsum("ar,ark->ak", tracks.mu[rows], x)[:, :3])
    up = geo.up_vectors(llh[:, 0], llh[:, 1])
    H = np.zeros((len(rows), 6))
    H[:, 3:] = up
    Hb = np.broadcast_to(H[:, None, :], x.shape)
    PHt = np.einsum("arij,arj->ari", P, Hb)
    S = np.einsum("ari,ari->ar", Hb, PHt) + sigma**2
    K = PHt / S[..., None]
    x_new = x - K * np.einsum("ari,ari->ar", Hb, x)[..., None]
    IKH = np.eye(6) - K[..., :, None] * Hb[..., None, :]
    P_new = IKH @ P @ IKH.transpose(0, 1, 3, 2) + sigma**2 * K[..., :, None] * K[..., None, :]
    tracks.x[rows] = x_new
    tracks.P[rows] = 0.5 * (P_new + P_new.transpose(0, 1, 3, 2))


def place(tracks: TrackArrays, born: TrackArrays) -> tuple[TrackArrays, Index]:
    """Write ``born`` into free (deleted) rows of ``tracks``, growing it when they run short.

    The table grows by at least half its length, so births cost ``O(born)`` amortised instead
    of a copy of every track. Returns the table (the same object unless it grew) and the rows.
    """
    free = np.flatnonzero(tracks.status == DELETED)
    short = len(born) - len(free)
    if short > 0:
        extra = TrackArrays.blank(max(short, len(tracks) // 2, 64), tracks.models)
        extra.status[:] = DELETED
        tracks = TrackArrays.concat([tracks, extra])
        free = np.flatnonzero(tracks.status == DELETED)
    rows = free[: len(born)]
    for name, col in born.columns().items():
        getattr(tracks, name)[rows] = col
    return tracks, rows


def _gate(
    tracks: TrackArrays, plots: PlotTable, sensor: int, ctx: Context, zf: Array, R: Array,
    group: NDArray[np.int64],
) -> Pairs:
    """Pre-gate, predict every candidate pair to its plot time and apply the chi-square gate."""
    cfg, sens = ctx.config, ctx.sensors
    kind = sens.kinds[sensor]
    r = tracks.models
    if len(tracks) == 0 or len(plots) == 0:
        return Pairs(np.zeros(0, np.intp), np.zeros(0, np.intp), np.zeros((0, r, 6)),
                     np.zeros((0, r, 6, 6)), np.zeros((0, r)), np.zeros(0), np.zeros(0),
                     np.zeros(0))
    t_ref = float(plots.time.mean())
    half_span = float(np.abs(plots.time - t_ref).max())
    dims = int(np.bitwise_count(group.astype(np.uint64)).max())
    k = math.sqrt(chi2_gate(cfg.gate_probability, dims))
    q = max(mm.q for mm in ctx.models)
    pos, radius = track_balls(tracks, t_ref, half_span, k, q)
    ti, pj = pregate(
        kind, zf, sigma_of(zf, R), R, sens.site[sensor], sens.rot[sensor],
        float(sens.llh[sensor, 2]), float(sens.max_range[sensor]), pos, radius, k)
    if (plots.icao >= 0).any():  # an address pairs only with the track that holds it, if any
        clash = (plots.icao[pj] >= 0) & (plots.icao[pj] != tracks.icao[ti])
        ask = np.flatnonzero(clash & (tracks.icao[ti] < 0))
        clash[ask] = _owned(tracks, plots.icao[pj[ask]])
        ti, pj = ti[~clash], pj[~clash]
    layout = _fast_layout(ctx, sensor)
    dt = plots.time[pj] - tracks.time[ti]
    if layout is not None:
        gates = np.array([chi2_gate(cfg.gate_probability, m) if m else 0.0 for m in range(7)])
        keep, xp, Pp, c, d2, logdet, gate = kernels.imm_ekf_gate(
            layout, tracks.x, tracks.P, tracks.mu, ti, pj, dt, ctx.omegas, ctx.qs,
            ctx.sojourns, group, zf, R, sens.site[sensor], sens.rot[sensor], gates)
        return Pairs(ti[keep], pj[keep], xp, Pp, c, d2, logdet, gate)
    xp, Pp, c, xk, Pk = kernels.imm_predict_pairs(
        tracks.x, tracks.P, tracks.mu, ti, dt, ctx.omegas, ctx.qs, ctx.sojourns)
    d2 = np.full(len(ti), np.inf)
    logdet = np.zeros(len(ti))
    gate = np.zeros(len(ti))
    d2_m, logdet_m = np.full((len(ti), r), np.inf), np.zeros((len(ti), r))
    for code in np.unique(group[pj]):
        sel = np.flatnonzero(group[pj] == code)
        cols = group_columns(int(code), measurement.FULL_SIZE[kind])
        lin, y = linearise_pairs(kind, cols, xk[sel], Pk[sel], sensor, ctx, zf[pj[sel]], R[pj[sel]])
        d2[sel], logdet[sel] = filters.mahalanobis(y, lin.S)
        gate[sel] = chi2_gate(cfg.gate_probability, len(cols))
        out = sel[~(d2[sel] < gate[sel])] if r > 1 else sel[:0]
        for mdl in range(r if len(out) else 0):  # the models' own gates (gating.imm_gate)
            d2_m[out, mdl], logdet_m[out, mdl] = model_distances(
                kind, cols, xk[out], Pk[out], xp[out, mdl], Pp[out, mdl], sensor, ctx,
                zf[pj[out]], R[pj[out]])
    inside, d2, logdet = imm_gate(d2, logdet, d2_m, logdet_m, gate)
    return Pairs(ti, pj, xp, Pp, c, d2, logdet, gate).take(inside)


def _owned(tracks: TrackArrays, icao: NDArray[np.int32]) -> NDArray[np.bool_]:
    """Which ICAO addresses ``(K,)`` (all >= 0) a live track holds."""
    if len(icao) == 0:
        return np.zeros(0, bool)
    held = tracks.icao[(tracks.icao >= 0) & (tracks.status != DELETED)]
    return np.isin(icao, held)


def _fast_layout(ctx: Context, sensor: int) -> int | None:
    """Layout code of the compiled EKF kernels for ``sensor``, or None for the NumPy path."""
    if ctx.sensors.filter[sensor] is not FilterKind.EKF:
        return None
    return {SensorKind.RADAR: kernels.RADAR, SensorKind.ADSB: kernels.ADSB}.get(
        ctx.sensors.kinds[sensor])


def _associate(tracks: TrackArrays, plots: PlotTable, pairs: Pairs) -> Index:
    """Identity-first, then GNN: indices of the chosen pairs.

    The cost of a pair is ``d2 + log det S`` (twice the negative log-likelihood up to a
    constant). Every track's miss costs the same, the largest ``gate + log det S`` of the
    round, so that a track alone takes its best gated plot and tracks that compete for a plot
    are ranked by likelihood: a miss cost of the track's own ``gate + log det S`` would cancel
    ``log det S`` from the comparison and hand the plot to the smaller ``d2``, i.e. to the
    vaguer track (a one-plot track next to an established one: a dual track).
    """
    cost = pairs.d2 + pairs.logdet
    miss = np.full(len(cost), float((pairs.gate + pairs.logdet).max()) if len(cost) else 0.0)
    ti, pj = pairs.track, pairs.plot
    icao_t = tracks.icao[ti].astype(np.int64)
    icao_p = plots.icao[pj].astype(np.int64)
    forced = association.identity_first(ti, pj, cost, icao_t, icao_p)
    m3_p = np.where(icao_p < 0, plots.mode3a[pj], -1).astype(np.int64)
    if (m3_p >= 0).any():
        values, counts = np.unique(tracks.mode3a[tracks.status != DELETED], return_counts=True)
        unique_m3 = np.isin(tracks.mode3a[ti], values[counts == 1]) & (tracks.mode3a[ti] >= 0)
        m3_t = np.where(unique_m3, tracks.mode3a[ti], -1).astype(np.int64)
        free = ~np.isin(ti, ti[forced]) & ~np.isin(pj, pj[forced])
        second = np.flatnonzero(free)[association.identity_first(
            ti[free], pj[free], cost[free], m3_t[free], m3_p[free])]
        forced[second] = True
    if not forced.any():
        chosen, _ = association.gnn(ti, pj, cost, miss)
        return chosen
    rest = np.flatnonzero(~np.isin(ti, ti[forced]) & ~np.isin(pj, pj[forced]))
    chosen, _ = association.gnn(ti[rest], pj[rest], cost[rest], miss[rest])
    return np.sort(np.concatenate([np.flatnonzero(forced), rest[chosen]]))


def _update(
    tracks: TrackArrays, pairs: Pairs, chosen: Index, plots: PlotTable, sensor: int,
    ctx: Context, zf: Array, R: Array, group: NDArray[np.int64],
) -> tuple[Index, Array]:
    """Model-wise Joseph updates of the one-to-one pairs ``chosen``, into the tracks in place;
    rows and SLLR score gains. The compiled EKF updates the chosen pairs' predictions in
    ``pairs.x``, ``pairs.P`` (not read again), the tracks only when all succeeded."""
    kind = ctx.sensors.kinds[sensor]
    A, r = len(chosen), tracks.models
    plot = pairs.plot[chosen]
    d2, logdet = pairs.d2[chosen], pairs.logdet[chosen]
    gain = np.zeros(A)
    pd = float(ctx.sensors.pd[sensor])
    layout = _fast_layout(ctx, sensor)
    if layout is not None:
        xu, Pu, c, pick = pairs.x, pairs.P, pairs.c, chosen
        ll, fine = kernels.ekf_update(layout, xu, Pu, pick, plot, group, zf, R,
                                      ctx.sensors.site[sensor], ctx.sensors.rot[sensor])
        if not fine:
            raise np.linalg.LinAlgError("innovation covariance not positive definite")
    else:
        xu, Pu, c = pairs.x[chosen], pairs.P[chosen], pairs.c[chosen]
        pick, ll = np.arange(A, dtype=np.intp), np.zeros((A, r))
    for code in np.unique(group[plot]):
        sel = np.flatnonzero(group[plot] == code)
        cols = group_columns(int(code), measurement.FULL_SIZE[kind])
        density = ctx.sensors.clutter_density(sensor, cols)
        gain[sel] = math.log(pd / density) + filters.log_likelihood(
            d2[sel], logdet[sel], len(cols))
        if layout is not None:
            continue
        j = np.repeat(plot[sel], r)
        xm, Pm = xu[sel].reshape(-1, 6), Pu[sel].reshape(-1, 6, 6)
        lin, y = linearise_pairs(kind, cols, xm, Pm, sensor, ctx, zf[j], R[j])
        xm, Pm = filters.joseph_update(xm, Pm, y, lin)
        xu[sel] = xm.reshape(-1, r, 6)
        Pu[sel] = Pm.reshape(-1, r, 6, 6)
        d2_m, logdet_m = filters.mahalanobis(y, lin.S)
        ll[sel] = filters.log_likelihood(d2_m, logdet_m, len(cols)).reshape(-1, r)
    rows = pairs.track[chosen]
    kernels.commit_updates(xu, Pu, c, ll, pick, rows, tracks.x, tracks.P, tracks.mu)
    tracks.time[rows] = plots.time[plot]
    return rows, gain


def _adopt_identity(tracks: TrackArrays, rows: Index, plots: PlotTable, j: Index) -> None:
    """Tracks take the ICAO address, Mode 3/A code and callsign their plots carry."""
    for name in ("icao", "mode3a"):
        src = getattr(plots, name)[j]
        col = getattr(tracks, name)
        col[rows] = np.where(src >= 0, src, col[rows])
    cs = plots.callsign[j]
    tracks.callsign[rows] = np.where(cs != b"", cs, tracks.callsign[rows])


def _initiate(
    plots: PlotTable, rows: Index, sensor: int, ctx: Context, zf: Array, sf: Array, R: Array,
    next_id: int,
) -> TrackArrays:
    """Tentative tracks from the plots ``rows``, numbered from ``next_id``."""
    sens, cfg = ctx.sensors, ctx.config
    kind = sens.kinds[sensor]
    n = len(rows)
    site = np.broadcast_to(sens.site[sensor], (n, 3))
    rot = np.broadcast_to(sens.rot[sensor], (n, 3, 3))
    pos, cov = measurement.plot_position(kind, zf[rows], sf[rows], site, rot,
                                         np.full(n, sens.llh[sensor, 2]))
    vel = np.zeros((n, 3))
    vcov = np.broadcast_to(np.eye(3) * cfg.init_speed_sigma**2, (n, 3, 3)).copy()
    if kind is SensorKind.ADSB:
        has_v = np.isfinite(zf[rows, 3:6]).all(axis=1)
        vel[has_v] = zf[rows[has_v], 3:6]
        vcov[has_v] = R[rows[has_v], 3:, 3:]
    born = initiate(plots.time[rows], pos, cov, vel, vcov, len(ctx.models))
    born.id[:] = next_id + np.arange(n)
    record_hits(born, np.arange(n), plots.time[rows], np.full(n, sens.period[sensor]),
                np.full(n, sensor, np.int32), np.zeros(n))
    _adopt_identity(born, np.arange(n), plots, rows)
    return born
