"""Lost system tracks: the ``track_lost`` condition of the alert engine
(:mod:`~airpicture.fusion.alerts`).

A system track that had been held for a while is **lost** when it leaves the picture while
its last position (predicted to the epoch) lies inside radar coverage, above
``min_lost_height_m``, with no other track within ``lost_gap_m`` (a landing aircraft or one
leaving coverage raises nothing), while at least one of the nations that reported it still
reports (a track that leaves with its feed is that feed's silence, alerted once as
``feed_silent``, not one loss per track), and when its object is not held under another
number: none of the partner tracks that last fed it is still reported (renumbered), no track
carries its ICAO address, and no track it was recently linked to (a successor born beside it,
a companion that ran with it: :mod:`~airpicture.fusion.continuity`) is still in the picture.
A partner tracker that loses an object in a manoeuvre reports its old track on a diverging
path for tens of seconds while a new track already holds the object, so by the time the old
number ends nothing is near it: without the links nearly every such end was alerted, falsely.

Everything here is a function of the sequence of epoch results, so every node finds the same
losses. The per-epoch work is vectorised over tracks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from airpicture.fusion.alert_text import TRACK_LOST, alert_id, describe, where
from airpicture.fusion.continuity import TrackLinks
from airpicture.fusion.motion import predict_cv
from airpicture.fusion.state import EpochResult
from airpicture.fusion.zones import Coverage
from airpicture.geo import ecef2geodetic
from airpicture.messages import Alert, TrackStatus
from airpicture.track_table import STATUS_CODES, TrackTable

if TYPE_CHECKING:
    from airpicture.fusion.alerts import AlertConfig

__all__ = ["TrackLoss"]

I64 = NDArray[np.int64]
_COASTING = STATUS_CODES.index(TrackStatus.COASTING)


class TrackLoss:
    """Finds lost tracks epoch by epoch (module docstring); keeps the track links the engine
    also uses to recognise one object under a new number."""

    def __init__(self, config: AlertConfig, coverage: Coverage | None) -> None:
        self.config, self.coverage = config, coverage
        self.links = TrackLinks(config.lost_gap_m, config.link_dv_mps, config.reacquire_s,
                                config.link_window_s)
        self._prev = TrackTable.empty()
        self._prev_nations = np.zeros(0, np.int64)  # bit mask of reporting nations per row
        self._nation_index: dict[bytes, int] = {}
        self._last_keys = np.zeros(0, np.int64)  # (nation index << 40 | local track) ...
        self._last_key_stn = np.zeros(0, np.int64)  # ... that last fed each STN
        self._first_stn = np.zeros(0, np.int64)
        self._first_time = np.zeros(0)
        self._fused_time = np.zeros(0)  # last epoch each STN was fused (not coasting)

    def update(self, result: EpochResult) -> list[Alert]:
        """Record the epoch's links and return its ``track_lost`` alerts."""
        pic, t = result.picture, float(result.time)
        self.links.update(pic.track, pic.state, ~np.isin(pic.track, self._prev.track), t)
        reporters, partner_keys = self._contributors(result)
        moved = self._last_key_stn[np.isin(self._last_keys, partner_keys)]
        out = self._lost(pic, t, int(np.bitwise_or.reduce(reporters)), moved)
        self._remember(pic, t, reporters)
        stn = result.contributor_stn.astype(np.int64)
        coasting = np.isin(self._last_key_stn, pic.track) & ~np.isin(self._last_key_stn, stn)
        self._last_keys = np.concatenate([self._last_keys[coasting], partner_keys])
        self._last_key_stn = np.concatenate([self._last_key_stn[coasting], stn])
        return out

    def _contributors(self, result: EpochResult) -> tuple[I64, I64]:
        """Per picture row, the bit mask of the nations that reported it this epoch; and a
        key per contributing partner track (nation index << 40 | local track id)."""
        names = np.unique(result.contributor_nation)
        for n in names.tolist():  # nations: a handful
            self._nation_index.setdefault(n, len(self._nation_index))
        index = np.array([self._nation_index[n] for n in names.tolist()], np.int64)
        code = np.searchsorted(names, result.contributor_nation)
        nation = index[code] if len(index) else np.zeros(0, np.int64)
        masks = np.zeros(len(result.picture), np.int64)
        rows = np.searchsorted(result.picture.track, result.contributor_stn)
        np.bitwise_or.at(masks, rows, np.left_shift(1, nation))
        return masks, (nation << 40) | result.contributor_track.astype(np.int64)

    def _lost(self, pic: TrackTable, t: float, reporting: int, moved: I64) -> list[Alert]:
        prev, cfg = self._prev, self.config
        gone = np.flatnonzero(~np.isin(prev.track, pic.track) & ~np.isin(prev.track, moved)
                              & ((self._prev_nations & reporting) != 0))
        if gone.size == 0 or self.coverage is None:
            return []
        # A successor or companion, or a track with its address, still holds the object.
        index, partner = self.links.partners(prev.track[gone].astype(np.int64), t)
        carried = (prev.icao[gone] >= 0) & np.isin(prev.icao[gone], pic.icao)
        carried[index[np.isin(partner, pic.track)]] = True
        gone = gone[~carried]
        x, _ = predict_cv(prev.state, prev.covariance, t - prev.time[gone], 0.0, gone)
        pos = x[:, :3]
        at = np.searchsorted(self._first_stn, prev.track[gone])
        first, fused = self._first_time[at], self._fused_time[at]
        height = ecef2geodetic(pos).reshape(-1, 3)[:, 2]
        held_s = max(cfg.min_track_age_s, cfg.clear_s)  # held again clear_s: a new episode
        ok = (t - first >= held_s) & (height >= cfg.min_lost_height_m)
        if len(pic):
            d, _ = cKDTree(pic.state[:, :3]).query(pos, k=1)
            ok &= d > cfg.lost_gap_m
        ok[ok] = self.coverage.contains(pos[ok], cfg.lost_margin)
        out = []
        for j in np.flatnonzero(ok):  # only tracks just lost
            i = int(gone[j])
            stn = int(prev.track[i])
            out.append(Alert(
                id=alert_id(TRACK_LOST, str(stn), t), kind=TRACK_LOST, time=t,
                reason="track lost inside coverage",
                explanation=(f"{describe(prev, i)} was lost at {where(pos[j])} (held "
                             f"{t - first[j]:.0f} s, coasting the last {t - fused[j]:.0f} s), "
                             "inside radar coverage, with no other track nearby and none "
                             "that took it over"),
                stn=stn,
            ))
        return out

    def _remember(self, pic: TrackTable, t: float, nations: I64) -> None:
        """First-seen and last-fused times of this epoch's tracks (sorted by STN), the
        picture itself and who reported each track last (coasting tracks keep their last
        reporters)."""
        first = np.full(len(pic), t)
        fused = np.where(pic.status == _COASTING, -np.inf, t)
        if len(self._first_stn):
            pos = np.clip(np.searchsorted(self._first_stn, pic.track), 0, len(self._first_stn) - 1)
            known = self._first_stn[pos] == pic.track
            first[known] = self._first_time[pos[known]]
            fused[known] = np.maximum(fused[known], self._fused_time[pos[known]])
        if len(self._prev):
            pos = np.clip(np.searchsorted(self._prev.track, pic.track), 0, len(self._prev) - 1)
            held = (self._prev.track[pos] == pic.track) & (nations == 0)
            nations = np.where(held, self._prev_nations[pos], nations)
        self._first_stn = pic.track.astype(np.int64)
        self._first_time, self._fused_time = first, fused
        self._prev, self._prev_nations = pic, nations
