"""Scoring a multi-node run against the simulated truth: what the demo prints.

The run is sampled on a grid of data times (every ``interval_s`` from the scenario start,
after ``warmup_s``, when the trackers are still confirming their first tracks): the truth,
which nations' sensors cover each object (the simulator's coverage masks, bit ``i`` = the
``i``-th nation), each nation's own confirmed tracks (what it holds alone) and each node's
system picture. Each set is associated with the truth (SIAP track-to-truth association,
2 km), then:

- **completeness**: SIAP completeness against the truth inside the *joint* coverage (objects
  some nation's radar, secondary radar or ADS-B sees); a nation alone cannot exceed its own
  share of that coverage, the shared picture can reach all of it;
- **GOSPA** (c = 2 km, p = 2, mean over the grid) against the same truth; tracks holding
  only truth outside the joint coverage are left out, as in ``airpicture evaluate``;
- **STN commonality** across nodes: the share of the truth samples (inside the joint
  coverage) held by any node that every node holds, under the same system track number(s);
  :func:`airpicture.metrics.commonality`'s ``stn_commonality`` is given too
  (``stn_commonality_strict``): it also counts an object held by two system tracks on the
  same node (a duplicate) as a disagreement;
- **hashes**: whether every node closed the same epochs with the same picture hash.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping, Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from airpicture.fusion import EpochResult
from airpicture.metrics import associate, close_pairs, commonality, gospa_series, siap, time_grid
from airpicture.metrics.association import Association
from airpicture.metrics.samples import Samples, make_samples
from airpicture.track_table import TrackTable
from airpicture.truth_table import CoverageTable, TruthTable

__all__ = ["Recorder", "RunSummary", "score_run"]

THRESHOLD_M = 2000.0
GOSPA_C_M = 2000.0


class _Rows:
    def __init__(self) -> None:
        self.time: list[NDArray[np.float64]] = []
        self.label: list[NDArray[np.int64]] = []
        self.position: list[NDArray[np.float64]] = []
        self.velocity: list[NDArray[np.float64]] = []

    def add(self, time: float, label: NDArray[np.int64], state: NDArray[np.float64]) -> None:
        self.time.append(np.full(len(label), time))
        self.label.append(np.asarray(label, np.int64))
        self.position.append(state[:, :3].copy())
        self.velocity.append(state[:, 3:6].copy())

    def samples(self, name: str) -> Samples:
        if not self.time:
            return make_samples(np.zeros(0), np.zeros(0, np.int64), np.zeros((0, 3)), name=name)
        return make_samples(
            np.concatenate(self.time), np.concatenate(self.label),
            np.concatenate(self.position), np.concatenate(self.velocity), name=name,
        )


class Recorder:
    """Keeps the run's samples on the scoring grid (see the module docstring).

    Feed it the simulator's truth and coverage (:meth:`truth`, :meth:`coverage`), each
    nation's own tracks per release (:meth:`local`) and each node's epochs (:meth:`epoch`).
    """

    def __init__(self, start: float, interval_s: float, warmup_s: float) -> None:
        self.start = float(start)
        self.interval_s = float(interval_s)
        self.warmup_s = float(warmup_s)
        self._truth = _Rows()
        self._cov_time: list[NDArray[np.float64]] = []
        self._cov_obj: list[NDArray[np.int64]] = []
        self._cov_bits: list[NDArray[np.uint32]] = []
        self._local: dict[str, _Rows] = {}
        self._picture: dict[str, _Rows] = {}
        self.hashes: dict[str, dict[float, str]] = {}

    def on_grid(self, time: NDArray[np.float64]) -> NDArray[np.bool_]:
        k = (np.asarray(time) - self.start) / self.interval_s
        return np.asarray(
            (np.abs(k - np.round(k)) < 1e-6) & (k >= self.warmup_s / self.interval_s - 1e-9)
        )

    def truth(self, table: TruthTable) -> None:
        keep = self.on_grid(table.time)
        if keep.any():
            t = table.take(keep)
            state = np.concatenate([t.position, t.velocity], axis=1)
            self._truth.time.append(t.time.copy())
            self._truth.label.append(t.object.copy())
            self._truth.position.append(state[:, :3])
            self._truth.velocity.append(state[:, 3:])

    def coverage(self, table: CoverageTable) -> None:
        keep = self.on_grid(table.time)
        if keep.any():
            self._cov_time.append(table.time[keep])
            self._cov_obj.append(table.object[keep])
            self._cov_bits.append(table.nations[keep])

    def local(self, nation: str, time: float, tracks: TrackTable) -> None:
        if self.on_grid(np.array([time]))[0]:
            self._local.setdefault(nation, _Rows()).add(time, tracks.track, tracks.state)

    def epoch(self, nation: str, result: EpochResult) -> None:
        self.hashes.setdefault(nation, {})[result.time] = result.hash
        if self.on_grid(np.array([result.time]))[0]:
            pic = result.picture
            self._picture.setdefault(nation, _Rows()).add(result.time, pic.track, pic.state)

    def coverage_bits(self, truth: Samples) -> NDArray[np.uint32]:
        """Nation bit mask of every truth row (0 where no coverage sample matches)."""
        if not self._cov_time:
            return np.zeros(len(truth), np.uint32)
        ct = np.concatenate(self._cov_time)
        co = np.concatenate(self._cov_obj)
        cb = np.concatenate(self._cov_bits)
        keys = np.round(ct * 1000).astype(np.int64) * (1 << 22) + co
        order = np.argsort(keys)
        want = np.round(truth.time * 1000).astype(np.int64) * (1 << 22) + truth.label
        pos = np.clip(np.searchsorted(keys[order], want), 0, len(order) - 1)
        found = keys[order][pos] == want
        return np.where(found, cb[order][pos], 0).astype(np.uint32)


@dataclasses.dataclass(frozen=True)
class NationScore:
    """One nation's figures."""

    nation: str
    own_coverage: float
    completeness_alone: float
    completeness_shared: float
    gospa_alone_m: float
    gospa_shared_m: float
    system_tracks: int
    final_hash: str


