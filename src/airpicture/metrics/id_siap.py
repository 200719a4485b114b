r"""ID-SIAP: how well the tracks holding a truth identify it.

At each step, every truth held by one or more tracks (:math:`JT(t)`, inside coverage) is

- **unidentified** (:math:`JU`) when none of its tracks carries an identity;
- **correct** (:math:`JC`) when all its tracks carry the truth's identity (and it has one);
- **incorrect** (:math:`JI`) when all its tracks carry an identity other than the truth's;
- **ambiguous** (:math:`JA = JT - JU - JC - JI`) otherwise.

Over the run: ID completeness :math:`\sum (JT - JU) / \sum JT`, ID correctness
:math:`\sum JC / \sum JT`, ID ambiguity :math:`\sum JA / \sum JT`, ID incorrectness
:math:`\sum JI / \sum JT`; all 0 when nothing is held (the documented empty value, as in Stone
Soup's ``IDSIAPMetrics``).

Identities are integers with ``-1`` for "none": the 24-bit ICAO address or the Mode 3/A code
(cooperative identity), or the index of the standard identity with *pending* and *unknown*
mapped to -1 (:func:`standard_identity_codes`).
"""

from __future__ import annotations

import dataclasses

import numpy as np
from numpy.typing import ArrayLike

from airpicture.messages import Identity
from airpicture.metrics.association import Association
from airpicture.metrics.samples import BoolArray, FloatArray, IntArray, TimeGrid
from airpicture.track_table import IDENTITY_CODES

NO_IDENTITY = (Identity.PENDING, Identity.UNKNOWN)
"""Standard identities that say nothing about the object: scored as unidentified."""


@dataclasses.dataclass(frozen=True)
class IDSIAPResult:
    """ID-SIAP scores over the run, their counts, and per-step series ``(T,)``."""

    scores: dict[str, float]
    counts: dict[str, int]
    times: FloatArray
    series: dict[str, FloatArray]


def standard_identity_codes(codes: ArrayLike) -> IntArray:
    """Map :data:`airpicture.track_table.IDENTITY_CODES` indices to ID-SIAP identities.

    *pending* and *unknown* (and out-of-range codes) become -1; the others keep their index.
    """
    c = np.asarray(codes).astype(np.int64)
    none = [IDENTITY_CODES.index(i) for i in NO_IDENTITY]
    bad = (c < 0) | (c >= len(IDENTITY_CODES)) | np.isin(c, none)
    return np.where(bad, -1, c)


def id_siap(
    association: Association,
    grid: TimeGrid,
    truth_id: ArrayLike,
    track_id: ArrayLike,
    *,
    covered: BoolArray | None = None,
) -> IDSIAPResult:
    """ID-SIAP measures (module docstring) for one kind of identity.

    Parameters
    ----------
    association : Association
        Track-to-truth association over ``N`` truth and ``M`` track rows.
    grid : TimeGrid
        The common time grid of the association's samples.
    truth_id : array_like, shape (N,), int
        Identity of each truth row (-1: none).
    track_id : array_like, shape (M,), int
        Identity each track row carries (-1: none).
    covered : ndarray, shape (N,), bool, optional
        Truth rows inside coverage (default: all).

    Returns
    -------
    IDSIAPResult
    """
    tid = np.asarray(truth_id).astype(np.int64)
    kid = np.asarray(track_id).astype(np.int64)
    n_truth = len(grid.truth_step)
    if tid.shape != (n_truth,) or kid.shape != (len(grid.track_step),):
        raise ValueError(
            f"truth_id must have shape ({n_truth},) and track_id ({len(grid.track_step)},); "
            f"got {tid.shape} and {kid.shape}"
        )
    cov = np.ones(n_truth, bool) if covered is None else np.asarray(covered, bool)
    pt, pk = association.pair_truth_row, association.pair_track_row
    has = kid[pk] >= 0
    same = has & (kid[pk] == tid[pt]) & (tid[pt] >= 0)
    n = np.bincount(pt, minlength=n_truth)
    n_none = np.bincount(pt, weights=~has, minlength=n_truth)
    n_same = np.bincount(pt, weights=same, minlength=n_truth)
    n_other = np.bincount(pt, weights=has & ~same, minlength=n_truth)
    held = (n > 0) & cov
    unknown = held & (n_none == n)
    correct = held & (n_same == n)
    incorrect = held & (n_other == n)
    steps = grid.truth_step
    n_steps = grid.n_steps

    def per_step(mask: BoolArray) -> IntArray:
        return np.bincount(steps[mask], minlength=n_steps)

    jt, ju, jc, ji = per_step(held), per_step(unknown), per_step(correct), per_step(incorrect)
    ja = jt - ju - jc - ji
    counts = {"JT": int(jt.sum()), "JU": int(ju.sum()), "JC": int(jc.sum()),
              "JI": int(ji.sum()), "JA": int(ja.sum())}
    den = counts["JT"]

    def ratio(x: float) -> float:
        return float(x / den) if den else 0.0

    scores = {
        "id_completeness": ratio(counts["JT"] - counts["JU"]),
        "id_correctness": ratio(counts["JC"]),
        "id_ambiguity": ratio(counts["JA"]),
        "id_incorrectness": ratio(counts["JI"]),
    }
    safe = np.maximum(jt, 1)
    series = {
        "JT": jt.astype(np.float64),
        "id_completeness": np.where(jt > 0, (jt - ju) / safe, 0.0),
        "id_correctness": np.where(jt > 0, jc / safe, 0.0),
    }
    return IDSIAPResult(scores=scores, counts=counts, times=grid.times, series=series)
