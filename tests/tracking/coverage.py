"""Scoring one nation's tracks against the simulator's truth and coverage (test-side only).

An object counts as *inside the nation's coverage* when the coverage table sets the nation's
bit for it at samples spanning at least ``min_covered_s`` after ``settle_s`` (the first minute
is initiation). It counts as *tracked* when a confirmed track row is associated with it while
it is covered: by ICAO address when both carry one, else by the nearest true position at the
row's time within ``gate_m``.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from numpy.typing import NDArray

from airpicture.messages import TrackStatus
from airpicture.track_table import STATUS_CODES, TrackTable
from airpicture.truth_table import CoverageTable, ObjectTable, TruthTable

CONFIRMED = STATUS_CODES.index(TrackStatus.CONFIRMED)


@dataclasses.dataclass(frozen=True)
class CoverageScore:
    """Objects inside coverage, how many of them have a confirmed track, and which not."""

    covered: int
    tracked: int
    missed: NDArray[np.int64]

    @property
    def share(self) -> float:
        return self.tracked / max(self.covered, 1)


def covered_objects(coverage: CoverageTable, bit: int, start: float, min_covered_s: float,
                    ) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]:
    """Objects covered (bit ``bit``) over at least ``min_covered_s`` after ``start``; first and
    last covered sample times."""
    rows = ((coverage.nations >> np.uint32(bit)) & np.uint32(1)).astype(bool)
    rows &= coverage.time >= start
    obj, t = coverage.object[rows], coverage.time[rows]
    ids, inv = np.unique(obj, return_inverse=True)
    first = np.full(len(ids), np.inf)
    last = np.full(len(ids), -np.inf)
    np.minimum.at(first, inv, t)
    np.maximum.at(last, inv, t)
    keep = last - first >= min_covered_s
    return ids[keep], first[keep], last[keep]


def score(tracks: TrackTable, truth: TruthTable, objects: ObjectTable, coverage: CoverageTable,
          bit: int, settle_s: float = 60.0, min_covered_s: float = 60.0, gate_m: float = 5e3,
          ) -> CoverageScore:
    """Share of the nation's covered objects with a confirmed track (see the module)."""
    t0 = float(truth.time.min())
    ids, first, last = covered_objects(coverage, bit, t0 + settle_s, min_covered_s)
    conf = tracks.take((tracks.status == CONFIRMED) & (tracks.time >= t0 + settle_s))
    found = np.zeros(len(ids), bool)
    # identity: a confirmed track carrying the object's ICAO address while it is covered
    icao = objects.icao[np.searchsorted(objects.id, ids)]
    has = conf.icao >= 0
    for k in np.flatnonzero(icao >= 0):
        rows = has & (conf.icao == icao[k]) & (conf.time >= first[k] - 10.0) \
            & (conf.time <= last[k] + 10.0)
        found[k] = bool(rows.any())
    # position: nearest true object at the truth sample nearest each confirmed row's time
    times = np.unique(truth.time)
    step = np.clip(np.searchsorted(times, conf.time), 0, len(times) - 1)
    where = {float(t): np.flatnonzero(truth.time == t) for t in np.unique(times[step])}
    index = {int(o): k for k, o in enumerate(ids)}
    for t, rows in where.items():
        sel = np.flatnonzero(times[step] == t)
        d = np.linalg.norm(conf.state[sel, None, :3] - truth.position[None, rows], axis=2)
        best = d.argmin(axis=1)
        near = d[np.arange(len(sel)), best] < gate_m
        for o in truth.object[rows[best[near]]]:
            k = index.get(int(o))
            if k is not None and first[k] - 10.0 <= t <= last[k] + 10.0:
                found[k] = True
    return CoverageScore(len(ids), int(found.sum()), ids[~found])
