"""Streaks of the ADS-B consistency check: when a series of normalised distances makes a case.

The check (:mod:`~airpicture.fusion.spoofing`) turns each pairing of an aircraft's ADS-B
report with a sensor's plot into a *sample*: a normalised distance ``d`` (sigma) and a
distance (m). Samples are kept in one time-ordered series per **(aircraft, sensor)**: a
sensor that cannot see an offset (one looking along it, an over-the-horizon radar whose noise
is as large as the offset) must not break the case another sensor makes. A series **makes a
case** once its last ``samples`` distances all exceed ``threshold_sigma``, or its last
``strong_samples`` (fewer) all exceed ``strong_sigma`` (a gross misfit, antenna turn after
antenna turn: a slow radar makes its case within a few turns). A series that made a case
**clears** once its last ``clear_samples`` are all below ``clear_sigma``, or once it has had
no sample for ``forget_s``. The runs are computed vectorised over a batch's samples.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from numpy.typing import NDArray

__all__ = ["Cases", "StreakConfig", "Streaks"]

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
B = NDArray[np.bool_]


@dataclasses.dataclass(frozen=True)
class StreakConfig:
    """Run lengths (samples), thresholds (sigma) and ``forget_s`` (s); module docstring."""

    threshold_sigma: float = 5.0
    samples: int = 4
    strong_sigma: float = 15.0
    strong_samples: int = 3
    clear_sigma: float = 3.0
    clear_samples: int = 6
    forget_s: float = 120.0

    def __post_init__(self) -> None:
        if not (self.threshold_sigma > self.clear_sigma > 0 and self.samples >= 1
                and self.clear_samples >= 1 and self.strong_samples >= 1
                and self.strong_sigma >= self.threshold_sigma):
            raise ValueError("StreakConfig: invalid values")


def _runs(flag: B, starts: B, carry: I64, values: F64 | None = None,
          carry_sum: F64 | None = None) -> tuple[I64, F64]:
    """Length of the run of True ending at each row (runs restart at group ``starts``; a
    group's first run continues the ``carry`` run from before the batch), and the sum of
    ``values`` over that run (continuing ``carry_sum``)."""
    n = len(flag)
    idx = np.arange(n)
    v = np.zeros(n) if values is None else values
    c_sum = np.zeros(n) if carry_sum is None else carry_sum
    csum = np.r_[0.0, np.cumsum(np.where(flag, v, 0.0))]
    group_start = np.maximum.accumulate(np.where(starts, idx, 0))
    last_false = np.maximum.accumulate(np.where(~flag, idx, -1))
    unbroken = last_false < group_start
    begin = np.where(unbroken, group_start, last_false + 1)
    length = np.where(unbroken, idx - group_start + 1 + carry, idx - last_false)
    total = csum[idx + 1] - csum[begin] + np.where(unbroken, c_sum, 0.0)
    return np.where(flag, length, 0), np.where(flag, total, 0.0)


@dataclasses.dataclass(frozen=True)
class Cases:
    """Series that newly made a case: ``row`` (index into the samples given), the ``samples``
    in the deciding run, their mean ``sigma`` and mean ``distance_m``."""

    row: I64
    samples: I64
    sigma: F64
    distance_m: F64


class Streaks:
    """Run state per series key (module docstring); keys are non-negative integers."""

    _FIELDS = ("key", "high", "high_d", "high_m", "strong", "low", "flagged", "last")

    def __init__(self, config: StreakConfig | None = None) -> None:
        self.config = config or StreakConfig()
        self.key = np.zeros(0, np.int64)  # sorted
        self.high = np.zeros(0, np.int64)
        self.high_d = np.zeros(0)
        self.high_m = np.zeros(0)
        self.strong = np.zeros(0, np.int64)
        self.low = np.zeros(0, np.int64)
        self.flagged = np.zeros(0, bool)
        self.last = np.zeros(0)  # data time of the key's last sample

    @property
    def flagged_keys(self) -> I64:
        """Keys whose series holds a case now."""
        return self.key[self.flagged]

    def update(self, key: I64, t: F64, d: F64, dist: F64, now: float) -> Cases:
        """Take in samples (any order): series ``key``, data time ``t``, normalised distance
        ``d`` (sigma), distance ``dist`` (m); ``now`` the batch's data time. Returns the
        series that newly made a case, at their first deciding sample."""
        cfg = self.config
        self._select(self.last >= now - cfg.forget_s)
        if len(key) == 0:
            return Cases(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), np.zeros(0))
        order = np.lexsort((t, key))
        key, t, d, dist = key[order], t[order], d[order], dist[order]
        starts = np.r_[True, key[1:] != key[:-1]]
        keys = np.union1d(self.key, key)
        known = np.searchsorted(keys, self.key)
        state = {}
        for name in self._FIELDS[1:]:  # the carried state on the union of keys
            old = getattr(self, name)
            state[name] = np.zeros(len(keys), old.dtype)
            state[name][known] = old
        k = np.searchsorted(keys, key)
        above = d > cfg.threshold_sigma
        high, sum_d = _runs(above, starts, state["high"][k], d, state["high_d"][k])
        _, sum_m = _runs(above, starts, state["high"][k], dist, state["high_m"][k])
        strong, _ = _runs(d > cfg.strong_sigma, starts, state["strong"][k])
        low, _ = _runs(d < cfg.clear_sigma, starts, state["low"][k])
        hit = np.flatnonzero(((high >= cfg.samples) | (strong >= cfg.strong_samples))
                             & ~state["flagged"][k])
        first = hit[np.r_[True, key[hit][1:] != key[hit][:-1]]] if hit.size else hit
        n = high[first]
        cases = Cases(order[first], n.astype(np.int64), sum_d[first] / n, sum_m[first] / n)
        state["flagged"][k[first]] = True
        e = np.flatnonzero(np.r_[starts[1:], True])
        ke = k[e]
        state["flagged"][ke[low[e] >= cfg.clear_samples]] = False
        for name, run in (("high", high), ("high_d", sum_d), ("high_m", sum_m),
                          ("strong", strong), ("low", low), ("last", t)):
            state[name][ke] = run[e]
        self.key = keys
        for name, value in state.items():
            setattr(self, name, value)
        return cases

    def _select(self, keep: B) -> None:
        for name in self._FIELDS:
            setattr(self, name, getattr(self, name)[keep])
