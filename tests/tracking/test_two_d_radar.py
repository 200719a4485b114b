"""2-D radar plots (range, azimuth, optional range-rate, no elevation) update tracks."""

from __future__ import annotations

import numpy as np

from airpicture.messages import SensorKind
from airpicture.plot_table import KIND_CODE, PlotTable
from airpicture.tracking import REASONS, Tracker, TrackerConfig
from airpicture.tracking.state import CONFIRMED

from . import synth

T0 = 1.7e9
N = 12
SCANS = 30


def _scene(seed: int) -> tuple[synth.Trajectory, synth.Scan]:
    rng = np.random.default_rng(seed)
    ang = rng.uniform(0, 2 * np.pi, N)
    dist = rng.uniform(3e4, 1.5e5, N)
    p0 = np.column_stack([dist * np.sin(ang), dist * np.cos(ang), rng.uniform(2e3, 1e4, N)])
    v0 = np.column_stack([rng.uniform(-200, 200, (N, 2)), np.zeros(N)])
    traj = synth.linear(p0, v0)
    return traj, synth.radar_scans(traj, SCANS, rng, range_rate=True, t0=T0)


def _horizontal_errors(tracker: Tracker, traj: synth.Trajectory) -> tuple[np.ndarray, int]:
    """Horizontal error (m) of the confirmed track nearest each target; confirmed count."""
    t = tracker.tracks
    t = t.take(t.status == CONFIRMED)
    xc = np.einsum("nr,nra->na", t.mu, t.x)
    errors = []
    for i in range(N):
        truth = synth.to_ecef(traj((t.time[:, None] - T0) * np.ones((1, N)))[:, i])
        d = xc[:, :3] - truth[:, :3]
        up = truth[:, :3] / np.linalg.norm(truth[:, :3], axis=1, keepdims=True)
        horiz = d - np.einsum("ka,ka->k", d, up)[:, None] * up
        errors.append(float(np.linalg.norm(horiz, axis=1).min()))
    return np.array(errors), len(t)


def _run(plots: PlotTable) -> Tracker:
    tracker = Tracker(TrackerConfig(sensors=[synth.radar()], lag_s=0.0))
    tracker.process(plots, now=float(plots.time.max()))
    tracker.flush()
    return tracker


def test_two_d_radar_plots_update_tracks_nearly_as_well_as_three_d() -> None:
    err3, err2 = [], []
    for seed in (1, 2, 3):
        traj, scan = _scene(seed)
        full = _run(scan.plots)
        flat = scan.plots.take(np.arange(len(scan.plots)))
        late = flat.time >= T0 + 3 * 5.0  # three 3-D scans start the tracks, then 2-D only
        flat.z[late, 2] = np.nan
        flat.sigma[late, 2] = np.nan
        two_d = _run(flat)
        assert two_d.rejected.sum() == 0  # NaN elevation is not a missing component
        e3, n3 = _horizontal_errors(full, traj)
        e2, n2 = _horizontal_errors(two_d, traj)
        assert n3 == N and n2 == N  # every target held, by one confirmed track
        err3.append(e3)
        err2.append(e2)
    rms3 = float(np.sqrt(np.mean(np.concatenate(err3) ** 2)))
    rms2 = float(np.sqrt(np.mean(np.concatenate(err2) ** 2)))
    assert rms3 < 150.0
    assert rms2 < 1.25 * rms3 + 25.0, (rms2, rms3)


def test_two_d_radar_plots_alone_never_start_tracks() -> None:
    _, scan = _scene(4)
    flat = scan.plots.take(np.arange(len(scan.plots)))
    flat.z[:, 2] = np.nan
    flat.sigma[:, 2] = np.nan
    tracker = _run(flat)
    assert tracker.rejected.sum() == 0
    assert len(tracker.tracks) == 0


def test_radar_plots_without_range_or_azimuth_are_still_rejected() -> None:
    bad = PlotTable.blank(4)
    bad.time[:] = T0
    bad.kind[:] = KIND_CODE[SensorKind.RADAR]
    bad.z[:, :3] = [5e4, 1.0, np.nan]
    bad.sigma[:, :3] = synth.RADAR_SIGMA[:3]
    bad.z[0, 0] = np.nan
    bad.z[1, 1] = np.nan
    bad.z[2, 3] = 40.0  # 2-D with range-rate: valid
    bad.sigma[2, 3] = 1.0
    tracker = Tracker(TrackerConfig(sensors=[synth.radar()], lag_s=0.0))
    out = tracker.process(bad, now=T0)
    assert out.rejected[REASONS.index("missing_component"), 0] == 2
    assert out.rejected.sum() == 2
