"""The system picture as ASTERIX CAT062 (SDPS system track data, edition 1.20), via libasterix.

One record per system track. Raw values are computed vectorised (geodesy, scaling, rounding,
saturation) and handed to libasterix as raw integers, which builds and unparses the records.
Items written (absent where the picture does not know them)::

    I062/010  SAC, SIC of our SDPS                  I062/015  service identification
    I062/070  time of track information, 1/128 s    I062/105  WGS84 lat, lon, 180/2^25 deg
    I062/100  x, y, 0.5 m, east/north of the system reference point (local tangent plane)
    I062/185  vx, vy, 0.25 m/s, east/north          I062/060  Mode 3/A (when known)
    I062/245  callsign (when known)                 I062/380  ADR (address), ID (callsign)
    I062/040  track number = STN mod 65536          I062/080  status (4 octets, see below)
    I062/290  TRK age, 1/4 s (when known)           I062/200  mode of movement (VERT only)
    I062/295  MDA age, 1/4 s (when age and Mode 3/A are known)
    I062/130  geometric altitude, 6.25 ft           I062/220  rate of climb, 6.25 ft/min
    I062/500  APC sigma x, y (0.5 m), COV, APW sigma lat, lon, AGA (6.25 ft), ATV (0.25 m/s)
    I062/510  composed track number: (our SIC, STN), then (unit of each contributing nation,
              its local track id), 15 bits each
    I062/340  SID of the last measuring sensor (when known)

I062/080: MON = 1 for a single contributor, MRH = 1 (geometric height more reliable),
SRC = 3 (triangulation), CNF = 1 for tentative tracks; TSE = 1 for deleted tracks; CST = 1
for coasting tracks; the other bits 0. I062/200: TRANS and LONG 3 (undetermined), VERT from
the vertical velocity with a 1.5 m/s dead band. Standard identity has no CAT062 item; it goes
out in CoT. Accuracies are the one-sigma values of the covariance rotated to local E, N, U,
saturating at the largest raw value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from airpicture import geo
from airpicture.io.asterix_blocks import make_datablock
from airpicture.io.asterix_common import FT, icao6_encode, unix2tod
from airpicture.io.asterix_lib import EDITIONS
from airpicture.messages import SystemTrack, TrackStatus

SPEC = EDITIONS[62]
MAX_BLOCK_OCTETS = 1400
"""Datablocks are cut before they exceed this (one UDP datagram without IP fragmentation)."""


@dataclass(frozen=True)
class SdpsIdentity:
    """Who we are on the wire, and the reference point of the I062/100 plane (degrees)."""

    sac: int
    sic: int
    service: int = 1
    ref_lat_deg: float = 0.0
    ref_lon_deg: float = 0.0
    nation_units: Mapping[str, int] | None = None
    """Unit identifiers of the partner nations for I062/510 (default: 1, 2, ... by name)."""


@dataclass(frozen=True)
class TrackExtras:
    """What the picture may know about a track beyond :class:`SystemTrack`."""

    age_s: float | None = None
    last_sensor: tuple[int, int] | None = None


def _raw(values: NDArray[np.float64], lsb: float, bits: int, signed: bool) -> NDArray[np.int64]:
    """Scale, round and saturate to ``bits``; two's complement when ``signed``; -1 for NaN."""
    scaled = np.round(np.asarray(values) / lsb)
    if signed:
        lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    else:
        lo, hi = 0, (1 << bits) - 1
    x = np.clip(np.nan_to_num(scaled, nan=0.0), lo, hi).astype(np.int64) & ((1 << bits) - 1)
    return np.where(np.isnan(values), -1, x)


def _columns(tracks: Sequence[SystemTrack], ident: SdpsIdentity) -> dict[str, NDArray[Any]]:
    state = np.array([t.state for t in tracks], dtype=np.float64).reshape(-1, 6)
    cov = np.array([t.covariance for t in tracks], dtype=np.float64).reshape(-1, 6, 6)
    llh = geo.ecef2geodetic(state[:, :3])
    rot = geo.ecef2enu_rotation(llh[:, :2])
    v_enu = np.einsum("nij,nj->ni", rot, state[:, 3:])
    p_enu = np.einsum("nij,njk,nlk->nil", rot, cov[:, :3, :3], rot)
    v_cov = np.einsum("nij,njk,nlk->nil", rot, cov[:, 3:, 3:], rot)
    ref = np.array([np.deg2rad(ident.ref_lat_deg), np.deg2rad(ident.ref_lon_deg), 0.0])
    xy = geo.ecef2enu(state[:, :3], ref)
    lat_deg, lon_deg = np.rad2deg(llh[:, 0]), np.rad2deg(llh[:, 1])
    sd_e, sd_n = np.sqrt(np.abs(p_enu[:, 0, 0])), np.sqrt(np.abs(p_enu[:, 1, 1]))
    cxy = p_enu[:, 0, 1]
    radius = geo.mean_earth_radius(llh[:, 0]) + llh[:, 2]
    pos_lsb = 180.0 / 2**25
    return {
        "tod": _raw(unix2tod([t.time for t in tracks]), 1 / 128, 24, False),
        "lat": _raw(lat_deg, pos_lsb, 32, True),
        "lon": _raw(lon_deg, pos_lsb, 32, True),
        "x": _raw(xy[:, 0], 0.5, 24, True),
        "y": _raw(xy[:, 1], 0.5, 24, True),
        "vx": _raw(v_enu[:, 0], 0.25, 16, True),
        "vy": _raw(v_enu[:, 1], 0.25, 16, True),
        "alt": _raw(llh[:, 2] / FT, 6.25, 16, True),
        "roc": _raw(v_enu[:, 2] / FT * 60.0, 6.25, 16, True),
        "vert": np.where(v_enu[:, 2] > 1.5, 1, np.where(v_enu[:, 2] < -1.5, 2, 0)),
        "apc_x": _raw(sd_e, 0.5, 16, False),
        "apc_y": _raw(sd_n, 0.5, 16, False),
        "cov": _raw(np.sign(cxy) * np.sqrt(np.abs(cxy)), 0.5, 16, True),
        "apw_lat": _raw(np.rad2deg(sd_n / radius), pos_lsb, 16, False),
        "apw_lon": _raw(np.rad2deg(sd_e / (radius * np.maximum(np.cos(llh[:, 0]), 1e-6))),
                        pos_lsb, 16, False),
        "aga": _raw(np.sqrt(np.abs(p_enu[:, 2, 2])) / FT, 6.25, 8, False),
        "atv_x": _raw(np.sqrt(np.abs(v_cov[:, 0, 0])), 0.25, 8, False),
        "atv_y": _raw(np.sqrt(np.abs(v_cov[:, 1, 1])), 0.25, 8, False),
    }


