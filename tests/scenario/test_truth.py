"""Truth trajectories: airliners fly an airliner's envelope, non-cooperative objects turn at up
to 5 g, recorded flights keep their shape when moved and time-shifted."""

from __future__ import annotations

from pathlib import Path

import msgspec
import numpy as np
import pytest

from airpicture import geo
from airpicture.scenario.config import load_scenario, with_duration
from airpicture.scenario.kinematics import G
from airpicture.scenario.recorded import load_flights, relocate
from airpicture.scenario.simulator import Simulation

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "traffic_samples"


def _run_truth(airliners: int, noncoop: int, seconds: float) -> tuple[np.ndarray, ...]:
    sc = with_duration(load_scenario("western-pacific"), seconds)
    sc = msgspec.structs.replace(sc, traffic=msgspec.structs.replace(
        sc.traffic, airliners=airliners, noncooperative=noncoop, recorded=None,
        airborne_fraction=0.5))
    sim = Simulation(sc, 4, None)
    vel, act, llh = [], [], []
    for step in sim.truth.steps():
        vel.append(step.velocity)
        act.append(step.active)
        llh.append(step.llh)
    return np.array(vel), np.array(act), np.array(llh), sim.objects.cls


def test_manoeuvres_reach_but_never_exceed_5_g_and_airliners_stay_civil() -> None:
    vel, act, llh, cls = _run_truth(300, 60, 600.0)
    both = act[1:] & act[:-1]
    accel = np.linalg.norm(vel[1:] - vel[:-1], axis=2)  # 1 s steps: m/s^2
    accel = np.where(both, accel, 0.0)
    peak = accel.max(axis=0)
    noncoop = cls == 2
    assert peak[noncoop].max() <= 5.0 * G * 1.03
    assert np.sum(peak[noncoop] > 3.0 * G) >= 5  # several objects pull more than 3 g
    airliner = cls == 0
    # Bank-limited (25 deg) turns and gentle speed changes: well under 0.6 g.
    assert peak[airliner].max() < 0.6 * G
    speed = np.linalg.norm(vel, axis=2)
    assert speed[act & airliner[None, :]].max() < 260.0
    height = llh[:, :, 2]
    assert height[act & airliner[None, :]].max() < 12_600.0
    # Departures climb from their runway to above 3 km within the run.
    started_low = (height[0] < 100) | ~act[0]
    climbed = np.any(height * act > 3000, axis=0)
    assert np.sum(airliner & started_low & climbed) >= 10


@pytest.mark.skipif(not (DATA / "quickstart.json.gz").is_file(),
                    reason="../shared/data/traffic_samples/quickstart.json.gz not present")
def test_recorded_flight_keeps_its_shape_when_relocated() -> None:
    flights = load_flights(DATA / "quickstart.json.gz", 900.0)
    assert len(flights) > 50
    f = max(flights, key=lambda x: x.time[-1] - x.time[0])
    moved = relocate(f, np.radians([13.48, 144.80]))
    assert np.degrees(moved.llh[0, :2]) == pytest.approx([13.48, 144.80], abs=1e-9)

    def legs(llh: np.ndarray) -> np.ndarray:
        return np.linalg.norm(np.diff(geo.geodetic2ecef(llh), axis=0), axis=1)

    # Successive distances agree within 0.5 % (the flight spans a few hundred km).
    a, b = legs(f.llh), legs(moved.llh)
    big = a > 50.0
    assert np.abs(b[big] / a[big] - 1).max() < 5e-3
    # Heights survive the move to within metres (the earth curves differently there).
    assert np.abs(moved.llh[:, 2] - f.llh[:, 2]).max() < 2.0
