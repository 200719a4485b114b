"""Envelope security: every kind of bad envelope is rejected and counted by reason, none
reaches the picture, good traffic flows on; the release audit chain detects tampering."""

from __future__ import annotations

import os
from pathlib import Path

import msgspec
import numpy as np
import pytest

from airpicture.audit import AuditLog, verify_chain
from airpicture.cli.main import main
from airpicture.fusion import Picture, local_tracks_to_table
from airpicture.messages import Envelope, LocalTrack, TrackStatus, decode_msgpack, encode_msgpack
from airpicture.security import (
    REASONS,
    Rejected,
    Sealer,
    Verifier,
    VerifierConfig,
    load_private_key,
    load_public_key,
    new_private_key,
    signed_bytes,
)

T = 1_700_000_000.0
KEYS = {n: new_private_key() for n in ("JPN", "USA", "MALLORY")}


def verifier(**config: float) -> Verifier:
    partners = {n: KEYS[n].public_key() for n in ("JPN", "USA")}
    return Verifier(partners, audiences={"coalition"}, config=VerifierConfig(**config))  # type: ignore[arg-type]


def tracks(nation: str, ids: range, t: float) -> list[LocalTrack]:
    cov = np.diag([100.0**2] * 3 + [5.0**2] * 3).ravel().tolist()
    return [
        LocalTrack(
            nation=nation,
            track_id=i,
            time=t,
            state=[-3.9e6 + 1000.0 * i, 3.4e6, 3.7e6, 100.0, 0.0, 0.0],
            covariance=cov,
            status=TrackStatus.CONFIRMED,
            quality=0.9,
        )
        for i in ids
    ]


def seal(sealer: Sealer, t: float, items: list[LocalTrack], audience: str = "coalition") -> bytes:
    return sealer.seal(audience, t, "local_tracks", encode_msgpack(items), len(items))


def resign(data: bytes, key_owner: str, **changes: object) -> bytes:
    """Re-sign an envelope with changes, as an attacker holding ``key_owner``'s key would."""
    env = msgspec.structs.replace(decode_msgpack(data, Envelope), signature=b"", **changes)
    sig = KEYS[key_owner].sign(signed_bytes(env))
    return encode_msgpack(msgspec.structs.replace(env, signature=sig))