def _units(tracks: Sequence[SystemTrack], ident: SdpsIdentity) -> dict[str, int]:
    if ident.nation_units is not None:
        return dict(ident.nation_units)
    names = sorted({c.nation for t in tracks for c in t.contributors} | {
        n for t in tracks for n in t.nations})
    return {name: i + 1 for i, name in enumerate(names)}


def _record(
    t: SystemTrack, c: Mapping[str, NDArray[Any]], i: int, ident: SdpsIdentity,
    units: Mapping[str, int], extras: TrackExtras | None,
) -> Any:
    mono = len(t.contributors) == 1 or (not t.contributors and len(t.nations) == 1)
    cnf = int(t.status is TrackStatus.TENTATIVE)
    tse = int(t.status is TrackStatus.DELETED)
    cst = int(t.status is TrackStatus.COASTING)
    items: dict[str, Any] = {
        "010": ((("SAC", ident.sac)), ("SIC", ident.sic)),
        "015": ident.service,
        "070": int(c["tod"][i]),
        "105": (("LAT", int(c["lat"][i])), ("LON", int(c["lon"][i]))),
        "100": (("X", int(c["x"][i])), ("Y", int(c["y"][i]))),
        "185": (("VX", int(c["vx"][i])), ("VY", int(c["vy"][i]))),
        "040": t.stn & 0xFFFF,
        # I062/080 groups, FX excluded: MON SPI MRH SRC(3) CNF | SIM TSE TSB FPC AFF STP KOS |
        # AMA MD4(2) ME MI MD5(2) | CST PSR SSR MDS ADS SUC AAC
        "080": ((int(mono) << 6) | (1 << 4) | (3 << 1) | cnf, tse << 5, 0, cst << 6),
        "200": int(3 << 6 | 3 << 4 | int(c["vert"][i]) << 2),
        "130": int(c["alt"][i]),
        "220": int(c["roc"][i]),
        "500": {
            "APC": (("X", int(c["apc_x"][i])), ("Y", int(c["apc_y"][i]))),
            "COV": int(c["cov"][i]),
            "APW": (("LAT", int(c["apw_lat"][i])), ("LON", int(c["apw_lon"][i]))),
            "AGA": int(c["aga"][i]),
            "ATV": (("X", int(c["atv_x"][i])), ("Y", int(c["atv_y"][i]))),
        },
    }
    composed = [(("IDENT", ident.sic), ("TRACK", t.stn & 0x7FFF))]
    composed += [(("IDENT", units.get(r.nation, 0) & 0xFF), ("TRACK", r.track_id & 0x7FFF))
                 for r in t.contributors]
    items["510"] = composed
    if t.mode3a is not None:
        items["060"] = (0, 0, 0, 0, ("MODE3A", t.mode3a & 0x0FFF))
    adr: dict[str, Any] = {}
    if t.icao is not None:
        adr["ADR"] = t.icao & 0xFFFFFF
    if t.callsign:
        code = icao6_encode(t.callsign)
        adr["ID"] = code
        items["245"] = (("STI", 0), 0, ("CHR", code))
    if adr:
        items["380"] = adr
    if extras is not None and extras.age_s is not None:
        age = int(np.clip(round(extras.age_s / 0.25), 0, 255))
        items["290"] = {"TRK": age}
        if t.mode3a is not None:
            items["295"] = {"MDA": age}
    if extras is not None and extras.last_sensor is not None:
        sac, sic = extras.last_sensor
        items["340"] = {"SID": (("SAC", sac), ("SIC", sic))}
    return SPEC.cv_record.create(items)


def encode_cat062(
    tracks: Sequence[SystemTrack],
    ident: SdpsIdentity,
    extras: Mapping[int, TrackExtras] | None = None,
    max_block_octets: int = MAX_BLOCK_OCTETS,
) -> list[bytes]:
    """The picture as CAT062 datablocks, each at most ``max_block_octets`` long.

    ``extras`` maps STN to what else is known (update age, last measuring sensor).
    """
    if not tracks:
        return []
    cols = _columns(tracks, ident)
    units = _units(tracks, ident)
    blocks: list[bytes] = []
    pending: list[bytes] = []
    size = 3
    for i, t in enumerate(tracks):
        rec = _record(t, cols, i, ident, units, (extras or {}).get(t.stn))
        octets = bytes(rec.unparse().to_bytes())
        if pending and size + len(octets) > max_block_octets:
            blocks.append(make_datablock(62, b"".join(pending)))
            pending, size = [], 3
        pending.append(octets)
        size += len(octets)
    blocks.append(make_datablock(62, b"".join(pending)))
    return blocks
