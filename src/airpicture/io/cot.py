"""The picture as Cursor-on-Target (CoT 2.0) XML events for TAK and other CoT consumers.

One event per system track::

    <event version="2.0" uid="airpicture-STN" type="a-f-A-C-F" how="m-f"
           time="...Z" start="...Z" stale="...Z">
      <point lat="deg" lon="deg" hae="m" ce="m" le="m"/>
      <detail>
        <track course="deg from true north" speed="m/s"/>
        <contact callsign="DLH65A or STN 123"/>
        <remarks>identity, status, quality, nations, ICAO address, Mode 3/A</remarks>
      </detail>
    </event>

Type: ``a`` (atom), the affiliation of the standard identity (pending ``p``, unknown ``u``,
assumed friend ``a``, friend ``f``, neutral ``n``, suspect ``s``, hostile ``h``), ``A`` (air),
then the platform when known: by default ``C-F`` (civil fixed wing) for tracks with an ICAO
address or callsign and none otherwise; a caller-supplied map overrides it per STN (e.g.
``M-F`` military fixed wing, ``M-H`` rotary wing). ``uid`` is ``<prefix>-<STN>`` so a TAK
client updates the same icon. ``stale`` is the event time plus ``stale_factor`` update
intervals (at least ``min_stale_s``). ``ce``/``le`` are one-sigma horizontal (root sum of the
east and north variances) and vertical errors from the covariance.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from xml.sax.saxutils import quoteattr

import numpy as np

from airpicture import geo
from airpicture.messages import Identity, SystemTrack, TrackStatus

AFFILIATION: dict[Identity, str] = {
    Identity.PENDING: "p",
    Identity.UNKNOWN: "u",
    Identity.ASSUMED_FRIEND: "a",
    Identity.FRIEND: "f",
    Identity.NEUTRAL: "n",
    Identity.SUSPECT: "s",
    Identity.HOSTILE: "h",
}
TAK_MULTICAST = ("239.2.3.1", 6969)
"""The default SA multicast group and port of TAK clients."""


def cot_time(t: float) -> str:
    """Unix seconds to the CoT time form, ``YYYY-MM-DDThh:mm:ss.sssZ`` (UTC)."""
    stamp = dt.datetime.fromtimestamp(t, tz=dt.UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z"


def cot_type(identity: Identity, platform: str | None) -> str:
    """The CoT type of an air track: ``a-<affiliation>-A[-<platform>]``."""
    base = f"a-{AFFILIATION[identity]}-A"
    return f"{base}-{platform}" if platform else base


def cot_events(
    tracks: Sequence[SystemTrack],
    update_interval_s: float = 4.0,
    stale_factor: float = 3.0,
    min_stale_s: float = 10.0,
    platforms: Mapping[int, str] | None = None,
    uid_prefix: str = "airpicture",
) -> list[bytes]:
    """One CoT XML event (UTF-8 bytes, no trailing newline) per non-deleted track."""
    live = [t for t in tracks if t.status is not TrackStatus.DELETED]
    if not live:
        return []
    state = np.array([t.state for t in live], dtype=np.float64).reshape(-1, 6)
    cov = np.array([t.covariance for t in live], dtype=np.float64).reshape(-1, 6, 6)
    llh = geo.ecef2geodetic(state[:, :3])
    rot = geo.ecef2enu_rotation(llh[:, :2])
    v = np.einsum("nij,nj->ni", rot, state[:, 3:])
    p = np.einsum("nij,njk,nlk->nil", rot, cov[:, :3, :3], rot)
    ce = np.sqrt(np.abs(p[:, 0, 0]) + np.abs(p[:, 1, 1]))
    le = np.sqrt(np.abs(p[:, 2, 2]))
    course = np.mod(np.rad2deg(np.arctan2(v[:, 0], v[:, 1])), 360.0)
    speed = np.hypot(v[:, 0], v[:, 1])
    stale_s = max(stale_factor * update_interval_s, min_stale_s)
    out: list[bytes] = []
    for i, t in enumerate(live):
        platform = (platforms or {}).get(t.stn)
        if platform is None and (t.icao is not None or t.callsign):
            platform = "C-F"
        remarks = (f"identity={t.identity.value} status={t.status.value} "
                   f"quality={t.quality:.2f} nations={','.join(t.nations)}")
        if t.icao is not None:
            remarks += f" icao={t.icao:06X}"
        if t.mode3a is not None:
            remarks += f" mode3a={t.mode3a:04o}"
        name = t.callsign or f"STN {t.stn}"
        xml = (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            f'<event version="2.0" uid={quoteattr(f"{uid_prefix}-{t.stn}")} '
            f'type="{cot_type(t.identity, platform)}" how="m-f" '
            f'time="{cot_time(t.time)}" start="{cot_time(t.time)}" '
            f'stale="{cot_time(t.time + stale_s)}">'
            f'<point lat="{np.rad2deg(llh[i, 0]):.7f}" lon="{np.rad2deg(llh[i, 1]):.7f}" '
            f'hae="{llh[i, 2]:.1f}" ce="{ce[i]:.1f}" le="{le[i]:.1f}"/>'
            f'<detail><track course="{course[i]:.2f}" speed="{speed[i]:.2f}"/>'
            f"<contact callsign={quoteattr(name)}/>"
            f"<remarks>{_escape(remarks)}</remarks></detail></event>"
        )
        out.append(xml.encode("utf-8"))
    return out


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
