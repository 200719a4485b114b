"""ASTERIX CAT048 (monoradar target reports) to plots, vectorised.

:func:`decode_cat048` walks the records of many datablocks in one compiled pass
(:mod:`airpicture.io.asterix_cat048_scan`, where the wire layout is documented) and scales the
hot items to SI units with NumPy: one row per record in :class:`Cat048Reports`.
:func:`reports2plots` turns the reports of known radars into a
:class:`airpicture.plot_table.PlotTable`, looking each radar up by SAC/SIC in the sensor
configuration.

Plot kinds: a report whose I020 TYP says *single PSR detection* (1) is a ``radar`` plot with
``z = [range, azimuth, NaN, range-rate]`` (range-rate from I120 CAL when present); every other
detection type (SSR, Mode S, combined) is an ``ssr`` plot with ``z = [range, azimuth]`` and the
barometric height from I090 when validated and not garbled. Range is the slant range of I040.
Reports without I040 (for example TYP 0, track-only), without I140 or from an unknown radar
are rejected and counted.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from airpicture.columns import ColumnTable
from airpicture.io import asterix_cat048_scan as scan
from airpicture.io.asterix_common import FL, FT, NM, TOD_LSB, icao6_decode, signed, tod2unix
from airpicture.io.rejections import Rejections
from airpicture.messages import SensorInfo, SensorKind
from airpicture.plot_table import KIND_CODE, PlotTable

DEFAULT_SIGMA: dict[SensorKind, tuple[float, ...]] = {
    SensorKind.RADAR: (100.0, np.deg2rad(0.15), np.deg2rad(1.0), 2.0),
    SensorKind.SSR: (70.0, np.deg2rad(0.08)),
}
"""One-sigma noise used when a radar's configuration gives none (m, rad, rad, m/s)."""

ANGLE_LSB = 2.0 * np.pi / 65536.0
GS_LSB = NM / 16384.0  # I200 ground speed, 2^-14 NM/s


@dataclasses.dataclass(frozen=True)
class Cat048Reports(ColumnTable):
    """Decoded CAT048 records, one row per record, SI units; -1 / NaN where absent.

    ``block`` indexes the input datablocks; ``tod`` is seconds since UTC midnight; ``rho`` slant
    range (m) and ``theta`` azimuth (rad, clockwise from north); ``x``/``y`` the radar's I042
    Cartesian position (m); ``fl`` the I090 flight level (FL units, i.e. hundreds of feet);
    ``mode3a_flags`` and ``fl_flags`` the V/G(/L) bits, V in bit 2 (value 4) for I070 and bit 1
    (value 2) for I090; ``descriptor`` the first octet of I020 (TYP in its top three bits);
    ``track_status`` the first octet of I170; ``gs`` (m/s) and ``heading`` (rad) are I200;
    ``height_3d`` (m) I110, ``doppler`` (m/s) I120 CAL, ``n_bds`` the number of I250 registers.
    """

    block: NDArray[np.int32]
    sac: NDArray[np.int16]
    sic: NDArray[np.int16]
    tod: NDArray[np.float64]
    typ: NDArray[np.int8]
    descriptor: NDArray[np.int16]
    rho: NDArray[np.float64]
    theta: NDArray[np.float64]
    mode3a: NDArray[np.int16]
    mode3a_flags: NDArray[np.int8]
    fl: NDArray[np.float64]
    fl_flags: NDArray[np.int8]
    icao: NDArray[np.int32]
    callsign: NDArray[np.bytes_]
    track: NDArray[np.int16]
    x: NDArray[np.float64]
    y: NDArray[np.float64]
    gs: NDArray[np.float64]
    heading: NDArray[np.float64]
    track_status: NDArray[np.int16]
    height_3d: NDArray[np.float64]
    doppler: NDArray[np.float64]
    comms: NDArray[np.int32]
    n_bds: NDArray[np.int16]

    @classmethod
    def empty(cls) -> Cat048Reports:
        return _from_raw(np.zeros((0, scan.N_COLUMNS), np.int64))


