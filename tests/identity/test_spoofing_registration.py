"""ADS-B spoofing over a 1-hour run, and registration of two biased radars."""

from __future__ import annotations

import numpy as np
import pytest

from airpicture.fusion import FusionConfig, Picture
from airpicture.fusion.registration import Registration
from airpicture.fusion.spoofing import SpoofingMonitor
from airpicture.messages import SensorKind
from airpicture.plot_table import KIND_CODE, PlotTable
from airpicture.track_table import TrackTable
from airpicture.tracking import Tracker, TrackerConfig

from . import scenes

SPOOF = '\n[[events]]\nkind = "spoof"\nobject = 3\ntime_s = 120.0\noffset_m = [0.0, 2000.0]\n'


@pytest.mark.slow
def test_a_spoofed_aircraft_is_flagged_within_30_s_and_honest_ones_never_in_an_hour() -> None:
    sc = scenes.scenario(3600.0, airliners=12, noncoop=3, extra=SPOOF)
    sim, sink = scenes.simulate(sc, seed=3)
    t0 = sc.scenario.start.timestamp()
    monitor = SpoofingMonitor(sim.sensor_infos)
    flags = []
    for batch in scenes.chunks(sink.plot_parts, 5.0):
        f = monitor.update(batch)
        flags += [(int(i), float(t) - t0, float(s)) for i, t, s in
                  zip(f.icao, f.time, f.sigma, strict=True)]
    spoofed = int(sim.objects.icao[3])
    assert [f[0] for f in flags] == [spoofed], flags
    assert 120.0 <= flags[0][1] <= 150.0
    assert flags[0][2] > 10.0  # 2 km is many sigma
    # Radar-ADS-B pairs judged over the hour (seed 3: 2316). Primary plots pair with each
    # aircraft's newest report only, so in these 5-s batches the plots more than max_dt_s
    # before it go unjudged (3107 when they paired with any report).
    assert monitor.samples > 2000


def _dual_tracks(picture: TrackTable, truth_pos: np.ndarray, gate_m: float = 3000.0) -> int:
    """Objects with two or more system tracks whose nearest object they are, within gate."""
    if len(picture) == 0:
        return 0
    d = np.linalg.norm(picture.state[:, None, :3] - truth_pos[None, :, :], axis=2)
    nearest = np.argmin(d, axis=1)
    ok = d[np.arange(len(picture)), nearest] < gate_m
    counts = np.bincount(nearest[ok], minlength=len(truth_pos))
    return int(np.count_nonzero(counts >= 2))


def _picture_duals(sim: scenes.Simulation, sink: scenes.Collect, batches: list[PlotTable],
                   t_from: float) -> int:
    """Per-nation radar-only trackers, fused; the dual-track count summed over epochs from
    ``t_from`` (one epoch every 10 s).

    The trackers are constant-velocity only, so the count measures registration alone: the
    default IMM's turn models still leave a few dual-track epochs with no bias at all (a
    manoeuvring object seen by two nations' 10 s radars; seeds 5/6/7: 0/3/1), which would
    hide what registration does."""
    infos = sim.sensor_infos
    radar = KIND_CODE[SensorKind.RADAR]
    trackers = {}
    for nation in ("AAA", "BBB"):
        idx = [i for i, s in enumerate(infos) if s.nation == nation and s.kind == "radar"]
        trackers[nation] = (idx, Tracker(TrackerConfig(sensors=[infos[i] for i in idx],
                                                       nation=nation, turn_rates=())))
    truth = scenes.TruthTable.concat(sink.truth_parts)
    picture = Picture(FusionConfig(epoch_s=10.0, lateness_s=1.0))
    duals = 0
    for batch in batches:
        for idx, tracker in trackers.values():
            mine = np.flatnonzero(np.isin(batch.sensor, idx) & (batch.kind == radar))
            part = batch.take(mine)
            part.sensor[:] = np.searchsorted(idx, part.sensor)
            out = tracker.process(part).tracks
            out = out.take(out.status == 1)  # confirmed
            for result in picture.ingest(out):
                if result.time < t_from:
                    continue
                at = truth.time == np.floor(result.time)
                duals += _dual_tracks(result.picture, truth.position[at])
    return duals


@pytest.mark.slow
def test_registration_converges_within_10_percent_and_dual_tracks_vanish() -> None:
    sc = scenes.scenario(600.0, airliners=16, noncoop=0, biased=True)
    sim, sink = scenes.simulate(sc, seed=5)
    reg = Registration(sim.sensor_infos)
    batches = scenes.chunks(sink.plot_parts, 10.0)
    corrected = []
    for batch in batches:
        reg.update(batch)
        corrected.append(reg.correct(batch))
    est = reg.estimates
    for sensor in ("A-R", "B-R"):
        s = est.sensor_ids.index(sensor)
        r_off, gain, az, dt = est.theta[s]
        assert abs(r_off - 300.0) < 30.0, (sensor, r_off)
        assert abs(np.degrees(az) - 0.3) < 0.03, (sensor, np.degrees(az))
        assert abs(dt - 0.5) < 0.05, (sensor, dt)
        assert abs(gain) < 1e-4
    assert est.applied.sum() == 3  # two radars and the SSR; not the ADS-B receiver
    assert {m.sensor_id for m in est.messages()} == {"A-R", "B-R", "A-S"}
    # Dual tracks in the shared picture, over the last 5 minutes: raw plots against plots
    # corrected with the estimates as they stood when the plots came in.
    t_from = sc.scenario.start.timestamp() + 300.0
    raw = _picture_duals(sim, sink, batches, t_from)
    fixed = _picture_duals(sim, sink, corrected, t_from)
    # Measured (seed 5): 138 dual-track epochs raw, none corrected (seeds 6, 7: 97 and 192
    # raw, none corrected).
    assert raw > 50, raw
    assert fixed == 0, (raw, fixed)
