"""Compiled kernels against the NumPy reference path: the fused IMM predict-and-gate with its
early rejection (and that one-component bound on its own), the model-wise Joseph update and the
combination of track rows."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.typing import NDArray

from airpicture import geo
from airpicture.messages import SensorKind
from airpicture.tracking import filters, kernels, measurement
from airpicture.tracking.gating import chi2_gate, imm_gate
from airpicture.tracking.imm import imm_combine, imm_mode_update, imm_predict
from airpicture.tracking.kernels import bound, imm
from airpicture.tracking.kernels.combine import combine_rows
from airpicture.tracking.motion import MotionModel, ct_transition
from airpicture.tracking.pairs import group_columns

from .synth import site_llh

Array = NDArray[np.float64]
MODELS = (MotionModel(omega=0.0, q=1.0), MotionModel(omega=0.15, q=20.0),
          MotionModel(omega=-0.15, q=20.0))
SOJOURN = np.array([60.0, 20.0])
LAYOUT = {SensorKind.RADAR: kernels.RADAR, SensorKind.ADSB: kernels.ADSB}
SIGMA = {SensorKind.RADAR: np.array([40.0, 1.4e-3, 2.1e-3, 3.0]),
         SensorKind.ADSB: np.array([30.0, 30, 45, 1, 1, 1.5])}


def _scene(
    kind: SensorKind, rng: np.random.Generator, n: int = 50, m: int = 60
) -> tuple[Array, Array, Array, Array, Array, NDArray[np.int64], Array, Array]:
    """Tracks ``x (n, 3, 6)``, ``P``, ``mu``; plots ``z (m, full)``, ``R``, group codes;
    sensor site and rotation. Half the plots are measured near a track, half anywhere."""
    llh = site_llh()
    site = geo.geodetic2ecef(llh)
    rot = geo.ecef2enu_rotation(llh[:2])
    enu = np.column_stack([rng.uniform(-3e4, 3e4, (n, 2)), rng.uniform(1e3, 1e4, n)])
    vel = np.column_stack([rng.uniform(-250, 250, (n, 2)), rng.normal(0, 5, n)])
    base = np.concatenate([geo.enu2ecef(enu, llh), geo.enu2ecefv(vel, llh[:2])], axis=1)
    x = base[:, None, :] + rng.normal(0, 1, (n, 3, 6)) * [150, 150, 150, 8, 8, 8]
    A = rng.normal(0, 1, (n, 3, 6, 6)) * np.array([300.0, 300, 300, 15, 15, 15])[:, None]
    P = A @ A.transpose(0, 1, 3, 2) / 6 + np.eye(6) * 1.0
    mu = rng.dirichlet(np.ones(3), n)
    full = measurement.FULL_SIZE[kind]
    near = rng.integers(0, n, m // 2)
    target = np.concatenate([base[near], base[rng.integers(0, n, m - m // 2)]])
    target[m // 2:, :3] += rng.normal(0, 3e3, (m - m // 2, 3))
    target[:, :3] += target[:, 3:] * 4.0
    zt = measurement.predict(kind, target, np.broadcast_to(site, (m, 3)),
                             np.broadcast_to(rot, (m, 3, 3)))
    sigma = SIGMA[kind]
    z = zt + rng.normal(0, 1, zt.shape) * sigma
    if kind is SensorKind.RADAR:
        z[:, 1] %= 2 * np.pi
    code = np.where(rng.random(m) < 0.5, (1 << full) - 1, (1 << min(full, 3)) - 1)
    R = measurement.noise_covariance(kind, z, np.broadcast_to(sigma, z.shape))
    return x, P, mu, z, R, code.astype(np.int64), site, rot


def _exact_gate(
    kind: SensorKind, x: Array, P: Array, mu: Array, ti: NDArray[np.intp],
    pj: NDArray[np.intp], dt: Array, z: Array, R: Array, code: NDArray[np.int64], site: Array,
    rot: Array,
) -> tuple[Array, ...]:
    """The NumPy reference of the fused gate: IMM predictions ``xp``, ``Pp``, ``c`` of every
    pair, ``d2``, ``log det S`` of the combined prediction and ``(K, 3)`` of each model's own,
    every prediction linearised at the combined state (kernels.gate), and the gates."""
    xp, Pp, c = imm_predict(x[ti], P[ti], mu[ti], dt, MODELS, SOJOURN)
    xc, Pc = imm_combine(xp, Pp, c)
    d2, logdet = np.full(len(ti), np.inf), np.zeros(len(ti))
    d2_m, logdet_m = np.full((len(ti), 3), np.inf), np.zeros((len(ti), 3))
    gate = np.zeros(len(ti))
    for g in np.unique(code):
        sel = np.flatnonzero(code[pj] == g)
        cols = group_columns(int(g), measurement.FULL_SIZE[kind])
        sites = np.broadcast_to(site, (len(sel), 3))
        rots = np.broadcast_to(rot, (len(sel), 3, 3))
        for mdl, Ps in enumerate([Pc, *(Pp[:, j] for j in range(3))]):
            # every prediction linearised at the combined state (kernels.gate)
            lin = filters.ekf_linearise(kind, cols, xc[sel], Ps[sel], sites, rots,
                                        R[pj[sel]][:, cols][:, :, cols])
            zhat = lin.zhat if mdl == 0 else measurement.predict(
                kind, xp[sel, mdl - 1], sites, rots)[:, cols]
            y = filters.residual(kind, cols, z[pj[sel]][:, cols], zhat)
            if mdl == 0:
                d2[sel], logdet[sel] = filters.mahalanobis(y, lin.S)
            else:
                d2_m[sel, mdl - 1], logdet_m[sel, mdl - 1] = filters.mahalanobis(y, lin.S)
        gate[sel] = chi2_gate(0.9995, len(cols))
    return xp, Pp, c, d2, logdet, d2_m, logdet_m, gate


@pytest.mark.parametrize("kind", [SensorKind.RADAR, SensorKind.ADSB])
def test_fused_gate_keeps_exactly_the_pairs_of_predicting_and_gating_every_pair(
    kind: SensorKind,
) -> None:
    rng = np.random.default_rng(21)
    x, P, mu, z, R, code, site, rot = _scene(kind, rng)
    ti, pj = (a.ravel().astype(np.intp) for a in np.meshgrid(
        np.arange(len(x)), np.arange(len(z)), indexing="ij"))
    dt = rng.uniform(0.5, 10.0, len(ti))
    # Settled tracks (turn modes unlikely), each with a plot where it would be after turning
    # at +-0.15 rad/s: the combined gate misses many of these, a turn model's own does not.
    k = len(x) // 3
    x[:k], P[:k], mu[:k] = x[:k, :1], P[:k] / 400.0, [0.998, 0.001, 0.001]
    dt_turn = rng.uniform(2.0, 10.0, k)
    left = np.arange(k) % 2 == 0
    F = np.where(left[:, None, None], ct_transition(dt_turn, 0.15, x[:k, 0, :3]),
                 ct_transition(dt_turn, -0.15, x[:k, 0, :3]))
    zt = measurement.predict(kind, np.einsum("kab,kb->ka", F, x[:k, 0]),
                             np.broadcast_to(site, (k, 3)), np.broadcast_to(rot, (k, 3, 3)))
    zt += rng.normal(0, 1, zt.shape) * SIGMA[kind]
    if kind is SensorKind.RADAR:
        zt[:, 1] %= 2 * np.pi
    R_turn = measurement.noise_covariance(kind, zt, np.broadcast_to(SIGMA[kind], zt.shape))
    ti = np.concatenate([ti, np.arange(k)])
    pj = np.concatenate([pj, len(z) + np.arange(k)])
    dt = np.concatenate([dt, dt_turn])
    z, R = np.concatenate([z, zt]), np.concatenate([R, R_turn])
    code = np.concatenate([code, np.full(k, (1 << measurement.FULL_SIZE[kind]) - 1)])
    xp, Pp, c, d2, logdet, d2_m, logdet_m, gate = _exact_gate(kind, x, P, mu, ti, pj, dt, z, R,
                                                              code, site, rot)
    mask, d2_in, _ = imm_gate(d2, logdet, d2_m, logdet_m, gate)
    inside = np.flatnonzero(mask)
    assert np.count_nonzero(mask & ~(d2 < gate)) >= 5  # gated by a model's own gate only
    d2 = d2_in
    gates = np.array([chi2_gate(0.9995, k) if k else 0.0 for k in range(7)])
    keep, kxp, kPp, kc, kd2, _, kgate = kernels.imm_ekf_gate(
        LAYOUT[kind], x, P, mu, ti, pj, dt, np.array([mm.omega for mm in MODELS]),
        np.array([mm.q for mm in MODELS]), SOJOURN, code, z, R, site, rot, gates)
    assert 20 <= len(inside) <= 0.5 * len(ti)  # both outcomes occur often
    np.testing.assert_array_equal(keep, inside)
    np.testing.assert_allclose(kd2, d2[inside], rtol=1e-9)
    np.testing.assert_array_equal(kgate, gate[inside])
    np.testing.assert_allclose(kxp, xp[inside], rtol=1e-12, atol=1e-6)
    np.testing.assert_allclose(kPp, Pp[inside], rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(kc, c[inside], rtol=1e-12)


@pytest.mark.parametrize("kind", [SensorKind.RADAR, SensorKind.ADSB])
def test_one_component_bound_rejects_only_predictions_outside_their_gate(
    kind: SensorKind,
) -> None:
    rng = np.random.default_rng(23)
    x, P, mu, z, R, code, site, rot = _scene(kind, rng, n=30, m=40)
    ti, pj = (a.ravel().astype(np.intp) for a in np.meshgrid(
        np.arange(len(x)), np.arange(len(z)), indexing="ij"))
    dt = rng.uniform(-2.0, 10.0, len(ti))
    _, _, _, d2, _, d2_m, _, gate = _exact_gate(kind, x, P, mu, ti, pj, dt, z, R, code, site,
                                                rot)
    omegas, qs = np.array([mm.omega for mm in MODELS]), np.array([mm.q for mm in MODELS])
    Pi, W, c, x0 = np.empty((3, 3)), np.empty((3, 3)), np.empty(3), np.empty((3, 6))
    B, Rm, xm, xc = np.empty((3, 3, 3)), np.empty((3, 3, 3)), np.empty((3, 6)), np.empty(6)
    az = np.stack([np.sin(z[:, 1]), np.cos(z[:, 1])], axis=1)
    d2_all = np.column_stack([d2_m, d2])  # models 0-2, then the combined prediction
    out = np.zeros((len(ti), 4), bool)
    edge = np.zeros((len(ti), 4), bool)  # with the gate just above each prediction's d2
    for k, (i, j) in enumerate(zip(ti, pj, strict=True)):
        imm.mode_transition(dt[k], SOJOURN, Pi)
        imm.mix_means(x, mu, i, Pi, c, W, x0)
        for mdl in range(3):
            imm.transition(x0[mdl], dt[k], omegas[mdl], B[mdl], Rm[mdl])
            imm.predict_mean(x0[mdl], B[mdl], Rm[mdl], xm[mdl])
        imm.combine_mean(xm, c, xc)
        for b, g in enumerate([gate[k], *(d2_all[k] * (1.0 + 1e-9))]):
            mask = bound.outside(LAYOUT[kind], code[j], x, P, i, W, x0, xm, xc, c, B,
                                         qs, dt[k], z[j], az[j], R[j], site, rot, g,
                                         np.empty((4, 5)), np.empty((4, 6)))
            if b == 0:
                out[k] = [(mask >> a) & 1 for a in range(4)]
            else:
                edge[k, b - 1] = (mask >> (b - 1)) & 1
    exact = d2_all >= gate[:, None]
    assert not (out & ~exact).any()  # never a prediction inside its gate
    assert not edge.any()  # nor one just inside a gate at its d2
    far = exact.all(axis=1)
    assert far.sum() > 0.5 * len(ti)
    assert out[far].all(axis=1).mean() > 0.6  # most pairs outside every gate: culled


@pytest.mark.parametrize("kind", [SensorKind.RADAR, SensorKind.ADSB])
def test_compiled_update_equals_the_numpy_joseph_update(kind: SensorKind) -> None:
    rng = np.random.default_rng(22)
    x, P, _, z, R, code, site, rot = _scene(kind, rng, n=40, m=40)
    pick = rng.permutation(40)[:30].astype(np.intp)  # pair i holds plot i; 30 of them, shuffled
    x_new, P_new = x.copy(), P.copy()
    ll, fine = kernels.ekf_update(LAYOUT[kind], x_new, P_new, pick, pick, code, z, R, site, rot)
    assert fine
    rest = np.setdiff1d(np.arange(40), pick)
    assert np.array_equal(x_new[rest], x[rest]) and np.array_equal(P_new[rest], P[rest])
    for g in np.unique(code[pick]):
        sel = pick[code[pick] == g]
        cols = group_columns(int(g), measurement.FULL_SIZE[kind])
        xm, Pm = x[sel].reshape(-1, 6), P[sel].reshape(-1, 6, 6)
        j = np.repeat(sel, 3)
        lin = filters.ekf_linearise(kind, cols, xm, Pm, np.broadcast_to(site, (len(j), 3)),
                                    np.broadcast_to(rot, (len(j), 3, 3)),
                                    R[j][:, cols][:, :, cols])
        y = filters.residual(kind, cols, z[j][:, cols], lin.zhat)
        xu, Pu = filters.joseph_update(xm, Pm, y, lin)
        d2, logdet = filters.mahalanobis(y, lin.S)
        np.testing.assert_allclose(x_new[sel].reshape(-1, 6), xu, rtol=1e-12, atol=1e-6)
        np.testing.assert_allclose(P_new[sel].reshape(-1, 6, 6), Pu, rtol=1e-8, atol=1e-6)
        np.testing.assert_allclose(ll[code[pick] == g].ravel(), filters.log_likelihood(
            d2, logdet, len(cols)), rtol=1e-9)


@pytest.mark.parametrize("models", [1, 3])
def test_compiled_combination_of_track_rows_equals_the_numpy_one(models: int) -> None:
    rng = np.random.default_rng(24)
    x, P, mu, *_ = _scene(SensorKind.RADAR, rng, n=30)
    x, P = x[:, :models], P[:, :models]
    mu = mu[:, :models] / mu[:, :models].sum(axis=1, keepdims=True)
    rows = rng.permutation(30)[:20].astype(np.intp)
    xc, Pc = combine_rows(x, P, mu, rows)
    ref_x, ref_P = imm_combine(x[rows], P[rows], mu[rows])
    np.testing.assert_allclose(xc, ref_x, rtol=1e-14)
    np.testing.assert_allclose(Pc, ref_P, rtol=1e-10, atol=1e-6)
    assert (np.abs(Pc - P[rows, 0]).max() > 1e3 if models > 1
            else np.array_equal(Pc, P[rows, 0]))


def test_committed_updates_land_in_their_rows_with_the_numpy_mode_update() -> None:
    rng = np.random.default_rng(25)
    x, P, *_ = _scene(SensorKind.RADAR, rng, n=30)
    c = rng.dirichlet(np.ones(3), 30)
    c[0] = [1.0, 0.0, 0.0]  # a model with no prior mass keeps the floor
    ll = rng.normal(-10.0, 5.0, (20, 3))
    pick = np.concatenate([[0], 1 + rng.permutation(29)[:19]]).astype(np.intp)
    rows = rng.permutation(50)[:20].astype(np.intp)
    tx, tP, tmu = np.zeros((50, 3, 6)), np.zeros((50, 3, 6, 6)), np.full((50, 3), -1.0)
    kernels.commit_updates(x, P, c, ll, pick, rows, tx, tP, tmu)
    np.testing.assert_array_equal(tx[rows], x[pick])
    np.testing.assert_array_equal(tP[rows], P[pick])
    np.testing.assert_allclose(tmu[rows], imm_mode_update(c[pick], ll), rtol=1e-12)
    assert (tmu[np.setdiff1d(np.arange(50), rows)] == -1.0).all()
    assert tmu[rows[0], 1:].max() < 2e-12 and tmu[rows].min() > 0.99e-12
