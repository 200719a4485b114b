"""Faults injected into a coalition of real ``airpicture node`` processes over a real
``nats-server`` (``tests/faults/coalition.py``): three nations, 60 s of a small scenario.

Cases: kill -9 of a node mid-run and its restart; the NATS server killed for 30 s and
restarted on the same store; one partner's link delayed 5 s (a proxy holding its bytes) and
reordered (``--reorder 3``: each group of three envelopes reaches the log reversed); one
node's clock 2 s ahead; the recorder's disk full, then freed. The last three hit three
different nodes in one run. What must hold after each, against one fault-free run of the
same scenario (shared by every case):

- every node's picture hash is the fault-free run's at every epoch;
- no envelope lost or doubled: each nation's sequence numbers in the log are 1..N exactly
  once, N the fault-free run's;
- nothing was rejected and no report came late (faults are not attacks);
- the recordings read to their last complete record and equal the fault-free run's
  (a killed node's parts all read; its restart records what it rebuilt).

The fault-free run goes first, alone: it also fills the compiled-code (Numba) caches that the
node processes of the other runs then load, instead of twelve processes compiling the same
kernels at once on a cold checkout. The three fault runs then go concurrently (each has its
own server), so the suite takes about two runs' time plus the 30 s outage.
"""

from __future__ import annotations

import shutil
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait

import numpy as np
import pyarrow.parquet as pq
import pytest

from airpicture.io.parquet import part_files
from airpicture.io.recorder import LOCAL_TRACKS, PICTURE, PLOTS, read_recording

from .coalition import NATIONS, Coalition, Outcome, small_disk, write_inputs
from .proxy import DelayProxy

pytestmark = pytest.mark.slow


def reference(c: Coalition) -> Outcome:
    c.start_all()
    return c.finish()


def kill_and_restart(c: Coalition) -> Outcome:
    c.start_all()
    c.wait_published("JPN", 25)
    c.kill9("JPN")
    time.sleep(1.0)
    c.start("JPN")
    return c.finish()


def nats_outage(c: Coalition) -> Outcome:
    c.start_all()
    c.wait_published("JPN", 20)
    c.server.stop(hard=True)  # kill -9: the store must hold what it acknowledged
    time.sleep(30.0)
    c.server.start()
    return c.finish()


def three_faults(c: Coalition) -> Outcome:
    """USA's link delayed 5 s and reordered, AUS's clock 2 s ahead, and JPN recording on a
    2 MiB tmpfs with 1.9 MiB taken (freed once JPN has published 45 of its 61; its first
    picture part, written after 30 epochs, is over 0.4 MB, so the disk surely fills): three
    nodes, three independent faults, one run (the suite's time)."""
    mount = c.dir / "disk"
    proxy = DelayProxy(c.server.port)
    c.urls["USA"] = f"nats://127.0.0.1:{proxy.port}"
    with small_disk(mount, 2048, 1900) as mounted:
        if mounted:
            c.recordings["JPN"] = mount / "rec"
        try:
            c.start_all({"USA": ("--reorder", "3"), "AUS": ("--clock-offset-s", "2")})
            c.wait_published("USA", 15)
            proxy.delay_s = 5.0
            time.sleep(10.0)
            proxy.delay_s = 0.0
            c.wait_published("JPN", 45)
            (mount / "ballast").unlink(missing_ok=True)
            out = c.finish()
        finally:
            proxy.close()
        out.held_chunks = proxy.held_chunks
        out.disk_full = mounted
        if mounted:  # keep the recording past the unmount
            out.recordings["JPN"] = c.dir / "rec-JPN"
            shutil.copytree(mount / "rec", out.recordings["JPN"])
    return out


CASES: dict[str, Callable[[Coalition], Outcome]] = {
    f.__name__: f for f in (reference, kill_and_restart, nats_outage, three_faults)
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Future[Outcome]]]:
    """Every case's run: the fault-free one first, then the others at once."""
    base = tmp_path_factory.mktemp("faults")
    scenario, keys = write_inputs(base)
    coalitions = {name: Coalition(base / name, scenario, keys) for name in CASES}
    with ThreadPoolExecutor(len(CASES)) as pool:
        futures = {"reference": pool.submit(reference, coalitions["reference"])}
        wait([futures["reference"]])
        futures |= {name: pool.submit(CASES[name], c) for name, c in coalitions.items()
                    if name != "reference"}
        yield futures
        for c in coalitions.values():
            c.close()


