"""Tracker behaviour: late plots, bad plots, identities, ESM, pre-gate and GNN cross-checks."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from airpicture.messages import SensorKind, TrackStatus
from airpicture.plot_table import KIND_CODE, PlotTable
from airpicture.track_table import STATUS_CODES, TrackTable
from airpicture.tracking import REASONS, Association, Tracker, TrackerConfig, scan
from airpicture.tracking.association import SMALL_CLUSTER, gnn
from airpicture.tracking.gating import candidate_pairs
from airpicture.tracking.pairs import Pairs
from airpicture.tracking.state import TrackArrays

from . import synth

CONFIRMED = STATUS_CODES.index(TrackStatus.CONFIRMED)


def _scene(seed: int = 11, n: int = 8, scans: int = 12) -> synth.Scan:
    rng = np.random.default_rng(seed)
    p0 = np.column_stack([rng.uniform(-8e4, 8e4, (n, 2)), rng.uniform(2e3, 1e4, n)])
    v0 = np.column_stack([rng.uniform(-200, 200, (n, 2)), np.zeros(n)])
    return synth.radar_scans(synth.linear(p0, v0), scans, rng, pd=0.9, clutter=3.0)


def test_late_plots_within_the_lag_give_the_in_order_result() -> None:
    plots = _scene().plots
    cfg = TrackerConfig(sensors=[synth.radar()], lag_s=12.0)
    ordered = Tracker(cfg)
    for t in np.arange(1.7e9, plots.time.max() + 10, 10.0):
        ordered.process(plots.take((plots.time >= t) & (plots.time < t + 10)))
    ordered.flush()
    rng = np.random.default_rng(3)
    late = rng.random(len(plots)) < 0.15  # each of these arrives one chunk (10 s) later
    shuffled = Tracker(cfg)
    held = PlotTable.empty()
    for t in np.arange(1.7e9, plots.time.max() + 10, 10.0):
        now = plots.take((plots.time >= t) & (plots.time < t + 10))
        mask = late[(plots.time >= t) & (plots.time < t + 10)]
        shuffled.process(PlotTable.concat([now.take(~mask), held]))
        held = now.take(mask)
    shuffled.process(held)
    shuffled.flush()
    assert late.sum() > 10 and shuffled.rejected[REASONS.index("late")].sum() == 0
    a, b = ordered.tracks, shuffled.tracks
    np.testing.assert_array_equal(a.id, b.id)
    np.testing.assert_array_equal(a.status, b.status)
    np.testing.assert_allclose(b.x, a.x, rtol=1e-6)
    np.testing.assert_allclose(b.P, a.P, rtol=1e-6, atol=1e-9)


def test_plots_older_than_the_lag_are_counted_late() -> None:
    plots = _scene().plots
    tracker = Tracker(TrackerConfig(sensors=[synth.radar()], lag_s=2.0))
    tracker.process(plots.take(plots.time >= 1.7e9 + 20))
    out = tracker.process(plots.take(plots.time < 1.7e9 + 10))
    assert out.rejected[REASONS.index("late"), 0] == (plots.time < 1.7e9 + 10).sum()


def test_bad_plots_are_rejected_counted_per_sensor_and_the_rest_flows() -> None:
    good = _scene().plots
    sensors = [synth.radar(), synth.radar(id="r2")]
    bad = PlotTable.blank(7)
    bad.time[:] = good.time[:7]
    bad.kind[:] = KIND_CODE[SensorKind.RADAR]
    bad.z[:, :3] = [5e4, 1.0, 0.05]
    bad.sigma[:, :3] = synth.RADAR_SIGMA[:3]
    bad.sensor[:] = [0, 1, 1, 0, 9, 0, 1]
    bad.z[0, 0] = np.nan
    bad.z[1, 1] = np.inf
    bad.z[2, 0] = -10.0
    bad.z[3, 1] = 7.0
    bad.time[5] += 1e6
    bad.sigma[6, 2] = -1.0
    cfg = TrackerConfig(sensors=sensors, lag_s=0.0)
    clean, dirty = Tracker(cfg), Tracker(cfg)
    a = clean.process(good)
    b = dirty.process(PlotTable.concat([good, bad]))
    expected = {
        ("missing_component", 0): 1, ("non_finite", 1): 1, ("negative_range", 1): 1,
        ("azimuth_range", 0): 1, ("unknown_sensor", 2): 1, ("future", 0): 1,
        ("bad_sigma", 1): 1,
    }
    got = {(REASONS[r], s): int(b.rejected[r, s])
           for r, s in zip(*np.nonzero(b.rejected), strict=True)}
    assert got == expected
    assert a.tracks.equals(b.tracks)


def test_one_call_with_a_long_recording_uses_all_of_it_and_still_rejects_the_future() -> None:
    plots = _scene(scans=60).plots  # 300 s of scans: far more than max_future_s past the median
    cfg = TrackerConfig(sensors=[synth.radar()], lag_s=0.0)
    chunked = Tracker(cfg)
    for t in np.arange(1.7e9, plots.time.max() + 10, 10.0):
        chunked.process(plots.take((plots.time >= t) & (plots.time < t + 10)), now=t + 10)
    chunked.flush()
    forged = plots.take(np.arange(1))
    forged.time[:] = plots.time.max() + 1e6
    whole = Tracker(cfg)
    out = whole.process(PlotTable.concat([plots, forged]))
    whole.flush()
    assert plots.time.max() - np.median(plots.time) > 2 * cfg.max_future_s
    assert out.rejected.sum() == out.rejected[REASONS.index("future"), 0] == 1
    a, b = chunked.tracks, whole.tracks
    np.testing.assert_array_equal(a.id, b.id)
    np.testing.assert_allclose(b.x, a.x, rtol=1e-9)


def test_adsb_identity_is_adopted_and_esm_never_initiates() -> None:
    rng = np.random.default_rng(12)
    scan = synth.radar_scans(synth.linear(np.array([[2e4, 4e4, 8e3]]),
                                          np.array([[150.0, 0.0, 0.0]])), 8, rng)
    truth = scan.truth_ecef
    adsb = PlotTable.blank(len(truth))
    adsb.time[:] = scan.plots.time + 0.5
    adsb.sensor[:] = 1
    adsb.kind[:] = KIND_CODE[SensorKind.ADSB]
    adsb.z[:, :3] = truth[:, :3]
    adsb.sigma[:, :3] = 30.0
    adsb.icao[:] = 0xABC123
    esm = PlotTable.blank(20)
    esm.time[:] = 1.7e9 + np.arange(20) * 2.0
    esm.sensor[:] = 2
    esm.kind[:] = KIND_CODE[SensorKind.ESM]
    esm.z[:, 0] = rng.uniform(0, 6, 20)
    esm.sigma[:, 0] = 0.01
    sensors = [synth.radar(), synth.radar(id="a1", kind=SensorKind.ADSB, period=5.0),
               synth.radar(id="e1", kind=SensorKind.ESM, period=2.0)]
    only_esm = Tracker(TrackerConfig(sensors=sensors, lag_s=0.0))
    only_esm.process(esm)
    only_esm.flush()
    assert len(only_esm.tracks) == 0
    tracker = Tracker(TrackerConfig(sensors=sensors, lag_s=0.0))
    tracker.process(PlotTable.concat([scan.plots, adsb, esm]))
    tracker.flush()
    assert len(tracker.tracks) == 1
    assert tracker.tracks.icao[0] == 0xABC123
    assert int(tracker.tracks.sensors[0]) & 0b11 == 0b11


def test_pregate_finds_exactly_the_brute_force_pairs() -> None:
    rng = np.random.default_rng(13)
    for d in (2, 3):
        tracks = rng.uniform(0, 1e5, (400, d))
        plots = rng.uniform(0, 1e5, (150, d))
        rt = rng.exponential(2e3, 400)
        rp = rng.uniform(100, 1500, 150)
        t, p = candidate_pairs(tracks, rt, plots, rp)
        dist = np.linalg.norm(tracks[:, None] - plots[None], axis=2)
        bt, bp = np.nonzero(dist <= rt[:, None] + rp[None])
        assert set(zip(t.tolist(), p.tolist(), strict=True)) == set(
            zip(bt.tolist(), bp.tolist(), strict=True))
        np.testing.assert_array_equal(np.lexsort((t, p)), np.arange(len(t)))  # plot, track


def test_gnn_matches_brute_force_on_small_problems() -> None:
    rng = np.random.default_rng(14)
    for _ in range(40):
        nt, npl = rng.integers(1, 5), rng.integers(1, 5)
        mask = rng.random((nt, npl)) < 0.6
        ti, pj = np.nonzero(mask)
        cost = rng.uniform(0, 10, len(ti))
        miss = np.full(len(ti), 12.0)
        chosen, _ = gnn(ti.astype(np.intp), pj.astype(np.intp), cost, miss)
        C = np.full((nt, npl), np.inf)
        C[ti, pj] = cost
        best = np.inf
        for assign in itertools.product(range(-1, npl), repeat=int(nt)):
            used = [a for a in assign if a >= 0]
            if len(used) != len(set(used)):
                continue
            total = sum(C[i, a] if a >= 0 else 12.0 for i, a in enumerate(assign))
            best = min(best, total)
        got = cost[chosen].sum() + 12.0 * (nt - len(chosen))
        assert np.isclose(got, best)
        assert len(np.unique(ti[chosen])) == len(chosen) == len(np.unique(pj[chosen]))


def test_compiled_gnn_equals_scipy_assignment_on_random_clusters() -> None:
    rng = np.random.default_rng(15)
    for _ in range(60):
        nt, npl = int(rng.integers(2, SMALL_CLUSTER + 1)), int(rng.integers(1, 40))
        ti, pj = np.nonzero(rng.random((nt, npl)) < 0.5)
        if len(ti) == 0:
            continue
        cost = rng.uniform(0, 10, len(ti))
        miss = cost + rng.uniform(0, 5, len(ti))
        fast, _ = gnn(ti.astype(np.intp), pj.astype(np.intp), cost, miss)
        ref, _ = gnn(ti.astype(np.intp), pj.astype(np.intp), cost, miss, max_tracks=0)
        np.testing.assert_array_equal(fast, ref)


def _assert_summaries_fresh(tracker: Tracker) -> None:
    """The cached combined state and variances equal a recomputation from x, P, mu."""
    t = tracker.tracks
    fresh = t.copy()
    fresh.refresh()
    np.testing.assert_array_equal(t.xc, fresh.xc)
    np.testing.assert_array_equal(t.pos_var, fresh.pos_var)
    np.testing.assert_array_equal(t.vel_var, fresh.vel_var)


@pytest.mark.parametrize("association", list(Association))
def test_cached_track_summaries_follow_every_update(association: Association) -> None:
    plots = _scene(n=12).plots
    flat = plots.take(plots.time > 1.7e9 + 30.0)  # a 2-D radar: height held by pseudo-plots
    flat.z[:, 2] = np.nan
    flat.sensor[:] = 1
    late = Tracker(TrackerConfig(sensors=[synth.radar(), synth.radar(id="r2")], lag_s=12.0,
                                 association=association))
    late.process(plots.take(plots.time >= 1.7e9 + 20.0))
    late.process(PlotTable.concat([plots.take(plots.time < 1.7e9 + 20.0), flat]))  # roll back
    late.flush()
    assert len(late.tracks) >= 8
    _assert_summaries_fresh(late)


def _adsb_plots(truth: np.ndarray, times: np.ndarray, icao: int) -> PlotTable:
    adsb = PlotTable.blank(len(times))
    adsb.time[:] = times
    adsb.sensor[:] = 1
    adsb.kind[:] = KIND_CODE[SensorKind.ADSB]
    adsb.z[:, :3] = truth[:, :3]
    adsb.sigma[:, :3] = 30.0
    adsb.icao[:] = icao
    return adsb


def test_one_track_per_address_and_a_stray_radar_plot_starts_no_dual_track() -> None:
    """An aircraft tracked by ADS-B (1 s) and a radar (5 s). One ADS-B report jumps 3 km (out
    of its track's gate) and one radar plot lies 8 sigma off in azimuth (out of the gate; it
    starts a tentative track). The jump must not start a second track of the address, and the
    stray plot's track must not be confirmed: one confirmed track throughout."""
    traj = synth.linear(np.array([[2e4, 4e4, 8e3]]), np.array([[150.0, 50.0, 0.0]]))
    rng = np.random.default_rng(16)
    radar = synth.radar_scans(traj, 24, rng).plots
    radar.z[8, 1] += 8 * synth.RADAR_SIGMA[1]
    t = 1.7e9 + np.arange(0.3, 119.0, 1.0)
    adsb = _adsb_plots(synth.to_ecef(traj(t[:, None] - 1.7e9))[:, 0], t, 0xABC123)
    adsb.z[60, 0] += 3000.0
    sensors = [synth.radar(), synth.radar(id="a1", kind=SensorKind.ADSB, period=1.0)]
    tracker = Tracker(TrackerConfig(sensors=sensors, lag_s=0.0))
    rows = TrackTable.concat([tracker.process(PlotTable.concat([radar, adsb])).tracks,
                              tracker.flush().tracks])
    assert len(np.unique(rows.track[rows.icao == 0xABC123])) == 1
    confirmed = rows.take(rows.status == CONFIRMED)
    assert len(np.unique(confirmed.track)) == 1, np.unique(confirmed.track)
    assert len(np.unique(rows.track)) == 2  # the stray plot's tentative track, deleted


def test_competing_tracks_are_ranked_by_likelihood_not_by_distance() -> None:
    """One plot in the gates of a sharp track (d2 4, log det S 10) and of a vague one (d2 1,
    log det S 25, e.g. started by one plot): the sharp one is more likely (4 + 10 < 1 + 25)
    and takes it. A miss cost of each track's own gate + log det S would cancel log det S and
    hand the plot to the smaller d2 (the vague track: a dual track in the making)."""
    tracks = TrackArrays.blank(2, 1)
    tracks.status[:] = CONFIRMED
    plots = PlotTable.blank(1)
    pairs = Pairs(np.array([0, 1]), np.array([0, 0]), np.zeros((2, 1, 6)),
                  np.zeros((2, 1, 6, 6)), np.ones((2, 1)), np.array([4.0, 1.0]),
                  np.array([10.0, 25.0]), np.full(2, 17.7))
    chosen = scan._associate(tracks, plots, pairs)
    assert pairs.track[chosen].tolist() == [0]
    alone = scan._associate(tracks, plots, pairs.take(np.array([1])))
    assert alone.tolist() == [0]  # a track alone in its cluster takes its gated plot
