"""Alerts: emergency squawks, zone intrusions, lost tracks, silent feeds; de-duplicated."""

from __future__ import annotations

import numpy as np
from matplotlib.path import Path

from airpicture.fusion import Picture
from airpicture.fusion.alerts import AlertConfig, AlertEngine
from airpicture.fusion.identity import IdentityRules
from airpicture.fusion.spoofing import AdsbFlags
from airpicture.fusion.zones import Coverage, ZoneSet, points_in_polygon
from airpicture.messages import AlertAck, SensorInfo, SensorKind
from airpicture.scenario.config import Zone

from .picture_synth import T0, Obj, reports, rows_of

AIRLINER = Obj(35.0, 137.0, 11000.0, (230.0, 0.0, 0.0), icao=0x8467D3, mode3a=0o2341,
               callsign=b"JAL123")
INTRUDER = Obj(34.0, 179.80, 500.0, (200.0, 0.0, 0.0))  # flies east across the antimeridian
ZONE = Zone(name="DATELINE", vertices_deg=[[33.9, 179.9], [33.9, -179.9], [34.1, -179.9],
                                           [34.1, 179.9]], min_alt_m=0.0, max_alt_m=3000.0)
RADAR = SensorInfo(id="R", nation="AAA", kind=SensorKind.RADAR, lat_deg=35.0, lon_deg=137.5,
                   alt_m=100.0, max_range_m=400e3, period_s=10.0)


def _run(seconds: int, squawk_from: int | None = None, stop_at: int | None = None,
         objs: list[Obj] | None = None, engine: AlertEngine | None = None,
         ) -> tuple[AlertEngine, list[list[str]]]:
    objs = objs or [AIRLINER, INTRUDER]
    engine = engine or AlertEngine(zones=ZoneSet.from_config([ZONE]),
                                   coverage=Coverage.from_sensors([RADAR]))
    rules, picture = IdentityRules(), Picture()
    per_epoch = []
    for k in range(seconds):
        t = T0 + k + 0.25
        m3 = {0: 0o7700} if squawk_from is not None and k >= squawk_from else None
        table = reports(objs, t, mode3a=m3)
        if stop_at is not None and k >= stop_at:
            table = table.take(table.track != 1)  # the first object's track is dropped
        for result in picture.ingest(table):
            new = engine.update(result, rules.classify(result))
            per_epoch.append([a.kind for a in new])
    return engine, per_epoch


def test_an_emergency_squawk_raises_exactly_one_alert_with_its_explanation() -> None:
    engine, _ = _run(120, squawk_from=30)
    alerts = [a for a in engine.alerts.values() if a.kind == "emergency"]
    assert len(alerts) == 1
    a = alerts[0]
    assert a.reason == "squawk 7700"
    assert "ICAO 8467D3" in a.explanation and "JAL123" in a.explanation
    assert "general emergency" in a.explanation
    assert abs(a.time - (T0 + 31)) <= 1.0


def test_a_zone_intrusion_across_the_antimeridian_raises_exactly_one_alert() -> None:
    engine, _ = _run(180)  # 0.1 deg of longitude is ~9 km: the intruder is inside at ~45 s
    alerts = [a for a in engine.alerts.values() if a.kind == "zone_intrusion"]
    assert len(alerts) == 1, alerts
    a = alerts[0]
    assert a.reason == "non-cooperative track entered zone DATELINE"
    assert "altitude band 0-3000 m" in a.explanation
    assert T0 + 40 < a.time < T0 + 60
    assert engine.counts()["zone_intrusion"] == 1


def test_a_cooperative_track_in_the_zone_raises_nothing() -> None:
    civil = Obj(34.0, 179.95, 500.0, (0.0, 0.0, 0.0), icao=0x7C0001)
    engine, _ = _run(60, objs=[AIRLINER, civil])
    assert engine.counts()["zone_intrusion"] == 0


def test_a_track_lost_inside_coverage_raises_one_alert_and_silence_one_more() -> None:
    engine = AlertEngine(AlertConfig(silent_s=30.0), coverage=Coverage.from_sensors([RADAR]))
    engine, _ = _run(200, stop_at=100, engine=engine)
    counts = engine.counts()
    assert counts["track_lost"] == 1, engine.alerts
    lost = next(a for a in engine.alerts.values() if a.kind == "track_lost")
    assert "inside radar coverage" in lost.explanation
    assert counts["emergency"] == counts["zone_intrusion"] == counts["feed_silent"] == 0


def test_a_silent_partner_is_reported_once_and_acknowledged_by_log_message() -> None:
    engine, _ = _run(60)
    assert engine.counts()["feed_silent"] == 0
    picture, rules = Picture(), IdentityRules()
    engine2 = AlertEngine(AlertConfig(silent_s=20.0))
    new = []
    for k in range(100):
        nation = b"AAA" if k < 30 else b"BBB"
        for result in picture.ingest(reports([AIRLINER], T0 + k + 0.25, nation=nation)):
            new += engine2.update(result, rules.classify(result), feeds={"sensor:R": T0})
    kinds = sorted((a.kind, a.source) for a in new)
    assert kinds == [("feed_silent", "partner:AAA"), ("feed_silent", "sensor:R")]
    done = engine2.acknowledge(AlertAck(alert_id=new[0].id, operator="o", nation="BBB",
                                        time=T0 + 99))
    assert done is not None and done.acknowledged and engine2.alerts[new[0].id].acknowledged
    assert engine2.ingest(new[0]) is None  # the same alert from the log: de-duplicated


