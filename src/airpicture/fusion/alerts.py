"""Operator alerts over the system picture: raised once, explained, the same on every node.

:class:`AlertEngine` looks at each closed epoch (the picture and its identities) and raises
:class:`~airpicture.messages.Alert` messages:

- ``emergency``: a track squawks 7500 (unlawful interference), 7600 (radio failure) or 7700
  (general emergency);
- ``zone_intrusion``: a non-cooperative (no address, no Mode 3/A) or suspect/hostile track
  inside a protected zone (polygon and altitude band, :mod:`~airpicture.fusion.zones`) by
  ``zone_margin_sigma`` standard deviations of its position (the points that far east, west,
  north, south, above and below it are inside too): a track skimming the boundary within its
  own error raises nothing until it is clearly in;
- ``adsb_inconsistent``: an aircraft's ADS-B position disagrees with radar over several
  updates (:mod:`~airpicture.fusion.spoofing` judges it; the engine names the track);
- ``track_lost``: a system track that had been held for a while leaves the picture inside
  radar coverage with nothing near it and no other track holding its object
  (:mod:`~airpicture.fusion.track_loss`);
- ``feed_silent``: a partner that contributed stops contributing for ``silent_s``, or a named
  feed (a sensor, a partner link) the caller reports on has not been heard for ``silent_s``.

**De-duplication** (:mod:`~airpicture.fusion.episodes`). Each condition is an *episode* keyed
by what it is about (track and code, track and zone, address, feed): it raises one alert when
it starts, and a new one only after it has been false for ``clear_s``: an address's episode
stays open while the ADS-B check holds it flagged, a silence ends once the feed has been heard
again for ``clear_s``, and a track must be held ``clear_s`` again before it can be lost again.
An emergency or zone intrusion that a linked track (successor or companion) already raised is
not raised again for the same object under its new number. **Commonality.** Alert ids are
built from the kind, the subject and the data time (``kind:subject:milliseconds``);
everything the engine reads comes from the epoch results, so nodes fed the same log raise the
same alerts with the same ids. Conditions that only one node can see (its own sensors' plots:
ADS-B checks, sensor silence) become common by being published in the log as alerts and taken
in with :meth:`ingest`, which keeps the first alert of each id. Acknowledgements
(:class:`~airpicture.messages.AlertAck`) are log messages too.

The per-epoch work is vectorised over tracks; Python only builds the (few) new alerts.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import msgspec
import numpy as np
from numpy.typing import NDArray

from airpicture.fusion.alert_text import (
    ADSB_INCONSISTENT,
    ALERT_KINDS,
    EMERGENCY,
    EMERGENCY_TEXT,
    FEED_SILENT,
    TRACK_LOST,
    ZONE_INTRUSION,
    adsb_alerts,
    alert_id,
    describe,
    where,
)
from airpicture.fusion.episodes import Episodes, FeedSilence
from airpicture.fusion.identity import EMERGENCY_CODES, HOSTILE, SUSPECT, IdentityResult
from airpicture.fusion.spoofing import AdsbFlags
from airpicture.fusion.state import EpochResult
from airpicture.fusion.track_loss import TrackLoss
from airpicture.fusion.zones import Coverage, ZoneSet
from airpicture.geo import ecef2enu_rotation, ecef2geodetic
from airpicture.messages import Alert, AlertAck
from airpicture.track_table import TrackTable

__all__ = [
    "ADSB_INCONSISTENT",
    "ALERT_KINDS",
    "EMERGENCY",
    "FEED_SILENT",
    "TRACK_LOST",
    "ZONE_INTRUSION",
    "AlertConfig",
    "AlertEngine",
    "adsb_alerts",
]

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]


@dataclasses.dataclass(frozen=True)
class AlertConfig:
    """Alert parameters (seconds of data time, metres).

    - ``clear_s``: an episode ends once its condition has been false this long; only then can
      the same subject raise the same kind again (a track, lost, must be held this long again
      before it can be lost again; a silent feed heard again this long).
    - ``silent_s``: a partner or feed unheard this long is silent.
    - ``min_track_age_s``, ``min_lost_height_m``, ``lost_margin``, ``lost_gap_m``: a lost
      track must have been held this long, be this high, lie inside ``lost_margin`` of the
      coverage ranges and have no other track within ``lost_gap_m``.
    - ``partners_from_picture``: judge partner silence from the epochs' contributors.
    - ``zone_margin_sigma``: how many standard deviations of its position a track must be
      inside a zone (0: its estimate is inside).
    - ``link_dv_mps``, ``reacquire_s``, ``link_window_s``: tracks within ``lost_gap_m`` with
      velocities this close are companions; a track born within ``lost_gap_m`` plus
      ``reacquire_s`` of flight of another is its successor; links count this long
      (:class:`~airpicture.fusion.continuity.TrackLinks`; a partner goes on reporting a lost
      track for a minute or more after its successor was born).
    """

    clear_s: float = 60.0
    silent_s: float = 30.0
    min_track_age_s: float = 60.0
    min_lost_height_m: float = 1000.0
    lost_margin: float = 0.9
    lost_gap_m: float = 5000.0
    partners_from_picture: bool = True
    zone_margin_sigma: float = 1.0
    link_dv_mps: float = 150.0
    reacquire_s: float = 40.0
    link_window_s: float = 90.0


class AlertEngine:
    """Alerts epoch by epoch (see the module docstring)."""

    def __init__(
        self,
        config: AlertConfig | None = None,
        zones: ZoneSet | None = None,
        coverage: Coverage | None = None,
    ) -> None:
        self.config = config or AlertConfig()
        self.zones = zones or ZoneSet.empty()
        self.coverage = coverage
        self.alerts: dict[str, Alert] = {}
        """Every alert raised or taken in, by id, in the order raised."""
        self._loss = TrackLoss(self.config, coverage)
        self._emergency = Episodes()
        self._zone = Episodes()
        self._adsb = Episodes()
        self._feeds = FeedSilence(self.config.silent_s, self.config.clear_s)

    def counts(self) -> dict[str, int]:
        """Alerts raised so far by kind."""
        out = dict.fromkeys(ALERT_KINDS, 0)
        for a in self.alerts.values():
            out[a.kind] = out.get(a.kind, 0) + 1
        return out

    def ingest(self, alert: Alert) -> Alert | None:
        """Take in an alert from the log; returns it unless its id is already known."""
        if alert.id in self.alerts:
            return None
        self.alerts[alert.id] = alert
        return alert

    def acknowledge(self, ack: AlertAck) -> Alert | None:
        """Mark an alert acknowledged (from the log); returns the updated alert, or ``None``
        for an unknown id."""
        alert = self.alerts.get(ack.alert_id)
        if alert is None:
            return None
        done = msgspec.structs.replace(alert, acknowledged=True)
        self.alerts[ack.alert_id] = done
        return done

    def update(
        self,
        result: EpochResult,
        identity: IdentityResult,
        feeds: Mapping[str, float] | None = None,
        adsb: AdsbFlags | None = None,
        adsb_flagged: I64 | None = None,
    ) -> list[Alert]:
        """New alerts of this epoch (also kept in :attr:`alerts`).

        ``identity`` must be this epoch's (rows as in ``result.picture``); ``feeds`` maps
        feed names to the data time each was last heard; ``adsb`` the addresses the ADS-B
        check newly flagged; ``adsb_flagged`` the addresses it holds flagged now
        (:attr:`~airpicture.fusion.spoofing.SpoofingMonitor.flagged`: their episodes stay
        open while they are, so a flag that clears and comes back within ``clear_s`` raises
        nothing new).
        """
        pic, t = result.picture, float(result.time)
        if not np.array_equal(identity.stn, pic.track):
            raise ValueError("identity result does not belong to this epoch's picture")
        lost = self._loss.update(result)
        new = [*self._emergencies(pic, t), *self._intrusions(pic, identity, t), *lost,
               *self._silence(result, t, feeds), *self._spoofed(pic, t, adsb, adsb_flagged)]
        return [a for a in new if self.ingest(a) is not None]

    def _carried_on(self, keys: I64, fresh: I64, scale: int, episodes: Episodes,
                    t: float) -> NDArray[np.bool_]:
        """Which new episode ``keys`` (``stn * scale + subject``) continue an open episode of
        the same subject on a linked track (successor or companion: the same object under
        another number). Of linked tracks whose episodes start together, the lowest number
        raises the alert."""
        stn, subject = keys // scale, keys % scale
        index, partner = self._loss.links.partners(stn, t)
        other = partner * scale + subject[index]
        is_open = np.isin(other, episodes.open_keys(t, self.config.clear_s))
        earlier = ~np.isin(other, fresh) | (partner < stn[index])
        out = np.zeros(len(keys), bool)
        out[index[is_open & earlier]] = True
        return out

    def _emergencies(self, pic: TrackTable, t: float) -> list[Alert]:
        m3 = pic.mode3a.astype(np.int64)
        rows = np.flatnonzero(np.isin(m3, EMERGENCY_CODES))
        keys = pic.track[rows].astype(np.int64) * 0o10000 + m3[rows]
        fresh = self._emergency.update(keys, t, self.config.clear_s)
        started = np.unique(keys)[fresh]
        started = started[~self._carried_on(started, started, 0o10000, self._emergency, t)]
        out = []
        for key in started:  # only the new episodes
            i = int(rows[np.flatnonzero(keys == key)[0]])
            code = int(key % 0o10000)
            out.append(Alert(
                id=alert_id(EMERGENCY, f"{int(pic.track[i])}/{code:04o}", t), kind=EMERGENCY,
                time=t, reason=f"squawk {code:04o}",
                explanation=(f"{describe(pic, i)} squawks {code:04o}: {EMERGENCY_TEXT[code]}, "
                             f"at {where(pic.state[i, :3])}"),
                stn=int(pic.track[i]),
            ))
        return out

    def _intrusions(self, pic: TrackTable, ident: IdentityResult, t: float) -> list[Alert]:
        if len(self.zones) == 0:
            return []
        noncoop = (pic.icao < 0) & (pic.mode3a < 0)
        hostile = np.isin(ident.code, [SUSPECT, HOSTILE])
        rows = np.flatnonzero(noncoop | hostile)
        inside = self._inside(pic.state[rows, :3], pic.covariance[rows, :3, :3])
        r, z = np.nonzero(inside)
        keys = pic.track[rows[r]].astype(np.int64) * 65536 + z
        fresh = self._zone.update(keys, t, self.config.clear_s)
        started = np.unique(keys)[fresh]
        started = started[~self._carried_on(started, started, 65536, self._zone, t)]
        out = []
        for key in started:
            i = int(rows[r[np.flatnonzero(keys == key)[0]]])
            k = int(key % 65536)
            name = self.zones.names[k]
            what = "suspect" if hostile[i] and not noncoop[i] else "non-cooperative"
            if hostile[i] and ident.code[np.flatnonzero(ident.stn == pic.track[i])[0]] == HOSTILE:
                what = "hostile"
            out.append(Alert(
                id=alert_id(ZONE_INTRUSION, f"{int(pic.track[i])}/{name}", t),
                kind=ZONE_INTRUSION, time=t, reason=f"{what} track entered zone {name}",
                explanation=(
                    f"{describe(pic, i)}, {what}, is inside protected zone {name} "
                    f"(altitude band {self.zones.min_alt[k]:.0f}-{self.zones.max_alt[k]:.0f} m) "
                    f"at {where(pic.state[i, :3])}, "
                    f"{np.linalg.norm(pic.state[i, 3:]):.0f} m/s"
                ),
                stn=int(pic.track[i]),
            ))
        return out

    def _inside(self, pos: F64, cov: F64) -> NDArray[np.bool_]:
        """``(N, Z)``: whether ECEF positions ``(N, 3)`` with covariances ``(N, 3, 3)`` are
        inside each zone by ``zone_margin_sigma`` of their east/north (the larger) and up
        standard deviations."""
        rot = ecef2enu_rotation(ecef2geodetic(pos).reshape(-1, 3)[:, :2])  # ECEF -> ENU
        var = np.diagonal(rot @ cov @ rot.transpose(0, 2, 1), axis1=1, axis2=2)
        s = self.config.zone_margin_sigma * np.sqrt(np.maximum(var, 0.0))
        enu = np.zeros((len(pos), 7, 3))  # the position, then E, W, N, S, up and down of it
        horizontal = s[:, :2].max(axis=1)[:, None, None]
        enu[:, 1:5, :2] = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0]]) * horizontal
        enu[:, 5:, 2] = np.array([1.0, -1.0]) * s[:, None, 2]
        points = pos[:, None, :] + np.einsum("nji,nkj->nki", rot, enu)  # R^T enu
        inside = self.zones.inside(points.reshape(-1, 3)).reshape(len(pos), 7, len(self.zones))
        return np.asarray(inside.all(axis=1))

    def _spoofed(self, pic: TrackTable, t: float, adsb: AdsbFlags | None,
                 flagged: I64 | None) -> list[Alert]:
        adsb = adsb if adsb is not None else AdsbFlags.empty()
        held = np.zeros(0, np.int64) if flagged is None else np.asarray(flagged, np.int64)
        keys = np.unique(np.concatenate([adsb.icao.astype(np.int64), held]))
        if keys.size == 0:
            return []
        fresh = self._adsb.update(keys, t, self.config.clear_s)
        return adsb_alerts(adsb.take(np.isin(adsb.icao, keys[fresh])), pic)

    def _silence(self, result: EpochResult, t: float, feeds: Mapping[str, float] | None
                 ) -> list[Alert]:
        heard: dict[str, float] = {}
        if self.config.partners_from_picture:
            for n in np.unique(result.contributor_nation).tolist():  # nations: a handful
                heard[f"partner:{n.decode()}"] = t
        if feeds:
            heard.update(feeds)
        out = []
        for name, last in self._feeds.update(heard, t):
            out.append(Alert(
                id=alert_id(FEED_SILENT, name, t), kind=FEED_SILENT, time=t,
                reason=f"{name} silent",
                explanation=f"nothing heard from {name} for {t - last:.0f} s "
                            f"(since data time {last:.1f})",
                source=name,
            ))
        return out
