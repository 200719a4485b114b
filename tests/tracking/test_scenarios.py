"""The tracker on seeded scenes: consistency, manoeuvres, crossings, clutter and coverage."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.typing import NDArray
from scipy.stats import chi2

from airpicture import geo
from airpicture.messages import TrackStatus
from airpicture.track_table import STATUS_CODES, TrackTable
from airpicture.tracking import (
    Association,
    FilterKind,
    Logic,
    SensorParams,
    Tracker,
    TrackerConfig,
)
from airpicture.tracking.motion import white_acceleration_noise

from . import synth

Array = NDArray[np.float64]
CONFIRMED = STATUS_CODES.index(TrackStatus.CONFIRMED)
DELETED = STATUS_CODES.index(TrackStatus.DELETED)


def _run(cfg: TrackerConfig, plots: synth.PlotTable, now: float | None = None) -> TrackTable:
    tracker = Tracker(cfg)
    out = [tracker.process(plots, now=now).tracks, tracker.flush().tracks]
    return TrackTable.concat(out)


def _noisy_cv_truth(rng: np.random.Generator, times: Array, q: float) -> Array:
    """ECEF CV truth with white-noise acceleration of density ``q`` sampled at ``times``."""
    llh = synth.site_llh()
    enu = np.array([rng.uniform(3e4, 6e4), rng.uniform(3e4, 6e4), 5e3])
    vel = rng.uniform(-150, 150, 3) * [1, 1, 0]
    x = np.concatenate([geo.enu2ecef(enu, llh), geo.enu2ecefv(vel, llh[:2])])
    out = [x]
    for dt in np.diff(times):
        Q = white_acceleration_noise(np.array([dt]), q)[0]
        x = np.concatenate([x[:3] + dt * x[3:], x[3:]]) + rng.multivariate_normal(np.zeros(6), Q)
        out.append(x)
    return np.array(out)


def _radar_plots_of(truth: Array, times: Array, rng: np.random.Generator) -> synth.PlotTable:
    llh = synth.site_llh()
    aer = geo.ecef2aer(truth[:, :3], llh)
    z = np.column_stack([aer[:, 2], aer[:, 0], aer[:, 1]])
    z += rng.normal(size=z.shape) * synth.RADAR_SIGMA[:3]
    plots = synth.PlotTable.blank(len(times))
    plots.time[:] = times
    plots.z[:, :3] = z
    plots.sigma[:, :3] = synth.RADAR_SIGMA[:3]
    return plots


@pytest.mark.parametrize("filter_kind", list(FilterKind))
def test_anees_is_inside_the_95_percent_interval(filter_kind: FilterKind) -> None:
    runs, scans, q = 50, 16, 2.0
    cfg = TrackerConfig(sensors=[synth.radar()], turn_rates=(), q_cv=q, lag_s=0.0,
                        params={"r1": SensorParams(filter=filter_kind)})
    nees: list[Array] = []
    for seed in range(runs):
        rng = np.random.default_rng(seed)
        times = 1.7e9 + 5.0 * np.arange(scans) + rng.uniform(0, 5.0)
        truth = _noisy_cv_truth(rng, times, q)
        rows = _run(cfg, _radar_plots_of(truth, times, rng))
        rows = rows.take(np.unique(rows.time, return_index=True)[1])  # one row per update
        assert len(np.unique(rows.track)) == 1 and len(rows) == scans
        err = truth - rows.state
        eps = np.einsum("ka,ka->k", err, np.linalg.solve(rows.covariance, err[:, :, None])[..., 0])
        nees.append(eps[6:])  # after the one-plot prior has washed out
    anees = float(np.mean(nees))
    lo, hi = chi2.ppf([0.025, 0.975], 6 * runs) / runs
    assert lo < anees < hi, (lo, anees, hi)


def _turn(
    turn_rates: tuple[float, ...], g: float, period: float, seed: int, t_on: float, scans: int
) -> tuple[Array, Array]:
    """A target at 250 m/s turning left 180 degrees at ``g`` (9.80665 m/s^2) from ``t_on`` (s)
    on a radar of ``period`` (s): the position errors (m) of the target's first track at the
    plots from ``t_on - 10`` s on (extrapolated from its last update once it lost the target),
    and the ids of all tracks ever confirmed."""
    speed = 250.0
    omega = g * 9.80665 / speed
    rng = np.random.default_rng(seed)
    traj = synth.turning(np.array([[-2e4, 3e4, 6e3]]), np.array([[speed, 0.0, 0.0]]),
                         t_on=t_on, t_off=t_on + math.pi / omega, omega=omega)
    scan = synth.radar_scans(traj, scans, rng, period=period)
    cfg = TrackerConfig(sensors=[synth.radar(period=period)], turn_rates=turn_rates,
                        q_cv=1.0, lag_s=0.0)
    rows = _run(cfg, scan.plots, now=float(scan.plots.time.max()))
    first = rows.take(rows.track == rows.track[0])  # the track that saw the turn coming
    t_eval = scan.plots.time[scan.plots.time > 1.7e9 + t_on - 10.0]
    last = np.searchsorted(first.time, t_eval, "right") - 1
    dt = (t_eval - first.time[last])[:, None]
    est = first.state[last, :3] + dt * first.state[last, 3:]  # coasts if it lost the target
    truth = scan.truth_ecef[np.searchsorted(scan.plots.time, t_eval)]
    confirmed = np.unique(rows.track[rows.status == CONFIRMED])
    return np.linalg.norm(est - truth[:, :3], axis=1), confirmed


def _turn_errors(turn_rates: tuple[float, ...], seeds: range) -> Array:
    """Mean errors (m) over ``seeds`` of a 4 g turn at 60 s on a 2 s radar (:func:`_turn`)."""
    return np.mean([_turn(turn_rates, 4.0, 2.0, seed, 60.0, 70)[0] for seed in seeds], axis=0)


def test_imm_halves_the_peak_error_of_cv_in_a_4g_turn() -> None:
    """Measured peak of the mean error: CV 35 km (it loses the target), IMM 103 m."""
    cv = _turn_errors((), range(4))
    imm = _turn_errors(TrackerConfig(sensors=[]).turn_rates, range(4))
    assert imm.max() <= 0.5 * cv.max(), (imm.max(), cv.max())


def test_imm_holds_a_2g_turn_on_a_10_s_radar() -> None:
    """A 2 g turn at 250 m/s (0.078 rad/s, 45 degrees a scan) lies between CV and the turn
    models, whose predictions miss each plot by hundreds of metres. With turns at +-0.15
    rad/s and a turn noise of 50 m^2/s^3, the IMM flipped between CV and the turn at every
    scan, the turn mode carried the velocity on turning after the turn ended, no model gated
    the next plot, and the track was lost (a second track confirmed) in 3 of these 6 runs,
    peak errors 17 km. Measured now: one track each, peak errors 100-165 m (at most 210 m
    over 20 runs)."""
    rates = TrackerConfig(sensors=[]).turn_rates
    for seed in range(6):
        errors, confirmed = _turn(rates, 2.0, 10.0, seed, 100.0 + 1.5 * seed, 25)
        assert len(confirmed) == 1, (seed, confirmed)
        assert errors.max() < 500.0, (seed, errors.max())


def test_crossing_targets_keep_their_track_numbers() -> None:
    rng = np.random.default_rng(7)
    ang = math.radians(20.0)
    v = 200.0 * np.array([[math.cos(ang), math.sin(ang), 0.0], [math.cos(ang), -math.sin(ang),
                                                                 0.0]])
    p0 = np.array([[3e4, 5e4, 7e3], [3e4, 5e4, 7e3]]) - 100.0 * v  # cross after 100 s
    traj = synth.linear(p0, v)
    scan = synth.radar_scans(traj, 40, rng)
    tracker = Tracker(TrackerConfig(sensors=[synth.radar()], lag_s=0.0))
    owners = []
    for k in range(3, 40):
        t = 1.7e9 + 5.0 * k
        tracker.process(scan.plots.take(scan.plots.time < t), now=t)
        tracker.flush()
        scan = synth.Scan(scan.plots.take(scan.plots.time >= t), scan.truth_ecef)
        truth = synth.to_ecef(traj(np.full((1, 2), 5.0 * k)))[0]
        if np.linalg.norm(truth[0, :3] - truth[1, :3]) < 2e3:
            continue  # the two are one blob: nearest is undefined
        pic = tracker.picture(t)
        d = np.linalg.norm(pic.state[None, :, :3] - truth[:, None, :3], axis=2)
        owners.append(pic.track[d.argmin(axis=1)])
    owners_arr = np.array(owners)
    assert len(owners_arr) >= 30
    assert len(np.unique(owners_arr[:, 0])) == 1 and len(np.unique(owners_arr[:, 1])) == 1
    assert owners_arr[0, 0] != owners_arr[0, 1]


@pytest.mark.parametrize("logic", list(Logic))
def test_clutter_makes_under_one_percent_false_confirmed_tracks(logic: Logic) -> None:
    rng = np.random.default_rng(8)
    n = 30
    p0 = np.column_stack([rng.uniform(-1e5, 1e5, (n, 2)), rng.uniform(2e3, 1e4, n)])
    v0 = np.column_stack([rng.uniform(-200, 200, (n, 2)), np.zeros(n)])
    scan = synth.radar_scans(synth.linear(p0, v0), 60, rng, pd=0.9, clutter=10.0)
    rows = _run(TrackerConfig(sensors=[synth.radar()], logic=logic, lag_s=0.0), scan.plots)
    confirmed = np.unique(rows.track[rows.status == CONFIRMED])
    truth = synth.linear(p0, v0)
    t_rel = rows.time - 1.7e9
    near = np.zeros(len(rows), bool)
    for k in range(len(rows)):  # test-side scoring only
        pos = synth.to_ecef(truth(np.full((1, n), t_rel[k])))[0, :, :3]
        near[k] = np.linalg.norm(pos - rows.state[k, :3], axis=1).min() < 2e3
    false_ids = [t for t in confirmed if not near[rows.track == t].mean() > 0.5]
    clutter_plots = int((scan.plots.truth < 0).sum())
    assert clutter_plots > 500
    assert len(false_ids) < 0.01 * len(confirmed), false_ids
    assert len(confirmed) >= n


def _false_confirmed(association: Association, clutter: float, seed: int = 8) -> tuple[int, int]:
    """Confirmed tracks that stay more than 2 km from every target most of their life, and all
    confirmed tracks, for 30 targets over 30 scans at ``clutter`` false plots per scan."""
    rng = np.random.default_rng(seed)
    n = 30
    p0 = np.column_stack([rng.uniform(-1e5, 1e5, (n, 2)), rng.uniform(2e3, 1e4, n)])
    v0 = np.column_stack([rng.uniform(-200, 200, (n, 2)), np.zeros(n)])
    truth = synth.linear(p0, v0)
    scan = synth.radar_scans(truth, 30, rng, pd=0.9, clutter=clutter)
    rows = _run(TrackerConfig(sensors=[synth.radar()], association=association, lag_s=0.0),
                scan.plots)
    confirmed = np.unique(rows.track[rows.status == CONFIRMED])
    pos = synth.to_ecef(truth((rows.time - 1.7e9)[:, None] * np.ones((1, n))))[:, :, :3]
    near = np.linalg.norm(pos - rows.state[:, None, :3], axis=2).min(axis=1) < 2e3
    false = [t for t in confirmed if not near[rows.track == t].mean() > 0.5]
    return len(false), len(confirmed)


def test_jpda_in_heavy_clutter_confirms_no_more_false_tracks_than_gnn() -> None:
    """100 false plots per scan (ten times the design load). Measured: GNN 0 false of 31
    confirmed, JPDA 0 of 30; before tentative tracks were kept out of the PDA update, JPDA
    confirmed 10 false tracks of 40."""
    gnn_false, gnn_confirmed = _false_confirmed(Association.GNN, 100.0)
    jpda_false, jpda_confirmed = _false_confirmed(Association.JPDA, 100.0)
    assert gnn_confirmed >= 30 and jpda_confirmed >= 30
    assert jpda_false <= max(gnn_false, 1), (jpda_false, gnn_false)
    assert jpda_false <= 0.05 * jpda_confirmed, (jpda_false, jpda_confirmed)


def test_leaving_target_is_deleted_and_entering_target_confirmed_within_m_of_n() -> None:
    rng = np.random.default_rng(9)
    cfg = TrackerConfig(sensors=[synth.radar(max_range=1e5)], lag_s=0.0, confirm_m=3,
                        confirm_n=4, delete_misses=3)
    p0 = np.array([[0.0, 9.0e4, 5e3], [0.0, -1.1e5, 5e3]])
    v0 = np.array([[0.0, 250.0, 0.0], [0.0, 250.0, 0.0]])  # one leaves, one enters at ~40 s
    scan = synth.radar_scans(synth.linear(p0, v0), 30, rng, max_range=1e5)
    rows = _run(cfg, scan.plots)
    first_seen = scan.plots.time[scan.plots.truth == 1].min()
    last_seen = scan.plots.time[scan.plots.truth == 0].max()
    confirm_t = rows.time[rows.status == CONFIRMED]
    entering = confirm_t[confirm_t > last_seen]
    assert entering.min() <= first_seen + (cfg.confirm_m - 1) * 5.0 + 1e-6
    deleted = rows.take(rows.status == DELETED)
    leaving_id = rows.track[np.argmin(np.abs(rows.time - last_seen))]
    assert leaving_id in deleted.track
    live = Tracker(cfg)
    live.process(scan.plots)
    live.flush()
    assert leaving_id not in live.tracks.id


def _position_rmse(association: Association, seed: int) -> tuple[float, int, int, int]:
    """RMSE (m) of confirmed rows within 2 km of a target after 50 s; targets held; rows far
    from every target; all rows scored."""
    rng = np.random.default_rng(seed)
    n = 6
    p0 = np.column_stack([rng.uniform(-8e4, 8e4, (n, 2)), rng.uniform(2e3, 1e4, n)])
    v0 = np.column_stack([rng.uniform(-200, 200, (n, 2)), np.zeros(n)])
    traj = synth.linear(p0, v0)
    scan = synth.radar_scans(traj, 40, rng, pd=0.9, clutter=10.0)
    rows = _run(TrackerConfig(sensors=[synth.radar()], association=association, lag_s=0.0),
                scan.plots)
    rows = rows.take((rows.status == CONFIRMED) & (rows.time > 1.7e9 + 50.0))
    truth = synth.to_ecef(traj((rows.time - 1.7e9)[:, None] * np.ones((1, n))))
    d = np.linalg.norm(truth[:, :, :3] - rows.state[:, None, :3], axis=2)
    best = d.min(axis=1)
    near = best < 2e3
    held = len(np.unique(d.argmin(axis=1)[near]))
    return float(np.sqrt(np.mean(best[near] ** 2))), held, int((~near).sum()), len(rows)


def test_jpda_in_clutter_tracks_as_well_as_gnn() -> None:
    """Measured: JPDA RMSE equals GNN's to 0.01 % (104-147 m) at 10 clutter plots per scan."""
    for seed in range(3):
        gnn_rmse, gnn_held, _, _ = _position_rmse(Association.GNN, seed)
        jpda_rmse, jpda_held, far, total = _position_rmse(Association.JPDA, seed)
        assert jpda_held == gnn_held == 6
        assert jpda_rmse <= 1.05 * gnn_rmse, (jpda_rmse, gnn_rmse)
        assert far <= 0.01 * total


