"""The recorder on a disk that fills up (a real ``ENOSPC`` on a small tmpfs) and frees again.

What must hold: the recorder never raises while recording; every part on disk is a complete
Parquet file; nothing recorded before the last complete record is lost (records held while
the disk is full are written once space returns); the failures are counted. Truth: the rows
written, numbered 0.. in order, against the rows read back.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from airpicture.io.parquet import part_files, read_table
from airpicture.io.recorder import PICTURE, PartWriter, Recorder, read_recording
from airpicture.messages import SensorInfo, SensorKind
from airpicture.track_table import TrackTable

from .coalition import small_disk

SENSORS = [SensorInfo(id="r1", nation="JPN", kind=SensorKind.ADSB, lat_deg=35.0, lon_deg=139.0,
                      alt_m=10.0, max_range_m=4e5, period_s=4.0)]
ROWS = 100  # rows per record (one epoch's picture)


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 256 KiB tmpfs with 200 KiB taken by ``ballast``, so the recorder fills it."""
    with small_disk(tmp_path / "disk", 256, 200) as mounted:
        if not mounted:
            pytest.skip("cannot mount a tmpfs (needs root)")
        yield tmp_path / "disk"


def epoch(k: int) -> TrackTable:
    """Record ``k``: ``ROWS`` tracks numbered ``k * ROWS + i``, noisy states (compress
    badly, so the disk fills after a few records)."""
    t = TrackTable.blank(ROWS)
    t.time[:] = 1_700_000_000.0 + k
    t.track[:] = k * ROWS + np.arange(ROWS)
    t.state[:] = np.random.default_rng(k).normal(0.0, 1e6, (ROWS, 6))
    return t


def test_disk_full_then_freed_loses_no_record(tiny_disk: Path) -> None:
    rec = Recorder(tiny_disk / "rec", SENSORS, part_records=4, part_s=3600.0)
    k = 0
    while rec.counters()["picture_failures"] == 0:
        rec.picture(epoch(k))
        k += 1
        assert k < 200, "the disk never filled"
    written = rec.counters()
    assert "No space left" in rec.last_error
    # Full: every part on disk reads by itself, and together they are the first records.
    parts = part_files(tiny_disk / "rec" / PICTURE)
    assert len(parts) == written["picture_parts"] >= 1
    for part in parts:
        assert pq.ParquetFile(part).metadata.num_rows % ROWS == 0
    on_disk = read_table(tiny_disk / "rec" / PICTURE, TrackTable)
    assert len(on_disk) == written["picture_rows"] == written["picture_records"] * ROWS
    assert np.array_equal(on_disk.track, np.arange(len(on_disk)))
    assert written["picture_pending"] == k - written["picture_records"] > 0
    # Still full: more records are taken, held, never raised.
    for _ in range(6):
        rec.picture(epoch(k))
        k += 1
    assert not rec.close()  # cannot write yet: counted, still held
    held = rec.counters()
    assert held["picture_failures"] > written["picture_failures"]
    assert held["picture_pending"] == k - held["picture_records"]
    # Space returns: the held records go out with the next part; nothing is lost.
    (tiny_disk / "ballast").unlink()
    rec.picture(epoch(k))
    k += 1
    assert rec.close()
    after = rec.counters()
    assert after["picture_records"] == k and after["picture_pending"] == 0
    assert after["picture_dropped"] == 0
    sensors, plots, local, picture = read_recording(tiny_disk / "rec")
    assert sensors == SENSORS and len(plots) == 0 and len(local) == 0
    assert len(picture) == k * ROWS  # written == read back
    assert np.array_equal(picture.track, np.arange(k * ROWS))
    assert np.array_equal(picture.state, np.concatenate([epoch(i).state for i in range(k)]))


def test_held_records_are_bounded_and_the_oldest_dropped_counted(tiny_disk: Path) -> None:
    one = epoch(0)
    from airpicture.io.parquet import to_arrow

    size = to_arrow(one).nbytes
    writer = PartWriter(tiny_disk / "p", TrackTable, part_records=1000, part_s=3600.0,
                        max_pending_bytes=5 * size + size // 2)  # room for 5 records
    (tiny_disk / "ballast2").write_bytes(b"\0" * (48 << 10))  # about 8 KiB left
    for k in range(12):
        writer.write(epoch(k))
    assert writer.pending == 5 and writer.dropped == 7  # 12 taken, the 7 oldest dropped
    assert not writer.flush()  # 5 records do not fit in what is left
    (tiny_disk / "ballast2").unlink()
    assert writer.flush() and writer.records == 5
    kept = read_table(tiny_disk / "p", TrackTable)
    assert np.array_equal(kept.track, np.arange(7 * ROWS, 12 * ROWS))  # the newest 5


def test_a_part_cut_by_a_kill_is_ignored_by_readers_and_cleared_on_restart(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "picture.parquet"
    with Recorder(tmp_path, SENSORS, part_records=2) as rec:
        for k in range(5):
            rec.picture(epoch(k))
    assert [p.name for p in part_files(folder)] == [
        "part-000000.parquet", "part-000001.parquet", "part-000002.parquet"]
    cut = folder / ".part-000003.parquet.partial"
    cut.write_bytes(b"PAR1" + b"\x01" * 1000)  # a part being written when the node died
    assert len(read_table(folder, TrackTable)) == 5 * ROWS
    whole = pq.read_table(folder)  # any Parquet reader takes the folder as one table
    assert np.array_equal(whole.column("track").to_numpy(), np.arange(5 * ROWS))
    again = PartWriter(folder, TrackTable, part_records=1)  # the restarted node
    assert not cut.exists()
    again.write(epoch(5))
    assert part_files(folder)[-1].name == "part-000003.parquet"
    assert np.array_equal(read_table(folder, TrackTable).track, np.arange(6 * ROWS))
