"""The in-process bus: order, de-duplication by message id, durable positions, files."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from airpicture.bus import InProcessBus, open_bus


def test_ordered_log_with_deduplication() -> None:
    bus = InProcessBus()
    assert [bus.publish("coalition", b"%d" % i, f"JPN.{i}") for i in range(5)] == [1, 2, 3, 4, 5]
    assert bus.publish("coalition", b"again", "JPN.2") == 3  # duplicate id: not appended
    assert bus.publish("other", b"x", "JPN.2") == 1  # logs are per audience
    sub = bus.subscribe("coalition")
    assert [r.data for r in sub.fetch()] == [b"0", b"1", b"2", b"3", b"4"]
    assert sub.fetch() == []
    with pytest.raises(ValueError, match="bad audience"):
        bus.publish("no spaces", b"", "x")


def test_durable_subscription_resumes_and_a_fresh_one_rebuilds() -> None:
    bus = InProcessBus()
    for i in range(10):
        bus.publish("coalition", b"%d" % i, str(i))
    first = bus.subscribe("coalition", durable="node-JPN")
    got = first.fetch(max_records=4)
    first.close()
    again = bus.subscribe("coalition", durable="node-JPN")  # a restarted reader
    got += again.fetch()
    assert [r.seq for r in got] == list(range(1, 11))
    assert bus.subscribe("coalition").fetch() == got  # replay from the start: same sequence


def test_fetch_waits_for_a_publisher() -> None:
    bus = InProcessBus()
    sub = bus.subscribe("coalition")
    timer = threading.Timer(0.05, lambda: bus.publish("coalition", b"late", "1"))
    timer.start()
    assert [r.data for r in sub.fetch(timeout=5.0)] == [b"late"]
    timer.join()
    assert sub.fetch(timeout=0.01) == []


def test_file_persistence_survives_restart_and_a_torn_write(tmp_path: Path) -> None:
    bus = open_bus(f"file://{tmp_path}")
    for i in range(3):
        bus.publish("coalition", b"%d" % i, str(i))
    bus.close()
    with (tmp_path / "coalition.log").open("ab") as f:
        f.write(b"\x00\x00\x01\x00partial")  # a crash in the middle of a frame
    bus = InProcessBus(tmp_path)
    assert [r.data for r in bus.subscribe("coalition").fetch()] == [b"0", b"1", b"2"]
    assert bus.publish("coalition", b"dup", "1") == 2  # ids are remembered too
    assert bus.publish("coalition", b"3", "3") == 4
    bus.close()
    assert [r.seq for r in InProcessBus(tmp_path).records("coalition")] == [1, 2, 3, 4]
