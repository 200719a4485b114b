"""ADS-B consistency: is an aircraft's broadcast position where radar and ESM see it?

Each radar or SSR plot paired with an ADS-B report (:mod:`~airpicture.fusion.reference`: Mode
S plots by address, others by position within a wide gate) gives a normalised distance
``d = sqrt(y' S^-1 y)`` in sigma units (``y`` the [range, azimuth] residual, ``S`` the sensor
and reference noise). Each ESM bearing paired with a report (:mod:`~airpicture.fusion.
bearings`: by address, or to the one aircraft near the bearing line) gives ``d = |y| / s``,
the report's distance from the bearing line in sigma (``s`` the bearing and reference noise,
with the same metric floor). Both kinds of sample join one time-ordered series per aircraft,
so an aircraft only ESM sees is judged as well. An aircraft is **flagged** once its last
``samples`` distances all exceed ``threshold_sigma`` (spoofing, or GNSS jamming that drags
the broadcast position), and **cleared** once its last ``clear_samples`` are all below
``clear_sigma``. A single wrong pairing or outlier cannot flag: it takes several updates in a
row. A bearing cannot tell a false position along its own line: ESM judges the cross-line
part of an offset only, and an emitter without ADS-B passing close to an aircraft's bearing
line for several updates could flag it (the ambiguity test of the pairing removes most).

Feed it registration-corrected plots (:meth:`~airpicture.fusion.registration.Registration.
correct`): an unregistered radar bias looks like a small spoof on every aircraft.
The per-aircraft streaks are computed vectorised over the batch's pairs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from airpicture.fusion.bearings import pair_bearings
from airpicture.fusion.reference import (
    AdsbReports,
    RadarPairs,
    Sites,
    pair_by_address,
    pair_by_position,
)
from airpicture.messages import SensorInfo
from airpicture.plot_table import PlotTable

__all__ = ["AdsbFlags", "SpoofingConfig", "SpoofingMonitor"]

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]


@dataclasses.dataclass(frozen=True)
class SpoofingConfig:
    """ADS-B consistency parameters (sigma units, seconds, metres); see the module docstring.

    ``use_primary``: also pair primary-radar plots (by position within ``gate_m``).
    ``use_esm``: also judge against ESM bearings (within ``gate_m`` of the bearing line).
    ``esm_confirm``, ``esm_fraction``: a bearing without address counts against an aircraft
    only once that site's bearings have matched it (below ``clear_sigma``) this many times and
    at least this fraction of the times they were paired with it.
    ``sigma_floor_m``: a floor on the range and cross-range noise (unmodelled small errors).
    """

    threshold_sigma: float = 5.0
    samples: int = 4
    clear_sigma: float = 3.0
    clear_samples: int = 6
    max_dt_s: float = 2.0
    gate_m: float = 5000.0
    use_primary: bool = True
    use_esm: bool = True
    esm_confirm: int = 5
    esm_fraction: float = 0.8
    sigma_floor_m: float = 50.0
    keep_s: float = 5.0

    def __post_init__(self) -> None:
        if not (self.threshold_sigma > self.clear_sigma > 0 and self.samples >= 1
                and self.clear_samples >= 1 and self.gate_m > 0 and self.max_dt_s > 0):
            raise ValueError("SpoofingConfig: invalid values")


@dataclasses.dataclass(frozen=True)
class AdsbFlags:
    """Aircraft newly flagged: ``icao``, data ``time`` of the flag, the mean normalised
    distance ``sigma`` and mean ``distance_m`` over the deciding samples, the number of
    ``samples`` and the ``source`` sensor id of the last one."""

    icao: I64
    time: F64
    sigma: F64
    distance_m: F64
    samples: I64
    source: NDArray[np.str_]

    @classmethod
    def empty(cls) -> AdsbFlags:
        return cls(np.zeros(0, np.int64), np.zeros(0), np.zeros(0), np.zeros(0),
                   np.zeros(0, np.int64), np.zeros(0, "U32"))

    def take(self, keep: NDArray[np.bool_] | I64) -> AdsbFlags:
        return AdsbFlags(**{f.name: getattr(self, f.name)[keep]
                            for f in dataclasses.fields(self)})

    def __len__(self) -> int:
        return len(self.icao)


def _runs(
    flag: NDArray[np.bool_], starts: NDArray[np.bool_], carry: I64,
    values: F64 | None = None, carry_sum: F64 | None = None,
) -> tuple[I64, F64]:
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


class SpoofingMonitor:
    """Flags aircraft whose ADS-B disagrees with radar (see the module docstring)."""

    def __init__(self, sensors: Sequence[SensorInfo], config: SpoofingConfig | None = None
                 ) -> None:
        self.config = config or SpoofingConfig()
        self.sites = Sites.from_sensors(sensors)
        self._reports = AdsbReports.empty()
        self._icao = np.zeros(0, np.int64)
        self._high = np.zeros(0, np.int64)
        self._high_d = np.zeros(0)
        self._high_m = np.zeros(0)
        self._low = np.zeros(0, np.int64)
        self._flagged = np.zeros(0, bool)
        self._esm_key = np.zeros(0, np.int64)  # (address, ESM site), sorted
        self._esm_counts = np.zeros((0, 2), np.int64)  # bearings matched, paired
        self.samples = 0
        """Pairs judged so far."""

    @property
    def flagged(self) -> I64:
        """Addresses flagged now."""
        return self._icao[self._flagged]

    def distances(self, plots: PlotTable) -> tuple[I64, F64, F64, F64, I64]:
        """Samples of this batch against the stored reports: the aircraft's ``icao``, the
        plot ``time``, the normalised distance (sigma), the distance (m) and the ``sensor``;
        adds the batch's ADS-B reports to the store first."""
        cfg = self.config
        t_new = float(plots.time.max())
        self._reports = self._reports.merged(
            AdsbReports.from_plots(plots), t_new - cfg.keep_s - float(np.ptp(plots.time))
        )
        by_addr = pair_by_address(plots, self._reports, self.sites, cfg.max_dt_s)
        parts = [by_addr]
        if cfg.use_primary:
            rest = plots.icao < 0
            if rest.any():
                pos = pair_by_position(plots.take(rest), self._reports, self.sites,
                                       gate_m=cfg.gate_m, max_dt_s=cfg.max_dt_s)
                rows = np.flatnonzero(rest)
                parts.append(dataclasses.replace(pos, plot=rows[pos.plot]))
        pairs = RadarPairs(**{f.name: np.concatenate([getattr(p, f.name) for p in parts])
                              for f in dataclasses.fields(RadarPairs)})
        cross = pairs.y[:, 1] * pairs.r
        sig_r = np.maximum(pairs.sigma[:, 0], cfg.sigma_floor_m)
        sig_c = np.maximum(pairs.sigma[:, 1] * pairs.r, cfg.sigma_floor_m)
        icao, t = self._reports.icao[pairs.ref], plots.time[pairs.plot]
        d, dist = np.hypot(pairs.y[:, 0] / sig_r, cross / sig_c), np.hypot(pairs.y[:, 0], cross)
        sensor = pairs.sensor
        if cfg.use_esm:
            e_icao, e_t, e_d, e_dist, e_sensor = self._bearing_samples(plots)
            icao, t = np.concatenate([icao, e_icao]), np.concatenate([t, e_t])
            d, dist = np.concatenate([d, e_d]), np.concatenate([dist, e_dist])
            sensor = np.concatenate([sensor, e_sensor])
        return icao, t, d, dist, sensor

    def _bearing_samples(self, plots: PlotTable) -> tuple[I64, F64, F64, F64, I64]:
        """ESM samples (as :meth:`distances`). A bearing without address only counts against
        an aircraft whose bearing line from that site is confirmed: earlier bearings matched
        it ``esm_confirm`` times and in ``esm_fraction`` of their pairings. ESM sees emitters;
        an aircraft that does not emit has its line crossed by other emitters now and then,
        which must not make a case against it."""
        cfg = self.config
        b = pair_bearings(plots, self._reports, self.sites, gate_m=cfg.gate_m,
                          max_dt_s=cfg.max_dt_s)
        icao = self._reports.icao[b.ref]
        off = np.abs(b.y) * b.rho
        d = off / np.maximum(b.sigma * b.rho, cfg.sigma_floor_m)
        key = icao * max(len(self.sites.ids), 1) + b.sensor
        confirmed = np.zeros(len(key), bool)
        if len(self._esm_key):
            pos = np.clip(np.searchsorted(self._esm_key, key), 0, len(self._esm_key) - 1)
            hits, tries = self._esm_counts[pos, 0], self._esm_counts[pos, 1]
            confirmed = ((self._esm_key[pos] == key) & (hits >= cfg.esm_confirm)
                         & (hits >= cfg.esm_fraction * tries))
        keep = confirmed | (plots.icao[b.plot] >= 0) | (d < cfg.clear_sigma)
        keys, inverse = np.unique(np.concatenate([self._esm_key, key]), return_inverse=True)
        counts = np.zeros((len(keys), 2), np.int64)
        np.add.at(counts, inverse[:len(self._esm_key)], self._esm_counts)
        new = inverse[len(self._esm_key):]
        np.add.at(counts, new, np.column_stack([d < cfg.clear_sigma, np.ones(len(d), bool)]))
        self._esm_key, self._esm_counts = keys, counts
        return (icao[keep], plots.time[b.plot][keep], d[keep], off[keep], b.sensor[keep])

    def update(self, plots: PlotTable) -> AdsbFlags:
        """Judge a batch of plots (ADS-B and radar, any order); return newly flagged aircraft."""
        cfg = self.config
        if len(plots) == 0:
            return AdsbFlags.empty()
        icao, t, d, dist, sensor = self.distances(plots)
        self.samples += len(icao)
        if len(icao) == 0:
            return AdsbFlags.empty()
        order = np.lexsort((t, icao))
        icao, t, d, dist = icao[order], t[order], d[order], dist[order]
        src = np.asarray(self.sites.ids, dtype="U32")[sensor[order]]
        starts = np.r_[True, icao[1:] != icao[:-1]]
        # Carry the runs and flags of known aircraft into this batch.
        keys = np.union1d(self._icao, icao)
        m = len(keys)
        high0, low0, flag0 = np.zeros(m, np.int64), np.zeros(m, np.int64), np.zeros(m, bool)
        hd0, hm0 = np.zeros(m), np.zeros(m)
        known = np.searchsorted(keys, self._icao)
        high0[known], low0[known], flag0[known] = self._high, self._low, self._flagged
        hd0[known], hm0[known] = self._high_d, self._high_m
        k = np.searchsorted(keys, icao)
        above = d > cfg.threshold_sigma
        high, sum_d = _runs(above, starts, high0[k], d, hd0[k])
        _, sum_m = _runs(above, starts, high0[k], dist, hm0[k])
        low, _ = _runs(d < cfg.clear_sigma, starts, low0[k])
        # Newly flagged: the first row of an unflagged aircraft whose high run reaches the mark.
        hit_rows = np.flatnonzero((high >= cfg.samples) & ~flag0[k])
        first_hit = hit_rows[np.r_[True, icao[hit_rows][1:] != icao[hit_rows][:-1]]] if len(
            hit_rows) else hit_rows
        n_run = high[first_hit]
        flags = AdsbFlags(
            icao=icao[first_hit], time=t[first_hit], sigma=sum_d[first_hit] / n_run,
            distance_m=sum_m[first_hit] / n_run, samples=n_run.astype(np.int64),
            source=src[first_hit],
        )
        # State per aircraft at the end of the batch.
        e = np.flatnonzero(np.r_[starts[1:], True])
        ke = k[e]
        flagged = flag0.copy()
        flagged[np.searchsorted(keys, flags.icao)] = True
        cleared = flagged[ke] & (low[e] >= cfg.clear_samples)
        flagged[ke[cleared]] = False
        high0[ke], low0[ke], hd0[ke], hm0[ke] = high[e], low[e], sum_d[e], sum_m[e]
        self._icao, self._high, self._low, self._flagged = keys, high0, low0, flagged
        self._high_d, self._high_m = hd0, hm0
        return flags
