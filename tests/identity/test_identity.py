"""Identity rules: cooperative data, the friendly list, behaviour, operator overrides."""

from __future__ import annotations

import msgspec
import numpy as np
import pytest

from airpicture import geo
from airpicture.fusion import Picture
from airpicture.fusion.identity import (
    IdentityConfig,
    IdentityRules,
    Reason,
    identity_code,
    with_identity,
)
from airpicture.messages import Identity, IdentityOverride, decode_msgpack, encode_msgpack

from .picture_synth import T0, Obj, reports, rows_of, run

AIRLINER = Obj(35.0, 137.0, 11000.0, (230.0, 0.0, 0.0), icao=0x8467D3, mode3a=0o2341,
               callsign=b"JAL123")
FRIENDLY = Obj(35.5, 137.5, 9000.0, (0.0, 200.0, 0.0), icao=0xAE1234, mode3a=0o4401)
LOW_FAST = Obj(34.5, 136.5, 400.0, (250.0, 0.0, 0.0))
SLOW_UNKNOWN = Obj(34.8, 136.0, 1500.0, (60.0, 0.0, 0.0))
FRIENDLY_CODE = Obj(36.0, 138.0, 6000.0, (150.0, 0.0, 0.0), mode3a=0o5100)
HIGH_FAST = Obj(36.5, 138.5, 16000.0, (0.0, 600.0, 0.0))
OBJS = [AIRLINER, FRIENDLY, LOW_FAST, SLOW_UNKNOWN, FRIENDLY_CODE, HIGH_FAST]
CONFIG = IdentityConfig.from_lists(icao_hex=["AE1234"], mode3a_octal=["5100"])


def _classify(seconds: int) -> tuple[list[Identity], list[str], IdentityRules]:
    rules = IdentityRules(CONFIG)
    picture = Picture()
    for result in run(picture, OBJS, seconds):
        ident = rules.classify(result)
    rows = rows_of(result, len(OBJS))
    ids, why = ident.identities(), ident.reasons()
    return [ids[i] for i in rows], [why[i] for i in rows], rules


def test_civil_friend_and_suspect_after_the_track_settles() -> None:
    ids, reasons, _ = _classify(40)
    assert ids == [Identity.NEUTRAL, Identity.FRIEND, Identity.SUSPECT, Identity.UNKNOWN,
                   Identity.ASSUMED_FRIEND, Identity.SUSPECT]
    assert reasons[0] == "civil Mode S / ADS-B address 8467D3"
    assert reasons[1] == "address AE1234 is on the friendly list"
    assert "250 m/s at 40" in reasons[2] and "low level" in reasons[2]
    assert "Mode 3/A 5100" in reasons[4]
    assert "600 m/s" in reasons[5]


def test_behaviour_waits_for_the_track_to_settle() -> None:
    ids, reasons, _ = _classify(10)
    assert ids[2] == Identity.PENDING and ids[3] == Identity.PENDING
    assert reasons[2].startswith("awaiting evidence")
    assert ids[0] == Identity.NEUTRAL  # cooperative evidence needs no waiting


def test_a_manoeuvring_non_cooperative_track_becomes_suspect() -> None:
    rules = IdentityRules(IdentityConfig(min_age_s=5.0))
    picture = Picture()
    obj = Obj(35.0, 137.0, 5000.0, (200.0, 0.0, 0.0))
    results = run(picture, [obj], 20)
    # A hard reversal at T0 + 20 s: 40 m/s^2 over the 10 s window, position continuous.
    at20 = reports([obj], T0 + 20.0).state[0]
    back = -at20[3:]
    lat, lon, h = geo.ecef2geodetic(at20[:3] - back * 20.0)
    turned = Obj(float(np.degrees(lat)), float(np.degrees(lon)), float(h), (-200.0, 0.0, 0.0))
    results += run(picture, [turned], 20, start=20)
    codes = [int(rules.classify(r).code[0]) for r in results]
    assert codes[10] == identity_code(Identity.UNKNOWN)
    assert codes[-1] == identity_code(Identity.SUSPECT)
    assert Reason.MANOEUVRE == rules.classify(results[-1]).reason[0]


def test_automatic_rules_never_say_hostile_even_when_a_partner_does() -> None:
    rules = IdentityRules()
    picture = Picture()
    results = run(picture, [LOW_FAST], 30)
    hostile = identity_code(Identity.HOSTILE)
    for r in results:
        r.picture.identity[:] = hostile  # what a partner reported
        assert rules.classify(r).code[0] <= identity_code(Identity.SUSPECT)


def test_an_operator_hostile_designation_reaches_every_node() -> None:
    # The shared log: one partner's records (here: their times), with an operator's override.
    log: list[tuple[str, bytes]] = []
    for k in range(60):
        log.append(("tracks", encode_msgpack(T0 + k + 0.25)))
        if k == 30:
            msg = IdentityOverride(stn=0, identity=Identity.HOSTILE, operator="op1",
                                   nation="BBB", time=T0 + 30.0, reason="visual ID")
            log.append(("override", encode_msgpack(msg)))
    target = 0
    nodes = []
    for _ in range(2):  # two nodes read the same log
        picture, rules = Picture(), IdentityRules(CONFIG)
        hashes, ids, reasons = [], [], [""]
        for kind, payload in log:
            if kind == "override":  # the operator picked the low fast flyer's STN
                o = decode_msgpack(payload, IdentityOverride)
                rules.override(msgspec.structs.replace(o, stn=target))
                continue
            for result in picture.ingest(reports(OBJS, decode_msgpack(payload, float))):
                ident = rules.classify(result)
                row = int(rows_of(result, len(OBJS))[2])
                target = int(result.picture.track[row])
                hashes.append(with_identity(result, ident).hash)
                ids.append(ident.identities()[row])
                reasons = [ident.reasons()[row]]
        nodes.append((hashes, ids, reasons[0]))
    (h1, ids1, why1), (h2, ids2, why2) = nodes
    assert h1 == h2 and ids1 == ids2 and why1 == why2
    assert ids1[25] == Identity.SUSPECT and ids1[-1] == Identity.HOSTILE
    assert ids1.count(Identity.HOSTILE) == len(ids1) - 30 + 1  # from the override's time on
    assert why1 == "operator op1 (BBB) designated hostile: visual ID"


def test_an_override_to_pending_hands_the_track_back_to_the_rules() -> None:
    rules = IdentityRules()
    picture = Picture()
    results = run(picture, [LOW_FAST], 40)
    stn = int(results[0].picture.track[0])
    rules.override(IdentityOverride(stn=stn, identity=Identity.FRIEND, operator="o",
                                    nation="AAA", time=T0 + 5.0))
    rules.override(IdentityOverride(stn=stn, identity=Identity.PENDING, operator="o",
                                    nation="AAA", time=T0 + 30.0))
    codes = [int(rules.classify(r).code[0]) for r in results]
    assert codes[10] == identity_code(Identity.FRIEND)
    assert codes[-1] == identity_code(Identity.SUSPECT)


def test_with_identity_changes_the_hash() -> None:
    rules = IdentityRules(CONFIG)
    result = run(Picture(), OBJS, 5)[-1]
    ident = rules.classify(result)
    assert with_identity(result, ident).hash != result.hash
    np.testing.assert_array_equal(with_identity(result, ident).picture.identity, ident.code)


@pytest.mark.parametrize("bad", [{"friendly_icao": (1 << 24,)}, {"max_speed_mps": 0.0},
                                 {"friendly_mode3a": (0o10000,)}])
def test_bad_config_is_rejected(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        IdentityConfig(**bad)  # type: ignore[arg-type]
