"""Alerts: emergency squawks, zone intrusions, lost tracks, silent feeds; de-duplicated."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
import pytest
from matplotlib.path import Path

from airpicture import geo
from airpicture.fusion import Picture
from airpicture.fusion.alerts import AlertConfig, AlertEngine
from airpicture.fusion.continuity import TrackLinks
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


# Tracks that end while their object goes on: what lost-track alerts and de-duplication do.

OTHER = Obj(35.5, 137.5, 9000.0, (0.0, 200.0, 0.0), icao=0x8467D5)  # keeps AAA reporting
NORTH = (0.0, 230.0, 0.0)  # the heading a diverging track flies off on


def _off(obj: Obj, k: int, v_enu: tuple[float, float, float]) -> Obj:
    """A track that leaves ``obj`` at ``T0 + k`` and flies ``v_enu`` from there (a tracker
    coasting on a wrong prediction): a straight line through ``obj``'s position then."""
    here = reports([obj], T0 + k).state[0]
    llh = geo.ecef2geodetic(here[:3])
    start = here[:3] - geo.enu2ecefv(np.asarray(v_enu), llh[:2]) * k
    lat, lon, alt = geo.ecef2geodetic(start)
    return dataclasses.replace(obj, lat=float(np.degrees(lat)), lon=float(np.degrees(lon)),
                               alt=float(alt), v_enu=v_enu)


def _feed(engine: AlertEngine, seconds: int,
          tracks: Callable[[int], list[tuple[int, Obj]]]) -> AlertEngine:
    """Feed AAA's local tracks ``tracks(k)`` (``(track id, object)``) every second."""
    picture, rules = Picture(), IdentityRules()
    for k in range(seconds):
        rows = tracks(k)
        table = reports([o for _, o in rows], T0 + k + 0.25)
        table.track[:] = [i for i, _ in rows]
        for result in picture.ingest(table):
            engine.update(result, rules.classify(result))
    return engine


def _lost_engine(**config: float) -> AlertEngine:
    return AlertEngine(AlertConfig(**config), zones=ZoneSet.from_config([ZONE]),
                       coverage=Coverage.from_sensors([RADAR]))


@pytest.mark.parametrize(("leaves", "expected"), [(True, 0), (False, 1)])
def test_a_track_leaving_coverage_raises_nothing_one_ending_inside_raises_one(
        leaves: bool, expected: int) -> None:
    # Eastbound from 330 km east of the radar: its partner stops reporting it at the 400 km
    # range (it leaves coverage) or at 50 s, 341 km out (it ends inside coverage).
    far = Obj(35.0, 137.5 + 330e3 / 91.2e3, 11000.0, (230.0, 0.0, 0.0), icao=0x8467D6)
    site = geo.geodetic2ecef(np.array([*np.radians([35.0, 137.5]), 100.0]))

    def tracks(k: int) -> list[tuple[int, Obj]]:
        gone = (np.linalg.norm(reports([far], T0 + k).state[0, :3] - site) > 400e3 if leaves
                else k >= 50)
        return [(3, OTHER)] + ([] if gone else [(1, far)])

    engine = _feed(_lost_engine(), 400, tracks)
    assert engine.counts()["track_lost"] == expected, engine.alerts


@pytest.mark.parametrize(("successor", "expected"), [(True, 0), (False, 1)])
def test_a_track_reacquired_under_a_new_number_is_not_lost(successor: bool,
                                                           expected: int) -> None:
    # The partner's track 1 loses the airliner at 60 s and coasts on a wrong heading (north
    # instead of east, 325 m/s apart) until it is dropped at 100 s; from 75 s its new track 5
    # holds the airliner, under a new STN (track 1 was still current). When STN 1 ends it is
    # ~20 km from anything, so only its successor link tells it was re-acquired.
    def tracks(k: int) -> list[tuple[int, Obj]]:
        rows = [(3, OTHER)]
        if k < 100:
            rows.append((1, AIRLINER if k < 60 else _off(AIRLINER, 60, NORTH)))
        if successor and k >= 75:
            rows.append((5, AIRLINER))
        return rows

    engine = _feed(_lost_engine(), 200, tracks)
    assert engine.counts()["track_lost"] == expected, engine.alerts
    if successor:  # the same alerts on every node
        twin = _feed(_lost_engine(), 200, tracks)
        assert list(twin.alerts) == list(engine.alerts)