def _scaled(raw: NDArray[np.int64], lsb: float) -> NDArray[np.float64]:
    return np.where(raw >= 0, raw * lsb, np.nan)


def _from_raw(r: NDArray[np.int64]) -> Cat048Reports:
    c010, c020 = r[:, scan.C_010], r[:, scan.C_020A]
    c070, c090 = r[:, scan.C_070], r[:, scan.C_090]
    x_raw, y_raw = r[:, scan.C_X], r[:, scan.C_Y]
    h_raw, cal = r[:, scan.C_110], r[:, scan.C_CAL]
    # I120 CAL: bit 16 D (doppler not valid), 10-bit signed speed in m/s.
    cal_ok = (cal >= 0) & ((cal >> 15) & 1 == 0)
    return Cat048Reports(
        block=r[:, scan.C_BLOCK].astype(np.int32),
        sac=np.where(c010 >= 0, c010 >> 8, -1).astype(np.int16),
        sic=np.where(c010 >= 0, c010 & 0xFF, -1).astype(np.int16),
        tod=_scaled(r[:, scan.C_140], TOD_LSB),
        typ=np.where(c020 >= 0, c020 >> 5, -1).astype(np.int8),
        descriptor=c020.astype(np.int16),
        rho=_scaled(r[:, scan.C_RHO], NM / 256.0),
        theta=_scaled(r[:, scan.C_THETA], ANGLE_LSB),
        mode3a=np.where(c070 >= 0, c070 & 0x0FFF, -1).astype(np.int16),
        mode3a_flags=np.where(c070 >= 0, c070 >> 13, -1).astype(np.int8),
        fl=np.where(c090 >= 0, signed(c090, 14) * 0.25, np.nan),
        fl_flags=np.where(c090 >= 0, c090 >> 14, -1).astype(np.int8),
        icao=r[:, scan.C_220].astype(np.int32),
        callsign=icao6_decode(r[:, scan.C_240]),
        track=np.where(r[:, scan.C_161] >= 0, r[:, scan.C_161] & 0x0FFF, -1).astype(np.int16),
        x=np.where(x_raw >= 0, signed(x_raw, 16) * (NM / 128.0), np.nan),
        y=np.where(y_raw >= 0, signed(y_raw, 16) * (NM / 128.0), np.nan),
        gs=_scaled(r[:, scan.C_GSP], GS_LSB),
        heading=_scaled(r[:, scan.C_HDG], ANGLE_LSB),
        track_status=r[:, scan.C_170].astype(np.int16),
        height_3d=np.where(h_raw >= 0, signed(h_raw, 14) * 25.0 * FT, np.nan),
        doppler=np.where(cal_ok, signed(cal, 10).astype(np.float64), np.nan),
        comms=r[:, scan.C_230].astype(np.int32),
        n_bds=r[:, scan.C_NBDS].astype(np.int16),
    )


def scan_cat048(
    blocks: Sequence[bytes], rejections: Rejections, source: str = ""
) -> tuple[NDArray[np.int64], NDArray[np.int8], NDArray[np.uint8]]:
    """Raw record walk: ``(raw rows, per-block error codes, concatenated payload)``.

    ``blocks`` are CAT048 datablock payloads (the records after the 3-octet header). Rejected
    blocks are counted under the reasons of :data:`scan.ERROR_REASONS`.
    """
    lengths = np.fromiter((len(b) for b in blocks), np.int64, len(blocks))
    ends = np.cumsum(lengths)
    starts = ends - lengths
    buf = np.frombuffer(b"".join(blocks), np.uint8)
    out = np.empty((max(len(buf), 1), scan.N_COLUMNS), np.int64)
    errors = np.zeros(len(blocks), np.int8)
    n = scan.scan_blocks(buf, starts, ends, out, errors)
    for code in np.unique(errors[errors > 0]):
        rejections.add(scan.ERROR_REASONS[int(code)], int(np.sum(errors == code)), source)
    return out[:n], errors, buf


def decode_cat048(
    blocks: Sequence[bytes], rejections: Rejections, source: str = ""
) -> Cat048Reports:
    """Decode CAT048 datablock payloads into reports (see :class:`Cat048Reports`)."""
    raw, _, _ = scan_cat048(blocks, rejections, source)
    return _from_raw(raw)


