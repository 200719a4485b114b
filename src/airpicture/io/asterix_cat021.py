"""ASTERIX CAT021 (ADS-B target reports, edition 2.6) to ADS-B plots, through libasterix.

Items used (all optional except a position and a time)::

    I021/010  SAC, SIC of the ground station        -> sensor (from configuration)
    I021/073  time of reception of position, 1/128 s (else I021/071 time of applicability)
    I021/131  high-resolution WGS84 lat/lon, 180/2^30 deg (else I021/130, 180/2^23 deg)
    I021/140  geometric height, 6.25 ft (else I021/145 flight level, 1/4 FL, as a stand-in)
    I021/160  airborne ground vector: ground speed 2^-14 NM/s, track angle 360/2^16 deg
    I021/157  geometric vertical rate, 6.25 ft/min (else I021/155 barometric)
    I021/080  target address (24 bits);  I021/170 target identification (8 x 6 bits)
    I021/070  Mode 3/A (12 bits);        I021/090 quality: NACv (octet 1), NACp (octet 2)

CAT021 is low-rate (one report per aircraft per second or so per station), so the
pure-Python libasterix decoder is fast enough here; records are gathered then converted to
ECEF in one vectorised step (:func:`airpicture.io.adsb.adsb_z_sigma`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from airpicture.io.adsb import adsb_z_sigma
from airpicture.io.asterix_cat048 import sensor_lookup
from airpicture.io.asterix_common import FL, FT, NM, icao6_decode, tod2unix
from airpicture.io.asterix_lib import item_uint, parse_records, subitem_quantity
from airpicture.io.rejections import Rejections
from airpicture.messages import SensorInfo, SensorKind
from airpicture.plot_table import KIND_CODE, PlotTable

_FIELDS = ("block", "sensor", "tod", "lat", "lon", "h", "geometric", "gs", "trk", "vr",
           "icao", "callsign", "mode3a", "nacp", "nacv", "baro")


def _quantity(rec: Any, path: tuple[str, ...], unit: str) -> float:
    v = subitem_quantity(rec, path, unit)
    return np.nan if v is None else v


def _record_values(rec: Any) -> dict[str, float] | str:
    tod = _quantity(rec, ("073",), "s")
    if np.isnan(tod):
        tod = _quantity(rec, ("071",), "s")
    lat, lon = _quantity(rec, ("131", "LAT"), "°"), _quantity(rec, ("131", "LON"), "°")
    if np.isnan(lat):
        lat, lon = _quantity(rec, ("130", "LAT"), "°"), _quantity(rec, ("130", "LON"), "°")
    if np.isnan(lat):
        return "cat021.no_position"
    if np.isnan(tod):
        return "cat021.no_time"
    baro = _quantity(rec, ("145",), "FL") * FL
    h = _quantity(rec, ("140",), "ft") * FT
    geometric = not np.isnan(h)
    if not geometric and np.isnan(baro):
        return "cat021.no_height"
    vr = _quantity(rec, ("157", "GVR"), "ft/min") * FT / 60.0
    if np.isnan(vr):
        vr = _quantity(rec, ("155", "BVR"), "ft/min") * FT / 60.0
    q090 = rec.get_item("090")
    nacp = nacv = -1
    if q090 is not None:
        nacv = int(q090.variation.get_item("NUCRNACV").as_uint())
        nacp_item = q090.variation.get_item("NACP")
        nacp = -1 if nacp_item is None else int(nacp_item.as_uint())
    i170 = item_uint(rec, "170")
    i070 = item_uint(rec, "070")
    i080 = item_uint(rec, "080")
    return {
        "tod": tod, "lat": lat, "lon": lon, "h": h if geometric else baro,
        "geometric": float(geometric), "baro": baro,
        "gs": _quantity(rec, ("160", "GS"), "NM/s") * NM,
        "trk": _quantity(rec, ("160", "TA"), "°"), "vr": vr,
        "icao": float(-1 if i080 is None else i080),
        "callsign": float(-1 if i170 is None else i170),
        "mode3a": float(-1 if i070 is None else i070 & 0x0FFF),
        "nacp": float(nacp), "nacv": float(nacv),
    }


def decode_cat021(
    blocks: Sequence[bytes],
    sensors: Sequence[SensorInfo],
    ref_time: ArrayLike,
    rejections: Rejections,
    source: str = "",
) -> PlotTable:
    """ADS-B plots of CAT021 datablock payloads (see the module docstring).

    ``ref_time`` (Unix s, scalar or one per block) places the time of day on the time line.
    Rejected and counted: undecodable blocks (``cat021.bad_block``), reports without position
    or time, reports with neither geometric height nor flight level (``cat021.no_height``: no
    ECEF position without one), reports from ground stations absent from ``sensors``
    (``cat021.unknown_sensor``).
    """
    lookup = sensor_lookup(sensors)
    rows: list[dict[str, float]] = []
    for i, payload in enumerate(blocks):
        recs = parse_records(21, payload)
        if isinstance(recs, str):
            rejections.add("cat021.bad_block", 1, source)
            continue
        for rec in recs:
            values = _record_values(rec)
            if isinstance(values, str):
                rejections.add(values, 1, source)
                continue
            i010 = item_uint(rec, "010")
            sensor = -1 if i010 is None else int(lookup[i010])
            if sensor < 0:
                rejections.add("cat021.unknown_sensor", 1, source)
                continue
            values["block"], values["sensor"] = float(i), float(sensor)
            rows.append(values)
    cols = {k: np.array([r[k] for r in rows], dtype=np.float64) for k in _FIELDS}
    n = len(rows)
    t = PlotTable.blank(n)
    if n == 0:
        return t
    ref = np.asarray(ref_time, dtype=np.float64)
    block = cols["block"].astype(np.int64)
    t.time[:] = tod2unix(cols["tod"], ref if ref.ndim == 0 else ref[block])
    t.sensor[:] = cols["sensor"].astype(np.int32)
    t.kind[:] = KIND_CODE[SensorKind.ADSB]
    z, sigma = adsb_z_sigma(cols["lat"], cols["lon"], cols["h"], cols["gs"], cols["trk"],
                            cols["vr"], cols["nacp"], cols["nacv"], cols["geometric"] > 0)
    t.z[:] = z
    t.sigma[:] = sigma
    t.icao[:] = cols["icao"].astype(np.int32)
    t.callsign[:] = icao6_decode(cols["callsign"].astype(np.int64))
    t.mode3a[:] = cols["mode3a"].astype(np.int16)
    t.baro_alt[:] = cols["baro"]
    t.nacp[:] = cols["nacp"].astype(np.int8)
    t.nacv[:] = cols["nacv"].astype(np.int8)
    return t
