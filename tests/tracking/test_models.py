"""Motion, measurement, IMM and filter models: Jacobians, closed forms and Stone Soup."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.typing import NDArray

from airpicture import geo
from airpicture.messages import SensorKind
from airpicture.tracking import filters, kernels, measurement
from airpicture.tracking.imm import imm_combine, imm_mode_update, imm_predict, mode_transition
from airpicture.tracking.motion import MotionModel, ct_transition, cv_transition

from .synth import SITE, site_llh

Array = NDArray[np.float64]
PERM = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
"""Maps Stone Soup's x, y, z to our east, north, up so that our azimuth is its bearing."""


def _states(rng: np.random.Generator, k: int) -> tuple[Array, Array, Array]:
    llh = site_llh()
    site = np.broadcast_to(geo.geodetic2ecef(llh), (k, 3)).copy()
    rot = np.broadcast_to(geo.ecef2enu_rotation(llh[:2]), (k, 3, 3)).copy()
    enu = np.column_stack([rng.uniform(-1e5, 1e5, (k, 2)), rng.uniform(1e3, 1e4, k)])
    vel = rng.uniform(-250, 250, (k, 3))
    x = np.concatenate([geo.enu2ecef(enu, llh), geo.enu2ecefv(vel, llh[:2])], axis=1)
    return x, site, rot


@pytest.mark.parametrize("kind", list(SensorKind))
def test_jacobian_matches_finite_differences(kind: SensorKind) -> None:
    rng = np.random.default_rng(1)
    x, site, rot = _states(rng, 20)
    H = measurement.jacobian(kind, x, site, rot)
    step = np.array([1.0, 1.0, 1.0, 0.01, 0.01, 0.01])
    for i in range(6):
        dx = np.zeros(6)
        dx[i] = step[i]
        hi = measurement.predict(kind, x + dx, site, rot)
        lo = measurement.predict(kind, x - dx, site, rot)
        diff = hi - lo
        for a in measurement.ANGLES[kind]:
            diff[:, a] = geo.wrap_angle(diff[:, a])
        np.testing.assert_allclose(H[:, :, i], diff / (2 * step[i]), rtol=1e-4, atol=1e-9)


@pytest.mark.parametrize("kind", [SensorKind.RADAR, SensorKind.SSR, SensorKind.ADSB])
def test_plot_position_inverts_the_measurement(kind: SensorKind) -> None:
    rng = np.random.default_rng(2)
    x, site, rot = _states(rng, 50)
    z = measurement.predict(kind, x, site, rot)
    sigma = np.full_like(z, 1.0)
    pos, cov = measurement.plot_position(kind, z, sigma, site, rot, np.full(50, SITE[2]))
    tol = 60.0 if kind is SensorKind.SSR else 1e-3  # SSR inverts over a spherical earth
    np.testing.assert_allclose(pos, x[:, :3], atol=tol)
    assert np.all(np.linalg.eigvalsh(cov) > 0)


@pytest.mark.parametrize("kind", [SensorKind.RADAR, SensorKind.SSR, SensorKind.ADSB])
def test_plot_spread_is_the_position_and_trace_of_plot_position(kind: SensorKind) -> None:
    """The pre-gate's plot balls: the positions of :func:`plot_position` and the traces of its
    covariances, without forming them (2-D radar plots and SSR plots without height too)."""
    rng = np.random.default_rng(5)
    x, site, rot = _states(rng, 60)
    z = measurement.predict(kind, x, site, rot)
    sigma = np.broadcast_to({SensorKind.RADAR: [60.0, 1.5e-3, 2e-3, 1.0],
                             SensorKind.SSR: [40.0, 1e-3, 30.0],
                             SensorKind.ADSB: [30.0, 30.0, 45.0, 1.0, 1.0, 1.5]}[kind],
                            z.shape) * rng.uniform(1.0, 20.0, (60, 1))
    if kind is not SensorKind.ADSB:
        z[::3, 2] = np.nan  # no elevation (radar) or no height (SSR, whose sigma stays)
    if kind is SensorKind.RADAR:
        sigma[::3, 2] = np.nan
    zf, sf = z, sigma
    R = measurement.noise_covariance(kind, zf, sf)
    pos, cov = measurement.plot_position(kind, zf, sf, site, rot, np.full(60, SITE[2]))
    spread_pos, trace = measurement.plot_spread(kind, zf, sf, R, site[0], rot[0],
                                                   float(SITE[2]))
    np.testing.assert_allclose(spread_pos, pos, rtol=1e-15, atol=1e-6)
    np.testing.assert_allclose(trace, np.trace(cov, axis1=1, axis2=2), rtol=1e-12)
    assert trace.max() > 100.0 * trace.min() > 0.0


