"""Hostile envelopes beyond the basic cases of ``tests/security``: nesting bombs, huge and
lying array headers, wrong types, every single-byte tamper of a real envelope, structured
envelopes signed by the wrong party, and a node configured with another nation's key. What
must hold: nothing is accepted that its sender did not seal, nothing raises but ``Rejected``,
and every rejection is counted by reason and sender (what the node's status shows)."""

from __future__ import annotations

import time
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from airpicture.messages import Envelope, LocalTrack, decode_msgpack, encode_msgpack
from airpicture.security import (
    REASONS,
    Rejected,
    Sealer,
    Verifier,
    VerifierConfig,
    new_private_key,
    signed_bytes,
)

from .targets import KEYS, NATIONS, T0, Targets, local_tracks

PARTNERS = {n: KEYS[n].public_key() for n in NATIONS}


def verifier(**config: Any) -> Verifier:
    return Verifier(PARTNERS, ["coalition"], VerifierConfig(**config))


def sealed(nation: str = "JPN", seq: int = 0, n: int = 2, t: float = T0) -> bytes:
    sealer = Sealer(nation, KEYS[nation], start_seq={"coalition": seq})
    items = local_tracks(nation, n, t)
    return sealer.seal("coalition", t, "local_tracks", encode_msgpack(items), n)


def resign(data: bytes, signer: str, **changes: object) -> bytes:
    env = msgspec.structs.replace(decode_msgpack(data, Envelope), signature=b"", **changes)
    signature = KEYS[signer].sign(signed_bytes(env))
    return encode_msgpack(msgspec.structs.replace(env, signature=signature))


def reason(v: Verifier, data: bytes) -> str:
    with pytest.raises(Rejected) as info:
        v.verify(data)
    return info.value.reason


def nest(depth: int, leaf: bytes = b"\xc0") -> bytes:
    return b"\x91" * depth + leaf  # fixarray of one element, ``depth`` times


def test_nesting_bombs_huge_and_lying_headers_and_wrong_types_are_malformed() -> None:
    v = verifier()
    good = decode_msgpack(sealed(), Envelope)
    fields = msgspec.structs.asdict(good)
    wrong_types = [
        {**fields, "seq": "1"}, {**fields, "time": "now"}, {**fields, "signature": 7},
        {**fields, "payload": [1, 2]}, {**fields, "sender": None}, {**fields, "extra": 1},
        {k: x for k, x in fields.items() if k != "seq"}, [fields], fields["payload"],
    ]
    cases = {
        "nesting bomb": nest(200_000),
        "nested map bomb": b"\x81\xa1a" * 100_000 + b"\xc0",
        "array claiming 2**32-1 items": b"\xdd\xff\xff\xff\xff" + b"\xc0" * 16,
        "map claiming 2**32-1 pairs": b"\xdf\xff\xff\xff\xff" + b"\xa1a\xc0" * 8,
        "bin claiming 4 GiB": b"\xc6\xff\xff\xff\xff" + b"\x00" * 64,
        "str claiming 4 GiB": b"\xdb\xff\xff\xff\xff" + b"a" * 64,
        "empty": b"",
        **{f"wrong types {i}": encode_msgpack(w) for i, w in enumerate(wrong_types)},
    }
    for name, data in cases.items():
        t0 = time.perf_counter()
        assert reason(v, data) == "malformed", name
        assert time.perf_counter() - t0 < 1.0, name  # no allocation from a lying header
    assert v.rejections == {"malformed": len(cases)}


def test_oversized_is_refused_before_decoding() -> None:
    v = verifier(max_bytes=4096)
    big = sealed(n=200)  # a genuine envelope, too big for this receiver
    assert len(big) > 4096
    assert reason(v, big) == "oversized"
    assert reason(v, nest(10_000_000)) == "oversized"  # a 10 MB bomb is never parsed