def outcome(runs: dict[str, Future[Outcome]], name: str) -> Outcome:
    return runs[name].result(timeout=900)


def assert_recovered(out: Outcome, ref: Outcome, complete_recordings: tuple[str, ...] = NATIONS
                     ) -> None:
    """The checks of the module docstring."""
    assert max(Counter(out.log).values()) == 1, "an envelope is in the log twice"
    for nation in NATIONS:
        n = sum(s == nation for s, _ in ref.log)
        assert sorted(q for s, q in out.log if s == nation) == list(range(1, n + 1)), nation
    for nation in NATIONS:
        status = out.status[nation]
        assert status["envelopes_rejected"] == {} and status["late_reports"] == 0, nation
        assert out.hashes[nation] == ref.hashes[nation], f"{nation}: picture differs"
        assert len(out.hashes[nation]) >= 55
    _, ref_plots, ref_local, ref_picture = read_recording(ref.recordings["JPN"])
    for nation in complete_recordings:
        recorder = out.status[nation]["recorder"]
        assert recorder["picture_pending"] == recorder["picture_dropped"] == 0
        _, plots, local, picture = read_recording(out.recordings[nation])
        assert len(picture) == recorder["picture_rows"] > 0
        if nation == "JPN":
            assert plots.equals(ref_plots) and local.equals(ref_local)
            assert picture.equals(ref_picture)


def test_reference_run_is_complete_and_common(runs: dict[str, Future[Outcome]]) -> None:
    ref = outcome(runs, "reference")
    assert len(ref.log) == sum(s["published"] for s in ref.status.values())
    assert_recovered(ref, ref)
    assert ref.hashes["JPN"] == ref.hashes["AUS"] == ref.hashes["USA"]


def test_kill_9_of_a_node_mid_run_then_restart(runs: dict[str, Future[Outcome]]) -> None:
    ref, out = outcome(runs, "reference"), outcome(runs, "kill_and_restart")
    assert_recovered(out, ref, complete_recordings=("AUS", "USA"))
    killed = out.recordings["JPN"]
    for stream in (PLOTS, LOCAL_TRACKS, PICTURE):
        for part in part_files(killed / stream):
            assert pq.ParquetFile(part).metadata.num_rows > 0  # every part reads
    _, _, _, picture = read_recording(killed)
    _, _, _, ref_picture = read_recording(ref.recordings["JPN"])
    assert set(np.unique(picture.time)) == set(np.unique(ref_picture.time))  # rebuilt all


def test_nats_server_killed_30s_and_restarted(runs: dict[str, Future[Outcome]]) -> None:
    assert_recovered(outcome(runs, "nats_outage"), outcome(runs, "reference"))


def test_a_partner_link_delayed_5s_and_reordered(runs: dict[str, Future[Outcome]]) -> None:
    out = outcome(runs, "three_faults")
    assert out.held_chunks > 0, "the link was never delayed"
    usa = [q for s, q in out.log if s == "USA"]
    assert usa != sorted(usa), "the link did not reorder"
    assert_recovered(out, outcome(runs, "reference"))


def test_clock_of_one_node_skewed_by_2s(runs: dict[str, Future[Outcome]]) -> None:
    """The node reads its clock only to pace itself (durations); epochs close on data time."""
    assert_recovered(outcome(runs, "three_faults"), outcome(runs, "reference"))


def test_disk_full_on_the_recorder(runs: dict[str, Future[Outcome]]) -> None:
    out = outcome(runs, "three_faults")
    if not out.disk_full:
        pytest.skip("cannot mount a tmpfs (needs root)")
    recorder = out.status["JPN"]["recorder"]
    failures = sum(recorder[f"{s}_failures"] for s in ("plots", "local_tracks", "picture"))
    assert failures > 0, "the disk never filled"
    assert_recovered(out, outcome(runs, "reference"))  # every record written once space came
