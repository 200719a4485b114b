"""No duplicate system tracks when a nation drops a local track and starts a new one on the
same object (local track churn), with or without a cooperative identity."""

from __future__ import annotations

import numpy as np

from airpicture.fusion import FusionConfig
from airpicture.fusion.state import EpochResult
from airpicture.track_table import TrackTable

from .synth import T0, Coalition, coalition, record
from .test_picture import run

SECONDS = 60
RENUMBER = 1_000_000
"""A renumbered local track gets this added to its id."""


def churn_log(c: Coalition, seed: int) -> tuple[list[TrackTable], np.ndarray]:
    """Every nation reports once a second; each (nation, object) track is dropped once at a
    random second and the nation's next report holds a new track id for the object."""
    rng = np.random.default_rng(seed)
    switch = rng.integers(5, SECONDS - 5, c.sees.shape)  # (nations, objects), seconds
    out = []
    for s in range(SECONDS):
        for i in range(len(c.nations)):
            rec = record(c, i, T0 + s + 0.1 + 0.1 * i, rng)
            objects = np.flatnonzero(c.sees[i])
            renumbered = s >= switch[i, objects]
            track = np.where(renumbered, rec.track + RENUMBER, rec.track)
            out.append(TrackTable(**{**rec.columns(), "track": track}))
    return out, switch


def duplicates(c: Coalition, results: list[EpochResult]) -> tuple[int, int]:
    """(object-epochs held by two or more system tracks, objects ever so held)."""
    lookup: dict[tuple[bytes, int], int] = {}
    for n in range(len(c.nations)):
        for m in range(c.x0.shape[0]):
            lookup[(c.nations[n], int(c.track_ids[n, m]))] = m
            lookup[(c.nations[n], int(c.track_ids[n, m]) + RENUMBER)] = m
    samples, objects = 0, set()
    for res in results[3:]:
        held: dict[int, set[int]] = {}
        for stn, nation, track in zip(res.contributor_stn.tolist(),
                                      res.contributor_nation.tolist(),
                                      res.contributor_track.tolist(), strict=True):
            held.setdefault(lookup[(nation, track)], set()).add(stn)
        dup = [m for m, stns in held.items() if len(stns) >= 2]
        samples += len(dup)
        objects.update(dup)
    return samples, len(objects)


def test_a_renumbered_local_track_joins_its_system_track() -> None:
    c = coalition(120, seed=21)
    records, _ = churn_log(c, seed=22)
    # The old rule (every active track of a nation keeps the nation's other tracks off its
    # system track) founds a second system track for each renumbered track seen by others.
    old = duplicates(c, run(records, FusionConfig(current_s=1e9)))
    new = duplicates(c, run(records))
    assert old[1] > 60, old
    assert new == (0, 0), new


def test_the_same_object_keeps_one_stn_through_renumbering() -> None:
    c = coalition(60, seed=23)
    records, switch = churn_log(c, seed=24)
    results = run(records)
    last = results[-1]
    stns = set(last.picture.track.tolist())
    assert len(stns) == c.x0.shape[0]  # one system track per object at the end
    assert duplicates(c, results) == (0, 0)
    assert int(switch.min()) >= 5
