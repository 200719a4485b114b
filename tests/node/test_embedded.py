"""Four nodes in one process on a small scenario: the same picture on every node, epoch by
epoch; a node rebuilt from the log holds it too; a partner's 60 s link outage leaves the
system track numbers of what the others kept seeing unchanged."""

from __future__ import annotations

import pytest

from airpicture.bus import InProcessBus
from airpicture.node import Node, NodeConfig, demo_keys
from airpicture.node.embedded import EmbeddedRun, Outage, run_embedded

from .scenarios import small_scenario

OUTAGE_NATION = "PHL"
OUTAGE = (40.0, 100.0)  # data seconds from the start: 60 s


@pytest.fixture(scope="module")
def run() -> tuple[EmbeddedRun, InProcessBus, float]:
    scenario = small_scenario(airliners=150, noncooperative=10, duration_s=150.0)
    start = scenario.scenario.start.timestamp()
    bus = InProcessBus()
    outage = Outage(OUTAGE_NATION, start + OUTAGE[0], start + OUTAGE[1])
    result = run_embedded(scenario, 1, None, bus=bus, outages=[outage], warmup_s=40.0,
                          keep_epochs=True)
    return result, bus, start


def test_same_hash_every_epoch_on_every_node(run) -> None:  # type: ignore[no-untyped-def]
    result, _, _ = run
    hashes = {n: node.hashes for n, node in result.nodes.items()}
    first = next(iter(hashes.values()))
    assert len(first) >= 140  # one epoch per data second
    assert all(h == first for h in hashes.values())
    assert result.summary.hashes_equal
    assert result.summary.stn_commonality == 1.0
    for node in result.nodes.values():
        status = node.status()
        assert status.envelopes_rejected == {}
        assert status.reports_rejected == {}
        assert {link.state for link in status.links.values()} == {"ended"}


def test_shared_picture_beats_every_nation_alone(run) -> None:  # type: ignore[no-untyped-def]
    summary = run[0].summary
    shared = {n.completeness_shared for n in summary.nations}
    assert len(shared) == 1
    for n in summary.nations:
        assert n.completeness_alone <= n.own_coverage + 0.02
        assert n.completeness_alone < 0.65
        assert n.completeness_shared > 0.9
        assert n.gospa_shared_m < n.gospa_alone_m


def test_a_node_rebuilt_from_the_log_holds_the_same_picture(run) -> None:  # type: ignore[no-untyped-def]
    result, bus, _ = run
    nation = "AUS"
    keys = demo_keys(result.nodes, 1)
    partners = {n: k.public_key() for n, k in keys.items()}
    sensors = result.nodes[nation].sensors
    fresh = Node(NodeConfig(nation=nation), sensors, bus, keys[nation], partners)
    assert fresh.catch_up()  # its releases are in the log: a restart
    fresh.flush_picture()
    assert fresh.hashes == result.nodes[nation].hashes
    assert fresh.status().links[nation].last_seq == result.nodes[nation].published


def test_outage_keeps_the_numbers_of_what_others_kept_seeing(run) -> None:  # type: ignore[no-untyped-def]
    result, _, start = run
    epochs = result.epochs["JPN"]
    window = [e for e in epochs
              if start + OUTAGE[0] - 10.0 <= e.time <= start + OUTAGE[1] + 30.0]
    assert len(window) >= 95
    # The outage shows in the log: the nation contributes nothing inside it.
    inside = [e for e in window if start + OUTAGE[0] + 11.0 <= e.time < start + OUTAGE[1]]
    assert all(OUTAGE_NATION.encode() not in set(e.contributor_nation.tolist()) for e in inside)
    # Partner tracks of the other nations reported throughout the window keep their STN.
    bindings: dict[tuple[bytes, int], list[int]] = {}
    for e in window:
        for nation, track, stn in zip(e.contributor_nation.tolist(),
                                      e.contributor_track.tolist(),
                                      e.contributor_stn.tolist(), strict=True):
            if nation != OUTAGE_NATION.encode():
                bindings.setdefault((nation, track), []).append(stn)
    steady = {k: v for k, v in bindings.items() if len(v) == len(window)}
    assert len(steady) >= 30
    changed = {k: sorted(set(v)) for k, v in steady.items() if len(set(v)) > 1}
    assert changed == {}
    # After the outage the nation's tracks join the system tracks again (no duplicates of
    # the objects others hold): the picture is not larger than before the outage by much.
    before = [len(e.picture) for e in epochs if e.time < start + OUTAGE[0]][-1]
    after = next(len(e.picture) for e in epochs if e.time >= start + OUTAGE[1] + 30.0)
    assert after <= before * 1.2 + 5