def attacks(jpn: Sealer) -> dict[str, bytes]:
    """One bad envelope per reason, each carrying tracks with ids >= 900."""
    bad = tracks("JPN", range(900, 903), T + 1.5)
    good = seal(jpn, T + 1.5, bad)  # a real JPN envelope, used as material
    env = decode_msgpack(good, Envelope)
    tampered = msgspec.structs.replace(
        env, payload=encode_msgpack(tracks("JPN", range(950, 951), T))
    )
    forged = msgspec.structs.replace(env, seq=1000, signature=bytes(64))
    return {
        "oversized": good + bytes(2 << 20),
        "malformed": good[: len(good) // 2],  # truncated
        "bad_version": resign(good, "JPN", v=99),
        "unknown_sender": resign(good, "MALLORY", sender="MALLORY", seq=1),
        "unsigned": encode_msgpack(msgspec.structs.replace(env, signature=b"")),
        "impersonation": resign(good, "USA", seq=1001),  # claims JPN, signed with USA's key
        "bad_signature": encode_msgpack(forged),
        "tampered": encode_msgpack(tampered),  # payload changed after signing
        "wrong_key": resign(good, "MALLORY", seq=1002),  # claims JPN, signed by someone else
        "wrong_audience": resign(seal(jpn, T + 1.6, bad, "japan-only"), "JPN"),
        "replayed": good,  # delivered once below, then again
        "out_of_window": resign(good, "JPN", seq=1003, time=T + 10_000.0),
    }


EXPECTED = {
    "oversized": "oversized",
    "malformed": "malformed",
    "bad_version": "bad_version",
    "unknown_sender": "unknown_sender",
    "unsigned": "unsigned",
    "impersonation": "impersonation",
    "bad_signature": "bad_signature",
    "tampered": "bad_signature",
    "wrong_key": "bad_signature",
    "wrong_audience": "wrong_audience",
    "replayed": "replayed",
    "out_of_window": "out_of_window",
}


def test_each_attack_is_rejected_with_its_reason() -> None:
    jpn = Sealer("JPN", KEYS["JPN"])
    v = verifier()
    v.verify(seal(jpn, T, tracks("JPN", range(3), T)))  # sets the data-time reference
    cases = attacks(jpn)
    v.verify(cases["replayed"])  # first delivery is fine
    for name, data in cases.items():
        with pytest.raises(Rejected) as info:
            v.verify(data)
        assert info.value.reason == EXPECTED[name], name
    counted = {r: n for r, n in v.rejections.items() if n}
    expected_counts: dict[str, int] = {}
    for reason in EXPECTED.values():
        expected_counts[reason] = expected_counts.get(reason, 0) + 1
    assert counted == expected_counts
    assert set(counted) <= set(REASONS)
    assert v.rejections_by_sender[("JPN", "impersonation")] == 1


def test_nothing_bad_reaches_the_picture_and_good_traffic_flows() -> None:
    jpn, usa = Sealer("JPN", KEYS["JPN"]), Sealer("USA", KEYS["USA"])
    v = verifier()
    picture = Picture()
    stream: list[bytes] = []
    cases = attacks(Sealer("JPN", KEYS["JPN"], start_seq={"coalition": 5000}))
    del cases["replayed"]
    for k in range(6):
        t = T + k + 0.2
        stream.append(seal(jpn, t, tracks("JPN", range(10), t)))
        stream.append(seal(usa, t + 0.1, tracks("USA", range(10), t + 0.1)))
        stream.extend(cases.values())  # every attack, every second
        stream.append(stream[-len(cases) - 2])  # and a replay of a good one
    results = []
    for data in stream:
        env = v.accept(data)
        if env is None:
            continue
        batch = decode_msgpack(env.payload, list[LocalTrack])
        results.extend(picture.ingest(local_tracks_to_table(batch)))
    results.extend(picture.flush())
    assert sum(v.rejections.values()) == 6 * (len(cases) + 1)
    assert v.accepted == {"JPN": 6, "USA": 6}
    ids = set(results[-1].contributor_track.tolist())
    assert ids == set(range(10))  # good tracks all there, no attacker track (ids >= 900)
    assert len(results[-1].picture) == 10  # JPN and USA tracks of the same objects fused


def test_out_of_order_within_window_is_accepted_once() -> None:
    jpn = Sealer("JPN", KEYS["JPN"])
    v = verifier(replay_window=4)
    msgs = [seal(jpn, T + i, []) for i in range(8)]
    for i in (0, 2, 1, 7):
        v.verify(msgs[i])
    with pytest.raises(Rejected, match="replayed"):
        v.verify(msgs[2])
    with pytest.raises(Rejected, match="replayed"):
        v.verify(msgs[3])  # seq 4 is behind the window of 4 below seq 8


def test_audit_chain_verifies_and_detects_tampering(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    jpn = Sealer("JPN", KEYS["JPN"], audit=AuditLog(path))
    for k in range(5):
        seal(jpn, T + k, tracks("JPN", range(k + 1), T + k))
    assert jpn.audit is not None
    entries = jpn.audit.entries
    assert verify_chain(entries) is None and [e.count for e in entries] == [1, 2, 3, 4, 5]
    assert AuditLog(path).head == jpn.audit.head  # reread from the file, verified
    changed = msgspec.structs.replace(entries[2], count=99)
    assert verify_chain([*entries[:2], changed, *entries[3:]]) == 2
    assert verify_chain(entries[:2] + entries[3:]) == 2  # dropped
    assert verify_chain([entries[1], entries[0], *entries[2:]]) == 0  # reordered
    lines = path.read_text().splitlines()
    lines[3] = lines[3].replace('"count":4', '"count":40')
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ValueError, match="line 4"):
        AuditLog(path)


def test_keys_new_writes_a_usable_key_pair(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["keys", "new", "JPN", "--dir", str(tmp_path)]) == 0
    private = tmp_path / "JPN.key"
    assert os.stat(private).st_mode & 0o777 == 0o600
    key = load_private_key(private.read_bytes())
    public = load_public_key((tmp_path / "JPN.pub").read_bytes())
    sealer = Sealer("JPN", key)
    Verifier({"JPN": public}).verify(sealer.seal("coalition", T, "x", b""))
    assert "BEGIN PUBLIC KEY" in capsys.readouterr().out
    assert main(["keys", "new", "JPN", "--dir", str(tmp_path)]) == 1  # no silent overwrite
    assert main(["keys", "new", "bad name", "--dir", str(tmp_path)]) == 2


def test_mangled_bytes_only_ever_raise_rejected() -> None:
    jpn = Sealer("JPN", KEYS["JPN"])
    v = verifier()
    good = seal(jpn, T, tracks("JPN", range(3), T))
    v.verify(good)  # so that a mutation that changes nothing is a replay
    rng = np.random.default_rng(7)
    for _ in range(300):
        data = bytearray(good)
        for i in rng.integers(0, len(data), size=int(rng.integers(1, 4))):
            data[i] = int(rng.integers(0, 256))
        cut = int(rng.integers(1, len(data) + 1))
        with pytest.raises(Rejected):
            v.verify(bytes(data[:cut]) if rng.random() < 0.3 else bytes(data))
    assert sum(v.rejections.values()) == 300
