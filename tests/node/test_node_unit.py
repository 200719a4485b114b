"""Node edges: policy files, and a signed partner cannot slip in tracks of another nation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from airpicture.bus import InProcessBus
from airpicture.node import Node, NodeConfig, demo_keys, load_policy_file
from airpicture.node.wire import KIND_BATCH, encode_batches
from airpicture.policy import LocalTrackColumns
from airpicture.security import Sealer
from airpicture.track_table import TrackTable

T0 = 1_780_272_000.0


def test_policy_file(tmp_path: Path) -> None:
    good = tmp_path / "p.toml"
    good.write_text('[[release]]\naudience = "coalition"\nwithheld_fields = ["sensors"]\n'
                    "precision_m = 500.0\n")
    (policy,) = load_policy_file(good)
    assert policy.withheld_fields == ["sensors"] and policy.precision_m == 500.0
    bad = tmp_path / "bad.toml"
    bad.write_text('[[release]]\naudience = "coalition"\nprecision_m = -1.0\n')
    with pytest.raises(ValueError, match=r"bad\.toml: release\[0\]"):
        load_policy_file(bad)
    (tmp_path / "none.toml").write_text("x = 1\n")
    with pytest.raises(ValueError, match="unknown top-level keys"):
        load_policy_file(tmp_path / "none.toml")


def _batch(nation: str, track_ids: list[int]) -> bytes:
    n = len(track_ids)
    table = TrackTable.blank(n)
    table = TrackTable(**{**table.columns(), "time": np.full(n, T0),
                          "track": np.array(track_ids, np.int64),
                          "source": np.full(n, nation.encode(), "S16"),
                          "state": np.tile([6.4e6, 0, 0, 0, 200, 0], (n, 1)),
                          "covariance": np.broadcast_to(np.eye(6) * 100.0, (n, 6, 6)).copy(),
                          "quality": np.full(n, 0.9)})
    cols = LocalTrackColumns(table, np.zeros(n, np.uint64), np.zeros((n, 0)), np.full(n, T0), ())
    ((payload, _),) = encode_batches(cols, nation, chunk=100)
    return bytes(payload)


def test_batches_claiming_another_nation_are_dropped_and_counted() -> None:
    keys = demo_keys(["JPN", "AUS"], 7)
    partners = {n: k.public_key() for n, k in keys.items()}
    bus = InProcessBus()
    node = Node(NodeConfig(nation="JPN"), [], bus, keys["JPN"], partners)
    sealer = Sealer("AUS", keys["AUS"])
    bus.publish("coalition", sealer.seal("coalition", T0, KIND_BATCH, _batch("AUS", [1])), "a1")
    forged = _batch("JPN", [2, 3])  # signed by AUS, claiming JPN's tracks
    bus.publish("coalition", sealer.seal("coalition", T0 + 1, KIND_BATCH, forged), "a2")
    bus.publish("coalition", sealer.seal("coalition", T0 + 2, KIND_BATCH, b"\x01"), "a3")
    node.poll()
    node.flush_picture()
    status = node.status()
    assert status.reports_rejected == {"nation_mismatch": 1, "bad_payload": 1}
    assert node.last_result is not None
    assert node.last_result.contributor_nation.tolist() == [b"AUS"]
    assert status.links["AUS"].state == "up" and status.links["AUS"].last_seq == 3
