"""The whole evaluation of a run: every score for every evaluated set, with no I/O.

An *evaluated set* is either one source's local tracks (a nation's tracker output, from
``tracks.parquet``) or one node's system picture. Each set is aligned onto the truth times
(:mod:`airpicture.metrics.align`), associated with the truth, and scored: GOSPA/OSPA, SIAP,
ID-SIAP (ICAO address, Mode 3/A, standard identity), NEES/ANEES, and position RMSE against the
PCRB of the scenario's sensors. With two or more pictures, their commonality is scored too.

Coverage: each set is scored against the truth inside its joint coverage (``coverage[name]``,
else ``coverage["*"]``, else all truth). GOSPA drops the truth outside coverage, and the
track samples that hold such a truth, so a nation is not charged for what it cannot see.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from airpicture.messages import Identity, SensorInfo
from airpicture.metrics.align import align_tracks
from airpicture.metrics.association import Association, associate
from airpicture.metrics.commonality import commonality
from airpicture.metrics.consistency import anees
from airpicture.metrics.gospa import GOSPASeries, gospa_series
from airpicture.metrics.id_siap import IDSIAPResult, id_siap, standard_identity_codes
from airpicture.metrics.pairs import close_pairs
from airpicture.metrics.pcrb import geometric_visibility, pcrb_position
from airpicture.metrics.samples import BoolArray, FloatArray, IntArray, Samples, time_grid
from airpicture.metrics.siap import SIAPResult, siap
from airpicture.track_table import IDENTITY_CODES, TrackTable
from airpicture.truth_table import ObjectClass, ObjectTable

Progress = Callable[[str], None]


@dataclasses.dataclass(frozen=True)
class EvaluationConfig:
    """Parameters of an evaluation (distances m, times s, ``q`` m²/s³)."""

    c: float = 2000.0
    p: float = 2.0
    switching_penalty: float = 0.0
    threshold: float = 2000.0
    k: int = 3
    m: int = 2
    max_age: float = 12.0
    q: float = 1.0


@dataclasses.dataclass(frozen=True)
class SetResult:
    """All scores of one evaluated set."""

    name: str
    kind: str
    reports: int
    tracks: Samples
    association: Association
    gospa: GOSPASeries
    siap: SIAPResult
    id_siap: dict[str, IDSIAPResult]
    track_identity: IntArray
    nees: dict[str, object] | None
    rmse: FloatArray
    pcrb: FloatArray | None
    covered: BoolArray


@dataclasses.dataclass(frozen=True)
class Evaluation:
    """Result of :func:`evaluate`: per-set results on the common truth ``times`` ``(T,)``."""

    config: EvaluationConfig
    truth: Samples
    times: FloatArray
    sets: list[SetResult]
    commonality: dict[str, float] | None
    pcrb: FloatArray | None
    notes: list[str]


def default_truth_identity(objects: ObjectTable) -> IntArray:
    """Expected standard identity per object: non-cooperative objects *suspect* (the most an
    automatic rule may say), all others *neutral*; as indices into ``IDENTITY_CODES``."""
    suspect = IDENTITY_CODES.index(Identity.SUSPECT)
    neutral = IDENTITY_CODES.index(Identity.NEUTRAL)
    return np.where(objects.cls == ObjectClass.NONCOOPERATIVE, suspect, neutral).astype(np.int64)


def _per_row(
    objects: ObjectTable | None, truth: Samples, values: NDArray[np.integer[Any]] | None
) -> IntArray:
    if objects is None or values is None:
        return np.full(len(truth), -1, np.int64)
    order = np.argsort(objects.id)
    idx = np.searchsorted(objects.id[order], truth.label)
    idx = np.clip(idx, 0, max(len(order) - 1, 0))
    found = len(order) > 0
    ok = found & (objects.id[order][idx] == truth.label) if found else np.zeros(len(truth), bool)
    vals = np.asarray(values, np.int64)[order][idx] if found else np.full(len(truth), -1)
    return np.where(ok, vals, -1).astype(np.int64)


def evaluate(
    truth: Samples,
    sources: Mapping[str, TrackTable],
    pictures: Mapping[str, TrackTable] | None = None,
    *,
    objects: ObjectTable | None = None,
    truth_identity: IntArray | None = None,
    coverage: Mapping[str, BoolArray] | None = None,
    sensors: Sequence[SensorInfo] = (),
    visibility: BoolArray | None = None,
    config: EvaluationConfig = EvaluationConfig(),
    progress: Progress | None = None,
) -> Evaluation:
    """Score every set against ``truth`` (see the module docstring).

    Parameters
    ----------
    truth : Samples
        Truth ``(N,)``; the grid is its distinct times.
    sources, pictures : mapping of str to TrackTable
        Local tracks per source name, and system pictures per node name.
    objects : ObjectTable, optional
        Object attributes: cooperative identities (ICAO, Mode 3/A) and the default expected
        standard identity (:func:`default_truth_identity`).
    truth_identity : ndarray, shape (objects,), optional
        Expected standard identity code per object row of ``objects``.
    coverage : mapping of str to ndarray (N,) bool, optional
        Truth rows inside each set's joint coverage; key ``"*"`` for the default.
    sensors : sequence of SensorInfo
        The scenario's sensors, for the PCRB (none: no PCRB). A source named like a nation
        is bounded with that nation's sensors, a picture with all of them.
    visibility : ndarray, shape (N, S), bool, optional
        Truth rows visible to each sensor (default: :func:`geometric_visibility`).
    config : EvaluationConfig
    progress : callable, optional
        Called with a short description as each stage starts.

    Returns
    -------
    Evaluation
    """
    say = progress or (lambda _msg: None)
    notes: list[str] = []
    cov_map = dict(coverage or {})
    if not cov_map:
        notes.append("no coverage given: all truth counted as inside coverage")
    times = np.unique(truth.time)
    ids = {
        "icao": _per_row(objects, truth, None if objects is None else objects.icao),
        "mode3a": _per_row(objects, truth, None if objects is None else objects.mode3a),
    }
    if objects is not None:
        expected = default_truth_identity(objects) if truth_identity is None else truth_identity
        ids["identity"] = standard_identity_codes(_per_row(objects, truth, expected))
    else:
        ids["identity"] = np.full(len(truth), -1, np.int64)
        notes.append("no object table: ID-SIAP scored against 'no identity'")
    bounds: dict[tuple[int, ...], FloatArray] = {}
    vis_all = None
    if sensors:
        vis_all = geometric_visibility(truth, sensors) if visibility is None else visibility
    sets: list[SetResult] = []
    for kind, tables in (("local", sources), ("picture", pictures or {})):
        for name, table in tables.items():
            bound = None
            if vis_all is not None:
                # a nation's tracks against its own sensors' bound; a picture against all
                own = tuple(i for i, s in enumerate(sensors) if s.nation == name)
                use = own if (kind == "local" and own) else tuple(range(len(sensors)))
                if use not in bounds:
                    say(f"posterior Cramér-Rao bound ({kind} {name})")
                    bounds[use] = pcrb_position(truth, [sensors[i] for i in use],
                                                vis_all[:, list(use)], q=config.q)
                bound = bounds[use]
            say(f"{kind} {name}")
            covered = np.asarray(cov_map.get(name, cov_map.get("*", np.ones(len(truth), bool))))
            if covered.shape != (len(truth),):
                raise ValueError(f"coverage of {name!r} must have shape ({len(truth)},)")
            sets.append(_evaluate_set(truth, name, kind, table, times, covered, ids, bound,
                                      config))
    common = None
    pics = [s for s in sets if s.kind == "picture"]
    if len(pics) >= 2:
        say("commonality")
        common = commonality(
            len(truth),
            [(s.tracks, s.association, s.track_identity) for s in pics],
            covered=np.asarray(cov_map.get("*", np.ones(len(truth), bool))),
        )
    all_sensors = tuple(range(len(sensors)))
    return Evaluation(config, truth, times, sets, common, bounds.get(all_sensors), notes)


def _evaluate_set(
    truth: Samples, name: str, kind: str, table: TrackTable, times: FloatArray,
    covered: BoolArray, ids: dict[str, IntArray], bound: FloatArray | None,
    cfg: EvaluationConfig,
) -> SetResult:
    aligned = align_tracks(table, times, max_age=cfg.max_age)
    tracks = aligned.samples
    grid = time_grid(truth, tracks, require_overlap=False)  # aligned: grid.times == times
    pairs = close_pairs(truth, tracks, grid, max(cfg.c, cfg.threshold))
    assoc = associate(truth, tracks, cfg.threshold, cfg.k, cfg.m, grid=grid, pairs=pairs)
    scores = siap(truth, tracks, assoc, grid, covered=covered)
    if covered.all():
        gs = gospa_series(truth, tracks, cfg.c, cfg.p, cfg.switching_penalty, grid=grid,
                          pairs=pairs)
    else:
        held_out = (assoc.track_truth_row >= 0) & ~covered[np.maximum(assoc.track_truth_row, 0)]
        t_in, k_in = truth.take(np.flatnonzero(covered)), tracks.take(np.flatnonzero(~held_out))
        gs = gospa_series(t_in, k_in, cfg.c, cfg.p, cfg.switching_penalty,
                          grid=time_grid(t_in, k_in, require_overlap=False))
    row = aligned.report_row
    track_ids = {
        "icao": table.icao[row].astype(np.int64),
        "mode3a": table.mode3a[row].astype(np.int64),
        "identity": standard_identity_codes(table.identity[row]),
    }
    ids_result = {key: id_siap(assoc, grid, ids[key], track_ids[key], covered=covered)
                  for key in ("icao", "mode3a", "identity")}
    pairs_n = scores.series["pairs"]
    rmse = np.where(pairs_n > 0,
                    np.sqrt(scores.series["position_error_sq_sum"] / np.maximum(pairs_n, 1)),
                    np.nan)
    pcrb_series = None
    if bound is not None:
        held = assoc.truth_held & covered
        s2 = np.bincount(grid.truth_step[held], weights=bound[held] ** 2, minlength=grid.n_steps)
        cnt = np.bincount(grid.truth_step[held], minlength=grid.n_steps)
        pcrb_series = np.where(cnt > 0, np.sqrt(s2 / np.maximum(cnt, 1)), np.nan)
    nees = anees(truth, tracks, assoc, grid) if len(tracks) else None
    return SetResult(
        name=name, kind=kind, reports=len(table), tracks=tracks, association=assoc, gospa=gs,
        siap=scores, id_siap=ids_result, track_identity=table.identity[row].astype(np.int64),
        nees=nees, rmse=rmse, pcrb=pcrb_series, covered=covered,
    )