def test_turn_model_turns_at_constant_speed_and_tends_to_cv() -> None:
    rng = np.random.default_rng(3)
    x, _, _ = _states(rng, 10)
    dt = np.full(10, 4.0)
    F = ct_transition(dt, 0.2, x[:, :3])
    x1 = np.einsum("kab,kb->ka", F, x)
    np.testing.assert_allclose(np.linalg.norm(x1[:, 3:], axis=1),
                               np.linalg.norm(x[:, 3:], axis=1), rtol=1e-12)
    up = x[:, :3] / np.linalg.norm(x[:, :3], axis=1, keepdims=True)
    flat = x.copy()
    flat[:, 3:] -= np.einsum("ka,ka->k", x[:, 3:], up)[:, None] * up  # horizontal velocity
    v1 = np.einsum("kab,kb->ka", F, flat)[:, 3:]
    cos = np.einsum("ka,ka->k", v1, flat[:, 3:]) / np.linalg.norm(flat[:, 3:], axis=1) ** 2
    np.testing.assert_allclose(cos, np.cos(0.8), rtol=1e-12)
    left = np.einsum("ka,ka->k", np.cross(flat[:, 3:], v1), up)
    assert np.all(left > 0)  # positive omega turns counter-clockwise seen from above
    np.testing.assert_allclose(ct_transition(dt, 1e-7, x[:, :3]), cv_transition(dt), atol=1e-5)


def test_mode_transition_and_imm_identities() -> None:
    rng = np.random.default_rng(4)
    dt = rng.uniform(-2, 20, 7)
    for r in (2, 3, 5):
        Pi = mode_transition(dt, r, np.array([60.0, 20.0]))
        np.testing.assert_allclose(Pi.sum(axis=2), 1.0)
        np.testing.assert_allclose(Pi[:, 0, 0], np.exp(-np.abs(dt) / 60.0))
        np.testing.assert_allclose(Pi[:, 1:, 0].min(axis=1), 1.0 - np.exp(-np.abs(dt) / 20.0))
        np.testing.assert_allclose(Pi[:, 1:, 0].max(axis=1), 1.0 - np.exp(-np.abs(dt) / 20.0))
        turns = Pi[:, 1:, 1:]
        np.testing.assert_array_equal(turns, turns * np.eye(r - 1))  # no turn to turn
        Pk = np.empty((r, r))  # the compiled kernel agrees
        for k, t in enumerate(dt):
            kernels.imm.mode_transition(float(t), np.array([60.0, 20.0]), Pk)
            np.testing.assert_allclose(Pk, Pi[k], rtol=1e-15)
    x, _, _ = _states(rng, 7)
    xs = np.repeat(x[:, None], 3, axis=1)
    Ps = np.broadcast_to(np.eye(6) * 100.0, (7, 3, 6, 6)).copy()
    mu = rng.dirichlet(np.ones(3), 7)
    models = [MotionModel(omega=0.0, q=1.0), MotionModel(omega=0.1, q=1.0),
              MotionModel(omega=-0.1, q=1.0)]
    xp, Pp, c = imm_predict(xs, Ps, mu, np.zeros(7), models, np.array([30.0, 30.0]))
    xc, Pc = imm_combine(xp, Pp, c)
    np.testing.assert_allclose(xc, x, rtol=1e-12)  # zero step: nothing moves
    np.testing.assert_allclose(Pc, Ps[:, 0], rtol=1e-9, atol=1e-9)
    post = imm_mode_update(c, np.log(np.array([[1.0, 2.0, 1.0]] * 7)))
    np.testing.assert_allclose(post.sum(axis=1), 1.0)
    assert np.all(post[:, 1] > c[:, 1])



def test_pre_gate_radius_bounds_the_predicted_position_sigma() -> None:
    """``kernels.track_balls`` without time span or margin is at least ``k`` times the root of
    the trace of the predicted position covariance, whatever the position-velocity
    correlation, and tighter than the former sum ``k (s_pos + s_vel |dt| + sqrt(q |dt|^3))``
    (a larger pre-gate cost 10 % of the 10k-target throughput for ``q = 200``)."""
    rng = np.random.default_rng(5)
    n, q, k = 300, 200.0, 4.0
    x, _, _ = _states(rng, n)
    A = rng.normal(size=(n, 6, 6)) * np.array([60.0, 60.0, 60.0, 6.0, 6.0, 6.0])[:, None]
    P = A @ A.transpose(0, 2, 1)  # correlated position and velocity errors
    dt = rng.uniform(-2.0, 20.0, n)
    s_pos = np.sqrt(np.trace(P[:, :3, :3], axis1=1, axis2=2))
    s_vel = np.sqrt(np.trace(P[:, 3:, 3:], axis1=1, axis2=2))
    _, radius = kernels.track_balls(x, s_pos**2, s_vel**2, -dt, np.ones(n, bool), 0.0, 0.0, k,
                                    q, 0.0)
    _, Pp, _ = imm_predict(x[:, None], P[:, None], np.ones((n, 1)), dt,
                           [MotionModel(omega=0.0, q=q)], np.array([60.0, 20.0]))
    sigma = np.sqrt(np.trace(Pp[:, 0, :3, :3], axis1=1, axis2=2))
    assert np.all(radius >= k * sigma * (1.0 - 1e-12))
    linear = k * (s_pos + s_vel * np.abs(dt) + np.sqrt(q * np.abs(dt) ** 3))
    assert np.all(radius <= linear * (1.0 + 1e-12))
    assert np.median(radius / linear) < 0.9, np.median(radius / linear)

