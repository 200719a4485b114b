"""The columnar wire form of a release (``LocalTrackBatch``): the tracker snapshot to
release columns, round trip against the per-track ``LocalTrack`` path, chunking, only used
sensor ids on the wire, and whole-batch rejection of every kind of bad column."""

from __future__ import annotations

from typing import Any

import msgspec
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from airpicture.fusion import local_tracks_to_table, table_to_local_tracks
from airpicture.messages import (
    LocalTrack,
    LocalTrackBatch,
    TrackStatus,
    decode_msgpack,
    encode_msgpack,
)
from airpicture.node.wire import BATCH_REJECTIONS, decode_batch, encode_batches, snapshot_columns
from airpicture.policy import LocalTrackColumns
from airpicture.track_table import TrackTable
from airpicture.tracking import TrackArrays

T0 = 1_780_272_000.0
SENSORS = tuple(f"JPN-S{i}" for i in range(10))


def columns(n: int, seed: int = 0, nation: str = "JPN") -> LocalTrackColumns:
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(n, 6, 6))
    table = TrackTable(
        time=T0 + rng.uniform(0, 1, n),
        track=rng.integers(1, 1 << 40, n),
        source=np.full(n, nation.encode(), "S16"),
        state=rng.normal(size=(n, 6)) * [6e6, 6e6, 6e6, 200, 200, 10],
        covariance=a @ a.transpose(0, 2, 1) + np.eye(6),
        status=rng.integers(0, 3, n).astype(np.uint8),
        quality=rng.uniform(0, 1, n),
        identity=rng.integers(0, 7, n).astype(np.uint8),
        icao=np.where(rng.uniform(size=n) < 0.5, rng.integers(0, 1 << 24, n), -1).astype(np.int32),
        mode3a=np.where(rng.uniform(size=n) < 0.5, rng.integers(0, 4096, n), -1).astype(np.int16),
        callsign=np.array([f"JAL{i % 9999}".encode() if i % 3 else b"" for i in range(n)], "S8"),
    )
    mu = rng.dirichlet([1.0, 1.0, 1.0], n)
    mask = rng.integers(0, 1 << 6, n).astype(np.uint64) << np.uint64(2)  # sensors 2..7 only
    return LocalTrackColumns(table, mask, mu, table.time - 0.5, SENSORS)


def decode_all(payloads: list[tuple[bytes, int]], sender: str = "JPN") -> TrackTable:
    tables = []
    for payload, count in payloads:
        table, dropped = decode_batch(payload, sender)
        assert dropped == {} and len(table) == count
        tables.append(table)
    return TrackTable.concat(tables)


def test_round_trip_equals_the_per_track_message_path() -> None:
    cols = columns(2500)
    got = decode_all(encode_batches(cols, "JPN", chunk=1000))
    # The independent path: one LocalTrack message per track, then back to columns.
    per_track = encode_msgpack(table_to_local_tracks(cols.table))
    expected = local_tracks_to_table(decode_msgpack(per_track, list[LocalTrack]))
    assert got.equals(expected) and got.equals(cols.table)


@pytest.mark.parametrize(("n", "chunk", "sizes"), [(2500, 1000, [1000, 1000, 500]),
                                                  (1000, 1000, [1000]), (0, 1000, [0])])
def test_chunks(n: int, chunk: int, sizes: list[int]) -> None:
    payloads = encode_batches(columns(n), "JPN", chunk)
    assert [c for _, c in payloads] == sizes
    assert [decode_msgpack(p, LocalTrackBatch).count for p, _ in payloads] == sizes


def test_only_the_sensors_some_track_refers_to_go_out_renumbered() -> None:
    cols = columns(300, seed=3)
    ((payload, _),) = encode_batches(cols, "JPN", chunk=1000)
    batch = decode_msgpack(payload, LocalTrackBatch)
    assert batch.sensors == [SENSORS[i] for i in range(2, 8)]
    for s in (SENSORS[0], SENSORS[1], SENSORS[8], SENSORS[9]):
        assert s.encode() not in payload
    assert batch.sensor_mask is not None
    mask = np.frombuffer(batch.sensor_mask, "<u8").tolist()
    for row, m in zip(cols.sensors.tolist(), mask, strict=True):
        sent = {batch.sensors[b] for b in range(6) if (m >> b) & 1}
        assert sent == {SENSORS[b] for b in range(10) if (row >> b) & 1}
    mu = np.frombuffer(batch.mode_probabilities or b"", "<f8").reshape(-1, batch.modes)
    np.testing.assert_array_equal(mu, cols.mode_probabilities)


def _valid() -> LocalTrackBatch:
    ((payload, _),) = encode_batches(columns(20, seed=5), "JPN", chunk=100)
    return decode_msgpack(payload, LocalTrackBatch)


def _patched(field: str, index: int, dtype: str, value: Any) -> dict[str, Any]:
    data = getattr(_valid(), field)
    array = np.frombuffer(data, dtype).copy()
    array[index] = value
    return {field: array.tobytes()}


