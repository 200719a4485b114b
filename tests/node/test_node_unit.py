"""Node edges: policy files, and a signed partner cannot slip in tracks of another nation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from airpicture.bus import InProcessBus
from airpicture.messages import LocalTrack, TrackStatus, encode_msgpack
from airpicture.node import Node, NodeConfig, demo_keys, load_policy_file
from airpicture.security import Sealer

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


def _track(nation: str, track_id: int) -> LocalTrack:
    cov = (np.eye(6) * 100.0).ravel().tolist()
    return LocalTrack(nation=nation, track_id=track_id, time=T0, state=[6.4e6, 0, 0, 0, 200, 0],
                      covariance=cov, status=TrackStatus.CONFIRMED, quality=0.9)


def test_tracks_claiming_another_nation_are_dropped_and_counted() -> None:
    keys = demo_keys(["JPN", "AUS"], 7)
    partners = {n: k.public_key() for n, k in keys.items()}
    bus = InProcessBus()
    node = Node(NodeConfig(nation="JPN"), [], bus, keys["JPN"], partners)
    sealer = Sealer("AUS", keys["AUS"])
    payload = encode_msgpack([_track("AUS", 1), _track("JPN", 2)])
    bus.publish("coalition", sealer.seal("coalition", T0, "local_tracks", payload), "a1")
    bus.publish("coalition", sealer.seal("coalition", T0 + 2, "local_tracks", b"\x01"), "a2")
    node.poll()
    node.flush_picture()
    status = node.status()
    assert status.reports_rejected == {"nation_mismatch": 1, "bad_payload": 1}
    assert node.last_result is not None
    assert node.last_result.contributor_nation.tolist() == [b"AUS"]
    assert status.links["AUS"].state == "up" and status.links["AUS"].last_seq == 2
