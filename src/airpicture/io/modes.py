"""Mode S / ADS-B frames of one receiver to ADS-B plots, decoded by ``rs1090``.

Each receiver is a sensor with its position (the reference for surface and local CPR
decoding). :class:`ModeSDecoder` keeps per-receiver state across batches:

1. Frames are checked first: 56 or 112 bits matching the downlink format (``modes.bad_length``;
   a short format in a 112-bit container, as some recorders store them, is cut to 56 bits)
   and the CRC-24 parity (polynomial 0xFFF409). DF17/18 must leave remainder 0, DF11 at most
   an interrogator code (``modes.bad_crc``); for address/parity formats (DF0/4/5/16/20/21) the
   remainder is the aircraft address, accepted only when that address was seen in a clean
   DF11/17/18 (``modes.unknown_address``).
2. ``rs1090`` decodes the accepted frames with their times, pairing even/odd airborne CPR
   positions globally. The last even and odd position frames of each aircraft (at most
   ``cpr_window_s`` old) are prepended to the next batch, so that pairs across batch
   boundaries decode as if the stream were one batch. A position still unpaired is decoded
   locally about the aircraft's last decoded position when that is at most
   ``local_max_age_s`` old (well inside the 180 NM of unambiguous local decoding).
3. Velocity (BDS 0,9), callsign (BDS 0,8), squawk (DF5/21), NACp (BDS 6,5) and the GNSS minus
   barometric height difference are remembered per aircraft; each decoded position becomes a
   plot with the most recent velocity (at most ``velocity_max_age_s`` old). Barometric
   altitudes are corrected to height above the ellipsoid with that difference when known;
   surface positions get the receiver's height.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import rs1090
from numpy.typing import ArrayLike, NDArray

from airpicture.io.adsb import adsb_z_sigma
from airpicture.io.asterix_common import FT, KT
from airpicture.io.rejections import Rejections
from airpicture.messages import SensorInfo, SensorKind
from airpicture.plot_table import KIND_CODE, PlotTable

POLY = 0xFFF409
_TABLE = np.zeros(256, np.int64)
for _i in range(256):
    _c = _i << 16
    for _ in range(8):
        _c = ((_c << 1) ^ POLY) if _c & 0x800000 else (_c << 1)
    _TABLE[_i] = _c & 0xFFFFFF
SHORT_DF = frozenset({0, 4, 5, 11})
LONG_DF = frozenset({16, 17, 18, 19, 20, 21, 24})
NUCP_TO_NACP = {9: 11, 8: 9, 7: 7, 6: 6, 5: 5, 4: 4, 3: 3, 2: 1, 1: 1, 0: 0}


def crc_remainder(frames: NDArray[np.uint8], n_octets: NDArray[np.int64]) -> NDArray[np.int64]:
    """CRC-24 remainder of each frame (rows of ``frames`` ``(N, 14)``, the first n octets).

    Zero for a clean DF17; the aircraft address for address/parity formats.
    """
    crc = np.zeros(len(frames), np.int64)
    for k in range(14):
        active = k < n_octets - 3
        idx = ((crc >> 16) ^ frames[:, k]) & 0xFF
        crc = np.where(active, ((crc << 8) & 0xFFFFFF) ^ _TABLE[idx], crc)
    parity = np.zeros(len(frames), np.int64)
    for j in range(3):
        pos = (n_octets - 3 + j).clip(0, 13)
        parity = (parity << 8) | frames[np.arange(len(frames)), pos]
    return crc ^ parity


@dataclass
class _Aircraft:
    velocity: tuple[float, float, float, float, int] | None = None  # t, gs, trk, vr, nacv
    geo_minus_baro: tuple[float, float] | None = None  # t, metres
    callsign: str = ""
    squawk: int = -1
    nacp: int = -1
    cpr: dict[str, tuple[float, str]] = field(default_factory=dict)  # parity -> (t, frame)
    last_position: tuple[float, float, float] | None = None  # t, lat, lon (deg)


class ModeSDecoder:
    """Decodes the Mode S frames of one receiver (``sensors[index]``) into ADS-B plots."""

    def __init__(
        self,
        sensors: Sequence[SensorInfo],
        index: int,
        rejections: Rejections,
        cpr_window_s: float = 10.0,
        velocity_max_age_s: float = 5.0,
        local_max_age_s: float = 60.0,
    ) -> None:
        self.receiver = sensors[index]
        self.index = index
        self.rejections = rejections
        self.cpr_window_s = cpr_window_s
        self.velocity_max_age_s = velocity_max_age_s
        self.local_max_age_s = local_max_age_s
        self.known: set[int] = set()
        self.aircraft: dict[int, _Aircraft] = {}
        self.messages = 0
        self.padded_short = 0
        """Short (56-bit) replies that arrived in 112-bit containers and were cut to 56 bits."""
        self.decoded: list[dict[str, Any]] = []
        """The rs1090 results of the last batch (edge form, for inspection and tests)."""

    def _accept(self, hex_frames: Sequence[str]) -> tuple[NDArray[np.bool_], NDArray[np.int64]]:
        rej, src = self.rejections, self.receiver.id
        n = len(hex_frames)
        frames = np.zeros((n, 14), np.uint8)
        n_oct = np.zeros(n, np.int64)
        ok = np.zeros(n, bool)
        for i, h in enumerate(hex_frames):
            try:
                raw = bytes.fromhex(h)
            except ValueError:
                continue
            if len(raw) in (7, 14):
                frames[i, : len(raw)] = np.frombuffer(raw, np.uint8)
                n_oct[i] = len(raw)
                ok[i] = True
        df = frames[:, 0] >> 3
        padded = ok & (n_oct == 14) & np.isin(df, list(SHORT_DF))
        self.padded_short += int(np.sum(padded))
        n_oct[padded] = 7
        frames[padded, 7:] = 0
        shape_ok = ok & (
            ((n_oct == 7) & np.isin(df, list(SHORT_DF)))
            | ((n_oct == 14) & (np.isin(df, list(LONG_DF)) | (df >= 24)))
        )
        rej.add("modes.bad_length", int(np.sum(~shape_ok)), src)
        rem = np.where(shape_ok, crc_remainder(frames, np.maximum(n_oct, 3)), -1)
        extended = shape_ok & ((df == 17) | (df == 18))
        clean = (extended & (rem == 0)) | (shape_ok & (df == 11) & ((rem & ~0x7F) == 0))
        bad_crc = (extended | (shape_ok & (df == 11))) & ~clean
        rej.add("modes.bad_crc", int(np.sum(bad_crc)), src)
        addr = (frames[:, 1].astype(np.int64) << 16) | (frames[:, 2].astype(np.int64) << 8) | (
            frames[:, 3])
        self.known.update(int(a) for a in np.unique(addr[clean]))
        parity_formats = shape_ok & np.isin(df, [0, 4, 5, 16, 20, 21])
        known = np.array([int(r) in self.known for r in rem], bool) if n else np.zeros(0, bool)
        rej.add("modes.unknown_address", int(np.sum(parity_formats & ~known)), src)
        return clean | (parity_formats & known), n_oct

    def decode(self, hex_frames: Sequence[str], times: ArrayLike) -> PlotTable:
        """Plots of the positions in ``hex_frames`` received at ``times`` (Unix s)."""
        t_arr = np.asarray(times, dtype=np.float64)
        if t_arr.shape != (len(hex_frames),):
            raise ValueError(f"{len(hex_frames)} frames but times of shape {t_arr.shape}")
        self.messages += len(hex_frames)
        accepted, n_oct = self._accept(hex_frames)
        frames = [h[: 2 * n].lower() for h, a, n in zip(hex_frames, accepted, n_oct, strict=True)
                  if a]
        ftimes = [float(t) for t, a in zip(t_arr, accepted, strict=True) if a]
        if not frames:
            self.decoded = []
            return PlotTable.empty()
        start = ftimes[0]
        carry = sorted(
            (t, f) for ac in self.aircraft.values() for t, f in ac.cpr.values()
            if start - self.cpr_window_s <= t <= start
        )
        all_frames = [f for _, f in carry] + frames
        all_times = [t for t, _ in carry] + ftimes
        ref = (self.receiver.lat_deg, self.receiver.lon_deg)
        try:
            results: list[dict[str, Any]] = [
                dict(r) for r in rs1090.decode(all_frames, all_times, reference=ref)]
        except BaseException as exc:  # rs1090 panics are BaseException; never crash a node
            if isinstance(exc, (KeyboardInterrupt, SystemExit, GeneratorExit)):
                raise
            self.rejections.add("modes.decoder_error", len(frames), self.receiver.id)
            return PlotTable.empty()
        results = results[self._skip(results, carry):]
        self.decoded = results
        self.rejections.add("modes.undecoded", len(frames) - len(results), self.receiver.id)
        return self._plots(results)

    @staticmethod
    def _skip(results: list[dict[str, Any]], carry: list[tuple[float, str]]) -> int:
        k = 0
        for t, f in carry:
            if k < len(results) and results[k].get("frame") == f and results[k].get(
                    "timestamp") == t:
                k += 1
        return k

    def _plots(self, results: list[dict[str, Any]]) -> PlotTable:
        rows: list[tuple[float, ...]] = []
        for msg in results:
            icao_s = msg.get("icao24")
            if not isinstance(icao_s, str):
                continue
            icao = int(icao_s, 16)
            ac = self.aircraft.setdefault(icao, _Aircraft())
            t = float(msg["timestamp"])
            bds = msg.get("bds")
            if msg.get("squawk"):
                ac.squawk = int(str(msg["squawk"]), 8)
            if bds == "08" and msg.get("callsign"):
                ac.callsign = str(msg["callsign"]).strip()
            elif bds == "09" and msg.get("groundspeed") is not None:
                vr = msg.get("vertical_rate")
                ac.velocity = (t, float(msg["groundspeed"]) * KT, float(msg["track"]),
                               np.nan if vr is None else float(vr) * FT / 60.0,
                               int(msg.get("NACv") or 0))
                if msg.get("geo_minus_baro") is not None:
                    ac.geo_minus_baro = (t, float(msg["geo_minus_baro"]) * FT)
            elif bds == "65" and msg.get("NACp") is not None:
                ac.nacp = int(msg["NACp"])
            if bds in ("05", "06") and "parity" in msg and msg.get("frame"):
                ac.cpr[str(msg["parity"])] = (t, str(msg["frame"]))
            if bds in ("05", "06") and msg.get("latitude") is None:
                msg = self._local(msg, ac, t)
            if bds in ("05", "06") and msg.get("latitude") is not None:
                ac.last_position = (t, float(msg["latitude"]), float(msg["longitude"]))
                rows.append(self._row(msg, ac, icao, t))
        return self._table(rows)

    def _local(self, msg: dict[str, Any], ac: _Aircraft, t: float) -> dict[str, Any]:
        """Locally decode a position rs1090 could not pair, about the aircraft's last one."""
        last = ac.last_position
        if last is None or t - last[0] > self.local_max_age_s or not msg.get("frame"):
            return msg
        try:
            local: Any = rs1090.decode(str(msg["frame"]), reference=(last[1], last[2]))
        except BaseException as exc:  # rs1090 panics are BaseException
            if isinstance(exc, (KeyboardInterrupt, SystemExit, GeneratorExit)):
                raise
            return msg
        if not isinstance(local, dict) or local.get("latitude") is None:
            return msg
        return {**msg, "latitude": local["latitude"], "longitude": local["longitude"]}

    def _row(self, msg: dict[str, Any], ac: _Aircraft, icao: int, t: float) -> tuple[float, ...]:
        surface = msg.get("bds") == "06"
        alt = msg.get("altitude")
        baro = np.nan if alt is None or surface else float(alt) * FT
        geometric = msg.get("source") == "GNSS"
        if surface:
            h, geometric = self.receiver.alt_m, False
        elif geometric:
            h = baro
        elif ac.geo_minus_baro is not None and t - ac.geo_minus_baro[0] < 60.0:
            h, geometric = baro + ac.geo_minus_baro[1], True
        else:
            h = baro
        gs = trk = vr = np.nan
        nacv = -1
        if surface and msg.get("groundspeed") is not None:
            gs, trk, vr = float(msg["groundspeed"]) * KT, float(msg.get("track") or 0.0), 0.0
        elif ac.velocity is not None and t - ac.velocity[0] <= self.velocity_max_age_s:
            _, gs, trk, vr, nacv = ac.velocity
        nacp = ac.nacp if ac.nacp >= 0 else NUCP_TO_NACP.get(int(msg.get("NUCp") or 0), 0)
        return (t, float(msg["latitude"]), float(msg["longitude"]), h, float(geometric),
                baro, gs, trk, vr, float(nacp), float(nacv), float(icao), float(ac.squawk))

    def _table(self, rows: list[tuple[float, ...]]) -> PlotTable:
        n = len(rows)
        t = PlotTable.blank(n)
        if n == 0:
            return t
        a = np.array(rows, dtype=np.float64)
        t.time[:] = a[:, 0]
        t.sensor[:] = self.index
        t.kind[:] = KIND_CODE[SensorKind.ADSB]
        keep = ~np.isnan(a[:, 3])
        z, sigma = adsb_z_sigma(a[:, 1], a[:, 2], np.nan_to_num(a[:, 3]), a[:, 6], a[:, 7],
                                a[:, 8], a[:, 9], a[:, 10], a[:, 4] > 0)
        t.z[:] = z
        t.sigma[:] = sigma
        t.baro_alt[:] = a[:, 5]
        t.nacp[:] = a[:, 9].astype(np.int8)
        t.nacv[:] = a[:, 10].astype(np.int8)
        t.icao[:] = a[:, 11].astype(np.int32)
        t.mode3a[:] = a[:, 12].astype(np.int16)
        t.callsign[:] = [self.aircraft[int(i)].callsign.encode("ascii", "replace")[:8]
                         for i in a[:, 11]]
        self.rejections.add("modes.no_altitude", int(np.sum(~keep)), self.receiver.id)
        return t.take(keep)
