"""Bad input: truncated blocks, wrong lengths, unknown categories, garbage, broken Beast
escapes. Every case is rejected and counted, streams resynchronise, nothing crashes; the
hypothesis fuzz tests throw arbitrary bytes at every decoder entry point."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from airpicture.io.asterix import AsterixDecoder
from airpicture.io.asterix_blocks import DatablockStream, make_datablock, split_datagram
from airpicture.io.beast import BeastStream, decode_beast, encode_beast
from airpicture.io.modes import ModeSDecoder
from airpicture.io.pcap import Datagram
from airpicture.io.rejections import Rejections
from airpicture.io.sbs import SbsDecoder
from airpicture.messages import SensorInfo, SensorKind

RECORD = bytes.fromhex("fdf70219c9356d4da0c5aff1e00200052802d6e6b3b5c4e3b8ea")
RX = [SensorInfo(id="rx", nation="FR", kind=SensorKind.ADSB, lat_deg=48.9, lon_deg=2.5,
                 alt_m=100.0, max_range_m=4e5, period_s=1.0)]


def _block(cat: int = 48, records: bytes = b"\x80\x19\x0d") -> bytes:
    return make_datablock(cat, records)


def test_datagram_framing_rejections_are_counted() -> None:
    good = _block()
    cases = {
        "asterix.truncated_header": good + b"\x30\x00",
        "asterix.bad_length": good + b"\x30\x00\x02\x80",
        "asterix.truncated_block": good + b"\x30\x00\x20\x80\x19",
    }
    for reason, data in cases.items():
        rej = Rejections()
        blocks = split_datagram(data, rej)
        assert [b.to_bytes() for b in blocks] == [good], reason
        assert rej.by_reason() == {reason: 1}, reason
        assert rej.bytes_skipped == len(data) - len(good)


def test_unknown_category_and_bad_records_are_counted() -> None:
    rej = Rejections()
    dec = AsterixDecoder([], rej)
    datagram = (_block(48, b"\x80\x19\x0d") + _block(99, b"\x80\x00\x00")
                + _block(48, b"\xff\xff\xff\xff\xff") + _block(62, b"\xff\xff"))
    batch = dec.decode([Datagram(0.0, datagram)])
    assert len(batch.plots) == 0
    assert rej.by_reason() == {
        "asterix.unknown_category": 1, "cat048.fspec_too_long": 1,
        "cat048.no_position": 1, "cat062.bad_block": 1,
    }


def test_stream_resynchronises_after_garbage_and_bad_lengths() -> None:
    a, b = _block(48, RECORD), _block(34, b"\xf0\x19\x0d\x02\x35\x6d\x4d\x00")
    noise = bytes([0x30, 0x00, 0x01, 0xAA, 0x3E, 0xFF, 0xFF, 0x00, 0x17])
    junk = b"\x00\x13\x37"
    # A block directly followed by garbage cannot be confirmed and is dropped with it.
    data = noise + a + b + a + junk + b + a + b"\x30\x00"
    for chunk in (1, 5, len(data)):
        rej = Rejections()
        stream = DatablockStream(rej)
        got = []
        for k in range(0, len(data), chunk):
            got += stream.feed(data[k:k + chunk])
        got += stream.flush()
        assert [g.to_bytes() for g in got] == [a, b, b, a]
        assert rej.bytes_skipped == len(noise) + len(a) + len(junk) + 2
        assert set(rej.by_reason()) == {"asterix.resync"}


def test_beast_broken_escape_garbage_and_unknown_type() -> None:
    msg = encode_beast(0x33, 0x1A1A, 0x1A, bytes.fromhex("8d48520a58c3849c784990179ae0"))
    assert msg.count(b"\x1a\x1a") == 3  # the doubled escapes
    broken = msg[:5] + b"\x1a" + msg[7:12]  # a lone 0x1a inside the message
    data = b"\x00\x01garbage" + msg + broken + msg + b"\x1a\x39\x01\x02" + msg
    rej = Rejections()
    frames = decode_beast(data, rej)
    assert len(frames) == 3
    assert frames.hex_frames() == ["8d48520a58c3849c784990179ae0"] * 3
    assert int(frames.stamp[0]) == 0x1A1A and int(frames.signal[0]) == 0x1A
    reasons = rej.by_reason()
    assert reasons["beast.bad_escape"] == 1 and reasons["beast.unknown_type"] == 1
    assert reasons["beast.garbage"] >= 2


def test_beast_stream_waits_for_split_messages() -> None:
    msg = encode_beast(0x32, 12345, 200, bytes.fromhex("5d48520a5d4a12"))
    rej = Rejections()
    stream = BeastStream(rej)
    got = [len(stream.feed(msg[k:k + 1])) for k in range(len(msg))]
    assert sum(got) == 1 and got[-1] == 1 and rej.total() == 0


def test_mode_s_bad_crc_and_unknown_address_are_counted() -> None:
    rej = Rejections()
    dec = ModeSDecoder(RX, 0, rej)
    good = "8d48520a58c3849c784990179ae0"
    flipped = good[:10] + "1" + good[11:]
    dec.decode([flipped, "zz", "0" * 10, "28000ea4000000"], np.arange(4.0))
    reasons = rej.by_reason()
    assert reasons["modes.bad_crc"] == 1 and reasons["modes.bad_length"] == 2
    assert reasons["modes.unknown_address"] == 1


def test_sbs_bad_lines_are_counted() -> None:
    rej = Rejections()
    dec = SbsDecoder(RX, 0, rej)
    lines = ["MSG,3,1,1,ZZZZZZ,1,2024/07/06,12:00:00.000,2024/07/06,12:00:00.000,,37000,,,"
             "48.5,2.5,,,0,0,0,0", "garbage", "MSG,3,1,1,4CA2D6,1,2024/07/06,12:00:00.000,"
             "2024/07/06,12:00:00.000,,37000,,,95.0,2.5,,,0,0,0,0", "STA,,,,,,,,,,,,,,,,,,,,,"]
    assert len(dec.decode(lines, 0.0)) == 0
    assert rej.by_reason() == {"sbs.bad_field": 2, "sbs.bad_line": 1}


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=200))
def test_fuzz_asterix_datagrams(data: bytes) -> None:
    rej = Rejections()
    AsterixDecoder(RX, rej).decode([Datagram(1.7e9, data)])
    stream = DatablockStream(rej)
    stream.feed(data)
    stream.flush()


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([48, 21, 34, 62, 63, 65, 1, 240]), min_size=1, max_size=3),
       st.binary(min_size=1, max_size=60))
def test_fuzz_supported_categories_with_random_records(cats: list[int], body: bytes) -> None:
    data = b"".join(make_datablock(c, body) for c in cats)
    AsterixDecoder(RX, Rejections()).decode([Datagram(1.7e9, data)])


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200), st.integers(1, 50))
def test_fuzz_beast_and_mode_s(data: bytes, chunk: int) -> None:
    rej = Rejections()
    stream = BeastStream(rej)
    dec = ModeSDecoder(RX, 0, rej)
    for k in range(0, len(data), chunk):
        frames = stream.feed(data[k:k + chunk])
        hexes = frames.hex_frames()
        dec.decode(hexes, np.arange(len(hexes), dtype=float))
    stream.flush()


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_fuzz_sbs(data: bytes) -> None:
    SbsDecoder(RX, 0, Rejections()).feed(data + b"\n", 0.0)