BAD: dict[str, tuple[dict[str, Any], str]] = {
    "short state": ({"state": _valid().state[:-8]}, "bad_batch_length"),
    "count too big": ({"count": 21}, "bad_batch_length"),
    "mask without sensors": ({"sensors": None}, "bad_batch_length"),
    "nan state": (_patched("state", 7, "<f8", np.nan), "bad_batch_value"),
    "inf covariance": (_patched("covariance", 40, "<f8", np.inf), "bad_batch_value"),
    "nan time": (_patched("time", 3, "<f8", np.nan), "bad_batch_value"),
    "quality 1.5": (_patched("quality", 0, "<f8", 1.5), "bad_batch_value"),
    "negative track id": (_patched("track_id", 2, "<i8", -5), "bad_batch_value"),
    "status code 9": (_patched("status", 1, "u1", 9), "bad_batch_value"),
    "identity code 200": (_patched("identity", 1, "u1", 200), "bad_batch_value"),
    "icao past 24 bits": (_patched("icao", 4, "<i4", 1 << 24), "bad_batch_value"),
    "mode3a 5000": (_patched("mode3a", 4, "<i2", 5000), "bad_batch_value"),
    "callsign byte 0xff": (_patched("callsign", 9, "u1", 0xFF), "bad_batch_value"),
    "mask past the sensor list": (_patched("sensor_mask", 0, "<u8", 1 << 40), "bad_batch_value"),
    "mode probability 2": (_patched("mode_probabilities", 5, "<f8", 2.0), "bad_batch_value"),
    "last update inf": (_patched("last_update", 5, "<f8", np.inf), "bad_batch_value"),
    "position 1e300 m": (_patched("state", 6, "<f8", 1e300), "bad_batch_value"),
    "velocity 2e5 m/s": (_patched("state", 10, "<f8", -2e5), "bad_batch_value"),
    "covariance 1e20": (_patched("covariance", 36 * 3 + 7, "<f8", 1e20), "bad_batch_value"),
    "time 1e12 s": (_patched("time", 2, "<f8", 1e12), "bad_batch_value"),
    "17 modes": ({"modes": 17}, "bad_batch_value"),
    "another nation": ({"nation": "AUS"}, "nation_mismatch"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_bad_batch_is_rejected_whole_with_its_reason(case: str) -> None:
    changes, reason = BAD[case]
    payload = encode_msgpack(msgspec.structs.replace(_valid(), **changes))
    table, dropped = decode_batch(payload, "JPN")
    assert dropped == {reason: 1} and reason in BATCH_REJECTIONS
    assert len(table) == 0


def test_track_times_later_than_the_envelope_reject_the_batch() -> None:
    """Rows lie in [T0, T0 + 1): an envelope stamped T0 carries them (1 s allowed), one
    stamped 1.5 s earlier does not; a batch cannot move the watermark past its envelope."""
    ((payload, _),) = encode_batches(columns(20, seed=5), "JPN", chunk=100)
    assert decode_batch(payload, "JPN", T0)[1] == {}
    table, dropped = decode_batch(payload, "JPN", T0 - 1.5)
    assert dropped == {"batch_after_envelope": 1} and len(table) == 0


def test_not_a_batch() -> None:
    assert decode_batch(encode_msgpack([1, 2]), "JPN")[1] == {"bad_payload": 1}
    assert decode_batch(b"\xc1", "JPN")[1] == {"bad_payload": 1}


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4000), st.integers(0, 255)), min_size=1, max_size=8))
def test_corrupted_payloads_never_crash_and_never_half_enter(flips: list[tuple[int, int]]) -> None:
    ((payload, _),) = encode_batches(columns(12, seed=8), "JPN", chunk=100)
    data = bytearray(payload)
    for at, value in flips:
        data[at % len(data)] = value
    table, dropped = decode_batch(bytes(data), "JPN")
    assert (len(table), sum(dropped.values())) in {(12, 0), (0, 1)}
    if dropped:
        assert set(dropped) <= set(BATCH_REJECTIONS)
    else:
        assert np.isfinite(table.state).all() and np.isfinite(table.covariance).all()


def test_snapshot_keeps_the_released_statuses_and_finite_rows_only() -> None:
    n = 6
    arrays = TrackArrays.blank(n, 3)
    arrays = TrackArrays(**{**arrays.columns(), "sensors": np.arange(n, dtype=np.uint64),
                            "time": T0 - np.arange(n, dtype=np.float64)})
    snapshot = columns(n).table
    status = np.array([1, 0, 2, 1, 1, 3], np.uint8)  # confirmed, tentative, coasting, ..., deleted
    state = snapshot.state.copy()
    state[4, 2] = np.nan  # a diverged track
    snapshot = TrackTable(**{**snapshot.columns(), "status": status, "state": state})
    statuses = frozenset({TrackStatus.CONFIRMED, TrackStatus.COASTING})
    out = snapshot_columns(snapshot, arrays, list(SENSORS), statuses, id_offset=1 << 32)
    kept = [0, 2, 3]
    assert out.table.track.tolist() == [int(i) + (1 << 32) for i in snapshot.track[kept]]
    assert out.sensors.tolist() == kept and out.last_update.tolist() == [T0 - k for k in kept]
    np.testing.assert_array_equal(out.mode_probabilities, np.full((3, 3), 1.0 / 3.0))
    assert out.sensor_ids == SENSORS