@pytest.mark.parametrize(("window_s", "expected"), [(90.0, 0), (60.0, 1)])
def test_a_successor_born_64_s_before_the_old_track_ends_still_holds_it(
        window_s: float, expected: int) -> None:
    # As above, for an aircraft without address (no track carries it on), but the partner
    # coasts the old track 1 on its wrong heading for 70 s (to 130 s) and the new track 5
    # holds the aircraft from 66 s: 64 s before track 1 ends, as in the 1-hour benchmark. A
    # 60-s link window has forgotten the successor by then.
    plain = dataclasses.replace(AIRLINER, icao=-1, mode3a=-1, callsign=b"")

    def tracks(k: int) -> list[tuple[int, Obj]]:
        rows = [(3, OTHER)]
        if k < 130:
            rows.append((1, plain if k < 60 else _off(plain, 60, NORTH)))
        if k >= 66:
            rows.append((5, plain))
        return rows

    engine = _feed(_lost_engine(link_window_s=window_s), 250, tracks)
    assert engine.counts()["track_lost"] == expected, engine.alerts


def test_a_dual_track_that_drifts_off_is_not_lost() -> None:
    # Two tracks of one partner on the airliner (2 km apart, same velocity): two STNs. At
    # 100 s the second drifts off north and is dropped at 115 s, ~7 km off; the first goes on.
    beside = dataclasses.replace(AIRLINER, lat=AIRLINER.lat + 2000.0 / 111e3)

    def tracks(k: int) -> list[tuple[int, Obj]]:
        rows = [(1, AIRLINER), (3, OTHER)]
        if k < 115:
            rows.append((2, beside if k < 100 else _off(beside, 100, NORTH)))
        return rows

    engine = _feed(_lost_engine(), 220, tracks)
    assert engine.counts()["track_lost"] == 0, engine.alerts


def test_an_intruder_reacquired_in_the_zone_raises_one_intrusion() -> None:
    # The intruder enters the zone at ~45 s; at 90 s its track 2 coasts off on a wrong heading
    # and from 100 s track 7 holds it, inside the zone, under a new STN: the same intrusion.
    def tracks(k: int) -> list[tuple[int, Obj]]:
        rows = [(1, AIRLINER)]
        if k < 120:
            rows.append((2, INTRUDER if k < 90 else _off(INTRUDER, 90, (0.0, -200.0, 0.0))))
        if k >= 100:
            rows.append((7, INTRUDER))
        return rows

    engine = _feed(_lost_engine(), 180, tracks)
    alerts = [a for a in engine.alerts.values() if a.kind == "zone_intrusion"]
    assert len(alerts) == 1, alerts
    assert len({a.stn for a in alerts}) == 1


@pytest.mark.parametrize(("back_s", "expected"), [(20, 1), (100, 2)])
def test_a_feed_back_briefly_between_silences_is_one_silence(back_s: int,
                                                            expected: int) -> None:
    # AAA reports 0-30 s, is silent 70 s, reports again for back_s, then is silent again.
    engine, picture, rules = AlertEngine(AlertConfig(silent_s=30.0)), Picture(), IdentityRules()
    for k in range(100 + back_s + 100):
        tables = [reports([OTHER], T0 + k + 0.25, nation=b"BBB")]
        if k < 30 or 100 <= k < 100 + back_s:
            tables.append(reports([AIRLINER], T0 + k + 0.25))
        for table in tables:
            for result in picture.ingest(table):
                engine.update(result, rules.classify(result))
    silent = [a for a in engine.alerts.values() if a.kind == "feed_silent"]
    assert [a.source for a in silent] == ["partner:AAA"] * expected, silent