def test_nested_bomb_in_a_signed_payload_reaches_no_track() -> None:
    """A partner signs garbage: the envelope is genuine, its payload is not tracks; the
    node's path drops it (counted by the node as a bad payload) and nothing is fused."""
    sealer = Sealer("USA", KEYS["USA"])
    t = Targets()
    for payload in (nest(50_000), b"\xdd\xff\xff\xff\xff", encode_msgpack([{"nation": 1}])):
        data = sealer.seal("coalition", T0, "local_tracks", payload, 0)
        t.genuine.add(signed_bytes(decode_msgpack(data, Envelope)))
        t.envelope(data)
    with pytest.raises(msgspec.ValidationError):
        decode_msgpack(nest(100_000), list[LocalTrack])
    assert t.accepted == 3 and len(t.picture.flush()) == 0 and len(t.picture.state.systems) == 0


def test_every_single_byte_tamper_is_rejected() -> None:
    data = sealed(n=1)
    original = decode_msgpack(data, Envelope)
    accepted_same = 0
    for k in range(len(data)):
        for value in {data[k] ^ 0x01, data[k] ^ 0x80, 0xFF} - {data[k]}:
            v = verifier()
            forged = data[:k] + bytes([value]) + data[k + 1:]
            env = v.accept(forged)
            if env is not None:  # only a re-encoding of the very same content may pass
                assert signed_bytes(env) == signed_bytes(original)
                accepted_same += 1
            else:
                assert sum(v.rejections.values()) == 1
    assert accepted_same <= 2


@settings(max_examples=80, deadline=None)
@given(
    sender=st.sampled_from([*NATIONS, "MALLORY", ""]),
    signer=st.sampled_from([*NATIONS, None]),
    audience=st.sampled_from(["coalition", "other"]),
    seq=st.integers(-(2**63), 2**63 - 1),
    t=st.floats(allow_nan=True, allow_infinity=True),
    kind=st.text(max_size=20),
    payload=st.binary(max_size=200),
    v=st.integers(0, 3),
)
def test_structured_envelopes_pass_only_when_their_sender_signed_them(
    sender: str, signer: str | None, audience: str, seq: int, t: float, kind: str,
    payload: bytes, v: int,
) -> None:
    env = Envelope(sender=sender, audience=audience, seq=seq, time=t, kind=kind,
                   payload=payload, v=v)
    if signer is not None:
        env = msgspec.structs.replace(env, signature=KEYS[signer].sign(signed_bytes(env)))
    ver = verifier()
    got = ver.accept(encode_msgpack(env))
    if got is not None:
        assert signer == sender and audience == "coalition" and v == 1 and seq > 0
    else:
        (why,) = [r for r, n in ver.rejections.items() if n]
        assert why in REASONS


def test_a_node_configured_with_another_nations_key_is_refused_and_counted() -> None:
    """USA's node by mistake (or malice) holds JPN's private key: its envelopes claim USA
    but carry JPN's signature. Every partner refuses them as impersonation, counted against
    USA; JPN's own traffic and USA's genuine traffic still flow."""
    v = verifier()
    wrong = Sealer("USA", KEYS["JPN"])
    stolen = [wrong.seal("coalition", T0 + i, "local_tracks",
                         encode_msgpack(local_tracks("USA", 1, T0 + i)), 1) for i in range(5)]
    for data in stolen:
        assert reason(v, data) == "impersonation"
    unknown = Sealer("USA", new_private_key())
    assert reason(v, unknown.seal("coalition", T0, "local_tracks", b"\x90", 0)) == "bad_signature"
    assert v.accept(sealed("JPN", 0)) is not None
    assert v.accept(sealed("USA", 0)) is not None
    assert v.rejections_by_sender[("USA", "impersonation")] == 5
    assert v.rejections_by_sender[("USA", "bad_signature")] == 1
    assert v.accepted == {"JPN": 1, "USA": 1}


def test_replay_of_a_whole_log_is_refused_record_by_record() -> None:
    v = verifier()
    log = [sealed(n, 0) for n in NATIONS] + [sealed(n, 1) for n in NATIONS]
    assert all(v.accept(d) is not None for d in log)
    for data in log:
        assert reason(v, data) == "replayed"
    assert v.rejections == {"replayed": len(log)}
