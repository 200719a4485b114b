"""How alerts are named and worded: the alert kinds, alert ids, the identifiers of a track
an operator recognises, places, and the ``adsb_inconsistent`` alert (built where the ADS-B
check runs, to publish in the log). See :mod:`~airpicture.fusion.alerts`."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from airpicture.fusion.spoofing import AdsbFlags
from airpicture.geo import ecef2geodetic
from airpicture.messages import Alert
from airpicture.track_table import TrackTable

__all__ = [
    "ADSB_INCONSISTENT",
    "ALERT_KINDS",
    "EMERGENCY",
    "EMERGENCY_TEXT",
    "FEED_SILENT",
    "TRACK_LOST",
    "ZONE_INTRUSION",
    "adsb_alerts",
    "alert_id",
    "describe",
    "where",
]

F64 = NDArray[np.float64]
EMERGENCY = "emergency"
ZONE_INTRUSION = "zone_intrusion"
ADSB_INCONSISTENT = "adsb_inconsistent"
TRACK_LOST = "track_lost"
FEED_SILENT = "feed_silent"
ALERT_KINDS = (EMERGENCY, ZONE_INTRUSION, ADSB_INCONSISTENT, TRACK_LOST, FEED_SILENT)
EMERGENCY_TEXT = {
    0o7500: "unlawful interference (hijack)",
    0o7600: "radio communication failure",
    0o7700: "general emergency",
}


def alert_id(kind: str, subject: str, time: float) -> str:
    return f"{kind}:{subject}:{round(time * 1000)}"


def describe(pic: TrackTable, i: int) -> str:
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


def where(position: F64) -> str:
    lat, lon, h = ecef2geodetic(position)
    return f"{np.degrees(lat):.3f}, {np.degrees(lon):.3f}, {h:.0f} m"


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
                stn, who = int(picture.track[rows[0]]), describe(picture, int(rows[0]))
        out.append(
            Alert(
                id=alert_id(ADSB_INCONSISTENT, f"{icao:06X}", t),
                kind=ADSB_INCONSISTENT,
                time=t,
                reason=f"ADS-B position {flags.sigma[k]:.1f} sigma off radar",
                explanation=(
                    f"{who}: its ADS-B position disagrees with radar by {flags.sigma[k]:.1f} sigma "
                    f"({flags.distance_m[k] / 1000:.1f} km) over the last {int(flags.samples[k])} "
                    "updates: possible ADS-B spoofing or GNSS jamming"
                ),
                stn=stn,
                source=str(flags.source[k]) if flags.source[k] else None,
            )
        )
    return out
