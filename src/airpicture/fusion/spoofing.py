"""ADS-B consistency: is an aircraft's broadcast position where radar and ESM see it?

Each radar or SSR plot paired with an ADS-B report (:mod:`~airpicture.fusion.reference`: Mode
S plots by address, others by position within a wide gate, with each aircraft's newest
report) gives a normalised distance
``d = sqrt(y' S^-1 y)`` in sigma units (``y`` the [range, azimuth] residual, ``S`` the sensor
and reference noise). Each ESM bearing paired with a report (:mod:`~airpicture.fusion.
bearings`: by address, or to the one aircraft near the bearing line) gives ``d = |y| / s``,
the report's distance from the bearing line in sigma (``s`` the bearing and reference noise,
with the same metric floor). The samples are judged per (aircraft, sensor) series
(:mod:`~airpicture.fusion.streaks`): an aircraft is **flagged** once one sensor's last
``samples`` distances all exceed ``threshold_sigma`` (spoofing, or GNSS jamming that drags
the broadcast position), or its last ``strong_samples`` (fewer) all exceed ``strong_sigma``;
it stays flagged while any of its series holds the case (a
series clears once its last ``clear_samples`` are all below ``clear_sigma``, or after
``forget_s`` without samples). A single wrong pairing or outlier cannot flag, and a sensor
that cannot see an offset (looking along it, or too coarse) cannot mask it.

A bearing without address cannot tell which emitter it saw: an emitter without ADS-B flying
a few kilometres from an aircraft puts bearings off that aircraft's line, update after update
(an escort, an interceptor). So such a bearing counts against an aircraft only where radar
and SSR do not see the aircraft (no radar or SSR sample of it for ``radar_hold_s``: where
they do, they judge it, in two dimensions and by address or position), and only once its
line from that site is confirmed (see :meth:`SpoofingMonitor._bearing_samples`). A bearing
on the aircraft's own squitter (with its address) always counts.

Feed it registration-corrected plots (:meth:`~airpicture.fusion.registration.Registration.
correct`): an unregistered radar bias looks like a small spoof on every aircraft.
The series are computed vectorised over the batch's pairs.
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
from airpicture.fusion.streaks import StreakConfig, Streaks
from airpicture.messages import SensorInfo
from airpicture.plot_table import PlotTable

__all__ = ["AdsbFlags", "Samples", "SpoofingConfig", "SpoofingMonitor"]

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]


@dataclasses.dataclass(frozen=True)
class SpoofingConfig:
    """ADS-B consistency parameters (sigma units, seconds, metres); see the module docstring.

    ``streaks``: the runs of samples that flag and clear an (aircraft, sensor) series.
    ``use_primary``: also pair primary-radar plots (by position within ``gate_m``).
    ``use_esm``: also judge against ESM bearings (within ``gate_m`` of the bearing line).
    ``esm_confirm``, ``esm_fraction``: a bearing without address counts against an aircraft
    only once that site's bearings have matched it (below ``streaks.clear_sigma``) this many
    times and at least this fraction of the times they were paired with it.
    ``sigma_floor_m``: a floor on the range and cross-range noise (unmodelled small errors).
    ``radar_hold_s``: a bearing without address does not count against an aircraft that
    radar or SSR paired this recently.
    """

    streaks: StreakConfig = dataclasses.field(default_factory=StreakConfig)
    radar_hold_s: float = 30.0
    max_dt_s: float = 2.0
    gate_m: float = 5000.0
    use_primary: bool = True
    use_esm: bool = True
    esm_confirm: int = 5
    esm_fraction: float = 0.8
    sigma_floor_m: float = 50.0
    keep_s: float = 5.0

    def __post_init__(self) -> None:
        if not (self.gate_m > 0 and self.max_dt_s > 0):
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


@dataclasses.dataclass(frozen=True)
class Samples:
    """Judged pairs: the aircraft's ``icao``, the plot ``time``, the normalised distance
    ``sigma``, the distance ``distance_m`` (m) and the plot's ``sensor`` index."""

    icao: I64
    time: F64
    sigma: F64
    distance_m: F64
    sensor: I64

    @classmethod
    def concat(cls, parts: Sequence[Samples]) -> Samples:
        return cls(**{f.name: np.concatenate([getattr(p, f.name) for p in parts])
                      for f in dataclasses.fields(cls)})

    def take(self, keep: NDArray[np.bool_] | I64) -> Samples:
        return Samples(**{f.name: getattr(self, f.name)[keep]
                          for f in dataclasses.fields(self)})

    def __len__(self) -> int:
        return len(self.icao)


