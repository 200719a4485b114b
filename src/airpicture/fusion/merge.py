"""Keeping the newest report of every partner track: the first step of an epoch.

A partner track is keyed by ``(nation index << 40) | local track id`` with nations in sorted
order. Among reports of one key the newest (by data time) wins; ties go to the report already
held, then to the smallest position, so the outcome does not depend on the order reports came
in. Reports heard more than ``memory_s`` ago are forgotten.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numba as nb
import numpy as np
from numpy.typing import NDArray

from airpicture.track_table import TrackTable

__all__ = ["Merged", "distinct", "merge_reports"]

Index = NDArray[np.int64]


@dataclasses.dataclass(frozen=True)
class Merged:
    """Newest report per partner track, sorted by ``key``; ``stn`` 0 where unbound."""

    nations: NDArray[np.bytes_]
    table: TrackTable
    key: Index
    stn: Index
    stale: int
    forgotten: int


def distinct(values: NDArray[np.bytes_]) -> list[bytes]:
    """Distinct values of a column with few of them (nations), sorted; one pass per value."""
    out: list[bytes] = []
    left = np.ones(len(values), bool)
    while left.any():
        value = values[int(np.argmax(left))]
        out.append(bytes(value))
        left &= values != value
    return sorted(out)


def group_starts(sorted_keys: NDArray[np.int64]) -> Index:
    """Index of the first row of each run of equal keys."""
    if sorted_keys.size == 0:
        return np.zeros(0, np.int64)
    return np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]]).astype(np.int64)


@nb.njit(cache=True, nogil=True)
def _gather2(
    old: NDArray[np.float64],
    new: NDArray[np.float64],
    from_new: NDArray[np.bool_],
    rows: NDArray[np.int64],
    out: NDArray[np.float64],
) -> None:  # pragma: no cover - compiled
    for i in range(rows.shape[0]):
        src = new if from_new[i] else old
        for j in range(out.shape[1]):
            out[i, j] = src[rows[i], j]


def _gather(
    old: NDArray[np.generic], new: NDArray[np.generic], from_new: NDArray[np.bool_], rows: Index
) -> NDArray[np.generic]:
    if old.dtype == np.float64 and old.ndim >= 2:
        width = int(np.prod(old.shape[1:]))
        out = np.empty((len(rows), width))
        _gather2(
            np.ascontiguousarray(old).reshape(len(old), width),
            np.ascontiguousarray(new, dtype=np.float64).reshape(len(new), width),
            from_new,
            rows,
            out,
        )
        return out.reshape(len(rows), *old.shape[1:])
    out_col = np.empty((len(rows), *old.shape[1:]), old.dtype)
    out_col[~from_new] = old[rows[~from_new]]
    out_col[from_new] = new[rows[from_new]]
    return out_col


def _newest_per_key(reports: TrackTable, key: Index) -> tuple[Index, Index]:
    """(chosen report rows, their keys), one per key, keys ascending."""
    order = np.argsort(key, kind="stable")
    starts = group_starts(key[order])
    sizes = np.diff(np.r_[starts, len(order)])
    chosen = order[starts]
    if np.any(sizes > 1):
        dup_groups = np.flatnonzero(sizes > 1)
        rows = np.concatenate([order[starts[g] : starts[g] + sizes[g]] for g in dup_groups])
        x = reports.state[rows]
        sub = rows[np.lexsort((-x[:, 2], -x[:, 1], -x[:, 0], reports.time[rows], key[rows]))]
        last = np.r_[group_starts(key[sub])[1:], len(sub)] - 1
        chosen[dup_groups] = sub[last]
    return chosen, key[chosen]


def merge_reports(
    nations: NDArray[np.bytes_],
    held: TrackTable,
    held_key: Index,
    held_stn: Index,
    reports: TrackTable,
    forget_before: float,
) -> Merged:
    """Fold ``reports`` into the held newest-per-track table (see the module docstring)."""
    names = np.union1d(nations, np.array(distinct(reports.source), "S16")).astype("S16")
    if len(names) != len(nations):  # a new nation: renumber the held keys
        codes = np.searchsorted(names, nations[held_key >> 40])
        held_key = (codes.astype(np.int64) << 40) | (held_key & ((1 << 40) - 1))
    code = np.zeros(len(reports), np.int64)
    for name in distinct(reports.source):
        code[reports.source == name] = np.searchsorted(names, name)
    key = (code << 40) | reports.track
    chosen, ck = _newest_per_key(reports, key)

    n_old = len(held)
    pos = np.searchsorted(held_key, ck)
    hit = pos < n_old
    hit[hit] = held_key[pos[hit]] == ck[hit]
    newer = np.ones(len(ck), bool)
    newer[hit] = reports.time[chosen[hit]] > held.time[pos[hit]]
    replace = hit & newer
    insert = ~hit
    stale = len(reports) - len(chosen) + int(np.count_nonzero(hit & ~newer))

    from_new = np.r_[np.zeros(n_old, bool), np.ones(int(insert.sum()), bool)]
    rows = np.r_[np.arange(n_old), chosen[insert]].astype(np.int64)
    from_new[pos[replace]] = True
    rows[pos[replace]] = chosen[replace]
    keys = np.r_[held_key, ck[insert]]
    stn = np.r_[held_stn, np.zeros(int(insert.sum()), np.int64)]
    time = np.asarray(_gather(held.time, reports.time, from_new, rows), dtype=np.float64)
    keep = np.flatnonzero(time >= forget_before)
    if insert.any():
        keep = keep[np.argsort(keys[keep], kind="stable")]
    columns: dict[str, Any] = {
        name: _gather(col, getattr(reports, name), from_new[keep], rows[keep])
        for name, col in held.columns().items()
    }
    return Merged(
        nations=names,
        table=TrackTable(**columns),
        key=keys[keep],
        stn=stn[keep],
        stale=stale,
        forgotten=len(keys) - len(keep),
    )