def _heading_errors(turn_rates: tuple[float, ...] | None, seed: int = 17) -> Array:
    """Angles (deg) between the velocities of confirmed tracks and of their targets, 120
    straight-flying targets on a 10 s radar, at the end of scans 8 to 30."""
    rng = np.random.default_rng(seed)
    n = 120
    r = 2.4e5 * np.sqrt(rng.uniform(0.05, 1.0, n))
    th = rng.uniform(0, 2 * np.pi, n)
    p0 = np.column_stack([r * np.sin(th), r * np.cos(th), rng.uniform(1e3, 1.2e4, n)])
    v0 = np.column_stack([rng.uniform(-250, 250, (n, 2)), np.zeros(n)])
    traj = synth.linear(p0, v0)
    plots = synth.radar_scans(traj, 30, rng, period=10.0, pd=0.95).plots
    cfg = TrackerConfig(sensors=[synth.radar(period=10.0)], lag_s=0.0,
                        **({} if turn_rates is None else {"turn_rates": turn_rates}))
    tracker = Tracker(cfg)
    errors = []
    for k in range(30):
        t = 1.7e9 + 10.0 * (k + 1)
        tracker.process(plots.take((plots.time >= t - 10.0) & (plots.time < t)), now=t)
        tracker.flush()
        if k < 8:
            continue
        pic = tracker.picture(t)
        truth = synth.to_ecef(traj(np.full((1, n), t - 1.7e9)))[0]
        nearest = np.linalg.norm(pic.state[:, None, :3] - truth[None, :, :3], axis=2).argmin(1)
        v, w = pic.state[:, 3:], truth[nearest, 3:]
        cos = np.einsum("ka,ka->k", v, w) / np.linalg.norm(v, axis=1) / np.linalg.norm(w, axis=1)
        errors.append(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))))
    return np.concatenate(errors)


def test_imm_velocity_does_not_flip_on_a_10_s_radar() -> None:
    """Turns at +-0.12 rad/s swing 69 degrees between two looks of a 10 s radar: a zig-zag of
    alternating turns fits a straight flight's plots, with the velocity 34 degrees off, and an
    IMM whose mode chain lets a turn reverse at every step settles in it (heading errors of
    tens of degrees, dual tracks in the fused picture). Measured RMS heading error: CV 1.8,
    IMM 3.9 degrees (0.5 % of the errors above 20 degrees; 3.4 with turns at +-0.15 rad/s
    and a turn noise of 50 m^2/s^3, which lost 2 g turns); with the former chain (mode
    sojourn 10 s, any mode to any) 24.5 degrees (24 % above 20)."""
    cv = _heading_errors(())
    imm = _heading_errors(None)
    rms_cv, rms_imm = np.sqrt(np.mean(cv**2)), np.sqrt(np.mean(imm**2))
    assert rms_imm < 2.5 * rms_cv, (rms_imm, rms_cv)
    assert np.mean(imm > 20.0) < 0.02, np.mean(imm > 20.0)