def sensor_lookup(sensors: Sequence[SensorInfo]) -> NDArray[np.int32]:
    """A 65,536-entry table from ``SAC * 256 + SIC`` to the sensor index (-1: none)."""
    table = np.full(65536, -1, np.int32)
    for i, s in enumerate(sensors):
        if s.sac is not None and s.sic is not None:
            table[(s.sac << 8) | s.sic] = i
    return table


def reports2plots(
    reports: Cat048Reports,
    sensors: Sequence[SensorInfo],
    ref_time: ArrayLike,
    rejections: Rejections,
    source: str = "",
) -> PlotTable:
    """Plots of the reports that carry a position and a time and come from a known radar.

    ``ref_time`` (Unix s, scalar or one per input block) places I140 on the time line.
    Rejected and counted: ``cat048.no_position`` (no I040), ``cat048.no_time`` (no I140),
    ``cat048.unknown_sensor`` (SAC/SIC not configured).
    """
    lookup = sensor_lookup(sensors)
    key = (reports.sac.astype(np.int32) << 8) | reports.sic.astype(np.int32)
    sensor = np.where(reports.sac >= 0, lookup[np.clip(key, 0, 65535)], -1)
    has_pos = ~np.isnan(reports.rho)
    has_time = ~np.isnan(reports.tod)
    known = sensor >= 0
    rejections.add("cat048.no_position", int(np.sum(~has_pos)), source)
    rejections.add("cat048.no_time", int(np.sum(has_pos & ~has_time)), source)
    rejections.add("cat048.unknown_sensor", int(np.sum(has_pos & has_time & ~known)), source)
    r = reports.take(has_pos & has_time & known)
    sensor = sensor[has_pos & has_time & known]
    n = len(r)
    ref = np.asarray(ref_time, dtype=np.float64)
    if ref.ndim > 1 or (ref.ndim == 1 and len(reports) and len(ref) <= int(reports.block.max())):
        raise ValueError(f"ref_time must be a scalar or one time per input block; got shape "
                         f"{ref.shape} for blocks up to {int(reports.block.max())}")
    block_ref = np.full(n, float(ref)) if ref.ndim == 0 else ref[r.block]
    t = PlotTable.blank(n)
    psr = r.typ == 1
    t.time[:] = tod2unix(r.tod, block_ref)
    t.sensor[:] = sensor
    t.kind[:] = np.where(psr, KIND_CODE[SensorKind.RADAR], KIND_CODE[SensorKind.SSR])
    t.z[:, 0] = r.rho
    t.z[:, 1] = r.theta
    t.z[:, 3] = np.where(psr, r.doppler, np.nan)
    for kind in (SensorKind.RADAR, SensorKind.SSR):
        rows = t.kind == KIND_CODE[kind]
        m = 4 if kind is SensorKind.RADAR else 2
        sig = np.array([_sigma(s, kind)[:m] for s in sensors] or [(np.nan,) * m]).reshape(-1, m)
        t.sigma[rows, :m] = sig[sensor[rows]]
    t.z[psr, 2] = np.nan
    t.sigma[psr & np.isnan(t.z[:, 3]), 3] = np.nan
    fl_ok = (r.fl_flags >= 0) & ((r.fl_flags & 0b11) == 0)
    t.baro_alt[:] = np.where(fl_ok, r.fl * FL, np.nan)
    m3a_ok = (r.mode3a_flags >= 0) & ((r.mode3a_flags & 0b110) == 0)
    t.mode3a[:] = np.where(m3a_ok, r.mode3a, -1)
    t.icao[:] = r.icao
    t.callsign[:] = r.callsign
    return t


def _sigma(sensor: SensorInfo, kind: SensorKind) -> tuple[float, ...]:
    """The sensor's configured sigmas, with the defaults where it gives none (or NaN)."""
    given = list(sensor.sigma)
    return tuple(
        given[i] if i < len(given) and not np.isnan(given[i]) else d
        for i, d in enumerate(DEFAULT_SIGMA[kind])
    )
