"""Operator alerts over the system picture: raised once, explained, the same on every node.

:class:`AlertEngine` looks at each closed epoch (the picture and its identities) and raises
:class:`~airpicture.messages.Alert` messages:

- ``emergency``: a track squawks 7500 (unlawful interference), 7600 (radio failure) or 7700
  (general emergency);
- ``zone_intrusion``: a non-cooperative (no address, no Mode 3/A) or suspect/hostile track
  inside a protected zone (polygon and altitude band, :mod:`~airpicture.fusion.zones`);
- ``adsb_inconsistent``: an aircraft's ADS-B position disagrees with radar over several
  updates (:mod:`~airpicture.fusion.spoofing` judges it; the engine names the track);
- ``track_lost``: a system track that had been held for a while leaves the picture while its
  last position lies inside radar coverage, above ``min_lost_height_m``, with no other track
  near it (a landing aircraft or one leaving coverage raises nothing), while at least one of
  the nations that reported it still reports (a track that leaves with its feed is that
  feed's silence, alerted once as ``feed_silent``, not one loss per track), and when none of
  the partner tracks that last fed it is still reported (one that is went on under another
  number: renumbered, not lost);
- ``feed_silent``: a partner that contributed stops contributing for ``silent_s``, or a named
  feed (a sensor, a partner link) the caller reports on has not been heard for ``silent_s``.

**De-duplication.** Each condition is an *episode* keyed by what it is about (track and code,
track and zone, address, feed): it raises one alert when it starts, and a new one only after
it has been false for ``clear_s``. **Commonality.** Alert ids are built from the kind, the
subject and the data time (``kind:subject:milliseconds``); everything the engine reads comes
from the epoch results, so nodes fed the same log raise the same alerts with the same ids.
Conditions that only one node can see (its own sensors' plots: ADS-B checks, sensor silence)
become common by being published in the log as alerts and taken in with :meth:`ingest`, which
keeps the first alert of each id. Acknowledgements (:class:`~airpicture.messages.AlertAck`)
are log messages too.

The per-epoch work is vectorised over tracks; Python only builds the (few) new alerts.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import msgspec
import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from airpicture.fusion.identity import EMERGENCY_CODES, HOSTILE, SUSPECT, IdentityResult
from airpicture.fusion.motion import predict_cv
from airpicture.fusion.spoofing import AdsbFlags
from airpicture.fusion.state import EpochResult
from airpicture.fusion.zones import Coverage, ZoneSet
from airpicture.geo import ecef2geodetic
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
EMERGENCY = "emergency"
ZONE_INTRUSION = "zone_intrusion"
ADSB_INCONSISTENT = "adsb_inconsistent"
TRACK_LOST = "track_lost"
FEED_SILENT = "feed_silent"
ALERT_KINDS = (EMERGENCY, ZONE_INTRUSION, ADSB_INCONSISTENT, TRACK_LOST, FEED_SILENT)
_EMERGENCY_TEXT = {
    0o7500: "unlawful interference (hijack)",
    0o7600: "radio communication failure",
    0o7700: "general emergency",
}


def _alert_id(kind: str, subject: str, time: float) -> str:
    return f"{kind}:{subject}:{round(time * 1000)}"


def _describe(pic: TrackTable, i: int) -> str:
    """``STN 12 (ICAO 4840D6, JAL123)``: the identifiers an operator recognises."""
    parts = []
    if pic.icao[i] >= 0:
        parts.append(f"ICAO {int(pic.icao[i]):06X}")
    if pic.mode3a[i] >= 0:
        parts.append(f"Mode 3/A {int(pic.mode3a[i]):04o}")
    cs = pic.callsign[i].decode("ascii", "replace").strip()
    if cs:
        parts.append(cs)
    return f"STN {int(pic.track[i])}" + (f" ({', '.join(parts)})" if parts else "")


def _where(position: F64) -> str:
    lat, lon, h = ecef2geodetic(position)
    return f"{np.degrees(lat):.3f}, {np.degrees(lon):.3f}, {h:.0f} m"


@dataclasses.dataclass(frozen=True)
class AlertConfig:
    """Alert parameters (seconds of data time, metres).

    - ``clear_s``: an episode ends once its condition has been false this long; only then can
      the same subject raise the same kind again.
    - ``silent_s``: a partner or feed unheard this long is silent.
    - ``min_track_age_s``, ``min_lost_height_m``, ``lost_margin``, ``lost_gap_m``: a lost
      track must have been held this long, be this high, lie inside ``lost_margin`` of the
      coverage ranges and have no other track within ``lost_gap_m``.
    - ``partners_from_picture``: judge partner silence from the epochs' contributors.
    """

    clear_s: float = 60.0
    silent_s: float = 30.0
    min_track_age_s: float = 60.0
    min_lost_height_m: float = 1000.0
    lost_margin: float = 0.9
    lost_gap_m: float = 5000.0
    partners_from_picture: bool = True


class _Episodes:
    """Integer-keyed episodes: which keys are on, and when each was last true."""

    def __init__(self) -> None:
        self.keys = np.zeros(0, np.int64)
        self.last_true = np.zeros(0)

    def update(self, true_keys: I64, t: float, clear_s: float) -> NDArray[np.bool_]:
        """Record ``true_keys`` at ``t``; return which of them start a new episode."""
        true_keys = np.unique(true_keys)
        alive = t - self.last_true <= clear_s
        keys, last = self.keys[alive], self.last_true[alive]
        new = ~np.isin(true_keys, keys)
        merged = np.union1d(keys, true_keys)
        last_true = np.full(len(merged), t)
        old = ~np.isin(merged, true_keys)
        last_true[old] = last[np.searchsorted(keys, merged[old])]
        self.keys, self.last_true = merged, last_true
        out = np.zeros(len(true_keys), bool)
        out[new] = True
        return out


def adsb_alerts(flags: AdsbFlags, picture: TrackTable | None = None) -> list[Alert]:
    """``adsb_inconsistent`` alerts for newly flagged addresses, named by the system track
    carrying the address when ``picture`` is given (to publish in the log)."""
    out = []
    for k in range(len(flags.icao)):  # one per newly flagged aircraft
        icao, t = int(flags.icao[k]), float(flags.time[k])
        stn, who = None, f"ICAO {icao:06X}"
        if picture is not None:
            rows = np.flatnonzero(picture.icao == icao)
            if rows.size:
                stn, who = int(picture.track[rows[0]]), _describe(picture, int(rows[0]))
        out.append(Alert(
            id=_alert_id(ADSB_INCONSISTENT, f"{icao:06X}", t), kind=ADSB_INCONSISTENT, time=t,
            reason=f"ADS-B position {flags.sigma[k]:.1f} sigma off radar",
            explanation=(
                f"{who}: its ADS-B position disagrees with radar by {flags.sigma[k]:.1f} sigma "
                f"({flags.distance_m[k] / 1000:.1f} km) over the last {int(flags.samples[k])} "
                "updates: possible ADS-B spoofing or GNSS jamming"
            ),
            stn=stn, source=str(flags.source[k]) if flags.source[k] else None,
        ))
    return out


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
        self._emergency = _Episodes()
        self._zone = _Episodes()
        self._adsb = _Episodes()
        self._feeds: dict[str, tuple[float, bool]] = {}  # name -> (last heard, silent alerted)
        self._prev = TrackTable.empty()
        self._prev_nations = np.zeros(0, np.int64)  # bit mask of reporting nations per row
        self._nation_index: dict[bytes, int] = {}
        self._last_keys = np.zeros(0, np.int64)  # (nation index << 40 | local track) ...
        self._last_key_stn = np.zeros(0, np.int64)  # ... that last fed each STN
        self._first_stn = np.zeros(0, np.int64)
        self._first_time = np.zeros(0)

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
    ) -> list[Alert]:
        """New alerts of this epoch (also kept in :attr:`alerts`).

        ``identity`` must be this epoch's (rows as in ``result.picture``); ``feeds`` maps
        feed names to the data time each was last heard; ``adsb`` the addresses the ADS-B
        check newly flagged.
        """
        pic, t = result.picture, float(result.time)
        if not np.array_equal(identity.stn, pic.track):
            raise ValueError("identity result does not belong to this epoch's picture")
        new: list[Alert] = []
        new += self._emergencies(pic, t)
        new += self._intrusions(pic, identity, t)
        reporters, partner_keys = self._contributors(result)
        moved = self._last_key_stn[np.isin(self._last_keys, partner_keys)]
        new += self._lost(pic, t, int(np.bitwise_or.reduce(reporters)), moved)
        new += self._silence(result, t, feeds)
        if adsb is not None and len(adsb.icao):
            fresh = self._adsb.update(adsb.icao.astype(np.int64), t, self.config.clear_s)
            keys = np.unique(adsb.icao.astype(np.int64))[fresh]
            new += adsb_alerts(adsb.take(np.isin(adsb.icao, keys)), pic)
        out = [a for a in new if self.ingest(a) is not None]
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

    def _emergencies(self, pic: TrackTable, t: float) -> list[Alert]:
        m3 = pic.mode3a.astype(np.int64)
        rows = np.flatnonzero(np.isin(m3, EMERGENCY_CODES))
        keys = pic.track[rows].astype(np.int64) * 0o10000 + m3[rows]
        fresh = self._emergency.update(keys, t, self.config.clear_s)
        out = []
        for key in np.unique(keys)[fresh]:  # only the new episodes
            i = int(rows[np.flatnonzero(keys == key)[0]])
            code = int(key % 0o10000)
            out.append(Alert(
                id=_alert_id(EMERGENCY, f"{int(pic.track[i])}/{code:04o}", t), kind=EMERGENCY,
                time=t, reason=f"squawk {code:04o}",
                explanation=(f"{_describe(pic, i)} squawks {code:04o}: {_EMERGENCY_TEXT[code]}, "
                             f"at {_where(pic.state[i, :3])}"),
                stn=int(pic.track[i]),
            ))
        return out

    def _intrusions(self, pic: TrackTable, ident: IdentityResult, t: float) -> list[Alert]:
        if len(self.zones) == 0:
            return []
        noncoop = (pic.icao < 0) & (pic.mode3a < 0)
        hostile = np.isin(ident.code, [SUSPECT, HOSTILE])
        rows = np.flatnonzero(noncoop | hostile)
        inside = self.zones.inside(pic.state[rows, :3])
        r, z = np.nonzero(inside)
        keys = pic.track[rows[r]].astype(np.int64) * 65536 + z
        fresh = self._zone.update(keys, t, self.config.clear_s)
        out = []
        for key in np.unique(keys)[fresh]:
            i = int(rows[r[np.flatnonzero(keys == key)[0]]])
            k = int(key % 65536)
            name = self.zones.names[k]
            what = "suspect" if hostile[i] and not noncoop[i] else "non-cooperative"
            if hostile[i] and ident.code[np.flatnonzero(ident.stn == pic.track[i])[0]] == HOSTILE:
                what = "hostile"
            out.append(Alert(
                id=_alert_id(ZONE_INTRUSION, f"{int(pic.track[i])}/{name}", t),
                kind=ZONE_INTRUSION, time=t, reason=f"{what} track entered zone {name}",
                explanation=(
                    f"{_describe(pic, i)}, {what}, is inside protected zone {name} "
                    f"(altitude band {self.zones.min_alt[k]:.0f}-{self.zones.max_alt[k]:.0f} m) "
                    f"at {_where(pic.state[i, :3])}, "
                    f"{np.linalg.norm(pic.state[i, 3:]):.0f} m/s"
                ),
                stn=int(pic.track[i]),
            ))
        return out

    def _lost(self, pic: TrackTable, t: float, reporting: int, moved: I64) -> list[Alert]:
        prev, cfg = self._prev, self.config
        gone = np.flatnonzero(~np.isin(prev.track, pic.track) & ~np.isin(prev.track, moved)
                              & ((self._prev_nations & reporting) != 0))
        if gone.size == 0 or self.coverage is None:
            return []
        x, _ = predict_cv(prev.state, prev.covariance, t - prev.time[gone], 0.0, gone)
        pos = x[:, :3]
        first = self._first_time[np.searchsorted(self._first_stn, prev.track[gone])]
        height = ecef2geodetic(pos).reshape(-1, 3)[:, 2]
        ok = (t - first >= cfg.min_track_age_s) & (height >= cfg.min_lost_height_m)
        if len(pic):
            d, _ = cKDTree(pic.state[:, :3]).query(pos, k=1)
            ok &= d > cfg.lost_gap_m
        ok[ok] = self.coverage.contains(pos[ok], cfg.lost_margin)
        out = []
        for j in np.flatnonzero(ok):  # only tracks just lost
            i = int(gone[j])
            stn = int(prev.track[i])
            out.append(Alert(
                id=_alert_id(TRACK_LOST, str(stn), t), kind=TRACK_LOST, time=t,
                reason="track lost inside coverage",
                explanation=(f"{_describe(prev, i)} was lost at {_where(pos[j])} (last held "
                             f"{t - float(prev.time[i]):.0f} s ago), inside radar coverage, "
                             "with no other track nearby"),
                stn=stn,
            ))
        return out

    def _silence(self, result: EpochResult, t: float, feeds: Mapping[str, float] | None
                 ) -> list[Alert]:
        heard: dict[str, float] = {}
        if self.config.partners_from_picture:
            for n in np.unique(result.contributor_nation).tolist():  # nations: a handful
                heard[f"partner:{n.decode()}"] = t
        if feeds:
            heard.update(feeds)
        for name, when in heard.items():
            last, alerted = self._feeds.get(name, (-np.inf, False))
            if when > last:
                self._feeds[name] = (when, alerted and t - when > self.config.silent_s)
        out = []
        for name in sorted(self._feeds):
            last, alerted = self._feeds[name]
            if not alerted and t - last > self.config.silent_s:
                self._feeds[name] = (last, True)
                out.append(Alert(
                    id=_alert_id(FEED_SILENT, name, t), kind=FEED_SILENT, time=t,
                    reason=f"{name} silent",
                    explanation=f"nothing heard from {name} for {t - last:.0f} s "
                                f"(since data time {last:.1f})",
                    source=name,
                ))
        return out

    def _remember(self, pic: TrackTable, t: float, nations: I64) -> None:
        """First-seen times of this epoch's tracks (sorted by STN), the picture itself and
        who reported each track last (coasting tracks keep their last reporters)."""
        first = np.full(len(pic), t)
        if len(self._first_stn):
            pos = np.clip(np.searchsorted(self._first_stn, pic.track), 0, len(self._first_stn) - 1)
            known = self._first_stn[pos] == pic.track
            first[known] = self._first_time[pos[known]]
        if len(self._prev):
            pos = np.clip(np.searchsorted(self._prev.track, pic.track), 0, len(self._prev) - 1)
            held = (self._prev.track[pos] == pic.track) & (nations == 0)
            nations = np.where(held, self._prev_nations[pos], nations)
        self._first_stn, self._first_time = pic.track.astype(np.int64), first
        self._prev, self._prev_nations = pic, nations
