"""The COP server's REST and WebSocket API, with numbers (no browser)."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from starlette.exceptions import StarletteDeprecationWarning
from starlette.websockets import WebSocketDisconnect

from airpicture.messages import Identity, IdentityOverride
from airpicture.web.app import NODE_MODULES, create_app
from airpicture.web.basemap import split_line, split_ring
from airpicture.web.compact import decode_delta
from airpicture.web.recording import RecordedSource
from tests.web.synth import PLACES, SENSORS, synthetic_source

with warnings.catch_warnings():  # starlette 1.x prefers httpx2 for its test client
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient


@pytest.fixture
def synth() -> RecordedSource:
    return synthetic_source()


@pytest.fixture
def client(synth: RecordedSource) -> Iterator[TestClient]:
    with TestClient(create_app(synth, poll_s=0.02)) as c:
        yield c


def stns(body: dict[str, Any]) -> set[int]:
    return {t["stn"] for t in body["tracks"]}


def test_status_tracks_and_geojson_agree(client: TestClient, synth: RecordedSource) -> None:
    status = client.get("/api/status").json()
    snap = synth.snapshot()
    assert status["epoch"] == snap.epoch and status["hash"] == snap.hash
    assert status["tracks"] == len(PLACES)
    assert status["nations"] == ["AUS", "JPN"]
    assert status["own_tracks"] == {"AUS": 4, "JPN": 4}
    assert [p["link"] for p in status["partners"]] == ["up", "stale"]
    tracks = client.get("/api/tracks").json()["tracks"]
    assert len(tracks) == len(PLACES)
    geo = client.get("/api/picture.geojson").json()
    assert len(geo["features"]) == len(tracks)
    by_stn = {t["stn"]: t for t in tracks}
    for stn, lat, lon, alt in PLACES:
        assert by_stn[stn]["lat"] == pytest.approx(lat, abs=1e-6)
        assert by_stn[stn]["lon"] == pytest.approx(lon, abs=1e-6)
        assert by_stn[stn]["alt_m"] == pytest.approx(alt, abs=0.1)
        assert by_stn[stn]["fl"] == round(alt / 0.3048 / 100)
        # 200 m/s east, 50 m/s north
        assert by_stn[stn]["speed_kt"] == pytest.approx(np.hypot(200, 50) * 3600 / 1852, abs=0.1)
        # covariance diag(300^2, 200^2, 100^2) in ECEF: 2-sigma semi-axes within [200, 600] m
        a, b, _ = by_stn[stn]["ell"]
        assert 200.0 - 1 <= b <= a <= 600.0 + 1


@pytest.mark.parametrize(("bbox", "expected"), [
    ("165,-10,-165,15", {101, 102, 103, 104}),   # across the antimeridian (west > east)
    ("179,-10,-179,15", {101, 102}),
    ("-180,-90,-175,90", {102}),
    ("100,-40,150,40", {105, 107}),
    ("-180,-90,180,90", {t[0] for t in PLACES}),
])
def test_area_subscription_filters_across_the_antimeridian(
        client: TestClient, bbox: str, expected: set[int]) -> None:
    assert stns(client.get("/api/tracks", params={"bbox": bbox}).json()) == expected


def test_altitude_band_and_nation_view(client: TestClient) -> None:
    band = client.get("/api/tracks", params={"alt": "9000,11000"}).json()
    assert stns(band) == {101, 102, 104, 108}
    both = client.get("/api/tracks", params={"alt": "9000,11000", "bbox": "165,-10,-165,15"})
    assert stns(both.json()) == {101, 102, 104}
    jpn = client.get("/api/tracks", params={"view": "JPN"}).json()["tracks"]
    assert sorted(t["key"] for t in jpn) == ["JPN:1", "JPN:3", "JPN:5", "JPN:7"]
    assert {t["stn"] for t in jpn} == {101, 103, 105, 107}


def test_websocket_subscription_snapshot_then_deltas(client: TestClient,
                                                     synth: RecordedSource) -> None:
    with client.websocket_connect("/ws") as ws:
        ws.send_text(json.dumps({"type": "subscribe", "view": "picture",
                                 "bbox": [165, -10, -165, 15], "alt_m": [0, 11500]}))
        snap = ws.receive_json()
        assert snap["type"] == "snapshot"
        assert {t["stn"] for t in snap["tracks"]} == {101, 102, 103, 104}
        before = {t["key"]: t for t in snap["tracks"]}
        synth.advance()
        delta = ws.receive_json()
        assert delta["type"] == "delta" and delta["epoch"] == snap["epoch"] + 1
        assert {t["key"] for t in delta["upsert"]} == set(before)
        assert delta["remove"] == []
        moved = {t["key"]: t for t in delta["upsert"]}
        for key, old in before.items():  # 200 m/s east for 1 s
            assert moved[key]["lon"] != old["lon"]
        # a new subscription narrows the area: a fresh snapshot
        ws.send_text(json.dumps({"type": "subscribe", "view": "AUS"}))
        aus = ws.receive_json()
        assert aus["type"] == "snapshot" and aus["view"] == "AUS"
        assert sorted(t["key"] for t in aus["tracks"]) == ["AUS:2", "AUS:4", "AUS:6", "AUS:8"]


def test_compact_deltas_rebuild_the_api_tracks_exactly(client: TestClient,
                                                        synth: RecordedSource) -> None:
    with client.websocket_connect("/ws") as ws:
        ws.send_text(json.dumps({"type": "subscribe", "view": "picture", "format": "compact",
                                 "alt_m": [0, 11500]}))
        snap = ws.receive_json()
        assert snap["type"] == "snapshot"
        held = {t["key"]: t for t in snap["tracks"]}
        slot_of = [t["key"] for t in snap["tracks"]]
        assert "S105" not in held  # 12,000 m: outside the band
        for _ in range(2):
            assert synth.advance()
            frame = ws.receive_bytes()
            head, moves = decode_delta(frame)
            assert head["type"] == "delta" and head["format"] == "compact"
            assert head["upsert"] == [] and head["remove"] == []
            assert len(moves) == len(held)
            for m in moves:  # only kinematics travel: the labels stay as they were
                t = held[slot_of[m.pop("slot")]]
                assert m["lon"] != t["lon"]
                t.update(m)
            api = client.get("/api/tracks", params={"alt": "0,11500"}).json()
            assert head["epoch"] == api["epoch"]
            assert {t["key"]: t for t in api["tracks"]} == held  # exact, every field
        # a label change goes as a full row, in its slot; the others still move
        r = client.post("/api/tracks/101/identity",
                        json={"identity": "hostile", "operator": "watch-1"})
        assert r.status_code == 202
        head, moves = decode_delta(ws.receive_bytes())
        assert [t["key"] for t in head["upsert"]] == ["S101"]
        assert head["upsert"][0]["identity"] == "hostile"
        assert head["slots"] == [slot_of.index("S101")]
        assert len(head["upsert"]) + len(moves) <= len(held)
        assert len(frame) < len(json.dumps(api["tracks"])) / 2


@pytest.mark.parametrize(("message", "code"), [
    ("not json", 4400),
    (json.dumps({"type": "subscribe", "bbox": [1, 2, 3]}), 4400),
    (json.dumps({"type": "subscribe", "bbox": [10, 50, 20, 40]}), 4400),
    (json.dumps({"type": "subscribe", "alt_m": [5000, 1000]}), 4400),
    (json.dumps({"type": "subscribe", "view": "XYZ"}), 4400),
    (json.dumps({"type": "hello"}), 4400),
    (json.dumps({"type": "subscribe", "extra": 1}), 4400),
    (json.dumps({"type": "subscribe", "format": "xml"}), 4400),
    (json.dumps({"type": "subscribe", "view": "x" * 5000}), 4413),
])
def test_malformed_subscriptions_are_refused_and_others_still_served(
        client: TestClient, message: str, code: int) -> None:
    with client.websocket_connect("/ws") as good:
        good.send_text(json.dumps({"type": "subscribe"}))
        assert good.receive_json()["type"] == "snapshot"
        with client.websocket_connect("/ws") as bad:
            bad.send_text(message)
            err = bad.receive_json()
            assert err["type"] == "error" and err["error"]
            with pytest.raises(WebSocketDisconnect) as exc:
                bad.receive_json()
            assert exc.value.code == code
        good.send_text(json.dumps({"type": "subscribe", "view": "JPN"}))
        assert len(good.receive_json()["tracks"]) == 4
    assert client.get("/api/status").status_code == 200


def test_bad_requests_get_clear_4xx(client: TestClient) -> None:
    cases = [
        (client.get("/api/tracks/99999"), 404, "no system track 99999"),
        (client.get("/api/tracks/abc"), 400, "positive integer"),
        (client.get("/api/tracks", params={"bbox": "1,2,3"}), 400, "bbox"),
        (client.get("/api/tracks", params={"bbox": "1,2,x,4"}), 400, "bbox"),
        (client.get("/api/tracks", params={"bbox": "200,0,10,5"}), 400, "longitudes"),
        (client.get("/api/tracks", params={"alt": "5,1"}), 400, "low"),
        (client.get("/api/tracks", params={"view": "XYZ"}), 404, "no view"),
        (client.get("/api/replay", params={"time": "nan"}), 400, "finite"),
        (client.get("/api/replay", params={"time": "0"}), 404, "nothing recorded"),
        (client.get("/api/nope"), 404, "no such resource"),
        (client.get("/api/tracks?" + "x" * 3000), 414, "request target"),
        (client.post("/api/tracks/101/identity", content=b"{" * 5000), 413, "body"),
        (client.post("/api/tracks/101/identity", content=b"{"), 400, "bad identity"),
        (client.post("/api/tracks/101/identity", json={"identity": "evil", "operator": "a"}),
         400, "bad identity"),
        (client.post("/api/tracks/101/identity", json={"identity": "hostile", "operator": " "}),
         400, "operator"),
        (client.post("/api/tracks/555/identity", json={"identity": "friend", "operator": "a"}),
         404, "no system track"),
        (client.get("/api/trails", params={"seconds": "-1"}), 400, "seconds"),
        (client.get("/vendor/evil.js"), 404, "no vendored file"),
        (client.get("/api/basemap/mars"), 404 if NODE_MODULES.is_dir() else 503, "basemap"),
        (client.get("/api/basemap/land", params={"resolution": "1m"}), 400, "resolution"),
    ]
    for response, status, words in cases:
        assert response.status_code == status, (response.request.url, response.text)
        assert words in response.json()["error"], response.json()
    assert client.get("/api/tracks").status_code == 200


def test_operator_identity_reaches_the_api_and_the_log(client: TestClient,
                                                       synth: RecordedSource) -> None:
    r = client.post("/api/tracks/103/identity",
                    json={"identity": "hostile", "operator": "op1", "reason": "test"})
    assert r.status_code == 202
    assert synth.overrides == [IdentityOverride(
        stn=103, identity=Identity.HOSTILE, operator="op1", nation="",
        time=synth.snapshot().time, reason="test")]
    detail = client.get("/api/tracks/103").json()
    assert detail["view"]["identity"] == "hostile"
    assert detail["system"]["identity"] == "hostile"
    assert [h["identity"] for h in detail["identity_history"]] == ["pending", "hostile"]
    assert detail["identity_history"][-1]["operator"] == "op1"
    # it holds on the next picture, and shows in the list and the export
    synth.advance()
    tracks = {t["stn"]: t for t in client.get("/api/tracks").json()["tracks"]}
    assert tracks[103]["identity"] == "hostile"
    assert tracks[101]["identity"] == "pending"
    features = client.get("/api/picture.geojson").json()["features"]
    assert {f["properties"]["stn"]: f["properties"]["identity"] for f in features}[103] == "hostile"


def test_provenance_names_contributors_sensors_and_ages(client: TestClient) -> None:
    d = client.get("/api/tracks/104").json()
    assert d["system"]["stn"] == 104
    [c] = d["contributors"]
    assert (c["nation"], c["track_id"], c["age_s"], c["quality"]) == ("AUS", 4, 1.0, 0.9)
    assert [s["id"] for s in c["sensors"]] == ["AUS-R-1"]


def test_sensors_coverage_history_replay_and_trails(client: TestClient,
                                                    synth: RecordedSource) -> None:
    assert [s["id"] for s in client.get("/api/sensors").json()] == [s.id for s in SENSORS]
    features = client.get("/api/coverage").json()["features"]
    cov = [f for f in features if f["properties"]["part"] == "area"]
    edges = [f for f in features if f["properties"]["part"] == "edge"]
    assert [f["properties"]["id"] for f in cov] == [s.id for s in SENSORS]
    assert [f["properties"]["id"] for f in edges] == [s.id for s in SENSORS]
    fiji = cov[0]["geometry"]["coordinates"]  # 400 km around 178.4 E crosses the antimeridian
    assert len(fiji) == 2
    assert len(edges[0]["geometry"]["coordinates"]) == 3  # broken at +-180, going and back
    assert len(edges[1]["geometry"]["coordinates"]) == 1
    lons = [np.array(poly[0])[:, 0] for poly in fiji]
    assert max(lon.max() for lon in lons) == pytest.approx(180.0)
    assert min(lon.min() for lon in lons) == pytest.approx(-180.0)
    synth.advance()
    synth.advance()
    times = client.get("/api/history").json()["times"]
    assert times == [f.time for f in synth.frames]
    old = client.get("/api/replay", params={"time": times[0] + 0.5}).json()
    assert old["time"] == times[0] and len(old["tracks"]) == len(PLACES)
    trails = client.get("/api/trails", params={"seconds": 10}).json()
    assert len(trails) == len(PLACES) and all(len(v) == 3 for v in trails.values())


def test_split_ring_and_line_at_the_antimeridian() -> None:
    square = np.array([[179.0, 0.0], [-179.0, 0.0], [-179.0, 1.0], [179.0, 1.0], [179.0, 0.0]])
    west, east = split_ring(square)
    assert west[:, 0].min() == 179.0 and west[:, 0].max() == 180.0
    assert east[:, 0].min() == -180.0 and east[:, 0].max() == -179.0
    inside = np.array([[10.0, 0.0], [11.0, 0.0], [11.0, 1.0], [10.0, 0.0]])
    whole, none = split_ring(inside)
    assert np.array_equal(whole, inside) and len(none) == 0
    parts = split_line(np.array([[178.0, 0.0], [-178.0, 4.0], [-177.0, 5.0]]))
    assert [p.tolist() for p in parts] == [[[178.0, 0.0], [180.0, 2.0]],
                                           [[-180.0, 2.0], [-178.0, 4.0], [-177.0, 5.0]]]


@pytest.mark.skipif(not (NODE_MODULES / "world-atlas").is_dir(),
                    reason="world-atlas missing (./dev test runs npm ci in src/airpicture/web)")
@pytest.mark.parametrize("resolution", ["50m", "110m"])
def test_basemap_has_no_band_across_the_world(client: TestClient, resolution: str) -> None:
    def get(layer: str) -> Any:
        r = client.get(f"/api/basemap/{layer}", params={"resolution": resolution})
        assert r.status_code == 200, r.text
        return r.json()

    land = get("land")["features"][0]["geometry"]["coordinates"]
    jumps = 0
    fiji = {"east": False, "west": False}
    for poly in land:
        for ring in poly:
            a = np.array(ring)
            big = np.abs(np.diff(a[:, 0])) > 180.0
            # only along a pole (off the Mercator map) may a ring jump from +180 to -180
            jumps += int(np.count_nonzero(big & (np.abs(a[1:, 1]) < 85.0)))
            near = (a[:, 1] > -19) & (a[:, 1] < -15)
            fiji["west"] |= bool(np.any(near & (a[:, 0] > 179.9)))
            fiji["east"] |= bool(np.any(near & (a[:, 0] < -179.5)))
    assert jumps == 0
    assert fiji == {"east": True, "west": True}
    for layer in ("coast", "borders"):
        lines = get(layer)["features"][0]["geometry"]
        assert all(np.abs(np.diff(np.array(line)[:, 0])).max(initial=0) <= 180.0
                   for line in lines["coordinates"])
    # "all": the three layers in one collection (the page's one source), each tagged
    both = get("all")["features"]
    assert [f["properties"]["layer"] for f in both] == ["land", "coast", "borders"]
    for f in both:
        assert f["geometry"] == get(f["properties"]["layer"])["features"][0]["geometry"]


def test_identity_override_round_trips_on_the_wire() -> None:
    from airpicture.messages import decode_json, decode_msgpack, encode_json, encode_msgpack

    o = IdentityOverride(stn=7, identity=Identity.HOSTILE, operator="op", nation="JPN",
                         time=1.7e9, reason="visual")
    assert decode_msgpack(encode_msgpack(o), IdentityOverride) == o
    assert decode_json(encode_json(o), IdentityOverride) == o
