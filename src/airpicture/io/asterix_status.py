"""Sensor and service status: CAT034 in, CAT063 (sensor biases) and CAT065 (SDPS status) out.

CAT034 (edition 1.29, radar service messages)::

    I034/010 SAC, SIC   I034/000 message type: 1 north marker, 2 sector crossing,
    I034/030 time of day, 1/128 s         3 geographical filtering, 4 jamming strobe
    I034/020 sector azimuth, 360/2^8 deg   I034/041 antenna rotation period, 1/128 s
    I034/050 COM subfield: NOGO (bit 8), RDPC, RDPR, OVL RDP, OVL XMT, MSC, TSV

CAT063 (edition 1.7, sensor status as the SDPS sees it), one record per sensor::

    I063/010 our SAC, SIC   I063/015 service   I063/030 time of message, 1/128 s
    I063/050 sensor SAC, SIC   I063/060 CON (0 operational, 1 degraded, 2 initialisation,
    3 not connected)   I063/070 time stamping bias, ms   I063/080 SSR range gain (1e-5) and
    bias (1/128 NM)   I063/081 SSR azimuth bias (360/2^16 deg)   I063/090, 091, 092 the same
    for the PSR (range gain and bias, azimuth, elevation)

CAT065 (edition 1.6, SDPS service status)::

    I065/010 SAC, SIC   I065/000 message type: 1 SDPS status, 2 end of batch, 3 service
    status report   I065/015 service   I065/030 time, 1/128 s   I065/020 batch number
    I065/040 NOGO (2 bits), OVL, TSV, PSS (2 bits), STTN   I065/050 service status report
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec
import numpy as np

from airpicture.io.asterix_blocks import make_datablock
from airpicture.io.asterix_common import NM, unix2tod
from airpicture.io.asterix_lib import EDITIONS, item_uint, parse_records, subitem_quantity
from airpicture.io.rejections import Rejections

CAT034_TYPES = {1: "north_marker", 2: "sector_crossing", 3: "geographical_filtering",
                4: "jamming_strobe", 5: "solar_storm", 6: "ssr_jamming_strobe",
                7: "mode_s_jamming_strobe"}


class SensorStatus(msgspec.Struct, frozen=True, kw_only=True):
    """One CAT034 service message of a radar."""

    sac: int | None
    sic: int | None
    message: str
    tod_s: float | None
    sector_deg: float | None = None
    rotation_period_s: float | None = None
    nogo: bool | None = None


class ServiceStatus(msgspec.Struct, frozen=True, kw_only=True):
    """One CAT065 SDPS service status message; ``tod_s`` is seconds since UTC midnight."""

    sac: int
    sic: int
    service: int
    tod_s: float
    message_type: int = 1
    batch: int | None = None
    nogo: int = 0
    overload: bool = False
    time_source_valid: bool = True
    processing_system: int = 1
    tracking_on: bool = True
    report: int | None = None


class SensorBias(msgspec.Struct, frozen=True, kw_only=True):
    """A registration estimate for one sensor (SI units; ``None`` where not estimated)."""

    sac: int
    sic: int
    connected: bool = True
    time_bias_s: float | None = None
    ssr_range_gain: float | None = None
    ssr_range_bias_m: float | None = None
    ssr_azimuth_bias_rad: float | None = None
    psr_range_gain: float | None = None
    psr_range_bias_m: float | None = None
    psr_azimuth_bias_rad: float | None = None
    psr_elevation_bias_rad: float | None = None


def _q(rec: Any, path: tuple[str, ...], unit: str) -> float | None:
    return subitem_quantity(rec, path, unit)


def decode_cat034(
    blocks: Sequence[bytes], rejections: Rejections, source: str = ""
) -> list[SensorStatus]:
    """The service messages of CAT034 datablock payloads."""
    out: list[SensorStatus] = []
    for payload in blocks:
        recs = parse_records(34, payload)
        if isinstance(recs, str):
            rejections.add("cat034.bad_block", 1, source)
            continue
        for rec in recs:
            i010 = item_uint(rec, "010")
            kind = item_uint(rec, "000")
            com = rec.get_item("050")
            nogo = None
            if com is not None and com.variation.get_item("COM") is not None:
                nogo = bool(com.variation.get_item("COM").as_uint() >> 7)
            out.append(SensorStatus(
                sac=None if i010 is None else i010 >> 8,
                sic=None if i010 is None else i010 & 0xFF,
                message=CAT034_TYPES.get(kind if kind is not None else 0, f"type_{kind}"),
                tod_s=_q(rec, ("030",), "s"),
                sector_deg=_q(rec, ("020",), "°"),
                rotation_period_s=_q(rec, ("041",), "s"),
                nogo=nogo,
            ))
    return out


def _signed(value: float, lsb: float, bits: int) -> int:
    lim = (1 << (bits - 1)) - 1
    return int(np.clip(round(value / lsb), -lim - 1, lim)) & ((1 << bits) - 1)


def encode_cat063(
    sac: int, sic: int, service: int, time: float, biases: Sequence[SensorBias]
) -> bytes:
    """One CAT063 datablock with a record per sensor bias estimate."""
    spec = EDITIONS[63]
    tod = round(float(unix2tod(time)) * 128) & 0xFFFFFF
    recs = []
    angle = 2 * np.pi / 65536
    for b in biases:
        items: dict[str, Any] = {
            "010": (("SAC", sac), ("SIC", sic)), "015": service, "030": tod,
            "050": (("SAC", b.sac), ("SIC", b.sic)), "060": (0 if b.connected else 3 << 5,),
        }
        if b.time_bias_s is not None:
            items["070"] = _signed(b.time_bias_s * 1000.0, 1.0, 16)
        if b.ssr_range_gain is not None or b.ssr_range_bias_m is not None:
            items["080"] = (("SRG", _signed(b.ssr_range_gain or 0.0, 1e-5, 16)),
                            ("SRB", _signed((b.ssr_range_bias_m or 0.0) / NM, 1 / 128, 16)))
        if b.ssr_azimuth_bias_rad is not None:
            items["081"] = _signed(b.ssr_azimuth_bias_rad, angle, 16)
        if b.psr_range_gain is not None or b.psr_range_bias_m is not None:
            items["090"] = (("PRG", _signed(b.psr_range_gain or 0.0, 1e-5, 16)),
                            ("PRB", _signed((b.psr_range_bias_m or 0.0) / NM, 1 / 128, 16)))
        if b.psr_azimuth_bias_rad is not None:
            items["091"] = _signed(b.psr_azimuth_bias_rad, angle, 16)
        if b.psr_elevation_bias_rad is not None:
            items["092"] = _signed(b.psr_elevation_bias_rad, angle, 16)
        recs.append(bytes(spec.cv_record.create(items).unparse().to_bytes()))
    return make_datablock(63, b"".join(recs))


def decode_cat063(
    blocks: Sequence[bytes], rejections: Rejections, source: str = ""
) -> list[SensorBias]:
    """Sensor bias estimates of CAT063 datablock payloads."""
    out: list[SensorBias] = []
    deg = np.pi / 180.0
    for payload in blocks:
        recs = parse_records(63, payload)
        if isinstance(recs, str):
            rejections.add("cat063.bad_block", 1, source)
            continue
        for rec in recs:
            sensor = item_uint(rec, "050")
            if sensor is None:
                rejections.add("cat063.no_sensor", 1, source)
                continue
            con = rec.get_item("060")
            connected = con is None or int(con.variation.get_item("CON").as_uint()) != 3
            tb = _q(rec, ("070",), "ms")
            srb, prb = _q(rec, ("080", "SRB"), "NM"), _q(rec, ("090", "PRB"), "NM")
            ssr_az, psr_az = _q(rec, ("081",), "°"), _q(rec, ("091",), "°")
            psr_el = _q(rec, ("092",), "°")
            out.append(SensorBias(
                sac=sensor >> 8, sic=sensor & 0xFF, connected=connected,
                time_bias_s=None if tb is None else tb / 1000.0,
                ssr_range_gain=_q(rec, ("080", "SRG"), ""),
                ssr_range_bias_m=None if srb is None else srb * NM,
                ssr_azimuth_bias_rad=None if ssr_az is None else ssr_az * deg,
                psr_range_gain=_q(rec, ("090", "PRG"), ""),
                psr_range_bias_m=None if prb is None else prb * NM,
                psr_azimuth_bias_rad=None if psr_az is None else psr_az * deg,
                psr_elevation_bias_rad=None if psr_el is None else psr_el * deg,
            ))
    return out


def encode_cat065(status: ServiceStatus) -> bytes:
    """One CAT065 datablock with one service status record."""
    spec = EDITIONS[65]
    items: dict[str, Any] = {
        "010": (("SAC", status.sac), ("SIC", status.sic)),
        "000": status.message_type,
        "015": status.service,
        "030": round(status.tod_s * 128) & 0xFFFFFF,
    }
    if status.batch is not None:
        items["020"] = status.batch & 0xFF
    if status.message_type == 1:
        items["040"] = ((status.nogo & 3) << 6 | int(status.overload) << 5
                        | int(status.time_source_valid) << 4 | (status.processing_system & 3) << 2
                        | int(status.tracking_on) << 1)
    if status.report is not None:
        items["050"] = status.report & 0xFF
    return make_datablock(65, bytes(spec.cv_record.create(items).unparse().to_bytes()))


def decode_cat065(
    blocks: Sequence[bytes], rejections: Rejections, source: str = ""
) -> list[ServiceStatus]:
    """Service status messages of CAT065 datablock payloads."""
    out: list[ServiceStatus] = []
    for payload in blocks:
        recs = parse_records(65, payload)
        if isinstance(recs, str):
            rejections.add("cat065.bad_block", 1, source)
            continue
        for rec in recs:
            i010, i040 = item_uint(rec, "010"), item_uint(rec, "040")
            if i010 is None:
                rejections.add("cat065.no_source", 1, source)
                continue
            out.append(ServiceStatus(
                sac=i010 >> 8, sic=i010 & 0xFF, service=item_uint(rec, "015") or 0,
                tod_s=_q(rec, ("030",), "s") or 0.0,
                message_type=item_uint(rec, "000") or 0,
                batch=item_uint(rec, "020"),
                nogo=0 if i040 is None else i040 >> 6,
                overload=bool(i040 is not None and (i040 >> 5) & 1),
                time_source_valid=i040 is None or bool((i040 >> 4) & 1),
                processing_system=0 if i040 is None else (i040 >> 2) & 3,
                tracking_on=i040 is None or bool((i040 >> 1) & 1),
                report=item_uint(rec, "050"),
            ))
    return out