@pytest.mark.parametrize(("again_at", "expected"), [(100, 1), (200, 2)])
def test_an_adsb_flag_that_clears_and_returns_soon_raises_nothing_new(again_at: int,
                                                                     expected: int) -> None:
    # Flagged at 20 s and held flagged until 80 s; flagged anew at again_at.
    engine, picture, rules = AlertEngine(), Picture(), IdentityRules()
    for k in range(again_at + 30):
        new = k in (20, again_at)
        flags = AdsbFlags(np.array([AIRLINER.icao]), np.array([T0 + k]), np.array([9.0]),
                          np.array([2000.0]), np.array([4]), np.array(["R"]))
        held = np.array([AIRLINER.icao]) if 20 <= k < 80 or k >= again_at else None
        for result in picture.ingest(reports([AIRLINER], T0 + k + 0.25)):
            engine.update(result, rules.classify(result), adsb=flags if new else None,
                          adsb_flagged=held)
    assert engine.counts()["adsb_inconsistent"] == expected, engine.alerts


@pytest.mark.parametrize(("held_again_s", "expected"), [(30, 1), (90, 2)])
def test_a_track_must_be_held_clear_s_again_before_it_is_lost_again(held_again_s: int,
                                                                   expected: int) -> None:
    # The airliner's track is dropped at 100 s (lost: one alert), comes back under its old
    # STN at 160 s for held_again_s, and is dropped again.
    def tracks(k: int) -> list[tuple[int, Obj]]:
        back = k < 100 or 160 <= k < 160 + held_again_s
        return [(3, OTHER)] + ([(1, AIRLINER)] if back else [])

    engine = _feed(_lost_engine(min_track_age_s=10.0), 160 + held_again_s + 60, tracks)
    lost = [a for a in engine.alerts.values() if a.kind == "track_lost"]
    assert len(lost) == expected, lost
    assert len({a.stn for a in lost}) == 1


def test_track_links_match_brute_force() -> None:
    rng = np.random.default_rng(3)
    gap, dv, tau, window = 5000.0, 150.0, 40.0, 60.0
    for _ in range(3):
        stn = np.unique(rng.integers(1, 2**31 - 1, 40))
        n = len(stn)
        state = np.column_stack([rng.uniform(0.0, 40e3, (n, 3)) + 6.4e6,
                                 rng.normal(0.0, 150.0, (n, 3))])
        born = np.less(rng.random(n), 0.2)
        links = TrackLinks(gap, dv, tau, window)
        links.update(stn, state, born, 100.0)
        index, partner = links.partners(stn, 150.0)
        got = {(int(stn[i]), int(p)) for i, p in zip(index, partner, strict=True)}
        want = set()
        speeds = np.linalg.norm(state[:, 3:], axis=1)
        for i in range(n):
            for j in range(n):
                d = np.linalg.norm(state[i, :3] - state[j, :3])
                speed = max(speeds[i], speeds[j])
                close = d <= gap and np.linalg.norm(state[i, 3:] - state[j, 3:]) <= dv
                reborn = (born[i] or born[j]) and d <= gap + speed * tau
                if i != j and (close or reborn):
                    want.add((int(stn[i]), int(stn[j])))
        assert got == want and len(want) > 0
        links.update(stn[:1], state[:1], np.zeros(1, bool), 170.0)
        assert len(links) == 0  # 70 s old: past the window


@pytest.mark.parametrize(("inside_m", "margin_sigma", "expected"),
                         [(50.0, 1.0, 0), (50.0, 0.0, 1), (300.0, 1.0, 1)])
def test_a_track_skimming_a_zone_boundary_within_its_error_raises_nothing(
        inside_m: float, margin_sigma: float, expected: int) -> None:
    # The intruder flies east along the zone's northern edge, inside_m inside it; its track's
    # position sigma is 100 m. Inside by less than margin_sigma sigma: no intrusion yet.
    skim = dataclasses.replace(INTRUDER, lat=34.1 - inside_m / 111e3)
    engine = AlertEngine(AlertConfig(zone_margin_sigma=margin_sigma),
                         zones=ZoneSet.from_config([ZONE]))
    engine, _ = _run(180, objs=[AIRLINER, skim], engine=engine)
    assert engine.counts()["zone_intrusion"] == expected, engine.alerts