class SpoofingMonitor:
    """Flags aircraft whose ADS-B disagrees with radar (see the module docstring)."""

    def __init__(self, sensors: Sequence[SensorInfo], config: SpoofingConfig | None = None
                 ) -> None:
        self.config = config or SpoofingConfig()
        self.sites = Sites.from_sensors(sensors)
        self._reports = AdsbReports.empty()
        self._streaks = Streaks(self.config.streaks)
        self._flagged = np.zeros(0, np.int64)
        self._seen_icao = np.zeros(0, np.int64)  # sorted: aircraft radar or SSR paired ...
        self._seen_time = np.zeros(0)  # ... and when last
        self._esm_key = np.zeros(0, np.int64)  # (address, ESM site), sorted
        self._esm_counts = np.zeros((0, 2), np.int64)  # bearings matched, paired
        self.samples = 0
        """Pairs judged so far."""

    @property
    def flagged(self) -> I64:
        """Addresses flagged now."""
        return self._flagged

    def distances(self, plots: PlotTable) -> Samples:
        """Samples of this batch against the stored reports; adds the batch's ADS-B reports
        to the store first."""
        cfg = self.config
        t_new = float(plots.time.max())
        self._reports = self._reports.merged(
            AdsbReports.from_plots(plots), t_new - cfg.keep_s - float(np.ptp(plots.time))
        )
        by_addr = pair_by_address(plots, self._reports, self.sites, cfg.max_dt_s)
        parts = [by_addr]
        if cfg.use_primary:
            rest = plots.icao < 0
            if rest.any() and len(self._reports):
                # Only each aircraft's newest report: an older one (from before a spoof
                # began) would explain the plot best and hide the offset for a turn.
                r = self._reports
                last = np.flatnonzero(np.r_[r.icao[1:] != r.icao[:-1], True])
                newest = AdsbReports(r.time[last], r.icao[last], r.position[last],
                                     r.velocity[last], r.sigma_h[last])
                pos = pair_by_position(plots.take(rest), newest, self.sites,
                                       gate_m=cfg.gate_m, max_dt_s=cfg.max_dt_s)
                rows = np.flatnonzero(rest)
                parts.append(dataclasses.replace(pos, plot=rows[pos.plot], ref=last[pos.ref]))
        pairs = RadarPairs(**{f.name: np.concatenate([getattr(p, f.name) for p in parts])
                              for f in dataclasses.fields(RadarPairs)})
        cross = pairs.y[:, 1] * pairs.r
        sig_r = np.maximum(pairs.sigma[:, 0], cfg.sigma_floor_m)
        sig_c = np.maximum(pairs.sigma[:, 1] * pairs.r, cfg.sigma_floor_m)
        radar = Samples(self._reports.icao[pairs.ref], plots.time[pairs.plot],
                        np.hypot(pairs.y[:, 0] / sig_r, cross / sig_c),
                        np.hypot(pairs.y[:, 0], cross), pairs.sensor)
        self._seen(radar, t_new)
        if not cfg.use_esm:
            return radar
        return Samples.concat([radar, self._bearing_samples(plots)])

    def _seen(self, radar: Samples, now: float) -> None:
        """Record when radar or SSR last paired each aircraft (forgetting those not paired for
        ``radar_hold_s``)."""
        icao = np.concatenate([self._seen_icao, radar.icao])
        when = np.concatenate([self._seen_time, radar.time])
        keys, inverse = np.unique(icao, return_inverse=True)
        last = np.full(len(keys), -np.inf)
        np.maximum.at(last, inverse, when)
        keep = last >= now - self.config.radar_hold_s
        self._seen_icao, self._seen_time = keys[keep], last[keep]

    def _bearing_samples(self, plots: PlotTable) -> Samples:
        """ESM samples. A bearing without address only counts against an aircraft radar and
        SSR have not paired for ``radar_hold_s`` and whose bearing line from that site is
        confirmed: earlier bearings matched it ``esm_confirm`` times and in ``esm_fraction``
        of their pairings. ESM sees emitters; an aircraft that does not emit has its line
        crossed by other emitters now and then, which must not make a case against it."""
        cfg = self.config
        b = pair_bearings(plots, self._reports, self.sites, gate_m=cfg.gate_m,
                          max_dt_s=cfg.max_dt_s)
        icao, t = self._reports.icao[b.ref], plots.time[b.plot]
        off = np.abs(b.y) * b.rho
        d = off / np.maximum(b.sigma * b.rho, cfg.sigma_floor_m)
        key = icao * max(len(self.sites.ids), 1) + b.sensor
        confirmed = np.zeros(len(key), bool)
        if len(self._esm_key):
            pos = np.clip(np.searchsorted(self._esm_key, key), 0, len(self._esm_key) - 1)
            hits, tries = self._esm_counts[pos, 0], self._esm_counts[pos, 1]
            confirmed = ((self._esm_key[pos] == key) & (hits >= cfg.esm_confirm)
                         & (hits >= cfg.esm_fraction * tries))
        if len(self._seen_icao):
            pos = np.clip(np.searchsorted(self._seen_icao, icao), 0, len(self._seen_icao) - 1)
            confirmed &= ~((self._seen_icao[pos] == icao)
                           & (self._seen_time[pos] >= t - cfg.radar_hold_s))
        low = d < cfg.streaks.clear_sigma
        keep = confirmed | (plots.icao[b.plot] >= 0) | low
        keys, inverse = np.unique(np.concatenate([self._esm_key, key]), return_inverse=True)
        counts = np.zeros((len(keys), 2), np.int64)
        np.add.at(counts, inverse[:len(self._esm_key)], self._esm_counts)
        new = inverse[len(self._esm_key):]
        low = d < cfg.streaks.clear_sigma
        np.add.at(counts, new, np.column_stack([low, np.ones(len(d), bool)]))
        self._esm_key, self._esm_counts = keys, counts
        return Samples(icao, t, d, off, b.sensor).take(keep)

    def update(self, plots: PlotTable) -> AdsbFlags:
        """Judge a batch of plots (ADS-B and radar, any order); return newly flagged aircraft."""
        if len(plots) == 0:
            return AdsbFlags.empty()
        s = self.distances(plots)
        self.samples += len(s)
        n_sites = max(len(self.sites.ids), 1)
        cases = self._streaks.update(s.icao * n_sites + s.sensor, s.time, s.sigma,
                                     s.distance_m, float(plots.time.max()))
        # Newly flagged: an aircraft's first case in time, unless it was flagged already.
        by = np.lexsort((s.time[cases.row], s.icao[cases.row]))
        icao = s.icao[cases.row[by]]
        first = by[np.r_[True, icao[1:] != icao[:-1]]] if len(by) else by
        c = first[~np.isin(s.icao[cases.row[first]], self._flagged)]
        row = cases.row[c]
        self._flagged = np.unique(self._streaks.flagged_keys // n_sites)
        return AdsbFlags(
            icao=s.icao[row], time=s.time[row], sigma=cases.sigma[c],
            distance_m=cases.distance_m[c], samples=cases.samples[c],
            source=np.asarray(self.sites.ids, dtype="U32")[s.sensor[row]],
        )
