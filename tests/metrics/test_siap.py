"""SIAP on hand-computed worked examples, the association rules, and empty inputs."""

from __future__ import annotations

import numpy as np
import pytest

from airpicture import geo
from airpicture.metrics.association import associate
from airpicture.metrics.samples import Samples, make_samples, time_grid
from airpicture.metrics.siap import siap, vertical_of

REF = np.array([np.radians(50.0), np.radians(7.0), 10_000.0])
EAST, UP = np.array([1.0, 0.0, 0.0]), np.array([0.0, 0.0, 1.0])
R = geo.ecef2enu_rotation(REF[:2])  # ENU <- ECEF


def at(enu: np.ndarray) -> np.ndarray:
    return geo.enu2ecef(np.asarray(enu, float), REF)


def build(rows: list[tuple[float, int, np.ndarray, np.ndarray]]) -> Samples:
    rows = sorted(rows, key=lambda r: (r[0], r[1]))
    return make_samples([r[0] for r in rows], [r[1] for r in rows],
                        [at(r[2]) for r in rows], [R.T @ r[3] for r in rows])


def worked_example() -> tuple[Samples, Samples]:
    """Truths A (1) at the origin and B (2) 1 km east, t = 0..5, velocity 100 m/s north.

    track 10 follows A 10 m east (velocity off by 2 m/s), t = 0..5;
    track 11 follows B 20 m up (velocity off by 4 m/s), t = 2..5;
    track 12 is false (5 km east), t = 0..3; track 13 is near A but only at t = 3, 4.
    """
    v = np.array([0.0, 100.0, 0.0])
    a, b = np.zeros(3), 1000.0 * EAST
    truth = [(t, 1, a, v) for t in range(6)] + [(t, 2, b, v) for t in range(6)]
    tracks = (
        [(t, 10, a + 10 * EAST, v + 2 * EAST) for t in range(6)]
        + [(t, 11, b + 20 * UP, v + 4 * UP) for t in range(2, 6)]
        + [(t, 12, 5000 * EAST, v) for t in range(4)]
        + [(t, 13, a + 30 * UP, v) for t in (3, 4)]
    )
    return build(truth), build(tracks)


def test_worked_example_by_hand() -> None:
    truth, tracks = worked_example()
    grid = time_grid(truth, tracks)
    assoc = associate(truth, tracks, threshold=100.0, k=3, m=2, grid=grid)
    # track 10 holds A over t = 0..5 (found at its 3rd sample); track 11 holds B over 2..5;
    # track 13 has only two samples near A: never associated
    got = sorted(zip(assoc.track_label.tolist(), assoc.truth_label.tolist(),
                     assoc.start.tolist(), assoc.end.tolist(), strict=True))
    assert got == [(10, 1, 0.0, 5.0), (11, 2, 2.0, 5.0)]
    s = siap(truth, tracks, assoc, grid)
    sc = s.scores
    # J = 2 per step (12); JT = 6 (A) + 4 (B) = 10
    assert sc["completeness"] == pytest.approx(10 / 12)
    # N per step: 2, 2, 3, 4, 3, 2 = 16; NA = 10
    assert sc["spuriousness"] == pytest.approx(6 / 16)
    assert sc["ambiguity"] == pytest.approx(1.0)
    # position errors: 10 m x 6, 20 m x 4 -> mean 14, RMS sqrt(220)
    assert sc["position_accuracy_m"] == pytest.approx(14.0, abs=1e-6)
    assert sc["position_rms_m"] == pytest.approx(np.sqrt(220.0), abs=1e-6)
    # horizontal: 10 m x 6 and 0 x 4 -> mean 6; vertical: 20 m x 4 -> mean 8
    # (offsets are along the vertical at A: at B, 1 km east, they tilt by 1.6e-4 rad)
    assert sc["position_horizontal_mean_m"] == pytest.approx(6.0, abs=5e-3)
    assert sc["position_vertical_mean_m"] == pytest.approx(8.0, abs=1e-3)
    assert sc["velocity_accuracy_mps"] == pytest.approx((6 * 2 + 4 * 4) / 10, abs=1e-9)
    assert sc["velocity_vertical_rms_mps"] == pytest.approx(np.sqrt(4 * 16 / 10), abs=1e-3)
    # LS: (5 + 3) / (5 + 5); no track-number change
    assert sc["longest_track_segment"] == pytest.approx(0.8)
    assert sc["track_number_changes_per_object_hour"] == 0.0
    assert s.counts["J"] == 12 and s.counts["N"] == 16 and s.counts["NA"] == 10
    assert list(s.series["completeness"]) == pytest.approx([0.5, 0.5, 1, 1, 1, 1])
    # B outside coverage: completeness over A only, track 11 still not spurious
    cov = truth.label == 1
    sc2 = siap(truth, tracks, assoc, grid, covered=cov).scores
    assert sc2["completeness"] == 1.0 and sc2["ambiguity"] == 1.0
    assert sc2["spuriousness"] == pytest.approx(6 / 16)


