"""ASTERIX CAT062 (SDPS system tracks) to track reports, through libasterix.

Reads another SDPS's picture (or our own, for the round trip): one :class:`Cat062Track` per
record with the items of :mod:`airpicture.io.asterix_cat062` in SI units and degrees; absent
items are ``None``. Undecodable datablocks are counted as ``cat062.bad_block``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

from airpicture.io.asterix_common import FT, icao6_decode
from airpicture.io.asterix_lib import item_uint, parse_records, subitem_quantity
from airpicture.io.rejections import Rejections


class Cat062Track(msgspec.Struct, frozen=True, kw_only=True):
    """One decoded CAT062 record (edge form; units in the field names)."""

    sac: int | None
    sic: int | None
    service: int | None
    track_number: int | None
    tod_s: float | None
    lat_deg: float | None
    lon_deg: float | None
    x_m: float | None
    y_m: float | None
    vx_ms: float | None
    vy_ms: float | None
    mode3a: int | None
    icao: int | None
    callsign: str | None
    geo_alt_m: float | None
    baro_alt_m: float | None
    roc_ms: float | None
    status_octets: bytes | None
    vert: int | None
    age_trk_s: float | None
    age_mda_s: float | None
    sigma_x_m: float | None
    sigma_y_m: float | None
    sigma_lat_deg: float | None
    sigma_lon_deg: float | None
    sigma_vx_ms: float | None
    sigma_vy_ms: float | None
    composed: list[tuple[int, int]]
    measured_sensor: tuple[int, int] | None


def _q(rec: Any, path: tuple[str, ...], unit: str, scale: float = 1.0) -> float | None:
    v = subitem_quantity(rec, path, unit)
    return None if v is None else v * scale


def _sub_uint(rec: Any, path: tuple[str, ...]) -> int | None:
    node = rec.get_item(path[0])
    for name in path[1:]:
        if node is None:
            return None
        node = node.variation.get_item(name)
    return None if node is None else int(node.as_uint())


def _callsign(rec: Any) -> str | None:
    raw = _sub_uint(rec, ("380", "ID"))
    if raw is None:
        raw = _sub_uint(rec, ("245", "CHR"))
    if raw is None:
        return None
    return bytes(icao6_decode([raw])[0]).decode("ascii")


def _record(rec: Any) -> Cat062Track:
    i010 = item_uint(rec, "010")
    i060 = item_uint(rec, "060")
    i080 = rec.get_item("080")
    i200 = item_uint(rec, "200")
    i510 = rec.get_item("510")
    composed: list[tuple[int, int]] = []
    if i510 is not None:
        for entry in i510.variation.get_list():
            raw = int(entry.as_uint())
            composed.append((raw >> 15, raw & 0x7FFF))
    sid = _sub_uint(rec, ("340", "SID"))
    return Cat062Track(
        sac=None if i010 is None else i010 >> 8,
        sic=None if i010 is None else i010 & 0xFF,
        service=item_uint(rec, "015"),
        track_number=item_uint(rec, "040"),
        tod_s=_q(rec, ("070",), "s"),
        lat_deg=_q(rec, ("105", "LAT"), "°"),
        lon_deg=_q(rec, ("105", "LON"), "°"),
        x_m=_q(rec, ("100", "X"), "m"),
        y_m=_q(rec, ("100", "Y"), "m"),
        vx_ms=_q(rec, ("185", "VX"), "m/s"),
        vy_ms=_q(rec, ("185", "VY"), "m/s"),
        mode3a=None if i060 is None else i060 & 0x0FFF,
        icao=_sub_uint(rec, ("380", "ADR")),
        callsign=_callsign(rec),
        geo_alt_m=_q(rec, ("130",), "ft", FT),
        baro_alt_m=_q(rec, ("135", "CTB"), "FL", 100 * FT),
        roc_ms=_q(rec, ("220",), "ft/min", FT / 60.0),
        status_octets=None if i080 is None else bytes(i080.unparse().to_bytes()),
        vert=None if i200 is None else (i200 >> 2) & 3,
        age_trk_s=_q(rec, ("290", "TRK"), "s"),
        age_mda_s=_q(rec, ("295", "MDA"), "s"),
        sigma_x_m=_q(rec, ("500", "APC", "X"), "m"),
        sigma_y_m=_q(rec, ("500", "APC", "Y"), "m"),
        sigma_lat_deg=_q(rec, ("500", "APW", "LAT"), "°"),
        sigma_lon_deg=_q(rec, ("500", "APW", "LON"), "°"),
        sigma_vx_ms=_q(rec, ("500", "ATV", "X"), "m/s"),
        sigma_vy_ms=_q(rec, ("500", "ATV", "Y"), "m/s"),
        composed=composed,
        measured_sensor=None if sid is None else (sid >> 8, sid & 0xFF),
    )


def decode_cat062(
    blocks: Sequence[bytes], rejections: Rejections, source: str = ""
) -> list[Cat062Track]:
    """The system tracks of CAT062 datablock payloads (records after the header)."""
    out: list[Cat062Track] = []
    for payload in blocks:
        recs = parse_records(62, payload)
        if isinstance(recs, str):
            rejections.add("cat062.bad_block", 1, source)
            continue
        out.extend(_record(rec) for rec in recs)
    return out

