"""SBS BaseStation text (dump1090 / readsb, TCP port 30003) to ADS-B plots.

One message per line, 22 comma-separated fields (1-based)::

    1 message type: MSG (others: SEL, ID, AIR, STA, CLK are ignored)
    2 transmission type: 1 ident, 2 surface position, 3 airborne position, 4 velocity,
      5 surveillance altitude, 6 surveillance squawk, 7 air-to-air, 8 all-call
    5 hex ident (24-bit address)   7, 8 date and time generated (YYYY/MM/DD, HH:MM:SS.sss)
    11 callsign  12 altitude (ft, barometric)  13 ground speed (kt)  14 track (deg)
    15 latitude  16 longitude (deg)  17 vertical rate (ft/min)  18 squawk  22 on ground

Positions (types 2 and 3) become plots, with the last velocity (type 4) of the same aircraft
when at most ``velocity_max_age_s`` old, and its last callsign and squawk. The generated time
is read as UTC plus ``utc_offset_s`` (dump1090 writes the receiver's local time); lines without
it take the receive time. SBS carries no quality indicators, so sigmas are the defaults of
:mod:`airpicture.io.adsb`; heights are barometric (surface positions get the receiver's).
Malformed lines are counted (``sbs.bad_line``, ``sbs.bad_field``, ``sbs.line_too_long``).
"""

from __future__ import annotations

import calendar
import time as _time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from airpicture.io.adsb import adsb_z_sigma
from airpicture.io.asterix_common import FT, KT
from airpicture.io.rejections import Rejections
from airpicture.messages import SensorInfo, SensorKind
from airpicture.plot_table import KIND_CODE, PlotTable

MAX_LINE = 1024


@dataclass
class _State:
    velocity: tuple[float, float, float, float] | None = None  # t, gs m/s, track deg, vr m/s
    callsign: str = ""
    squawk: int = -1


def _utc(date: str, clock: str) -> float:
    whole, _, frac = clock.partition(".")
    tm = _time.strptime(f"{date} {whole}", "%Y/%m/%d %H:%M:%S")
    return calendar.timegm(tm) + (float("0." + frac) if frac else 0.0)


class SbsDecoder:
    """Decodes the SBS lines of one receiver (``sensors[index]``) into ADS-B plots."""

    def __init__(
        self,
        sensors: Sequence[SensorInfo],
        index: int,
        rejections: Rejections,
        utc_offset_s: float = 0.0,
        velocity_max_age_s: float = 5.0,
    ) -> None:
        self.receiver = sensors[index]
        self.index = index
        self.rejections = rejections
        self.utc_offset_s = utc_offset_s
        self.velocity_max_age_s = velocity_max_age_s
        self.aircraft: dict[int, _State] = {}
        self._tail = b""

    def feed(self, chunk: bytes, receive_time: float) -> PlotTable:
        """Decode the complete lines of a byte chunk from a stream."""
        data = self._tail + chunk
        lines = data.split(b"\n")
        self._tail = lines.pop()
        if len(self._tail) > MAX_LINE:
            self.rejections.add("sbs.line_too_long", 1, self.receiver.id)
            self._tail = b""
        text = [ln.decode("ascii", "replace").strip() for ln in lines]
        return self.decode([t for t in text if t], receive_time)

    def decode(self, lines: Sequence[str], receive_time: float) -> PlotTable:
        """Plots of the position lines among ``lines`` (each a whole SBS message)."""
        rows: list[tuple[float, ...]] = []
        rej, src = self.rejections, self.receiver.id
        for line in lines:
            f = line.split(",")
            if len(f) < 22 or f[0] != "MSG":
                if len(f) < 22 or f[0] not in ("SEL", "ID", "AIR", "STA", "CLK"):
                    rej.add("sbs.bad_line", 1, src)
                continue
            try:
                row = self._message(f, receive_time)
            except ValueError:
                rej.add("sbs.bad_field", 1, src)
                continue
            if row is not None:
                rows.append(row)
        return self._table(rows)

    def _message(self, f: list[str], receive_time: float) -> tuple[float, ...] | None:
        kind = int(f[1])
        icao = int(f[4], 16)
        if not 0 <= icao < 1 << 24:
            raise ValueError("address out of range")
        t = _utc(f[6], f[7]) - self.utc_offset_s if f[6] and f[7] else receive_time
        ac = self.aircraft.setdefault(icao, _State())
        if f[10].strip():
            ac.callsign = f[10].strip()[:8]
        if f[17].strip():
            ac.squawk = int(f[17].strip(), 8)
        if kind == 4 and f[12] and f[13]:
            vr = float(f[16]) * FT / 60.0 if f[16] else np.nan
            ac.velocity = (t, float(f[12]) * KT, float(f[13]), vr)
        if kind not in (2, 3) or not f[14] or not f[15]:
            return None
        lat, lon = float(f[14]), float(f[15])
        if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
            raise ValueError("position out of range")
        surface = kind == 2 or f[21].strip() in ("-1", "1")
        baro = float(f[11]) * FT if f[11] and not surface else np.nan
        h = self.receiver.alt_m if surface else baro
        gs = trk = vr = np.nan
        if kind == 2 and f[12] and f[13]:
            gs, trk, vr = float(f[12]) * KT, float(f[13]), 0.0
        elif ac.velocity is not None and 0.0 <= t - ac.velocity[0] <= self.velocity_max_age_s:
            _, gs, trk, vr = ac.velocity
        return (t, lat, lon, h, baro, gs, trk, vr, float(icao), float(ac.squawk))

    def _table(self, rows: list[tuple[float, ...]]) -> PlotTable:
        t = PlotTable.blank(len(rows))
        if not rows:
            return t
        a = np.array(rows, dtype=np.float64)
        keep = ~np.isnan(a[:, 3])
        self.rejections.add("sbs.no_altitude", int(np.sum(~keep)), self.receiver.id)
        z, sigma = adsb_z_sigma(a[:, 1], a[:, 2], np.nan_to_num(a[:, 3]), a[:, 5], a[:, 6],
                                a[:, 7], -1, -1, False)
        t.time[:] = a[:, 0]
        t.sensor[:] = self.index
        t.kind[:] = KIND_CODE[SensorKind.ADSB]
        t.z[:] = z
        t.sigma[:] = sigma
        t.baro_alt[:] = a[:, 4]
        t.icao[:] = a[:, 8].astype(np.int32)
        t.mode3a[:] = a[:, 9].astype(np.int16)
        t.callsign[:] = [self.aircraft[int(i)].callsign.encode("ascii", "replace")[:8]
                         for i in a[:, 8]]
        return t.take(keep)