def test_tracks_that_leave_with_their_feed_raise_its_silence_not_one_loss_each() -> None:
    # AAA reports the airliner and a second aircraft 50 km behind it, BBB another one; AAA
    # goes silent at 100 s: its two tracks coast out of the picture, inside coverage.
    behind = Obj(35.0, 136.45, 11000.0, (230.0, 0.0, 0.0), icao=0x8467D4)
    other = Obj(35.5, 137.5, 9000.0, (0.0, 200.0, 0.0), icao=0x8467D5)
    engine = AlertEngine(AlertConfig(silent_s=30.0), coverage=Coverage.from_sensors([RADAR]))
    picture, rules = Picture(), IdentityRules()
    for k in range(200):
        t = T0 + k + 0.25
        tables = [reports([other], t, nation=b"BBB")]
        if k < 100:
            tables.insert(0, reports([AIRLINER, behind], t))
        for table in tables:
            for result in picture.ingest(table):
                engine.update(result, rules.classify(result))
    counts = engine.counts()
    assert counts["feed_silent"] == 1 and counts["track_lost"] == 0, engine.alerts
    # The same two tracks lost while AAA still reports something do raise two alerts.
    engine2 = AlertEngine(AlertConfig(silent_s=30.0), coverage=Coverage.from_sensors([RADAR]))
    picture = Picture()
    for k in range(200):
        table = reports([AIRLINER, behind, other], T0 + k + 0.25)
        for result in picture.ingest(table if k < 100 else table.take(table.track == 3)):
            engine2.update(result, rules.classify(result))
    assert engine2.counts()["track_lost"] == 2, engine2.alerts


def test_a_track_that_jumps_to_a_new_number_is_not_lost() -> None:
    # The airliner's local track jumps 30 km at 100 s (a bad update): fusion gives it a new
    # system track number; the old number coasts out with nothing near it, but its partner
    # track is still reported, so nothing was lost.
    engine = AlertEngine(coverage=Coverage.from_sensors([RADAR]))
    picture, rules = Picture(), IdentityRules()
    for k in range(200):
        table = reports([AIRLINER, INTRUDER], T0 + k + 0.25)
        if k >= 100:
            table.state[0, :3] += 30e3 * table.state[0, 3:] / np.linalg.norm(table.state[0, 3:])
        for result in picture.ingest(table):
            engine.update(result, rules.classify(result))
    assert engine.counts()["track_lost"] == 0, engine.alerts
    assert len({int(s) for s in picture.state.systems.track}) == 2  # the ghost has gone


def test_an_adsb_flag_raises_one_alert_naming_the_track() -> None:
    engine, picture, rules = AlertEngine(), Picture(), IdentityRules()
    for k in range(40):
        flags = AdsbFlags(np.array([AIRLINER.icao]), np.array([T0 + k]), np.array([9.0]),
                          np.array([2000.0]), np.array([4]), np.array(["R"]))
        for result in picture.ingest(reports([AIRLINER, INTRUDER], T0 + k + 0.25)):
            engine.update(result, rules.classify(result), adsb=flags if k >= 20 else None)
    alerts = [a for a in engine.alerts.values() if a.kind == "adsb_inconsistent"]
    assert len(alerts) == 1 and "ICAO 8467D3" in alerts[0].explanation, alerts
    assert "9.0 sigma (2.0 km) over the last 4 updates" in alerts[0].explanation


def test_two_nodes_raise_the_same_alerts() -> None:
    a, _ = _run(150, squawk_from=20)
    b, _ = _run(150, squawk_from=20)
    assert list(a.alerts) == list(b.alerts) and len(a.alerts) == 2


def test_point_in_polygon_matches_matplotlib() -> None:
    rng = np.random.default_rng(7)
    for _ in range(20):
        n = int(rng.integers(3, 9))
        ang = np.sort(rng.uniform(0, 2 * np.pi, n))
        rad = rng.uniform(0.2, 1.0, n)
        poly = np.column_stack([rad * np.sin(ang), rad * np.cos(ang)])  # [lat, lon] rad
        pts = rng.uniform(-1.0, 1.0, (500, 2))
        ours = points_in_polygon(pts[:, 0], pts[:, 1], poly)
        ref = Path(poly).contains_points(pts)
        assert np.count_nonzero(ours != ref) == 0


def test_rows_helper_maps_objects() -> None:
    picture = Picture()
    results = [r for k in range(3) for r in picture.ingest(reports([AIRLINER], T0 + k))]
    assert rows_of(results[-1], 1).tolist() == [0]
