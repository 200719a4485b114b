"""Releasability, checked on the bytes that would go on the wire."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from matplotlib.path import Path as MplPath

from airpicture import geo
from airpicture.messages import Identity, LocalTrackBatch, SensorKind, TrackStatus, decode_msgpack
from airpicture.node.wire import decode_batch, encode_batches
from airpicture.policy import (
    Area,
    LocalTrackColumns,
    ReleasePolicy,
    ReleaseQueue,
    coarsen,
    in_polygon,
    policy_from_mapping,
    release,
)
from airpicture.track_table import IDENTITY_CODES, STATUS_CODES, TrackTable

T = 1_700_000_000.0
SENSORS = {"JPN-RADAR-7": SensorKind.RADAR, "JPN-ESM-2": SensorKind.ESM}
SENSOR_IDS = ("JPN-RADAR-7", "JPN-ESM-2", "unknown-sensor")
# A withheld box off Okinawa, and the area of interest.
SECRET = Area(name="secret", vertices=[(25.0, 127.0), (25.0, 129.0), (27.0, 129.0), (27.0, 127.0)])


def track(i: int, lat: float, lon: float, alt: float = 9000.0, **kw: object) -> dict[str, object]:
    """One track's values (a row of :func:`tracks`)."""
    xyz = geo.geodetic2ecef(np.array([np.radians(lat), np.radians(lon), alt]))
    return {
        "track": i,
        "state": [*xyz.tolist(), 120.0, -40.0, 3.0],
        "covariance": np.diag([150.0**2] * 3 + [6.0**2] * 3),
        "status": TrackStatus.CONFIRMED,
        "identity": Identity.PENDING,
        "callsign": f"JAL{i}",
        "icao": -1,
        "sensors": ["JPN-RADAR-7"],
        "mode_probabilities": [0.5, 0.5],
        **kw,
    }


def tracks(rows: list[dict[str, object]]) -> LocalTrackColumns:
    n = len(rows)

    def col(name: str) -> list[Any]:
        return [r[name] for r in rows]

    table = TrackTable(
        time=np.full(n, T),
        track=np.array(col("track"), np.int64),
        source=np.full(n, b"JPN", "S16"),
        state=np.array(col("state"), np.float64).reshape(n, 6),
        covariance=np.array(col("covariance"), np.float64).reshape(n, 6, 6),
        status=np.array([STATUS_CODES.index(s) for s in col("status")], np.uint8),
        quality=np.full(n, 0.8),
        identity=np.array([IDENTITY_CODES.index(i) for i in col("identity")], np.uint8),
        icao=np.array(col("icao"), np.int32),
        mode3a=np.full(n, -1, np.int16),
        callsign=np.array([c.encode() for c in col("callsign")], "S8"),
    )
    masks = [sum(1 << SENSOR_IDS.index(s) for s in sensors) for sensors in col("sensors")]
    mu = np.array(col("mode_probabilities"), np.float64).reshape(n, 2)
    return LocalTrackColumns(table, np.array(masks, np.uint64), mu, np.full(n, T - 1), SENSOR_IDS)


def wire(released: LocalTrackColumns) -> bytes:
    """What goes on the wire: the release's batch payloads, back to back."""
    return b"".join(p for p, _ in encode_batches(released, "JPN", chunk=1000))


def received(released: LocalTrackColumns) -> TrackTable:
    ((payload, _),) = encode_batches(released, "JPN", chunk=1000)
    table, dropped = decode_batch(payload, "JPN")
    assert dropped == {}
    return table


def test_tracks_in_a_withheld_area_never_leave() -> None:
    inside = [track(i, 26.0 + 0.1 * i, 128.0, callsign=f"SECRET{i}") for i in range(5)]
    outside = [track(10 + i, 30.0, 135.0 + i) for i in range(5)]
    policy = ReleasePolicy(audience="coalition", withheld_areas=[SECRET])
    out = release(tracks(inside + outside), policy, SENSORS)
    assert b"SECRET" not in wire(out)
    sent = received(out)
    assert sorted(sent.track.tolist()) == list(range(10, 15))
    llh = geo.ecef2geodetic(sent.state[:, :3])
    assert not in_polygon(llh[:, 0], llh[:, 1], SECRET).any()


def test_withheld_fields_are_absent_from_the_bytes() -> None:
    items = tracks([track(i, 30.0, 135.0, icao=0xABCDEF, mode_probabilities=[0.25, 0.75])
                    for i in range(3)])
    policy = ReleasePolicy(
        audience="coalition", withheld_fields=["sensors", "callsign", "icao", "mode_probabilities"]
    )
    data = wire(release(items, policy, SENSORS))
    address, quarter = (0xABCDEF).to_bytes(4, "little"), np.float64(0.25).tobytes()
    assert b"JPN-RADAR-7" not in data and b"JAL" not in data
    assert address not in data and quarter not in data
    batch = decode_msgpack(data, LocalTrackBatch)
    assert batch.sensors is None and batch.sensor_mask is None and batch.callsign is None
    assert batch.icao is None and batch.mode_probabilities is None and batch.modes == 0
    assert batch.identity is not None and batch.last_update is not None  # not withheld
    plain = wire(release(items, ReleasePolicy(audience="c"), SENSORS))
    assert plain.count(b"JPN-RADAR-7") == 1 and plain.count(address) == 3  # id table + masks
    assert b"JPN-ESM-2" not in plain  # no released track refers to it