@dataclasses.dataclass(frozen=True)
class RunSummary:
    """What the demo prints (and ``--json`` writes as one line)."""

    scenario: str
    seed: int
    duration_s: float
    scored_from_s: float
    interval_s: float
    objects: int
    truth_samples: int
    joint_coverage: float
    nations: list[NationScore]
    stn_commonality: float
    stn_commonality_strict: float
    holding_commonality: float
    shared_samples: int
    epochs: int
    hashes_equal: bool
    envelopes: int
    rejections: dict[str, int]
    wall_s: float
    notes: list[str]

    def as_dict(self) -> dict[str, object]:
        return dataclasses.asdict(self)


def _score(
    truth: Samples, covered: NDArray[np.bool_], tracks: Samples
) -> tuple[float, float, Samples, Association]:
    grid = time_grid(truth, tracks, require_overlap=False)
    pairs = close_pairs(truth, tracks, grid, max(THRESHOLD_M, GOSPA_C_M))
    assoc = associate(truth, tracks, THRESHOLD_M, 3, 2, grid=grid, pairs=pairs)
    completeness = siap(truth, tracks, assoc, grid, covered=covered).scores["completeness"]
    held_out = (assoc.track_truth_row >= 0) & ~covered[np.maximum(assoc.track_truth_row, 0)]
    t_in = truth.take(np.flatnonzero(covered))
    k_in = tracks.take(np.flatnonzero(~held_out))
    gs = gospa_series(t_in, k_in, GOSPA_C_M, 2.0,
                      grid=time_grid(t_in, k_in, require_overlap=False))
    return completeness, gs.summary()["gospa_mean_m"], tracks, assoc


def same_stns(
    pictures: Sequence[tuple[Samples, Association, ArrayLike]], covered: NDArray[np.bool_]
) -> float:
    """Share of the covered truth rows held by any picture that every picture holds under
    the same set of labels (STNs); 1 with no held row."""
    key_sets, row_sets = [], []
    for tracks, assoc, _ in pictures:
        rows = assoc.pair_truth_row
        keep = covered[rows]
        rows = rows[keep]
        stn = tracks.label[assoc.pair_track_row[keep]]
        key_sets.append(np.unique(rows.astype(np.int64) * (1 << 32) + stn))
        row_sets.append(np.unique(rows))
    if not row_sets:
        return 1.0
    any_rows = functools.reduce(np.union1d, row_sets)
    all_rows = functools.reduce(np.intersect1d, row_sets)
    differ = np.setdiff1d(functools.reduce(np.union1d, key_sets),
                          functools.reduce(np.intersect1d, key_sets)) >> 32
    common = np.setdiff1d(all_rows, differ)
    return float(len(common) / len(any_rows)) if len(any_rows) else 1.0


def score_run(
    recorder: Recorder,
    nations: Sequence[str],
    *,
    scenario: str,
    seed: int,
    duration_s: float,
    objects: int,
    final: Mapping[str, tuple[int, str]],
    envelopes: int,
    rejections: Mapping[str, int],
    wall_s: float,
    notes: Sequence[str] = (),
) -> RunSummary:
    """Score the recorded run (module docstring). ``final`` maps each node to its last
    picture's size and hash."""
    truth = recorder._truth.samples("truth")
    bits = recorder.coverage_bits(truth)
    covered = bits != 0
    rows: list[NationScore] = []
    pictures: list[tuple[Samples, Association, ArrayLike]] = []
    for i, nation in enumerate(nations):
        own = float(np.mean((bits[covered] >> np.uint32(i)) & 1)) if covered.any() else 0.0
        alone = recorder._local.get(nation, _Rows()).samples(f"{nation} tracks")
        shared = recorder._picture.get(nation, _Rows()).samples(f"{nation} picture")
        c_alone, g_alone, _, _ = _score(truth, covered, alone)
        c_shared, g_shared, pic, assoc = _score(truth, covered, shared)
        pictures.append((pic, assoc, np.zeros(len(pic), np.int64)))
        size, digest = final.get(nation, (0, ""))
        rows.append(NationScore(nation, own, c_alone, c_shared, g_alone, g_shared, size, digest))
    common = commonality(len(truth), pictures, covered=covered) if len(pictures) >= 2 else {}
    same = same_stns(pictures, covered)
    hashes = [recorder.hashes.get(n, {}) for n in nations]
    equal = bool(hashes) and all(h == hashes[0] for h in hashes) and bool(hashes[0])
    return RunSummary(
        scenario=scenario, seed=seed, duration_s=duration_s,
        scored_from_s=recorder.warmup_s, interval_s=recorder.interval_s, objects=objects,
        truth_samples=int(np.count_nonzero(covered)),
        joint_coverage=float(np.mean(covered)) if len(covered) else 0.0,
        nations=rows,
        stn_commonality=same,
        stn_commonality_strict=float(common.get("stn_commonality", 1.0)),
        holding_commonality=float(common.get("holding_commonality", 1.0)),
        shared_samples=int(common.get("shared_samples", 0)),
        epochs=max((len(h) for h in hashes), default=0), hashes_equal=equal,
        envelopes=envelopes, rejections=dict(rejections), wall_s=wall_s, notes=list(notes),
    )