def test_track_number_change_by_hand() -> None:
    """Truth A at t = 0..9; track 20 holds it 0..4, track 21 from 4 (found at 6) to 9."""
    v = np.zeros(3)
    truth = build([(t, 1, np.zeros(3), v) for t in range(10)])
    tracks = build([(t, 20, 5 * EAST, v) for t in range(5)]
                   + [(t, 21, -5 * EAST, v) for t in range(4, 10)])
    grid = time_grid(truth, tracks)
    assoc = associate(truth, tracks, 100.0, grid=grid)
    sc = siap(truth, tracks, assoc, grid).scores
    # two tracks needed over 9 s held: 1 change per 9 s = 400 per object-hour
    assert sc["track_number_changes_per_object_hour"] == pytest.approx(400.0)
    assert sc["longest_track_segment"] == pytest.approx(5 / 9)
    assert sc["completeness"] == 1.0
    assert sc["ambiguity"] == pytest.approx(11 / 10)  # both hold it at t = 4
    assert sc["spuriousness"] == 0.0


def test_association_rules_k_and_m() -> None:
    """Track near A, one sample off (kept), then two off (ended), then on B for 3 (switch)."""
    v = np.zeros(3)
    b = 1000.0 * EAST
    truth = build([(t, 1, np.zeros(3), v) for t in range(14)]
                  + [(t, 2, b, v) for t in range(14)])
    # t: 0-3 on A, 4 off, 5-6 on A, 7-9 on B, 10 on B, 11-13 off everything
    where = {**{t: np.zeros(3) for t in (0, 1, 2, 3, 5, 6)}, 4: 500 * EAST,
             **{t: b for t in (7, 8, 9, 10)}, **{t: 5000 * EAST for t in (11, 12, 13)}}
    tracks = build([(t, 30, where[t] + 1.0, v) for t in range(14)])
    grid = time_grid(truth, tracks)
    assoc = associate(truth, tracks, 100.0, k=3, m=2, grid=grid)
    got = list(zip(assoc.truth_label.tolist(), assoc.start.tolist(), assoc.end.tolist(),
                   strict=True))
    # A from 0 (one miss at 4 is tolerated) to 6; the second miss (t = 8) ends it with B seen
    # on 7, 8 -> B is confirmed at 9 from 7 and held until 10; then two misses end it
    assert got == [(1, 0.0, 6.0), (2, 7.0, 10.0)]


def test_empty_inputs_give_documented_values() -> None:
    truth, tracks = worked_example()
    none = tracks.take(np.zeros(0, np.int64))
    g = time_grid(truth, none)
    sc = siap(truth, none, associate(truth, none, 100.0, grid=g), g).scores
    assert sc["completeness"] == 0.0 and sc["ambiguity"] == 1.0 and sc["spuriousness"] == 0.0
    assert sc["position_accuracy_m"] == 0.0 and sc["longest_track_segment"] == 0.0
    no_truth = truth.take(np.zeros(0, np.int64))
    g = time_grid(no_truth, tracks)
    sc = siap(no_truth, tracks, associate(no_truth, tracks, 100.0, grid=g), g).scores
    assert sc["completeness"] == 0.0 and sc["spuriousness"] == 1.0
    assert all(np.isfinite(list(sc.values())))


def test_vertical_of_is_the_geodetic_normal() -> None:
    rng = np.random.default_rng(0)
    llh = np.column_stack([rng.uniform(-1.5, 1.5, 500), rng.uniform(-3, 3, 500),
                           rng.uniform(0, 20_000, 500)])
    cos = np.sum(vertical_of(geo.geodetic2ecef(llh)) * geo.up_vectors(llh[:, 0], llh[:, 1]), 1)
    assert np.arccos(np.clip(cos, -1, 1)).max() < 1.1e-5


def test_bad_arguments() -> None:
    truth, tracks = worked_example()
    with pytest.raises(ValueError, match="threshold"):
        associate(truth, tracks, threshold=-1.0)
    with pytest.raises(ValueError, match="k and m"):
        associate(truth, tracks, threshold=10.0, k=0)
    grid = time_grid(truth, tracks)
    assoc = associate(truth, tracks, 100.0, grid=grid)
    with pytest.raises(ValueError, match="covered"):
        siap(truth, tracks, assoc, grid, covered=np.ones(3, bool))