@pytest.mark.parametrize("precision", [100.0, 1000.0, 5000.0])
def test_coarsened_positions_respect_the_precision(precision: float) -> None:
    rng = np.random.default_rng(0)
    items = tracks([track(i, rng.uniform(10, 40), rng.uniform(120, 150)) for i in range(200)])
    policy = ReleasePolicy(audience="c", precision_m=precision, velocity_precision_mps=5.0)
    sent = received(release(items, policy, SENSORS))
    x_in, x_out = items.table.state, sent.state
    assert np.abs(x_out[:, :3] - x_in[:, :3]).max() <= precision / 2 + 1e-6
    assert np.abs(x_out[:, 3:] - x_in[:, 3:]).max() <= 2.5 + 1e-9
    np.testing.assert_allclose(x_out[:, :3] / precision, np.round(x_out[:, :3] / precision))
    added = np.diagonal(sent.covariance - items.table.covariance, axis1=1, axis2=2)
    np.testing.assert_allclose(added[:, :3], precision**2 / 12)
    np.testing.assert_allclose(added[:, 3:], 25.0 / 12)


def test_coarsening_keeps_the_covariance_consistent() -> None:
    """Snapping errors are covered by the inflation: NEES of snapped estimates vs truth."""
    rng = np.random.default_rng(1)
    n, q = 20_000, 2000.0
    truth = rng.uniform(-6e6, 6e6, size=(n, 6))
    P = np.broadcast_to(np.diag([300.0**2] * 3 + [5.0**2] * 3), (n, 6, 6)).copy()
    est = truth + rng.normal(size=(n, 6)) * np.sqrt(np.diag(P[0]))
    x, Pq = coarsen(est, P, q)
    e = x - truth
    nees = np.einsum("ni,nij,nj->n", e, np.linalg.inv(Pq), e).mean()
    assert abs(nees - 6.0) < 0.15


def test_selection_by_altitude_identity_sensor_kind_and_status() -> None:
    items = tracks([
        track(0, 30, 135, alt=500.0),
        track(1, 30, 135, alt=9000.0, identity=Identity.HOSTILE),
        track(2, 30, 135, alt=9000.0, sensors=["JPN-ESM-2"]),
        track(3, 30, 135, alt=9000.0, status=TrackStatus.TENTATIVE),
        track(4, 30, 135, alt=9000.0, sensors=["unknown-sensor"]),
        track(5, 30, 135, alt=9000.0),
    ])
    policy = ReleasePolicy(
        audience="c",
        min_alt_m=1000.0,
        identities=[Identity.PENDING, Identity.UNKNOWN, Identity.FRIEND],
        sensor_kinds=[SensorKind.RADAR, SensorKind.ADSB],
    )
    assert release(items, policy, SENSORS).table.track.tolist() == [5]


def test_polygons_across_the_antimeridian() -> None:
    pacific = Area(vertices=[(-20.0, 170.0), (-20.0, -170.0), (10.0, -170.0), (10.0, 170.0)])
    lat = np.radians([0.0, 0.0, 0.0, 0.0, 15.0])
    lon = np.radians([179.5, -179.5, 0.0, 160.0, 180.0])
    assert in_polygon(lat, lon, pacific).tolist() == [True, True, False, False, False]


def test_polygons_match_an_independent_point_in_polygon() -> None:
    rng = np.random.default_rng(2)
    for _ in range(20):
        k = int(rng.integers(3, 9))
        ang = np.sort(rng.uniform(0, 2 * np.pi, k))
        r = rng.uniform(1, 5, k)
        verts = np.stack([10 + r * np.sin(ang), 100 + r * np.cos(ang)], axis=1)
        pts = rng.uniform([4, 94], [16, 106], size=(500, 2))
        ours = in_polygon(
            np.radians(pts[:, 0]),
            np.radians(pts[:, 1]),
            Area(vertices=[tuple(v) for v in verts.tolist()]),
        )
        theirs = MplPath(verts).contains_points(pts)
        assert (ours == theirs).mean() > 0.998  # boundary points may differ


def test_release_delay_holds_back_by_data_time() -> None:
    q = ReleaseQueue(5.0)
    for k in range(10):
        q.push(T + k, tracks([track(k, 30, 135)]))
    due = q.due(T + 7.0)
    assert [b[0] - T for b in due] == [0.0, 1.0, 2.0]
    assert [b[1].table.track.tolist() for b in due] == [[0], [1], [2]]
    assert q.due(T + 7.5) == []
    with pytest.raises(ValueError):
        q.push(T, tracks([]))


def test_policy_config_errors_name_the_place() -> None:
    with pytest.raises(ValueError, match=r"nodes.toml:\[policy.AUS\].*precision_m"):
        policy_from_mapping({"audience": "AUS", "precision_m": "coarse"}, "nodes.toml:[policy.AUS]")
    with pytest.raises(ValueError, match="at least 3 vertices"):
        policy_from_mapping({"audience": "AUS", "withheld_areas": [{"vertices": [[0, 0]]}]}, "x")
    ok = policy_from_mapping({"audience": "AUS", "withheld_fields": ["sensors"]}, "x")
    assert ok.withheld_fields == ["sensors"]