def _stonesoup_update(
    x: Array, P: Array, z: Array, R: Array, site: Array, unscented: bool
) -> tuple[Array, Array]:
    from datetime import datetime

    from stonesoup.models.measurement.nonlinear import CartesianToElevationBearingRange
    from stonesoup.types.detection import Detection
    from stonesoup.types.hypothesis import SingleHypothesis
    from stonesoup.types.prediction import GaussianStatePrediction
    from stonesoup.updater.kalman import ExtendedKalmanUpdater, UnscentedKalmanUpdater

    order = [0, 3, 1, 4, 2, 5]  # ours [x y z vx vy vz] -> Stone Soup [x vx y vy z vz]
    model = CartesianToElevationBearingRange(
        ndim_state=6, mapping=(0, 2, 4), noise_covar=R[[2, 1, 0]][:, [2, 1, 0]],
        translation_offset=np.array([[site[0]], [site[1]], [site[2]]]))
    now = datetime(2026, 1, 1)
    pred = GaussianStatePrediction(x[order].reshape(6, 1), P[np.ix_(order, order)], now)
    det = Detection(np.array([[z[2]], [z[1]], [z[0]]]), timestamp=now, measurement_model=model)
    updater = (UnscentedKalmanUpdater(model, alpha=1.0, beta=2.0, kappa=0.0) if unscented
               else ExtendedKalmanUpdater(model))
    post = updater.update(SingleHypothesis(pred, det))
    back = np.argsort(order)
    return (np.asarray(post.state_vector, float).ravel()[back],
            np.asarray(post.covar, float)[np.ix_(back, back)])


@pytest.mark.parametrize("filter_kind", list(filters.FilterKind))
def test_radar_update_matches_stone_soup(filter_kind: filters.FilterKind) -> None:
    rng = np.random.default_rng(5)
    cols = np.arange(3)
    for _ in range(10):
        site = rng.uniform(-1e3, 1e3, 3)
        x = np.concatenate([site + np.append(rng.uniform(2e4, 8e4, 2) * rng.choice([-1, 1], 2),
                                             rng.uniform(1e3, 9e3)), rng.uniform(-200, 200, 3)])
        A = rng.normal(size=(6, 6))
        P = A @ A.T + np.diag([1e4, 1e4, 1e4, 100, 100, 100])
        R = np.diag([30.0**2, 0.002**2, 0.003**2])
        rot = PERM[None]
        zt = measurement.predict(SensorKind.RADAR, x[None], site[None], rot)[0, :3]
        z = zt + rng.normal(size=3) * np.sqrt(np.diag(R))
        lin = filters.linearise(filter_kind, SensorKind.RADAR, cols, x[None], P[None],
                                site[None], rot, R[None])
        y = filters.residual(SensorKind.RADAR, cols, z[None], lin.zhat)
        ours_x, ours_P = filters.joseph_update(x[None], P[None], y, lin)
        ref_x, ref_P = _stonesoup_update(x, P, z, R, site, filter_kind is filters.FilterKind.UKF)
        # Stone Soup differentiates numerically: agree to 1e-3 of a posterior sigma (state)
        # and 1e-2 of the product of sigmas (covariance); a wrong formula is off by O(1).
        sd = np.sqrt(np.diag(ref_P))
        np.testing.assert_array_less(np.abs(ours_x[0] - ref_x), 1e-3 * sd)
        np.testing.assert_array_less(np.abs(ours_P[0] - ref_P), 1e-2 * np.outer(sd, sd))
        assert np.all(np.linalg.eigvalsh(ours_P[0]) > 0)


def test_linear_update_is_the_closed_form_kalman_filter() -> None:
    rng = np.random.default_rng(6)
    x, _, _ = _states(rng, 30)
    A = rng.normal(size=(30, 6, 6))
    P = A @ A.transpose(0, 2, 1) + np.eye(6)
    z = x + rng.normal(size=(30, 6)) * 10
    R = np.broadcast_to(np.diag([25.0, 25, 36, 1, 1, 2]), (30, 6, 6)).copy()
    cols = np.arange(6)
    eye = np.broadcast_to(np.eye(6), (30, 6, 6))
    lin = filters.ekf_linearise(SensorKind.ADSB, cols, x, P, eye[:, :3, :3], eye[:, :3, :3], R)
    xu, Pu = filters.joseph_update(x, P, z - x, lin)
    K = P @ np.linalg.inv(P + R)  # H = I: K = P (P + R)^-1
    np.testing.assert_allclose(xu, x + np.einsum("kab,kb->ka", K, z - x), rtol=1e-12)
    np.testing.assert_allclose(Pu, (np.eye(6) - K) @ P, rtol=1e-8, atol=1e-10)
